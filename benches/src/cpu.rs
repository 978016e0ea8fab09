//! The CPU time this process spends, sampled through a run, so that a load
//! report can give the cost of each window of payments in CPU time as
//! well as in wall time: on a shared, noisy machine the CPU per payment
//! moves far less from run to run than the throughput does.
//!
//! Linux only (`/proc/self/stat`); elsewhere nothing is sampled and the
//! report leaves the column out.
//!
//! The sampler also times a fixed piece of work now and then
//! ([`reference_work`]), in the CPU time of its own thread: when the CPU
//! per payment rises with it, the machine got slower (a neighbour on the
//! same physical core, a lower clock); when it rises alone, the program
//! does more per payment.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// `/proc` counts CPU time in clock ticks of `USER_HZ`, which Linux fixes
/// at 100 per second for user space on every architecture.
const TICK: Duration = Duration::from_millis(10);

/// User and system CPU time, as read from a `/proc/<pid>/stat` line (all
/// threads of the process, the ones that ended included).
pub fn parse_stat(stat: &str) -> Option<(Duration, Duration)> {
    // The command name (field 2) is in parentheses and may hold spaces or
    // parentheses: the fields go on after the last `)`, from field 3.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let mut ticks = || -> Option<Duration> {
        let n: u32 = fields.next()?.parse().ok()?;
        TICK.checked_mul(n)
    };
    let user = ticks()?;
    let system = ticks()?;
    Some((user, system))
}

/// This process's user plus system CPU time so far (`None` off Linux).
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (user, system) = parse_stat(&stat)?;
    user.checked_add(system)
}

/// The CPU time this thread has run for (`CLOCK_THREAD_CPUTIME_ID`, to
/// the nanosecond; `None` off Linux). `/proc/thread-self/schedstat` will
/// not do: it is brought up to date only when the thread is switched out
/// or the clock ticks, so a millisecond of work often reads as none.
#[cfg(target_os = "linux")]
pub fn thread_cpu() -> Option<Duration> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

/// The CPU time this thread has run for (`None` off Linux).
#[cfg(not(target_os = "linux"))]
pub fn thread_cpu() -> Option<Duration> {
    None
}

/// How many bytes [`reference_work`] hashes: about a millisecond of one
/// core, small enough to stay in its caches.
pub const REFERENCE_BYTES: usize = 1 << 20;

/// The CPU time this thread takes to hash a fixed [`REFERENCE_BYTES`]
/// with SHA-512, 16 KiB at a time (`None` off Linux).
pub fn reference_work() -> Option<Duration> {
    use sha2::{Digest, Sha512};
    let block = [0x5au8; 16 * 1024];
    let before = thread_cpu()?;
    let mut hasher = Sha512::new();
    for _ in 0..REFERENCE_BYTES / block.len() {
        hasher.update(std::hint::black_box(&block[..]));
    }
    std::hint::black_box(hasher.finalize());
    Some(thread_cpu()?.saturating_sub(before))
}

/// A walk through memory where each load depends on the one before, over
/// a buffer far larger than a core's own caches: its time per load is the
/// machine's memory latency (the shared cache's, or the memory's), which a
/// neighbour thrashing the shared cache raises though the core's own
/// speed ([`reference_work`]) does not move.
pub struct MemoryWalk {
    /// `next[i]` is the index after `i`: one cycle through every entry,
    /// in an order no prefetcher guesses.
    next: Vec<u32>,
}

impl MemoryWalk {
    /// Entries in the walk: 64 MiB of `u32`.
    pub const ENTRIES: u32 = 16 << 20;
    /// Loads timed at each [`MemoryWalk::time_per_load`].
    pub const LOADS: u32 = 20_000;

    /// A walk over [`MemoryWalk::ENTRIES`] entries (Sattolo's shuffle
    /// with a fixed seed: the same cycle every run).
    pub fn new() -> MemoryWalk {
        let mut next: Vec<u32> = (0..Self::ENTRIES).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for i in (1..next.len()).rev() {
            // xorshift64: enough for an order no prefetcher follows.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let j = (seed % i as u64) as usize;
            next.swap(i, j);
        }
        MemoryWalk { next }
    }

    /// The CPU time this thread takes per load over [`MemoryWalk::LOADS`]
    /// dependent loads, from entry `at` on (left where the walk stopped;
    /// `None` off Linux).
    pub fn time_per_load(&self, at: &mut u32) -> Option<Duration> {
        let before = thread_cpu()?;
        let mut here = *at;
        for _ in 0..Self::LOADS {
            here = *self.next.get(here as usize)?;
        }
        *at = std::hint::black_box(here);
        Some(thread_cpu()?.saturating_sub(before) / Self::LOADS)
    }
}

