//! The derived case list: big enough, covering every provider and rule, and
//! filtered to sandbox-safe cases against a remote target.

use std::collections::{BTreeMap, HashSet};

use paygate::gateway::rules::Direction;
use paygate::gateway::validate::{check_payment, PaymentDraft, Rule};
use paygate::gateway::PROVIDER_TABLE;
use paygate_conformance::conform::binding::phone_binds;
use paygate_conformance::conform::cases::TEST_PROVIDER;
use paygate_conformance::conform::payment_builders::valid_payment;
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
        "country",
        "warnings",
        "examples",
    ] {
        assert!(
            by_group.get(group).copied().unwrap_or(0) > 0,
            "no case in {group}: {by_group:?}"
        );
    }

    for provider in PROVIDER_TABLE.providers {
        for direction in Direction::BOTH {
            let rule = provider.direction(direction);
            let limits = &rule.limits;
            let prefix = format!("{}/{}/", direction.as_str(), provider.id);
            assert!(
                ids.contains(format!("{prefix}accepted").as_str()),
                "{prefix}accepted missing"
            );
            // Negative cases exist exactly for the binding rules.
            assert_eq!(
                ids.contains(format!("{prefix}amount_below_minimum").as_str()),
                limits.min.is_some_and(|m| m.minor() > 0),
                "{prefix}amount_below_minimum"
            );
            assert_eq!(
                ids.contains(format!("{prefix}amount_above_maximum").as_str()),
                limits.max.is_some(),
                "{prefix}amount_above_maximum"
            );
            let has_phone = PROVIDER_TABLE.phone_for(provider).is_some();
            assert_eq!(
                ids.contains(format!("{prefix}phone_format").as_str()),
                has_phone && phone_binds(&PROVIDER_TABLE, provider, direction),
                "{prefix}phone_format"
            );
            for extra in rule.extras {
                let refused = format!("{prefix}missing_extra/{}", extra.name);
                let warned = format!("{prefix}warned/missing_extra/{}", extra.name);
                if extra.provenance.certainty.binds() {
                    assert!(ids.contains(refused.as_str()), "{refused}");
                    assert!(!ids.contains(warned.as_str()), "{warned}");
                } else {
                    assert!(ids.contains(warned.as_str()), "{warned}");
                    assert!(!ids.contains(refused.as_str()), "{refused}");
                }
            }
        }
    }
}

#[test]
fn the_derived_expectations_agree_with_the_clients_validator() {
    // The suite computes expected refusals and warnings from the table's
    // data; the client's validator computes them in its own code. They must
    // agree on every case.
    for case in derive_cases(&PROVIDER_TABLE) {
        let (payment, refused, warned) = match &case.kind {
            CaseKind::Accept {
                payment, warned, ..
            } => (payment, None, Some(warned)),
            CaseKind::Reject { payment, rule, .. } => (payment, Some(*rule), None),
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
        let found = check_payment(&PROVIDER_TABLE, &draft);
        match refused {
            Some(rule) => assert!(
                found.refusals.iter().any(|v| v.rule == rule),
                "{} should be refused for {rule}: {:?}",
                case.id,
                found.refusals
            ),
            None => assert!(
                found.refusals.is_empty(),
                "{} should be accepted: {:?}",
                case.id,
                found.refusals
            ),
        }
        if let Some(warned) = warned {
            let mut raised: Vec<Rule> = found.warnings.iter().map(|w| w.rule).collect();
            raised.sort_by_key(|r| r.as_str());
            raised.dedup();
            assert_eq!(&raised, warned, "{}: {:?}", case.id, found.warnings);
        }
    }
}

#[test]
fn valid_payments_respect_the_binding_step() {
    let provider = PROVIDER_TABLE
        .providers
        .iter()
        .find(|p| p.c2b.limits.step.is_some())
        .unwrap();
    let payment = valid_payment(&PROVIDER_TABLE, provider, Direction::C2b).unwrap();
    let limits = provider.c2b.limits;
    assert!(payment.amount.is_multiple_of(limits.step.unwrap()));
    assert!(limits.min.is_none_or(|m| payment.amount >= m));
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
