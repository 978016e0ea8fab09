//! The raw-JSON path's tests, by theme; the helpers they share.

mod depth;
mod fast_path;
mod rejection;
mod rendering;
mod verify;

use super::{canonical_json, sign_json, JsonError};
use crate::signing::key::SigningKey;

const SEED_SECRET: &str = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5";

fn canonical(body: &str) -> Result<String, JsonError> {
    let (out, _) = canonical_json(body.as_bytes(), Vec::new())?;
    Ok(String::from_utf8(out).unwrap())
}

fn ok(body: &str) -> String {
    canonical(body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn syntax_error(body: &[u8]) -> &'static str {
    match canonical_json(body, Vec::new()) {
        Err(JsonError::Syntax { reason, .. }) => reason,
        other => panic!(
            "{:?}: expected a syntax error, got {other:?}",
            String::from_utf8_lossy(body)
        ),
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(SEED_SECRET.as_bytes())
}

fn signed(body_without_sig: &str) -> String {
    let sig = sign_json(&key(), body_without_sig.as_bytes()).unwrap();
    let trimmed = body_without_sig.trim_end().strip_suffix('}').unwrap();
    format!("{trimmed},\"signature\":\"{sig}\"}}")
}
