//! Every shell example of the README (its ```sh blocks), so that none
//! drifts from the code:
//!
//! * the examples that talk to a running simulator with `curl` are run
//!   with bash, as printed (the port changed to a free one), `paygate`
//!   being this build's binary and `curl` failing on an HTTP error; the
//!   simulator is the block's own when it starts one, else one started
//!   here with the state the block reads (an order `order-1` settled with
//!   a callback, the manual clock);
//! * every other command is checked against what it names: `paygate`
//!   subcommands and every flag used (`paygate SUB --help`), `cargo run
//!   -p paygate-conformance -- ...` likewise, the packages, `--test`
//!   targets (and the test-name filter), `--example`s, `--bin`s and
//!   `--bench`es (and their flags), the scripts. `readme_commands.rs`
//!   (run by `.ci/run`) then executes each of those commands as printed;
//!   both read the blocks through `readme_support`, so they agree on what
//!   a block and a command are.
//!
//! A command of a kind not known here fails the test, so a new kind of
//! example gets checked, or this list says why not.

mod readme_support;
mod simulator_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use paygate_conformance::simulator::DEMO_PUBLIC_ID;
use readme_support::{blocks, commands, root, segments, talks_to_a_simulator, words, Block};
use simulator_support::*;

/// What one crate of the workspace offers.
struct Package {
    dir: PathBuf,
    manifest: String,
}

fn package(name: &str) -> Package {
    let dir = match name {
        "paygate" => root().join("paygate"),
        "paygate-core" => root().join("paygate/core"),
        "paygate-derive" => root().join("paygate/derive"),
        "paygate-generated" => root().join("generated"),
        "paygate-codegen" => root().join("codegen"),
        "paygate-conformance" => root().join("conformance"),
        "paygate-benches" => root().join("benches"),
        other => panic!("the README names a package {other:?} that is not in the workspace"),
    };
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        manifest.contains(&format!("name = \"{name}\"")),
        "{} is not package {name}",
        dir.display()
    );
    Package { dir, manifest }
}

fn value_of<'a>(words: &'a [String], flag: &str) -> Vec<&'a str> {
    words
        .windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].as_str())
        .collect()
}

fn flags(words: &[String]) -> BTreeSet<String> {
    words
        .iter()
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.split('=').next().unwrap_or(w).to_owned())
        .collect()
}

/// `paygate SUB ARGS`: the subcommand exists and knows every flag used.
fn check_paygate(args: &[String], at: &str) {
    let Some(sub) = args.first() else {
        return;
    };
    if sub.starts_with("--") {
        let help = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .arg(sub)
            .output()
            .unwrap();
        assert!(help.status.success(), "{at}: paygate {sub}");
        return;
    }
    let help = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args([sub.as_str(), "--help"])
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "{at}: `paygate {sub}` is not a subcommand"
    );
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in flags(&args[1..]) {
        assert!(
            help.contains(&format!("{flag} "))
                || help.contains(&format!("{flag}\n"))
                || help.contains(&format!("{flag}=")),
            "{at}: `paygate {sub}` has no flag {flag}"
        );
    }
}

fn check_cargo(words: &[String], at: &str) {
    let sub = words.get(1).map(String::as_str).unwrap_or("");
    let (own, after) = match words.iter().position(|w| w == "--") {
        Some(at) => (&words[..at], &words[at + 1..]),
        None => (words, &[][..]),
    };
    let packages = value_of(own, "-p");
    let package_name = packages.first().copied();
    match sub {
        "run" => {
            let name = package_name.unwrap_or_else(|| panic!("{at}: cargo run without -p"));
            let pkg = package(name);
            for example in value_of(own, "--example") {
                assert!(
                    pkg.dir
                        .join("examples")
                        .join(format!("{example}.rs"))
                        .exists(),
                    "{at}: no example {example} in {name}"
                );
            }
            for bin in value_of(own, "--bin") {
                assert!(
                    pkg.manifest.contains(&format!("name = \"{bin}\""))
                        || pkg.dir.join("src/bin").join(format!("{bin}.rs")).exists(),
                    "{at}: no bin {bin} in {name}"
                );
            }
            if name == "paygate-conformance" && value_of(own, "--example").is_empty() {
                check_paygate(after, at);
            }
        }
        "test" if package_name.is_none() => {
            assert!(
                own.iter().any(|w| w == "--workspace"),
                "{at}: cargo test without -p or --workspace"
            );
        }
        "test" => {
            let name = package_name.unwrap_or_default();
            let pkg = package(name);
            let targets = value_of(own, "--test");
            let mut sources = String::new();
            for target in &targets {
                let file = pkg.dir.join("tests").join(format!("{target}.rs"));
                sources.push_str(
                    &std::fs::read_to_string(&file)
                        .unwrap_or_else(|_| panic!("{at}: no test target {target} in {name}")),
                );
            }
            // A test-name filter: a positional word after the options.
            let filter = own.iter().skip(2).enumerate().find(|(i, w)| {
                !w.starts_with('-')
                    && !matches!(own.get(i + 1).map(String::as_str), Some("-p" | "--test"))
            });
            if let Some((_, filter)) = filter {
                if own.iter().any(|w| w == "--lib") {
                    let module = filter.split("::").next().unwrap_or(filter);
                    assert!(
                        pkg.dir
                            .join("src")
                            .join("simulator")
                            .join(format!("{module}.rs"))
                            .exists()
                            || pkg.dir.join("src").join(format!("{module}.rs")).exists(),
                        "{at}: no module {module} in {name}"
                    );
                } else {
                    assert!(
                        sources.contains(filter.as_str()),
                        "{at}: the filter {filter:?} matches no test"
                    );
                }
            }
        }
        "bench" => {
            let name = package_name.unwrap_or_else(|| panic!("{at}: cargo bench without -p"));
            let pkg = package(name);
            for bench in value_of(own, "--bench") {
                assert!(
                    pkg.manifest.contains(&format!("name = \"{bench}\"")),
                    "{at}: no bench {bench}"
                );
                let source = std::fs::read_to_string(pkg.dir.join(format!("{bench}.rs"))).unwrap();
                for flag in flags(after) {
                    let field = flag.trim_start_matches('-').replace('-', "_");
                    assert!(
                        source.contains(&format!("{field}:"))
                            || source.contains(&format!("\"{flag}\"")),
                        "{at}: the {bench} bench has no flag {flag}"
                    );
                }
            }
        }
        "install" => {
            for path in value_of(own, "--path") {
                assert!(
                    root().join(path).join("Cargo.toml").exists(),
                    "{at}: no crate at {path}"
                );
            }
        }
        "add" => {
            let name = words
                .get(2)
                .unwrap_or_else(|| panic!("{at}: cargo add what?"));
            package(name);
        }
        other => panic!("{at}: a `cargo {other}` example that this test does not know"),
    }
}

