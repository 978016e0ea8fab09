//! `payment_c2b`, `payment_b2c`, `status` and `banks`.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use paygate::gateway::rules::{Direction, Flow};
use paygate::gateway::validate::{check_payment, PaymentDraft, Rule, Violation};
use paygate::gateway::{
    Bank, BanksRequest, BanksResponse, OperationResult, PaymentB2cRequest, PaymentC2bRequest,
    Status, StatusRequest,
};
use paygate::money::Amount;
use paygate::signing::canonical_string;
use serde::Serialize;

use super::{json_response, ApiError};
use crate::simulator::clock::now_timestamp;
use crate::simulator::codes;
use crate::simulator::lifecycle;
use crate::simulator::operation::OperationKind;
use crate::simulator::outcome::{self, Outcome, WRONG_OTP};
use crate::simulator::state::{DailyKey, InsertRefused, StoreGuard};
use crate::simulator::transaction::{
    Awaiting, BankDetails, StatusChange, StoredReply, Transaction,
};
use crate::simulator::wire;
use crate::simulator::{MerchantEntry, SimulatorState};

/// The names of the fields of a value that are present and not empty.
pub(super) fn present_fields<T: Serialize>(value: &T) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

/// A C2B or B2C request, reduced to what the simulator needs.
pub(crate) struct PaymentIn {
    merchant_id: String,
    customer_id: String,
    order_id: String,
    amount: Amount,
    currency: String,
    country: Option<String>,
    callback_url: Option<String>,
    provider_id: i64,
    otp: Option<String>,
    extras: Vec<String>,
    signature: String,
    /// The canonical string without `extra.otp` (identifies a request and
    /// its confirmation as "the same payment").
    canonical: Vec<u8>,
}

/// Builds a [`PaymentIn`] from a `PaymentC2bRequest` or `PaymentB2cRequest`.
macro_rules! payment_in {
    ($request:expr) => {{
        let request = $request;
        let extras = request
            .extra
            .as_ref()
            .map(present_fields)
            .unwrap_or_default();
        let otp = request.extra.as_ref().and_then(|e| e.otp.clone());
        let mut stripped = request.clone();
        if let Some(extra) = stripped.extra.as_mut() {
            extra.otp = None;
        }
        if stripped
            .extra
            .as_ref()
            .is_some_and(|e| present_fields(e).is_empty())
        {
            stripped.extra = None;
        }
        let canonical = canonical_string(&stripped)
            .map_err(|e| ApiError::bad_request(format!("request: {e}")))?;
        PaymentIn {
            currency: request.currency.as_str().to_owned(),
            country: request.country.as_ref().map(|c| c.as_str().to_owned()),
            merchant_id: request.merchant_id,
            customer_id: request.customer_id,
            order_id: request.order_id,
            amount: request.amount,
            callback_url: request.callback_url,
            provider_id: request.provider_id,
            otp,
            extras,
            signature: request.signature,
            canonical,
        }
    }};
}

/// `payment_c2b`.
pub(super) fn payment_c2b(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: PaymentC2bRequest,
) -> Result<Response, ApiError> {
    let payment = payment_in!(request);
    payment_op(state, merchant, OperationKind::PaymentC2b, payment)
}

/// `payment_b2c`.
pub(super) fn payment_b2c(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: PaymentB2cRequest,
) -> Result<Response, ApiError> {
    let payment = payment_in!(request);
    payment_op(state, merchant, OperationKind::PaymentB2c, payment)
}

pub(super) fn is_four_digits(otp: &str) -> bool {
    otp.len() == 4 && otp.bytes().all(|b| b.is_ascii_digit())
}

/// The refusal a one-time password not made of 4 digits gets.
pub(super) fn otp_format_violation(otp: &str) -> String {
    format!("extra.otp: {otp:?} is not a 4-digit one-time password [otp_format]")
}

