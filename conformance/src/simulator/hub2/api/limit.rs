//! HUB2's rate limits: the global limit per client IP (a middleware in
//! front of every API route, which also records the client IP for the
//! handlers) and the polling throttle of one object per client IP.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::simulator::hub2::config::RateLimit;
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::store::Limiter;
use crate::simulator::SimulatorState;

/// The client IP, set by [`rate_limit`] (handlers take it as
/// `Extension<ClientIp>`).
#[derive(Clone, Debug)]
pub(super) struct ClientIp(pub(super) String);

/// The global per-IP limit; also records the client IP for the handlers.
/// Over the limit: 429 with `Retry-After`, and the request is not
/// processed.
pub(super) async fn rate_limit(
    State(state): State<SimulatorState>,
    mut request: Request,
    next: Next,
) -> Response {
    // Behind replicas, the address of the client a forwarding replica
    // names (see `forward`).
    let ip = crate::simulator::forward::client_ip(&state, &request);
    let limit = state.config().hub2.rate_limit;
    let hit = state
        .hub2_store()
        .global
        .hit(&ip, limit.requests, limit.window);
    if let Err(retry_after) = hit {
        return Hub2ApiError::too_many(
            format!(
                "ThrottlerException: Too Many Requests (at most {} requests per {} ms per IP address)",
                limit.requests,
                limit.window.as_millis()
            ),
            retry_after,
        )
        .into_response();
    }
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// Counts a read of object `id` by `ip` against the polling throttle
/// (`limit`); over it, 429 with `Retry-After` and `message` (the read is
/// not counted). Called only for objects in a final state.
pub(super) fn throttle_poll(
    polls: &mut Limiter,
    limit: RateLimit,
    ip: &ClientIp,
    id: &str,
    message: impl FnOnce() -> String,
) -> Result<(), Hub2ApiError> {
    polls
        .hit(&format!("{}|{id}", ip.0), limit.requests, limit.window)
        .map_err(|retry| Hub2ApiError::too_many(message(), retry))
}
