//! The HUB2 case list, derived from the HUB2 spec where it can: every
//! (country, provider) pair of the spec's `Country` × `Provider` enums (a
//! payment where the target serves the pair, a 400 where it does not),
//! every `PaymentMethod`, every operation of the spec's operation table
//! without credentials, and the Processing Only pairs; the hand-written
//! flows, security, throttle, transfer and webhook cases after them.

use paygate::hub2::models::{Country, PaymentMethod, Provider, OPERATIONS};

use super::super::cases::{Case, CaseKind};
use super::case::{group, Hub2Case};
use super::facts::{bank_transfer_countries, processing_only_pairs, serves_mobile_money};

/// A HUB2 case: id `hub2/{id}`, needing a HUB2 target.
fn case(id: impl Into<String>, group: &'static str, kind: Hub2Case) -> Case {
    let mut case = Case::new(format!("hub2/{}", id.into()), group, CaseKind::Hub2(kind));
    case.needs.hub2 = true;
    case
}

/// Every HUB2 case.
pub fn derive_cases() -> Vec<Case> {
    let mut out = Vec::new();
    pairs(&mut out);
    bank_transfers(&mut out);
    flows(&mut out);
    security(&mut out);
    delegated(&mut out);
    polling_transfers_and_webhooks(&mut out);
    faults(&mut out);
    out
}

/// Answers that go wrong after HUB2 acted (a seeded profile on the demo
/// merchant's twin): with the clients' recovery every cart is resolved and
/// none paid twice; without it the check must report the run as failing.
fn faults(out: &mut Vec<Case>) {
    for (name, carts, recovery) in [
        ("1000_carts_20pct_faults_paid_once", 1_000, true),
        ("recovery_disabled_is_reported", 100, false),
    ] {
        out.push(
            case(
                format!("faults/{name}"),
                group::FAULTS,
                Hub2Case::AmbiguousFaults {
                    carts,
                    recovery,
                    expect_failure: !recovery,
                },
            )
            .control()
            .callbacks()
            .long(),
        );
    }
}

/// A payment on every served (country, provider) pair of the spec, a 400
/// on every other one.
fn pairs(out: &mut Vec<Case>) {
    for country in Country::ALL {
        for provider in Provider::ALL {
            let (c, p) = (country.as_str(), provider.as_str());
            let served = serves_mobile_money(c, p);
            if served {
                out.push(case(
                    format!("pay/{c}/{p}"),
                    group::HAPPY_PATH,
                    Hub2Case::Pay {
                        country: c.into(),
                        provider: p.into(),
                    },
                ));
            } else {
                out.push(case(
                    format!("unsupported_pair/{c}/{p}"),
                    group::VALIDATION,
                    Hub2Case::UnsupportedPair {
                        country: c.into(),
                        provider: p.into(),
                    },
                ));
            }
        }
    }
}

/// The payment methods other than mobile money: a bank transfer in every
/// country that offers one.
fn bank_transfers(out: &mut Vec<Case>) {
    for method in PaymentMethod::ALL {
        if *method == PaymentMethod::BankTransfer {
            for country in bank_transfer_countries() {
                out.push(
                    case(
                        format!("bank_transfer/{country}"),
                        group::FLOWS,
                        Hub2Case::BankTransfer {
                            country: country.into(),
                        },
                    )
                    .control(),
                );
            }
        }
    }
}

/// OTP, redirection, USSD, failures and new attempts.
fn flows(out: &mut Vec<Case>) {
    for (id, kind) in [
        ("otp", Hub2Case::Otp),
        ("otp_wrong", Hub2Case::WrongOtp),
        ("otp_up_front", Hub2Case::OtpUpFront),
        ("redirection", Hub2Case::Redirection),
        ("ussd", Hub2Case::Ussd),
        ("payment_fails", Hub2Case::PaymentFails),
        ("retry_after_failure", Hub2Case::RetryAfterFailure),
        ("retry_after_wrong_otp", Hub2Case::RetryAfterWrongOtp),
    ] {
        out.push(case(id, group::FLOWS, kind));
    }
    out.push(
        case(
            "no_attempt_while_pending",
            group::FLOWS,
            Hub2Case::NoAttemptWhilePending,
        )
        .control(),
    );
    out.push(case(
        "otp_bad_format",
        group::VALIDATION,
        Hub2Case::OtpBadFormat,
    ));
}

/// Tokens, references, every operation without credentials, environments.
fn security(out: &mut Vec<Case>) {
    out.push(case("wrong_token", group::SECURITY, Hub2Case::WrongToken).safe());
    for field in ["customerReference", "purchaseReference", "reference"] {
        out.push(
            case(
                format!("forbidden_reference/{field}"),
                group::VALIDATION,
                Hub2Case::ForbiddenReference { field },
            )
            .safe(),
        );
    }
    for op in OPERATIONS {
        out.push(
            case(
                format!("no_credentials/{}", op.id),
                group::SECURITY,
                Hub2Case::NoCredentials {
                    operation: op.id,
                    method: op.method,
                    path: op.path,
                },
            )
            .safe(),
        );
    }
    out.push(
        case(
            "wrong_environment",
            group::SECURITY,
            Hub2Case::WrongEnvironment,
        )
        .safe(),
    );
}

/// Processing Only: permissions, credential registration, every pair.
fn delegated(out: &mut Vec<Case>) {
    for what in ["payments", "transfers"] {
        out.push(case(
            format!("delegated/no_permission/{what}"),
            group::DELEGATED,
            Hub2Case::DelegatedNoPermission { what },
        ));
    }
    out.push(
        case(
            "delegated/credentials_validation",
            group::DELEGATED,
            Hub2Case::CredentialsValidation,
        )
        .control(),
    );
    for (country, provider, transaction_types) in processing_only_pairs() {
        for transaction_type in transaction_types {
            out.push(
                case(
                    format!("delegated/{transaction_type}/{country}/{provider}"),
                    group::DELEGATED,
                    Hub2Case::Delegated {
                        country,
                        provider,
                        transaction_type,
                    },
                )
                .control(),
            );
        }
    }
}

/// The polling throttle, transfers, fees and webhook signatures.
fn polling_transfers_and_webhooks(out: &mut Vec<Case>) {
    out.push(case(
        "poll_final_intent",
        group::THROTTLE,
        Hub2Case::PollFinalIntent,
    ));
    out.push(case("transfer", group::HAPPY_PATH, Hub2Case::Transfer));
    out.push(case("fees", group::HAPPY_PATH, Hub2Case::Fees).control());
    out.push(case(
        "transfer_above_balance",
        group::VALIDATION,
        Hub2Case::TransferAboveBalance,
    ));
    out.push(
        case(
            "webhook_signatures",
            group::WEBHOOKS,
            Hub2Case::WebhookSignatures,
        )
        .control()
        .callbacks(),
    );
}
