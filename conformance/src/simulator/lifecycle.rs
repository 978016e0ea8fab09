//! Moving transactions to their final state, and sending the callback.

use paygate::gateway::Status;

use std::time::Duration;

use super::callbacks::{self, Delivery};
use super::faults::{callback_name, CallbackFault};
use super::outcome::Outcome;
use super::persist::NewOutbox;
use super::transaction::{Awaiting, Transaction};
use super::wire;
use super::SimulatorState;

/// Whether the transaction's outcome comes from the latency timer: not
/// final, waiting for nothing else, with a final planned outcome.
pub(crate) fn waits_for_timer(tx: &Transaction) -> bool {
    !tx.is_final()
        && tx.awaiting == Awaiting::Nothing
        && tx.planned.as_ref().is_some_and(Outcome::is_final)
}

/// Runs the transaction's planned outcome after the configured latency.
pub(crate) fn schedule(state: &SimulatorState, public_id: &str, order_id: &str, serial: u64) {
    let state = state.clone();
    let public_id = public_id.to_owned();
    let order_id = order_id.to_owned();
    let task_state = state.clone();
    task_state.spawn(async move {
        if state.sleep(state.config().latency).await {
            let _ = state
                .blocking(move |state| {
                    finish(
                        state,
                        &public_id,
                        &order_id,
                        Some(serial),
                        None,
                        "latency elapsed",
                    )
                })
                .await;
        }
    });
}

/// Why an outcome could not be applied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FinishError {
    /// No such transaction (or a newer one under the same order id).
    NotFound,
    /// It is already final.
    AlreadyFinal(i64),
    /// The database refused the change (nothing changed).
    Storage(String),
}

/// Applies `forced` (or, when `None`, the planned outcome) to the
/// transaction now, and sends its callback. Returns the transaction after
/// the change. A planned outcome that is not final leaves it unchanged.
///
/// With a database, the final state and the callback's outbox row are
/// committed together before the delivery starts.
pub(crate) fn finish(
    state: &SimulatorState,
    public_id: &str,
    order_id: &str,
    serial: Option<u64>,
    forced: Option<Outcome>,
    note: &str,
) -> Result<Transaction, FinishError> {
    let (snapshot, delivery) = {
        let mut store = state.store().lock_order(public_id, order_id);
        let tx = match serial {
            Some(serial) => store.get_serial_mut(public_id, order_id, serial),
            None => store.get_mut(public_id, order_id),
        }
        .ok_or(FinishError::NotFound)?;
        if tx.is_final() {
            return Err(FinishError::AlreadyFinal(tx.status));
        }
        let outcome = match forced {
            Some(outcome) => outcome,
            None => match (&tx.awaiting, &tx.planned) {
                (Awaiting::Nothing, Some(planned)) if planned.is_final() => planned.clone(),
                _ => return Ok(tx.clone()),
            },
        };
        // What the outcome replaces, moved out rather than a copy of the
        // whole transaction: put back if the write fails.
        let before = Replaced {
            awaiting: std::mem::replace(&mut tx.awaiting, Awaiting::Nothing),
            confirm_type: std::mem::replace(&mut tx.confirm_type, 0),
            customer_message: tx.customer_message.take(),
            provider_code: std::mem::replace(&mut tx.provider_code, outcome.provider_code),
            provider_message: std::mem::replace(
                &mut tx.provider_message,
                outcome.provider_message.clone(),
            ),
            transaction_ref: if Status::from(outcome.status) == Status::Success {
                std::mem::replace(&mut tx.transaction_ref, format!("SIMREF{}", tx.serial))
            } else {
                tx.transaction_ref.clone()
            },
            status: tx.status,
            history_len: tx.history.len(),
        };
        tx.set_status(outcome.status, note);
        let snapshot = tx.clone();
        if Status::from(snapshot.status) == Status::SuccessHold {
            store.note_hold(&snapshot);
        }
        let mut delivery = callback_for(state, &snapshot);
        let outbox = delivery.as_ref().map(|d| NewOutbox {
            operation_type: d.operation_type,
            status: d.status,
            url: &d.url,
            body: &d.body,
        });
        match store.persist_with_callback(&snapshot, outbox) {
            Ok(id) => {
                if let Some(delivery) = delivery.as_mut() {
                    delivery.outbox_id = id;
                }
            }
            Err(err) => {
                tracing::error!(public_id, order_id, error = %err, "cannot save the outcome");
                if let Some(tx) = store.get_mut(public_id, order_id) {
                    before.put_back(tx);
                }
                return Err(FinishError::Storage(err.to_string()));
            }
        }
        (snapshot, delivery)
    };
    // Per-payment detail is `debug`: at the default level a payment logs
    // nothing unless something goes wrong (issue 15: three `info` lines per
    // payment cost about a quarter of the throughput).
    tracing::debug!(
        public_id,
        order_id,
        status = snapshot.status,
        "transaction final"
    );
    if let Some(mut delivery) = delivery {
        let extra = callback_fault(state, &snapshot, &mut delivery);
        callbacks::spawn_delivery(state, delivery);
        if let Some(extra) = extra {
            callbacks::spawn_delivery(state, extra);
        }
    }
    Ok(snapshot)
}

