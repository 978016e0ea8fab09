//! Running the README's commands: a fresh `bash` (the install root's `bin`
//! first on `PATH`, none of the calling environment's `PAYGATE_*` or
//! per-test `CARGO_*` variables), its output to a log file, bounded by
//! `timeout`; a server in its own process group, up until it answers
//! `GET /_sim/health`, then stopped with SIGTERM.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer (it may be built first).
const SERVER_LIMIT: Duration = Duration::from_secs(10 * 60);
/// How long a server may take to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// A fresh shell's command: the install root on PATH, none of the calling
/// environment's PAYGATE_* or per-test CARGO_* variables.
fn shell(script: &str, dir: &Path, install: &Path) -> Command {
    let mut command = Command::new("bash");
    command.arg("-c").arg(script).current_dir(dir);
    fresh_env(&mut command, install);
    command
}

fn fresh_env(command: &mut Command, install: &Path) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let per_test = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || name.starts_with("CARGO_BIN_")
            || matches!(
                name.as_ref(),
                "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
            );
        if per_test || name.starts_with("PAYGATE_") || name.starts_with("RUST_TEST_") {
            command.env_remove(name.as_ref());
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    command
        .env("CARGO_INSTALL_ROOT", install)
        .env("PATH", format!("{}:{path}", install.join("bin").display()))
        .stdin(Stdio::null());
}

/// Output to the step's log file, stdout and stderr interleaved.
fn to_log(command: &mut Command, log: &Path) -> Result<(), String> {
    let file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let copy = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    command.stdout(file).stderr(copy);
    Ok(())
}

/// Runs `script` bounded by `limit` (`timeout` stops the whole group).
pub fn run_bounded(
    script: &str,
    dir: &Path,
    install: &Path,
    log: &Path,
    limit: Duration,
) -> Result<(), String> {
    let mut command = Command::new("timeout");
    command
        .args([
            "-k",
            "10",
            &limit.as_secs().to_string(),
            "bash",
            "-c",
            script,
        ])
        .current_dir(dir);
    fresh_env(&mut command, install);
    to_log(&mut command, log)?;
    let status = command
        .status()
        .map_err(|e| format!("cannot start bash: {e}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(124 | 137) => Err(format!("did not finish within {} s", limit.as_secs())),
        _ => Err(format!("failed: {status}")),
    }
}

/// `GET /_sim/health` answered 200.
fn answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /_sim/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A server started in its own process group, stopped by SIGTERM.
pub struct Server {
    child: Option<Child>,
}

impl Server {
    pub fn start(
        command: &str,
        dir: &Path,
        address: SocketAddr,
        install: &Path,
        log: &Path,
    ) -> Result<Server, String> {
        if answers(address) {
            return Err(format!(
                "something already answers on {address}: stop it first"
            ));
        }
        let mut bash = shell(command, dir, install);
        bash.process_group(0);
        to_log(&mut bash, log)?;
        let mut server = Server {
            child: Some(
                bash.spawn()
                    .map_err(|e| format!("cannot start bash: {e}"))?,
            ),
        };
        let started = Instant::now();
        loop {
            if answers(address) {
                return Ok(server);
            }
            if let Some(status) = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                server.child = None;
                return Err(format!("exited before answering on {address}: {status}"));
            }
            if started.elapsed() > SERVER_LIMIT {
                return Err(format!(
                    "did not answer on {address} within {} s",
                    SERVER_LIMIT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM to the group; the server must exit 0 within [`STOP_LIMIT`].
    pub fn stop(mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        signal(&child, "TERM");
        let asked = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("on SIGTERM: {status}, not exit 0")),
                Ok(None) if asked.elapsed() < STOP_LIMIT => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    signal(&child, "KILL");
                    let _ = child.wait();
                    return Err(format!(
                        "still running {} s after SIGTERM",
                        STOP_LIMIT.as_secs()
                    ));
                }
            }
        }
    }
}

/// A signal to the child's whole process group (bash, cargo, paygate).
fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), "--", &format!("-{}", child.id())])
        .status();
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, "KILL");
            let _ = child.wait();
        }
    }
}
