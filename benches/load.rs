//! The simulator's cost against its work: a long run of signed C2B
//! payments (unique orders, MTN Côte d'Ivoire, outcomes and callbacks as
//! configured), reported per window of payments so that growth or a stall
//! shows as a trend rather than hiding in one average.
//!
//! Two ways to load it:
//! * closed loop (the default): `--concurrency` clients send back to back;
//!   latency is from send to answer;
//! * steady rate (`--rate R`): payment `n` is due at `start + n / R`, and
//!   its latency is counted from that due time, so a stall delays every
//!   payment due during it and shows in the percentiles instead of
//!   silently slowing the clients down.
//!
//! The simulator runs in this process over loopback (the load generator
//! shares its cores), logging at `--log` (default `info`, as
//! `paygate simulate`) into a sink. With `--db` it keeps its state in a
//! fresh SQLite file; with `--callbacks` every payment reaches its outcome
//! after `--outcome-latency-ms` and is called back at a local endpoint
//! that answers 200, and the run waits for every callback.
//!
//! `cargo bench -p paygate-benches --bench load -- --test` (CI) is a short
//! run of each mode; see `benches/README.md` for the full commands.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use paygate::gateway::{Currency, PaymentC2bRequest};
use paygate::signing::{sign, SecretKey, SigningKey};
use paygate_benches::cpu::{CpuProfile, CpuSampler, MemoryWalk};
use paygate_conformance::simulator::{
    start, CallbackRetry, ReplicaOptions, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID,
    DEMO_SECRET_KEY,
};

/// The allocator the `paygate` binary uses, so that the run measures it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug, Clone)]
#[command(about = "Simulator load run, reported per window of payments")]
struct Args {
    /// Payments to send.
    #[arg(long, default_value_t = 1_000_000)]
    payments: usize,
    /// Payments per reported window.
    #[arg(long, default_value_t = 100_000)]
    window: usize,
    /// Clients sending at once (closed loop), or at most in flight
    /// (steady rate).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Steady rate in payments per second (latency from the due time).
    #[arg(long)]
    rate: Option<u64>,
    /// Keep the state in a fresh SQLite file (`paygate simulate --db`).
    #[arg(long)]
    db: bool,
    /// Keep the state in this PostgreSQL database instead
    /// (`paygate simulate --db postgres://...`; give it an empty one).
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    db_url: Option<String>,
    /// With --db-url: this many simulators on the database as replicas
    /// (`paygate simulate --replica`), the clients spread over them in
    /// turn (client i sends to replica i mod N).
    #[arg(long, value_name = "N", requires = "db_url", value_parser = clap::value_parser!(u16).range(1..=16))]
    replicas: Option<u16>,
    /// Deliver every payment's callback to a local endpoint.
    #[arg(long)]
    callbacks: bool,
    /// Time from acceptance to outcome, with `--callbacks`.
    #[arg(long, default_value_t = 10)]
    outcome_latency_ms: u64,
    /// The simulator's log filter (its output is discarded).
    #[arg(long, default_value = "info")]
    log: String,
    /// Short runs of every mode (what `cargo bench -- --test` asks for).
    #[arg(long)]
    test: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::sink)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if args.test {
        for (db, callbacks, rate) in [
            (false, true, None),
            (true, true, None),
            (false, false, Some(2_000)),
        ] {
            let short = Args {
                payments: 6_000,
                window: 2_000,
                db,
                callbacks,
                rate,
                ..args.clone()
            };
            runtime.block_on(run(&short));
        }
    } else {
        runtime.block_on(run(&args));
    }
}

/// Where the run kept its state, as the report's title says it.
fn storage_label(args: &Args) -> String {
    if args.db {
        ", --db (SQLite)".into()
    } else if let Some(n) = args.replicas {
        format!(", --db (PostgreSQL), {n} replica(s) --replica")
    } else if args.db_url.is_some() {
        ", --db (PostgreSQL)".into()
    } else {
        ", in memory".into()
    }
}

/// When each payment was due (or sent) and answered, in microseconds since
/// the run's start; 0 = not yet.
struct Timings {
    due: Vec<AtomicU64>,
    answered: Vec<AtomicU64>,
}

