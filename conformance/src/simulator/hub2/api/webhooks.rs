//! Webhook registration: `POST /webhooks` (answers the secret once),
//! `GET /webhooks`, `DELETE /webhooks/{id}`. Delivering events is
//! [`hub2::webhooks`](crate::simulator::hub2::webhooks).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use paygate::hub2::models::{CreateWebhookRequest, Webhook, WebhookEventType};

use super::auth::Caller;
use super::input::Hub2Json;
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::iso_now;
use crate::simulator::hub2::persist::{self, Change};
use crate::simulator::hub2::store::WebhookRecord;
use crate::simulator::SimulatorState;

/// `POST /webhooks`: the merchant's configured `webhook_secret`, or a
/// random one.
pub(super) async fn create_webhook(
    State(state): State<SimulatorState>,
    caller: Caller,
    Hub2Json(request): Hub2Json<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<Webhook>), Hub2ApiError> {
    if !(request.url.starts_with("http://") || request.url.starts_with("https://"))
        || request.url.len() < 10
    {
        return Err(Hub2ApiError::invalid(
            "url",
            format!("url must be an http(s) URL, not {:?}", request.url),
        ));
    }
    if let Err(why) = state.check_not_self(&request.url) {
        return Err(Hub2ApiError::invalid(
            "url",
            format!("url {:?} {why}", request.url),
        ));
    }
    if request.events.is_empty() {
        return Err(Hub2ApiError::invalid("events", "events must not be empty"));
    }
    if let Some(unknown) = request
        .events
        .iter()
        .find(|e| matches!(e, WebhookEventType::Unknown(_)))
    {
        return Err(Hub2ApiError::invalid(
            "events",
            format!("unknown event type {unknown}"),
        ));
    }
    let secret = state
        .config()
        .hub2
        .merchants
        .iter()
        .find(|m| m.merchant_id == caller.merchant_id)
        .and_then(|m| m.webhook_secret.clone())
        .unwrap_or_else(|| state.hub2_secret());
    let now = iso_now();
    let webhook = Webhook {
        id: state.hub2_id("wh_"),
        url: request.url,
        events: request.events,
        description: request.description,
        secret: None,
        created_at: Some(now.clone()),
        updated_at: Some(now),
    };
    let record = WebhookRecord {
        webhook: webhook.clone(),
        merchant_id: caller.merchant_id.clone(),
        env: caller.env,
        secret: secret.clone(),
        previous: None,
    };
    let commit = {
        let mut store = state.hub2_store();
        let commit = persist::record(&state, &[Change::Webhook(&record)]);
        store.webhooks.insert(webhook.id.clone(), record);
        commit
    };
    commit.done().await.map_err(Hub2ApiError::storage)?;
    Ok((
        StatusCode::CREATED,
        Json(Webhook {
            secret: Some(secret),
            ..webhook
        }),
    ))
}

/// `GET /webhooks`: the caller's, oldest first.
pub(super) async fn list_webhooks(
    State(state): State<SimulatorState>,
    caller: Caller,
) -> Json<Vec<Webhook>> {
    let mut list: Vec<Webhook> = state
        .hub2_store()
        .webhooks
        .values()
        .filter(|w| w.merchant_id == caller.merchant_id && w.env == caller.env)
        .map(|w| w.webhook.clone())
        .collect();
    list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Json(list)
}

/// `DELETE /webhooks/{id}`: 204, or 404 if the caller has no such webhook.
pub(super) async fn delete_webhook(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    caller: Caller,
) -> Result<StatusCode, Hub2ApiError> {
    let commit = {
        let mut store = state.hub2_store();
        let owned = store
            .webhooks
            .get(&id)
            .is_some_and(|w| w.merchant_id == caller.merchant_id && w.env == caller.env);
        if !owned {
            return Err(Hub2ApiError::not_found(format!("Webhook {id} not found")));
        }
        store.webhooks.remove(&id);
        persist::record(&state, &[Change::WebhookDeleted(&id)])
    };
    commit.done().await.map_err(Hub2ApiError::storage)?;
    Ok(StatusCode::NO_CONTENT)
}
