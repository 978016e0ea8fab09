//! Receiving HUB2 webhooks: verify `Hub2-Signature` over the raw body, then
//! decode.
//!
//! Every delivery is a `POST` whose `Hub2-Signature` header is
//! `s1=<hex>` or `s1=<hex>,s0=<hex>`: `s1` is the HMAC-SHA256 of the body
//! exactly as received, keyed with the webhook's current secret; `s0`, sent
//! for 24 hours after the secret is rotated, is keyed with the previous one.
//!
//! [`verify_webhook`] parses the header strictly (tolerating whitespace
//! around items, `=` and `,`), ignores schemes it does not know, and accepts
//! the delivery if any `s1`/`s0` signature it carries matches the current
//! secret or, when configured, the previous one. Signatures are compared as
//! decoded bytes, in constant time, and every candidate is compared (no
//! early exit on the first match).
//!
//! Deliveries may be repeated: use the event's `id` to process each once.

use core::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use crate::hub2::models::WebhookEvent;

/// The name of the header that carries the signatures.
pub const SIGNATURE_HEADER: &str = "Hub2-Signature";

/// A webhook secret, as returned in `Webhook.secret` when the webhook was
/// created. The text itself (not a hex decoding of it) is the HMAC key. The
/// bytes never appear in `Debug` output.
#[derive(Clone)]
pub struct WebhookSecret(Box<[u8]>);

impl WebhookSecret {
    /// Wraps the secret exactly as HUB2 returned it.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        WebhookSecret(secret.as_ref().into())
    }

    /// The number of bytes in the secret.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// HMAC-SHA256 (RFC 2104) of `body` keyed with the secret, through
    /// the `hmac` crate. Checked against the RFC 4231 vectors in the tests.
    fn mac(&self, body: &[u8]) -> [u8; 32] {
        // `Hmac::new_from_slice` accepts a key of any length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => return [0u8; 32],
        };
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret(<redacted, {} bytes>)", self.0.len())
    }
}

/// The secrets a delivery may be signed with: the current one and, during
/// the 24 hours after a rotation, the previous one.
#[derive(Clone, Debug)]
pub struct WebhookSecrets {
    /// The secret in use now.
    pub current: WebhookSecret,
    /// The secret before the last rotation, while HUB2 still signs with it.
    pub previous: Option<WebhookSecret>,
}

impl WebhookSecrets {
    /// Only a current secret.
    pub fn new(current: WebhookSecret) -> Self {
        WebhookSecrets {
            current,
            previous: None,
        }
    }

    /// Also accepts signatures made with `previous`.
    pub fn with_previous(mut self, previous: WebhookSecret) -> Self {
        self.previous = Some(previous);
        self
    }
}

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The delivery has no `Hub2-Signature` header.
    #[error("missing Hub2-Signature header")]
    MissingHeader,
    /// The header is not `s1=<hex>[,s0=<hex>]`.
    #[error("malformed Hub2-Signature header: {0}")]
    Malformed(String),
    /// No signature in the header matches the body with any known secret.
    #[error("Hub2-Signature does not match the body")]
    Mismatch,
    /// Verified, but the body is not a `WebhookEvent` as the spec says.
    #[error("webhook body does not match the spec at `{path}`: {message}")]
    Decode {
        /// Where the mismatch is.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The lower-case hex HMAC-SHA256 of `body` keyed with `secret`: the value
/// of `s1` (or `s0`).
pub fn sign_webhook(secret: &WebhookSecret, body: &[u8]) -> String {
    hex(&secret.mac(body))
}

/// The `Hub2-Signature` header HUB2 sends for `body`: `s1=<hex>`, or
/// `s1=<hex>,s0=<hex>` when a previous secret is still in use.
pub fn signature_header(
    current: &WebhookSecret,
    previous: Option<&WebhookSecret>,
    body: &[u8],
) -> String {
    let mut header = format!("s1={}", sign_webhook(current, body));
    if let Some(previous) = previous {
        header.push_str(",s0=");
        header.push_str(&sign_webhook(previous, body));
    }
    header
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

fn unhex_32(scheme: &str, value: &str) -> Result<[u8; 32], WebhookError> {
    let bytes = value.as_bytes();
    if bytes.len() != 64 {
        return Err(WebhookError::Malformed(format!(
            "{scheme} must be 64 hex digits, found {} characters",
            value.chars().count()
        )));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(WebhookError::Malformed(format!(
                "{scheme} must be hex digits, found {:?}",
                char::from(c)
            ))),
        };
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Ok(out)
}

/// The signatures a `Hub2-Signature` header carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParsedSignatures {
    /// `s1`, decoded.
    pub s1: Option<[u8; 32]>,
    /// `s0`, decoded.
    pub s0: Option<[u8; 32]>,
}

/// Parses `s1=<hex>[,s0=<hex>]`: items separated by `,`, each
/// `scheme=value`, whitespace around them ignored, in any order. Unknown
/// schemes are ignored; a repeated scheme, an empty item, an item without
/// `=`, an empty scheme, an `s1`/`s0` that is not 64 hex digits (either
/// case), or a header with neither `s1` nor `s0` is
/// [`WebhookError::Malformed`].
pub fn parse_signature_header(header: &str) -> Result<ParsedSignatures, WebhookError> {
    if header.trim().is_empty() {
        return Err(WebhookError::Malformed("empty header".into()));
    }
    let mut parsed = ParsedSignatures::default();
    let mut seen: Vec<&str> = Vec::new();
    for item in header.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(WebhookError::Malformed("empty item".into()));
        }
        let Some((scheme, value)) = item.split_once('=') else {
            return Err(WebhookError::Malformed(format!(
                "item {item:?} is not scheme=value"
            )));
        };
        let (scheme, value) = (scheme.trim(), value.trim());
        if scheme.is_empty() {
            return Err(WebhookError::Malformed(format!(
                "item {item:?} has no scheme"
            )));
        }
        if seen.contains(&scheme) {
            return Err(WebhookError::Malformed(format!("{scheme} appears twice")));
        }
        seen.push(scheme);
        match scheme {
            "s1" => parsed.s1 = Some(unhex_32(scheme, value)?),
            "s0" => parsed.s0 = Some(unhex_32(scheme, value)?),
            _ => {} // a scheme from a later version: ignored
        }
    }
    if parsed.s1.is_none() && parsed.s0.is_none() {
        return Err(WebhookError::Malformed("no s1 or s0 signature".into()));
    }
    Ok(parsed)
}