/// The provider rules (only what binds: the same checks as the client's
/// pre-flight), then the flow's own; returns the flow.
fn check_rules(
    state: &SimulatorState,
    direction: Direction,
    p: &PaymentIn,
) -> Result<Flow, ApiError> {
    let table = state.config().providers;
    let extras: Vec<&str> = p.extras.iter().map(String::as_str).collect();
    let draft = PaymentDraft {
        direction,
        provider_id: p.provider_id,
        country: p.country.as_deref(),
        currency: &p.currency,
        amount: p.amount,
        customer_id: &p.customer_id,
        order_id: &p.order_id,
        extras: &extras,
    };
    let found = check_payment(table, &draft);
    for warning in &found.warnings {
        tracing::debug!(order_id = %p.order_id, %warning, "accepted despite a doubtful rule");
    }
    let mut messages: Vec<String> = found.refusals.iter().map(ToString::to_string).collect();
    let flow = u32::try_from(p.provider_id)
        .ok()
        .and_then(|id| table.provider(id))
        .map_or(Flow::Standard, |provider| {
            provider.direction(direction).flow()
        });
    if let Some(otp) = &p.otp {
        if flow == Flow::Otp && !is_four_digits(otp) {
            messages.push(otp_format_violation(otp));
        }
    }
    if messages.is_empty() {
        Ok(flow)
    } else {
        Err(ApiError::rules(messages))
    }
}

/// A provider's binding daily maximum for `direction` (minor units), if
/// it has one: a payment may not take the customer's day past it (counted
/// per merchant, provider, direction, customer and UTC day: the loosest
/// reading). The check itself is made when the payment is stored
/// ([`StoreGuard::insert_within_daily`]), so two payments racing on
/// different orders cannot both pass.
fn daily_max(state: &SimulatorState, provider_id: i64, direction: Direction) -> Option<Amount> {
    let table = state.config().providers;
    u32::try_from(provider_id)
        .ok()
        .and_then(|id| table.provider(id))
        .and_then(|p| p.direction(direction).limits.daily_max)
}

/// The refusal of a payment past its daily maximum.
fn daily_refusal(
    key: &DailyKey,
    direction: Direction,
    amount: Amount,
    so_far: u64,
    daily_max: Amount,
) -> ApiError {
    let v = Violation {
        field: "amount".into(),
        rule: Rule::AmountAboveDailyMaximum,
        message: format!(
            "{amount} would take the customer's {} total of the day from {} past the maximum of {daily_max} per day for provider {}",
            direction.as_str(),
            Amount::from_minor(so_far),
            key.provider_id
        ),
        certainty: paygate::gateway::rules::Certainty::Documented,
        quotes: &[],
        reason: None,
    };
    ApiError::rules(vec![v.to_string()])
}

/// The daily maximum a new payment is stored under.
pub(super) struct DailyLimit {
    direction: Direction,
    max: Amount,
}

pub(super) fn otp_outcome(op: OperationKind, otp: Option<&str>, customer_id: &str) -> Outcome {
    if otp == Some(WRONG_OTP) {
        Outcome::invalid_otp()
    } else {
        outcome::for_customer(op, customer_id)
    }
}

/// A new transaction in status 0, before its flow sets it going (fails
/// only when a replica cannot reserve transaction ids).
pub(super) fn new_transaction(
    store: &mut StoreGuard<'_>,
    public_id: &str,
    op: OperationKind,
    order_id: &str,
) -> Result<Transaction, ApiError> {
    let (serial, transaction_id) = store.next_ids().map_err(ApiError::storage)?;
    Ok(Transaction {
        serial,
        public_id: public_id.to_owned(),
        order_id: order_id.to_owned(),
        operation: op,
        merchant_id: String::new(),
        customer_id: String::new(),
        amount: Amount::from_minor(0),
        provider_id: 0,
        destination_id: String::new(),
        callback_url: None,
        sends_callback: true,
        transaction_id,
        transaction_ref: String::new(),
        status: Status::Initiated.code(),
        provider_code: 0,
        provider_message: "OK".into(),
        confirm_type: 0,
        history: accepted_history(op),
        planned: None,
        awaiting: Awaiting::Nothing,
        redirect_url: None,
        customer_message: None,
        bank_details: None,
        // Room for the reply about to be stored (a first push would make
        // room for four: 192 bytes per payment never used).
        replies: Vec::with_capacity(1),
        durable_seq: 0,
        bulk_id: None,
        items: Vec::new(),
    })
}

