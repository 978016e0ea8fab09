//! The retry schedule the merchant suite assumes of the gateway: the
//! simulator's, since the seeds document none (see `timing`).

use super::CALLBACK_DEADLINE;
use crate::simulator::CallbackRetry;

/// The retry schedule the timing cases follow: the simulator's (assumed)
/// one, not a documented gateway's.
pub fn schedule() -> CallbackRetry {
    CallbackRetry::default()
}

/// The schedule in words, for failure messages.
pub fn schedule_text() -> String {
    let retry = schedule();
    format!(
        "the simulator's assumed schedule: {} attempts, {:?} after the first failure doubling up to {:?}, each abandoned after {:?}",
        retry.max_attempts, retry.initial_backoff, retry.max_backoff, CALLBACK_DEADLINE
    )
}
