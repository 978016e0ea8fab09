//! Group commit (issue 15): with `--db`, a new payment is answered only
//! after its commit, and requests for the same order that arrive while it
//! is being committed wait for it: identical ones get the very same bytes,
//! different ones 409, and there is one transaction.

mod simulator_support;

use paygate::gateway::PaymentC2bRequest;
use paygate_conformance::simulator::{SimulatorConfig, DEMO_PUBLIC_ID};
use simulator_support::*;

fn with_db(name: &str) -> (SimulatorConfig, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("persistence-races-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = fast_config();
    config.db = Some(dir.join("sim.db"));
    (config, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_requests_racing_on_a_new_order_get_one_answer_and_one_transaction() {
    let (config, dir) = with_db("identical");
    let sim = simulator(config).await;
    for round in 0..20 {
        let order = format!("race-{round}");
        let body = signed_bytes(typed::<PaymentC2bRequest>(kenya_c2b(
            &order,
            "254700000000",
            None,
        )));
        let answers = futures_join(32, |_| {
            let (sim, body) = (&sim, body.clone());
            async move { post_raw(sim, "payment_c2b", "application/json", body).await }
        })
        .await;
        let first = &answers[0];
        assert_eq!(first.0, 200, "{}", String::from_utf8_lossy(&first.1));
        for answer in &answers {
            assert_eq!(answer, first, "every racing replay gets the same bytes");
        }
        assert!(sim.state().transaction(DEMO_PUBLIC_ID, &order).is_some());
    }
    assert_eq!(sim.state().store().transaction_count(), 20);
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_requests_racing_on_a_new_order_get_one_200_and_409s() {
    let (config, dir) = with_db("different");
    let sim = simulator(config).await;
    for round in 0..20 {
        let order = format!("clash-{round}");
        let answers = futures_join(16, |n| {
            let sim = &sim;
            let customer = format!("2547000001{n:02}");
            let body = signed_bytes(typed::<PaymentC2bRequest>(kenya_c2b(
                &order, &customer, None,
            )));
            async move { post_raw(sim, "payment_c2b", "application/json", body).await }
        })
        .await;
        let ok = answers.iter().filter(|a| a.0 == 200).count();
        let conflicts = answers.iter().filter(|a| a.0 == 409).count();
        assert_eq!((ok, conflicts), (1, 15), "round {round}: {answers:?}");
    }
    assert_eq!(sim.state().store().transaction_count(), 20);
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `n` futures made by `make` concurrently; their outputs in order.
async fn futures_join<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut pending: Vec<_> = (0..n).map(|i| Box::pin(make(i))).collect();
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, fut) in pending.iter_mut().enumerate() {
            if out[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
