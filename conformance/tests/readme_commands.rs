//! Every command of the README's shell blocks, executed as printed (issue
//! 18): `readme_shell.rs` checks what each command names and runs the
//! blocks that talk to a simulator with `curl`; this test runs the rest.
//! It is `#[ignore]`d (it runs cargo, the benches and release builds for
//! minutes) and `.ci/run` runs it after the release build:
//!
//! ```text
//! cargo test -p paygate-conformance --test readme_commands -- --ignored --nocapture
//! ```
//!
//! A test rather than a script so that it reads the blocks and commands
//! exactly as `readme_shell.rs` does (`readme_support`: one ```sh fence
//! is one block, continuation lines joined, comments dropped, in a session
//! block only the `$ ` lines). Cargo holds its build lock only while it
//! builds, so the `cargo` commands run fine from inside this test.
//!
//! The rule, per command, in README order:
//!
//! * a command that is also a line of `.ci/run` (`cargo test --workspace`,
//!   schemathesis, the fuzz smoke run) is run there, not twice (the main
//!   job's bare `conform` is not one: it runs here, in seconds); a command
//!   printed twice in the README is run once;
//! * in a block that talks to a simulator, `readme_shell.rs` runs every
//!   command but the `cargo` ones (its shim only records those): they run
//!   here;
//! * a session block (`$ ` prompts) runs in one bash, in order, with
//!   `set -e`, against the simulator its text names
//!   (`paygate simulate --listen 127.0.0.1:8080`, started here);
//! * a command that starts a server (`paygate simulate`, `paygate listen`,
//!   or the same through `cargo run`, not sent to the background) is
//!   started, must answer `GET /_sim/health` on its `--listen` address
//!   (default 127.0.0.1:8080) and must exit 0 on SIGTERM;
//! * every other command runs as printed, in a fresh `bash -c` from the
//!   repository root, bounded by [`COMMAND_LIMIT`], and must exit 0.
//!   Three adjustments, each printed with the command: `cargo add` runs in
//!   a throwaway crate under `target/readme-commands/` with
//!   `path/to/paygate` replaced by this checkout; `apt-get` runs through
//!   `sudo -n` when not root; a command naming `127.0.0.1:8099` ("your
//!   endpoint") gets a careful merchant there (`readme_support::merchant`,
//!   keyed with the `PAYGATE_SECRET_KEY` the command gives).
//!
//! Every shell (`readme_support::process`) gets `CARGO_INSTALL_ROOT=target/readme-commands/install` and
//! its `bin` first on `PATH` (so `cargo install` installs there and
//! `paygate` is the command it installed) and none of the `PAYGATE_*` or
//! per-test `CARGO_*` variables of the calling environment. Each command's
//! output goes to `target/readme-commands/logs/LINE.log`; a failure names
//! the README line and shows the end of that log. `README_COMMANDS_LINES=
//! 190,311` runs only the steps starting on those lines.

mod readme_support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use readme_support::merchant::Merchant;
use readme_support::process::{run_bounded, Server};
use readme_support::{blocks, commands_at, is_prompted, root, talks_to_a_simulator, Block};

/// How long one command may take (a cold `cargo test -p` may build).
const COMMAND_LIMIT: Duration = Duration::from_secs(20 * 60);
/// What a session block talks to, as its text says.
const SESSION_SIMULATOR: &str = "paygate simulate --listen 127.0.0.1:8080";
/// "Your endpoint" in the merchant examples.
const MERCHANT_ADDRESS: &str = "127.0.0.1:8099";

/// What to do with one command (or one session block).
#[derive(Debug, PartialEq)]
enum Plan {
    /// Run `script` in a fresh bash in `dir`, bounded.
    Run { script: String, dir: PathBuf },
    /// Start, wait until it answers on `address`, stop it with SIGTERM.
    Serve { address: SocketAddr },
    /// A session block's commands in one bash, with a simulator.
    Session { script: String },
    /// Not run here: where it is run.
    Elsewhere(String),
    /// Cannot be run: why (a failure).
    Refused(String),
}

#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    plan: Plan,
    /// What was adjusted, if anything.
    note: Option<String>,
}

/// The directories this test works in.
struct Paths {
    root: PathBuf,
    work: PathBuf,
}

