//! The manual clock (issue 16, part 1): nothing time-based happens until
//! the clock is advanced; an advance fires the outcome timer and every
//! callback retry due on the way, in order, stamped with the virtual time;
//! thirty simulated days take well under a second; the same requests and
//! the same advances give the same attempts at the same times.

mod simulator_support;

use std::time::{Duration, Instant};

use paygate_conformance::simulator::{CallbackRetry, ClockMode, RunningSimulator, DEMO_PUBLIC_ID};
use serde_json::json;
use simulator_support::*;

/// 2026-01-31 23:00:00 UTC, in ms.
const START_MS: u64 = 1_769_900_400_000;

async fn manual_simulator() -> RunningSimulator {
    let mut config = fast_config();
    config.clock = ClockMode::Manual {
        start_ms: Some(START_MS),
    };
    config.latency = Duration::from_secs(60);
    config.callback_retry = CallbackRetry {
        max_attempts: 6,
        initial_backoff: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(86_400),
    };
    simulator(config).await
}

/// One payment whose callbacks always fail, then `steps` advances; the
/// attempts as (number, time) and the real time it took.
async fn scenario(steps: &[u64]) -> (Vec<(u32, String)>, Vec<i64>, Duration) {
    let sim = manual_simulator().await;
    let receiver = Receiver::start(None).await;
    let started = Instant::now();
    let answer = client(&sim)
        .payment_c2b(typed(kenya_c2b(
            "clock-1",
            "254700000000",
            Some(&receiver.url),
        )))
        .await
        .unwrap();
    let at = &answer.response.service_date_time;
    assert!(at.starts_with("2026-01-31 23:00:00"), "{at}");
    let mut statuses = Vec::new();
    for &step in steps {
        advance(&sim, step).await;
        statuses.push(
            sim.state()
                .transaction(DEMO_PUBLIC_ID, "clock-1")
                .unwrap()
                .status,
        );
    }
    let elapsed = started.elapsed();
    let attempts = sim
        .state()
        .callback_attempts(Some("clock-1"))
        .into_iter()
        .map(|a| (a.attempt, a.at))
        .collect();
    sim.shutdown().await;
    (attempts, statuses, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_days_of_retries_in_well_under_a_second_and_the_same_every_time() {
    // 59 s: not yet; 1 s more: the outcome (60 s latency) and the first
    // attempt; then 30 days: every retry, 1 h, 2 h, 4 h, 8 h, 16 h apart.
    let steps = [59, 1, 30 * 86_400];
    let (attempts, statuses, elapsed) = scenario(&steps).await;
    assert_eq!(
        statuses,
        [1, 2, 2],
        "final only once the latency has passed on the clock"
    );
    let expected = [
        (1, "2026-01-31 23:01:00"),
        (2, "2026-02-01 00:01:00"),
        (3, "2026-02-01 02:01:00"),
        (4, "2026-02-01 06:01:00"),
        (5, "2026-02-01 14:01:00"),
        (6, "2026-02-02 06:01:00"),
    ];
    assert_eq!(attempts.len(), expected.len(), "{attempts:?}");
    for ((n, at), (want_n, want_at)) in attempts.iter().zip(expected) {
        assert_eq!(*n, want_n);
        assert!(
            at.starts_with(want_at),
            "attempt {n} at {at}, expected {want_at}"
        );
    }
    assert!(
        elapsed < Duration::from_secs(1),
        "30 simulated days took {elapsed:?}"
    );

    let (again, _, _) = scenario(&steps).await;
    assert_eq!(
        again, attempts,
        "same requests, same advances: same attempts at the same times"
    );
}

#[tokio::test]
async fn the_clock_is_read_and_refused_on_the_wall_clock() {
    let sim = manual_simulator().await;
    let clock = advance(&sim, 0).await;
    assert_eq!(clock["mode"], "manual");
    assert_eq!(clock["now_ms"], START_MS);
    sim.shutdown().await;

    let wall = simulator(fast_config()).await;
    let response = control(
        &wall,
        reqwest::Method::POST,
        &format!("{}/_sim/clock/advance", wall.base_url()),
    )
    .body(json!({ "seconds": 1 }).to_string())
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 409);
    wall.shutdown().await;
}

/// A C2B provider with a binding daily maximum whose valid payment has no
/// flow waiting for the customer, and the payment.
fn daily_limited() -> (paygate_conformance::conform::cases::PaymentSpec, u64) {
    use paygate::gateway::rules::{Direction, Flow};
    use paygate::gateway::PROVIDER_TABLE;
    use paygate_conformance::conform::payment_builders::valid_payment;
    PROVIDER_TABLE
        .providers
        .iter()
        .filter(|p| p.c2b.flow() == Flow::Standard)
        .find_map(|p| {
            let daily = p.c2b.limits.daily_max?;
            let max = p.c2b.limits.max?;
            let spec = valid_payment(&PROVIDER_TABLE, p, Direction::C2b)?;
            (max.minor() <= daily.minor() && daily.minor() / max.minor() <= 5)
                .then_some((spec, max.minor()))
        })
        .expect("a provider with a daily maximum a few payments reach")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_maximum_counts_the_days_of_the_clock() {
    let (spec, max_minor) = daily_limited();
    let sim = manual_simulator().await;
    let amount = paygate::money::Amount::from_minor(max_minor).to_string();
    let extra: serde_json::Map<String, serde_json::Value> = spec
        .extras
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
        .collect();
    let send = |n: usize| {
        let body = payment(
            &format!("daily-{n}"),
            &spec.customer_id,
            i64::from(spec.provider_id),
            &amount,
            spec.currency,
            spec.country.unwrap_or("CI"),
            None,
            (!extra.is_empty()).then(|| serde_json::Value::Object(extra.clone())),
        );
        let sim = &sim;
        async move {
            post_raw(
                sim,
                "payment_c2b",
                "application/json",
                signed_bytes(typed::<paygate::gateway::PaymentC2bRequest>(body)),
            )
            .await
        }
    };
    // Payments of the maximum until the day's total is reached.
    let mut n = 0;
    loop {
        let (status, body) = send(n).await;
        n += 1;
        if status == 422 {
            assert!(String::from_utf8_lossy(&body).contains("amount_above_daily_maximum"));
            break;
        }
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(n < 50, "the daily maximum never bound");
    }
    // Still 2026-01-31 after 59 minutes; 2026-02-01 after one more.
    advance(&sim, 59 * 60).await;
    assert_eq!(send(n).await.0, 422, "same virtual day");
    advance(&sim, 60).await;
    let (status, body) = send(n + 1).await;
    assert_eq!(
        status,
        200,
        "a new virtual day: {}",
        String::from_utf8_lossy(&body)
    );
    sim.shutdown().await;
}