async fn run(args: &Args) {
    let payments = args.payments.max(1);
    let window = args.window.clamp(1, payments);
    let sink = CallbackSink::start(payments).await;
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(args.outcome_latency_ms);
    config.callback_retry = CallbackRetry::default();
    if args.callbacks {
        config.merchants[0].callback_url = Some(sink.url.clone());
    }
    let scratch = std::env::temp_dir().join(format!("paygate-load-{}", std::process::id()));
    if args.db {
        std::fs::create_dir_all(&scratch).expect("a scratch directory");
        config.db = Some(scratch.join("load.db"));
    }
    if let Some(url) = &args.db_url {
        config.db = Some(url.into());
    }
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    if args.replicas.is_some() {
        config.replica = Some(ReplicaOptions::default());
    }
    let mut sims = Vec::new();
    for _ in 0..args.replicas.unwrap_or(1) {
        sims.push(
            start(config.clone(), listen)
                .await
                .expect("the simulator starts"),
        );
    }
    let addresses: Vec<SocketAddr> = sims.iter().map(|sim| sim.addr).collect();
    let key = SigningKey::new(&SecretKey::new(DEMO_SECRET_KEY));
    let timings = Arc::new(Timings {
        due: (0..payments).map(|_| AtomicU64::new(0)).collect(),
        answered: (0..payments).map(|_| AtomicU64::new(0)).collect(),
    });
    // Built before the memory is measured: its 64 MiB are not the run's.
    let walk = MemoryWalk::new();
    let rss_before = rss_bytes();

    let started = Instant::now();
    let sampler = CpuSampler::start(started, Duration::from_millis(20), walk);
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..args.concurrency.max(1))
        .map(|i| {
            let (address, key, next, timings) = (
                addresses[i % addresses.len()],
                key.clone(),
                next.clone(),
                timings.clone(),
            );
            let rate = args.rate;
            tokio::spawn(async move {
                let mut client = Connection::open(address).await;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= payments {
                        return;
                    }
                    let body = signed_request(&key, n);
                    let due = match rate {
                        Some(rate) => {
                            let due = Duration::from_micros(n as u64 * 1_000_000 / rate.max(1));
                            tokio::time::sleep_until((started + due).into()).await;
                            due
                        }
                        None => started.elapsed(),
                    };
                    let (status, answer) = client.pay(body).await;
                    let answered = started.elapsed();
                    assert!(
                        status.is_success(),
                        "payment {n}: HTTP {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                    timings.due[n].store(micros(due), Ordering::Relaxed);
                    timings.answered[n].store(micros(answered).max(1), Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a load task");
    }
    let elapsed = started.elapsed();
    let rss_after = rss_bytes();
    let drained = if args.callbacks {
        sink.wait_for(payments, Duration::from_secs(600)).await
    } else {
        Some(Duration::ZERO)
    };
    let cpu = sampler.finish();
    let stored = sims[0].state().store().transaction_count();
    for sim in sims {
        sim.shutdown().await;
    }
    if args.db {
        let _ = std::fs::remove_dir_all(&scratch);
    }

    println!(
        "\n## load: {payments} payments, {}{}{}, log {}\n",
        match args.rate {
            Some(rate) => format!("steady rate {rate}/s (latency from the due time)"),
            None => format!("closed loop, {} clients", args.concurrency),
        },
        storage_label(args),
        if args.callbacks {
            format!(", callbacks after {} ms", args.outcome_latency_ms)
        } else {
            ", no callbacks".to_owned()
        },
        args.log,
    );
    println!(
        "| payments | payments/s | p50 ms | p99 ms | p99.9 ms | max ms | p99.9 / first | CPU µs / payment | reference µs | memory ns |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut first_p999 = None;
    for start_at in (0..payments).step_by(window) {
        let end = (start_at + window).min(payments);
        let stats = window_stats(&timings, start_at, end, &cpu);
        let first = *first_p999.get_or_insert(stats.p999);
        println!(
            "| {}–{} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            start_at + 1,
            end,
            stats.throughput,
            stats.p50,
            stats.p99,
            stats.p999,
            stats.max,
            stats.p999 / first.max(0.001),
            per_payment(stats.cpu, end - start_at),
            stats
                .reference
                .map_or_else(|| "-".into(), |took| format!("{}", took.as_micros())),
            stats
                .memory
                .map_or_else(|| "-".into(), |took| format!("{}", took.as_nanos())),
        );
    }
    println!(
        "\nreference: the median CPU time, in the window, of a fixed piece of work \
         (SHA-512 over 1 MiB) timed on a thread of its own; memory: its median CPU \
         time per load of a walk through 64 MiB, each load depending on the last; \
         when CPU per payment rises with either, the machine got slower, not the simulator"
    );
    let all = window_stats(&timings, 0, payments, &cpu);
    println!(
        "\nall: {:.0} payments/s over {:.2} s; p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        payments as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        all.p50,
        all.p99,
        all.p999,
        all.max
    );
    // From the first send to the last callback: everything the run made
    // this process do.
    let run_cpu = cpu
        .samples
        .first()
        .zip(cpu.samples.last())
        .map(|(first, last)| last.1.saturating_sub(first.1));
    println!(
        "cpu: {} µs per payment over the whole run, callbacks included (this process: \
         simulator, load generator and callback endpoint; 2 cores give 2 000 000 µs per second)",
        per_payment(run_cpu, payments)
    );
    println!(
        "memory: {stored} stored transactions, RSS +{} MiB = {} bytes per stored transaction \
         (this process: simulator and load generator)",
        rss_after.saturating_sub(rss_before) / (1024 * 1024),
        rss_after.saturating_sub(rss_before) / (stored.max(1) as u64)
    );
    if args.callbacks {
        match drained {
            Some(after) => println!(
                "callbacks: all {payments} delivered {:.2} s after the last answer ({} attempts)",
                after.as_secs_f64(),
                sink.received.load(Ordering::Relaxed)
            ),
            None => panic!(
                "callbacks: only {} of {payments} delivered",
                sink.orders.load(Ordering::Relaxed)
            ),
        }
    }
}

struct WindowStats {
    /// The CPU time the process used from the window's first send to its
    /// last answer (other windows' callbacks included, the load being
    /// continuous).
    cpu: Option<Duration>,
    /// The reference work's median CPU time in the window.
    reference: Option<Duration>,
    /// The memory walk's median CPU time per load in the window.
    memory: Option<Duration>,
    throughput: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

fn window_stats(timings: &Timings, from: usize, to: usize, cpu: &CpuProfile) -> WindowStats {
    let mut latencies: Vec<u64> = Vec::with_capacity(to - from);
    let (mut first_due, mut last_answer) = (u64::MAX, 0u64);
    for n in from..to {
        let due = timings.due[n].load(Ordering::Relaxed);
        let answered = timings.answered[n].load(Ordering::Relaxed);
        first_due = first_due.min(due);
        last_answer = last_answer.max(answered);
        latencies.push(answered.saturating_sub(due));
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1e3
    };
    let span = last_answer.saturating_sub(first_due).max(1) as f64 / 1e6;
    WindowStats {
        cpu: cpu.between(
            Duration::from_micros(first_due),
            Duration::from_micros(last_answer),
        ),
        reference: cpu.reference_between(
            Duration::from_micros(first_due),
            Duration::from_micros(last_answer),
        ),
        memory: cpu.memory_between(
            Duration::from_micros(first_due),
            Duration::from_micros(last_answer),
        ),
        throughput: (to - from) as f64 / span,
        p50: pct(0.50),
        p99: pct(0.99),
        p999: pct(0.999),
        max: pct(1.0),
    }
}

/// CPU microseconds per payment, or `-` when not sampled.
fn per_payment(cpu: Option<Duration>, payments: usize) -> String {
    match cpu {
        Some(cpu) => format!("{:.0}", cpu.as_secs_f64() * 1e6 / payments.max(1) as f64),
        None => "-".into(),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// This process's resident memory, from `/proc/self/status` (0 elsewhere).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kib = line
                    .strip_prefix("VmRSS:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim();
                kib.parse::<u64>().ok()
            })
        })
        .unwrap_or(0)
        * 1024
}

/// A signed C2B payment `n` to MTN Côte d'Ivoire (provider 2303): a unique
/// order, customers spread so that no daily limit is reached, none of the
/// magic suffixes (`001`–`003`), so every payment succeeds.
fn signed_request(key: &SigningKey, n: usize) -> Vec<u8> {
    let customer = format!("22507{:05}{:03}", n / 1000 % 100_000, 100 + n % 800);
    let mut request = PaymentC2bRequest::new(
        DEMO_MERCHANT_ID,
        customer,
        format!("load-{n}"),
        "1100.00".parse().expect("two decimals"),
        Currency::Xof,
        2303,
    );
    request.signature = sign(key, &request).expect("flat").to_string();
    serde_json::to_vec(&request).expect("serialisable")
}

/// A callback endpoint that answers 200 and counts the orders called back.
///
/// It notes each order in a flag per payment, allocated up front: a set
/// that grew with the run would rehash everything it holds now and then,
/// holding one of the two cores for milliseconds, which the steady-rate
/// mode measured as the simulator's latency (p99 of 35 ms at 10 000
/// payments/s, half its capacity).
struct CallbackSink {
    url: String,
    received: Arc<AtomicUsize>,
    orders: Arc<AtomicUsize>,
}

impl CallbackSink {
    async fn start(payments: usize) -> CallbackSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a sink port");
        let url = format!(
            "http://{}/callback",
            listener.local_addr().expect("an address")
        );
        let received = Arc::new(AtomicUsize::new(0));
        let orders = Arc::new(AtomicUsize::new(0));
        let seen: Arc<Vec<AtomicBool>> =
            Arc::new((0..payments).map(|_| AtomicBool::new(false)).collect());
        let app = {
            let (received, orders) = (received.clone(), orders.clone());
            axum::Router::new().route(
                "/callback",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let (received, orders, seen) = (received.clone(), orders.clone(), seen.clone());
                    async move {
                        received.fetch_add(1, Ordering::Relaxed);
                        let first = order_number(&body)
                            .and_then(|n| seen.get(n))
                            .is_some_and(|flag| !flag.swap(true, Ordering::Relaxed));
                        if first {
                            orders.fetch_add(1, Ordering::Relaxed);
                        }
                        "ok"
                    }
                }),
            )
        };
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CallbackSink {
            url,
            received,
            orders,
        }
    }

    /// Waits until `count` orders were called back; how long it took, or
    /// `None` past `limit`.
    async fn wait_for(&self, count: usize, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        while self.orders.load(Ordering::Relaxed) < count {
            if started.elapsed() > limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Some(started.elapsed())
    }
}

/// The payment number `n` of a callback body's `"order_id":"load-n"`.
fn order_number(body: &[u8]) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Order<'a> {
        #[serde(borrow)]
        order_id: &'a str,
    }
    let order: Order<'_> = serde_json::from_slice(body).ok()?;
    order.order_id.strip_prefix("load-")?.parse().ok()
}

/// One client's HTTP/1.1 connection to the simulator, kept alive for the
/// whole run. The generator shares the simulator's two cores, so it is
/// kept lean: a bare hyper connection per client, where a pooled
/// `reqwest` client spent about a tenth of the run's CPU on its own
/// bookkeeping (URL parsing, pool checkout).
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    host: String,
}

impl Connection {
    async fn open(address: SocketAddr) -> Connection {
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("a connection to the simulator");
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("an HTTP/1.1 handshake");
        tokio::spawn(connection);
        Connection {
            sender,
            host: address.to_string(),
        }
    }

    /// Posts one signed payment: the answer's status and body.
    async fn pay(&mut self, body: Vec<u8>) -> (hyper::StatusCode, bytes::Bytes) {
        use http_body_util::BodyExt;
        let request = hyper::Request::post(format!("/{DEMO_PUBLIC_ID}/payment_c2b"))
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .expect("a request");
        self.sender.ready().await.expect("the connection is open");
        let response = self
            .sender
            .send_request(request)
            .await
            .expect("the simulator answers");
        let status = response.status();
        let answer = response
            .into_body()
            .collect()
            .await
            .expect("an answer body")
            .to_bytes();
        (status, answer)
    }
}
