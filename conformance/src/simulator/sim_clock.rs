//! The simulator's clock: the wall clock (the default), or a manual clock
//! that only moves when told to (`paygate simulate --clock manual`,
//! `POST /_sim/clock/advance`), so that a test of a day of retries or a
//! daily limit takes milliseconds and gives the same events in the same
//! order every time.
//!
//! # How time is read
//!
//! Everything time-based in the gateway simulator asks `clock`
//! (`now_ms`, `now_timestamp`), which reads the clock of the simulator
//! whose work is running: requests, timers and deliveries run inside
//! [`SimClock::scope`] (a Tokio task-local; on the blocking pool, a
//! synchronous scope), and outside any scope it is the wall clock.
//!
//! # How a manual clock advances
//!
//! Timers ([`SimClock::sleep`]) wait for a virtual deadline. The
//! simulator's background tasks are counted while they run
//! ([`SimClock::task`]), not while they sleep. [`SimClock::advance`]
//! moves time to each due deadline in order (ties in the order the timers
//! were set), wakes that timer, and waits until every counted task is
//! asleep again or finished before looking for the next one: a woken
//! delivery makes its HTTP call and sets its retry timer before time moves
//! on. So the same requests and the same advances give the same events in
//! the same order.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{oneshot, Notify};

tokio::task_local! {
    static CURRENT: SimClock;
}

std::thread_local! {
    static BLOCKING: std::cell::RefCell<Option<SimClock>> = const { std::cell::RefCell::new(None) };
}

/// A simulator's clock (cheap to clone: shared).
#[derive(Clone, Debug, Default)]
pub struct SimClock {
    manual: Option<Arc<Manual>>,
}

#[derive(Debug)]
struct Manual {
    /// Virtual microseconds since the epoch.
    now_us: AtomicU64,
    /// Timers by (deadline in µs, order set).
    timers: Mutex<BTreeMap<(u64, u64), oneshot::Sender<()>>>,
    next_timer: AtomicU64,
    /// Counted background tasks running (not asleep on this clock).
    busy: AtomicUsize,
    idle: Notify,
    /// One advance at a time.
    advancing: tokio::sync::Mutex<()>,
}

/// What [`SimClock::advance`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advanced {
    /// Timers that fired.
    pub fired: usize,
    /// Virtual milliseconds since the epoch after the advance.
    pub now_ms: u64,
}

