//! Fixtures shared by paygate's benchmarks: the typical C2B request and
//! callback, the naive signer a typical integration would write, and the
//! SHA-512 compression floor of an HMAC over a canonical string; and the
//! CPU time sampling of the load run ([`cpu`]).
//!
//! The benchmarks themselves are the `[[bench]]` targets beside this crate
//! (`signing.rs`, `codegen.rs`, `simulator.rs`); see `README.md` for the
//! figures and how to reproduce them.

pub mod cpu;

use hmac::{Hmac, Mac};
use paygate::gateway::{Country, Currency, PaymentC2bRequest, RequestExtra};
use paygate::signing::{sign_json, SigningKey};
use serde_json::Value;
use sha2::Sha512;

/// A secret key as the gateway issues them: 128 hex characters (the text is
/// the HMAC key), the one from the README.
pub const SECRET_KEY: &str = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5";

/// A C2B request shaped like the seed examples: a 40-hex merchant id, a
/// 13-digit customer id, a 20-character order id, MTN Côte d'Ivoire (2303)
/// in XOF with a callback URL and a customer name in `extra`.
pub fn typical_c2b_request() -> PaymentC2bRequest {
    PaymentC2bRequest::new(
        "e0fecd91fcb24f348048193b3fb34875ba3722b4",
        "2250705145655",
        "order_16280954971628",
        "1100.00".parse().expect("two decimals"),
        Currency::Xof,
        2303,
    )
    .with_country(Country::Ci)
    .with_callback_url("https://merchant.example/callback")
    .with_extra(RequestExtra::new().with_customer_name("Name Lastname"))
}

/// A C2B callback body like the seed's sample (operation type 17, nested
/// `result` and `provider_result`, service fields), without its signature.
pub const CALLBACK_WITHOUT_SIGNATURE: &str = concat!(
    r#"{"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4","operation_type":17,"#,
    r#""customer_id":"2250705145655","amount":1100,"order_id":"order_16280954971628","#,
    r#""transaction_id":"1234567","transaction_ref":"QR555RQ","status":2,"provider_id":2303,"#,
    r#""destination_id":"","result":{"code":0,"message":"OK"},"#,
    r#""provider_result":{"code":0,"message":"OK"},"service_id":1,"#,
    r#""service_version":"1.03/1.14|1.0/1.26|1.0/1.0|1.01/1.01|1.01/1.01||1.01/1.27","#,
    r#""service_date_time":"2020-11-25 10:08:32.832969"}"#
);

/// The typical callback as received: [`CALLBACK_WITHOUT_SIGNATURE`] with a
/// correct `signature` appended as the last field, as the gateway sends it.
pub fn typical_callback(key: &SigningKey) -> Vec<u8> {
    let signature = sign_json(key, CALLBACK_WITHOUT_SIGNATURE.as_bytes()).expect("valid JSON");
    let body = CALLBACK_WITHOUT_SIGNATURE
        .strip_suffix('}')
        .expect("an object");
    format!("{body},\"signature\":\"{signature}\"}}").into_bytes()
}

/// The signature as a typical integration would compute it, ported
/// line by line from the documented PHP: serialise the request into a
/// `serde_json::Value`, flatten it into a `String`, key a fresh HMAC, and
/// hex-encode the result into another `String`.
///
/// This workspace builds `serde_json` without `preserve_order`, so the
/// `Value` walks its keys in sorted order: the flattened string has the same
/// length and costs the same as the wire-order one, and its signature is the
/// correct one for the document `serde_json::to_vec(&value)` sends (checked
/// by [`naive_matches_raw_path`]).
pub fn naive_sign(secret: &str, request: &PaymentC2bRequest) -> String {
    let value = serde_json::to_value(request).expect("serialisable");
    let mut flat = String::new();
    naive_flatten(&value, "", &mut flat);
    let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(flat.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The PHP `calculateSignature` walk over a decoded value.
fn naive_flatten(value: &Value, prefix: &str, out: &mut String) {
    let Value::Object(map) = value else { return };
    for (key, value) in map {
        match value {
            Value::Object(_) => naive_flatten(value, &format!("{prefix}{key}."), out),
            Value::Array(items) => {
                // Lists by index, like PHP arrays.
                let as_object: serde_json::Map<String, Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v.clone()))
                    .collect();
                naive_flatten(&Value::Object(as_object), &format!("{prefix}{key}."), out);
            }
            _ if key == "signature" => {}
            Value::String(s) => {
                out.push_str(prefix);
                out.push_str(key);
                out.push_str(s);
            }
            Value::Bool(b) => {
                out.push_str(prefix);
                out.push_str(key);
                if *b {
                    out.push('1');
                }
            }
            Value::Null => {
                out.push_str(prefix);
                out.push_str(key);
            }
            Value::Number(n) => {
                out.push_str(prefix);
                out.push_str(key);
                out.push_str(&n.to_string());
            }
        }
    }
}

/// Whether the naive signer agrees with paygate's raw-JSON path on the
/// document the naive `Value` describes (see [`naive_sign`]).
pub fn naive_matches_raw_path(key: &SigningKey, request: &PaymentC2bRequest) -> bool {
    let value = serde_json::to_value(request).expect("serialisable");
    let body = serde_json::to_vec(&value).expect("serialisable");
    let expected = sign_json(key, &body).expect("valid JSON").to_string();
    naive_sign(SECRET_KEY, request) == expected
}

/// SHA-512 compressions an HMAC-SHA512 of a message of `len` bytes cannot
/// avoid once the keyed state is reused (the two key-pad blocks are
/// precomputed): the inner hash runs over the message plus at least 17
/// padding bytes (`0x80` and the 16-byte length), and the outer hash over
/// the 64-byte inner digest plus padding, which fits in one block.
pub fn hmac_compression_floor(len: usize) -> usize {
    (len + 17).div_ceil(128) + 1
}

/// Runs exactly `blocks` SHA-512 compressions, one block per call, as the
/// streaming HMAC does: the measured floor.
#[inline]
pub fn compress_blocks(state: &mut [u64; 8], block: &[u8; 128], blocks: usize) {
    let block = sha2::digest::generic_array::GenericArray::from_slice(block);
    for _ in 0..blocks {
        sha2::compress512(state, core::slice::from_ref(block));
    }
}

/// SHA-512's initial hash value, the state the floor starts from.
pub const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

#[cfg(test)]
mod tests {
    use super::*;
    use paygate::signing::{canonical_string, sign, verify_json, SecretKey};

    #[test]
    fn fixtures_are_valid_and_the_naive_signer_is_correct() {
        let key = SigningKey::new(&SecretKey::new(SECRET_KEY));
        let request = typical_c2b_request();
        let canonical = canonical_string(&request).unwrap();
        assert_eq!(
            String::from_utf8(canonical.clone()).unwrap(),
            "merchant_ide0fecd91fcb24f348048193b3fb34875ba3722b4customer_id2250705145655\
             order_idorder_16280954971628amount1100.00currencyXOFcountryCI\
             callback_urlhttps://merchant.example/callbackprovider_id2303\
             extra.customer_nameName Lastname"
        );
        assert!(sign(&key, &request).is_ok());
        assert!(naive_matches_raw_path(&key, &request));
        assert_eq!(verify_json(&key, &typical_callback(&key)), Ok(()));
        assert_eq!(hmac_compression_floor(0), 2);
        assert_eq!(hmac_compression_floor(111), 2);
        assert_eq!(hmac_compression_floor(112), 3);
    }
}
