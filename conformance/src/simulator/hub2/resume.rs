//! HUB2 work a restarted simulator takes up again: after the state is read
//! back from the database (see `persist`), every payment attempt or
//! transfer still in progress whose outcome waits for a timer gets it
//! again, counted from the restart, and every webhook event still in the
//! outbox is sent again.

use paygate::hub2::models::{PaymentStatus, TransferStatus};

use super::store::Plan;
use crate::simulator::SimulatorState;

/// Re-arms the timer of every payment attempt and transfer still in
/// progress (call once, after the state is restored, inside a Tokio runtime).
pub(crate) fn resume(state: &SimulatorState) {
    let (attempts, dialing, transfers) = {
        let store = state.hub2_store();
        let mut attempts: Vec<(String, String, Plan)> = Vec::new();
        let mut dialing: Vec<(String, String)> = Vec::new();
        for record in store.intents.values() {
            let (Some(payment), Some(plan)) = (record.intent.payments.last(), &record.plan) else {
                continue;
            };
            let ids = (record.intent.id.clone(), payment.id.clone());
            match (plan, &payment.status) {
                // Waiting for the control API: no timer.
                (Plan::Stay, _) => {}
                (_, PaymentStatus::Pending) => attempts.push((ids.0, ids.1, plan.clone())),
                (Plan::Ussd, PaymentStatus::ActionRequired) => dialing.push(ids),
                // Waiting for the customer (an OTP, a page): no timer.
                _ => {}
            }
        }
        let transfers: Vec<String> = store
            .transfers
            .values()
            .filter(|record| record.transfer.status == TransferStatus::Pending)
            .map(|record| record.transfer.id.clone())
            .collect();
        (attempts, dialing, transfers)
    };
    if !attempts.is_empty() || !dialing.is_empty() || !transfers.is_empty() {
        tracing::info!(
            attempts = attempts.len() + dialing.len(),
            transfers = transfers.len(),
            "resuming HUB2 work from the database"
        );
    }
    for (intent_id, payment_id, plan) in attempts {
        super::attempts::schedule(state, &intent_id, &payment_id, plan);
    }
    for (intent_id, payment_id) in dialing {
        super::attempts::resume_dialing(state, &intent_id, &payment_id);
    }
    let outbox = std::mem::take(&mut state.hub2_store().outbox);
    if !outbox.is_empty() {
        tracing::info!(webhooks = outbox.len(), "resuming HUB2 webhook deliveries");
    }
    for pending in outbox {
        super::webhooks::deliver(state, pending);
    }
    for transfer_id in transfers {
        super::api::schedule_transfer(state, &transfer_id);
    }
}