impl Paths {
    fn new() -> Paths {
        let root = root().canonicalize().unwrap_or_else(|_| root());
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_absolute() { t } else { root.join(t) })
            .unwrap_or_else(|| root.join("target"));
        Paths {
            work: target.join("readme-commands"),
            root,
        }
    }
    fn install(&self) -> PathBuf {
        self.work.join("install")
    }
    fn scratch_crate(&self) -> PathBuf {
        self.work.join("merchant-crate")
    }
    fn log(&self, line: usize) -> PathBuf {
        self.work.join("logs").join(format!("{line}.log"))
    }
}

/// A command's leading `VAR=value`s, and its words.
type Split = (Vec<(String, String)>, Vec<String>);

/// The words of a command, leading `VAR=value`s apart.
fn split(command: &str) -> Result<Split, String> {
    let words = shell_words::split(command).map_err(|e| format!("cannot split: {e}"))?;
    let mut assignments = Vec::new();
    let mut rest = words.into_iter().peekable();
    while let Some(word) = rest.peek() {
        match word.split_once('=') {
            Some((name, value))
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
            {
                assignments.push((name.to_owned(), value.to_owned()));
                rest.next();
            }
            _ => break,
        }
    }
    Ok((assignments, rest.collect()))
}

/// The address a server command listens on, if the command starts one.
fn server_address(words: &[String]) -> Option<Result<SocketAddr, String>> {
    let args = match words.first().map(String::as_str) {
        Some("paygate") => &words[1..],
        Some("cargo") if words.get(1).map(String::as_str) == Some("run") => {
            let at = words.iter().position(|w| w == "--")?;
            &words[at + 1..]
        }
        _ => return None,
    };
    if !matches!(
        args.first().map(String::as_str),
        Some("simulate" | "listen")
    ) {
        return None;
    }
    let listen = args
        .windows(2)
        .find(|w| w[0] == "--listen")
        .map(|w| w[1].as_str())
        .unwrap_or("127.0.0.1:8080");
    Some(
        listen
            .parse()
            .map_err(|e| format!("--listen {listen:?}: {e}")),
    )
}

