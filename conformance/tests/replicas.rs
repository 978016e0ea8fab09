//! Replicas: three `paygate simulate --db postgres://... --replica`
//! processes on one PostgreSQL database, behind a round-robin TCP front
//! (`replica_support`), take the load run of `reliability_fault` (20,000
//! signed C2B requests from 64 clients, replays, reused order ids, a
//! callback endpoint failing every third attempt), and the second replica
//! is killed with SIGKILL halfway and not started again (a request that
//! got no answer is sent again, same bytes, and the front hands its new
//! connection to a replica still up). The clients share their keep-alive
//! connections, so a replay or a reused order id often reaches another
//! replica than the one that accepted the order. Afterwards the three
//! behaved as one gateway: no request got a 5xx; every replay got the
//! bytes of the first answer and every reused order id a 409, whichever
//! replica answered; no order has two transaction ids and no two orders
//! share one; the two survivors took over the killed replica's pending
//! outcomes and callbacks (its heartbeat is 2 s old after
//! `--replica-timeout-ms 2000`), so every accepted order gets its verified
//! callback with its final status; the survivors' control API knows every
//! accepted order with its id; PostgreSQL holds exactly one row per
//! accepted order, with the id its answer gave; and each survivor replays
//! a sample of 100 accepted orders, sent to it directly, byte for byte.
//!
//! Needs PostgreSQL (`#[ignore]`d otherwise): `scripts/postgres-tests.sh`
//! runs it. Loopback only; bounded: 20,000 requests, each retried for at
//! most 30 s, the whole run at most 10 minutes, callbacks awaited for at
//! most 120 s, each database check at most 60 s.

mod postgres_support;
mod reliability_support;
mod replica_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use reliability_support::*;
use replica_support::RoundRobin;

