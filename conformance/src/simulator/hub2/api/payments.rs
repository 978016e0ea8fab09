//! Payments: a payment attempt on an intent and its OTP step (the
//! device-side routes, authenticated by the intent's token), and
//! `POST /delegated/payments` (an intent and its first attempt at once, in
//! Processing Only mode). The attempt's lifecycle is in
//! [`attempts`](crate::simulator::hub2::attempts).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use paygate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, CreateDelegatedPaymentRequest,
    NextActionType, PaymentIntent, PaymentIntentStatus, PaymentStatus,
};

use super::auth::{DelegatedPayment, Permitted};
use super::input::{check_amount, check_currency, check_reference, is_otp, Hub2Json};
use super::intents::{insert_intent, new_intent};
use super::rules::{processing_only_attempt, validate_attempt};
use super::token::IntentToken;
use crate::simulator::hub2::attempts::{schedule, start_payment, Attempt};
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::iso_now;
use crate::simulator::hub2::store::Plan;
use crate::simulator::SimulatorState;

/// `POST /payment-intents/{id}/payments` (token in the body, no key).
pub(super) async fn attempt_payment(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    IntentToken(request): IntentToken<AttemptPaymentRequest>,
) -> Result<(StatusCode, Json<PaymentIntent>), Hub2ApiError> {
    let (currency, delegated, merchant_id, env) = {
        let store = state.hub2_store();
        let record = store
            .intents
            .get(&id)
            .ok_or_else(|| Hub2ApiError::not_found(format!("Payment intent {id} not found")))?;
        (
            record.intent.currency.as_str().to_owned(),
            record.delegated,
            record.intent.merchant_id.clone(),
            record.env,
        )
    };
    let attempt = Attempt {
        method: request.payment_method,
        country: request.country,
        provider: request.provider,
        mobile_money: request.mobile_money,
    };
    // A new attempt on a Processing Only intent stays in that mode.
    let plan = if delegated {
        processing_only_attempt(&state, (&merchant_id, env), &attempt, &currency)?
    } else {
        validate_attempt(&attempt, &currency)?
    };
    let intent = start_payment(&state, &id, attempt, plan).await?;
    Ok((StatusCode::CREATED, Json(intent)))
}

/// `POST /payment-intents/{id}/authentication` (token in the body): the
/// OTP of the current attempt; `0000` fails it.
pub(super) async fn authenticate_payment(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    IntentToken(request): IntentToken<AuthenticatePaymentRequest>,
) -> Result<(StatusCode, Json<PaymentIntent>), Hub2ApiError> {
    if !is_otp(&request.confirmation_code) {
        return Err(Hub2ApiError::invalid(
            "confirmationCode",
            format!(
                "confirmationCode must be 4 digits, not {:?}",
                request.confirmation_code
            ),
        ));
    }
    let success = request.confirmation_code != "0000";
    let (intent, payment_id) = {
        let mut store = state.hub2_store();
        let record = store
            .intents
            .get_mut(&id)
            .ok_or_else(|| Hub2ApiError::not_found(format!("Payment intent {id} not found")))?;
        let waiting = record.intent.status == PaymentIntentStatus::ActionRequired
            && record.intent.payments.last().is_some_and(|p| {
                p.next_action
                    .as_ref()
                    .is_some_and(|a| a.r#type == NextActionType::Otp)
            });
        if !waiting {
            return Err(Hub2ApiError::conflict(format!(
                "payment intent {id} is {} and waits for no OTP",
                record.intent.status
            )));
        }
        let now = iso_now();
        let mut payment_id = String::new();
        if let Some(payment) = record.intent.payments.last_mut() {
            payment.status = PaymentStatus::Processing;
            payment.next_action = None;
            payment.updated_at = now.clone();
            payment_id = payment.id.clone();
        }
        record.intent.status = PaymentIntentStatus::Processing;
        record.intent.updated_at = now;
        (record.intent.clone(), payment_id)
    };
    let plan = if success {
        Plan::Succeed
    } else {
        Plan::Fail("invalid OTP".into())
    };
    schedule(&state, &id, &payment_id, plan);
    Ok((StatusCode::CREATED, Json(intent)))
}

/// `POST /delegated/payments`: needs `Api.delegated_payment_create`.
pub(super) async fn delegated_payment(
    State(state): State<SimulatorState>,
    Permitted { caller, .. }: Permitted<DelegatedPayment>,
    Hub2Json(request): Hub2Json<CreateDelegatedPaymentRequest>,
) -> Result<(StatusCode, Json<PaymentIntent>), Hub2ApiError> {
    check_reference("customerReference", &request.customer_reference)?;
    check_reference("purchaseReference", &request.purchase_reference)?;
    check_amount(request.amount)?;
    check_currency(&request.currency)?;
    let currency = request.currency.as_str().to_owned();
    let attempt = Attempt {
        method: request.payment_method,
        country: request.country,
        provider: Some(request.provider),
        mobile_money: request.mobile_money,
    };
    let plan = processing_only_attempt(
        &state,
        (&caller.merchant_id, caller.env),
        &attempt,
        &currency,
    )?;
    let intent = new_intent(
        &state,
        &caller,
        request.customer_reference,
        request.purchase_reference,
        request.amount,
        request.currency,
    )?;
    let id = intent.id.clone();
    insert_intent(&state, &caller, intent, true).await?;
    let intent = start_payment(&state, &id, attempt, plan).await?;
    Ok((StatusCode::CREATED, Json(intent)))
}
