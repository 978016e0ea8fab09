//! A full run against the embedded simulator passes, its JUnit report is
//! well-formed, and the suite does fail against broken targets.

use std::time::{Duration, Instant};

use paygate::gateway::rules::{DirectionRule, Limits, ProviderRule, ProviderTable};
use paygate::gateway::PROVIDER_TABLE;
use paygate::signing::SecretKey;
use paygate_conformance::conform::cases::CaseKind;
use paygate_conformance::conform::report::Summary;
use paygate_conformance::conform::{
    derive_cases, junit_xml, run, summary_text, CaseResult, Outcome, RunConfig, Target,
};
use paygate_conformance::simulator::SimulatorConfig;

fn failures(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Fail(m) => Some(format!("{}: {m}", r.id)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_run_against_the_embedded_simulator_passes() {
    let mut cases = derive_cases(&PROVIDER_TABLE);
    // The 10 000 carts of the `faults` group take seconds in a release
    // build (the main job runs them) and minutes in this debug build; the
    // group runs here sized down (below).
    for case in &mut cases {
        if let CaseKind::AmbiguousFaults { payments, .. } = &mut case.kind {
            *payments = (*payments).min(1_000);
        }
    }
    let count = cases.len();
    let mut config = RunConfig::new(Target::embedded_default());
    config.concurrency = 32;
    let started = Instant::now();
    let results = run(config, cases, |_| {}).await.expect("the suite runs");
    let elapsed = started.elapsed();
    assert_eq!(results.len(), count);
    let failed = failures(&results);
    assert!(
        failed.is_empty(),
        "{} failures:\n{}",
        failed.len(),
        failed.join("\n")
    );
    let summary = Summary::of(&results);
    assert_eq!(summary.total.skipped, 0);
    assert_eq!(summary.total.passed, count);

    let text = summary_text(&results, elapsed);
    assert_eq!(
        text.lines().last(),
        Some(format!("{count} passed, 0 failed, 0 skipped").as_str())
    );

    // The JUnit report is well-formed XML with one testcase per case.
    let xml = junit_xml(&results, elapsed);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut testcases, mut suites) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => testcases += 1,
                    b"testsuite" => suites += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(testcases, count);
    assert_eq!(suites, summary.groups.len());
}

#[test]
fn junit_escapes_failure_messages() {
    let results = vec![
        CaseResult {
            id: "c2b/1/<weird & \"id\">".into(),
            group: "limits",
            outcome: Outcome::Fail("expected <422> & got \"200\"\nsecond line \u{1}".into()),
            duration: Duration::from_millis(5),
        },
        CaseResult {
            id: "skipped".into(),
            group: "flows",
            outcome: Outcome::Skip("needs callbacks".into()),
            duration: Duration::ZERO,
        },
    ];
    let xml = junit_xml(&results, Duration::from_secs(1));
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut failure_message = None;
    let mut skipped = 0;
    loop {
        match reader.read_event().expect("well-formed") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                if e.name().as_ref() == b"failure" {
                    let attr = e.try_get_attribute("message").unwrap().unwrap();
                    failure_message = Some(attr.unescape_value().unwrap().into_owned());
                }
                if e.name().as_ref() == b"skipped" {
                    skipped += 1;
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        failure_message.as_deref(),
        Some("expected <422> & got \"200\"")
    );
    assert_eq!(skipped, 1);
    assert!(xml.contains(r#"tests="2" failures="1" skipped="1""#));
}

/// A "gateway" that says yes to everything without checking anything.
async fn yes_man() -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::any;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(any(|| async {
        (
            [("content-type", "application/json")],
            r#"{"order_id":"x","transaction_id":"1","transaction_ref":"","status":2,"result":{"code":0,"message":"OK"},"provider_result":{"code":0,"message":"OK"},"service_id":1,"service_version":"1","service_date_time":"2024-01-01 00:00:00.000000","confirm_type":0}"#,
        )
    }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_accepts_everything_fails_the_suite() {
    let (base_url, server) = yes_man().await;
    let target = Target::Remote {
        base_url,
        public_id: "pub".into(),
        merchant_id: "merchant".into(),
        secret_key: SecretKey::new("secret"),
    };
    let results = run(
        RunConfig::new(target),
        derive_cases(&PROVIDER_TABLE),
        |_| {},
    )
    .await
    .unwrap();
    server.abort();
    let failed = failures(&results);
    for id in [
        "security/c2b/signature_tampered",
        "security/unknown_public_id",
        "security/malformed/not_json",
        "idempotency/c2b/order_id_reuse",
        "c2b/14/accepted",
    ] {
        assert!(
            failed.iter().any(|f| f.starts_with(&format!("{id}:"))),
            "{id} did not fail: {failed:#?}"
        );
    }
    // Client-side checks do not depend on the target.
    assert!(results
        .iter()
        .any(|r| r.id == "order_id/too_long" && r.outcome == Outcome::Pass));
    // Simulator-only cases are skipped, with a reason.
    assert!(results
        .iter()
        .any(|r| r.id == "c2b/9210/amount_below_minimum" && matches!(r.outcome, Outcome::Skip(_))));
}

/// The documented table with one rule dropped: provider 9210's C2B minimum.
fn table_without_a_minimum() -> &'static ProviderTable {
    let providers: Vec<ProviderRule> = PROVIDER_TABLE
        .providers
        .iter()
        .map(|p| {
            let mut p = *p;
            if p.id == 9210 {
                p.c2b = DirectionRule {
                    limits: Limits {
                        min: None,
                        ..p.c2b.limits
                    },
                    ..p.c2b
                };
            }
            p
        })
        .collect();
    // A few kilobytes, once per test: leaked because the table type holds
    // `'static` slices.
    Box::leak(Box::new(ProviderTable {
        providers: Vec::leak(providers),
        ..PROVIDER_TABLE
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulator_missing_a_rule_fails_the_suite() {
    let mut sim = SimulatorConfig::demo();
    sim.latency = Duration::from_millis(20);
    sim.providers = table_without_a_minimum();
    let mut config = RunConfig::new(Target::Embedded(Box::new(sim)));
    config.filter = Some("/9210/".into());
    let results = run(config, derive_cases(&PROVIDER_TABLE), |_| {})
        .await
        .unwrap();
    let failed = failures(&results);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].starts_with("c2b/9210/amount_below_minimum:"),
        "{failed:#?}"
    );
    assert!(failed[0].contains("422"), "{failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_run_runs_only_sandbox_safe_cases_and_they_pass_on_the_simulator() {
    let sim = paygate_conformance::simulator::start(
        SimulatorConfig::demo(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let target = Target::Remote {
        base_url: sim.base_url(),
        public_id: "demo-public-id".into(),
        merchant_id: "demo-merchant".into(),
        secret_key: SecretKey::new("demo-secret-key-change-me"),
    };
    let cases = derive_cases(&PROVIDER_TABLE);
    let safe: std::collections::HashSet<String> = cases
        .iter()
        .filter(|c| c.sandbox_safe && c.needs == Default::default())
        .map(|c| c.id.clone())
        .collect();
    let results = run(RunConfig::new(target), cases, |_| {}).await.unwrap();
    sim.shutdown().await;
    let failed = failures(&results);
    assert!(failed.is_empty(), "{failed:#?}");
    let ran: Vec<&CaseResult> = results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Skip(_)))
        .collect();
    assert_eq!(ran.len(), safe.len());
    assert!(ran.iter().all(|r| safe.contains(&r.id)));
    assert!(
        results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skip(_)))
            .count()
            > 1000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documentations_examples_and_flows_pass_on_the_simulator() {
    // Every request the documentation prints is accepted as printed, and
    // the flows the issue of faithful rules added hold end to end.
    let mut sim = SimulatorConfig::demo();
    sim.latency = Duration::from_millis(20);
    for filter in ["examples/", "flows/", "daily_maximum", "/warned/"] {
        let mut config = RunConfig::new(Target::Embedded(Box::new(sim.clone())));
        config.filter = Some(filter.into());
        let results = run(config, derive_cases(&PROVIDER_TABLE), |_| {})
            .await
            .unwrap();
        assert!(results.len() > 3, "{filter}: {} cases", results.len());
        let failed = failures(&results);
        assert!(failed.is_empty(), "{filter}: {failed:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_faults_check_fails_when_the_client_does_not_recover() {
    // The recovery case, its client's recovery turned off and no failure
    // expected: the suite must report unresolved carts and double debits.
    let cases: Vec<_> = derive_cases(&PROVIDER_TABLE)
        .into_iter()
        .filter_map(|mut case| match &mut case.kind {
            CaseKind::AmbiguousFaults {
                payments, recovery, ..
            } if *recovery => {
                *payments = 300;
                *recovery = false;
                Some(case)
            }
            _ => None,
        })
        .collect();
    assert_eq!(cases.len(), 1);
    let results = run(RunConfig::new(Target::embedded_default()), cases, |_| {})
        .await
        .expect("the suite runs");
    let Outcome::Fail(message) = &results[0].outcome else {
        panic!(
            "with recovery off the check must fail: {:?}",
            results[0].outcome
        );
    };
    assert!(
        message.contains("not resolved by the client") && !message.contains(" 0 debited twice"),
        "{message}"
    );
}