impl Default for MemoryWalk {
    fn default() -> Self {
        MemoryWalk::new()
    }
}

/// The reference work is timed at every this many samples.
pub const REFERENCE_EVERY: usize = 10;

/// Samples, each (time since the run's start, value).
type Timed = Arc<Mutex<Vec<(Duration, Duration)>>>;

/// CPU time samples taken every `every` by a thread of its own, each as
/// (time since the sampler started, CPU time so far), and at every
/// [`REFERENCE_EVERY`] samples the reference work's time and the memory
/// walk's time per load.
pub struct CpuSampler {
    started: Instant,
    samples: Timed,
    reference: Timed,
    memory: Timed,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CpuSampler {
    /// Starts sampling; `started`, the run's time origin, is taken just
    /// before (the first sample stands for it). `walk` is built by the
    /// caller, before it measures the process's memory.
    pub fn start(started: Instant, every: Duration, walk: MemoryWalk) -> CpuSampler {
        let first = process_cpu().map(|cpu| (Duration::ZERO, cpu));
        let samples = Arc::new(Mutex::new(first.into_iter().collect::<Vec<_>>()));
        let (reference, memory) = (Timed::default(), Timed::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (kept, timed, walked, stopping) = (
            samples.clone(),
            reference.clone(),
            memory.clone(),
            stop.clone(),
        );
        let push = move |to: &Timed, value: Duration| {
            to.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((started.elapsed(), value));
        };
        let thread = std::thread::Builder::new()
            .name("cpu-sampler".into())
            .spawn(move || {
                let (mut taken, mut at) = (0usize, 0u32);
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    if let Some(cpu) = process_cpu() {
                        push(&kept, cpu);
                    }
                    taken = taken.wrapping_add(1);
                    if taken.is_multiple_of(REFERENCE_EVERY) {
                        if let Some(took) = reference_work() {
                            push(&timed, took);
                        }
                        if let Some(per_load) = walk.time_per_load(&mut at) {
                            push(&walked, per_load);
                        }
                    }
                }
            })
            .ok();
        CpuSampler {
            started,
            samples,
            reference,
            memory,
            stop,
            thread,
        }
    }

    /// Takes a last sample and stops; the samples, oldest first.
    pub fn finish(mut self) -> CpuProfile {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let mut samples =
            std::mem::take(&mut *self.samples.lock().unwrap_or_else(PoisonError::into_inner));
        if let Some(cpu) = process_cpu() {
            samples.push((self.started.elapsed(), cpu));
        }
        let take = |timed: &Timed| {
            std::mem::take(&mut *timed.lock().unwrap_or_else(PoisonError::into_inner))
        };
        CpuProfile {
            samples,
            reference: take(&self.reference),
            memory: take(&self.memory),
        }
    }
}

/// The CPU time a run used, as sampled.
#[derive(Clone, Debug, Default)]
pub struct CpuProfile {
    /// (time since the run's start, CPU time so far), oldest first.
    pub samples: Vec<(Duration, Duration)>,
    /// (time since the run's start, CPU time [`reference_work`] took),
    /// oldest first.
    pub reference: Vec<(Duration, Duration)>,
    /// (time since the run's start, CPU time per load of the
    /// [`MemoryWalk`]), oldest first.
    pub memory: Vec<(Duration, Duration)>,
}

impl CpuProfile {
    /// The CPU time so far at `at`, interpolated between the samples on
    /// either side (`None` outside the samples).
    pub fn at(&self, at: Duration) -> Option<Duration> {
        let after = self.samples.partition_point(|(t, _)| *t < at);
        let &(t1, c1) = self.samples.get(after)?;
        if t1 == at || after == 0 {
            return (t1 == at).then_some(c1);
        }
        let &(t0, c0) = self.samples.get(after - 1)?;
        let span = (t1 - t0).as_secs_f64();
        let part = (at - t0).as_secs_f64() / span;
        Some(c0 + c1.saturating_sub(c0).mul_f64(part))
    }

    /// The CPU time used between `from` and `to`.
    pub fn between(&self, from: Duration, to: Duration) -> Option<Duration> {
        Some(self.at(to)?.saturating_sub(self.at(from)?))
    }

    /// The median time the reference work took between `from` and `to`
    /// (`None` when it was not timed then).
    pub fn reference_between(&self, from: Duration, to: Duration) -> Option<Duration> {
        median_between(&self.reference, from, to)
    }

