//! Seeded fault profiles (issue 16, part 2) and the client's recovery
//! (part 3): every answer fault comes after the payment is stored, so the
//! client cannot tell from the answer whether it paid; the client recovers
//! by replaying the same bytes and asking `status`, never paying twice;
//! with recovery disabled the same faults leave it not knowing. Callback
//! faults (duplicate, stale "in progress" after the final, delayed, an
//! unknown order) are drawn from the seed: the same seed gives the same
//! delivery log byte for byte on the manual clock.

mod simulator_support;

use std::time::Duration;

use paygate::gateway::client::{GatewayClient, Recovery, Resolution, RetryPolicy};
use paygate::gateway::Status;
use paygate_conformance::simulator::faults::{AnswerFault, CallbackFault, FaultProfile};
use paygate_conformance::simulator::{
    ClockMode, RunningSimulator, SimulatorConfig, DEMO_PUBLIC_ID, DEMO_SECRET_KEY,
};
use serde_json::{json, Value};
use simulator_support::*;

/// A client that waits 300 ms for an answer and replays up to three times.
fn patient_client(sim: &RunningSimulator, recovery: Recovery) -> GatewayClient {
    let mut config = client_with(&sim.base_url(), DEMO_PUBLIC_ID, DEMO_SECRET_KEY, None)
        .config()
        .clone();
    config.timeout = Duration::from_millis(300);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(5),
    };
    config.recovery = recovery;
    GatewayClient::new(config).unwrap()
}

fn only(answer: AnswerFault) -> FaultProfile {
    FaultProfile {
        answers: vec![answer],
        callbacks: Vec::new(),
        slow_ms: 1_000,
        ..FaultProfile::new(11, 100)
    }
}

async fn with_faults(profile: FaultProfile) -> RunningSimulator {
    let mut config: SimulatorConfig = fast_config();
    config.faults.insert(DEMO_PUBLIC_ID.to_owned(), profile);
    simulator(config).await
}

