//! The HUB2 control API under `/hub2/_sim/`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paygate::hub2::models::{
    NextActionType, PaymentIntent, PaymentIntentStatus, PaymentStatus, Transfer,
};
use serde::Deserialize;
use serde_json::json;

use super::api::finish_transfer;
use super::attempts::finish_payment;
use super::config::Hub2Environment;
use super::coverage::{processing_only_pairs, serves_processing_only};
use super::error::Hub2ApiError;
use super::iso_now;
use super::persist::{self, Change};
use super::store::ProviderCredentials;
use crate::simulator::SimulatorState;
use paygate::hub2::providers::Service;

async fn read_value<T: serde::de::DeserializeOwned>(
    state: &SimulatorState,
    body: Body,
) -> Result<T, Hub2ApiError> {
    let bytes = axum::body::to_bytes(body, state.config().max_body_bytes)
        .await
        .map_err(|_| Hub2ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| Hub2ApiError::bad_request(format!("{}: {}", e.path(), e.inner())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterCredentials {
    provider: String,
    country: String,
    #[serde(rename = "transactionType")]
    transaction_type: String,
    credentials: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "merchantId", default)]
    merchant_id: Option<String>,
    #[serde(default)]
    environment: Option<Hub2Environment>,
}

/// `POST /hub2/_sim/provider-credentials`: validate, then register.
pub(crate) async fn register_credentials(
    State(state): State<SimulatorState>,
    body: Body,
) -> Result<(StatusCode, Json<serde_json::Value>), Hub2ApiError> {
    let request: RegisterCredentials = read_value(&state, body).await?;
    let merchants = &state.config().hub2.merchants;
    let merchant_id = match &request.merchant_id {
        Some(id) => merchants
            .iter()
            .find(|m| &m.merchant_id == id)
            .map(|m| m.merchant_id.clone())
            .ok_or_else(|| Hub2ApiError::not_found(format!("unknown HUB2 merchant {id:?}")))?,
        None => merchants
            .first()
            .map(|m| m.merchant_id.clone())
            .ok_or_else(|| Hub2ApiError::not_found("the simulator has no HUB2 merchant"))?,
    };
    if !matches!(request.transaction_type.as_str(), "payment" | "transfer") {
        return Err(Hub2ApiError::invalid(
            "transactionType",
            format!(
                "transactionType must be payment or transfer, not {:?}",
                request.transaction_type
            ),
        ));
    }
    let provider = request.provider.to_ascii_lowercase();
    let country = request.country.to_ascii_uppercase();
    let service = if request.transaction_type == "payment" {
        Service::Payment
    } else {
        Service::Transfer
    };
    if !serves_processing_only(&country, &provider, service) {
        return Err(Hub2ApiError::bad_request(format!(
            "provider {provider} in {country} is not supported in Processing Only mode (supported: {})",
            processing_only_pairs()
        ))
        .with_code("provider-not-supported"));
    }
    // Step 1: the provider's authentication-token endpoint.
    let api_key = request
        .credentials
        .get("apiKey")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    if api_key.trim().is_empty() {
        return Err(Hub2ApiError::bad_request(format!(
                "credentials validation failed: the {provider} {country} authentication token call needs credentials.apiKey, which is missing or empty"
            ))
            .with_code("credentials-validation-failed"));
    }
    if api_key == "invalid" {
        return Err(Hub2ApiError::bad_request(format!(
                "credentials validation failed: the {provider} {country} authentication token call answered 401 Unauthorized; recheck credentials.apiKey"
            ))
            .with_code("credentials-validation-failed"));
    }
    // Step 2: the provider's GET /balance.
    if api_key == "no-balance-access" {
        return Err(Hub2ApiError::bad_request(format!(
                "credentials validation failed: GET /balance on {provider} {country} answered 403 Forbidden; the account lacks the balance permission"
            ))
            .with_code("credentials-validation-failed"));
    }
    let environment = request.environment.unwrap_or(Hub2Environment::Sandbox);
    let registered = ProviderCredentials {
        merchant_id,
        environment,
        provider,
        country,
        transaction_type: request.transaction_type,
        registered_at: iso_now(),
    };
    {
        let mut store = state.hub2_store();
        store.credentials.retain(|c| {
            !(c.merchant_id == registered.merchant_id
                && c.environment == registered.environment
                && c.provider == registered.provider
                && c.country == registered.country
                && c.transaction_type == registered.transaction_type)
        });
        store.credentials.push(registered.clone());
        persist::record(&state, &[Change::Credentials(&registered)])
    }
    .done()
    .await
    .map_err(Hub2ApiError::storage)?;
    let mut answer = serde_json::to_value(&registered).unwrap_or_default();
    if let Some(map) = answer.as_object_mut() {
        map.insert(
            "validated".into(),
            json!(["authentication token", "GET /balance"]),
        );
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `GET /hub2/_sim/provider-credentials`.
pub(crate) async fn list_credentials(
    State(state): State<SimulatorState>,
) -> Json<serde_json::Value> {
    let list = state.hub2_store().credentials.clone();
    Json(json!({ "credentials": list }))
}

/// `POST /hub2/_sim/webhooks/{id}/rotate`.
pub(crate) async fn rotate_secret(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Hub2ApiError> {
    let secret = state.hub2_secret();
    let commit = {
        let mut store = state.hub2_store();
        let Some(webhook) = store.webhooks.get_mut(&id) else {
            return Err(Hub2ApiError::not_found(format!("Webhook {id} not found")));
        };
        let old = std::mem::replace(&mut webhook.secret, secret.clone());
        webhook.previous = Some((old, crate::simulator::clock::now_ms()));
        webhook.webhook.updated_at = Some(iso_now());
        persist::record(&state, &[Change::Webhook(webhook)])
    };
    commit.done().await.map_err(Hub2ApiError::storage)?;
    Ok(Json(json!({
        "id": id,
        "secret": secret,
        "previousSecretValidForSeconds": super::store::PREVIOUS_SECRET_VALIDITY.as_secs(),
    })))
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_owned())
    })
}

/// `GET /hub2/_sim/webhook-deliveries[?object_id=X][&webhook_id=Y]`.
pub(crate) async fn deliveries(
    State(state): State<SimulatorState>,
    uri: Uri,
) -> Json<serde_json::Value> {
    let query = uri.query().unwrap_or("");
    let object_id = query_param(query, "object_id");
    let webhook_id = query_param(query, "webhook_id");
    let list: Vec<_> = state
        .hub2_store()
        .deliveries
        .iter()
        .filter(|d| object_id.as_ref().is_none_or(|o| &d.object_id == o))
        .filter(|d| webhook_id.as_ref().is_none_or(|w| &d.webhook_id == w))
        .cloned()
        .collect();
    Json(json!({ "deliveries": list }))
}

/// `GET /hub2/_sim/fees`: the fee rate of each merchant (see [`super::fees`]).
pub(crate) async fn fees(State(state): State<SimulatorState>) -> Json<serde_json::Value> {
    let config = &state.config().hub2;
    let list: Vec<_> = config
        .merchants
        .iter()
        .map(|m| {
            json!({
                "merchantId": m.merchant_id,
                "rateBps": config.fee_model(&m.merchant_id).rate_bps,
            })
        })
        .collect();
    Json(json!({ "fees": list, "rounding": "nearest unit, halves up" }))
}

fn html(status: StatusCode, text: &str) -> Response {
    let text = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>HUB2 simulator</title></head><body><h1>HUB2 simulator</h1><p>{text}</p></body></html>\n"
        ),
    )
        .into_response()
}

