//! `paygate conform` from the command line: exit codes, the last line, JUnit.

use std::process::Command;

fn paygate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paygate"));
    for var in [
        "PAYGATE_PUBLIC_ID",
        "PAYGATE_MERCHANT_ID",
        "PAYGATE_SECRET_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn base_url_without_credentials_is_a_usage_error() {
    let out = paygate()
        .args(["conform", "--base-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PAYGATE_PUBLIC_ID"), "{stderr}");
    assert!(stderr.contains("PAYGATE_SECRET_KEY"), "{stderr}");
}

#[test]
fn bad_options_are_usage_errors() {
    let out = paygate()
        .args(["conform", "--concurrency", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = paygate()
        .args(["conform", "--base-url", "ftp://example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_filtered_run_prints_the_count_line_last_and_writes_junit() {
    let dir = std::env::temp_dir().join(format!("paygate-conform-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("report.xml");
    let out = paygate()
        .args(["conform", "--filter", "14/", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    let parts: Vec<&str> = last.split(' ').collect();
    assert_eq!(parts.len(), 6, "{last}");
    assert!(parts[0].parse::<usize>().unwrap() > 0, "{last}");
    assert_eq!(
        &parts[1..],
        ["passed,", "0", "failed,", "0", "skipped"],
        "{last}"
    );
    // stderr is a pipe here, as in CI: plain progress lines, the last at 100%.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(progress.len() >= 2, "{stderr}");
    assert!(
        progress.last().unwrap().contains("(100%), 0 failed"),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuites"), "{xml}");
    assert!(xml.contains("c2b/14/accepted"), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn listing_against_a_sandbox_marks_unsafe_cases_skipped() {
    let out = paygate()
        .args(["conform", "--list", "--base-url", "https://sandbox.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |id: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id}\t")))
            .map(str::to_owned)
    };
    assert!(!line("c2b/14/accepted").unwrap().contains("skip"));
    assert!(line("c2b/9210/amount_below_minimum")
        .unwrap()
        .contains("skip: simulator only"));
}

#[test]
fn a_filter_that_matches_nothing_is_an_error_and_repeats_add_up() {
    // A typo in CI must not pass as an empty, green run.
    let out = paygate()
        .args(["conform", "--filter", "hub2-hapy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no case matches --filter hub2-hapy"),
        "{stderr}"
    );

    let list = |filters: &[&str]| -> Vec<String> {
        let mut cmd = paygate();
        cmd.args(["conform", "--list"]);
        for f in filters {
            cmd.args(["--filter", f]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect()
    };
    let hub2 = list(&["hub2/*"]);
    assert!(!hub2.is_empty() && hub2.iter().all(|id| id.starts_with("hub2/")));
    let c2b14 = list(&["c2b/14/*"]);
    assert!(!c2b14.is_empty() && c2b14.iter().all(|id| id.starts_with("c2b/14/")));
    let both = list(&["hub2/*", "c2b/14/*"]);
    assert_eq!(both.len(), hub2.len() + c2b14.len());
}

#[test]
fn the_report_holds_cases_and_coverage_and_min_coverage_decides_the_exit() {
    let dir = std::env::temp_dir().join(format!("paygate-report-{}", std::process::id()));
    let out = paygate()
        .args([
            "conform",
            "--filter",
            "c2b/2303/*",
            "--min-coverage",
            "100",
            "--report",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("coverage: 100.0 % of the rules matrix"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .ends_with("0 failed, 0 skipped"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "paygate-conformance-report/1");
    let cases = report["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    assert!(cases
        .iter()
        .all(|c| c["id"].as_str().unwrap().starts_with("c2b/2303/")));
    assert_eq!(
        report["totals"]["passed"].as_u64().unwrap() as usize,
        cases.len()
    );
    let coverage = &report["coverage"];
    assert!(coverage["cells"].as_u64().unwrap() > 3, "{coverage}");
    assert_eq!(coverage["cells"], coverage["covered"]);
    assert!(coverage["by_country"]["CI"].is_object(), "{coverage}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("paygate conformance report") && html.contains("Coverage by country"));

    // Against a sandbox (a separately started simulator, no admin token)
    // the simulator-only cases are skipped: their cells are not covered,
    // and asking for more fails the run, naming both figures.
    let port = free_port();
    let mut sim = paygate()
        .args(["simulate", "--no-admin-token", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until_listening(port);
    let out = paygate()
        .args([
            "conform",
            "--filter",
            "c2b/2303/*",
            "--min-coverage",
            "50",
            "--report",
        ])
        .arg(&dir)
        .arg("--base-url")
        .arg(format!("http://127.0.0.1:{port}"))
        .env("PAYGATE_PUBLIC_ID", "demo-public-id")
        .env("PAYGATE_MERCHANT_ID", "demo-merchant")
        .env("PAYGATE_SECRET_KEY", "demo-secret-key-change-me")
        .output()
        .unwrap();
    let _ = sim.kill();
    let _ = sim.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is below --min-coverage 50 %"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let uncovered = report["coverage"]["uncovered"].as_array().unwrap();
    assert!(!uncovered.is_empty());
    assert!(uncovered
        .iter()
        .all(|u| u["reason"].as_str().unwrap().starts_with("skipped")));
    let out = paygate()
        .args(["conform", "--min-coverage", "101"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 100"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `paygate simulate` started on its own, with an admin token, on a free
/// loopback port (killed on drop).
struct Simulator {
    child: std::process::Child,
    url: String,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn separate_simulator(token: &str) -> Simulator {
    let port = free_port();
    let child = paygate()
        .args([
            "simulate",
            "--latency-ms",
            "50",
            "--callback-backoff-ms",
            "20",
        ])
        .args(["--hub2-rate-limit", "1000000", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("PAYGATE_ADMIN_TOKEN", token)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until_listening(port);
    Simulator {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

fn against(sim: &Simulator) -> Command {
    let mut cmd = paygate();
    cmd.args(["conform", "--base-url", &sim.url])
        .env("PAYGATE_PUBLIC_ID", "demo-public-id")
        .env("PAYGATE_MERCHANT_ID", "demo-merchant")
        .env("PAYGATE_SECRET_KEY", "demo-secret-key-change-me");
    cmd
}

#[test]
fn a_separately_started_simulator_is_detected_and_gets_the_whole_suite() {
    let sim = separate_simulator("cli-test-token");

    // Planned: every case, but the POS deposit (it calls back the
    // merchant's configured URL, which the suite does not set).
    let out = against(&sim)
        .args(["--list", "--admin-token", "cli-test-token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is a paygate simulator"), "{stderr}");
    assert!(stderr.contains("HUB2 with its demo merchant"), "{stderr}");
    assert!(
        stderr.contains("fault cases through demo-public-id-faults"),
        "{stderr}"
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    let skipped: Vec<&str> = listing.lines().filter(|l| l.contains("\tskip: ")).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].starts_with("flows/pos/deposit\t"), "{skipped:?}");
    assert!(listing.lines().count() > 2_000);

    // Run: what a sandbox skips (real providers, the control API,
    // callbacks, HUB2, faults) passes against the simulator.
    let out = against(&sim)
        .env("PAYGATE_ADMIN_TOKEN", "cli-test-token")
        .args(["--filter", "c2b/2303/*", "--filter", "flows"])
        .args(["--filter", "hub2-happy-path", "--filter", "hub2-webhooks"])
        .args(["--filter", "faults/c2b/699/recovery_disabled_is_reported"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let last = stdout.lines().last().unwrap();
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed > 50, "{last}");
    assert!(last.ends_with(" passed, 0 failed, 1 skipped"), "{last}");

    // A wrong token: the simulator is found, the run refused (exit 2).
    let out = against(&sim)
        .args(["--admin-token", "not-its-token", "--filter", "flows"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refuses the admin token"), "{stderr}");
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most 10 s) until something listens on 127.0.0.1:`port`.
fn wait_until_listening(port: u16) {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