/// A new transaction's history: accepted, with room for the outcome (a
/// push onto a history of one would make room for four).
fn accepted_history(op: OperationKind) -> Vec<StatusChange> {
    let mut history = Vec::with_capacity(2);
    history.push(StatusChange {
        status: Status::Initiated.code(),
        at: now_timestamp(),
        note: format!("{} accepted", op.as_str()),
    });
    history
}

/// The provider id of the Simulator provider.
const SIMULATOR_PROVIDER: i64 = 14;

/// The stored answer to a replayed request, or a 409 for another request
/// under a used order id (unless `confirms`: then `None`, go on).
pub(super) fn replay_or_conflict(
    tx: &Transaction,
    op: OperationKind,
    signature: &str,
    confirms: bool,
) -> Result<Option<Response>, ApiError> {
    if let Some(reply) = tx
        .replies
        .iter()
        .find(|r| r.operation == op && r.signature == signature)
    {
        tracing::debug!(order_id = %tx.order_id, "idempotent replay");
        return Ok(Some(json_response(StatusCode::OK, reply.body.clone())));
    }
    if confirms {
        Ok(None)
    } else {
        Err(ApiError::conflict(&tx.order_id))
    }
}

/// The second request of a confirmation round.
pub(super) struct Confirmation<'a> {
    /// The operation confirmed.
    pub(super) op: OperationKind,
    /// The confirming request's signature (its idempotency key).
    pub(super) signature: String,
    /// The OTP it carries.
    pub(super) otp: Option<&'a str>,
    /// The status the transaction moves to (1, or 7 for a withdrawal).
    pub(super) status: i64,
}

/// The second request of a confirmation round: the same request with
/// `extra.otp` sets the transaction going.
pub(super) fn confirm(
    state: &SimulatorState,
    store: &mut StoreGuard<'_>,
    public_id: &str,
    order_id: &str,
    c: Confirmation<'_>,
) -> Result<Response, ApiError> {
    let Confirmation {
        op,
        signature,
        otp,
        status,
    } = c;
    let Some(tx) = store.get_mut(public_id, order_id) else {
        return Err(ApiError::not_found(format!(
            "order_id {order_id:?} is unknown"
        )));
    };
    let before = tx.clone();
    tx.awaiting = Awaiting::Nothing;
    tx.confirm_type = 0;
    tx.customer_message = None;
    tx.planned = Some(otp_outcome(op, otp, &tx.customer_id));
    tx.set_status(status, "confirmed with extra.otp");
    let body = wire::to_body(&wire::payment_response(tx));
    tx.replies.push(StoredReply {
        operation: op,
        signature,
        body: body.clone(),
    });
    let serial = tx.serial;
    let snapshot = tx.clone();
    if let Err(err) = store.persist(&snapshot) {
        if let Some(tx) = store.get_mut(public_id, order_id) {
            *tx = before;
        }
        return Err(ApiError::storage(err));
    }
    tracing::debug!(public_id, order_id, operation = op.as_str(), "confirmed");
    lifecycle::schedule(state, public_id, order_id, serial);
    Ok(json_response(StatusCode::OK, body))
}