/// `GET /hub2/_sim/redirect/{intent id}`: the customer's page.
pub(crate) async fn redirect_page(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
) -> Response {
    let waiting = {
        let store = state.hub2_store();
        match store.intents.get(&id) {
            None => return html(StatusCode::NOT_FOUND, &format!("No payment intent {id}.")),
            Some(record) => {
                record.intent.status == PaymentIntentStatus::ActionRequired
                    && record.intent.payments.last().is_some_and(|p| {
                        p.next_action
                            .as_ref()
                            .is_some_and(|a| a.r#type == NextActionType::Redirection)
                    })
            }
        }
    };
    if waiting {
        let _ = finish_payment(
            &state,
            &id,
            None,
            true,
            "customer confirmed on the redirection page",
        );
    }
    let status = state
        .hub2_store()
        .intents
        .get(&id)
        .map(|r| r.intent.status.to_string())
        .unwrap_or_default();
    html(StatusCode::OK, &format!("Payment intent {id} is {status}."))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceOutcome {
    status: String,
}

/// Whether the forced outcome `status` (`successful` or `failed`, the
/// final statuses of a payment and of a transfer) is a success.
fn outcome_success(status: &str) -> Result<bool, Hub2ApiError> {
    match PaymentStatus::from(status) {
        PaymentStatus::Successful => Ok(true),
        PaymentStatus::Failed => Ok(false),
        _ => Err(Hub2ApiError::invalid(
            "status",
            format!("status must be successful or failed, not {status:?}"),
        )),
    }
}

/// `POST /hub2/_sim/payment-intents/{id}/outcome`.
pub(crate) async fn force_intent(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<PaymentIntent>, Hub2ApiError> {
    let request: ForceOutcome = read_value(&state, body).await?;
    let success = outcome_success(&request.status)?;
    let intent = finish_payment(
        &state,
        &id,
        None,
        success,
        "outcome forced by the control API",
    )?;
    Ok(Json(intent))
}

/// `POST /hub2/_sim/transfers/{id}/outcome`.
pub(crate) async fn force_transfer(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Transfer>, Hub2ApiError> {
    let request: ForceOutcome = read_value(&state, body).await?;
    let success = outcome_success(&request.status)?;
    let transfer = finish_transfer(&state, &id, success)?;
    Ok(Json(transfer))
}

/// `POST /hub2/_sim/reset`.
pub(crate) async fn reset(State(state): State<SimulatorState>) -> Json<serde_json::Value> {
    let config = state.config().hub2.clone();
    let commit =
        {
            let mut store = state.hub2_store();
            store.reset(&config);
            let mut changes = vec![Change::Reset];
            changes.extend(store.balances.iter().map(
                |((merchant_id, env, currency), accounts)| Change::Balance {
                    merchant_id,
                    env: *env,
                    currency,
                    accounts: *accounts,
                },
            ));
            persist::record(&state, &changes)
        };
    if let Err(err) = commit.done().await {
        tracing::error!(error = %err, "the HUB2 reset could not be saved");
    }
    Json(json!({ "reset": true }))
}
