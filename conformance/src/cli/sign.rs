//! `paygate sign` and `paygate verify`.

use std::io::{Read, Write};
use std::process::ExitCode;

use paygate::signing::{sign_json, verify_json, SecretKey, SigningKey, VerifyError};

use super::fail;

/// The environment variable holding the merchant's secret key.
pub const SECRET_KEY_VAR: &str = "PAYGATE_SECRET_KEY";

/// The largest payload read from stdin (gateway payloads are a few KiB).
const MAX_INPUT: u64 = 16 * 1024 * 1024;

fn secret_key() -> Result<SigningKey, String> {
    match std::env::var_os(SECRET_KEY_VAR) {
        Some(value) if !value.is_empty() => {
            Ok(SigningKey::new(&SecretKey::new(value.as_encoded_bytes())))
        }
        Some(_) => Err(format!(
            "{SECRET_KEY_VAR} is empty; set it to the merchant's secret key"
        )),
        None => Err(format!(
            "{SECRET_KEY_VAR} is not set; set it to the merchant's secret key"
        )),
    }
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if body.len() as u64 > MAX_INPUT {
        return Err(format!("input is larger than {MAX_INPUT} bytes"));
    }
    Ok(body)
}

fn print_line(line: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(line).and_then(|()| out.write_all(b"\n")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write to stdout: {e}")),
    }
}

/// `paygate sign`.
pub fn sign() -> ExitCode {
    let (key, body) = match secret_key().and_then(|key| Ok((key, read_stdin()?))) {
        Ok(ok) => ok,
        Err(message) => return fail(message),
    };
    match sign_json(&key, &body) {
        Ok(signature) => print_line(&signature.to_hex()),
        Err(err) => fail(format!("input is not a signable JSON object: {err}")),
    }
}

/// `paygate verify`.
pub fn verify() -> ExitCode {
    let (key, body) = match secret_key().and_then(|key| Ok((key, read_stdin()?))) {
        Ok(ok) => ok,
        Err(message) => return fail(message),
    };
    match verify_json(&key, &body) {
        Ok(()) => print_line(b"valid"),
        Err(VerifyError::Mismatch) => {
            println!("invalid signature");
            ExitCode::FAILURE
        }
        Err(err) => fail(format!("input cannot be verified: {err}")),
    }
}
