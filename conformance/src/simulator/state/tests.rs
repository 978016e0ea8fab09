//! The store's own tests: sharding, the daily maximum under races, holds.

use super::*;
use crate::simulator::durability;
use std::time::Duration;

fn payment(order_id: &str, customer_id: &str, minor: u64, status: i64) -> Transaction {
    let mut tx: Transaction = serde_json::from_value(serde_json::json!({
        "serial": 0, "public_id": "m", "order_id": order_id, "operation": "payment_c2b",
        "merchant_id": "", "customer_id": customer_id, "amount": "0", "provider_id": 2303,
        "destination_id": "", "callback_url": null, "sends_callback": true,
        "transaction_id": "", "transaction_ref": "", "status": 0, "provider_code": 0,
        "provider_message": "", "confirm_type": 0, "history": [],
        "redirect_url": null, "customer_message": null, "bank_details": null,
    }))
    .expect("a transaction");
    tx.amount = Amount::from_minor(minor);
    tx.set_status(status, "test");
    tx
}

#[test]
fn payments_racing_on_other_orders_never_pass_the_daily_maximum_together() {
    // 8 threads, 50 orders each, one customer: a maximum of 10
    // payments' worth lets exactly 10 through, whichever shards their
    // orders fall in.
    let store = Store::new();
    let accepted = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (store, accepted) = (&store, &accepted);
            scope.spawn(move || {
                for n in 0..50 {
                    let order = format!("o-{t}-{n}");
                    let tx = payment(&order, "2250700000000", 100, 1);
                    let mut guard = store.lock_order("m", &order);
                    if guard.insert_within_daily(tx, Some(1_000)).is_ok() {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(accepted.load(Ordering::Relaxed), 10);
    assert_eq!(store.transaction_count(), 10);
    let key = DailyKey::of(&payment("x", "2250700000000", 0, 1));
    assert_eq!(store.daily_total(&key), 1_000);
}

#[test]
fn orders_spread_over_the_shards_and_all_are_found() {
    let store = Store::new();
    for n in 0..2_000 {
        let order = format!("o-{n}");
        let mut guard = store.lock_order("m", &order);
        guard
            .insert(payment(&order, &format!("c{n}"), 100, 1))
            .expect("in memory");
    }
    assert_eq!(store.transaction_count(), 2_000);
    let used = store
        .shards
        .iter()
        .filter(|s| !lock(s).transactions.is_empty())
        .count();
    assert_eq!(used, SHARDS, "2 000 orders leave no shard empty");
    for n in 0..2_000 {
        assert!(store.get_cloned("m", &format!("o-{n}")).is_some());
    }
    // Several orders locked at once, each readable through the guard.
    let orders: Vec<String> = (0..100).map(|n| format!("o-{n}")).collect();
    let guard = store.lock_orders("m", orders.iter().map(String::as_str));
    assert!(orders.iter().all(|o| guard.get("m", o).is_some()));
    drop(guard);
    store.reset();
    assert_eq!(store.transaction_count(), 0);
    assert!(store.get_cloned("m", "o-1").is_none());
}

#[test]
fn a_hold_is_taken_once_oldest_first_and_only_while_still_held() {
    let store = Store::new();
    for (order, minor) in [("h1", 500), ("h2", 2_000), ("h3", 2_000)] {
        let mut guard = store.lock_order("m", order);
        guard
            .insert(payment(order, "c", minor, 6))
            .expect("in memory");
    }
    // h1 covers too little; h2 is the oldest that covers 1 000.
    assert_eq!(
        store
            .take_hold("m", "c", Amount::from_minor(1_000))
            .as_deref(),
        Some("h2")
    );
    // h3 settled meanwhile (a forced outcome): no longer a hold.
    store
        .lock_order("m", "h3")
        .get_mut("m", "h3")
        .expect("h3")
        .status = 2;
    assert_eq!(store.take_hold("m", "c", Amount::from_minor(1_000)), None);
    assert_eq!(
        store
            .take_hold("m", "c", Amount::from_minor(500))
            .as_deref(),
        Some("h1")
    );
    assert_eq!(store.take_hold("m", "c", Amount::from_minor(1)), None);
}

/// Inserts a payment of 100 for `order_id` inside fenced work, as a
/// request does: queued, not committed; the fence to await.
fn queue_payment(store: &Store, order_id: &str, customer_id: &str) -> durability::Fence {
    let ((), fence) = durability::collect(|| {
        store
            .lock_order("m", order_id)
            .insert(payment(order_id, customer_id, 100, 1))
            .expect("queued");
    });
    fence
}

/// A fresh SQLite file for one test.
fn scratch_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("paygate-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir.join("sim.db")
}

#[tokio::test]
// The gate is held across awaits on purpose: it stops the writer thread,
// which never runs on this runtime.
#[allow(clippy::await_holding_lock)]
async fn an_answer_read_from_an_uncommitted_write_waits_for_its_commit() {
    let path = scratch_db("fence");
    let store = Arc::new(Store::open(&path, None).expect("the store opens"));
    assert!(store.fences());
    let hooks = store.writer_hooks().expect("a writer");
    let held = hooks.gate.lock().expect("the gate");

    // A payment accepted while the writer is held: in memory at once, its
    // write queued, the work not waiting.
    let written = queue_payment(&store, "o-1", "2250700000001");
    assert!(written.last() > 0, "the insert is in the fence");
    // A replay of it (another request) reads the order: its fence is the
    // insert's, so it cannot answer before that commit.
    let (seen, read) =
        durability::collect(|| store.lock_order("m", "o-1").get("m", "o-1").is_some());
    assert!(seen, "the payment is in memory");
    assert_eq!(
        read, written,
        "reading the order raised the fence to its write"
    );
    // Another order, untouched: nothing to wait for.
    let (_, other) = durability::collect(|| store.lock_order("m", "o-2").get("m", "o-2").is_none());
    assert_eq!(other.last(), 0);

    let waiting = tokio::spawn({
        let store = store.clone();
        async move { store.durable(&read).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "nothing is committed while the writer is held"
    );
    drop(held);
    waiting
        .await
        .expect("the waiter")
        .expect("the write is committed");

    // And it is in the file.
    drop(Arc::try_unwrap(store).expect("the only handle"));
    let reopened = Store::open(&path, None).expect("the store reopens");
    assert!(reopened.get_cloned("m", "o-1").is_some());
    drop(reopened);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[tokio::test]
async fn a_wait_dropped_before_its_commit_still_commits_its_writes() {
    let path = scratch_db("dropped-wait");
    let store = Store::open(&path, None).expect("the store opens");
    let fence = queue_payment(&store, "o-1", "2250700000001");
    let rows = || logged(&path, "save-new", "o-1");
    assert_eq!(rows(), 0, "queued, not yet committed");
    // The request awaiting it is cancelled after one poll (its wait lets
    // other tasks queue their writes first).
    {
        use std::future::Future;
        let mut wait = std::pin::pin!(store.durable(&fence));
        let mut once = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            wait.as_mut().poll(&mut once).is_pending(),
            "not committed after one poll"
        );
    }
    assert_eq!(rows(), 1, "dropping the wait committed its write");
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

/// How many entries of `kind` for `order_id` (any, if empty) the
/// database's commit log holds, as another reader of the files sees (a
/// running simulator's commits are there: `persist::sqlite_log`).
fn logged(path: &std::path::Path, kind: &str, order_id: &str) -> usize {
    crate::simulator::persist::logged_entries(path)
        .iter()
        .filter(|(k, o)| *k == kind && (order_id.is_empty() || o == order_id))
        .count()
}

/// How many rows `table` holds, as another process reading the file sees.
fn rows_in(path: &std::path::Path, table: &str) -> i64 {
    rusqlite::Connection::open(path)
        .and_then(|conn| {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
        })
        .expect("the file reads")
}

#[tokio::test]
async fn a_callback_attempt_is_committed_at_once_unless_a_waiting_request_commits_it() {
    use crate::simulator::transaction::CallbackAttempt;
    let path = scratch_db("attempts");
    let store = Store::open(&path, None).expect("the store opens");
    let attempt = |order_id: &str| CallbackAttempt {
        public_id: "m".into(),
        order_id: order_id.into(),
        operation_type: 1,
        status: 2,
        url: "http://127.0.0.1:9/cb".into(),
        attempt: 1,
        http_status: Some(200),
        error: None,
        delivered: true,
        at: "2026-12-06 10:00:00.000000".into(),
        latency_ms: Some(1),
        next_attempt_at: None,
        body: None,
    };
    // Nothing else queued: committed before the call returns.
    store.record_attempt(attempt("o-1"));
    assert_eq!(logged(&path, "attempt", ""), 1);

    // A request's write queued first: the attempt joins the commit that
    // request's wait makes.
    let fence = queue_payment(&store, "o-2", "2250700000002");
    store.record_attempt(attempt("o-2"));
    assert_eq!(logged(&path, "attempt", ""), 1, "left to the request");
    store.durable(&fence).await.expect("committed");
    assert_eq!(logged(&path, "attempt", ""), 2);
    assert_eq!(logged(&path, "save-new", ""), 1);
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[tokio::test]
async fn a_commit_that_panics_fails_its_writes_and_the_next_commit_goes_on() {
    let path = scratch_db("panicked");
    let store = Store::open(&path, None).expect("the store opens");
    let hooks = store.writer_hooks().expect("a writer");
    hooks.panic_next.store(true, Ordering::SeqCst);
    let first = queue_payment(&store, "o-1", "2250700000001");
    let err = store
        .durable(&first)
        .await
        .expect_err("its commit panicked");
    assert!(err.message.contains("unexpectedly"), "{err}");
    // A later commit does not pass for the failed one.
    let second = queue_payment(&store, "o-2", "2250700000002");
    store.durable(&second).await.expect("committed");
    assert!(store.durable(&first).await.is_err(), "still failed");
    assert_eq!(logged(&path, "save-new", ""), 1, "only the second");
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[test]
fn outside_fenced_work_a_write_is_committed_before_it_returns() {
    let path = scratch_db("unfenced");
    let store = Store::open(&path, None).expect("the store opens");
    let mut guard = store.lock_order("m", "o-1");
    guard
        .insert(payment("o-1", "2250700000001", 100, 1))
        .expect("committed");
    assert_eq!(guard.get("m", "o-1").map(|tx| tx.durable_seq), Some(0));
    drop(guard);
    drop(store);
    let reopened = Store::open(&path, None).expect("the store reopens");
    assert!(reopened.get_cloned("m", "o-1").is_some());
    drop(reopened);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[test]
fn a_running_simulator_appends_to_its_commit_log_and_the_next_open_folds_it() {
    let path = scratch_db("journal");
    let store = Store::open(&path, None).expect("the store opens");
    let mut guard = store.lock_order("m", "o-1");
    guard
        .insert(payment("o-1", "2250700000001", 100, 1))
        .expect("committed");
    drop(guard);
    // Committed: in the log, not yet in the database.
    assert_eq!(logged(&path, "save-new", "o-1"), 1);
    assert_eq!(rows_in(&path, "journal"), 0);
    assert_eq!(rows_in(&path, "transactions"), 0);
    drop(store);
    let reopened = Store::open(&path, None).expect("the store reopens");
    assert_eq!(logged(&path, "save-new", ""), 0, "the log starts again");
    assert_eq!(rows_in(&path, "journal"), 0, "folded");
    assert_eq!(rows_in(&path, "transactions WHERE order_id = 'o-1'"), 1);
    assert!(reopened.get_cloned("m", "o-1").is_some());
    drop(reopened);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[test]
fn after_a_reset_and_a_restart_no_serial_or_outbox_id_is_handed_out_again() {
    use crate::simulator::persist::NewOutbox;
    let path = scratch_db("reset-ids");
    let store = Store::open(&path, None).expect("the store opens");
    let (serial, _) = store.next_ids().expect("a serial");
    let mut tx = payment("o-1", "2250700000001", 100, 2);
    tx.serial = serial;
    let mut guard = store.lock_order("m", "o-1");
    guard.insert(tx.clone()).expect("saved");
    let outbox = guard
        .persist_with_callback(
            &tx,
            Some(NewOutbox {
                operation_type: 17,
                status: 2,
                url: "http://127.0.0.1:9/callback",
                body: b"{}",
            }),
        )
        .expect("saved")
        .expect("an outbox id");
    drop(guard);
    // The reset deletes every row that says how far the ids went.
    store.reset();
    drop(store);

    let store = Store::open(&path, None).expect("the store opens again");
    assert!(store.lock_order("m", "o-1").get("m", "o-1").is_none());
    let (next, _) = store.next_ids().expect("a serial");
    assert!(next > serial, "serial {next} after {serial}");
    let next_outbox = store.next_outbox_id().expect("SQLite hands out outbox ids");
    assert!(
        next_outbox > outbox,
        "outbox id {next_outbox} after {outbox}"
    );
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[test]
fn an_outcome_saved_without_its_replies_keeps_the_ones_stored() {
    use crate::simulator::operation::OperationKind;
    use crate::simulator::transaction::StoredReply;
    let path = scratch_db("outcome-replies");
    let store = Store::open(&path, None).expect("the store opens");
    let mut tx = payment("o-1", "2250700000001", 100, 1);
    tx.replies.push(StoredReply {
        operation: OperationKind::PaymentC2b,
        signature: "ab".repeat(64),
        body: bytes::Bytes::from_static(b"{\"status\":1}"),
    });
    let mut guard = store.lock_order("m", "o-1");
    guard.insert(tx.clone()).expect("saved");
    // The outcome: a new state, written without the replies.
    tx.set_status(2, "latency elapsed");
    guard.persist_with_callback(&tx, None).expect("saved");
    drop(guard);
    drop(store);

    let store = Store::open(&path, None).expect("the store opens again");
    let guard = store.lock_order("m", "o-1");
    let stored = guard.get("m", "o-1").expect("read back");
    assert_eq!(stored.status, 2, "the outcome was saved");
    assert_eq!(stored.replies.len(), 1, "the reply is still there");
    assert_eq!(&stored.replies[0].body[..], b"{\"status\":1}");
    drop(guard);
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}

#[test]
fn a_file_whose_outbox_had_autoincrement_keeps_its_counter() {
    let path = scratch_db("autoincrement");
    drop(Store::open(&path, None).expect("the store opens"));
    // The outbox as files written before had it: its counter went to 9,
    // and the rows are gone (a reset did not keep the id then).
    let conn = rusqlite::Connection::open(&path).expect("the file opens");
    conn.execute_batch(
        "DROP TABLE outbox;
         CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, public_id TEXT NOT NULL,
            order_id TEXT NOT NULL, operation_type INTEGER NOT NULL,
            status INTEGER NOT NULL, url TEXT NOT NULL, body BLOB NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending');
         INSERT INTO outbox (id, public_id, order_id, operation_type, status, url, body,
            next_attempt_ms) VALUES (9, 'm', 'o-1', 17, 2, 'http://127.0.0.1:9/', x'', 0);
         DELETE FROM outbox;",
    )
    .expect("the old outbox");
    drop(conn);

    let store = Store::open(&path, None).expect("the store opens again");
    assert_eq!(store.next_outbox_id(), Some(10));
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
}
