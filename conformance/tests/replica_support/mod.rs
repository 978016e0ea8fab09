//! A round-robin TCP front for the replica test: one listener on
//! 127.0.0.1 that hands each accepted connection to the next backend in
//! rotation and relays bytes both ways until either side closes. A
//! connection's backend is fixed for its whole life, so an HTTP
//! keep-alive connection sticks to one replica; many clients spread over
//! all of them. A backend that refuses (or does not accept within 2 s) is
//! skipped for the next one; when none accepts, the client's connection is
//! closed, which its HTTP client sees as a transport error.
//!
//! Loopback only. Dropping the front stops it and closes every connection
//! it relays.
// Not every test crate that includes this module reads every counter.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How long the front waits for one backend to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Counters {
    /// Connections relayed to each backend (in the backends' order).
    served: Vec<AtomicUsize>,
    /// Connects to a backend that failed (then the next one was tried).
    failovers: AtomicUsize,
    /// Client connections closed because no backend accepted.
    dropped: AtomicUsize,
}

/// The front; see the module documentation.
pub struct RoundRobin {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl RoundRobin {
    /// Listens on a free port of 127.0.0.1 in front of `backends`.
    pub async fn start(backends: Vec<SocketAddr>) -> RoundRobin {
        assert!(!backends.is_empty(), "a front needs a backend");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the front binds 127.0.0.1");
        let addr = listener.local_addr().expect("the front's address");
        let counters = Arc::new(Counters {
            served: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
            ..Counters::default()
        });
        let backends: Arc<[SocketAddr]> = backends.into();
        let task = tokio::spawn(accept(listener, backends, counters.clone()));
        RoundRobin {
            addr,
            counters,
            task,
        }
    }

    /// `http://127.0.0.1:{port}` of the front.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections relayed to each backend so far (in the backends' order).
    pub fn served(&self) -> Vec<usize> {
        self.counters
            .served
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .collect()
    }

    /// Connects to a backend that failed, each followed by a try of the
    /// next backend.
    pub fn failovers(&self) -> usize {
        self.counters.failovers.load(Ordering::SeqCst)
    }

    /// Client connections closed because no backend accepted them.
    pub fn dropped(&self) -> usize {
        self.counters.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        // The relays live in the accept task's JoinSet: aborting the task
        // drops the set, which aborts them (and closes their sockets).
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, backends: Arc<[SocketAddr]>, counters: Arc<Counters>) {
    let mut relays = JoinSet::new();
    let mut next = 0usize;
    loop {
        // Reap the relays that have finished.
        while relays.try_join_next().is_some() {}
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(_) => {
                // Out of descriptors and the like: wait, then go on.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let first = next % backends.len();
        next = next.wrapping_add(1);
        relays.spawn(relay(client, first, backends.clone(), counters.clone()));
    }
}

/// Connects `client` to the first backend that accepts, from `first` on in
/// rotation, and relays until either side closes.
async fn relay(
    mut client: TcpStream,
    first: usize,
    backends: Arc<[SocketAddr]>,
    counters: Arc<Counters>,
) {
    let _ = client.set_nodelay(true);
    for i in 0..backends.len() {
        let k = (first + i) % backends.len();
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backends[k])).await {
            Ok(Ok(mut server)) => {
                counters.served[k].fetch_add(1, Ordering::SeqCst);
                let _ = server.set_nodelay(true);
                // Ends when both directions have closed, or with the
                // first error (a killed backend resets): either way both
                // sockets are dropped, which closes the client's side.
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                return;
            }
            Ok(Err(_)) | Err(_) => {
                counters.failovers.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    counters.dropped.fetch_add(1, Ordering::SeqCst);
}
