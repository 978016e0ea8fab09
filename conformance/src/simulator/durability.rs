//! Answering only what is durable, without a thread waiting per request
//! (SQLite, `--db FILE`).
//!
//! Every write queued to the database writer gets a sequence number, in
//! queue order, and the writer publishes how far it has committed (the
//! [`Watermark`]) after each batch. A request's work runs inside
//! [`collect`]: each write it queues, and the last write of each
//! transaction it reads, join the request's [`Fence`]. The work changes
//! memory at once and never waits; the request then awaits
//! [`Watermark::reached`] for its fence (a task suspended, no thread
//! held) and answers only after. So:
//!
//! * an accepted payment is answered after its row is committed, as with a
//!   commit per payment;
//! * a replay, or a status read, of an order whose write is still in the
//!   batch being committed waits for that same commit, because reading the
//!   transaction put its write in the fence: nothing is ever answered from
//!   state the database might not have after a crash;
//! * a callback is sent only once the final state and its outbox row are
//!   committed (the delivery awaits the fence of the work that made it).
//!
//! If a write in a fence failed, the fence reports its error: the request
//! that made it answers a storage error, and so does every later reader
//! of that transaction until another write of the transaction (a whole
//! new row) commits.

use std::cell::RefCell;
use std::sync::Mutex;

use super::persist::StoreError;
use super::SimulatorState;

/// At most this many failed writes are remembered; past it, new writes
/// are refused (the database is failing: restart the simulator, which
/// reads back what was committed).
pub(crate) const MAX_FAILED: usize = 10_000;

/// The writes some work made or read, by number: what must be committed
/// before acting on its result (usually one to three).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fence(Vec<u64>);

impl Fence {
    fn add(&mut self, seq: u64) {
        if seq > 0 && !self.0.contains(&seq) {
            self.0.push(seq);
        }
    }

    /// The highest write number in it (0: nothing to wait for).
    pub(crate) fn last(&self) -> u64 {
        self.0.iter().copied().max().unwrap_or(0)
    }
}

thread_local! {
    /// The fence of the work running on this thread (`None`: no work is
    /// collecting, writes wait for their commit where they are made).
    static FENCE: RefCell<Option<Fence>> = const { RefCell::new(None) };
}

/// Runs `work` collecting its fence. Writes made inside do not wait for
/// their commit; await [`Watermark::reached`] with the fence before
/// acting on the result.
pub(crate) fn collect<T>(work: impl FnOnce() -> T) -> (T, Fence) {
    /// Puts the outer fence back, also if `work` unwinds.
    struct Restore(Option<Fence>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            FENCE.with(|fence| *fence.borrow_mut() = outer);
        }
    }
    let outer = FENCE.with(|fence| fence.borrow_mut().replace(Fence::default()));
    let restore = Restore(outer);
    let result = work();
    let fence = FENCE
        .with(|fence| fence.borrow_mut().take())
        .unwrap_or_default();
    drop(restore);
    // A nested collection's writes are the outer work's too.
    for &seq in &fence.0 {
        note(seq);
    }
    (result, fence)
}

/// Whether the work on this thread is collecting a fence.
pub(crate) fn collecting() -> bool {
    FENCE.with(|fence| fence.borrow().is_some())
}

/// Adds write `seq` to the current work's fence (nothing outside
/// [`collect`], nothing for 0).
pub(crate) fn note(seq: u64) {
    if seq == 0 {
        return;
    }
    FENCE.with(|fence| {
        if let Some(fence) = fence.borrow_mut().as_mut() {
            fence.add(seq);
        }
    });
}

/// The current work's fence so far (empty outside [`collect`]).
pub(crate) fn current() -> Fence {
    FENCE.with(|fence| fence.borrow().clone().unwrap_or_default())
}

/// How far the writer has committed, and which writes failed.
#[derive(Debug)]
pub(crate) struct Watermark {
    committed: tokio::sync::watch::Sender<u64>,
    /// Failed writes by number, ascending (bounded by [`MAX_FAILED`]).
    failed: Mutex<Vec<(u64, StoreError)>>,
}

impl Default for Watermark {
    fn default() -> Self {
        Watermark {
            committed: tokio::sync::watch::Sender::new(0),
            failed: Mutex::new(Vec::new()),
        }
    }
}

