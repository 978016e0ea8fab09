//! Load: 20,000 signed C2B requests from 64 concurrent clients against the
//! in-process simulator (in memory, the default), with exact replays and
//! reused order ids, while the merchant's callback endpoint fails every
//! third attempt. Afterwards: no 5xx, every accepted transaction exists
//! exactly once, every replay got the stored bytes, every reused order id
//! got 409, every accepted order got a verified callback with its final
//! status (and never two different ones).
//!
//! Loopback only; bounded: 20,000 requests, each retried for at most 10 s,
//! callbacks awaited for at most 90 s.

mod reliability_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use paygate::signing::SecretKey;
use paygate_conformance::simulator::{start, CallbackRetry, Merchant, SimulatorConfig};
use reliability_support::*;

pub const REQUESTS: usize = 20_000;
pub const CLIENTS: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_requests_from_64_clients_with_failing_callbacks() {
    let sink = CallbackSink::start().await;
    let mut config = SimulatorConfig {
        merchants: vec![Merchant {
            public_id: PUBLIC_ID.into(),
            merchant_id: MERCHANT_ID.into(),
            secret_key: SecretKey::new(SECRET),
            callback_url: None,
        }],
        ..SimulatorConfig::default()
    };
    config.latency = Duration::from_millis(5);
    config.callback_retry = CallbackRetry {
        max_attempts: CALLBACK_ATTEMPTS,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(100),
    };
    let sim = start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts");

    let plan = Plan {
        clients: CLIENTS,
        requests: REQUESTS,
        callback_url: Some(sink.url.clone()),
        prefix: "load".into(),
        retry_for: Duration::from_secs(10),
    };
    let report = run(&plan, &sim.base_url(), Arc::new(Progress::default())).await;
    let explain = |order: String| {
        let state = sim.state().clone();
        async move {
            format!(
                "{order}: {:?}; attempts {:?}",
                state.transaction(PUBLIC_ID, &order),
                state.callback_attempts(Some(&order))
            )
        }
    };
    check_callbacks(&report, &sink, Duration::from_secs(90), explain).await;
    print_figures("reliability_load", &report, &sink);

    assert!(report.sent >= REQUESTS, "{} requests sent", report.sent);
    assert!(
        report.by_kind["replay"] >= REQUESTS / 20,
        "replays: {:?}",
        report.by_kind
    );
    assert!(
        report.by_kind["conflict"] >= REQUESTS / 20,
        "reuses: {:?}",
        report.by_kind
    );
    assert_eq!(
        report.transport_retries, 0,
        "no transport error against a simulator that stays up"
    );
    check_answers(&report);

    // Every accepted transaction exists exactly once, with its id.
    let state = sim.state();
    {
        let store = state.store();
        assert_eq!(
            store.transaction_count(),
            report.accepted.len(),
            "as many transactions as accepted orders"
        );
        for a in &report.accepted {
            let tx = store
                .get_cloned(PUBLIC_ID, &a.order_id)
                .unwrap_or_else(|| panic!("{} accepted but unknown", a.order_id));
            assert_eq!(tx.transaction_id, a.transaction_id);
            assert_eq!(tx.status, expected_status(&a.customer_id), "{}", a.order_id);
        }
        let ids: HashSet<String> = store
            .collect(|t| Some(t.transaction_id.clone()))
            .into_iter()
            .collect();
        assert_eq!(ids.len(), report.accepted.len());
    }
    // The simulator's own record: every order delivered exactly once
    // (HTTP 200 once), whatever the failed attempts before.
    let attempts = state.callback_attempts(None);
    let mut delivered = std::collections::HashMap::<&str, usize>::new();
    for a in attempts.iter().filter(|a| a.delivered) {
        *delivered.entry(a.order_id.as_str()).or_default() += 1;
    }
    assert_eq!(delivered.len(), report.accepted.len());
    assert!(delivered.values().all(|n| *n == 1));
    sim.shutdown().await;
}
