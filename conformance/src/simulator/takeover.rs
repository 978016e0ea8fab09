//! What a replica does with the work it takes over from one that died
//! (found by its heartbeat, see `persist::replica`).

use super::persist::replica::Takeover;
use super::{callbacks, hub2, lifecycle, SimulatorState};

/// Delivers the claimed callbacks, re-arms the timers of transactions
/// waiting, and, when this replica now serves HUB2, takes HUB2's state
/// and work over.
pub(crate) fn take_over(state: &SimulatorState, takeover: Takeover) {
    if let Some(objects) = takeover.hub2 {
        hub2::take_lead(state, objects);
    }
    for tx in takeover.waiting {
        if lifecycle::waits_for_timer(&tx) {
            lifecycle::schedule(state, &tx.public_id, &tx.order_id, tx.serial);
        }
    }
    for entry in takeover.outbox {
        callbacks::resume_delivery(state, entry);
    }
}
