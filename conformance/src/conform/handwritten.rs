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

/// Builds the kind of a case from its payment.
type KindOf = fn(PaymentSpec) -> CaseKind;

/// Order ids, the cases that go through provider 14, and the callbacks
/// and outcomes of a provider that completes.
pub(crate) fn cross_cutting(table: &'static ProviderTable, out: &mut Vec<Case>) {
    order_ids(out);
    through_provider_14(table, out);
    callbacks_and_outcomes(table, out);
}

/// Order ids: client-side only.
fn order_ids(out: &mut Vec<Case>) {
    for (id, order_id, rule) in [
        ("order_id/too_long", "a".repeat(129), Rule::OrderIdLength),
        (
            "order_id/charset_hash",
            "order#1".into(),
            Rule::OrderIdCharset,
        ),
        ("order_id/empty", String::new(), Rule::OrderIdLength),
    ] {
        out.push(Case::new(id, group::ORDER_ID, CaseKind::BadOrderId { order_id, rule }).safe());
    }
}

/// Everything that can go through provider 14 does, so it is safe on a
/// real sandbox: its test behaviour, signatures, idempotency, malformed
/// bodies.
fn through_provider_14(table: &'static ProviderTable, out: &mut Vec<Case>) {
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
        let both: [(String, &'static str, KindOf); 3] = [
            (
                format!("security/{d}/signature_tampered"),
                group::SECURITY,
                |payment| CaseKind::SignatureTampered { payment },
            ),
            (
                format!("idempotency/{d}/replay_identical"),
                group::IDEMPOTENCY,
                |payment| CaseKind::IdempotentReplay { payment },
            ),
            (
                format!("idempotency/{d}/order_id_reuse"),
                group::IDEMPOTENCY,
                |payment| CaseKind::OrderIdReuse { payment },
            ),
        ];
        for (id, group, kind) in both {
            out.push(Case::new(id, group, kind(payment.clone())).safe());
        }
        if direction == Direction::C2b {
            request_security(&payment, out);
        }
    }
}

