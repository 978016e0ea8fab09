//! The `/_sim/` control API.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use paygate::gateway::Status;
use serde::Deserialize;
use serde_json::json;

use super::clock::now_timestamp;
use super::codes;
use super::gateway::{json_response, ApiError};
use super::lifecycle::{finish, FinishError};
use super::outcome::Outcome;
use super::transaction::{Awaiting, StatusChange, Transaction};
use super::{SimulatorState, WorkError};

pub(crate) fn json_value(status: StatusCode, value: &serde_json::Value) -> Response {
    json_response(
        status,
        Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
    )
}

fn transaction_json(tx: &Transaction) -> serde_json::Value {
    json!({
        "public_id": tx.public_id,
        "order_id": tx.order_id,
        "operation": tx.operation,
        "transaction_id": tx.transaction_id,
        "transaction_ref": tx.transaction_ref,
        "status": tx.status,
        "provider_result": {"code": tx.provider_code, "message": tx.provider_message},
        "confirm_type": tx.confirm_type,
        "awaiting": tx.awaiting_label(),
        "callback_url": tx.callback_url,
        "sends_callback": tx.sends_callback,
        "customer_redirect": tx.redirect_url,
        "history": tx.history,
    })
}

/// `GET /_sim/health`.
pub(crate) async fn health(State(state): State<SimulatorState>) -> Response {
    // A replica counts in the database: off the connection threads.
    let body = state
        .blocking(health_body)
        .await
        .unwrap_or_else(|_| json!({ "status": "error" }));
    json_value(StatusCode::OK, &body)
}

/// What `GET /_sim/health` answers: counts only, no merchant data.
pub(crate) fn health_body(state: &SimulatorState) -> serde_json::Value {
    let (transactions, storage) = {
        let store = state.store();
        (store.transaction_count(), store.storage())
    };
    let mut body = json!({
        "status": "ok",
        "storage": storage,
        "merchants": state.0.merchants.len(),
        "transactions": transactions,
        "latency_ms": u64::try_from(state.config().latency.as_millis()).unwrap_or(u64::MAX),
        "hub2_rate_limit": {
            "requests": state.config().hub2.rate_limit.requests,
            "window_ms": u64::try_from(state.config().hub2.rate_limit.window.as_millis()).unwrap_or(u64::MAX),
        },
    });
    if let Some(name) = &state.0.namespace {
        body["namespace"] = json!({"name": name, "exists": true});
    }
    if let Some(namespaces) = &state.0.namespaces {
        body["namespaces"] = json!(namespaces.count());
    }
    // Behind replicas: whether this one serves HUB2 or forwards to it.
    if let Some(lead) = state.store().hub2_lead() {
        body["replica"] = json!({
            "hub2": if lead.is_leading() { "serves" } else { "forwards" },
        });
    }
    body
}