/// Applies the merchant's callback fault, if its profile draws one for
/// this callback (see [`super::faults`]): delays `delivery`, chains a
/// stale "in progress" callback after it, or returns another delivery
/// (a duplicate, or a callback for an order never sent).
fn callback_fault(
    state: &SimulatorState,
    tx: &Transaction,
    delivery: &mut Delivery,
) -> Option<Delivery> {
    let profile = state.0.faults.profile(&tx.public_id)?;
    let fault = profile.callback_fault(&tx.public_id, &tx.order_id, tx.status)?;
    state
        .0
        .faults
        .count(&tx.public_id, &format!("callback.{}", callback_name(fault)));
    tracing::debug!(order_id = %tx.order_id, fault = callback_name(fault), "callback fault");
    let merchant = state.0.merchants.get(&tx.public_id)?;
    let signed = |tx: &Transaction| {
        let body = wire::callback_body(tx, &merchant.key).ok()?;
        Some(Delivery::new(tx, delivery.url.clone(), body))
    };
    match fault {
        CallbackFault::Duplicate => Some(Delivery {
            outbox_id: None,
            ..delivery.clone()
        }),
        CallbackFault::Delay => {
            delivery.delay = Duration::from_millis(profile.callback_delay_ms);
            None
        }
        CallbackFault::Reorder => {
            let mut stale = tx.clone();
            stale.status = Status::InProgress.code();
            delivery.then = signed(&stale).map(Box::new);
            None
        }
        CallbackFault::UnknownOrder => {
            let mut other = tx.clone();
            other.order_id = format!("never-sent-{}", tx.order_id);
            other.transaction_id = format!("{}9", tx.transaction_id);
            signed(&other)
        }
    }
}

/// The callback a transaction that just settled sends, if any. POS
/// operations call back only when they succeed (seed 003: "callbacks after
/// every successful operation performed on POS").
pub(crate) fn callback_for(state: &SimulatorState, tx: &Transaction) -> Option<Delivery> {
    if !tx.sends_callback || (tx.operation.is_pos() && Status::from(tx.status) != Status::Success) {
        return None;
    }
    let Some(url) = tx.callback_url.clone() else {
        tracing::info!(order_id = %tx.order_id, "no callback URL; no callback sent");
        return None;
    };
    let merchant = state.0.merchants.get(&tx.public_id)?;
    match wire::callback_body(tx, &merchant.key) {
        Ok(body) => Some(Delivery::new(tx, url, body)),
        Err(err) => {
            tracing::error!(order_id = %tx.order_id, error = %err, "cannot build the callback");
            None
        }
    }
}

/// The fields of a transaction an outcome replaces ([`finish`]), kept to
/// put them back when the outcome cannot be saved.
struct Replaced {
    awaiting: Awaiting,
    confirm_type: i64,
    customer_message: Option<String>,
    provider_code: i64,
    provider_message: String,
    transaction_ref: String,
    status: i64,
    history_len: usize,
}

impl Replaced {
    fn put_back(self, tx: &mut Transaction) {
        tx.awaiting = self.awaiting;
        tx.confirm_type = self.confirm_type;
        tx.customer_message = self.customer_message;
        tx.provider_code = self.provider_code;
        tx.provider_message = self.provider_message;
        tx.transaction_ref = self.transaction_ref;
        tx.status = self.status;
        tx.history.truncate(self.history_len);
    }
}
