//! Runs one signing hot path in a loop, for instruction-level profilers
//! (`valgrind --tool=callgrind`, `perf record`), whose counts repeat on a
//! noisy machine where the criterion timings drift.
//!
//! ```sh
//! cargo build --release -p paygate-benches --bin signing-loop
//! valgrind --tool=callgrind target/release/signing-loop verify 10000
//! ```
//!
//! The first argument picks the path (`verify`, `verify-flat` for the same
//! callback with its nested objects as dotted keys, `walk` for the JSON walk alone
//! into a counting sink, `derive`, or `floor` for the callback's
//! compression floor), the second the number of iterations. `ratio N`
//! alternates batches of `verify`, `derive` and their floors for `N` rounds
//! and prints the median ratios.

use std::hint::black_box;

use paygate::signing::{
    canonical_json, canonical_string, sign, verify_json, SecretKey, SigningKey,
};
use paygate_benches::{
    compress_blocks, hmac_compression_floor, typical_c2b_request, typical_callback, SECRET_KEY,
    SHA512_IV,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "verify".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let key = SigningKey::new(&SecretKey::new(SECRET_KEY));
    let started = std::time::Instant::now();
    match what.as_str() {
        "verify" => {
            let body = typical_callback(&key);
            for _ in 0..n {
                assert!(verify_json(black_box(&key), black_box(&body)).is_ok());
            }
        }
        "verify-flat" => {
            // The same callback with its nested objects spelled as dotted
            // keys: the same canonical string, so the difference from
            // `verify` is what nesting costs.
            let body = String::from_utf8(typical_callback(&key))
                .expect("UTF-8")
                .replace(
                    r#""result":{"code":0,"message":"OK"}"#,
                    r#""result.code":0,"result.message":"OK""#,
                )
                .replace(
                    r#""provider_result":{"code":0,"message":"OK"}"#,
                    r#""provider_result.code":0,"provider_result.message":"OK""#,
                )
                .into_bytes();
            for _ in 0..n {
                assert!(verify_json(black_box(&key), black_box(&body)).is_ok());
            }
        }
        "derive" => {
            let request = typical_c2b_request();
            for _ in 0..n {
                black_box(sign(black_box(&key), black_box(&request)).is_ok());
            }
        }
        "walk" => {
            // The JSON walk alone, into a sink that only counts.
            struct Count(usize);
            impl paygate::signing::__private::ByteSink for Count {
                fn write(&mut self, bytes: &[u8]) {
                    self.0 += bytes.len();
                }
            }
            let body = typical_callback(&key);
            for _ in 0..n {
                black_box(canonical_json(black_box(&body), Count(0)).is_ok());
            }
        }
        "floor" => {
            let body = typical_callback(&key);
            let (canonical, _) = canonical_json(&body, Vec::new()).expect("valid JSON");
            let floor = hmac_compression_floor(canonical.len());
            let block = [0x5au8; 128];
            for _ in 0..n {
                let mut state = SHA512_IV;
                compress_blocks(&mut state, black_box(&block), black_box(floor));
                black_box(state);
            }
        }
        "ratio" => {
            // verify / its floor and derive / its floor, alternating short
            // batches of each for `n` rounds: the median of the per-round
            // ratios drifts less with the load than separate timings.
            let body = typical_callback(&key);
            let (canonical, _) = canonical_json(&body, Vec::new()).expect("valid JSON");
            let verify_floor = hmac_compression_floor(canonical.len());
            let request = typical_c2b_request();
            let derive_floor =
                hmac_compression_floor(canonical_string(&request).expect("flat").len());
            let block = [0x5au8; 128];
            let batch = 20_000;
            let time = |f: &mut dyn FnMut()| {
                let t = std::time::Instant::now();
                for _ in 0..batch {
                    f();
                }
                t.elapsed().as_secs_f64()
            };
            let floor = |blocks: usize| {
                move || {
                    let mut state = SHA512_IV;
                    compress_blocks(&mut state, black_box(&block), black_box(blocks));
                    black_box(state);
                }
            };
            let mut rounds: Vec<[f64; 2]> = (0..n)
                .map(|_| {
                    let verify = time(&mut || {
                        assert!(verify_json(black_box(&key), black_box(&body)).is_ok());
                    }) / time(&mut floor(verify_floor));
                    let derive = time(&mut || {
                        black_box(sign(black_box(&key), black_box(&request)).is_ok());
                    }) / time(&mut floor(derive_floor));
                    [verify, derive]
                })
                .collect();
            for (i, name) in ["verify", "derive"].into_iter().enumerate() {
                rounds.sort_by(|a, b| a[i].total_cmp(&b[i]));
                if let (Some(low), Some(median), Some(high)) =
                    (rounds.first(), rounds.get(rounds.len() / 2), rounds.last())
                {
                    println!(
                        "{name} / floor over {n} rounds: median {:.3} (range {:.3}-{:.3})",
                        median[i], low[i], high[i]
                    );
                }
            }
        }
        other => {
            eprintln!(
                "unknown path `{other}`: expected verify, verify-flat, walk, derive, floor or ratio"
            );
            std::process::exit(2);
        }
    }
    let ns = started.elapsed().as_nanos() as f64 / n.max(1) as f64;
    eprintln!("{what}: {n} iterations, {ns:.0} ns each (wall clock, setup included)");
}
