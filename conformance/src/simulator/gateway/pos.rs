//! POS `deposit` and `withdrawal`.
//!
//! Seed 003: a withdrawal "requires pre-authorization on the merchant
//! system": an OTP to the customer, or "pre-allocation of money ... by
//! calling the payment_c2b operation from the customer's space", the amount
//! held "until the method withdrawal is called". The simulator holds a
//! `payment_c2b` in status 6 (success_hold) for customers ending in `006`;
//! a withdrawal for the same customer consumes the oldest hold that covers
//! its amount (the hold then becomes 2, with its callback). A withdrawal
//! without a hold goes on: the pre-authorisation may be an OTP the gateway
//! never sees. Customers ending in `007` get a confirmation round (status 0,
//! `confirm_type` 1; the same withdrawal again with `extra.otp`).

use axum::http::StatusCode;
use axum::response::Response;
use paygate::gateway::validate::check_order_id;
use paygate::gateway::{DepositRequest, Status, WithdrawalRequest};
use paygate::money::Amount;
use paygate::signing::canonical_string;

use super::payments::{
    commit_accepted, confirm, is_four_digits, new_transaction, otp_format_violation,
    replay_or_conflict, Confirmation,
};
use super::{json_response, ApiError};
use crate::simulator::lifecycle;
use crate::simulator::operation::OperationKind;
use crate::simulator::outcome::{self, Outcome};
use crate::simulator::transaction::Awaiting;
use crate::simulator::{MerchantEntry, SimulatorState};

/// A POS deposit or withdrawal, reduced to what the simulator needs.
struct PosIn {
    merchant_id: String,
    customer_id: String,
    order_id: String,
    amount: Amount,
    provider_id: i64,
    destination_id: String,
    callback_url: Option<String>,
    signature: String,
    otp: Option<String>,
    /// The request's canonical string without `extra.otp`.
    canonical: Vec<u8>,
}

/// `deposit`.
pub(super) fn deposit(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: DepositRequest,
) -> Result<Response, ApiError> {
    let canonical =
        canonical_string(&request).map_err(|e| ApiError::bad_request(format!("request: {e}")))?;
    let pos = PosIn {
        customer_id: request.customer_id,
        order_id: request.order_id,
        amount: request.amount,
        provider_id: 0,
        destination_id: request.destination_id.unwrap_or_default(),
        callback_url: merchant.merchant.callback_url.clone(),
        signature: request.signature,
        merchant_id: request.merchant_id,
        otp: None,
        canonical,
    };
    pos_op(state, merchant, OperationKind::Deposit, pos)
}

/// `withdrawal`.
pub(super) fn withdrawal(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: WithdrawalRequest,
) -> Result<Response, ApiError> {
    let otp = request.extra.as_ref().and_then(|e| e.otp.clone());
    let mut stripped = request.clone();
    if let Some(extra) = stripped.extra.as_mut() {
        extra.otp = None;
    }
    if stripped
        .extra
        .as_ref()
        .is_some_and(|e| super::payments::present_fields(e).is_empty())
    {
        stripped.extra = None;
    }
    let canonical =
        canonical_string(&stripped).map_err(|e| ApiError::bad_request(format!("request: {e}")))?;
    let pos = PosIn {
        customer_id: request.customer_id,
        order_id: request.order_id,
        amount: request.amount,
        provider_id: request.provider_id.unwrap_or(0),
        destination_id: String::new(),
        callback_url: request
            .callback_url
            .or_else(|| merchant.merchant.callback_url.clone()),
        signature: request.signature,
        merchant_id: request.merchant_id,
        otp,
        canonical,
    };
    pos_op(state, merchant, OperationKind::Withdrawal, pos)
}

fn pos_op(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    op: OperationKind,
    p: PosIn,
) -> Result<Response, ApiError> {
    check_order_id(&p.order_id).map_err(|v| ApiError::rules(vec![v.to_string()]))?;
    if let Some(otp) = p.otp.as_deref().filter(|otp| !is_four_digits(otp)) {
        return Err(ApiError::rules(vec![otp_format_violation(otp)]));
    }
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
            status: if op == OperationKind::Withdrawal {
                7
            } else {
                1
            },
        };
        let answer = confirm(state, &mut store, public_id, &p.order_id, confirmation)?;
        drop(store);
        if op == OperationKind::Withdrawal {
            consume_hold(state, public_id, &p.customer_id, p.amount, &p.order_id);
        }
        return Ok(answer);
    }
    let mut tx = new_transaction(&mut store, public_id, op, &p.order_id)?;
    tx.merchant_id = p.merchant_id;
    tx.customer_id = p.customer_id.clone();
    tx.amount = p.amount;
    tx.provider_id = p.provider_id;
    tx.destination_id = p.destination_id;
    tx.callback_url = p.callback_url;
    let asks = outcome::asks_confirmation(op, &p.customer_id) && p.otp.is_none();
    if asks {
        tx.confirm_type = 1;
        tx.awaiting = Awaiting::Confirmation {
            canonical: p.canonical,
        };
        tx.customer_message =
            Some("Send the same request again with extra.otp to confirm it".into());
    } else {
        tx.planned = Some(outcome::for_customer(op, &p.customer_id));
        if op == OperationKind::Withdrawal {
            tx.set_status(Status::InTransit.code(), "cash held at the POS, in transit");
        } else {
            tx.set_status(Status::InProgress.code(), "in progress");
        }
    }
    let serial = tx.serial;
    let (order_id, body) = commit_accepted(&mut store, tx, op, signature, None)?;
    drop(store);
    tracing::debug!(public_id, order_id = %order_id, operation = op.as_str(), "POS operation accepted");
    if !asks {
        lifecycle::schedule(state, public_id, &order_id, serial);
        if op == OperationKind::Withdrawal {
            consume_hold(state, public_id, &p.customer_id, p.amount, &order_id);
        }
    }
    Ok(json_response(StatusCode::OK, body))
}

/// A withdrawal under way consumes the customer's oldest hold covering its
/// amount: the held payment becomes a success (with its callback).
fn consume_hold(
    state: &SimulatorState,
    public_id: &str,
    customer_id: &str,
    amount: Amount,
    by: &str,
) {
    let hold = state.store().take_hold(public_id, customer_id, amount);
    if let Some(hold) = hold {
        let note = format!("hold consumed by withdrawal {by}");
        match lifecycle::finish(
            state,
            public_id,
            &hold,
            None,
            Some(Outcome::success()),
            &note,
        ) {
            Ok(_) => tracing::debug!(public_id, hold = %hold, withdrawal = by, "hold consumed"),
            Err(err) => {
                tracing::warn!(public_id, hold = %hold, error = ?err, "cannot consume the hold")
            }
        }
    }
}
