//! `GET`, `PUT` and `DELETE /_sim/merchants/{public_id}/faults` (admin
//! token, like the rest of the control API): read, set and remove a
//! merchant's fault profile (see `faults`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::control::json_value;
use super::faults::FaultProfile;
use super::SimulatorState;

fn unknown(public_id: &str) -> Response {
    json_value(
        StatusCode::NOT_FOUND,
        &json!({"status": 404, "message": format!("no merchant has public_id {public_id:?}")}),
    )
}

fn view(state: &SimulatorState, public_id: &str) -> serde_json::Value {
    json!({
        "public_id": public_id,
        "profile": state.0.faults.profile(public_id),
        "injected": state.0.faults.injected(public_id),
    })
}

/// `GET`: the profile (`null` without one) and the faults injected so far
/// by kind (`answer.drop`, `callback.duplicate`, ...).
pub(crate) async fn get_faults(
    State(state): State<SimulatorState>,
    Path(public_id): Path<String>,
) -> Response {
    if !state.0.merchants.contains_key(&public_id) {
        return unknown(&public_id);
    }
    json_value(StatusCode::OK, &view(&state, &public_id))
}

/// `PUT` a [`FaultProfile`] as JSON: replaces the merchant's profile. A
/// body that is not one is 400 naming the field; nothing changes.
pub(crate) async fn put_faults(
    State(state): State<SimulatorState>,
    Path(public_id): Path<String>,
    body: Bytes,
) -> Response {
    if !state.0.merchants.contains_key(&public_id) {
        return unknown(&public_id);
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let profile: FaultProfile = match serde_path_to_error::deserialize(&mut de) {
        Ok(profile) => profile,
        Err(err) => {
            let path = err.path().to_string();
            return json_value(
                StatusCode::BAD_REQUEST,
                &json!({"status": 400, "field": path, "message": err.into_inner().to_string()}),
            );
        }
    };
    if let Err((field, message)) = profile.check() {
        return json_value(
            StatusCode::BAD_REQUEST,
            &json!({"status": 400, "field": field, "message": message}),
        );
    }
    tracing::info!(
        public_id,
        seed = profile.seed,
        rate_percent = profile.rate_percent,
        "fault profile set"
    );
    state.0.faults.set(&public_id, Some(profile));
    json_value(StatusCode::OK, &view(&state, &public_id))
}

/// `DELETE`: no more faults for the merchant.
pub(crate) async fn delete_faults(
    State(state): State<SimulatorState>,
    Path(public_id): Path<String>,
) -> Response {
    if !state.0.merchants.contains_key(&public_id) {
        return unknown(&public_id);
    }
    state.0.faults.set(&public_id, None);
    tracing::info!(public_id, "fault profile removed");
    json_value(StatusCode::OK, &view(&state, &public_id))
}