fn payment_op(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    op: OperationKind,
    p: PaymentIn,
) -> Result<Response, ApiError> {
    let direction = if op == OperationKind::PaymentC2b {
        Direction::C2b
    } else {
        Direction::B2c
    };
    let flow = check_rules(state, direction, &p)?;
    let public_id = merchant.merchant.public_id.as_str();
    let signature = p.signature.to_ascii_lowercase();
    let mut store = state.store().lock_order(public_id, &p.order_id);
    if let Some(tx) = store.get(public_id, &p.order_id) {
        let confirms = tx.operation == op
            && p.otp.is_some()
            && matches!(&tx.awaiting, Awaiting::Confirmation { canonical } if *canonical == p.canonical);
        if let Some(replayed) = replay_or_conflict(tx, op, &signature, confirms)? {
            return Ok(replayed);
        }
        let confirmation = Confirmation {
            op,
            signature,
            otp: p.otp.as_deref(),
            status: Status::InProgress.code(),
        };
        return confirm(state, &mut store, public_id, &p.order_id, confirmation);
    }

    let mut tx = new_transaction(&mut store, public_id, op, &p.order_id)?;
    tx.merchant_id = p.merchant_id;
    tx.customer_id = p.customer_id.clone();
    tx.amount = p.amount;
    tx.provider_id = p.provider_id;
    tx.callback_url = p
        .callback_url
        .or_else(|| merchant.merchant.callback_url.clone());
    let daily = daily_max(state, p.provider_id, direction).map(|max| DailyLimit { direction, max });
    let simulator = p.provider_id == SIMULATOR_PROVIDER;
    tx.sends_callback = !simulator;
    let mut run_timer = false;
    if simulator {
        tx.provider_code = -8888;
        tx.provider_message = "Good".into();
        tx.set_status(
            Status::InProgress.code(),
            "provider 14 (Simulator): stays in progress, no callback",
        );
    } else if outcome::asks_confirmation(op, &p.customer_id) && p.otp.is_none() {
        tx.confirm_type = 1;
        tx.awaiting = Awaiting::Confirmation {
            canonical: p.canonical,
        };
        tx.customer_message =
            Some("Send the same request again with extra.otp to confirm it".into());
    } else if flow == Flow::Otp && p.otp.is_none() {
        tx.awaiting = Awaiting::Otp;
        tx.customer_message = Some(
            "Send the customer's one-time password in a status request (customer_id and extra.otp)"
                .into(),
        );
        tx.set_status(Status::InProgress.code(), "waiting for the customer's OTP");
    } else {
        tx.planned = Some(otp_outcome(op, p.otp.as_deref(), &p.customer_id));
        match flow {
            Flow::Redirect | Flow::PaymentPage => {
                tx.awaiting = Awaiting::Redirect;
                tx.redirect_url = Some(format!(
                    "{}/_sim/redirect/{}/{}",
                    state.base_url(),
                    public_id,
                    p.order_id
                ));
            }
            Flow::BankTransfer => {
                tx.bank_details = Some(BankDetails {
                    account_name: "Paygate Simulator Ltd".into(),
                    account_number: format!("40{:08}", tx.serial % 100_000_000),
                    bank_name: "Premium Trust Bank".into(),
                });
                run_timer = true;
            }
            _ => run_timer = true,
        }
        tx.set_status(Status::InProgress.code(), "in progress");
    }
    let serial = tx.serial;
    let (order_id, body) = commit_accepted(&mut store, tx, op, signature, daily)?;
    drop(store);
    tracing::debug!(public_id, order_id = %order_id, operation = op.as_str(), provider_id = p.provider_id, "operation accepted");
    if run_timer {
        lifecycle::schedule(state, public_id, &order_id, serial);
    }
    Ok(json_response(StatusCode::OK, body))
}