/// The steps, in README order.
fn plan(
    blocks: &[Block],
    ci_lines: &BTreeSet<String>,
    paths: &Paths,
    root_user: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for block in blocks {
        let commands = commands_at(block);
        if is_prompted(block) {
            let Some((line, _)) = commands.first() else {
                continue;
            };
            let mut script = String::from("set -eo pipefail\n");
            for (at, command) in &commands {
                script.push_str(&format!("echo '# README.md:{at}' >&2\n{command}\n"));
            }
            steps.push(Step {
                line: *line,
                command: commands
                    .iter()
                    .map(|(_, c)| c.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                plan: Plan::Session { script },
                note: Some(format!("a session, against `{SESSION_SIMULATOR}`")),
            });
            continue;
        }
        for (line, command) in commands {
            let step = |plan, note| Step {
                line,
                command: command.clone(),
                plan,
                note,
            };
            let words = match split(&command) {
                Ok((_, words)) => words,
                Err(e) => {
                    // Run anyway: bash reports what it makes of it.
                    steps.push(step(
                        Plan::Run {
                            script: command.clone(),
                            dir: paths.root.clone(),
                        },
                        Some(e),
                    ));
                    continue;
                }
            };
            let program = words.first().map(String::as_str).unwrap_or("");
            if ci_lines.contains(&command) {
                steps.push(step(
                    Plan::Elsewhere(".ci/run runs this line itself".into()),
                    None,
                ));
            } else if talks_to_a_simulator(block) && program != "cargo" {
                steps.push(step(
                    Plan::Elsewhere("readme_shell.rs runs it against a simulator".into()),
                    None,
                ));
            } else if let Some(first) = seen.get(&command) {
                steps.push(step(
                    Plan::Elsewhere(format!("the same command as README.md:{first}")),
                    None,
                ));
            } else if let Some(address) =
                server_address(&words).filter(|_| !command.trim_end().ends_with('&'))
            {
                steps.push(match address {
                    Ok(address) => step(Plan::Serve { address }, None),
                    Err(e) => step(Plan::Refused(e), None),
                });
            } else if program == "cargo" && words.get(1).map(String::as_str) == Some("add") {
                let real = paths.root.display().to_string();
                steps.push(step(
                    Plan::Run {
                        script: command.replace("path/to/paygate", &real),
                        dir: paths.scratch_crate(),
                    },
                    Some(format!(
                        "in a new crate, {} with path/to/paygate = {real}",
                        paths.scratch_crate().display()
                    )),
                ));
            } else if program == "apt-get" && !root_user {
                steps.push(step(
                    Plan::Run {
                        script: format!("sudo -n {command}"),
                        dir: paths.root.clone(),
                    },
                    Some("through sudo -n (not root)".into()),
                ));
            } else {
                steps.push(step(
                    Plan::Run {
                        script: command.clone(),
                        dir: paths.root.clone(),
                    },
                    None,
                ));
            }
            seen.entry(command).or_insert(line);
        }
    }
    steps
}

/// A new crate for `cargo add`, outside the workspace, locked like it.
fn scratch_crate(paths: &Paths) -> Result<(), String> {
    let dir = paths.scratch_crate();
    let _ = std::fs::remove_dir_all(&dir);
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"readme-merchant\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n\n[workspace]\n",
    )
    .map_err(io)?;
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").map_err(io)?;
    std::fs::copy(paths.root.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(io)?;
    Ok(())
}

/// The value a command gives `PAYGATE_SECRET_KEY`, else the demo key.
fn secret_of(command: &str) -> String {
    split(command)
        .ok()
        .and_then(|(assignments, _)| {
            assignments
                .into_iter()
                .find(|(name, _)| name == "PAYGATE_SECRET_KEY")
                .map(|(_, value)| value)
        })
        .unwrap_or_else(|| paygate_conformance::simulator::DEMO_SECRET_KEY.to_owned())
}

fn execute(step: &Step, paths: &Paths) -> Result<(), String> {
    let log = paths.log(step.line);
    let _merchant = if step.command.contains(MERCHANT_ADDRESS) {
        let address = MERCHANT_ADDRESS
            .parse()
            .map_err(|e| format!("{MERCHANT_ADDRESS}: {e}"))?;
        Some(Merchant::start(address, &secret_of(&step.command))?)
    } else {
        None
    };
    match &step.plan {
        Plan::Elsewhere(_) => Ok(()),
        Plan::Refused(why) => Err(why.clone()),
        Plan::Run { script, dir } => {
            if *dir == paths.scratch_crate() {
                scratch_crate(paths)?;
            }
            run_bounded(script, dir, &paths.install(), &log, COMMAND_LIMIT)
        }
        Plan::Serve { address } => {
            Server::start(&step.command, &paths.root, *address, &paths.install(), &log)?.stop()
        }
        Plan::Session { script } => {
            let address = "127.0.0.1:8080"
                .parse()
                .map_err(|e| format!("127.0.0.1:8080: {e}"))?;
            let server_log = paths
                .work
                .join("logs")
                .join(format!("{}-simulator.log", step.line));
            let simulator = Server::start(
                SESSION_SIMULATOR,
                &paths.root,
                address,
                &paths.install(),
                &server_log,
            )?;
            let ran = run_bounded(script, &paths.root, &paths.install(), &log, COMMAND_LIMIT);
            let stopped = simulator.stop();
            ran.and(stopped)
        }
    }
}

/// The last lines of a log, and in a session the README line it reached.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let reached = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("# README.md:"))
        .map(|l| format!("(the session reached {})\n", &l[2..]))
        .unwrap_or_default();
    let from = lines.len().saturating_sub(30);
    format!("{reached}{}", lines[from..].join("\n"))
}

