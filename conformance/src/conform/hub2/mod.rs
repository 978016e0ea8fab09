//! HUB2 cases (groups `hub2-*`), derived from the HUB2 spec where it can:
//! every (country, provider) pair of the spec's `Country` × `Provider`
//! enums (a payment where the simulator serves the pair, a 400 where it
//! does not), every `PaymentMethod`, every operation of the spec's
//! operation table without credentials (its documented 401), and the
//! Processing Only pairs. Hand-written cases cover the OTP, redirection and
//! USSD flows, a new attempt after a failed one, tokens, references,
//! permissions, polling throttle, balance, and webhook signatures across a
//! secret rotation (verified by the suite's own receiver with
//! `WebhookSecrets {current, previous}`).
//!
//! This module only dispatches a case to the check of its kind:
//!
//! * `case`: what a case is ([`Hub2Case`], [`group`]);
//! * `derive`: the case list ([`derive_cases`]); `facts`: the HUB2 facts
//!   it comes from;
//! * `context`: what the checks talk to ([`Hub2Ctx`]); `receiver`: the
//!   webhook endpoint ([`WebhookReceiver`]); `support`: helpers every
//!   check uses;
//! * the checks: `intents`, `flows`, `attempts`, `validation`, `security`,
//!   `delegated`, `transfers`, `webhooks`.

use paygate::hub2::models::PaymentIntentStatus;

pub(crate) mod case;
pub(crate) mod context;
pub(crate) mod derive;
pub(crate) mod facts;
pub(crate) mod receiver;

mod attempts;
mod delegated;
mod faults;
mod flows;
mod intents;
mod security;
mod support;
mod transfers;
mod validation;
mod webhooks;

pub use case::{group, Hub2Case};
pub use context::Hub2Ctx;
pub use derive::derive_cases;
pub use receiver::{Delivery, WebhookReceiver};

/// The fault rate of the `hub2-faults` group.
const FAULT_RATE_PERCENT: u32 = 20;

/// Runs one HUB2 case.
pub(crate) async fn run(ctx: Option<&Hub2Ctx>, case: &Hub2Case) -> Result<(), String> {
    let Some(ctx) = ctx else {
        return Err("no HUB2 target configured".into());
    };
    match case {
        Hub2Case::Pay { country, provider } => intents::pay(ctx, country, provider).await,
        Hub2Case::UnsupportedPair { country, provider } => {
            validation::unsupported_pair(ctx, country, provider).await
        }
        Hub2Case::BankTransfer { country } => flows::bank_transfer(ctx, country).await,
        Hub2Case::Otp => flows::otp(ctx, "1234", PaymentIntentStatus::Successful).await,
        Hub2Case::WrongOtp => flows::otp(ctx, "0000", PaymentIntentStatus::Failed).await,
        Hub2Case::OtpBadFormat => validation::otp_bad_format(ctx).await,
        Hub2Case::OtpUpFront => flows::otp_up_front(ctx).await,
        Hub2Case::Redirection => flows::redirection(ctx).await,
        Hub2Case::Ussd => flows::ussd(ctx).await,
        Hub2Case::PaymentFails => intents::payment_fails(ctx).await,
        Hub2Case::RetryAfterFailure => attempts::retry_after_failure(ctx).await,
        Hub2Case::RetryAfterWrongOtp => attempts::retry_after_wrong_otp(ctx).await,
        Hub2Case::NoAttemptWhilePending => attempts::no_attempt_while_pending(ctx).await,
        Hub2Case::Fees => attempts::fees(ctx).await,
        Hub2Case::WrongToken => security::wrong_token(ctx).await,
        Hub2Case::ForbiddenReference { field } => validation::forbidden_reference(ctx, field).await,
        Hub2Case::NoCredentials {
            operation,
            method,
            path,
        } => security::no_credentials(ctx, operation, method, path).await,
        Hub2Case::WrongEnvironment => security::wrong_environment(ctx).await,
        Hub2Case::DelegatedNoPermission { what } => delegated::no_permission(ctx, what).await,
        Hub2Case::CredentialsValidation => delegated::credentials_validation(ctx).await,
        Hub2Case::Delegated {
            country,
            provider,
            transaction_type,
        } => delegated::delegated(ctx, country, provider, transaction_type).await,
        Hub2Case::PollFinalIntent => intents::poll_final_intent(ctx).await,
        Hub2Case::Transfer => transfers::transfer(ctx).await,
        Hub2Case::TransferAboveBalance => transfers::transfer_above_balance(ctx).await,
        Hub2Case::WebhookSignatures => webhooks::webhook_signatures(ctx).await,
        Hub2Case::AmbiguousFaults {
            carts,
            recovery,
            expect_failure,
        } => {
            let found = faults::ambiguous_faults(ctx, *carts, FAULT_RATE_PERCENT, *recovery).await;
            match (found, expect_failure) {
                (found, false) => found,
                (Err(_), true) => Ok(()),
                (Ok(()), true) => Err(format!(
                    "{carts} carts at {FAULT_RATE_PERCENT} % faults without recovery: the check \
                     found nothing wrong, so it cannot fail"
                )),
            }
        }
    }
}
