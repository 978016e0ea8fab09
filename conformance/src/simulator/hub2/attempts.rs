//! The lifecycle of payment attempts: a new attempt on an intent, its
//! `nextAction`, its end; the intent follows its current (latest) attempt.
//!
//! An intent keeps every attempt in `payments`, oldest first; the last one
//! is the current attempt. Webhook events, the OTP step, the redirection
//! page, the USSD completion and the control API's forced outcome act on
//! the current attempt only: a task scheduled for an earlier attempt finds
//! it is no longer current (or no longer pending) and does nothing.
//!
//! A new attempt is taken while the intent is `payment_required` or
//! `failed` ([`check_new_attempt`]); it is refused with 409 while the
//! current attempt is `pending` / `processing` / `action_required`, and
//! once the intent is `successful`.

use std::time::Duration;

use paygate::hub2::models::{
    BankTransferDetails, MobileMoneyDetails, NextAction, NextActionData, NextActionType, Payment,
    PaymentIntent, PaymentIntentStatus, PaymentMethod, PaymentStatus, Provider, WebhookEventType,
};

use axum::http::StatusCode;

use super::config::Hub2Environment;
use super::coverage::OTP_MESSAGE;
use super::error::Hub2ApiError;
use super::fees::net_amount;
use super::iso_now;
use super::persist::{self, Change};
use super::store::{Hub2Store, Plan};
use super::webhooks::emit;
use crate::simulator::SimulatorState;

/// What a payment attempt asks for, validated.
pub(crate) struct Attempt {
    pub(crate) method: PaymentMethod,
    pub(crate) country: paygate::hub2::models::Country,
    pub(crate) provider: Option<Provider>,
    pub(crate) mobile_money: Option<MobileMoneyDetails>,
}

/// Whether the payment in `status` is still running.
fn in_progress(status: &PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Pending | PaymentStatus::Processing | PaymentStatus::ActionRequired
    )
}

/// Whether `intent` takes a new payment attempt: yes while it is
/// `payment_required` (no attempt yet) or `failed` (the last attempt
/// failed); 409 while an attempt is in progress or once it is successful.
pub(crate) fn check_new_attempt(intent: &PaymentIntent) -> Result<(), Hub2ApiError> {
    if let Some(current) = intent.payments.iter().find(|p| in_progress(&p.status)) {
        return Err(Hub2ApiError::conflict(format!(
            "Payment intent {} is {}: its payment attempt {} is {}; wait for it to end before attempting another payment",
            intent.id, intent.status, current.id, current.status
        )));
    }
    match intent.status {
        PaymentIntentStatus::PaymentRequired | PaymentIntentStatus::Failed => Ok(()),
        _ => Err(Hub2ApiError::conflict(format!(
            "The payment intent is already {}",
            intent.status
        ))),
    }
}

/// Adds the attempt to the intent (see [`check_new_attempt`]) as its
/// current attempt and starts its lifecycle; the intent becomes
/// `processing`. Returns the intent after the change, once it is
/// committed.
pub(crate) async fn start_payment(
    state: &SimulatorState,
    intent_id: &str,
    attempt: Attempt,
    plan: Plan,
) -> Result<PaymentIntent, Hub2ApiError> {
    let ((intent, payment, merchant_id, env), commit) = {
        let mut store = state.hub2_store();
        store.serial += 1;
        let serial = store.serial;
        let record = store.intents.get_mut(intent_id).ok_or_else(|| {
            Hub2ApiError::not_found(format!("Payment intent {intent_id} not found"))
        })?;
        check_new_attempt(&record.intent)?;
        let fees = state
            .config()
            .hub2
            .fee_model(&record.intent.merchant_id)
            .fees(record.intent.amount, &record.intent.currency)
            .ok_or_else(|| {
                Hub2ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the simulator's HUB2 fee rate is above 10000 basis points",
                )
            })?;
        let now = iso_now();
        let bank = (attempt.method == PaymentMethod::BankTransfer).then(|| BankTransferDetails {
            bank_name: Some(format!("Simulated Bank {}", attempt.country)),
            account_holder_name: Some("HUB2".into()),
            account_number: Some(format!("{}0000000000000000000000", attempt.country)),
            iban: Some(format!(
                "{}93{}0000000000000000000000",
                attempt.country, attempt.country
            )),
            bic: Some("SIMBKXAB".into()),
            reference: format!("BT-{serial:06}"),
        });
        let payment = Payment {
            id: state.hub2_id("pay_"),
            intent_id: intent_id.to_owned(),
            created_at: now.clone(),
            updated_at: now.clone(),
            amount: record.intent.amount,
            currency: record.intent.currency.clone(),
            status: PaymentStatus::Pending,
            method: attempt.method,
            country: attempt.country,
            provider: attempt.provider,
            number: attempt.mobile_money.map(|m| m.msisdn),
            fees: Some(fees),
            next_action: None,
            bank_transfer_details: bank,
            mode: Some(record.env.mode()),
        };
        record.intent.payments.push(payment.clone());
        record.intent.status = PaymentIntentStatus::Processing;
        record.intent.updated_at = now;
        record.plan = Some(plan.clone());
        let started = (
            record.intent.clone(),
            payment,
            record.intent.merchant_id.clone(),
            record.env,
        );
        let commit = persist::record(state, &[Change::Intent(record), Change::Serial(serial)]);
        // A new attempt starts a new lifecycle: the reads of the intent
        // while it showed the previous attempt's end do not count against
        // the polling of this attempt's end.
        store.polls.forget_object(intent_id);
        (started, commit)
    };
    commit.done().await.map_err(Hub2ApiError::storage)?;
    emit(
        state,
        &merchant_id,
        env,
        WebhookEventType::PaymentCreated,
        super::webhooks::payment_data(&payment),
    );
    schedule(state, intent_id, &payment.id, plan);
    Ok(intent)
}

