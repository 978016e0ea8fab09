//! Payment intents: `POST /payment-intents`, and reading one
//! (`GET /payment-intents/{id}[/status]`) under the polling throttle.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use paygate::hub2::models::{
    CreatePaymentIntentRequest, Currency, PaymentIntent, PaymentIntentStatus,
    PaymentIntentStatusResponse, WebhookEventType,
};

use super::auth::Caller;
use super::input::{check_amount, check_currency, check_reference, Hub2Json};
use super::limit::{throttle_poll, ClientIp};
use super::token::make_token;
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::iso_now;
use crate::simulator::hub2::persist::{self, Change};
use crate::simulator::hub2::store::IntentRecord;
use crate::simulator::hub2::webhooks::{emit, intent_data};
use crate::simulator::SimulatorState;

/// `POST /payment-intents`.
pub(super) async fn create_intent(
    State(state): State<SimulatorState>,
    caller: Caller,
    Hub2Json(request): Hub2Json<CreatePaymentIntentRequest>,
) -> Result<(StatusCode, Json<PaymentIntent>), Hub2ApiError> {
    check_reference("customerReference", &request.customer_reference)?;
    check_reference("purchaseReference", &request.purchase_reference)?;
    check_amount(request.amount)?;
    check_currency(&request.currency)?;
    let intent = new_intent(
        &state,
        &caller,
        request.customer_reference,
        request.purchase_reference,
        request.amount,
        request.currency,
    )?;
    insert_intent(&state, &caller, intent.clone(), false).await?;
    Ok((StatusCode::CREATED, Json(intent)))
}

/// A new intent of the caller, `payment_required`, with its token.
pub(super) fn new_intent(
    state: &SimulatorState,
    caller: &Caller,
    customer_reference: String,
    purchase_reference: String,
    amount: i64,
    currency: Currency,
) -> Result<PaymentIntent, Hub2ApiError> {
    let id = state.hub2_id("pi_");
    let now = iso_now();
    Ok(PaymentIntent {
        token: make_token(state, &id, &caller.merchant_id, caller.env)?,
        id,
        created_at: now.clone(),
        updated_at: now,
        merchant_id: caller.merchant_id.clone(),
        purchase_reference,
        customer_reference,
        amount,
        currency,
        status: PaymentIntentStatus::PaymentRequired,
        payments: Vec::new(),
        mode: caller.mode(),
    })
}

/// Stores the intent (`delegated`: made by `/delegated/payments`) and
/// sends `payment_intent.created` once it is committed.
pub(super) async fn insert_intent(
    state: &SimulatorState,
    caller: &Caller,
    intent: PaymentIntent,
    delegated: bool,
) -> Result<(), Hub2ApiError> {
    let record = IntentRecord {
        intent: intent.clone(),
        env: caller.env,
        delegated,
        plan: None,
    };
    let commit = {
        let mut store = state.hub2_store();
        let commit = persist::record(state, &[Change::Intent(&record)]);
        store.intents.insert(intent.id.clone(), record);
        commit
    };
    commit.done().await.map_err(Hub2ApiError::storage)?;
    emit(
        state,
        &caller.merchant_id,
        caller.env,
        WebhookEventType::PaymentIntentCreated,
        intent_data(&intent),
    );
    Ok(())
}

/// Looks up an intent of the caller and applies the polling throttle.
fn read_intent(
    state: &SimulatorState,
    caller: &Caller,
    ip: &ClientIp,
    id: &str,
) -> Result<PaymentIntent, Hub2ApiError> {
    let limit = state.config().hub2.poll_limit;
    let mut store = state.hub2_store();
    let intent = store
        .intents
        .get(id)
        .filter(|r| r.intent.merchant_id == caller.merchant_id && r.env == caller.env)
        .map(|r| r.intent.clone())
        .ok_or_else(|| Hub2ApiError::not_found(format!("Payment intent {id} not found")))?;
    if !matches!(
        intent.status,
        PaymentIntentStatus::Processing | PaymentIntentStatus::ActionRequired
    ) {
        throttle_poll(&mut store.polls, limit, ip, id, || {
            format!(
                "ThrottlerException: Too Many Requests (payment intent {id} is {}; poll only while it is processing or action_required, or use webhooks)",
                intent.status
            )
        })?;
    }
    Ok(intent)
}

/// `GET /payment-intents/{id}`.
pub(super) async fn get_intent(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    caller: Caller,
) -> Result<Json<PaymentIntent>, Hub2ApiError> {
    read_intent(&state, &caller, &ip, &id).map(Json)
}

/// `GET /payment-intents/{id}/status`.
pub(super) async fn get_intent_status(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    caller: Caller,
) -> Result<Json<PaymentIntentStatusResponse>, Hub2ApiError> {
    let intent = read_intent(&state, &caller, &ip, &id)?;
    Ok(Json(PaymentIntentStatusResponse {
        id: intent.id,
        status: intent.status,
    }))
}
