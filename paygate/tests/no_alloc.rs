//! Signing a typical request and verifying a typical callback allocate
//! nothing: a counting global allocator proves it.
//!
//! Only allocations made by the measuring thread while it is measuring are
//! counted (a thread-local flag), so the test harness's own threads do not
//! disturb the count.
//!
//! The only `unsafe` in the workspace: a `GlobalAlloc` cannot be
//! written without it; each use below carries its soundness argument.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use paygate::gateway::{Country, Currency, PaymentC2bRequest, RequestExtra};
use paygate::signing::{sign, sign_json, verify_json, SecretKey, SigningKey};

struct CountingAllocator;

thread_local! {
    /// Whether this thread is measuring, and what it has allocated so far.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the thread-locals may already be gone while a thread exits.
    let _ = MEASURING.try_with(|measuring| {
        if measuring.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; counting touches only
// const-initialised thread-locals of `Copy` types, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How many allocations `f` makes on this thread.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (usize, T) {
    ALLOCATIONS.with(|n| n.set(0));
    MEASURING.with(|m| m.set(true));
    let out = std::hint::black_box(f());
    MEASURING.with(|m| m.set(false));
    (ALLOCATIONS.with(Cell::get), out)
}

const SECRET: &str = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5";

/// The typical C2B request of the benchmarks (`benches/src/lib.rs`).
fn typical_request() -> PaymentC2bRequest {
    PaymentC2bRequest::new(
        "e0fecd91fcb24f348048193b3fb34875ba3722b4",
        "2250705145655",
        "order_16280954971628",
        "1100.00".parse().unwrap(),
        Currency::Xof,
        2303,
    )
    .with_country(Country::Ci)
    .with_callback_url("https://merchant.example/callback")
    .with_extra(RequestExtra::new().with_customer_name("Name Lastname"))
}

/// The typical callback of the benchmarks, correctly signed.
fn typical_callback(key: &SigningKey) -> Vec<u8> {
    let unsigned = concat!(
        r#"{"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4","operation_type":17,"#,
        r#""customer_id":"2250705145655","amount":1100,"order_id":"order_16280954971628","#,
        r#""transaction_id":"1234567","transaction_ref":"QR555RQ","status":2,"provider_id":2303,"#,
        r#""destination_id":"","result":{"code":0,"message":"OK"},"#,
        r#""provider_result":{"code":0,"message":"OK"},"service_id":1,"#,
        r#""service_version":"1.03/1.14|1.0/1.26|1.0/1.0|1.01/1.01|1.01/1.01||1.01/1.27","#,
        r#""service_date_time":"2020-11-25 10:08:32.832969"}"#
    );
    let signature = sign_json(key, unsigned.as_bytes()).unwrap();
    let body = unsigned.strip_suffix('}').unwrap();
    format!("{body},\"signature\":\"{signature}\"}}").into_bytes()
}

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the guard: if counting were broken, the tests below would pass
    // vacuously.
    let (n, _) = allocations_in(|| String::from("allocates"));
    assert_eq!(n, 1);
}

#[test]
fn signing_a_typical_request_allocates_nothing() {
    let key = SigningKey::new(&SecretKey::new(SECRET));
    let request = typical_request();
    let warm = sign(&key, &request).unwrap();
    for _ in 0..3 {
        let (n, signature) = allocations_in(|| sign(&key, &request));
        assert_eq!(n, 0, "paygate::signing::sign allocated {n} times");
        assert_eq!(signature.unwrap(), warm);
    }
}

#[test]
fn verifying_a_typical_callback_allocates_nothing() {
    let key = SigningKey::new(&SecretKey::new(SECRET));
    let body = typical_callback(&key);
    assert_eq!(verify_json(&key, &body), Ok(()));
    for _ in 0..3 {
        let (n, verified) = allocations_in(|| verify_json(&key, &body));
        assert_eq!(n, 0, "paygate::signing::verify_json allocated {n} times");
        assert_eq!(verified, Ok(()));
    }
    // A tampered body is rejected without allocating either.
    let tampered = String::from_utf8(body).unwrap().replace("1100", "9100");
    let (n, verified) = allocations_in(|| verify_json(&key, tampered.as_bytes()));
    assert_eq!(n, 0, "a failed verification allocated {n} times");
    assert!(verified.is_err());
}
