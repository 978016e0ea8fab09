//! The hand-written cases: cross-cutting checks (order ids, signatures,
//! idempotency, callbacks, the simulator's outcomes) and the flows the
//! provider table cannot express alone. They still pick their providers
//! from the table (the first one with what they need), so a spec change
//! moves them along.

use paygate::gateway::rules::{
    CustomerIdKind, Direction, DirectionRule, Flow, ProviderRule, ProviderTable,
};
use paygate::gateway::validate::Rule;
use paygate::gateway::Status;

use super::cases::{Case, CaseKind, MalformedBody, PaymentSpec, TEST_PROVIDER};
use super::group;
use super::payment_builders::{magic_phone, valid_payment};

/// The first provider (other than 14) whose rule in `direction` satisfies `pred`.
fn pick(
    table: &ProviderTable,
    direction: Direction,
    pred: impl Fn(&DirectionRule) -> bool,
) -> Option<&'static ProviderRule> {
    table
        .providers
        .iter()
        .find(|p| !p.test_provider && p.country.is_some() && pred(p.direction(direction)))
}

/// A provider that completes on its own: standard flow, no extra needed,
/// a phone number as `customer_id`.
fn standard_no_extras(rule: &DirectionRule) -> bool {
    rule.flow() == Flow::Standard
        && rule.extras.is_empty()
        && rule.customer_id_kind() == CustomerIdKind::Phone
}

