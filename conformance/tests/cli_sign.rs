//! `paygate sign`, `paygate verify` and `paygate generate` as a user runs
//! them: stdin in, one line out, documented exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SEED_KEY: &str = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5";
/// Seed 002's `$postData`, signed by the documented PHP (recorded vector).
const SEED_BODY: &str = r#"{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"254000000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"KES","callback_url":"https://my.callback.url"}"#;

fn paygate(args: &[&str], key: Option<&str>, stdin: &[u8]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paygate"));
    command
        .args(args)
        .env_remove("PAYGATE_SECRET_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = key {
        command.env("PAYGATE_SECRET_KEY", key);
    }
    let mut child = command.spawn().expect("the paygate binary runs");
    if let Some(mut input) = child.stdin.take() {
        // The process may exit before reading everything; that is fine.
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("paygate finishes")
}

fn recorded_seed_signature() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../paygate/tests/vectors/php_signatures.json");
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors file")).expect("JSON");
    vectors["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["body"].as_str() == Some(SEED_BODY))
        .and_then(|c| c["signature"].as_str())
        .expect("the seed 002 example is recorded")
        .to_owned()
}

#[test]
fn sign_prints_the_php_signature_and_a_newline() {
    let out = paygate(&["sign"], Some(SEED_KEY), SEED_BODY.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", recorded_seed_signature())
    );
}

#[test]
fn verify_accepts_a_good_signature_and_rejects_a_tampered_one() {
    let signature = recorded_seed_signature();
    let signed = SEED_BODY.replacen('}', &format!(r#","signature":"{signature}"}}"#), 1);
    let out = paygate(&["verify"], Some(SEED_KEY), signed.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "valid\n");

    let tampered = signed.replace("\"amount\":1000", "\"amount\":1001");
    let out = paygate(&["verify"], Some(SEED_KEY), tampered.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "invalid signature\n");
}

#[test]
fn malformed_input_is_one_line_on_stderr_and_exit_2() {
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(20), "]".repeat(20));
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("sign", Some("k"), b"not json".to_vec()),
        ("sign", Some("k"), b"[1,2]".to_vec()),
        ("sign", Some("k"), deep.into_bytes()),
        ("sign", Some("k"), br#"{"a":1,"a":2}"#.to_vec()),
        ("sign", Some("k"), b"{\"a\":\"\xff\"}".to_vec()),
        ("sign", None, SEED_BODY.as_bytes().to_vec()),
        ("sign", Some(""), SEED_BODY.as_bytes().to_vec()),
        ("verify", Some("k"), SEED_BODY.as_bytes().to_vec()),
        ("verify", Some("k"), br#"{"a":1,"signature":5}"#.to_vec()),
        ("verify", None, br#"{"signature":"00"}"#.to_vec()),
    ];
    for (command, key, input) in cases {
        let out = paygate(&[command], key, &input);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{command} {:?}: {stderr}",
            String::from_utf8_lossy(&input)
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("paygate: error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn generate_writes_formatted_rust_from_the_project_spec() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = std::env::temp_dir().join(format!("paygate-generate-{}", std::process::id()));
    let spec = root.join("spec/gateway/openapi.yaml");
    let rules = root.join("spec/gateway/providers.yaml");
    let out = paygate(
        &[
            "generate",
            "--spec",
            spec.to_str().expect("utf-8 path"),
            "--rules",
            rules.to_str().expect("utf-8 path"),
            "--out",
            out_dir.to_str().expect("utf-8 path"),
        ],
        None,
        b"",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = std::fs::read_to_string(out_dir.join("openapi.rs")).expect("generated file");
    assert!(code.contains("pub struct PaymentC2bRequest"));
    assert!(code.contains("pub static PROVIDER_TABLE"));
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn generate_accepts_the_vendor_export_with_warnings() {
    let vendor = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vendor/gateway-openapi-5.7.2.json");
    if !vendor.exists() {
        eprintln!("note: {} is absent; vendor check not run", vendor.display());
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("paygate-vendor-{}", std::process::id()));
    let out = paygate(
        &[
            "generate",
            "--spec",
            vendor.to_str().expect("utf-8 path"),
            "--out",
            out_dir.to_str().expect("utf-8 path"),
        ],
        None,
        b"",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("paygate: warning:"), "{stderr}");
    assert!(
        stderr.contains("deposit"),
        "the missing responses of deposit are reported: {stderr}"
    );
    let code =
        std::fs::read_to_string(out_dir.join("gateway_openapi_5_7_2.rs")).expect("generated file");
    assert!(code.contains("Unknown(i64)"), "provider enum is open");
    let _ = std::fs::remove_dir_all(&out_dir);

    let missing = paygate(
        &[
            "generate",
            "--spec",
            "/nonexistent/spec.yaml",
            "--out",
            "/tmp/x",
        ],
        None,
        b"",
    );
    assert_eq!(missing.status.code(), Some(2));
}

/// The README's "Sign and verify from the shell" example, read from the
/// README itself: `paygate sign` prints the signature shown there, and
/// the body with that signature is a payment the simulator accepts (the
/// example is a valid request for the spec, not only a signable object).
#[tokio::test]
async fn the_readme_shell_example_signs_as_shown_and_is_accepted() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let section = readme
        .split("## Sign and verify from the shell")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the section");
    let key = section
        .lines()
        .find_map(|l| l.strip_prefix("$ export PAYGATE_SECRET_KEY="))
        .expect("the key line");
    let body = section
        .lines()
        .find_map(|l| {
            l.strip_prefix("$ BODY='")
                .and_then(|b| b.strip_suffix('\''))
        })
        .expect("the BODY line");
    let shown = section
        .lines()
        .skip_while(|l| !l.contains("-- sign"))
        .nth(1)
        .expect("the line after sign");
    let out = paygate(&["sign"], Some(key), format!("{body}\n").as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signature = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(signature, shown, "README shows another signature");

    use paygate_conformance::simulator::{start, SimulatorConfig, DEMO_PUBLIC_ID, DEMO_SECRET_KEY};
    assert_eq!(key, DEMO_SECRET_KEY, "the example uses the demo merchant");
    let sim = start(SimulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let signed = format!(
        "{},\"signature\":\"{signature}\"}}",
        body.strip_suffix('}').unwrap()
    );
    let response = reqwest::Client::new()
        .post(format!("{}/{DEMO_PUBLIC_ID}/payment_c2b", sim.base_url()))
        .header("content-type", "application/json")
        .body(signed)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["code"], 0, "{answer}");
    assert_eq!(answer["status"], 1, "{answer}");
    sim.shutdown().await;
}
