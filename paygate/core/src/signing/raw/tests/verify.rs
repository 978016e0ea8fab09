//! Verification of the top-level `signature` against the other fields.

use super::super::{verify_json, VerifyError};
use super::*;

#[test]
fn verification_accepts_a_correct_signature() {
    let body = signed(r#"{"a":"1","extra":{"otp":"7374","signature":"ignored"},"n":1.5}"#);
    assert_eq!(verify_json(&key(), body.as_bytes()), Ok(()));
    // The signature may come first; it must be lowercase hex, as computed.
    let sig = sign_json(&key(), br#"{"a":"1"}"#).unwrap().to_string();
    let body = format!("{{\"signature\":\"{sig}\",\"a\":\"1\"}}");
    assert_eq!(verify_json(&key(), body.as_bytes()), Ok(()));
    let upper = body.replace(&sig, &sig.to_uppercase());
    assert!(verify_json(&key(), upper.as_bytes()).is_err());
    // Escaped hex still decodes to the signature.
    let sig = sign_json(&key(), br#"{"a":"1"}"#).unwrap().to_string();
    let body = format!(
        "{{\"a\":\"1\",\"signature\":\"\\u00{:x}{}\"}}",
        sig.as_bytes()[0],
        &sig[1..]
    );
    assert!(body.contains("\\u00"));
    assert_eq!(verify_json(&key(), body.as_bytes()), Ok(()));
}

#[test]
fn verification_rejects_tampering() {
    let body = signed(r#"{"a":"1","amount":"100.00"}"#);
    let tampered = body.replace("100.00", "900.00");
    assert_eq!(
        verify_json(&key(), tampered.as_bytes()),
        Err(VerifyError::Mismatch)
    );
    let other_key = SigningKey::from_bytes(b"another key");
    assert_eq!(
        verify_json(&other_key, body.as_bytes()),
        Err(VerifyError::Mismatch)
    );
    // A number where the string was signed changes the payload too.
    let retyped = signed(r#"{"amount":"100.00"}"#).replace("\"100.00\"", "100.00");
    assert_eq!(
        verify_json(&key(), retyped.as_bytes()),
        Err(VerifyError::Mismatch)
    );
    let short = r#"{"a":"1","signature":"abc"}"#;
    assert_eq!(
        verify_json(&key(), short.as_bytes()),
        Err(VerifyError::Mismatch)
    );
    let long = format!(
        "{{\"a\":\"1\",\"signature\":\"{}\"}}",
        "\\u0030".repeat(200)
    );
    assert_eq!(
        verify_json(&key(), long.as_bytes()),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn verification_needs_a_string_signature() {
    assert_eq!(
        verify_json(&key(), br#"{"a":"1"}"#),
        Err(VerifyError::MissingSignature)
    );
    assert_eq!(
        verify_json(&key(), br#"{"a":"1","x":{"signature":"nested"}}"#),
        Err(VerifyError::MissingSignature)
    );
    for sig in ["null", "12", "true", "{\"x\":\"1\"}", "[\"a\"]"] {
        let body = format!("{{\"a\":\"1\",\"signature\":{sig}}}");
        assert_eq!(
            verify_json(&key(), body.as_bytes()),
            Err(VerifyError::SignatureNotAString),
            "{body}"
        );
    }
    let body = signed(r#"{"a":"1"}"#);
    let twice = body.replace("\"a\":\"1\"", "\"signature\":\"x\",\"a\":\"1\"");
    assert_eq!(
        verify_json(&key(), twice.as_bytes()),
        Err(VerifyError::Json(JsonError::DuplicateKey {
            path: "signature".into()
        }))
    );
    assert!(matches!(
        verify_json(&key(), b"{\"a\":"),
        Err(VerifyError::Json(JsonError::Syntax { .. }))
    ));
}
