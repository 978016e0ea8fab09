//! `paygate generate` on specs built to break it (issue 14, defect 5), run
//! as a child process: a stack overflow aborts the process (exit 134,
//! SIGABRT) with no message, which only a child process can observe without
//! killing the test harness. Each spec must end in an ordinary error exit
//! with a message naming the place.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const HEAD: &str =
    "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n";

/// A folder of its own for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "paygate-hostile-generate-{test}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `paygate generate` on `spec`; the output and how long it took.
fn generate(test: &str, spec: &str) -> (Output, Duration) {
    let dir = scratch(test);
    let path = dir.join("hostile.yaml");
    std::fs::write(&path, spec).unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .arg("generate")
        .arg("--spec")
        .arg(&path)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    (out, took)
}

/// The process exited by itself (no signal, no abort) and said something
/// on stderr; returns stderr.
fn exited_with_a_message(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal: {:?}\n{stderr}",
            out.status
        );
    }
    assert_ne!(out.status.code(), Some(134), "aborted\n{stderr}");
    assert!(stderr.starts_with("paygate: "), "no message: {stderr:?}");
    stderr
}

/// As [`exited_with_a_message`], with an ordinary error exit.
fn refused_with_a_message(out: &Output) -> String {
    let stderr = exited_with_a_message(out);
    assert!(!out.status.success(), "accepted\n{stderr}");
    assert!(stderr.contains("paygate: error:"), "{stderr}");
    stderr
}

#[test]
fn a_chain_of_4000_referring_schemas_generates_without_a_stack_overflow() {
    let mut spec = HEAD.to_owned();
    for i in 0..4_000 {
        spec.push_str(&format!(
            "    S{i}:\n      type: object\n      properties:\n        next: {{$ref: '#/components/schemas/S{}'}}\n",
            i + 1
        ));
    }
    spec.push_str("    S4000: {type: string}\n");
    let (out, _) = generate("chain", &spec);
    let stderr = exited_with_a_message(&out);
    assert!(out.status.success(), "a valid spec is refused\n{stderr}");
    assert!(stderr.contains("paygate: wrote"), "{stderr}");
}

#[test]
fn ten_thousand_ref_aliases_are_an_error_not_a_stack_overflow() {
    let mut spec = HEAD.to_owned();
    for i in 0..10_000 {
        spec.push_str(&format!(
            "    A{i}: {{$ref: '#/components/schemas/A{}'}}\n",
            i + 1
        ));
    }
    spec.push_str("    A10000: {type: string}\n");
    let (out, _) = generate("aliases", &spec);
    let stderr = refused_with_a_message(&out);
    assert!(stderr.contains("#/components/schemas/A"), "{stderr}");
}

#[test]
fn deep_yaml_is_refused_fast_naming_the_line() {
    for (name, spec) in [
        (
            "flow",
            format!("openapi: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "block",
            format!("openapi: 3.0.3\nx:\n  {}a\n", "- ".repeat(100_000)),
        ),
    ] {
        let (out, took) = generate(name, &spec);
        let stderr = refused_with_a_message(&out);
        assert!(stderr.contains("nested more than"), "{name}: {stderr}");
        assert!(stderr.contains("line"), "{name}: {stderr}");
        assert!(took < Duration::from_secs(10), "{name}: took {took:?}");
    }
}

/// A valid spec of about `bytes` bytes: objects with a few fields each,
/// every one referring to the one before.
fn valid_spec(bytes: usize) -> String {
    let mut spec = HEAD.to_owned();
    let mut i = 0;
    while spec.len() < bytes {
        let next = if i == 0 {
            "        note: {type: string}\n".to_owned()
        } else {
            format!(
                "        next: {{$ref: '#/components/schemas/Thing{}'}}\n",
                i - 1
            )
        };
        spec.push_str(&format!(
            "    Thing{i}:\n      type: object\n      description: Thing number {i}, described as real specs describe things.\n      required: [id, amount]\n      properties:\n        id: {{type: string, description: The identifier.}}\n        amount: {{type: integer, format: int64}}\n        status: {{type: string, enum: [pending, success, failed]}}\n{next}"
        ));
        i += 1;
    }
    spec
}

/// Memory proportional to the spec, and a small multiple of it: a 1 MB
/// spec generates within 256 MiB of address space (it took 428 MB of
/// resident memory when the whole module's syntax tree was held at once).
#[cfg(target_os = "linux")]
#[test]
fn a_valid_1_mb_spec_generates_within_256_mib() {
    let dir = scratch("memory");
    let path = dir.join("big.yaml");
    std::fs::write(&path, valid_spec(1 << 20)).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 262144 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_paygate"))
        .arg("generate")
        .arg("--spec")
        .arg(&path)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = exited_with_a_message(&out);
    let tail: String = stderr.lines().rev().take(3).collect::<Vec<_>>().join("\n");
    assert!(out.status.success(), "{:?}\n{tail}", out.status);
}