pub(crate) fn cross_cutting(table: &'static ProviderTable, out: &mut Vec<Case>) {
    // Order ids: client-side only.
    out.push(
        Case::new(
            "order_id/too_long",
            group::ORDER_ID,
            CaseKind::BadOrderId {
                order_id: "a".repeat(129),
                rule: Rule::OrderIdLength,
            },
        )
        .safe(),
    );
    out.push(
        Case::new(
            "order_id/charset_hash",
            group::ORDER_ID,
            CaseKind::BadOrderId {
                order_id: "order#1".into(),
                rule: Rule::OrderIdCharset,
            },
        )
        .safe(),
    );
    out.push(
        Case::new(
            "order_id/empty",
            group::ORDER_ID,
            CaseKind::BadOrderId {
                order_id: String::new(),
                rule: Rule::OrderIdLength,
            },
        )
        .safe(),
    );

    // Everything that can go through provider 14 does, so it is safe on a
    // real sandbox.
    let test = table.provider(TEST_PROVIDER);
    for direction in Direction::BOTH {
        let Some(payment) = test.and_then(|p| valid_payment(table, p, direction)) else {
            continue;
        };
        let d = direction.as_str();
        out.push(
            Case::new(
                format!("provider-14/{d}/no_callback"),
                group::PROVIDER_14,
                CaseKind::Provider14NoCallback {
                    payment: payment.clone(),
                },
            )
            .safe()
            .callbacks(),
        );
        out.push(
            Case::new(
                format!("security/{d}/signature_tampered"),
                group::SECURITY,
                CaseKind::SignatureTampered {
                    payment: payment.clone(),
                },
            )
            .safe(),
        );
        out.push(
            Case::new(
                format!("idempotency/{d}/replay_identical"),
                group::IDEMPOTENCY,
                CaseKind::IdempotentReplay {
                    payment: payment.clone(),
                },
            )
            .safe(),
        );
        out.push(
            Case::new(
                format!("idempotency/{d}/order_id_reuse"),
                group::IDEMPOTENCY,
                CaseKind::OrderIdReuse {
                    payment: payment.clone(),
                },
            )
            .safe(),
        );
        if direction == Direction::C2b {
            out.push(
                Case::new(
                    "security/signature_missing",
                    group::SECURITY,
                    CaseKind::SignatureMissing {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            out.push(
                Case::new(
                    "security/signature_wrong_key",
                    group::SECURITY,
                    CaseKind::SignatureWrongKey {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            out.push(
                Case::new(
                    "security/wrong_merchant_id",
                    group::SECURITY,
                    CaseKind::WrongMerchantId {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            out.push(
                Case::new(
                    "security/unknown_public_id",
                    group::SECURITY,
                    CaseKind::UnknownPublicId {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            for variant in MalformedBody::ALL {
                out.push(
                    Case::new(
                        format!("security/malformed/{}", variant.name()),
                        group::SECURITY,
                        CaseKind::Malformed {
                            variant,
                            payment: payment.clone(),
                        },
                    )
                    .safe(),
                );
            }
        }
    }

    // Callbacks and final states need a provider that completes.
    for direction in Direction::BOTH {
        let d = direction.as_str();
        let Some(provider) = pick(table, direction, standard_no_extras) else {
            continue;
        };
        let Some(payment) = valid_payment(table, provider, direction) else {
            continue;
        };
        out.push(
            Case::new(
                format!("callbacks/{d}/{}/signature_verifies", provider.id),
                group::CALLBACKS,
                CaseKind::CallbackSignature {
                    payment: payment.clone(),
                },
            )
            .callbacks(),
        );
        for (suffix, status, name) in [
            ("001", Status::Failed, "failed"),
            ("002", Status::Cancelled, "cancelled"),
            ("003", Status::InProgress, "stays_in_progress"),
            ("004", Status::Undefined, "undefined"),
        ] {
            if let Some(phone) = magic_phone(table, provider, &payment.customer_id, suffix) {
                let case = Case::new(
                    format!("flows/{d}/{}/customer_{suffix}_{name}", provider.id),
                    group::FLOWS,
                    CaseKind::MagicOutcome {
                        payment: payment.with_customer(&phone),
                        status,
                    },
                );
                out.push(if status == Status::InProgress {
                    case
                } else {
                    case.callbacks()
                });
            }
        }
        if let Some(phone) = magic_phone(table, provider, &payment.customer_id, "003") {
            for (status, name) in [
                (Status::Success, "success"),
                (Status::Failed, "failed"),
                (Status::Undefined, "undefined"),
            ] {
                out.push(
                    Case::new(
                        format!("flows/{d}/{}/forced_outcome_{name}", provider.id),
                        group::FLOWS,
                        CaseKind::ForcedOutcome {
                            payment: payment.with_customer(&phone),
                            status,
                        },
                    )
                    .control()
                    .callbacks(),
                );
            }
        }
    }
}

/// The flows the table cannot express alone: OTP through `status`, the
/// confirmation rounds, the withdrawal pre-authorisation, POS callbacks,
/// daily limits, bulk payouts.
pub(crate) fn flows(table: &'static ProviderTable, out: &mut Vec<Case>) {
    // The OTP sent after the payment, in a status request (seed 002).
    if let Some(provider) = pick(table, Direction::C2b, |r| r.flow() == Flow::Otp) {
        if let Some(payment) = valid_payment(table, provider, Direction::C2b) {
            out.push(
                Case::new(
                    format!("flows/c2b/{}/otp_via_status", provider.id),
                    group::FLOWS,
                    CaseKind::OtpViaStatus {
                        payment: payment.without_extra("otp"),
                    },
                )
                .callbacks(),
            );
        }
    }
    let Some(standard) = pick(table, Direction::B2c, standard_no_extras) else {
        return;
    };
    let Some(payout) = valid_payment(table, standard, Direction::B2c) else {
        return;
    };
    let Some(payment) = valid_payment(table, standard, Direction::C2b) else {
        return;
    };
    // The confirmation round of payouts: customers ending in 007.
    if let Some(phone) = magic_phone(table, standard, &payout.customer_id, "007") {
        out.push(
            Case::new(
                format!("flows/b2c/{}/confirm_type_otp", standard.id),
                group::FLOWS,
                CaseKind::B2cConfirm {
                    payment: payout.with_customer(&phone),
                },
            )
            .callbacks(),
        );
    }
    // POS: deposits and withdrawals in the currency of a standard provider.
    out.push(
        Case::new(
            "flows/pos/deposit",
            group::FLOWS,
            CaseKind::PosDeposit {
                payment: payment.clone(),
            },
        )
        .callbacks(),
    );
    out.push(
        Case::new(
            "flows/pos/withdrawal",
            group::FLOWS,
            CaseKind::PosWithdrawal {
                payment: payment.clone(),
            },
        )
        .callbacks(),
    );
    if let Some(phone) = magic_phone(table, standard, &payment.customer_id, "007") {
        out.push(
            Case::new(
                "flows/pos/withdrawal_confirm_type_otp",
                group::FLOWS,
                CaseKind::PosWithdrawalConfirm {
                    payment: payment.with_customer(&phone),
                },
            )
            .callbacks(),
        );
    }
    if let Some(phone) = magic_phone(table, standard, &payment.customer_id, "006") {
        out.push(
            Case::new(
                "flows/pos/withdrawal_pre_authorised_by_hold",
                group::FLOWS,
                CaseKind::PreAuthorisedWithdrawal {
                    payment: payment.with_customer(&phone),
                },
            )
            .callbacks(),
        );
    }
    if let Some(phone) = magic_phone(table, standard, &payment.customer_id, "005") {
        out.push(
            Case::new(
                "flows/pos/deposit_cancelled_partially",
                group::FLOWS,
                CaseKind::PosPartiallyCancelled {
                    payment: payment.with_customer(&phone),
                },
            )
            .callbacks(),
        );
    }
    if let Some(phone) = magic_phone(table, standard, &payment.customer_id, "001") {
        out.push(
            Case::new(
                "flows/pos/failed_deposit_sends_no_callback",
                group::FLOWS,
                CaseKind::PosFailedNoCallback {
                    payment: payment.with_customer(&phone),
                },
            )
            .callbacks(),
        );
    }
    // Daily cumulative limits: every provider whose binding rules have one.
    for provider in table.providers {
        for direction in Direction::BOTH {
            let rule = provider.direction(direction);
            let Some(daily_max) = rule.limits.daily_max else {
                continue;
            };
            if let Some(payment) = valid_payment(table, provider, direction) {
                out.push(Case::new(
                    format!("{}/{}/daily_maximum", direction.as_str(), provider.id),
                    group::LIMITS,
                    CaseKind::DailyLimit { payment, daily_max },
                ));
            }
        }
    }
    // Bulk payouts.
    out.push(
        Case::new(
            format!("flows/bulk/{}/create_details_cancel", standard.id),
            group::FLOWS,
            CaseKind::BulkPayout { payment: payout },
        )
        .callbacks(),
    );
    // A provider id the documented tables do not list: sent with a warning.
    out.push(
        Case::new(
            "warnings/unknown_provider",
            group::WARNINGS,
            CaseKind::Accept {
                warned: vec![Rule::UnknownProvider],
                payment: PaymentSpec {
                    provider_id: UNLISTED_PROVIDER,
                    ..payment
                },
                flow: Flow::Standard,
                lifecycle: true,
            },
        )
        .callbacks(),
    );
}

/// A provider id no documented table lists ("Check provider id with your
/// manager": ids differ between merchants).
pub const UNLISTED_PROVIDER: u32 = 9999;
