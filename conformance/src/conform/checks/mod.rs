//! How each kind of case is run. Every check returns `Err(message)` with
//! the first thing that did not hold.
//!
//! * `check`: what a check returns, `ensure!`;
//! * [`support`]: sending, reading, waiting, editing bodies;
//! * [`payments`]: single payments, refusals, outcomes, signatures;
//! * [`flows`]: confirmation rounds, OTP by status, POS, daily limits, bulk;
//! * [`examples`]: the documentation's printed requests.

use paygate::gateway::Status;

use super::cases::CaseKind;
use super::hub2;
use super::target::Ctx;

mod ambiguous;
mod check;
mod examples;
mod flows;
mod payments;
mod support;

use check::Check;
use payments::*;

/// Runs one case.
pub(crate) async fn run_case(ctx: &Ctx, kind: &CaseKind) -> Check {
    match kind {
        CaseKind::SpecError(message) => Err(message.clone()),
        CaseKind::Hub2(case) => hub2::run(ctx.hub2.as_ref(), case).await,
        CaseKind::Accept {
            payment,
            flow,
            warned,
            lifecycle,
        } => accept(ctx, payment, *flow, warned, *lifecycle).await,
        CaseKind::Reject {
            payment,
            rule,
            field,
        } => reject(ctx, payment, *rule, field).await,
        CaseKind::BadOrderId { order_id, rule } => bad_order_id(ctx, order_id, *rule).await,
        CaseKind::OtpWrong { payment } => final_outcome(ctx, payment, Status::Failed).await,
        CaseKind::MagicOutcome { payment, status } => {
            if *status == Status::InProgress {
                stays_in_progress(ctx, payment).await
            } else {
                final_outcome(ctx, payment, *status).await
            }
        }
        CaseKind::Provider14NoCallback { payment } => provider14_no_callback(ctx, payment).await,
        CaseKind::SignatureTampered { payment } => signature_tampered(ctx, payment).await,
        CaseKind::SignatureMissing { payment } => signature_missing(ctx, payment).await,
        CaseKind::SignatureWrongKey { payment } => signature_wrong_key(ctx, payment).await,
        CaseKind::WrongMerchantId { payment } => wrong_merchant_id(ctx, payment).await,
        CaseKind::UnknownPublicId { payment } => unknown_public_id(ctx, payment).await,
        CaseKind::Malformed { variant, payment } => malformed(ctx, *variant, payment).await,
        CaseKind::IdempotentReplay { payment } => idempotent_replay(ctx, payment).await,
        CaseKind::OrderIdReuse { payment } => order_id_reuse(ctx, payment).await,
        CaseKind::CallbackSignature { payment } => callback_signature(ctx, payment).await,
        CaseKind::Redirect { payment } => redirect(ctx, payment).await,
        CaseKind::B2cConfirm { payment } => flows::b2c_confirm(ctx, payment).await,
        CaseKind::OtpViaStatus { payment } => flows::otp_via_status(ctx, payment).await,
        CaseKind::PosDeposit { payment } => flows::pos_deposit(ctx, payment).await,
        CaseKind::PosWithdrawal { payment } => flows::pos_withdrawal(ctx, payment).await,
        CaseKind::PosWithdrawalConfirm { payment } => {
            flows::pos_withdrawal_confirm(ctx, payment).await
        }
        CaseKind::PreAuthorisedWithdrawal { payment } => {
            flows::pre_authorised_withdrawal(ctx, payment).await
        }
        CaseKind::PosFailedNoCallback { payment } => {
            flows::pos_without_callback(ctx, payment, Status::Failed).await
        }
        CaseKind::PosPartiallyCancelled { payment } => {
            flows::pos_without_callback(ctx, payment, Status::CancelledPartially).await
        }
        CaseKind::DailyLimit { payment, daily_max } => {
            flows::daily_limit(ctx, payment, *daily_max).await
        }
        CaseKind::BulkPayout { payment } => flows::bulk_payout(ctx, payment).await,
        CaseKind::SeedExample { example } => examples::seed_example(ctx, example).await,
        CaseKind::ForcedOutcome { payment, status } => forced_outcome(ctx, payment, *status).await,
        CaseKind::AmbiguousFaults {
            payment,
            payments,
            rate_percent,
            recovery,
            expect_failure,
        } => {
            let found =
                ambiguous::ambiguous_faults(ctx, payment, *payments, *rate_percent, *recovery)
                    .await;
            match (found, expect_failure) {
                (found, false) => found,
                (Err(_), true) => Ok(()),
                (Ok(()), true) => Err(format!(
                    "{payments} carts at {rate_percent} % faults with recovery {}: the check \
                     found nothing wrong, so it cannot fail",
                    if *recovery { "on" } else { "off" }
                )),
            }
        }
    }
}
