//! The command line as its ecosystem expects it (issue 18, part 3): shell
//! completions, `--log-level` and `--log-format`, no colour in logs that
//! are not a terminal, and the simulator serving its OpenAPI documents.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn paygate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paygate"))
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = paygate().args(["completions", shell]).output().unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("conform") && script.contains("simulate"),
            "{shell}: {script}"
        );
    }
    let out = paygate().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The first `lines` lines `paygate simulate ARGS` writes on stderr (a
/// pipe, so not a terminal), then the process is killed.
fn simulator_log(args: &[&str], lines: usize) -> Vec<String> {
    let mut child = paygate()
        .args(["simulate", "--listen", "127.0.0.1:0", "--no-admin-token"])
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .take(lines)
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap()
}

#[test]
fn logs_to_a_pipe_have_no_colour_and_json_is_one_object_per_line() {
    let pretty = simulator_log(&[], 2);
    assert_eq!(pretty.len(), 2, "{pretty:?}");
    assert!(
        pretty.iter().all(|l| !l.contains('\u{1b}')),
        "escape codes in {pretty:?}"
    );

    let json = simulator_log(&["--log-format", "json"], 2);
    assert_eq!(json.len(), 2, "{json:?}");
    for line in &json {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(value["level"], "INFO", "{line}");
        assert!(value["fields"]["message"].is_string(), "{line}");
    }

    // `--log-level warn`: the start-up `info` lines are gone.
    let quiet = simulator_log(&["--log-level", "warn"], 1);
    assert!(quiet.iter().all(|l| !l.contains("INFO")), "{quiet:?}");
}

#[test]
fn a_bad_log_level_is_a_usage_error() {
    let out = paygate()
        .args([
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--no-admin-token",
            "--log-level",
            "info,x=loud",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--log-level"));
}

#[tokio::test]
async fn the_simulator_serves_its_openapi_documents() {
    use paygate_conformance::simulator::{start, SimulatorConfig};
    let sim = start(SimulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    for (path, file) in [
        ("/openapi.yaml", "../spec/gateway/openapi.yaml"),
        ("/hub2/openapi.yaml", "../spec/hub2/openapi.yaml"),
    ] {
        let response = reqwest::get(format!("{}{path}", sim.base_url()))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "application/yaml");
        let body = response.text().await.unwrap();
        let expected =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap();
        assert_eq!(
            body, expected,
            "{path} is the spec the simulator was built from"
        );
    }
    sim.shutdown().await;
}
