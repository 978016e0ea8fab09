//! Slow and idle clients (issue 14, defect 4): a half-sent head, a body
//! shorter than its `Content-Length` or an idle kept-alive connection is
//! closed after its timeout, and connections beyond the bound wait instead
//! of piling up. The timeouts here are short (set through
//! `SimulatorConfig::connections`); the defaults are 10 s and 30 s.

use std::time::{Duration, Instant};

use paygate_conformance::simulator::{start, ConnectionLimits, RunningSimulator, SimulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_millis(300);
/// Far above the timeouts: a connection still open after this was never
/// going to be closed.
const PATIENCE: Duration = Duration::from_secs(4);

async fn sim(max_connections: usize) -> RunningSimulator {
    let mut config = SimulatorConfig::demo();
    config.connections = ConnectionLimits {
        header_timeout: TIMEOUT,
        body_timeout: TIMEOUT,
        max_connections,
    };
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// Reads until the server closes the connection; `None` if it is still
/// open after [`PATIENCE`]. Returns what was read and how long it took.
async fn until_closed(stream: &mut TcpStream) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + PATIENCE).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((out, started.elapsed())),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    let sim = sim(64).await;
    let mut stream = TcpStream::connect(sim.addr).await.unwrap();
    stream
        .write_all(b"POST /demo-public-id/payment_c2b HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
        .await
        .unwrap();
    let closed = until_closed(&mut stream).await;
    let (answer, after) = closed.expect("a half-sent head must not hold the connection open");
    assert!(after >= TIMEOUT / 2, "closed too early: {after:?}");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[tokio::test]
async fn a_body_shorter_than_its_length_is_answered_408_after_the_body_timeout() {
    let sim = sim(64).await;
    let mut stream = TcpStream::connect(sim.addr).await.unwrap();
    stream
        .write_all(
            b"POST /demo-public-id/payment_c2b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"merchant_id\":",
        )
        .await
        .unwrap();
    let closed = until_closed(&mut stream).await;
    let (answer, _) = closed.expect("a short body must not hold the connection open");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "never a 5xx or silence: {text}"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let sim = sim(64).await;
    let mut stream = TcpStream::connect(sim.addr).await.unwrap();
    stream
        .write_all(b"GET /_sim/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let closed = until_closed(&mut stream).await;
    let (answer, _) = closed.expect("an idle kept-alive connection must be closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    // A connection that never sends a byte is closed as well.
    let mut silent = TcpStream::connect(sim.addr).await.unwrap();
    assert!(
        until_closed(&mut silent).await.is_some(),
        "a silent connection stays open"
    );
}

#[tokio::test]
async fn beyond_the_bound_clients_wait_and_are_served_once_idle_ones_time_out() {
    let sim = sim(4).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(sim.addr).await.unwrap());
    }
    // Let the server take them all before the fresh client comes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(format!("{}/_sim/health", sim.base_url()))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("served once the idle connections time out");
    assert_eq!(answer.status().as_u16(), 200);
    assert!(
        started.elapsed() >= TIMEOUT / 2,
        "the fifth connection was served at once: no bound ({:?})",
        started.elapsed()
    );
    for mut stream in idle {
        assert!(until_closed(&mut stream).await.is_some());
    }
}