pub(crate) fn schedule(state: &SimulatorState, intent_id: &str, payment_id: &str, plan: Plan) {
    let state = state.clone();
    let intent_id = intent_id.to_owned();
    let payment_id = payment_id.to_owned();
    let latency = state.config().latency;
    let task_state = state.clone();
    task_state.spawn(async move {
        match plan {
            Plan::Stay => {}
            Plan::Succeed => {
                if state.sleep(latency).await {
                    let _ = finish_payment(
                        &state,
                        &intent_id,
                        Some(&payment_id),
                        true,
                        "latency elapsed",
                    );
                }
            }
            Plan::Fail(reason) => {
                if state.sleep(latency).await {
                    let _ = finish_payment(&state, &intent_id, Some(&payment_id), false, &reason);
                }
            }
            Plan::Otp | Plan::Redirection | Plan::Ussd => {
                if !state.sleep(latency / 2).await {
                    return;
                }
                let kind = match plan {
                    Plan::Otp => NextActionType::Otp,
                    Plan::Redirection => NextActionType::Redirection,
                    _ => NextActionType::Ussd,
                };
                let is_ussd = kind == NextActionType::Ussd;
                let dialing = dialing_time(latency);
                if act(&state, &intent_id, &payment_id, kind)
                    && is_ussd
                    && state.sleep(dialing).await
                {
                    let _ = finish_payment(
                        &state,
                        &intent_id,
                        Some(&payment_id),
                        true,
                        "USSD procedure completed",
                    );
                }
            }
        }
    });
}

/// The customer needs time to dial: USSD completes after 4x the latency,
/// at least 500 ms.
fn dialing_time(latency: Duration) -> Duration {
    (latency * 4).max(Duration::from_millis(500))
}

/// Completes a USSD payment waiting for the customer's dialing (one read
/// back from the database at start) after the dialing time.
pub(crate) fn resume_dialing(state: &SimulatorState, intent_id: &str, payment_id: &str) {
    let task_state = state.clone();
    let (intent_id, payment_id) = (intent_id.to_owned(), payment_id.to_owned());
    state.spawn(async move {
        if task_state
            .sleep(dialing_time(task_state.config().latency))
            .await
        {
            let _ = finish_payment(
                &task_state,
                &intent_id,
                Some(&payment_id),
                true,
                "USSD procedure completed",
            );
        }
    });
}

/// Moves the payment to `action_required` with a `nextAction` of `kind`.
fn act(state: &SimulatorState, intent_id: &str, payment_id: &str, kind: NextActionType) -> bool {
    let redirect = format!("{}/_sim/redirect/{intent_id}", state.hub2_base_url());
    let (intent, payment, merchant_id, env) = {
        let mut store = state.hub2_store();
        let Some(record) = store.intents.get_mut(intent_id) else {
            return false;
        };
        let now = iso_now();
        let Some(payment) = record.intent.payments.last_mut() else {
            return false;
        };
        if payment.id != payment_id || payment.status != PaymentStatus::Pending {
            return false;
        }
        payment.status = PaymentStatus::ActionRequired;
        payment.updated_at = now.clone();
        payment.next_action = Some(match kind {
            NextActionType::Otp => NextAction {
                r#type: NextActionType::Otp,
                message: OTP_MESSAGE.into(),
                data: None,
            },
            NextActionType::Redirection => NextAction {
                r#type: NextActionType::Redirection,
                message: "Mode Sandbox. Ouvrez la page de paiement pour valider le paiement.".into(),
                data: Some(NextActionData {
                    url: redirect,
                    method: Some("get".into()),
                }),
            },
            _ => NextAction {
                r#type: NextActionType::Ussd,
                message: "Mode Sandbox. Composez le #144*82# et suivez les instructions pour valider le paiement.".into(),
                data: None,
            },
        });
        let payment = payment.clone();
        record.intent.status = PaymentIntentStatus::ActionRequired;
        record.intent.updated_at = now;
        persist::record(state, &[Change::Intent(record)]).detach();
        (
            record.intent.clone(),
            payment,
            record.intent.merchant_id.clone(),
            record.env,
        )
    };
    emit(
        state,
        &merchant_id,
        env,
        WebhookEventType::PaymentActionRequired,
        super::webhooks::payment_data(&payment),
    );
    emit(
        state,
        &merchant_id,
        env,
        WebhookEventType::PaymentIntentActionRequired,
        super::webhooks::intent_data(&intent),
    );
    true
}