impl Watermark {
    fn failed(&self) -> std::sync::MutexGuard<'_, Vec<(u64, StoreError)>> {
        self.failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Called by the writer after a batch: every write up to `upto` is
    /// done, those in `failures` (ascending) without effect.
    pub(crate) fn publish(&self, upto: u64, failures: Vec<(u64, StoreError)>) {
        if !failures.is_empty() {
            self.failed().extend(failures);
        }
        self.committed.send_if_modified(|committed| {
            let moved = upto > *committed;
            *committed = (*committed).max(upto);
            moved
        });
    }

    /// Whether every write of `fence` is done (committed or failed).
    pub(crate) fn covers(&self, fence: &Fence) -> bool {
        *self.committed.borrow() >= fence.last()
    }

    /// Whether too many writes failed to remember another.
    pub(crate) fn full(&self) -> bool {
        self.failed().len() >= MAX_FAILED
    }

    /// Waits until every write of `fence` (and every one before them) is
    /// done: `Ok` if all were committed, the error of one that failed.
    pub(crate) async fn reached(&self, fence: &Fence) -> Result<(), StoreError> {
        let last = fence.last();
        if last == 0 {
            return Ok(());
        }
        let mut committed = self.committed.subscribe();
        // The sender lives as long as `self`: `wait_for` cannot fail here.
        let _ = committed.wait_for(|done| *done >= last).await;
        let failed = self.failed();
        for seq in &fence.0 {
            if let Ok(i) = failed.binary_search_by_key(seq, |(n, _)| *n) {
                return Err(failed[i].1.clone());
            }
        }
        Ok(())
    }
}

impl SimulatorState {
    /// Runs `work`, which may write to the store, so that waiting for a
    /// commit does not hold up other requests, and returns once what it
    /// wrote (and what it read) is durable:
    ///
    /// * in memory, right here;
    /// * with SQLite, right here too, collecting a fence (see
    ///   the module): the writes are queued, and this task then awaits
    ///   their group commit without holding a thread;
    /// * with PostgreSQL, on Tokio's blocking pool: locking an order (for
    ///   a replica) and each write wait there, the waiting writes of many
    ///   requests sharing one commit.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, WorkError>
    where
        T: Send + 'static,
        F: FnOnce(&SimulatorState) -> T + Send + 'static,
    {
        let store = self.store();
        if store.fences() || !store.is_persistent() {
            // In memory the fence stays empty and nothing is awaited.
            let clock = self.0.clock.clone();
            let (result, fence) = collect(|| clock.sync_scope(|| work(self)));
            store.durable(&fence).await.map_err(WorkError::Storage)?;
            Ok(result)
        } else {
            let state = self.clone();
            tokio::task::spawn_blocking(move || {
                let clock = state.0.clock.clone();
                clock.sync_scope(|| work(&state))
            })
            .await
            .map_err(|_| WorkError::Stopped)
        }
    }
}