fn wall_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl SimClock {
    /// The wall clock.
    pub fn wall() -> SimClock {
        SimClock { manual: None }
    }

    /// A manual clock stopped at `start_ms` (milliseconds since the
    /// epoch); `None`: the wall clock's time now.
    pub fn manual(start_ms: Option<u64>) -> SimClock {
        let start_us = start_ms.map_or_else(wall_us, |ms| ms.saturating_mul(1000));
        SimClock {
            manual: Some(Arc::new(Manual {
                now_us: AtomicU64::new(start_us),
                timers: Mutex::default(),
                next_timer: AtomicU64::new(0),
                busy: AtomicUsize::new(0),
                idle: Notify::new(),
                advancing: tokio::sync::Mutex::new(()),
            })),
        }
    }

    /// Whether it only moves when advanced.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Microseconds since the epoch.
    pub fn now_us(&self) -> u64 {
        match &self.manual {
            Some(manual) => manual.now_us.load(Ordering::SeqCst),
            None => wall_us(),
        }
    }

    /// The clock of the work running now (the wall clock outside any
    /// simulator's scope).
    pub fn current() -> SimClock {
        CURRENT
            .try_with(SimClock::clone)
            .ok()
            .or_else(|| BLOCKING.with(|b| b.borrow().clone()))
            .unwrap_or_default()
    }

    /// Runs `future` with this clock as [`SimClock::current`].
    pub fn scope<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self.clone(), future)
    }

    /// Runs `work` (synchronous, e.g. on the blocking pool) with this
    /// clock as [`SimClock::current`].
    pub fn sync_scope<T>(&self, work: impl FnOnce() -> T) -> T {
        let before = BLOCKING.with(|b| b.replace(Some(self.clone())));
        let out = CURRENT.sync_scope(self.clone(), work);
        BLOCKING.with(|b| *b.borrow_mut() = before);
        out
    }

    /// A background task of the simulator: counted while it runs (so an
    /// advance waits for it), with this clock as its current one.
    pub fn task<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future,
    {
        let guard = self.manual.as_ref().map(|m| {
            m.busy.fetch_add(1, Ordering::SeqCst);
            Busy(m.clone())
        });
        let scoped = self.scope(future);
        async move {
            let out = scoped.await;
            drop(guard);
            out
        }
    }

    /// Waits `duration` of this clock's time.
    pub async fn sleep(&self, duration: Duration) {
        let Some(manual) = &self.manual else {
            tokio::time::sleep(duration).await;
            return;
        };
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        let deadline = manual.now_us.load(Ordering::SeqCst).saturating_add(micros);
        let (wake, woken) = oneshot::channel();
        let order = manual.next_timer.fetch_add(1, Ordering::SeqCst);
        manual
            .timers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((deadline, order), wake);
        // Asleep: no longer running. The advance that wakes this timer
        // counts the task as running again before it wakes it.
        manual.not_busy();
        let _ = woken.await;
    }

    /// Moves a manual clock forward by `by`, firing every timer due on the
    /// way in order and letting each woken task run until it sleeps or
    /// ends. The wall clock cannot be advanced (`None`).
    pub async fn advance(&self, by: Duration) -> Option<Advanced> {
        let manual = self.manual.as_ref()?;
        let _one = manual.advancing.lock().await;
        let target = manual
            .now_us
            .load(Ordering::SeqCst)
            .saturating_add(u64::try_from(by.as_micros()).unwrap_or(u64::MAX));
        let mut fired = 0;
        loop {
            manual.wait_idle().await;
            let due = {
                let mut timers = manual.timers.lock().unwrap_or_else(PoisonError::into_inner);
                match timers.first_key_value() {
                    Some((&(deadline, _), _)) if deadline <= target => timers.pop_first(),
                    _ => None,
                }
            };
            let Some(((deadline, _), wake)) = due else {
                break;
            };
            manual.now_us.fetch_max(deadline, Ordering::SeqCst);
            manual.busy.fetch_add(1, Ordering::SeqCst);
            if wake.send(()).is_err() {
                // The sleeper is gone (its task was cancelled).
                manual.not_busy();
            } else {
                fired += 1;
            }
        }
        manual.now_us.fetch_max(target, Ordering::SeqCst);
        Some(Advanced {
            fired,
            now_ms: manual.now_us.load(Ordering::SeqCst) / 1000,
        })
    }

    /// Timers waiting on a manual clock (0 on the wall clock).
    pub fn pending_timers(&self) -> usize {
        self.manual.as_ref().map_or(0, |m| {
            m.timers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
        })
    }
}

impl Manual {
    fn not_busy(&self) {
        let before = self.busy.fetch_sub(1, Ordering::SeqCst);
        if before <= 1 {
            self.idle.notify_waiters();
        }
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.busy.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Counts a running task until dropped.
struct Busy(Arc<Manual>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.not_busy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn timers_fire_in_deadline_order_and_tasks_run_before_time_moves_on() {
        let clock = SimClock::manual(Some(1_000_000));
        let log = Arc::new(Mutex::new(Vec::new()));
        for (name, every_s, times) in [("a", 3u64, 4), ("b", 5, 3)] {
            let (clock2, log) = (clock.clone(), log.clone());
            tokio::spawn(clock.task(async move {
                for _ in 0..times {
                    clock2.sleep(Duration::from_secs(every_s)).await;
                    log.lock()
                        .unwrap()
                        .push((name, clock2.now_us() / 1_000_000 - 1_000));
                }
            }));
        }
        let advanced = clock.advance(Duration::from_secs(14)).await.unwrap();
        assert_eq!(advanced.fired, 6);
        assert_eq!(
            *log.lock().unwrap(),
            [("a", 3), ("b", 5), ("a", 6), ("a", 9), ("b", 10), ("a", 12)]
        );
        assert_eq!(clock.now_us(), 1_014_000_000);
        clock.advance(Duration::from_secs(1)).await.unwrap();
        assert_eq!(log.lock().unwrap().last(), Some(&("b", 15)));
        assert_eq!(clock.pending_timers(), 0);
    }

    #[test]
    fn the_wall_clock_cannot_be_advanced_and_reads_the_time() {
        let wall = SimClock::wall();
        assert!(!wall.is_manual());
        assert!(wall.now_us() > 1_700_000_000_000_000);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(wall.advance(Duration::from_secs(1))), None);
    }

    #[tokio::test]
    async fn current_is_the_scoped_clock_and_the_wall_outside() {
        let clock = SimClock::manual(Some(5_000));
        assert!(!SimClock::current().is_manual());
        let inside = clock.scope(async { SimClock::current().now_us() }).await;
        assert_eq!(inside, 5_000_000);
        assert_eq!(clock.sync_scope(|| SimClock::current().now_us()), 5_000_000);
        assert!(!SimClock::current().is_manual());
    }
}
