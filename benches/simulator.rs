//! The simulator's throughput for signed C2B requests over loopback.
//!
//! Starts the gateway simulator in process on 127.0.0.1, then sends
//! `REQUESTS` signed `payment_c2b` requests (provider 14, the Simulator;
//! unique order ids) from `CONCURRENCY` tasks sharing one HTTP/1.1 client,
//! after a warm-up, and prints requests per second and latency percentiles.
//! Every answer must be HTTP 200; the run is also bounded in time.
//!
//! Not a criterion benchmark: one run is one measurement of a server under
//! load. `cargo bench -p paygate-benches --bench simulator -- --test` (what
//! CI runs) sends a handful of requests only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use paygate::gateway::{Currency, PaymentC2bRequest};
use paygate::signing::{sign, SecretKey, SigningKey};
use paygate_conformance::simulator::{
    start, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY,
};

/// Concurrent requests in flight.
const CONCURRENCY: usize = 32;
/// Requests measured (after `WARM_UP`).
const REQUESTS: usize = 20_000;
const WARM_UP: usize = 1_000;
/// The measured run stops early past this.
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn main() {
    // `cargo bench` passes `--bench`; `-- --test` asks for a smoke run.
    let quick = std::env::args().any(|arg| arg == "--test");
    let (requests, warm_up) = if quick { (64, 32) } else { (REQUESTS, WARM_UP) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(requests, warm_up, quick));
}

async fn run(requests: usize, warm_up: usize, quick: bool) {
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let sim = start(SimulatorConfig::demo(), listen)
        .await
        .expect("the simulator starts");
    let url = format!("{}/{DEMO_PUBLIC_ID}/payment_c2b", sim.base_url());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("an HTTP client");
    let key = SigningKey::new(&SecretKey::new(DEMO_SECRET_KEY));

    load(&client, &url, &key, "warm", warm_up, TIME_LIMIT).await;
    let started = Instant::now();
    let mut latencies = load(&client, &url, &key, "run", requests, TIME_LIMIT).await;
    let elapsed = started.elapsed();
    sim.shutdown().await;

    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i]
    };
    let rps = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "simulator/c2b_loopback{}: {} signed C2B requests, concurrency {CONCURRENCY}, in {:.2} s: \
         {rps:.0} requests/s, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        if quick { " (--test: smoke run)" } else { "" },
        latencies.len(),
        elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(pct(1.0)),
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sends `count` requests from `CONCURRENCY` tasks; returns each latency.
async fn load(
    client: &reqwest::Client,
    url: &str,
    key: &SigningKey,
    tag: &'static str,
    count: usize,
    limit: Duration,
) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + limit;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, key, next) =
                (client.clone(), url.to_owned(), key.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count / CONCURRENCY + 1);
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count || Instant::now() > deadline {
                        return latencies;
                    }
                    let body = signed_request(&key, &format!("bench-{tag}-{n}"));
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("the simulator answers");
                    let status = response.status();
                    let answer = response.bytes().await.expect("an answer body");
                    latencies.push(sent.elapsed());
                    assert!(
                        status.is_success(),
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await.expect("a load task"));
    }
    all
}

/// A C2B request to the Simulator provider, signed, as JSON.
fn signed_request(key: &SigningKey, order_id: &str) -> Vec<u8> {
    let mut request = PaymentC2bRequest::new(
        DEMO_MERCHANT_ID,
        "2250705145655",
        order_id,
        "1100.00".parse().expect("two decimals"),
        Currency::Xof,
        14,
    );
    request.signature = sign(key, &request).expect("flat").to_string();
    serde_json::to_vec(&request).expect("serialisable")
}