/// Why work run by [`SimulatorState::blocking`] has no result to act on.
#[derive(Debug)]
pub(crate) enum WorkError {
    /// It panicked, or the runtime is stopping.
    Stopped,
    /// A change it made, or one it read, could not be committed.
    Storage(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(message: &str) -> StoreError {
        StoreError {
            path: "test.db".into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_fence_holds_every_write_noted_and_nests() {
        assert!(!collecting());
        note(7);
        assert_eq!(
            current(),
            Fence::default(),
            "outside collect, nothing is noted"
        );
        let ((), fence) = collect(|| {
            note(3);
            note(9);
            note(0);
            note(3);
            let ((), inner) = collect(|| note(12));
            assert_eq!(inner, Fence(vec![12]));
            assert_eq!(
                current(),
                Fence(vec![3, 9, 12]),
                "the inner writes are the outer's too"
            );
        });
        assert_eq!(fence, Fence(vec![3, 9, 12]));
        assert_eq!(fence.last(), 12);
        assert!(!collecting(), "the fence is put back after the work");
    }

    #[test]
    fn a_fence_is_put_back_when_the_work_panics() {
        let caught = std::panic::catch_unwind(|| collect(|| panic!("boom")));
        assert!(caught.is_err());
        assert!(!collecting());
    }

    #[tokio::test]
    async fn reached_waits_for_the_commit_and_reports_a_failed_write() {
        let mark = std::sync::Arc::new(Watermark::default());
        assert!(mark.reached(&Fence::default()).await.is_ok());
        let waiting = tokio::spawn({
            let mark = mark.clone();
            async move { mark.reached(&Fence(vec![3])).await }
        });
        mark.publish(2, Vec::new());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "write 3 is not committed yet");
        mark.publish(4, vec![(4, error("disk full"))]);
        assert!(waiting.await.expect("the waiter").is_ok());
        let failed = mark
            .reached(&Fence(vec![4]))
            .await
            .expect_err("write 4 failed");
        assert!(failed.message.contains("disk full"));
        // A fence whose highest write committed still reports a lower one
        // that failed (a request that wrote 4, then read an order at 5).
        mark.publish(5, Vec::new());
        assert!(mark.reached(&Fence(vec![4, 5])).await.is_err());
        assert!(mark.reached(&Fence(vec![2, 5])).await.is_ok());
        mark.publish(1, Vec::new());
        assert_eq!(*mark.committed.borrow(), 5, "the watermark never goes back");
    }

    /// A simulator on a fresh SQLite file (and that file's folder).
    async fn on_sqlite(
        name: &str,
        latency: std::time::Duration,
        callback_url: Option<String>,
    ) -> (crate::simulator::RunningSimulator, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("paygate-fence-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let mut config = crate::simulator::SimulatorConfig::demo();
        config.db = Some(dir.join("sim.db"));
        config.latency = latency;
        config.merchants[0].callback_url = callback_url;
        let sim = crate::simulator::start(config, "127.0.0.1:0".parse().expect("an address"))
            .await
            .expect("the simulator starts");
        (sim, dir)
    }

    /// Posts the demo merchant's signed C2B payment `order_id` (or, with
    /// `method` `status`, its status request): the HTTP status and body.
    async fn post(base_url: &str, method: &str, order_id: &str) -> (u16, serde_json::Value) {
        use crate::simulator::{DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY};
        use paygate::gateway::{Currency, PaymentC2bRequest, StatusRequest};
        use paygate::signing::{sign, SecretKey, SigningKey};
        let key = SigningKey::new(&SecretKey::new(DEMO_SECRET_KEY));
        let body = if method == "status" {
            let mut request = StatusRequest::new(DEMO_MERCHANT_ID, order_id.to_owned());
            request.signature = sign(&key, &request).expect("flat").to_string();
            serde_json::to_vec(&request)
        } else {
            let mut request = PaymentC2bRequest::new(
                DEMO_MERCHANT_ID,
                "2250700000123".to_owned(),
                order_id.to_owned(),
                "1100.00".parse().expect("an amount"),
                Currency::Xof,
                2303,
            );
            request.signature = sign(&key, &request).expect("flat").to_string();
            serde_json::to_vec(&request)
        }
        .expect("serialisable");
        let answer = reqwest::Client::new()
            .post(format!("{base_url}/{DEMO_PUBLIC_ID}/{method}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("an answer");
        let status = answer.status().as_u16();
        let body = answer.bytes().await.expect("a body");
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    async fn pay(base_url: &str, order_id: &str) -> (u16, serde_json::Value) {
        post(base_url, "payment_c2b", order_id).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_is_answered_as_such_to_its_request_and_every_reader() {
        let (sim, dir) = on_sqlite("fail", std::time::Duration::from_secs(600), None).await;
        let hooks = sim.state().store().writer_hooks().expect("a writer");
        hooks
            .fail_next
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let (status, body) = pay(&sim.base_url(), "lost").await;
        assert_eq!(status, 500, "the payment whose write failed: {body}");
        assert_eq!(body["result"]["code"], 10500, "{body}");
        let (status, body) = pay(&sim.base_url(), "lost").await;
        assert_eq!(
            status, 500,
            "its replay reads the uncommitted order: {body}"
        );
        let (status, body) = post(&sim.base_url(), "status", "lost").await;
        assert_eq!(status, 500, "so does its status: {body}");
        let (status, body) = pay(&sim.base_url(), "kept").await;
        assert_eq!(status, 200, "another order is not held up: {body}");
        let (status, body) = post(&sim.base_url(), "status", "kept").await;
        assert_eq!(status, 200, "{body}");
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_outcome_that_cannot_be_saved_leaves_the_transaction_as_it_was() {
        use crate::simulator::lifecycle::{finish, FinishError};
        use crate::simulator::outcome::Outcome;
        use crate::simulator::DEMO_PUBLIC_ID;
        let (sim, dir) = on_sqlite("undo", std::time::Duration::from_secs(600), None).await;
        let (status, body) = pay(&sim.base_url(), "undo").await;
        assert_eq!(status, 200, "{body}");
        let before = sim
            .state()
            .transaction(DEMO_PUBLIC_ID, "undo")
            .expect("stored");
        let hooks = sim.state().store().writer_hooks().expect("a writer");
        let json = |tx: &crate::simulator::transaction::Transaction| {
            serde_json::to_value(tx).expect("serialisable")
        };
        // A failure changes the provider's code and message, a success the
        // reference: both are put back.
        for outcome in [
            Outcome::failed(2001, "refused in a test"),
            Outcome::success(),
        ] {
            hooks
                .fail_next
                .store(true, std::sync::atomic::Ordering::SeqCst);
            // Outside fenced work, the write is committed (here: fails)
            // before `finish` returns.
            let state = sim.state().clone();
            let finished = tokio::task::spawn_blocking(move || {
                finish(
                    &state,
                    DEMO_PUBLIC_ID,
                    "undo",
                    None,
                    Some(outcome),
                    "forced in a test",
                )
            })
            .await
            .expect("finish ran");
            assert!(
                matches!(finished, Err(FinishError::Storage(_))),
                "{finished:?}"
            );
            let after = sim
                .state()
                .transaction(DEMO_PUBLIC_ID, "undo")
                .expect("stored");
            assert_eq!(json(&after), json(&before), "every field is put back");
            assert_eq!(after.awaiting, before.awaiting);
        }
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The gate is held across awaits on purpose: it stops the writer
    // thread, which never runs on this runtime.
    #[allow(clippy::await_holding_lock)]
    async fn a_payment_and_its_replay_are_answered_only_after_the_commit() {
        use std::time::Duration;
        let (sim, dir) = on_sqlite("answer", Duration::from_secs(600), None).await;
        let hooks = sim.state().store().writer_hooks().expect("a writer");
        let base = sim.base_url();

        let held = hooks.gate.lock().expect("the gate");
        let first = tokio::spawn({
            let base = base.clone();
            async move { pay(&base, "held").await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let replay = tokio::spawn({
            let base = base.clone();
            async move { pay(&base, "held").await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !first.is_finished() && !replay.is_finished(),
            "nothing is answered while the payment is not committed"
        );
        let in_memory = sim
            .state()
            .transaction(crate::simulator::DEMO_PUBLIC_ID, "held");
        assert!(in_memory.is_some(), "the payment is already in memory");
        drop(held);
        let (status, first) = first.await.expect("the payment");
        let (replayed, replay) = replay.await.expect("the replay");
        assert_eq!((status, replayed), (200, 200), "{first} {replay}");
        assert_eq!(first, replay, "the replay gets the same answer");
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A callback endpoint counting what it receives.
    async fn sink() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}/cb", listener.local_addr().expect("an address"));
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let app = axum::Router::new().route(
            "/cb",
            axum::routing::post(move || {
                let seen = seen.clone();
                async move {
                    seen.fetch_add(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, count)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The gate is held across awaits on purpose: it stops the writer
    // thread, which never runs on this runtime.
    #[allow(clippy::await_holding_lock)]
    async fn a_callback_waits_until_its_outcome_is_committed() {
        use crate::simulator::DEMO_PUBLIC_ID;
        use std::sync::atomic::Ordering;
        use std::time::Duration;

        let (url, received) = sink().await;
        let (sim, dir) = on_sqlite("cb", Duration::from_millis(400), Some(url)).await;
        let hooks = sim.state().store().writer_hooks().expect("a writer");

        let (status, _) = pay(&sim.base_url(), "fenced-callback").await;
        assert_eq!(status, 200, "accepted");

        // Hold every commit before the outcome (400 ms after acceptance).
        let held = hooks.gate.lock().expect("the gate");
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let final_in_memory = sim
            .state()
            .transaction(DEMO_PUBLIC_ID, "fenced-callback")
            .is_some_and(|tx| tx.is_final());
        assert!(final_in_memory, "the outcome was applied in memory");
        assert_eq!(
            received.load(Ordering::SeqCst),
            0,
            "no callback while its outcome is not committed"
        );
        drop(held);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while received.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            received.load(Ordering::SeqCst),
            1,
            "called back once committed"
        );
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
