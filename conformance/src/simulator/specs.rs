//! The OpenAPI documents the simulator was built from, served as they are
//! (`GET /openapi.yaml`, `GET /hub2/openapi.yaml`) and read by
//! `request_rules`, so what it documents and what it enforces cannot
//! drift apart.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `spec/gateway/openapi.yaml`.
pub const GATEWAY_OPENAPI: &str = include_str!("../../../spec/gateway/openapi.yaml");
/// `spec/hub2/openapi.yaml`.
pub const HUB2_OPENAPI: &str = include_str!("../../../spec/hub2/openapi.yaml");

fn yaml(text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], text).into_response()
}

/// `GET /openapi.yaml`: the gateway's spec.
pub(crate) async fn gateway() -> Response {
    yaml(GATEWAY_OPENAPI)
}

/// `GET /hub2/openapi.yaml`: HUB2's spec.
pub(crate) async fn hub2() -> Response {
    yaml(HUB2_OPENAPI)
}
