//! Arbitrary bytes as a received callback or request body.
//!
//! Invariants (all documented behaviour of `paygate::signing`):
//! * `canonical_json`, `sign_json` and `verify_json` never panic;
//! * `canonical_json` and `sign_json` accept exactly the same bodies;
//! * `sign_json(body)` is the reference HMAC-SHA512 (the `hmac` crate) of
//!   the canonical bytes;
//! * when the top-level `signature` is a plain (unescaped) string,
//!   `verify_json` succeeds exactly when it is the signature in hex (either
//!   letter case);
//! * a body with no top-level string `signature`, with the computed
//!   signature inserted as its first member, verifies (or is refused as a
//!   duplicate key when it already had a non-string `signature`), and
//!   inserting it does not change the signature.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use paygate::signing::{
    canonical_json, sign_json, verify_json, JsonError, SigningKey, VerifyError,
};
use sha2::Sha512;

const KEY: &[u8] = b"fuzz-secret-key";

fuzz_target!(|body: &[u8]| {
    let key = SigningKey::from_bytes(KEY);
    let canonical = canonical_json(body, Vec::new());
    let signed = sign_json(&key, body);
    let verified = verify_json(&key, body);

    let (canonical, signature_field) = match canonical {
        Ok(ok) => ok,
        Err(err) => {
            assert_eq!(
                signed.as_ref().err(),
                Some(&err),
                "sign_json and canonical_json disagree"
            );
            assert_eq!(verified, Err(VerifyError::Json(err)));
            return;
        }
    };
    let signature = signed.expect("canonical_json accepted the body, so sign_json must");

    let mut reference = Hmac::<Sha512>::new_from_slice(KEY).expect("any key length");
    reference.update(&canonical);
    assert_eq!(
        signature.as_bytes()[..],
        reference.finalize().into_bytes()[..],
        "sign_json is not the HMAC of the canonical string"
    );
    let hex = signature.to_hex();

    match signature_field {
        Some(raw) if !raw.contains(&b'\\') => {
            assert_eq!(
                verified.is_ok(),
                raw.eq_ignore_ascii_case(&hex),
                "verify_json: {verified:?}"
            );
            if verified.is_err() {
                assert_eq!(verified, Err(VerifyError::Mismatch));
            }
        }
        Some(_) => assert!(matches!(verified, Ok(()) | Err(VerifyError::Mismatch))),
        None => {
            assert!(matches!(
                verified,
                Err(VerifyError::MissingSignature | VerifyError::SignatureNotAString)
            ));
            // Insert `"signature":"<hex>"` as the first member.
            let open = body.iter().position(|&b| b == b'{').expect("an object");
            let rest = &body[open + 1..];
            let empty = rest
                .iter()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                == Some(&b'}');
            let mut with = Vec::with_capacity(body.len() + 160);
            with.extend_from_slice(&body[..=open]);
            with.extend_from_slice(b"\"signature\":\"");
            with.extend_from_slice(&hex);
            with.extend_from_slice(if empty { b"\"" } else { b"\"," });
            with.extend_from_slice(rest);
            match verify_json(&key, &with) {
                Ok(()) => {
                    assert_eq!(sign_json(&key, &with).ok(), Some(signature));
                }
                Err(VerifyError::Json(JsonError::DuplicateKey { .. })) => {
                    assert_eq!(verified, Err(VerifyError::SignatureNotAString));
                }
                Err(other) => panic!("inserting the signature gave {other:?}"),
            }
        }
    }
});
