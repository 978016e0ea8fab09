//! Shutdown and bad database files (issue 14, defect 7).
//!
//! * SIGTERM under load: the `paygate simulate --db FILE` binary stops
//!   accepting, lets the requests in flight finish and exits 0; started
//!   again on the same file, it has lost nothing it answered 200 (replays
//!   get the same bytes), no client ever saw a 5xx, and every accepted
//!   payment gets its callback, those pending at SIGTERM (outcome timer
//!   not yet fired, or delivery not yet made) from the restarted process.
//! * A corrupt or foreign `--db` file stops the start with a message
//!   naming the file and what is wrong with it.

mod reliability_support;

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reliability_support::*;

const REQUESTS: usize = 4_000;
const CLIENTS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_0_and_loses_nothing() {
    let dir = scratch("hostile-shutdown");
    let sink = CallbackSink::start().await;
    let merchants = merchants_file(&dir, &sink.url);
    // Outcomes 300 ms after acceptance: at SIGTERM, the payments of the
    // last 300 ms still wait for their outcome and callback.
    let mut sim = SimProcess::new(&dir, merchants, 300, 5);
    sim.start().await;

    let plan = Plan {
        clients: CLIENTS,
        requests: REQUESTS,
        callback_url: None,
        prefix: "term".into(),
        retry_for: Duration::from_secs(30),
    };
    let progress = Arc::new(Progress::default());
    let base_url = sim.base_url();
    let load = {
        let plan = plan.clone();
        let progress = progress.clone();
        tokio::spawn(async move { run(&plan, &base_url, progress).await })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while progress.done.load(Ordering::SeqCst) < REQUESTS / 2 {
        assert!(Instant::now() < deadline, "the first half did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let status = tokio::task::block_in_place(|| sim.terminate(Duration::from_secs(20)));
    let called_back_at_stop = sink.delivered_orders();
    let answered_at_stop = progress.done.load(Ordering::SeqCst);
    assert!(
        status.success(),
        "SIGTERM must stop the simulator with exit 0, got {status}; log: {}",
        std::fs::read_to_string(&sim.log).unwrap_or_default()
    );
    let log = std::fs::read_to_string(&sim.log).unwrap_or_default();
    assert!(log.contains("stopped (SIGTERM)"), "{log}");

    // The clients keep going (transport errors are retried with the same
    // bytes) against the same command on the same file.
    progress.generation.fetch_add(1, Ordering::SeqCst);
    sim.start().await;
    let report = load.await.expect("load run");
    // No 5xx, replays got the stored bytes, nothing ran twice.
    check_answers(&report);
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
    // Every accepted payment is called back, also those whose outcome or
    // delivery was pending when SIGTERM came (the restarted process
    // re-arms the timers and resumes the outbox).
    assert!(
        called_back_at_stop < answered_at_stop,
        "some callbacks must be pending at SIGTERM for this test to mean anything \
         ({called_back_at_stop} called back of {answered_at_stop} answered)"
    );
    check_callbacks(
        &report,
        &sink,
        Duration::from_secs(120),
        |order| async move { format!("{order}: no callback after the restart") },
    )
    .await;
    println!(
        "hostile_shutdown: SIGTERM after {answered_at_stop} answers, {called_back_at_stop} called back \
         by then; after the restart all {} accepted orders were called back",
        report.accepted.len()
    );
    sim.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `paygate simulate --db db` and returns (exit success, stderr),
/// killing it if it is still serving after 10 s.
fn start_on(db: &std::path::Path) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args([
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--no-admin-token",
            "--db",
        ])
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paygate simulate starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_corrupt_or_foreign_database_file_is_named_and_explained() {
    let dir = scratch("hostile-db-files");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(200)).unwrap();
    let random = dir.join("random.db");
    let bytes: Vec<u8> = (0u32..65_536)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, bytes).unwrap();
    let foreign = dir.join("other-app.db");
    let made = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             c.execute('create table users(id integer primary key, name text)'); \
             c.execute(\"insert into users(name) values ('ada')\"); c.commit()",
        ])
        .arg(&foreign)
        .status()
        .expect("python3 runs");
    assert!(made.success());

    for (file, expected) in [
        (&text, "not an SQLite database"),
        (&random, "not an SQLite database"),
        (&foreign, "not a paygate simulator database"),
    ] {
        let (ok, stderr) = start_on(file);
        assert!(!ok, "{}: the simulator started", file.display());
        assert!(
            stderr.contains(&file.display().to_string()),
            "the message names the file: {stderr}"
        );
        assert!(stderr.contains(expected), "{}: {stderr}", file.display());
        assert!(
            !stderr.contains("another simulator using it?"),
            "no guess about another simulator: {stderr}"
        );
    }
    // The foreign database is left as it was.
    let rows = Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from users').fetchone()[0])"])
        .arg(&foreign)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&rows.stdout).trim(), "1");
    let _ = std::fs::remove_dir_all(&dir);
}
