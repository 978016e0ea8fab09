//! Bulk payouts: `payment_b2c/bulk`, `/bulk/details`, `/bulk/cancel`.
//!
//! The operations come from the vendor's published spec; what they do is
//! the simulator's choice, documented here: every item is a `payment_b2c`
//! transaction under its own `order_id` (checked against the provider
//! rules like a payout in the bulk's currency, reaching its outcome by the
//! customer-number table, calling back its own `callback_url` or the
//! merchant's). The bulk answers status 0 when created; its details count
//! its items by status (the bulk is 2 once every item is final, 1 before);
//! cancelling it cancels (4, with a callback) every item not yet final and
//! leaves the executed ones as they are. The bulk is kept like a
//! transaction (under a key no `order_id` can take), so replays and
//! persistence work the same way.

use axum::http::StatusCode;
use axum::response::Response;
use paygate::gateway::rules::Direction;
use paygate::gateway::validate::{check_order_id, check_payment, PaymentDraft};
use paygate::gateway::{
    BulkB2cRequest, BulkB2cResponse, BulkCancelRequest, BulkCancelResponse, BulkDetailsItem,
    BulkDetailsRequest, BulkDetailsResponse, OperationResult, Status,
};

use super::payments::{new_transaction, replay_or_conflict};
use super::{json_response, ApiError};
use crate::simulator::clock::now_timestamp;
use crate::simulator::lifecycle;
use crate::simulator::operation::OperationKind;
use crate::simulator::outcome::{self, Outcome};
use crate::simulator::state::bulk_key;
use crate::simulator::transaction::{StoredReply, Transaction};
use crate::simulator::wire;
use crate::simulator::{MerchantEntry, SimulatorState};

/// Most items one bulk may carry.
pub const MAX_ITEMS: usize = 1000;

fn ok() -> OperationResult {
    OperationResult {
        code: 0,
        message: "OK".into(),
    }
}

/// `payment_b2c/bulk`.
pub(super) fn create(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: BulkB2cRequest,
) -> Result<Response, ApiError> {
    if request.items.is_empty() || request.items.len() > MAX_ITEMS {
        return Err(ApiError::bad_request(format!(
            "items: a bulk holds 1 to {MAX_ITEMS} payouts, not {}",
            request.items.len()
        )));
    }
    check_order_id(&request.bulk_id)
        .map_err(|v| ApiError::rules(vec![format!("bulk_id: {} [{}]", v.message, v.rule)]))?;
    let table = state.config().providers;
    let mut refusals = Vec::new();
    for (i, item) in request.items.iter().enumerate() {
        let draft = PaymentDraft {
            direction: Direction::B2c,
            provider_id: item.provider_id,
            country: item.country.as_ref().map(|c| c.as_str()),
            currency: request.currency.as_str(),
            amount: item.amount,
            customer_id: &item.customer_id,
            order_id: &item.order_id,
            extras: &[],
        };
        refusals.extend(
            check_payment(table, &draft)
                .refusals
                .into_iter()
                .map(|v| format!("items[{i}].{v}")),
        );
    }
    if !refusals.is_empty() {
        return Err(ApiError::rules(refusals));
    }
    let public_id = merchant.merchant.public_id.as_str();
    let signature = request.signature.to_ascii_lowercase();
    let key = bulk_key(&request.bulk_id);
    let mut store = state.store().lock_orders(
        public_id,
        request
            .items
            .iter()
            .map(|item| item.order_id.as_str())
            .chain([key.as_str()]),
    );
    if let Some(record) = store.get(public_id, &key) {
        if let Some(replayed) =
            replay_or_conflict(record, OperationKind::BulkB2c, &signature, false).map_err(|_| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    crate::simulator::codes::CONFLICT,
                    format!(
                        "bulk_id {:?} already used with a different request",
                        request.bulk_id
                    ),
                )
            })?
        {
            return Ok(replayed);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for item in &request.items {
        if store.get(public_id, &item.order_id).is_some() || !seen.insert(item.order_id.as_str()) {
            return Err(ApiError::conflict(&item.order_id));
        }
    }
    let mut txs: Vec<Transaction> = Vec::with_capacity(request.items.len() + 1);
    for item in &request.items {
        let mut tx = new_transaction(
            &mut store,
            public_id,
            OperationKind::PaymentB2c,
            &item.order_id,
        )?;
        tx.merchant_id = request.merchant_id.clone();
        tx.customer_id = item.customer_id.clone();
        tx.amount = item.amount;
        tx.provider_id = item.provider_id;
        tx.callback_url = item
            .callback_url
            .clone()
            .or_else(|| merchant.merchant.callback_url.clone());
        tx.bulk_id = Some(request.bulk_id.clone());
        if item.provider_id == 14 {
            tx.sends_callback = false;
            tx.provider_code = -8888;
            tx.provider_message = "Good".into();
            tx.set_status(
                Status::InProgress.code(),
                "provider 14 (Simulator): stays in progress, no callback",
            );
        } else {
            tx.planned = Some(outcome::for_customer(
                OperationKind::PaymentB2c,
                &item.customer_id,
            ));
            tx.set_status(
                Status::InProgress.code(),
                format!("item of bulk {}", request.bulk_id),
            );
        }
        txs.push(tx);
    }
    let mut record = new_transaction(&mut store, public_id, OperationKind::BulkB2c, &key)?;
    record.merchant_id = request.merchant_id.clone();
    record.sends_callback = false;
    record.items = request.items.iter().map(|i| i.order_id.clone()).collect();
    let response = BulkB2cResponse {
        bulk_id: request.bulk_id.clone(),
        status: Status::Initiated,
        result: ok(),
        service_id: wire::service_id(),
        service_version: wire::service_version(),
        service_date_time: now_timestamp(),
    };
    let body = wire::to_body(&response);
    record.replies.push(StoredReply {
        operation: OperationKind::BulkB2c,
        signature,
        body: body.clone(),
    });
    let timers: Vec<(String, u64)> = txs
        .iter()
        .filter(|tx| lifecycle::waits_for_timer(tx))
        .map(|tx| (tx.order_id.clone(), tx.serial))
        .collect();
    txs.push(record);
    store.insert_all(txs).map_err(ApiError::storage)?;
    drop(store);
    for (order_id, serial) in timers {
        lifecycle::schedule(state, public_id, &order_id, serial);
    }
    Ok(json_response(StatusCode::OK, body))
}