#[tokio::test]
async fn every_answer_fault_comes_after_the_commit_and_is_resolved_without_a_second_debit() {
    for fault in AnswerFault::ALL {
        let sim = with_faults(only(fault)).await;
        let order = format!("fault-{fault:?}");
        let request = typed(kenya_c2b(&order, "254700000000", None));

        // Without recovery the client cannot tell, yet the payment is stored.
        let err = patient_client(&sim, Recovery::Disabled)
            .payment_c2b(typed(kenya_c2b(
                &format!("{order}-x"),
                "254700000000",
                None,
            )))
            .await
            .expect_err("an ambiguous answer is an error without recovery");
        assert!(err.is_ambiguous(), "{fault:?}: {err}");
        assert!(
            sim.state()
                .transaction(DEMO_PUBLIC_ID, &format!("{order}-x"))
                .is_some(),
            "{fault:?}: the fault came before the commit"
        );

        // With it, the outcome is learned and the order exists once.
        let reply = patient_client(&sim, Recovery::ReplayThenStatus)
            .payment_c2b(request)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(reply.order_id, order, "{fault:?}");
        let expected_attempts = if fault == AnswerFault::ErrorBody {
            1
        } else {
            3
        };
        assert_eq!(
            reply.resolution,
            Resolution::ByStatus {
                attempts: expected_attempts
            },
            "{fault:?}: every request is faulted at 100 %, so only status can tell"
        );
        let tx = sim.state().transaction(DEMO_PUBLIC_ID, &order).unwrap();
        assert_eq!(tx.transaction_id, reply.transaction_id, "{fault:?}");
        assert_eq!(sim.state().store().transaction_count(), 2, "{fault:?}");
        let (_, faults) = control_get(
            &sim,
            &format!("{}/_sim/merchants/{DEMO_PUBLIC_ID}/faults", sim.base_url()),
        )
        .await;
        assert!(
            faults["injected"]
                .as_object()
                .is_some_and(|m| !m.is_empty()),
            "{faults}"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_replay_that_gets_through_is_answered_with_the_original_outcome() {
    // 50 %: over many orders some first answers are lost and a replay of
    // the same bytes gets the stored answer.
    let sim = with_faults(FaultProfile {
        answers: vec![AnswerFault::BadGateway, AnswerFault::Drop],
        callbacks: Vec::new(),
        ..FaultProfile::new(5, 50)
    })
    .await;
    let client = patient_client(&sim, Recovery::Replay);
    let mut replayed = 0;
    for i in 0..40 {
        let order = format!("replay-{i}");
        match client
            .payment_c2b(typed(kenya_c2b(&order, "254700000000", None)))
            .await
        {
            Ok(reply) => {
                if let Resolution::Replayed { attempts } = reply.resolution {
                    assert!(attempts > 1);
                    replayed += 1;
                }
                let tx = sim.state().transaction(DEMO_PUBLIC_ID, &order).unwrap();
                assert_eq!(tx.transaction_id, reply.transaction_id);
            }
            // Three faults in a row (1 in 8): unknown, and said so.
            Err(err) => assert!(err.is_ambiguous(), "{err}"),
        }
    }
    assert!(replayed > 5, "only {replayed} replays answered");
    assert_eq!(sim.state().store().transaction_count(), 40);
    sim.shutdown().await;
}

#[tokio::test]
async fn profiles_are_set_read_and_removed_through_the_control_api_and_checked() {
    let sim = simulator(fast_config()).await;
    let url = format!("{}/_sim/merchants/{DEMO_PUBLIC_ID}/faults", sim.base_url());
    let put = |body: Value| {
        control(&sim, reqwest::Method::PUT, &url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let bad = put(json!({"seed": 1, "rate_percent": 150})).await.unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = serde_json::from_slice(&bad.bytes().await.unwrap()).unwrap();
    assert_eq!(bad["field"], "rate_percent", "{bad}");
    let bad = put(json!({"seed": 1, "rate_percent": 10, "answers": ["explode"]}))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let ok =
        put(json!({"seed": 1, "rate_percent": 100, "answers": ["bad_gateway"], "callbacks": []}))
            .await
            .unwrap();
    assert_eq!(ok.status(), 200);
    let client = patient_client(&sim, Recovery::Disabled);
    let err = client
        .payment_c2b(typed(kenya_c2b("api-1", "254700000000", None)))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err}");
    let (_, view) = control_get(&sim, &url).await;
    assert_eq!(view["injected"]["answer.bad_gateway"], 1, "{view}");
    let gone = control(&sim, reqwest::Method::DELETE, &url)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);
    client
        .payment_c2b(typed(kenya_c2b("api-2", "254700000000", None)))
        .await
        .expect("no fault once removed");
    // Without the admin token nothing changes.
    let anonymous = reqwest::Client::new()
        .put(&url)
        .body(json!({"seed": 1, "rate_percent": 100}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let unknown = control(
        &sim,
        reqwest::Method::GET,
        &format!("{}/_sim/merchants/nobody/faults", sim.base_url()),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
    sim.shutdown().await;
}

/// 2026-03-01 00:00:00 UTC, in ms.
const START_MS: u64 = 1_772_323_200_000;

/// Thirty payments with callback faults on the manual clock; the delivery
/// log as the control API prints it.
async fn delivery_log(seed: u64) -> (String, Vec<Received>) {
    let mut config = fast_config();
    config.clock = ClockMode::Manual {
        start_ms: Some(START_MS),
    };
    config.latency = Duration::from_secs(5);
    config.faults.insert(
        DEMO_PUBLIC_ID.to_owned(),
        FaultProfile {
            answers: Vec::new(),
            callback_delay_ms: 120_000,
            ..FaultProfile::new(seed, 60)
        },
    );
    let sim = simulator(config).await;
    let receiver = Receiver::start(Some(0)).await;
    let client = client(&sim);
    for i in 0..30 {
        client
            .payment_c2b(typed(kenya_c2b(
                &format!("log-{i}"),
                "254700000000",
                Some(&receiver.url),
            )))
            .await
            .unwrap();
    }
    for seconds in [5, 1, 60, 60, 60] {
        advance(&sim, seconds).await;
    }
    let log = control(
        &sim,
        reqwest::Method::GET,
        &format!("{}/_sim/callbacks", sim.base_url()),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap()
    // The receiver's port is the only input that differs between runs.
    .replace(&receiver.url, "http://receiver/callback");
    let received = receiver.all();
    sim.shutdown().await;
    (log, received)
}

#[tokio::test]
async fn the_same_seed_gives_a_byte_identical_delivery_log_with_every_callback_fault() {
    let (first, received) = delivery_log(42).await;
    let (second, _) = delivery_log(42).await;
    assert_eq!(first, second, "same seed, same requests, same advances");
    let (other, _) = delivery_log(43).await;
    assert_ne!(first, other, "another seed draws other faults");

    // Every callback is signed correctly, whatever the fault.
    assert!(received.iter().all(|r| r.callback.is_some()));
    let callbacks: Vec<_> = received.iter().filter_map(|r| r.callback.clone()).collect();
    let of = |order: &str| -> Vec<i64> {
        callbacks
            .iter()
            .filter(|c| c.order_id == order)
            .map(|c| c.status.code())
            .collect()
    };
    let orders: Vec<String> = (0..30).map(|i| format!("log-{i}")).collect();
    let profile = FaultProfile {
        answers: Vec::new(),
        ..FaultProfile::new(42, 60)
    };
    let mut seen = std::collections::BTreeSet::new();
    for order in &orders {
        let fault = profile.callback_fault(DEMO_PUBLIC_ID, order, Status::Success.code());
        let statuses = of(order);
        match fault {
            None | Some(CallbackFault::Delay) | Some(CallbackFault::UnknownOrder) => {
                assert_eq!(statuses, [2], "{order}: {fault:?}")
            }
            Some(CallbackFault::Duplicate) => assert_eq!(statuses, [2, 2], "{order}"),
            Some(CallbackFault::Reorder) => assert_eq!(statuses, [2, 1], "{order}: final first"),
        }
        if fault == Some(CallbackFault::UnknownOrder) {
            assert_eq!(of(&format!("never-sent-{order}")), [2], "{order}");
        }
        seen.extend(fault);
    }
    assert_eq!(
        seen.len(),
        4,
        "seed 42 draws every kind over 30 orders: {seen:?}"
    );
    let log: Value = serde_json::from_str(&first).unwrap();
    let delayed = orders
        .iter()
        .find(|o| profile.callback_fault(DEMO_PUBLIC_ID, o, 2) == Some(CallbackFault::Delay))
        .unwrap();
    let at = log["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["order_id"] == delayed.as_str())
        .map(|a| a["at"].as_str().unwrap().to_owned())
        .unwrap();
    assert!(
        at.starts_with("2026-03-01 00:02:05"),
        "a delayed callback is sent 120 s after the outcome (5 s): {at}"
    );
}