/// The value of `name` in a query string (percent-decoded, `+` as space).
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /_sim/callbacks[?order_id=X]`.
pub(crate) async fn callbacks(State(state): State<SimulatorState>, uri: Uri) -> Response {
    let order_id = uri.query().and_then(|q| query_param(q, "order_id"));
    // A replica reads them from the database: off the connection threads.
    let wanted = order_id.clone();
    let attempts = state
        .blocking(move |state| state.callback_attempts(wanted.as_deref()))
        .await
        .unwrap_or_default();
    // One order's attempts also show the body each sent, while kept.
    let listed: Vec<serde_json::Value> = attempts
        .iter()
        .map(|attempt| {
            let mut value = serde_json::to_value(attempt).unwrap_or_default();
            if let (Some(_), Some(object)) = (&order_id, value.as_object_mut()) {
                let body = attempt
                    .body
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                object.insert("body".to_owned(), json!(body));
            }
            value
        })
        .collect();
    json_value(StatusCode::OK, &json!({ "callbacks": listed }))
}

/// `POST /_sim/reset`.
pub(crate) async fn reset(State(state): State<SimulatorState>) -> Response {
    state.reset();
    tracing::info!("simulator state reset");
    json_value(StatusCode::OK, &json!({ "reset": true }))
}

type TxPath = Result<Path<(String, String)>, PathRejection>;

fn tx_path(path: TxPath) -> Result<(String, String), ApiError> {
    path.map(|Path(p)| p)
        .map_err(|_| ApiError::not_found("the path is not /_sim/.../{public_id}/{order_id}"))
}

/// `GET /_sim/transactions/{public_id}/{order_id}`.
pub(crate) async fn transaction(State(state): State<SimulatorState>, path: TxPath) -> Response {
    let (public_id, order_id) = match tx_path(path) {
        Ok(p) => p,
        Err(err) => return err.into_response(),
    };
    match state.transaction(&public_id, &order_id) {
        Some(tx) => json_value(StatusCode::OK, &transaction_json(&tx)),
        None => ApiError::not_found(format!(
            "no transaction {order_id:?} for public_id {public_id:?}"
        ))
        .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceOutcome {
    status: i64,
}

/// `POST /_sim/transactions/{public_id}/{order_id}/outcome` with
/// `{"status": N}`, N one of -1, 2, 3, 4, 5, 6.
pub(crate) async fn force_outcome(
    State(state): State<SimulatorState>,
    path: TxPath,
    body: Bytes,
) -> Response {
    let (public_id, order_id) = match tx_path(path) {
        Ok(p) => p,
        Err(err) => return err.into_response(),
    };
    let request: ForceOutcome = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(err) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                format!("expected {{\"status\": N}} (N one of -1, 2, 3, 4, 5, 6): {err}"),
            )
            .into_response()
        }
    };
    if !Outcome::can_force(request.status) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            format!(
                "status: {} cannot be forced (-1 undefined, 2 success, 3 failed, 4 cancelled, 5 cancelled partially, 6 success_hold can)",
                request.status
            ),
        )
        .into_response();
    }
    // Where writes wait for their commit without holding up a thread that
    // serves connections (see `SimulatorState::blocking`).
    let (public, order) = (public_id.clone(), order_id.clone());
    let forced = state
        .blocking(move |state| {
            finish(
                state,
                &public,
                &order,
                None,
                Some(Outcome::forced(request.status)),
                "outcome forced by the control API",
            )
        })
        .await;
    let forced = match forced {
        Ok(forced) => forced,
        Err(WorkError::Storage(err)) => return ApiError::storage(err).into_response(),
        Err(WorkError::Stopped) => {
            return ApiError::storage("the change stopped unexpectedly").into_response()
        }
    };
    match forced {
        Ok(tx) => json_value(StatusCode::OK, &transaction_json(&tx)),
        Err(FinishError::NotFound) => ApiError::not_found(format!(
            "no transaction {order_id:?} for public_id {public_id:?}"
        ))
        .into_response(),
        Err(FinishError::AlreadyFinal(status)) => ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            format!("transaction {order_id:?} is already final (status {status})"),
        )
        .into_response(),
        Err(FinishError::Storage(err)) => ApiError::storage(err).into_response(),
    }
}

fn html(status: StatusCode, title: &str, text: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{x}</p></body></html>\n",
        t = escape(title),
        x = escape(text)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// The customer opened the redirect page: the payment waits no more and
/// reaches its planned outcome.
fn confirm_redirect(state: &SimulatorState, public_id: &str, order_id: &str) {
    let mut store = state.store().lock_order(public_id, order_id);
    if let Some(tx) = store.get_mut(public_id, order_id) {
        tx.awaiting = Awaiting::Nothing;
        let status = tx.status;
        tx.history.push(StatusChange {
            status,
            at: now_timestamp(),
            note: "customer opened the redirect page".into(),
        });
        let snapshot = tx.clone();
        if let Err(err) = store.persist(&snapshot) {
            tracing::error!(error = %err, "cannot save the redirect");
        }
    }
    drop(store);
    let _ = finish(
        state,
        public_id,
        order_id,
        None,
        None,
        "customer confirmed on the redirect page",
    );
}

/// `GET /_sim/redirect/{public_id}/{order_id}`: the customer's page.
pub(crate) async fn redirect_page(State(state): State<SimulatorState>, path: TxPath) -> Response {
    let Ok((public_id, order_id)) = tx_path(path) else {
        return html(
            StatusCode::NOT_FOUND,
            "Unknown payment",
            "This link is not a payment page.",
        );
    };
    let awaiting = match state.transaction(&public_id, &order_id) {
        None => {
            return html(
                StatusCode::NOT_FOUND,
                "Unknown payment",
                &format!("No payment {order_id} here."),
            )
        }
        Some(tx) => tx.awaiting == Awaiting::Redirect,
    };
    if awaiting {
        let (public_id, order_id) = (public_id.clone(), order_id.clone());
        let confirmed = state
            .blocking(move |state| confirm_redirect(state, &public_id, &order_id))
            .await;
        if let Err(WorkError::Storage(err)) = confirmed {
            tracing::error!(error = %err, "cannot save the redirect");
        }
    }
    let status = state
        .transaction(&public_id, &order_id)
        .map_or(-1, |tx| tx.status);
    let word = match Status::from(status) {
        Status::Success => "succeeded",
        Status::Failed => "failed",
        Status::Cancelled => "was cancelled",
        _ => "is in progress",
    };
    html(
        StatusCode::OK,
        "Payment simulator",
        &format!("Payment {order_id} {word} (status {status})."),
    )
}
