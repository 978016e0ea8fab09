//! The HTTP client that posts callbacks and HUB2 webhooks to merchants.
//!
//! It is hyper-util's pooled client (the one `reqwest` is built on), with
//! rustls for `https://` endpoints, used without `reqwest`'s layers: on the
//! callback path of a load run those (the URL parsed again for every
//! request, the redirect and retry services around each send, the proxy
//! rules, the headers copied into a request of its own) cost a measured
//! share of every payment's CPU (see `benches/README.md`, "callbacks
//! posted without reqwest's layers").
//!
//! Connections are kept open and reused per endpoint (scheme, host and
//! port). Each answer's body is read, up to [`ANSWER_LIMIT`] bytes, so
//! that its connection can carry the next callback.
//!
//! Redirects are never followed: a callback answered 3xx is a failed
//! attempt recorded with that status, as a gateway that posts callbacks
//! does. Following one would send the next request as a `GET` without
//! the signed body (for 301, 302 and 303), and could lead to an address
//! the callback URL check refuses (the simulator itself).

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The most of an answer's body that is read (an endpoint that answers
/// more is cut off there, and its connection is not reused).
pub(crate) const ANSWER_LIMIT: usize = 64 * 1024;

/// An endpoint's answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Its HTTP status.
    pub(crate) status: u16,
    /// Its body, up to [`ANSWER_LIMIT`] bytes (empty when it was longer
    /// or could not be read in full).
    pub(crate) body: Bytes,
}

/// Why a callback got no answer; its text is what the attempt records.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum NoAnswer {
    /// The URL is not one the client can call.
    #[error("cannot call {url:?}: {why}")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// No answer (status line and body) within the callback timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Connecting, sending or reading the status line failed.
    #[error("{0}")]
    Failed(String),
}

/// The callback client: cheap to share, one pool of connections.
#[derive(Clone)]
pub(crate) struct CallbackHttp {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl CallbackHttp {
    /// A client whose every request (connecting, sending, reading the
    /// answer) must be done within `timeout`.
    pub(crate) fn new(timeout: Duration) -> Result<Self, String> {
        let mut tcp = HttpConnector::new();
        // `https://` URIs are handed to the TLS layer through this one.
        tcp.enforce_http(false);
        // A callback is one small write: sent at once, not held back
        // waiting for an acknowledgement.
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(timeout));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(CallbackHttp { client, timeout })
    }

    /// The URI of `parsed`, a URL already parsed (and checked) by the
    /// caller.
    pub(crate) fn uri_of(parsed: &url::Url) -> Result<Uri, NoAnswer> {
        let bad = |why: String| NoAnswer::BadUrl {
            url: parsed.as_str().to_owned(),
            why,
        };
        match parsed.scheme() {
            "http" | "https" => {}
            other => return Err(bad(format!("the scheme {other:?} is not http or https"))),
        }
        Uri::try_from(parsed.as_str()).map_err(|e| bad(e.to_string()))
    }

    /// The URI of `url` as configured (trimmed, parsed as a URL first, as
    /// a browser would).
    pub(crate) fn uri(url: &str) -> Result<Uri, NoAnswer> {
        let parsed = url::Url::parse(url.trim()).map_err(|e| NoAnswer::BadUrl {
            url: url.to_owned(),
            why: e.to_string(),
        })?;
        Self::uri_of(&parsed)
    }

    /// POSTs `body` as JSON to `uri`, with `headers` besides the content
    /// type, and reads the answer.
    pub(crate) async fn post_json(
        &self,
        uri: Uri,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<Answer, NoAnswer> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let fields = request.headers_mut();
        fields.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in headers {
            fields.insert(name.clone(), value.clone());
        }
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| NoAnswer::Failed(with_causes(&e)))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), ANSWER_LIMIT)
                .collect()
                .await
                .map(|collected| collected.to_bytes())
                .unwrap_or_default();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| NoAnswer::Timeout(self.timeout))?
    }
}

/// An error and its causes, outermost first (hyper-util's own text, such
/// as "client error (Connect)", names no cause).
fn with_causes(err: &hyper_util::client::legacy::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests;