/// The collection balance of `merchant_id` in `currency` once `payment`
/// is credited (its amount less its fees), or `None` if that is negative
/// or does not fit in the balance: an overflow is refused, never wrapped.
fn credited_collection(
    store: &mut Hub2Store,
    (merchant_id, env, currency): (&str, Hub2Environment, &str),
    payment: &Payment,
) -> Option<i64> {
    let accounts = store.accounts(merchant_id, env, currency);
    net_amount(payment).and_then(|net| accounts.collection.checked_add(net))
}

/// Ends the intent's current payment attempt if it is in progress (and is
/// `payment_id`, if given): successful or failed; the intent follows. An
/// earlier attempt is never touched.
pub(crate) fn finish_payment(
    state: &SimulatorState,
    intent_id: &str,
    payment_id: Option<&str>,
    success: bool,
    note: &str,
) -> Result<PaymentIntent, Hub2ApiError> {
    let (intent, payment, merchant_id, env) = {
        let mut store = state.hub2_store();
        let record = store.intents.get_mut(intent_id).ok_or_else(|| {
            Hub2ApiError::not_found(format!("Payment intent {intent_id} not found"))
        })?;
        let now = iso_now();
        let (merchant_id, env) = (record.intent.merchant_id.clone(), record.env);
        let currency = record.intent.currency.as_str().to_owned();
        let current = record
            .intent
            .payments
            .last()
            .filter(|p| payment_id.is_none_or(|id| p.id == id))
            .filter(|p| in_progress(&p.status))
            .cloned()
            .ok_or_else(|| {
                Hub2ApiError::conflict(format!(
                    "payment intent {intent_id} has no payment in progress"
                ))
            })?;
        // A success whose credit would overflow the collection account
        // (or be negative) fails instead: the money has nowhere to go.
        let credited = success
            .then(|| credited_collection(&mut store, (&merchant_id, env, &currency), &current))
            .flatten();
        if success && credited.is_none() {
            tracing::error!(
                intent_id,
                payment_id = %current.id,
                amount = current.amount,
                "HUB2 payment failed: crediting it would overflow the collection account"
            );
        }
        let success = success && credited.is_some();
        let Some(record) = store.intents.get_mut(intent_id) else {
            return Err(Hub2ApiError::not_found(format!(
                "Payment intent {intent_id} not found"
            )));
        };
        let Some(payment) = record.intent.payments.last_mut() else {
            return Err(Hub2ApiError::conflict(format!(
                "payment intent {intent_id} has no payment in progress"
            )));
        };
        payment.status = if success {
            PaymentStatus::Successful
        } else {
            PaymentStatus::Failed
        };
        payment.next_action = None;
        payment.updated_at = now.clone();
        let payment = payment.clone();
        record.intent.status = if success {
            PaymentIntentStatus::Successful
        } else {
            PaymentIntentStatus::Failed
        };
        record.intent.updated_at = now;
        record.plan = None;
        let intent = record.intent.clone();
        let credited = credited.map(|balance| {
            let accounts = store.accounts(&merchant_id, env, &currency);
            accounts.collection = balance;
            *accounts
        });
        let mut changes = Vec::new();
        if let Some(accounts) = credited {
            changes.push(Change::Balance {
                merchant_id: &merchant_id,
                env,
                currency: &currency,
                accounts,
            });
        }
        if let Some(record) = store.intents.get(intent_id) {
            changes.push(Change::Intent(record));
        }
        // Queued, not waited for (a timer, or the control API): see
        // `persist` for what a crash before the commit leaves.
        persist::record(state, &changes).detach();
        (intent, payment, merchant_id, env)
    };
    tracing::debug!(intent_id, success, note, "HUB2 payment final");
    let (payment_event, intent_event) = if success {
        (
            WebhookEventType::PaymentSucceeded,
            WebhookEventType::PaymentIntentSucceeded,
        )
    } else {
        (
            WebhookEventType::PaymentFailed,
            WebhookEventType::PaymentIntentFailed,
        )
    };
    emit(
        state,
        &merchant_id,
        env,
        payment_event,
        super::webhooks::payment_data(&payment),
    );
    emit(
        state,
        &merchant_id,
        env,
        intent_event,
        super::webhooks::intent_data(&intent),
    );
    Ok(intent)
}