/// The bulk record and its items, as they are now.
fn snapshot(
    state: &SimulatorState,
    public_id: &str,
    bulk_id: &str,
) -> Result<(Transaction, Vec<Transaction>), ApiError> {
    let store = state.store();
    let record = store
        .get_cloned(public_id, &bulk_key(bulk_id))
        .ok_or_else(|| ApiError::not_found(format!("bulk_id {bulk_id:?} is unknown")))?;
    let items = record
        .items
        .iter()
        .filter_map(|order| store.get_cloned(public_id, order))
        .collect();
    Ok((record, items))
}

/// The status of a bulk payout: cancelled once cancelled, success once
/// every item is final, else the record's own (initiated for an undefined
/// one).
fn bulk_status(record: &Transaction, items: &[Transaction]) -> Status {
    if Status::from(record.status) == Status::Cancelled {
        Status::Cancelled
    } else if items.iter().all(Transaction::is_final) {
        Status::Success
    } else {
        Status::from(record.status.max(Status::Initiated.code()))
    }
}

/// `payment_b2c/bulk/details`.
pub(super) fn details(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: &BulkDetailsRequest,
) -> Result<Response, ApiError> {
    // No upper bound on page_size: the spec sets none below i64::MAX, and a
    // page larger than the batch holds the rest of it.
    if request.page < 1 || request.page_size < 1 {
        return Err(ApiError::bad_request(
            "page and page_size must be 1 or more",
        ));
    }
    let (record, items) = snapshot(state, &merchant.merchant.public_id, &request.bulk_id)?;
    let count = |f: &dyn Fn(Status) -> bool| {
        i64::try_from(items.iter().filter(|tx| f(Status::from(tx.status))).count())
            .unwrap_or(i64::MAX)
    };
    let skip =
        usize::try_from((request.page - 1).saturating_mul(request.page_size)).unwrap_or(usize::MAX);
    let take = usize::try_from(request.page_size).unwrap_or(usize::MAX);
    let page = items
        .iter()
        .skip(skip)
        .take(take)
        .map(|tx| BulkDetailsItem {
            order_id: tx.order_id.clone(),
            customer_id: tx.customer_id.clone(),
            amount: tx.amount,
            status: wire::status(tx.status),
        })
        .collect();
    let response = BulkDetailsResponse {
        bulk_id: request.bulk_id.clone(),
        status: bulk_status(&record, &items),
        total: i64::try_from(items.len()).unwrap_or(i64::MAX),
        total_initiated: count(&|s| s == Status::Initiated),
        total_in_progress: count(&|s| {
            matches!(
                s,
                Status::InProgress | Status::InTransit | Status::Undefined | Status::SuccessHold
            )
        }),
        total_successed: count(&|s| s == Status::Success),
        total_failed: count(&|s| {
            matches!(
                s,
                Status::Failed | Status::Cancelled | Status::CancelledPartially
            )
        }),
        items: page,
        result: ok(),
        service_id: wire::service_id(),
        service_version: wire::service_version(),
        service_date_time: Some(now_timestamp()),
    };
    Ok(json_response(StatusCode::OK, wire::to_body(&response)))
}

/// `payment_b2c/bulk/cancel`.
pub(super) fn cancel(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    request: &BulkCancelRequest,
) -> Result<Response, ApiError> {
    let public_id = merchant.merchant.public_id.as_str();
    let (_, items) = snapshot(state, public_id, &request.bulk_id)?;
    for tx in items.iter().filter(|tx| !tx.is_final()) {
        let cancelled = Outcome {
            status: Status::Cancelled.code(),
            provider_code: 2,
            provider_message: "Cancelled with its bulk".into(),
        };
        if let Err(err) = lifecycle::finish(
            state,
            public_id,
            &tx.order_id,
            None,
            Some(cancelled),
            "bulk cancelled",
        ) {
            tracing::debug!(order_id = %tx.order_id, error = ?err, "bulk item not cancelled");
        }
    }
    {
        let key = bulk_key(&request.bulk_id);
        let mut store = state.store().lock_order(public_id, &key);
        if let Some(record) = store.get_mut(public_id, &key) {
            if Status::from(record.status) != Status::Cancelled {
                record.set_status(Status::Cancelled.code(), "bulk cancelled");
            }
            let snapshot = record.clone();
            store.persist(&snapshot).map_err(ApiError::storage)?;
        }
    }
    let response = BulkCancelResponse {
        bulk_id: request.bulk_id.clone(),
        status: Status::Cancelled,
        result: ok(),
        service_id: wire::service_id(),
        service_version: wire::service_version(),
        service_date_time: now_timestamp(),
    };
    Ok(json_response(StatusCode::OK, wire::to_body(&response)))
}
