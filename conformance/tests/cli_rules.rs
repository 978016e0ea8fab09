//! `paygate rules`, end to end through the binary.

use std::io::Write;
use std::process::{Command, Stdio};

fn paygate(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paygate runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("paygate ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn describes_a_provider_with_its_sources() {
    let (code, out, _) = paygate(&["rules", "2405"], b"");
    assert_eq!(code, 0);
    assert!(
        out.contains("Provider 2405: Bank Transfer (TZ, Tanzania)"),
        "{out}"
    );
    assert!(
        out.contains("customer_id: a bank account number [inferred]"),
        "{out}"
    );
    assert!(out.contains("extra.bic: may be needed"), "{out}");
    let (code, out, _) = paygate(&["rules", "--country", "rw"], b"");
    assert_eq!(code, 0);
    assert!(
        out.contains("Provider 2351") && out.contains("Provider 2352"),
        "{out}"
    );
    assert!(out.contains("a day at most 10000000.00"), "{out}");
    let (code, out, _) = paygate(&["rules"], b"");
    assert_eq!(code, 0);
    assert!(
        out.contains("CI Ivory Coast:") && out.contains("2303  MTN"),
        "{out}"
    );
}

#[test]
fn checks_a_request_refused_warned_or_accepted() {
    // The Nigerian bank-transfer payout of seed 002, as printed.
    let payout = br#"{"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4","order_id":"0900000001","customer_id":"16280954971628095497","amount":"100.00","currency":"NGN","provider_id":5026,"extra":{"customer_name":"Name Lastname","customer_email": "Name@domen.com","bank_code":"000001"},"signature":"d7"}"#;
    let (code, out, _) = paygate(&["rules", "--check", "-", "--direction", "b2c"], payout);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("accepted"), "{out}");
    let warned = br#"{"merchant_id":"m","customer_id":"254700000000","order_id":"o","amount":"20000.00","currency":"KES","country":"KE","provider_id":2390}"#;
    let (code, out, _) = paygate(&["rules", "--check", "-"], warned);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("accepted with warnings"), "{out}");
    assert!(out.contains("table KE.3"), "{out}");
    let refused = br#"{"merchant_id":"m","customer_id":"25470000000","order_id":"o","amount":"0.50","currency":"KES","country":"KE","provider_id":2390}"#;
    let (code, out, _) = paygate(&["rules", "--check", "-"], refused);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[phone_format]") && out.contains("[amount_below_minimum]"),
        "{out}"
    );
    let (code, _, err) = paygate(&["rules", "--check", "-"], b"not json");
    assert_eq!(code, 2);
    assert!(err.starts_with("paygate: error:"), "{err}");
    let (code, _, err) = paygate(&["rules", "424242"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("not in the documented tables"), "{err}");
}
