//! Who may use the control API: the admin token.
//!
//! The control API (`/_sim/...` and `/hub2/_sim/...`) reads every
//! merchant's transactions, forces outcomes and resets the state, so it
//! answers only requests carrying `Authorization: Bearer <admin token>`
//! (`RequireAdmin`, an extractor applied as a layer on the control routes). Two pages
//! stay open: `GET /_sim/health` (a liveness probe: counts only) and the
//! customers' pages (`GET /_sim/redirect/{public_id}/{order_id}`, `GET
//! /hub2/_sim/redirect/{intent id}`), which the payment answers hand to a
//! customer and which a real customer opens without any credential.
//!
//! The token is [`ControlAccess::GeneratedToken`] by default (32 random
//! bytes from the operating system, in hex), or the operator's
//! ([`ControlAccess::Token`]); [`ControlAccess::Open`] turns the check off
//! and is accepted only on a loopback listen address. The token is compared
//! in constant time (SHA-256 of both sides, then `subtle`), and never
//! appears in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{SimulatorError, SimulatorState};

/// The environment variable `paygate simulate` and `paygate conform` read
/// the admin token from.
pub const ADMIN_TOKEN_VAR: &str = "PAYGATE_ADMIN_TOKEN";

/// Longest admin token accepted, in bytes.
pub const MAX_ADMIN_TOKEN_LEN: usize = 512;

/// The control API's admin token. Its `Debug` output is redacted and it
/// has no `Display`: read it with [`AdminToken::reveal`] or send it with
/// [`AdminToken::bearer_header`].
#[derive(Clone)]
pub struct AdminToken(String);

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Why a text is not an admin token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminTokenError {
    /// Empty, too long, or with a character a `Bearer` header cannot carry.
    #[error("the admin token must be 1 to {MAX_ADMIN_TOKEN_LEN} visible ASCII characters (no spaces): {0}")]
    Invalid(&'static str),
    /// The operating system gave no random bytes.
    #[error("cannot generate an admin token: the operating system's random source failed: {0}")]
    Random(String),
}

impl AdminToken {
    /// A token given by the operator: 1 to [`MAX_ADMIN_TOKEN_LEN`] visible
    /// ASCII characters, no spaces (what a `Bearer` header carries).
    pub fn new(text: impl Into<String>) -> Result<Self, AdminTokenError> {
        let text = text.into();
        if text.is_empty() {
            return Err(AdminTokenError::Invalid("it is empty"));
        }
        if text.len() > MAX_ADMIN_TOKEN_LEN {
            return Err(AdminTokenError::Invalid("it is too long"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AdminTokenError::Invalid(
                "it holds a space, a control or a non-ASCII character",
            ));
        }
        Ok(AdminToken(text))
    }

    /// A fresh token: 32 bytes from the operating system's random source,
    /// as 64 lower-case hex digits.
    pub fn generate() -> Result<Self, AdminTokenError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| AdminTokenError::Random(e.to_string()))?;
        let mut text = String::with_capacity(64);
        for byte in bytes {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Ok(AdminToken(text))
    }

    /// The token itself. Show it only to the operator.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// `Bearer <token>`, marked sensitive (HTTP/2 never indexes it; `Debug`
    /// of the header shows `Sensitive`): the value of the `Authorization`
    /// header of a control request.
    pub fn bearer_header(&self) -> HeaderValue {
        // Checked at construction: visible ASCII only.
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        value.set_sensitive(true);
        value
    }

    /// Whether `presented` is this token, in constant time (both sides are
    /// hashed first, so neither the content nor the length leaks).
    pub fn matches(&self, presented: &[u8]) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented);
        expected.ct_eq(&presented).into()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Who may use the control API.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum ControlAccess {
    /// A random token generated at start-up (the default); read it with
    /// [`RunningSimulator::admin_token`](super::RunningSimulator::admin_token).
    /// `paygate simulate` prints it once on stderr.
    #[default]
    GeneratedToken,
    /// This token.
    Token(AdminToken),
    /// No token: anyone who reaches the port may use the control API.
    /// Accepted only on a loopback listen address (see [`check_listen`]).
    Open,
}

impl ControlAccess {
    /// The token the simulator will check (generated now for
    /// [`ControlAccess::GeneratedToken`]), or `None` when open.
    pub(crate) fn resolve(&self) -> Result<Option<AdminToken>, SimulatorError> {
        match self {
            ControlAccess::GeneratedToken => {
                AdminToken::generate()
                    .map(Some)
                    .map_err(|e| SimulatorError::Config {
                        file: "<config>".into(),
                        path: "control".into(),
                        message: e.to_string(),
                    })
            }
            ControlAccess::Token(token) => Ok(Some(token.clone())),
            ControlAccess::Open => Ok(None),
        }
    }
}

/// Refuses [`ControlAccess::Open`] on an address other than loopback: an
/// open control API lets anyone who reaches the port read and wipe every
/// merchant's data.
pub fn check_listen(access: &ControlAccess, listen: SocketAddr) -> Result<(), SimulatorError> {
    if matches!(access, ControlAccess::Open) && !listen.ip().is_loopback() {
        return Err(SimulatorError::Config {
            file: "<config>".into(),
            path: "control".into(),
            message: format!(
                "an open control API (no admin token, `--no-admin-token`) is only allowed on a loopback address (127.0.0.0/8 or ::1), not {listen}; give an admin token (--admin-token or {ADMIN_TOKEN_VAR}) instead"
            ),
        });
    }
    Ok(())
}

/// The extractor the control routes are layered with
/// (`axum::middleware::from_extractor_with_state`): passes a request whose
/// `Authorization: Bearer <token>` is the admin token (or any request when
/// the control API is open), refuses the rest with 401 and a JSON body
/// `{status, code, message}` naming what is missing.
pub(crate) struct RequireAdmin;

impl FromRequestParts<SimulatorState> for RequireAdmin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SimulatorState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.admin_token() else {
            return Ok(RequireAdmin);
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(refusal(
                "admin-token-missing",
                "the control API needs the header `Authorization: Bearer <admin token>`, and the request has no Authorization header",
            ));
        };
        let bytes = value.as_bytes();
        let (scheme, token) = match bytes.iter().position(|b| *b == b' ') {
            Some(at) => (&bytes[..at], &bytes[at + 1..]),
            None => (bytes, &[][..]),
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return Err(refusal(
                "admin-token-missing",
                "the control API needs the header `Authorization: Bearer <admin token>`; the Authorization header does not use the Bearer scheme",
            ));
        }
        let token = token.trim_ascii();
        if token.is_empty() {
            return Err(refusal(
                "admin-token-missing",
                "the control API needs the header `Authorization: Bearer <admin token>`; the Bearer token is empty",
            ));
        }
        if !expected.matches(token) {
            return Err(refusal(
                "admin-token-wrong",
                "the token in `Authorization: Bearer <admin token>` is not this simulator's admin token (the one given with --admin-token or PAYGATE_ADMIN_TOKEN, or printed at start-up)",
            ));
        }
        Ok(RequireAdmin)
    }
}

