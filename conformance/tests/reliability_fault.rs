//! Fault: the load run of `reliability_load` (20,000 signed C2B requests
//! from 64 clients, replays, reused order ids, a callback endpoint failing
//! every third attempt) against the `paygate simulate --db FILE` binary,
//! killed with SIGKILL halfway and started again on the same file while
//! the clients keep going (a request that got no answer is sent again,
//! same bytes: the gateway's idempotency makes that safe). Afterwards:
//! nothing accepted is lost (every 200 before the kill is still there with
//! its transaction id), replays after the restart get the stored bytes,
//! no order has two transaction ids (nothing ran twice), every accepted
//! order gets its verified callback (deliveries pending at the kill are
//! resumed), and no request got a 5xx.
//!
//! Loopback only; bounded: 20,000 requests, each retried for at most 30 s,
//! callbacks awaited for at most 120 s.

mod reliability_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reliability_support::*;

const REQUESTS: usize = 20_000;
const CLIENTS: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_halfway_and_restarted_loses_nothing_and_runs_nothing_twice() {
    let dir = scratch("reliability-fault");
    let sink = CallbackSink::start().await;
    let merchants = merchants_file(&dir, &sink.url);
    let mut sim = SimProcess::new(&dir, merchants, 5, 5);
    sim.start().await;

    let plan = Plan {
        clients: CLIENTS,
        requests: REQUESTS,
        // Callbacks go to the merchant's configured URL.
        callback_url: None,
        prefix: "fault".into(),
        retry_for: Duration::from_secs(30),
    };
    let progress = Arc::new(Progress::default());
    let base_url = sim.base_url();
    let load = {
        let plan = plan.clone();
        let progress = progress.clone();
        tokio::spawn(async move { run(&plan, &base_url, progress).await })
    };

    // Halfway: SIGKILL, then the same command on the same database.
    let deadline = Instant::now() + Duration::from_secs(120);
    while progress.done.load(Ordering::SeqCst) < REQUESTS / 2 {
        assert!(Instant::now() < deadline, "the first half did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = progress.done.load(Ordering::SeqCst);
    sim.kill();
    let callbacks_at_kill = sink.delivered_orders();
    progress.generation.fetch_add(1, Ordering::SeqCst);
    let down = Instant::now();
    sim.start().await;
    let downtime = down.elapsed();

    let report = load.await.expect("load run");
    let base = sim.base_url();
    let explain = |order: String| {
        let base = base.clone();
        async move { explain_order(&base, &order).await }
    };
    check_callbacks(&report, &sink, Duration::from_secs(120), explain).await;
    print_figures("reliability_fault", &report, &sink);
    let before_kill = report.accepted.iter().filter(|a| a.generation == 0).count();
    println!(
        "reliability_fault: SIGKILL after {killed_at} answers ({before_kill} orders accepted \
         before it, {callbacks_at_kill} with a callback), restarted in {downtime:?}; \
         {} replays across the restart",
        report.replays_across_restart
    );

    assert!(report.sent >= REQUESTS, "{} requests sent", report.sent);
    assert!(before_kill > 0 && before_kill < report.accepted.len());
    assert!(
        report.replays_across_restart > 0,
        "some replays of orders accepted before the kill came after it"
    );
    // No 5xx; replays (also across the restart) got the stored bytes; a
    // request resent after the kill was not run again (one transaction
    // id per order).
    check_answers(&report);

    // Nothing accepted is lost: every 200 is still there, same id.
    let lost = missing_transactions(&sim.base_url(), &report.accepted).await;
    assert!(
        lost.is_empty(),
        "{} accepted transactions lost or changed: {:?}",
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(
        sim.transaction_count().await,
        report.accepted.len() as u64,
        "as many transactions as accepted orders"
    );
    sim.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