/// Verifies a delivery: `header` is the `Hub2-Signature` value and `body`
/// the raw body exactly as received. Accepted if any signature in the header
/// matches the current secret or the previous one (when set).
pub fn verify_webhook(
    secrets: &WebhookSecrets,
    header: &str,
    body: &[u8],
) -> Result<(), WebhookError> {
    let parsed = parse_signature_header(header)?;
    let mut expected = vec![secrets.current.mac(body)];
    if let Some(previous) = &secrets.previous {
        expected.push(previous.mac(body));
    }
    let mut matched = Choice::from(0);
    for received in [parsed.s1, parsed.s0].iter().flatten() {
        for mac in &expected {
            matched |= mac.ct_eq(received);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(WebhookError::Mismatch)
    }
}

/// Verifies a delivery, then decodes its body as a [`WebhookEvent`].
pub fn verify_webhook_event(
    secrets: &WebhookSecrets,
    header: &str,
    body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    verify_webhook(secrets, header, body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let event = serde_path_to_error::deserialize(&mut de).map_err(|err| WebhookError::Decode {
        path: err.path().to_string(),
        message: err.into_inner().to_string(),
    })?;
    de.end().map_err(|e| WebhookError::Decode {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(event)
}

#[cfg(feature = "axum")]
pub mod axum_handler {
    //! A ready HUB2 webhook endpoint for axum servers.
    //!
    //! It answers HTTP 200 only once `Hub2-Signature` is verified over the
    //! raw body, the body is a `WebhookEvent` and the merchant's handler has
    //! accepted it: 401 for a missing, malformed or wrong signature, 400 for
    //! a verified body that is not an event, 503 when the handler fails (HUB2
    //! delivers again). Repeated deliveries reach the handler again; use the
    //! event `id` to process each once.

    use std::future::Future;
    use std::sync::Arc;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::Router;

    use super::{verify_webhook_event, WebhookError, WebhookSecrets, SIGNATURE_HEADER};
    use crate::hub2::models::WebhookEvent;

    struct Endpoint<F> {
        secrets: WebhookSecrets,
        handler: F,
    }

    /// A router with one `POST {path}` route that verifies deliveries with
    /// `secrets` and hands the events to `handler`; the handler returns
    /// `Err` to have HUB2 deliver again later.
    pub fn webhook_router<F, Fut, E>(path: &str, secrets: WebhookSecrets, handler: F) -> Router
    where
        F: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let endpoint = Arc::new(Endpoint { secrets, handler });
        Router::new()
            .route(path, post(receive::<F, Fut, E>))
            .with_state(endpoint)
    }

    async fn receive<F, Fut, E>(
        State(endpoint): State<Arc<Endpoint<F>>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, String)
    where
        F: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let header = match headers.get(SIGNATURE_HEADER).map(|v| v.to_str()) {
            None => {
                return (
                    StatusCode::UNAUTHORIZED,
                    WebhookError::MissingHeader.to_string(),
                )
            }
            Some(Err(_)) => {
                return (
                    StatusCode::UNAUTHORIZED,
                    WebhookError::Malformed("not visible ASCII".into()).to_string(),
                )
            }
            Some(Ok(header)) => header,
        };
        let event = match verify_webhook_event(&endpoint.secrets, header, &body) {
            Ok(event) => event,
            Err(err @ WebhookError::Decode { .. }) => {
                return (StatusCode::BAD_REQUEST, err.to_string())
            }
            Err(err) => return (StatusCode::UNAUTHORIZED, err.to_string()),
        };
        match (endpoint.handler)(event).await {
            Ok(()) => (StatusCode::OK, "ok".into()),
            Err(err) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
        }
    }
}