const REQUESTS: usize = 20_000;
const CLIENTS: usize = 64;
const REPLICAS: usize = 3;
/// The replica killed halfway (the second).
const KILLED: usize = 1;
/// How long a replica's heartbeat may be missing before the others take
/// over its pending work.
const REPLICA_TIMEOUT_MS: u64 = 2000;
/// Accepted orders each survivor is asked to replay directly.
const SAMPLE: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn three_replicas_act_as_one_gateway_while_one_is_killed() {
    let db = postgres_support::fresh_database("replicas");
    let dir = scratch("replicas");
    let sink = CallbackSink::start().await;
    let merchants = merchants_file(&dir, &sink.url);
    let mut sims = replica_processes(&dir, &merchants, &db, REPLICAS, 5, REPLICA_TIMEOUT_MS);
    for sim in &mut sims {
        sim.start().await;
    }
    let backends: Vec<SocketAddr> = sims
        .iter()
        .map(|sim| SocketAddr::from(([127, 0, 0, 1], sim.port)))
        .collect();
    let front = RoundRobin::start(backends).await;

    let plan = Plan {
        clients: CLIENTS,
        requests: REQUESTS,
        // Callbacks go to the merchant's configured URL.
        callback_url: None,
        prefix: "replicas".into(),
        retry_for: Duration::from_secs(30),
    };
    let progress = Arc::new(Progress::default());
    let load = {
        let plan = plan.clone();
        let progress = progress.clone();
        let url = front.url();
        tokio::spawn(async move { run(&plan, &url, progress).await })
    };

    // Halfway: SIGKILL the second replica, for good.
    let deadline = Instant::now() + Duration::from_secs(180);
    while progress.done.load(Ordering::SeqCst) < REQUESTS / 2 {
        if Instant::now() >= deadline {
            load.abort();
            panic!(
                "the first half did not finish within 180 s ({} answers)",
                progress.done.load(Ordering::SeqCst)
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let served_before = front.served();
    let killed_at = progress.done.load(Ordering::SeqCst);
    sims[KILLED].kill();
    let callbacks_at_kill = sink.delivered_orders();
    progress.generation.fetch_add(1, Ordering::SeqCst);
    assert!(
        served_before.iter().all(|n| *n > 0),
        "every replica served connections before the kill: {served_before:?}"
    );

    let report = match tokio::time::timeout(Duration::from_secs(600), load).await {
        Ok(report) => report.expect("load run"),
        Err(_) => panic!("the load run did not finish within 10 minutes"),
    };
    let survivors: Vec<String> = sims
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != KILLED)
        .map(|(_, sim)| sim.base_url())
        .collect();

    // Every accepted order gets its callback, also those whose outcome or
    // delivery was still pending at the killed replica.
    let asked = survivors[0].clone();
    let explain = |order: String| {
        let base = asked.clone();
        async move { explain_order(&base, &order).await }
    };
    check_callbacks(&report, &sink, Duration::from_secs(120), explain).await;
    print_figures("replicas", &report, &sink);
    let before_kill = report.accepted.iter().filter(|a| a.generation == 0).count();
    println!(
        "replicas: SIGKILL of replica #{} after {killed_at} answers ({before_kill} orders \
         accepted before it, {callbacks_at_kill} with a callback), not restarted; \
         {} replays across the kill; connections per replica {served_before:?} before the \
         kill, {:?} at the end; {} failed connects to a replica, {} client connections \
         refused by every replica",
        KILLED + 1,
        report.replays_across_restart,
        front.served(),
        front.failovers(),
        front.dropped(),
    );

    assert!(report.sent >= REQUESTS, "{} requests sent", report.sent);
    assert!(
        before_kill > 0 && before_kill < report.accepted.len(),
        "orders accepted both before and after the kill: {before_kill} of {}",
        report.accepted.len()
    );
    assert!(
        report.replays_across_restart > 0,
        "some replays of orders accepted before the kill came after it"
    );
    // No 5xx; replays (whichever replica got them) got the stored bytes;
    // reused order ids got 409; a request resent after the kill was not
    // run again (one transaction id per order, ids unique).
    check_answers(&report);

    // The survivors' control API knows every accepted order, same id.
    let lost = missing_transactions(&front.url(), &report.accepted).await;
    assert!(
        lost.is_empty(),
        "{} accepted transactions lost or changed: {:?}",
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );

    // Each survivor's delivery log lists every replica's attempts: every
    // accepted order has a delivered one (the attempts are recorded
    // without waiting for their commit, so give the writers a moment).
    for base in &survivors {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let undelivered = orders_without_delivery(base, &report.accepted).await;
            if undelivered.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{base}/_sim/callbacks lists no delivered attempt for {} accepted orders: {:?}",
                undelivered.len(),
                undelivered.iter().take(5).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // Each survivor's dashboard lists every replica's transactions.
    for base in &survivors {
        let listed = admin_get(&format!("{base}/_sim/transactions?limit=1000"))
            .await
            .expect("the list answers")
            .bytes()
            .await
            .unwrap_or_default();
        let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap_or_default();
        assert_eq!(
            listed["total"].as_u64(),
            Some(report.accepted.len() as u64),
            "{base}: the dashboard's total"
        );
        assert_eq!(
            listed["transactions"].as_array().map(Vec::len),
            Some(1000),
            "{base}: the dashboard's list"
        );
    }

    // PostgreSQL itself: one row per accepted order, with its id.
    let rows = database_transactions(&db.to_string_lossy()).await;
    let accepted = report.accepted.len() as i64;
    assert_eq!(
        rows.count, accepted,
        "as many rows in transactions as accepted orders"
    );
    assert_eq!(
        rows.distinct_ids, accepted,
        "as many distinct transaction ids in transactions as accepted orders"
    );
    let wrong: Vec<String> = report
        .accepted
        .iter()
        .filter(|a| rows.by_order.get(&a.order_id) != Some(&a.transaction_id))
        .map(|a| {
            format!(
                "{}: answered {}, stored {:?}",
                a.order_id,
                a.transaction_id,
                rows.by_order.get(&a.order_id)
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} accepted orders missing from PostgreSQL or stored with another id: {:?}",
        wrong.len(),
        wrong.iter().take(5).collect::<Vec<_>>()
    );

    // An order accepted by one replica is replayed byte for byte by each
    // of the others: a sample, sent to each survivor directly.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let step = (report.accepted.len() / SAMPLE).max(1);
    let sample: Vec<&Accepted> = report.accepted.iter().step_by(step).take(SAMPLE).collect();
    let mut mismatches = Vec::new();
    for base in &survivors {
        let url = format!("{base}/{PUBLIC_ID}/payment_c2b");
        for a in &sample {
            match post_bytes(&http, &url, &a.request).await {
                Ok((200, bytes)) if bytes == a.response => {}
                Ok((status, bytes)) => mismatches.push(format!(
                    "{base}: replay of {}: HTTP {status} {} (first answer {})",
                    a.order_id,
                    String::from_utf8_lossy(&bytes),
                    String::from_utf8_lossy(&a.response)
                )),
                Err(err) => mismatches.push(format!(
                    "{base}: replay of {}: no answer: {err}",
                    a.order_id
                )),
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} direct replays to the survivors did not get the stored bytes: {:?}",
        mismatches.len(),
        sample.len() * survivors.len(),
        mismatches.iter().take(5).collect::<Vec<_>>()
    );

    drop(front);
    for sim in &mut sims {
        sim.kill();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `count` `paygate simulate --replica` processes on `db` (not started),
/// each in a folder of its own under `dir`, with the outcome latency and
/// the replica timeout given (callback backoff 5 ms).
fn replica_processes(
    dir: &std::path::Path,
    merchants: &std::path::Path,
    db: &std::path::Path,
    count: usize,
    latency_ms: u64,
    timeout_ms: u64,
) -> Vec<SimProcess> {
    (0..count)
        .map(|i| {
            let own = dir.join(format!("replica-{i}"));
            std::fs::create_dir_all(&own).expect("the replica's scratch folder");
            let mut sim = SimProcess::new(&own, merchants.to_path_buf(), latency_ms, 5);
            sim.db = db.to_path_buf();
            sim.extra_args = vec![
                "--replica".into(),
                "--replica-timeout-ms".into(),
                timeout_ms.to_string(),
            ];
            sim
        })
        .collect()
}

/// A replica replaced during a deploy (SIGTERM, not SIGKILL) hands its
/// pending work over at once: a payment accepted by replica A, whose
/// outcome is 2 s away, is called back through replica B within 10 s of
/// A's SIGTERM, although B would take a silent replica for dead only after
/// 30 s (`--replica-timeout-ms 30000`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn a_replica_stopped_with_sigterm_hands_its_work_over_at_once() {
    let db = postgres_support::fresh_database("replicas_leave");
    let dir = scratch("replicas-leave");
    let sink = CallbackSink::start().await;
    let merchants = merchants_file(&dir, &sink.url);
    let mut sims = replica_processes(&dir, &merchants, &db, 2, 2_000, 30_000);
    for sim in &mut sims {
        sim.start().await;
    }
    let order = "leave-1";
    let body = signed_c2b(order, &customer_for(1), "1500", None);
    let http = reqwest::Client::new();
    let (status, answer) = post_bytes(
        &http,
        &format!("{}/{PUBLIC_ID}/payment_c2b", sims[0].base_url()),
        &body,
    )
    .await
    .expect("replica A answers");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    let exit = sims[0].terminate(Duration::from_secs(15));
    assert!(exit.success(), "replica A exits cleanly on SIGTERM: {exit}");
    let stopped = Instant::now();
    let deadline = stopped + Duration::from_secs(10);
    loop {
        if let Some(delivered) = sink.delivered().get(order) {
            assert_eq!(delivered[0].status, expected_status(&customer_for(1)));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no callback for {order} within 10 s of replica A's SIGTERM: {}",
            std::fs::read_to_string(&sims[1].log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "replicas_leave: callback through replica B {:?} after replica A's SIGTERM",
        stopped.elapsed()
    );
    for sim in &mut sims {
        sim.kill();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The accepted orders `{base}/_sim/callbacks` shows no delivered attempt
/// for.
async fn orders_without_delivery(base: &str, accepted: &[Accepted]) -> Vec<String> {
    let listed = match admin_get(&format!("{base}/_sim/callbacks")).await {
        Ok(response) => response.bytes().await.unwrap_or_default(),
        Err(err) => return vec![format!("no answer: {err}")],
    };
    let value: serde_json::Value = serde_json::from_slice(&listed).unwrap_or_default();
    let delivered: std::collections::HashSet<&str> = value["callbacks"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|a| a["delivered"] == true)
                .filter_map(|a| a["order_id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    accepted
        .iter()
        .filter(|a| !delivered.contains(a.order_id.as_str()))
        .map(|a| a.order_id.clone())
        .collect()
}

/// POSTs `body` to `url` once; the status and the body of the answer.
async fn post_bytes(
    http: &reqwest::Client,
    url: &str,
    body: &[u8],
) -> Result<(u16, Bytes), String> {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, bytes))
}

/// What the `transactions` table holds.
struct Rows {
    /// `count(*)`.
    count: i64,
    /// `count(DISTINCT transaction_id)`.
    distinct_ids: i64,
    /// The reliability merchant's rows: order id → transaction id.
    by_order: HashMap<String, String>,
}

/// Reads the `transactions` table of the database at `url`.
/// `postgres::Client` runs a runtime of its own, so it runs on a thread of
/// its own; the answer comes back on a channel (at most 60 s).
async fn database_transactions(url: &str) -> Rows {
    let url = url.to_owned();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_transactions(&url));
    });
    match tokio::time::timeout(Duration::from_secs(60), rx).await {
        Ok(Ok(Ok(rows))) => rows,
        Ok(Ok(Err(err))) => panic!("reading the transactions table: {err}"),
        Ok(Err(_)) => panic!("the thread reading the transactions table failed"),
        Err(_) => panic!("reading the transactions table took more than 60 s"),
    }
}

fn read_transactions(url: &str) -> Result<Rows, String> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    config.connect_timeout(Duration::from_secs(10));
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| format!("cannot connect: {e}"))?;
    let counts = client
        .query_one(
            "SELECT count(*), count(DISTINCT transaction_id) FROM transactions",
            &[],
        )
        .map_err(|e| format!("counting: {e}"))?;
    let count: i64 = counts.try_get(0).map_err(|e| e.to_string())?;
    let distinct_ids: i64 = counts.try_get(1).map_err(|e| e.to_string())?;
    let mut by_order = HashMap::new();
    for row in client
        .query(
            "SELECT order_id, transaction_id FROM transactions WHERE public_id = $1",
            &[&PUBLIC_ID],
        )
        .map_err(|e| format!("listing: {e}"))?
    {
        let order: String = row.try_get(0).map_err(|e| e.to_string())?;
        let id: String = row.try_get(1).map_err(|e| e.to_string())?;
        by_order.insert(order, id);
    }
    Ok(Rows {
        count,
        distinct_ids,
        by_order,
    })
}
