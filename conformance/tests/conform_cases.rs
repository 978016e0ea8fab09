//! The derived case list: big enough, covering every provider and rule, and
//! filtered to sandbox-safe cases against a remote target.

use std::collections::{BTreeMap, HashSet};

use paygate::gateway::PROVIDER_TABLE;
use paygate::rules::Direction;
use paygate::validate::{check_payment, PaymentDraft, Rule};
use paygate_conformance::conform::cases::{phone_format, valid_payment, TEST_PROVIDER};
use paygate_conformance::conform::{derive_cases, plan, CaseKind};

#[test]
fn the_case_list_is_derived_from_every_provider() {
    let cases = derive_cases(&PROVIDER_TABLE);
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let ids: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), cases.len(), "case ids are not unique");

    let mut by_group: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *by_group.entry(case.group).or_default() += 1;
    }
    for group in [
        "happy-path",
        "limits",
        "phone",
        "extras",
        "security",
        "idempotency",
        "flows",
        "provider-14",
    ] {
        assert!(
            by_group.get(group).copied().unwrap_or(0) > 0,
            "no case in {group}: {by_group:?}"
        );
    }

    for provider in PROVIDER_TABLE.providers {
        for direction in [Direction::C2b, Direction::B2c] {
            let Some(rule) = provider.direction(direction) else {
                continue;
            };
            let prefix = format!("{}/{}/", direction.as_str(), provider.id);
            assert!(
                ids.contains(format!("{prefix}accepted").as_str()),
                "{prefix}accepted missing"
            );
            if rule.min.is_some_and(|m| m.minor() > 0) {
                assert!(
                    ids.contains(format!("{prefix}amount_below_minimum").as_str()),
                    "{prefix}"
                );
            }
            if rule.max.is_some() {
                assert!(
                    ids.contains(format!("{prefix}amount_above_maximum").as_str()),
                    "{prefix}"
                );
            }
            if provider.id != TEST_PROVIDER && phone_format(&PROVIDER_TABLE, provider).is_some() {
                assert!(
                    ids.contains(format!("{prefix}phone_format").as_str()),
                    "{prefix}"
                );
            }
            for extra in rule.extras {
                assert!(
                    ids.contains(format!("{prefix}missing_extra/{extra}").as_str()),
                    "{prefix}{extra}"
                );
            }
        }
    }
}

#[test]
fn valid_payments_pass_the_rules_and_rejected_ones_break_exactly_their_rule() {
    for case in derive_cases(&PROVIDER_TABLE) {
        let (payment, expected) = match &case.kind {
            CaseKind::Accept { payment, .. } => (payment, None),
            CaseKind::Reject { payment, rule, .. } => (payment, Some(*rule)),
            _ => continue,
        };
        let extras: Vec<&str> = payment.extras.iter().map(|(n, _)| *n).collect();
        let draft = PaymentDraft {
            direction: payment.direction,
            provider_id: i64::from(payment.provider_id),
            country: payment.country,
            currency: payment.currency,
            amount: payment.amount,
            customer_id: &payment.customer_id,
            order_id: "order-1",
            extras: &extras,
        };
        match (check_payment(&PROVIDER_TABLE, &draft), expected) {
            (Ok(()), None) => {}
            (Err(v), Some(rule)) => assert!(v.has(rule), "{}: {v}", case.id),
            (Ok(()), Some(rule)) => panic!("{} passes the rules but should break {rule}", case.id),
            (Err(v), None) => panic!("{} should be valid: {v}", case.id),
        }
    }
}

#[test]
fn smallest_valid_amounts_respect_the_step() {
    let provider = PROVIDER_TABLE
        .providers
        .iter()
        .find(|p| p.c2b.is_some_and(|r| r.step.is_some()))
        .unwrap();
    let payment = valid_payment(&PROVIDER_TABLE, provider, Direction::C2b).unwrap();
    let rule = provider.c2b.unwrap();
    assert!(payment.amount.is_multiple_of(rule.step.unwrap()));
    assert!(rule.min.is_none_or(|m| payment.amount >= m));
}

#[test]
fn against_a_sandbox_only_safe_cases_run() {
    let planned = plan(derive_cases(&PROVIDER_TABLE), true, None);
    let running: Vec<_> = planned.iter().filter(|p| p.skip.is_none()).collect();
    assert!(!running.is_empty());
    for p in &running {
        assert!(p.case.sandbox_safe, "{} runs against a sandbox", p.case.id);
        assert!(
            !p.case.needs.control_api && !p.case.needs.callbacks,
            "{}",
            p.case.id
        );
    }
    assert!(planned.iter().any(|p| p.skip.is_some()));
    // Everything that runs remotely either uses provider 14 or sends nothing.
    for p in &running {
        let payment = match &p.case.kind {
            CaseKind::Accept { payment, .. }
            | CaseKind::Reject { payment, .. }
            | CaseKind::SignatureTampered { payment }
            | CaseKind::IdempotentReplay { payment }
            | CaseKind::OrderIdReuse { payment } => Some(payment),
            _ => None,
        };
        if let Some(payment) = payment {
            assert_eq!(payment.provider_id, TEST_PROVIDER, "{}", p.case.id);
        }
    }
    let embedded = plan(derive_cases(&PROVIDER_TABLE), false, None);
    assert!(embedded.iter().all(|p| p.skip.is_none()));
    let filtered = plan(
        derive_cases(&PROVIDER_TABLE),
        false,
        Some("amount_below_minimum"),
    );
    assert!(!filtered.is_empty());
    assert!(filtered.iter().all(|p| matches!(
        p.case.kind,
        CaseKind::Reject {
            rule: Rule::AmountBelowMinimum,
            ..
        }
    )));
}
