//! Who may use the control API: the admin token.
//!
//! The control API (`/_sim/...` and `/hub2/_sim/...`) reads every
//! merchant's transactions, forces outcomes and resets the state, so it
//! answers only requests carrying `Authorization: Bearer <admin token>`
//! (`RequireAdmin`, an extractor applied as a layer on the control routes)
//! or the dashboard's session cookie set by signing in at `/_sim/ui/login`
//! (then, for a request that changes state, also the `X-Paygate-UI`
//! header, which a page of another site cannot send). Two pages
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
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
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
        authorize(state, &parts.method, &parts.headers)
            .map(|()| RequireAdmin)
            .map_err(IntoResponse::into_response)
    }
}

/// The cookie the dashboard's sign-in sets (`HttpOnly`, `SameSite=Strict`):
/// the admin token, percent-encoded.
pub const SESSION_COOKIE: &str = "paygate_sim_admin";

/// The header a cookie-authenticated request that changes state must
/// carry (any value): the dashboard's script sends it; a form or a page of
/// another site cannot.
pub const UI_HEADER: &str = "x-paygate-ui";

/// Whether a request may use the control API: `Authorization: Bearer
/// <token>`, or else the dashboard's session cookie (with [`UI_HEADER`]
/// unless the method is `GET` or `HEAD`). The refusal is a 401 (403 for a
/// cookie without the header) naming what is missing.
pub(crate) fn authorize(
    state: &SimulatorState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let Some(expected) = state.admin_token() else {
        return Ok(());
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return match session_cookie(headers) {
            Some(token) if expected.matches(&token) => {
                let safe = *method == Method::GET || *method == Method::HEAD;
                if safe || headers.contains_key(UI_HEADER) {
                    Ok(())
                } else {
                    Err(refusal_with(
                        StatusCode::FORBIDDEN,
                        "admin-ui-header-missing",
                        "a control request that changes state, authenticated by the dashboard's cookie, must carry the X-Paygate-UI header",
                    ))
                }
            }
            Some(_) => Err(refusal(
                "admin-token-wrong",
                "the dashboard's session cookie does not hold this simulator's admin token: sign in again at /_sim/ui/login",
            )),
            None => Err(refusal(
                "admin-token-missing",
                "the control API needs the header `Authorization: Bearer <admin token>`, and the request has no Authorization header",
            )),
        };
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
    Ok(())
}

/// The token in the session cookie, decoded; `None` without one.
fn session_cookie(headers: &HeaderMap) -> Option<Vec<u8>> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            let value = pair
                .strip_prefix(SESSION_COOKIE.as_bytes())?
                .strip_prefix(b"=")?;
            Some(percent_decode(value))
        })
}

/// A token as a cookie value: letters, digits and `-._~` as they are,
/// every other byte as `%XX` (a token may hold `;`, `,` or `"`).
pub(crate) fn cookie_encode(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for byte in token.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)].to_ascii_uppercase()));
            out.push(char::from(
                HEX[usize::from(byte & 0x0f)].to_ascii_uppercase(),
            ));
        }
    }
    out
}

fn percent_decode(value: &[u8]) -> Vec<u8> {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let decoded = match (value.get(i), value.get(i + 1), value.get(i + 2)) {
            (Some(b'%'), Some(&hi), Some(&lo)) => hex(hi).zip(hex(lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(value[i]);
                i += 1;
            }
        }
    }
    out
}

/// Why a control request is refused: the answer's status, code and message.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
}

fn refusal(code: &'static str, message: &'static str) -> Refusal {
    refusal_with(StatusCode::UNAUTHORIZED, code, message)
}

fn refusal_with(status: StatusCode, code: &'static str, message: &'static str) -> Refusal {
    Refusal {
        status,
        code,
        message,
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal {
            status,
            code,
            message,
        } = self;
        tracing::info!(code, "control API request refused");
        let body = serde_json::json!({
            "status": status.as_u16(),
            "code": code,
            "message": message,
        });
        (
            status,
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
    fn cookie_values_round_trip() {
        for token in ["abc", "a;b,c\"d%e=f", "~-._", "%zz"] {
            let encoded = cookie_encode(token);
            assert!(encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            assert_eq!(percent_decode(encoded.as_bytes()), token.as_bytes());
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; paygate_sim_admin=a%3Bb"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some(&b"a;b"[..]));
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
