//! HUB2 (and the namespaces) behind replicas: one replica serves them
//! (the one holding HUB2's lock in the database, see `persist::replica`),
//! and every other replica forwards each `/hub2` and `/ns/...` request to
//! it, byte for byte, and relays its answer. So HUB2's state (intents,
//! payment tokens, transfers, balances, webhooks), its per-IP rate limit
//! and every namespace are those of one process, whichever replica the
//! load balancer picked. The client's address goes along in
//! `x-paygate-forwarded-for`, believed by the serving replica only with
//! the replicas' shared key in `x-paygate-replica-key`.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::hub2::error::Hub2ApiError;
use crate::simulator::SimulatorState;

/// The client address a forwarded request is on behalf of.
pub(crate) const FORWARDED_FOR: &str = "x-paygate-forwarded-for";
/// The replicas' shared key, proving a request was forwarded by one.
pub(crate) const REPLICA_KEY: &str = "x-paygate-replica-key";

/// Headers that belong to one connection, not to the request.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "host",
];

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default()
    })
}

/// The client address `request` is on behalf of: the forwarded one when
/// the request carries the replicas' key, else the connection's peer.
pub(crate) fn client_ip(state: &SimulatorState, request: &Request) -> String {
    let peer = || {
        request
            .extensions()
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
    };
    let Some(lead) = state.store().hub2_lead() else {
        return peer();
    };
    let headers = request.headers();
    let (Some(key), Some(forwarded)) = (headers.get(REPLICA_KEY), headers.get(FORWARDED_FOR))
    else {
        return peer();
    };
    let expected = lead.forward_key();
    // Hashed first, so neither the content nor the length leaks.
    let matches: bool = Sha256::digest(expected.as_bytes())
        .ct_eq(&Sha256::digest(key.as_bytes()))
        .into();
    match (matches && !expected.is_empty(), forwarded.to_str()) {
        (true, Ok(ip)) => ip.to_owned(),
        _ => peer(),
    }
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower)
            || lower == "content-length"
            || lower == FORWARDED_FOR
            || lower == REPLICA_KEY
        {
            continue;
        }
        to.append(name.clone(), value.clone());
    }
}

/// Serves the request here when this replica serves HUB2 (or is no
/// replica), else forwards it to the one that does.
pub(crate) async fn to_leader(
    State(state): State<SimulatorState>,
    request: Request,
    next: Next,
) -> Response {
    if !forwards(&state) {
        return next.run(request).await;
    }
    // The router nests HUB2 under `/hub2` and strips that prefix.
    let path = format!(
        "/hub2{}",
        request.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    forward(&state, request, path, |status, message| {
        Hub2ApiError::new(status, message).into_response()
    })
    .await
}

/// Whether this process is a replica that does not serve HUB2 (nor the
/// namespaces): its requests for them go to the one that does.
pub(crate) fn forwards(state: &SimulatorState) -> bool {
    state
        .store()
        .hub2_lead()
        .is_some_and(|lead| !lead.is_leading())
}

/// Sends `request` (its method, headers and body) to `path` on the
/// replica serving HUB2 and the namespaces, and relays the answer; `fail`
/// shapes the answer when that replica cannot be reached.
pub(crate) async fn forward(
    state: &SimulatorState,
    request: Request,
    path: String,
    fail: impl Fn(StatusCode, &str) -> Response,
) -> Response {
    let Some(lead) = state.store().hub2_lead() else {
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "not a replica");
    };
    let Some(leader) = lead.leader_url() else {
        return fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "no replica serves HUB2 and the namespaces yet; try again in a second",
        );
    };
    let ip = client_ip(state, &request);
    let key = lead.forward_key();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, state.config().max_body_bytes).await else {
        return fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        );
    };
    let mut headers = HeaderMap::new();
    copy_headers(&parts.headers, &mut headers);
    if let (Ok(ip), Ok(key)) = (HeaderValue::from_str(&ip), HeaderValue::from_str(&key)) {
        headers.insert(HeaderName::from_static(FORWARDED_FOR), ip);
        headers.insert(HeaderName::from_static(REPLICA_KEY), key);
    }
    let sent = client()
        .request(parts.method, format!("{leader}{path}"))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(err) => {
            tracing::warn!(leader = %leader, error = %err, "cannot forward a request");
            return fail(
                StatusCode::BAD_GATEWAY,
                "the replica serving HUB2 and the namespaces did not answer; try again",
            );
        }
    };
    let status = answer.status();
    let mut out_headers = HeaderMap::new();
    copy_headers(answer.headers(), &mut out_headers);
    let Ok(bytes) = answer.bytes().await else {
        return fail(
            StatusCode::BAD_GATEWAY,
            "the replica serving HUB2 and the namespaces did not finish its answer; try again",
        );
    };
    let mut response = (status, bytes).into_response();
    response.headers_mut().extend(out_headers);
    response
}
