//! Signing and verifying, against the SHA-512 work they cannot avoid.
//!
//! * `c2b/derive`: `paygate::signing::sign` of the typical C2B request;
//! * `c2b/naive`: the same request through `serde_json::Value`, a `String`
//!   and a freshly keyed HMAC, as a typical integration would write it;
//! * `c2b/floor`: the bare `sha2::compress512` calls an HMAC of that
//!   request's canonical string needs with the keyed state reused;
//! * `callback/verify_raw`: `paygate::signing::verify_json` of the typical
//!   callback's raw bytes;
//! * `callback/floor`: the same floor for the callback's canonical string.
//!
//! `cargo run -p paygate-benches --bin bench-ratios` prints the ratios of
//! the last run.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use paygate::signing::{
    canonical_json, canonical_string, sign, verify_json, SecretKey, SigningKey,
};
use paygate_benches::{
    compress_blocks, hmac_compression_floor, naive_sign, typical_c2b_request, typical_callback,
    SECRET_KEY, SHA512_IV,
};

fn c2b(c: &mut Criterion) {
    let key = SigningKey::new(&SecretKey::new(SECRET_KEY));
    let request = typical_c2b_request();
    let len = canonical_string(&request).expect("flat").len();
    let floor = hmac_compression_floor(len);
    eprintln!("c2b: canonical string {len} bytes, floor {floor} compressions");

    let mut group = c.benchmark_group("c2b");
    group.bench_function("derive", |b| {
        b.iter(|| sign(black_box(&key), black_box(&request)))
    });
    group.bench_function("naive", |b| {
        b.iter(|| naive_sign(black_box(SECRET_KEY), black_box(&request)))
    });
    group.bench_function("floor", |b| {
        let block = [0x5au8; 128];
        b.iter(|| {
            let mut state = SHA512_IV;
            compress_blocks(&mut state, black_box(&block), black_box(floor));
            state
        })
    });
    group.finish();
}

fn callback(c: &mut Criterion) {
    let key = SigningKey::new(&SecretKey::new(SECRET_KEY));
    let body = typical_callback(&key);
    let (canonical, _) = canonical_json(&body, Vec::new()).expect("valid JSON");
    let floor = hmac_compression_floor(canonical.len());
    eprintln!(
        "callback: body {} bytes, canonical string {} bytes, floor {floor} compressions",
        body.len(),
        canonical.len()
    );
    assert_eq!(verify_json(&key, &body), Ok(()));

    let mut group = c.benchmark_group("callback");
    group.bench_function("verify_raw", |b| {
        b.iter(|| verify_json(black_box(&key), black_box(&body)))
    });
    group.bench_function("floor", |b| {
        let block = [0x5au8; 128];
        b.iter(|| {
            let mut state = SHA512_IV;
            compress_blocks(&mut state, black_box(&block), black_box(floor));
            state
        })
    });
    group.finish();
}

criterion_group!(benches, c2b, callback);
criterion_main!(benches);
