//! Moving transactions to their final state, and sending the callback.

use super::callbacks;
use super::outcome::Outcome;
use super::state::{Awaiting, Transaction};
use super::wire;
use super::SimulatorState;

/// Runs the transaction's planned outcome after the configured latency.
pub(crate) fn schedule(state: &SimulatorState, public_id: &str, order_id: &str, serial: u64) {
    let state = state.clone();
    let public_id = public_id.to_owned();
    let order_id = order_id.to_owned();
    tokio::spawn(async move {
        if state.sleep(state.config().latency).await {
            let _ = finish(
                &state,
                &public_id,
                &order_id,
                Some(serial),
                None,
                "latency elapsed",
            );
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
}

/// Applies `forced` (or, when `None`, the planned outcome) to the
/// transaction now, and sends its callback. Returns the transaction after
/// the change. A planned outcome that is not final leaves it unchanged.
pub(crate) fn finish(
    state: &SimulatorState,
    public_id: &str,
    order_id: &str,
    serial: Option<u64>,
    forced: Option<Outcome>,
    note: &str,
) -> Result<Transaction, FinishError> {
    let snapshot = {
        let mut store = state.store();
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
        tx.awaiting = Awaiting::Nothing;
        tx.confirm_type = 0;
        tx.customer_message = None;
        tx.provider_code = outcome.provider_code;
        tx.provider_message = outcome.provider_message.clone();
        if outcome.status == 2 {
            tx.transaction_ref = format!("SIMREF{}", tx.serial);
        }
        tx.set_status(outcome.status, note);
        tx.clone()
    };
    tracing::info!(
        public_id,
        order_id,
        status = snapshot.status,
        "transaction final"
    );
    send_callback(state, &snapshot);
    Ok(snapshot)
}

fn send_callback(state: &SimulatorState, tx: &Transaction) {
    if !tx.sends_callback {
        return;
    }
    let Some(url) = tx.callback_url.clone() else {
        tracing::info!(order_id = %tx.order_id, "no callback URL; no callback sent");
        return;
    };
    let Some(merchant) = state.0.merchants.get(&tx.public_id) else {
        return;
    };
    match wire::callback_body(tx, &merchant.key) {
        Ok(body) => callbacks::spawn_delivery(state, tx, url, body),
        Err(err) => {
            tracing::error!(order_id = %tx.order_id, error = %err, "cannot build the callback")
        }
    }
}
