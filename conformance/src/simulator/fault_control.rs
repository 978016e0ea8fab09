//! `GET`, `PUT` and `DELETE /_sim/merchants/{public_id}/faults` and
//! `/hub2/_sim/merchants/{merchant_id}/faults` (admin token, like the rest
//! of the control API): read, set and remove a merchant's fault profile
//! (see `faults`; HUB2's in `hub2::faults`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::control::json_value;
use super::faults::FaultProfile;
use super::SimulatorState;

/// Whose profile a call is about: a gateway merchant (`public_id`) or a
/// HUB2 merchant (`merchant_id`, kept under [`hub2_fault_key`]).
struct Owner {
    /// The id in the path.
    id: String,
    /// The key of its profile in the fault table.
    key: String,
    /// Whether such a merchant exists.
    known: bool,
    /// The name of its id in answers (`public_id`, `merchant_id`).
    id_name: &'static str,
}

/// The fault-table key of a HUB2 merchant's profile (gateway public ids
/// are their own key; `hub2/` cannot start one, see `config`).
pub(crate) fn hub2_fault_key(merchant_id: &str) -> String {
    format!("hub2/{merchant_id}")
}

fn gateway_owner(state: &SimulatorState, public_id: String) -> Owner {
    Owner {
        known: state.0.merchants.contains_key(&public_id),
        key: public_id.clone(),
        id: public_id,
        id_name: "public_id",
    }
}

fn hub2_owner(state: &SimulatorState, merchant_id: String) -> Owner {
    Owner {
        known: state
            .config()
            .hub2
            .merchants
            .iter()
            .any(|m| m.merchant_id == merchant_id),
        key: hub2_fault_key(&merchant_id),
        id: merchant_id,
        id_name: "merchant_id",
    }
}

fn unknown(owner: &Owner) -> Response {
    json_value(
        StatusCode::NOT_FOUND,
        &json!({"status": 404, "message": format!("no merchant has {} {:?}", owner.id_name, owner.id)}),
    )
}

fn view(state: &SimulatorState, owner: &Owner) -> serde_json::Value {
    let mut view = json!({
        "profile": state.0.faults.profile(&owner.key),
        "injected": state.0.faults.injected(&owner.key),
    });
    view[owner.id_name] = json!(owner.id);
    view
}

/// `GET`: the profile (`null` without one) and the faults injected so far
/// by kind (`answer.drop`, `callback.duplicate`, ...).
pub(crate) async fn get_faults(
    State(state): State<SimulatorState>,
    Path(public_id): Path<String>,
) -> Response {
    let owner = gateway_owner(&state, public_id);
    read(&state, &owner)
}

/// `PUT` a [`FaultProfile`] as JSON: replaces the merchant's profile. A
/// body that is not one is 400 naming the field; nothing changes.
pub(crate) async fn put_faults(
    State(state): State<SimulatorState>,
    Path(public_id): Path<String>,
    body: Bytes,
) -> Response {
    let owner = gateway_owner(&state, public_id);
    write(&state, &owner, &body)
}

/// `DELETE`: no more faults for the merchant.
pub(crate) async fn delete_faults(
    State(state): State<SimulatorState>,
    Path(public_id): Path<String>,
) -> Response {
    let owner = gateway_owner(&state, public_id);
    remove(&state, &owner)
}

/// `GET /hub2/_sim/merchants/{merchant_id}/faults`.
pub(crate) async fn get_hub2_faults(
    State(state): State<SimulatorState>,
    Path(merchant_id): Path<String>,
) -> Response {
    let owner = hub2_owner(&state, merchant_id);
    read(&state, &owner)
}

/// `PUT /hub2/_sim/merchants/{merchant_id}/faults`.
pub(crate) async fn put_hub2_faults(
    State(state): State<SimulatorState>,
    Path(merchant_id): Path<String>,
    body: Bytes,
) -> Response {
    let owner = hub2_owner(&state, merchant_id);
    write(&state, &owner, &body)
}

/// `DELETE /hub2/_sim/merchants/{merchant_id}/faults`.
pub(crate) async fn delete_hub2_faults(
    State(state): State<SimulatorState>,
    Path(merchant_id): Path<String>,
) -> Response {
    let owner = hub2_owner(&state, merchant_id);
    remove(&state, &owner)
}

fn read(state: &SimulatorState, owner: &Owner) -> Response {
    if !owner.known {
        return unknown(owner);
    }
    json_value(StatusCode::OK, &view(state, owner))
}

fn write(state: &SimulatorState, owner: &Owner, body: &[u8]) -> Response {
    if !owner.known {
        return unknown(owner);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
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
        merchant = owner.id,
        seed = profile.seed,
        rate_percent = profile.rate_percent,
        "fault profile set"
    );
    state.0.faults.set(&owner.key, Some(profile));
    json_value(StatusCode::OK, &view(state, owner))
}

fn remove(state: &SimulatorState, owner: &Owner) -> Response {
    if !owner.known {
        return unknown(owner);
    }
    state.0.faults.set(&owner.key, None);
    tracing::info!(merchant = owner.id, "fault profile removed");
    json_value(StatusCode::OK, &view(state, owner))
}