fn refusal(code: &'static str, message: &'static str) -> Response {
    tracing::info!(code, "control API request refused");
    let body = serde_json::json!({
        "status": 401,
        "code": code,
        "message": message,
    });
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"paygate simulator control API\"",
            ),
        ],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let token = AdminToken::new("sekrit-token-value").unwrap();
        assert!(!format!("{token:?}").contains("sekrit"));
        let access = ControlAccess::Token(token.clone());
        assert!(!format!("{access:?}").contains("sekrit"));
        assert!(!format!("{:?}", token.bearer_header()).contains("sekrit"));
        assert!(token.bearer_header().is_sensitive());
    }

    #[test]
    fn tokens_are_checked() {
        assert!(AdminToken::new("").is_err());
        assert!(AdminToken::new("has space").is_err());
        assert!(AdminToken::new("é").is_err());
        assert!(AdminToken::new("x".repeat(MAX_ADMIN_TOKEN_LEN + 1)).is_err());
        let token = AdminToken::new("abc").unwrap();
        assert!(token.matches(b"abc"));
        assert!(!token.matches(b"abd"));
        assert!(!token.matches(b"abc "));
        assert!(!token.matches(b""));
    }

    #[test]
    fn generated_tokens_are_random_hex() {
        let a = AdminToken::generate().unwrap();
        let b = AdminToken::generate().unwrap();
        assert_eq!(a.reveal().len(), 64);
        assert!(a.reveal().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.reveal(), b.reveal());
    }

    #[test]
    fn open_is_for_loopback_only() {
        let open = ControlAccess::Open;
        assert!(check_listen(&open, "127.0.0.1:0".parse().unwrap()).is_ok());
        assert!(check_listen(&open, "[::1]:0".parse().unwrap()).is_ok());
        assert!(check_listen(&open, "0.0.0.0:0".parse().unwrap()).is_err());
        assert!(check_listen(&open, "[::]:0".parse().unwrap()).is_err());
        let token = ControlAccess::GeneratedToken;
        assert!(check_listen(&token, "0.0.0.0:0".parse().unwrap()).is_ok());
    }
}
