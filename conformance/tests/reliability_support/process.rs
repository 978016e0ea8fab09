//! `paygate simulate --db` as a child process on a free loopback port,
//! and the scratch folders and merchants files its runs use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{ADMIN_TOKEN, CALLBACK_ATTEMPTS, MERCHANT_ID, PUBLIC_ID, SECRET};

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh scratch directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a merchants file for the reliability merchant.
pub fn merchants_file(dir: &Path, callback_url: &str) -> PathBuf {
    let path = dir.join("merchants.yaml");
    std::fs::write(
        &path,
        format!(
            "merchants:\n  - public_id: {PUBLIC_ID}\n    merchant_id: {MERCHANT_ID}\n    \
             secret_key: {SECRET}\n    callback_url: {callback_url}\n"
        ),
    )
    .unwrap();
    path
}

/// `paygate simulate --db FILE` on a fixed port.
pub struct SimProcess {
    pub port: u16,
    pub db: PathBuf,
    pub merchants: PathBuf,
    pub log: PathBuf,
    pub latency_ms: u64,
    pub callback_backoff_ms: u64,
    /// More `paygate simulate` arguments (timeouts, connection bound).
    pub extra_args: Vec<String>,
    child: Option<Child>,
}

impl SimProcess {
    pub fn new(dir: &Path, merchants: PathBuf, latency_ms: u64, callback_backoff_ms: u64) -> Self {
        SimProcess {
            port: free_port(),
            db: dir.join("gateway.db"),
            merchants,
            log: dir.join("simulator.log"),
            latency_ms,
            callback_backoff_ms,
            extra_args: Vec::new(),
            child: None,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the binary and waits (at most 20 s) until it answers.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args(["simulate", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--merchants")
            .arg(&self.merchants)
            .arg("--db")
            .arg(&self.db)
            .arg("--latency-ms")
            .arg(self.latency_ms.to_string())
            .arg("--callback-attempts")
            .arg(CALLBACK_ATTEMPTS.to_string())
            .arg("--callback-backoff-ms")
            .arg(self.callback_backoff_ms.to_string())
            .arg("--admin-token")
            .arg(ADMIN_TOKEN)
            .args(&self.extra_args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("paygate simulate starts");
        self.child = Some(child);
        let health = format!("{}/_sim/health", self.base_url());
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = http.get(&health).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "paygate simulate exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "paygate simulate did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, and the exit status (waits at most `within`; SIGKILL and
    /// panic after that).
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("paygate simulate did not exit within {within:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The running child's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    /// `GET /_sim/health`'s `transactions`.
    pub async fn transaction_count(&self) -> u64 {
        let value: Value = reqwest::get(format!("{}/_sim/health", self.base_url()))
            .await
            .unwrap()
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null))
            .unwrap();
        let expected = if self.db.to_string_lossy().starts_with("postgres") {
            "postgresql"
        } else {
            "sqlite"
        };
        assert_eq!(value["storage"], expected);
        value["transactions"].as_u64().unwrap()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