#[test]
#[ignore = "runs every README command (cargo builds, benches): minutes; .ci/run runs it"]
fn every_readme_command_runs_as_printed() {
    let paths = Paths::new();
    let ci = std::fs::read_to_string(paths.root.join(".ci/run")).unwrap_or_default();
    assert!(!ci.is_empty(), ".ci/run cannot be read");
    let ci_lines: BTreeSet<String> = ci.lines().map(|l| l.trim().to_owned()).collect();
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let steps = plan(&blocks(), &ci_lines, &paths, root_user);
    let only: Option<BTreeSet<usize>> = std::env::var("README_COMMANDS_LINES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let logs = paths.work.join("logs");
    if let Err(e) = std::fs::create_dir_all(&logs) {
        panic!("{}: {e}", logs.display());
    }

    let started = Instant::now();
    let (mut ran, mut failures) = (0, Vec::new());
    for step in &steps {
        if only.as_ref().is_some_and(|only| !only.contains(&step.line)) {
            continue;
        }
        let shown = step.command.replace('\n', "; ");
        if let Plan::Elsewhere(why) = &step.plan {
            println!("README.md:{:<5} {:>8}  {shown}  [{why}]", step.line, "-");
            continue;
        }
        let note = step
            .note
            .as_ref()
            .map(|n| format!("  [{n}]"))
            .unwrap_or_default();
        let at = Instant::now();
        let result = execute(step, &paths);
        let took = at.elapsed().as_secs_f64();
        ran += 1;
        match result {
            Ok(()) => println!("README.md:{:<5} {took:>7.1}s  {shown}{note}", step.line),
            Err(why) => {
                println!(
                    "README.md:{:<5} {took:>7.1}s  FAILED  {shown}{note}",
                    step.line
                );
                failures.push(format!(
                    "README.md:{}: {shown}\n  {why} (log: {})\n{}",
                    step.line,
                    paths.log(step.line).display(),
                    tail(&paths.log(step.line))
                ));
            }
        }
    }
    println!(
        "{ran} README commands run in {:.1} s, {} failed",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// A usage line rather than a command: a word in `[brackets]`, or `...`
/// as a word of its own (`VAR=...`, a value left to the reader, runs).
fn is_synopsis(command: &str) -> bool {
    command.split_whitespace().any(|word| {
        word.starts_with('[') || word.ends_with(']') || word.ends_with("]...") || word == "..."
    })
}

/// Cheap, in every `cargo test`: each command of a block has a step and
/// none is a synopsis.
#[test]
fn the_plan_covers_every_command() {
    let paths = Paths::new();
    let ci = std::fs::read_to_string(paths.root.join(".ci/run")).unwrap_or_default();
    let ci_lines: BTreeSet<String> = ci.lines().map(|l| l.trim().to_owned()).collect();
    let blocks = blocks();
    let steps = plan(&blocks, &ci_lines, &paths, true);
    let planned: BTreeSet<usize> = steps.iter().map(|s| s.line).collect();
    for block in &blocks {
        let commands = commands_at(block);
        if is_prompted(block) {
            continue;
        }
        for (line, command) in commands {
            assert!(
                planned.contains(&line),
                "README.md:{line}: {command} has no step"
            );
        }
    }
    for step in &steps {
        assert!(
            !matches!(step.plan, Plan::Refused(_)),
            "README.md:{}: {} {:?}",
            step.line,
            step.command,
            step.plan
        );
        assert!(
            !is_synopsis(&step.command),
            "README.md:{}: `{}` is a synopsis (`[optional]` or `...` words): make it a `text` block",
            step.line,
            step.command
        );
    }
}

/// The rule on blocks made up for the purpose, one kind of command each.
#[test]
fn each_kind_of_command_gets_its_plan() {
    let paths = Paths::new();
    let block = |line, text: &str| Block {
        line,
        text: text.to_owned(),
    };
    let blocks = [
        block(
            1,
            "cargo test --workspace\ncargo run --example x  # a comment\n",
        ),
        block(
            10,
            "cargo run --example x\npaygate listen --forward-to http://h/c\n",
        ),
        block(
            20,
            "curl http://127.0.0.1:8080/_sim/health\ncargo test -p paygate-conformance --test t\n",
        ),
        block(30, "$ export A=b\n$ echo \"$A\"\nb\n"),
        block(
            40,
            "cargo add paygate --path path/to/paygate/paygate\napt-get install -y x\n",
        ),
        block(50, "paygate simulate --listen nowhere\nsleep 1 &\n"),
    ];
    let ci = BTreeSet::from(["cargo test --workspace".to_owned()]);
    let steps = plan(&blocks, &ci, &paths, false);
    let kinds: Vec<(usize, &str)> = steps
        .iter()
        .map(|s| {
            let kind = match &s.plan {
                Plan::Run { dir, .. } if *dir == paths.scratch_crate() => "scratch",
                Plan::Run { script, .. } if script.starts_with("sudo -n ") => "sudo",
                Plan::Run { .. } => "run",
                Plan::Serve { .. } => "serve",
                Plan::Session { .. } => "session",
                Plan::Elsewhere(why) if why.starts_with(".ci/run") => "ci",
                Plan::Elsewhere(why) if why.starts_with("readme_shell") => "curl",
                Plan::Elsewhere(_) => "twice",
                Plan::Refused(_) => "refused",
            };
            (s.line, kind)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (2, "ci"),
            (3, "run"),
            (11, "twice"),
            (12, "serve"),
            (21, "curl"),
            (22, "run"),
            (31, "session"),
            (41, "scratch"),
            (42, "sudo"),
            (51, "refused"),
            (52, "run"),
        ]
    );
    let Plan::Run { script, .. } = &steps[7].plan else {
        panic!("{:?}", steps[7]);
    };
    assert!(!script.contains("path/to/paygate"), "{script}");
    assert!(
        script.contains(&paths.root.display().to_string()),
        "{script}"
    );
}
