//! The HUB2 conformance cases: derived from the spec, all passing against
//! the embedded simulator, skipped against a remote target without HUB2
//! credentials, and failing against a simulator that misbehaves.

use std::collections::HashSet;

use paygate::gateway::PROVIDER_TABLE;
use paygate::hub2::models::{Country, Provider, OPERATIONS};
use paygate_conformance::conform::{
    derive_cases, plan, plan_with, run, Outcome, RunConfig, Target,
};

#[test]
fn hub2_cases_cover_the_spec() {
    let cases = derive_cases(&PROVIDER_TABLE);
    let ids: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), cases.len());
    // Every Country x Provider pair of the spec is a case.
    for country in Country::ALL {
        for provider in Provider::ALL {
            let (c, p) = (country.as_str(), provider.as_str());
            assert!(
                ids.contains(format!("hub2/pay/{c}/{p}").as_str())
                    || ids.contains(format!("hub2/unsupported_pair/{c}/{p}").as_str()),
                "{c}/{p}"
            );
        }
    }
    for op in OPERATIONS {
        assert!(ids.contains(format!("hub2/no_credentials/{}", op.id).as_str()));
    }
    for id in [
        "hub2/otp",
        "hub2/otp_wrong",
        "hub2/wrong_token",
        "hub2/forbidden_reference/purchaseReference",
        "hub2/delegated/no_permission/payments",
        "hub2/poll_final_intent",
        "hub2/webhook_signatures",
        "hub2/transfer_above_balance",
        "hub2/bank_transfer/CI",
        "hub2/retry_after_failure",
        "hub2/retry_after_wrong_otp",
        "hub2/no_attempt_while_pending",
        "hub2/fees",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    assert!(cases
        .iter()
        .filter(|c| c.id.starts_with("hub2/"))
        .all(|c| c.group.starts_with("hub2-") && c.needs.hub2));
}

#[test]
fn remote_runs_skip_hub2_without_credentials_and_control_cases_always() {
    let without = plan(derive_cases(&PROVIDER_TABLE), true, Some("hub2/"));
    assert!(!without.is_empty());
    assert!(without.iter().all(|p| p.skip.is_some()));
    let with = plan_with(derive_cases(&PROVIDER_TABLE), true, true, Some("hub2/"));
    let running: Vec<_> = with.iter().filter(|p| p.skip.is_none()).collect();
    assert!(!running.is_empty());
    assert!(running
        .iter()
        .all(|p| p.case.sandbox_safe && !p.case.needs.control_api));
    assert!(with
        .iter()
        .any(|p| p.case.id == "hub2/webhook_signatures" && p.skip.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_hub2_case_passes_against_the_embedded_simulator() {
    let mut config = RunConfig::new(Target::embedded_default());
    config.filter = Some("hub2/".into());
    let results = run(config, derive_cases(&PROVIDER_TABLE), |_| {})
        .await
        .unwrap();
    assert!(results.len() > 100);
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Fail(m) => Some(format!("{}: {m}", r.id)),
            _ => None,
        })
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_simulator_without_the_polling_throttle_fails_the_throttle_case() {
    let Target::Embedded(mut sim) = Target::embedded_default() else {
        unreachable!()
    };
    sim.hub2.poll_limit.requests = 1_000;
    let mut config = RunConfig::new(Target::Embedded(sim));
    config.filter = Some("hub2/poll".into());
    let results = run(config, derive_cases(&PROVIDER_TABLE), |_| {})
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    assert!(
        matches!(results[0].outcome, Outcome::Fail(_)),
        "{results:?}"
    );
}