/// Signatures, merchant and public ids, malformed bodies (one direction
/// is enough: they are refused before the direction matters).
fn request_security(payment: &PaymentSpec, out: &mut Vec<Case>) {
    let cases: [(&str, KindOf); 4] = [
        ("security/signature_missing", |payment| {
            CaseKind::SignatureMissing { payment }
        }),
        ("security/signature_wrong_key", |payment| {
            CaseKind::SignatureWrongKey { payment }
        }),
        ("security/wrong_merchant_id", |payment| {
            CaseKind::WrongMerchantId { payment }
        }),
        ("security/unknown_public_id", |payment| {
            CaseKind::UnknownPublicId { payment }
        }),
    ];
    for (id, kind) in cases {
        out.push(Case::new(id, group::SECURITY, kind(payment.clone())).safe());
    }
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

/// Callbacks and final states need a provider that completes: a verified
/// callback, the simulator's customer-number outcomes, forced outcomes.
fn callbacks_and_outcomes(table: &'static ProviderTable, out: &mut Vec<Case>) {
    for direction in Direction::BOTH {
        let Some(provider) = pick(table, direction, standard_no_extras) else {
            continue;
        };
        let Some(payment) = valid_payment(table, provider, direction) else {
            continue;
        };
        let prefix = format!("{}/{}", direction.as_str(), provider.id);
        out.push(
            Case::new(
                format!("callbacks/{prefix}/signature_verifies"),
                group::CALLBACKS,
                CaseKind::CallbackSignature {
                    payment: payment.clone(),
                },
            )
            .callbacks(),
        );
        magic_outcomes(table, provider, &payment, &prefix, out);
        forced_outcomes(table, provider, &payment, &prefix, out);
    }
}

/// The customer numbers ending in 001..004: the payment ends failed,
/// cancelled, never, or undefined.
fn magic_outcomes(
    table: &ProviderTable,
    provider: &ProviderRule,
    payment: &PaymentSpec,
    prefix: &str,
    out: &mut Vec<Case>,
) {
    for (suffix, status, name) in [
        ("001", Status::Failed, "failed"),
        ("002", Status::Cancelled, "cancelled"),
        ("003", Status::InProgress, "stays_in_progress"),
        ("004", Status::Undefined, "undefined"),
    ] {
        if let Some(phone) = magic_phone(table, provider, &payment.customer_id, suffix) {
            let case = Case::new(
                format!("flows/{prefix}/customer_{suffix}_{name}"),
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
}

/// A payment that never ends alone (customer ending in 003), ended by the
/// control API in each status.
fn forced_outcomes(
    table: &ProviderTable,
    provider: &ProviderRule,
    payment: &PaymentSpec,
    prefix: &str,
    out: &mut Vec<Case>,
) {
    let Some(phone) = magic_phone(table, provider, &payment.customer_id, "003") else {
        return;
    };
    for (status, name) in [
        (Status::Success, "success"),
        (Status::Failed, "failed"),
        (Status::Undefined, "undefined"),
    ] {
        out.push(
            Case::new(
                format!("flows/{prefix}/forced_outcome_{name}"),
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

/// The flows the table cannot express alone: OTP through `status`, the
/// confirmation rounds, the withdrawal pre-authorisation, POS callbacks,
/// daily limits, bulk payouts.
pub(crate) fn flows(table: &'static ProviderTable, out: &mut Vec<Case>) {
    otp_via_status(table, out);
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
    pos(table, standard, &payment, out);
    daily_limits(table, out);
    out.push(
        Case::new(
            format!("flows/bulk/{}/create_details_cancel", standard.id),
            group::FLOWS,
            CaseKind::BulkPayout { payment: payout },
        )
        .callbacks(),
    );
    unlisted_provider(payment, out);
}

/// The OTP sent after the payment, in a status request (seed 002).
fn otp_via_status(table: &'static ProviderTable, out: &mut Vec<Case>) {
    let Some(provider) = pick(table, Direction::C2b, |r| r.flow() == Flow::Otp) else {
        return;
    };
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

/// POS: deposits and withdrawals in the currency of a standard provider,
/// then the simulator's customer numbers for a confirmation (007), a
/// pre-authorising hold (006), a partial cancellation (005) and a failure
/// (001).
fn pos(table: &ProviderTable, standard: &ProviderRule, payment: &PaymentSpec, out: &mut Vec<Case>) {
    let plain: [(&str, KindOf); 2] = [
        ("flows/pos/deposit", |payment| CaseKind::PosDeposit {
            payment,
        }),
        ("flows/pos/withdrawal", |payment| CaseKind::PosWithdrawal {
            payment,
        }),
    ];
    for (id, kind) in plain {
        out.push(Case::new(id, group::FLOWS, kind(payment.clone())).callbacks());
    }
    let magic: [(&str, &str, KindOf); 4] = [
        ("007", "flows/pos/withdrawal_confirm_type_otp", |payment| {
            CaseKind::PosWithdrawalConfirm { payment }
        }),
        (
            "006",
            "flows/pos/withdrawal_pre_authorised_by_hold",
            |payment| CaseKind::PreAuthorisedWithdrawal { payment },
        ),
        ("005", "flows/pos/deposit_cancelled_partially", |payment| {
            CaseKind::PosPartiallyCancelled { payment }
        }),
        (
            "001",
            "flows/pos/failed_deposit_sends_no_callback",
            |payment| CaseKind::PosFailedNoCallback { payment },
        ),
    ];
    for (suffix, id, kind) in magic {
        if let Some(phone) = magic_phone(table, standard, &payment.customer_id, suffix) {
            let case = Case::new(id, group::FLOWS, kind(payment.with_customer(&phone)));
            out.push(case.callbacks());
        }
    }
}

/// Daily cumulative limits: every provider whose binding rules have one.
fn daily_limits(table: &'static ProviderTable, out: &mut Vec<Case>) {
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
}

/// A provider id the documented tables do not list: sent with a warning.
fn unlisted_provider(payment: PaymentSpec, out: &mut Vec<Case>) {
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

/// Carts paid through a fault profile (20 % of answers and of callbacks):
/// 10 000 with the client's recovery, which must resolve every one and
/// debit none twice; 300 without, which the check must report as failing.
pub(crate) fn faults(table: &'static ProviderTable, out: &mut Vec<Case>) {
    let Some(standard) = pick(table, Direction::C2b, standard_no_extras) else {
        return;
    };
    let Some(payment) = valid_payment(table, standard, Direction::C2b) else {
        return;
    };
    for (name, payments, recovery) in [
        ("10000_carts_20pct_faults_paid_once", 10_000, true),
        ("recovery_disabled_is_reported", 300, false),
    ] {
        out.push(
            Case::new(
                format!("faults/c2b/{}/{name}", standard.id),
                group::FAULTS,
                CaseKind::AmbiguousFaults {
                    payment: payment.clone(),
                    payments,
                    rate_percent: 20,
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