    /// The median time per load of the memory walk between `from` and
    /// `to` (`None` when it was not timed then).
    pub fn memory_between(&self, from: Duration, to: Duration) -> Option<Duration> {
        median_between(&self.memory, from, to)
    }
}

/// The median of the values timed between `from` and `to`.
fn median_between(
    timed: &[(Duration, Duration)],
    from: Duration,
    to: Duration,
) -> Option<Duration> {
    let mut took: Vec<Duration> = timed
        .iter()
        .filter(|(at, _)| (from..to).contains(at))
        .map(|(_, took)| *took)
        .collect();
    took.sort_unstable();
    took.get(took.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_system_time_are_fields_14_and_15_after_any_command_name() {
        // A command name with a space and a parenthesis, as a thread may
        // name itself.
        let stat = "4242 (load (x) y) R 1 4242 4242 0 -1 4194304 9 0 0 0 \
                    1234 56 0 0 20 0 3 0 100 0 0";
        assert_eq!(
            parse_stat(stat),
            Some((Duration::from_millis(12_340), Duration::from_millis(560)))
        );
        assert_eq!(parse_stat("4242 (load) R 1 2"), None, "too few fields");
        assert_eq!(parse_stat("no parenthesis at all"), None);
        assert_eq!(
            parse_stat("1 (a) R 1 1 1 0 -1 0 0 0 0 0 x 5"),
            None,
            "not a number"
        );
    }

    #[test]
    fn the_cpu_time_read_grows_with_work_done_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let spent = process_cpu().expect("/proc/self/stat on Linux");
        // Spins until 50 ms more CPU show (however often this thread is
        // descheduled), or fails after 20 s of wall time.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        loop {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            let now = process_cpu().expect("/proc/self/stat on Linux");
            if now >= spent + Duration::from_millis(50) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "20 s of spinning did not show as 50 ms of CPU: {spent:?} -> {now:?}"
            );
        }
    }

    #[test]
    fn cpu_between_two_times_is_interpolated_from_the_samples() {
        let ms = Duration::from_millis;
        let profile = CpuProfile {
            samples: vec![(ms(0), ms(100)), (ms(100), ms(200)), (ms(200), ms(400))],
            reference: Vec::new(),
            memory: Vec::new(),
        };
        assert_eq!(profile.at(ms(100)), Some(ms(200)));
        assert_eq!(profile.at(ms(50)), Some(ms(150)));
        assert_eq!(profile.at(ms(150)), Some(ms(300)));
        assert_eq!(profile.between(ms(50), ms(150)), Some(ms(150)));
        assert_eq!(profile.at(ms(0)), Some(ms(100)));
        assert_eq!(profile.at(ms(201)), None, "after the last sample");
        assert_eq!(CpuProfile::default().at(ms(1)), None);
    }

    #[test]
    fn the_reference_of_a_window_is_the_median_of_the_times_taken_in_it() {
        let ms = Duration::from_millis;
        let profile = CpuProfile {
            samples: Vec::new(),
            reference: vec![
                (ms(10), ms(3)),
                (ms(20), ms(1)),
                (ms(30), ms(2)),
                (ms(40), ms(9)),
            ],
            memory: vec![(ms(10), ms(4))],
        };
        assert_eq!(profile.reference_between(ms(0), ms(35)), Some(ms(2)));
        assert_eq!(profile.reference_between(ms(35), ms(50)), Some(ms(9)));
        assert_eq!(profile.reference_between(ms(50), ms(60)), None);
        assert_eq!(profile.memory_between(ms(0), ms(35)), Some(ms(4)));
        assert_eq!(profile.memory_between(ms(35), ms(50)), None);
    }

    #[test]
    fn the_reference_work_takes_cpu_time_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let took = reference_work().expect("a thread CPU clock on Linux");
        // A millisecond or so of SHA-512, read to the nanosecond.
        assert!(took > Duration::from_micros(50), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn the_memory_walk_visits_every_entry_once_per_cycle() {
        // The walk is one cycle: from 0, ENTRIES loads come back to 0 and
        // no entry is seen twice before.
        let walk = MemoryWalk::new();
        let mut seen = vec![false; MemoryWalk::ENTRIES as usize];
        let mut at = 0u32;
        for _ in 0..MemoryWalk::ENTRIES {
            assert!(
                !std::mem::replace(&mut seen[at as usize], true),
                "{at} twice"
            );
            at = walk.next[at as usize];
        }
        assert_eq!(at, 0);
        if cfg!(target_os = "linux") {
            let per_load = walk.time_per_load(&mut at).expect("a thread CPU clock");
            assert!(per_load > Duration::ZERO, "{per_load:?}");
        }
    }
}