/// Checks every command of every block; returns the blocks to run.
fn check_all() -> Vec<Block> {
    let mut to_run = Vec::new();
    for block in blocks() {
        let at = format!("README.md:{}", block.line);
        for command in commands(&block) {
            for segment in segments(&command) {
                let words = words(&segment);
                let Some(program) = words.first() else {
                    continue;
                };
                let at = format!("{at}: {}", segment.trim());
                match program.as_str() {
                    "cargo" => check_cargo(&words, &at),
                    "paygate" => check_paygate(&words[1..], &at),
                    "bash" => {
                        let script = words.get(1).expect("a script");
                        assert!(root().join(script).exists(), "{at}: no script {script}");
                    }
                    script if script.starts_with("scripts/") => {
                        assert!(root().join(script).exists(), "{at}: no script {script}");
                    }
                    // What the examples set up or print with.
                    "curl" | "echo" | "export" | "until" | "openssl" | "apt-get" => {}
                    other => panic!("{at}: a `{other}` example that this test does not know"),
                }
            }
        }
        if talks_to_a_simulator(&block) {
            to_run.push(block);
        }
    }
    to_run
}

#[test]
fn every_shell_example_names_what_exists() {
    let to_run = check_all();
    assert!(to_run.len() >= 3, "the curl examples were found");
}

/// A directory on PATH first: `paygate` is this build; `curl` fails on an
/// HTTP error (`-f`) and is quiet; `cargo` only records what it was asked (the
/// static check above covers those commands).
fn shims(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions).unwrap();
    };
    write(
        "paygate",
        &format!(
            "#!/bin/sh\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_paygate")
        ),
    );
    write("curl", "#!/bin/sh\nexec /usr/bin/curl -sS -f \"$@\"\n");
    write(
        "cargo",
        &format!("#!/bin/sh\necho \"$@\" >> '{}/cargo.log'\n", dir.display()),
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a block with bash (`set -e`, its background jobs killed after).
fn run_block(block: &Block, port: u16, token: &str, dir: &Path) {
    let text = block
        .text
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let script = format!("set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{text}");
    let path = std::env::var("PATH").unwrap_or_default();
    // Bounded: a block that never ends fails the test instead.
    let out = Command::new("timeout")
        .args(["120", "bash", "-c"])
        .arg(&script)
        .env("PATH", format!("{}:{path}", dir.display()))
        .env("TOKEN", token)
        .env_remove("PAYGATE_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "README.md:{} failed:\n{}\nstdout: {}\nstderr: {}",
        block.line,
        script,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_curl_examples_run_against_a_simulator() {
    let dir = std::env::temp_dir().join(format!("paygate-readme-{}", std::process::id()));
    shims(&dir);
    let token = "readme-test-token";
    for block in check_all() {
        let port = free_port();
        if block.text.contains("paygate simulate") {
            // The block starts its own.
            run_block(&block, port, token, &dir);
            continue;
        }
        // A simulator with what the examples read: the manual clock, and
        // `order-1` settled with a delivered callback.
        let _simulator = Killed(
            Command::new(env!("CARGO_BIN_EXE_paygate"))
                .args(["simulate", "--clock", "manual", "--listen"])
                .arg(format!("127.0.0.1:{port}"))
                .env("PAYGATE_ADMIN_TOKEN", token)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let base = format!("http://127.0.0.1:{port}");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let receiver = Receiver::start(Some(0)).await;
        client_with(
            &base,
            DEMO_PUBLIC_ID,
            paygate_conformance::simulator::DEMO_SECRET_KEY,
            None,
        )
        .payment_c2b(typed(kenya_c2b(
            "order-1",
            "254700000001",
            Some(&receiver.url),
        )))
        .await
        .expect("order-1 accepted");
        let forced = reqwest::Client::new()
            .post(format!(
                "{base}/_sim/transactions/{DEMO_PUBLIC_ID}/order-1/outcome"
            ))
            .bearer_auth(token)
            .body(r#"{"status": 2}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(forced.status(), 200);
        run_block(&block, port, token, &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