/// Records the answer to an accepted operation as its idempotency record
/// and stores the transaction; with a database, the transaction, the record
/// and the answer are committed here, before the answer is sent. Returns
/// the order id and the answer's bytes.
pub(super) fn commit_accepted(
    store: &mut StoreGuard<'_>,
    mut tx: Transaction,
    operation: OperationKind,
    signature: String,
    daily: Option<DailyLimit>,
) -> Result<(String, Bytes), ApiError> {
    let body = wire::to_body(&wire::payment_response(&tx));
    tx.replies.push(StoredReply {
        operation,
        signature,
        body: body.clone(),
    });
    let order_id = tx.order_id.clone();
    let refusal = daily
        .as_ref()
        .map(|d| (DailyKey::of(&tx), d.direction, tx.amount, d.max));
    match store.insert_within_daily(tx, daily.map(|d| d.max.minor())) {
        Ok(()) => Ok((order_id, body)),
        Err(InsertRefused::Storage(err)) => Err(ApiError::storage(err)),
        Err(InsertRefused::DailyMaximum { so_far }) => match refusal {
            Some((key, direction, amount, max)) => {
                Err(daily_refusal(&key, direction, amount, so_far, max))
            }
            None => Err(ApiError::storage("daily maximum without a limit")),
        },
    }
}

/// `status`. A status request that carries `extra.otp` (and the
/// payment's `customer_id`) hands over the OTP an OTP payment waits for,
/// as seed 002's example shows.
pub(super) fn status(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: &StatusRequest,
) -> Result<Response, ApiError> {
    let public_id = merchant.merchant.public_id.as_str();
    let otp = request.extra.as_ref().and_then(|e| e.otp.as_deref());
    let mut store = state.store().lock_order(public_id, &request.order_id);
    let tx = store.get_mut(public_id, &request.order_id).ok_or_else(|| {
        ApiError::not_found(format!("order_id {:?} is unknown", request.order_id))
    })?;
    let mut started = None;
    if let (Some(otp), Awaiting::Otp) = (otp, &tx.awaiting) {
        if !is_four_digits(otp) {
            return Err(ApiError::rules(vec![otp_format_violation(otp)]));
        }
        if let Some(customer) = request.customer_id.as_deref() {
            if customer != tx.customer_id {
                return Err(ApiError::rules(vec![format!(
                    "customer_id: {customer:?} is not the customer of order {:?} [customer_mismatch]",
                    request.order_id
                )]));
            }
        }
        let before = tx.clone();
        tx.awaiting = Awaiting::Nothing;
        tx.customer_message = None;
        tx.planned = Some(otp_outcome(tx.operation, Some(otp), &tx.customer_id));
        tx.history.push(StatusChange {
            status: tx.status,
            at: now_timestamp(),
            note: "OTP received in a status request".into(),
        });
        let snapshot = tx.clone();
        if let Err(err) = store.persist(&snapshot) {
            if let Some(tx) = store.get_mut(public_id, &request.order_id) {
                *tx = before;
            }
            return Err(ApiError::storage(err));
        }
        started = Some(snapshot.serial);
    }
    let tx = store.get(public_id, &request.order_id).ok_or_else(|| {
        ApiError::not_found(format!("order_id {:?} is unknown", request.order_id))
    })?;
    let body = wire::to_body(&wire::payment_response(tx));
    drop(store);
    if let Some(serial) = started {
        lifecycle::schedule(state, public_id, &request.order_id, serial);
    }
    Ok(json_response(StatusCode::OK, body))
}

/// `banks`: a fixed list for any provider (the documentation gives none).
pub(super) fn banks(state: &SimulatorState, request: &BanksRequest) -> Result<Response, ApiError> {
    let known = u32::try_from(request.provider_id)
        .ok()
        .and_then(|id| state.config().providers.provider(id))
        .is_some();
    if !known {
        tracing::debug!(
            provider_id = request.provider_id,
            "banks of a provider the tables do not list"
        );
    }
    let bank = |code: &str, name: &str| Bank {
        code: code.into(),
        name: name.into(),
    };
    let response = BanksResponse {
        banks: vec![
            bank("000001", "Premium Trust Bank"),
            bank("000002", "Simulator Savings Bank"),
            bank("000003", "Loopback Commercial Bank"),
        ],
        result: OperationResult {
            code: codes::OK,
            message: "OK".into(),
        },
    };
    Ok(json_response(StatusCode::OK, wire::to_body(&response)))
}
