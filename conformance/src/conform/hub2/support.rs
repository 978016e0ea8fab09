//! Small helpers every HUB2 check uses: a condition that must hold, the
//! simulator's customer numbers, the final status of an intent.

use paygate::hub2::models::{PaymentIntent, PaymentIntentStatus, PaymentStatus};

/// `Ok` if `condition` holds, else `Err(message)`.
pub(super) fn ensure(condition: bool, message: String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(message)
    }
}

/// A mobile-money number of `country` ending in `suffix` (the simulator's
/// outcome suffixes: `01` fails, `11` asks for an OTP, `99` succeeds, ...).
pub(super) fn msisdn_for(country: &str, suffix: &str) -> String {
    let base = match country {
        "CI" => "07000000",
        "SN" => "7700000",
        _ => "9000000",
    };
    format!("{base}{suffix}")
}

/// The intent ended in `status`, and so did its last payment attempt.
pub(super) fn expect_final(
    intent: &PaymentIntent,
    status: PaymentIntentStatus,
) -> Result<(), String> {
    ensure(
        intent.status == status,
        format!(
            "intent {} ended {}, expected {status}",
            intent.id, intent.status
        ),
    )?;
    let payment_status = match status {
        PaymentIntentStatus::Successful => PaymentStatus::Successful,
        _ => PaymentStatus::Failed,
    };
    ensure(
        intent
            .payments
            .last()
            .is_some_and(|p| p.status == payment_status),
        format!("the last payment of {} is not {payment_status}", intent.id),
    )
}
