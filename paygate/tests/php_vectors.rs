//! Checks the raw-JSON signing path against outputs recorded from the real
//! PHP `calculateSignature(json_decode($body, true), $secret)` (with the
//! published nested-return typo fixed), in `tests/vectors/php_signatures.json`.
//!
//! For every case: where PHP signed, `canonical_json` must produce exactly
//! PHP's string and `sign_json` PHP's signature; where PHP failed, we must
//! fail too (with the matching kind of error); and cases flagged
//! `duplicate_keys` (which PHP silently accepts, last value wins) must be
//! rejected by us. The one deliberate divergence: PHP also signs a top-level
//! JSON list, while paygate requires the payload to be an object.

use std::path::PathBuf;

use paygate::signing::{canonical_json, sign_json, JsonError, SigningKey};
use serde_json::Value;

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/php_signatures.json")
}

fn field<'v>(case: &'v Value, name: &str, key: &str) -> &'v str {
    case.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("case `{name}`: missing string field `{key}`"))
}

fn top_level_is_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|&b| b == b'{')
}

#[test]
fn raw_json_signing_matches_recorded_php_outputs() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "PHP signature vectors not found at {}: {e}. They are recorded from real PHP \
             and this test must not be skipped; restore the file.",
            path.display()
        )
    });
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
    let cases = doc
        .get("cases")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{} has no `cases` array", path.display()));
    assert!(!cases.is_empty(), "{} has no cases", path.display());

    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        let secret = field(case, name, "secret");
        let body = field(case, name, "body").as_bytes();
        let key = SigningKey::from_bytes(secret.as_bytes());
        let ours = canonical_json(body, Vec::new());
        let signature = sign_json(&key, body);
        checked += 1;

        if case.get("duplicate_keys").and_then(Value::as_bool) == Some(true) {
            if !matches!(ours, Err(JsonError::DuplicateKey { .. })) {
                failures.push(format!(
                    "{name}: duplicate keys must be rejected, got {ours:?}"
                ));
            }
            continue;
        }

        if let Some(php_error) = case.get("error").and_then(Value::as_str) {
            let class = case
                .get("error_class")
                .and_then(Value::as_str)
                .unwrap_or("");
            let kind_ok = match (&ours, class) {
                (Ok(_), _) => false,
                (Err(JsonError::TooDeep { .. }), "Exception") => {
                    php_error.contains("Recursion level")
                }
                (Err(JsonError::NotAnObject), "TypeError") => true,
                (Err(JsonError::NotAnObject), "JsonException") => !top_level_is_object(body),
                (
                    Err(JsonError::Syntax { .. } | JsonError::InvalidUtf8 { .. }),
                    "JsonException",
                ) => true,
                (Err(_), _) => false,
            };
            if !kind_ok {
                failures.push(format!(
                    "{name}: PHP failed with {class} `{php_error}`, we gave {ours:?}"
                ));
            }
            if signature.is_ok() {
                failures.push(format!(
                    "{name}: PHP failed with `{php_error}` but sign_json succeeded"
                ));
            }
            continue;
        }

        if !top_level_is_object(body) {
            // Deliberate divergence: PHP signs a top-level list too.
            if ours != Err(JsonError::NotAnObject) {
                failures.push(format!(
                    "{name}: a non-object top level must be rejected, got {ours:?}"
                ));
            }
            continue;
        }

        let want_canonical = field(case, name, "canonical");
        let want_signature = field(case, name, "signature");
        match ours {
            Ok((canonical, _)) => {
                if canonical != want_canonical.as_bytes() {
                    failures.push(format!(
                        "{name}: canonical string differs\n   php: {want_canonical:?}\n  ours: {:?}",
                        String::from_utf8_lossy(&canonical)
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: PHP signed it, we failed: {e}")),
        }
        match signature {
            Ok(sig) if sig.to_string() == want_signature => {}
            Ok(sig) => failures.push(format!("{name}: signature {sig} != PHP's {want_signature}")),
            Err(e) => failures.push(format!("{name}: sign_json failed: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} PHP vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
