//! HUB2 webhook signatures: signing, header parsing and verification.

use paygate::hub2::webhook::{
    parse_signature_header, sign_webhook, signature_header, verify_webhook, verify_webhook_event,
    WebhookError, WebhookSecret, WebhookSecrets,
};

const BODY: &str = r#"{"id":"evt_5Hs8kLm2QxZ0vB7nR3tYc","type":"payment_intent.created","createdAt":"2022-07-18T06:35:25.950Z","data":{"id":"pi_tffiDaXyWQu203rIXhujW","status":"payment_required","amount":200,"currency":"XOF","payments":[],"mode":"sandbox"}}"#;
const CURRENT: &str = "5257a869e7ecebeda32affa62cd0f1b2";
const PREVIOUS: &str = "previous-secret-0001";

// printf '%s' "$BODY" | openssl dgst -sha256 -hmac 5257a869e7ecebeda32affa62cd0f1b2
const CURRENT_MAC: &str = "271e8351293befefacd2f67e362b4b8f1825b7782cf2eb40f5c8dd2e3a7d6e92";
// printf '%s' "$BODY" | openssl dgst -sha256 -hmac previous-secret-0001
const PREVIOUS_MAC: &str = "f952b0593fd3cfc02ec7ddb0e5e0da61e1e0d3638021842ef118288084af4661";
// printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$(printf 'k%.0s' $(seq 1 100))"
const LONG_KEY_MAC: &str = "4e0be3cb24e61b920bdca219cece7f98a271f154395ecf2a0ab6fe44d4cc1787";

fn secrets() -> WebhookSecrets {
    WebhookSecrets::new(WebhookSecret::new(CURRENT))
}

fn rotated() -> WebhookSecrets {
    secrets().with_previous(WebhookSecret::new(PREVIOUS))
}

fn malformed(result: Result<(), WebhookError>) -> bool {
    matches!(result, Err(WebhookError::Malformed(_)))
}

#[test]
fn known_answer_vectors_match_openssl() {
    let body = BODY.as_bytes();
    assert_eq!(
        sign_webhook(&WebhookSecret::new(CURRENT), body),
        CURRENT_MAC
    );
    assert_eq!(
        sign_webhook(&WebhookSecret::new(PREVIOUS), body),
        PREVIOUS_MAC
    );
    assert_eq!(
        sign_webhook(&WebhookSecret::new("k".repeat(100)), body),
        LONG_KEY_MAC
    );
}

#[test]
fn rfc4231_vectors() {
    // RFC 4231 test cases 1, 2, 6 (key longer than a block) and 7.
    let cases: [(Vec<u8>, &[u8], &str); 4] = [
        (
            vec![0x0b; 20],
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            vec![0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (key, data, expected) in cases {
        assert_eq!(sign_webhook(&WebhookSecret::new(&key), data), expected);
    }
    // A key of exactly one block is used as is.
    assert_eq!(sign_webhook(&WebhookSecret::new([7u8; 64]), b"").len(), 64);
}

#[test]
fn signature_header_forms() {
    let body = BODY.as_bytes();
    let current = WebhookSecret::new(CURRENT);
    let previous = WebhookSecret::new(PREVIOUS);
    assert_eq!(
        signature_header(&current, None, body),
        format!("s1={CURRENT_MAC}")
    );
    assert_eq!(
        signature_header(&current, Some(&previous), body),
        format!("s1={CURRENT_MAC},s0={PREVIOUS_MAC}")
    );
}

#[test]
fn current_secret_verifies() {
    let header = signature_header(&WebhookSecret::new(CURRENT), None, BODY.as_bytes());
    assert_eq!(verify_webhook(&secrets(), &header, BODY.as_bytes()), Ok(()));
    assert_eq!(verify_webhook(&rotated(), &header, BODY.as_bytes()), Ok(()));
}

#[test]
fn previous_secret_verifies_during_rotation() {
    let both = format!("s1={CURRENT_MAC},s0={PREVIOUS_MAC}");
    assert_eq!(verify_webhook(&rotated(), &both, BODY.as_bytes()), Ok(()));
    // A receiver that has not installed the new secret yet: its "current"
    // is HUB2's previous one, and `s0` matches it.
    let lagging = WebhookSecrets::new(WebhookSecret::new(PREVIOUS));
    assert_eq!(verify_webhook(&lagging, &both, BODY.as_bytes()), Ok(()));
    // s0 alone, with the previous secret configured.
    let s0_only = format!("s0={PREVIOUS_MAC}");
    assert_eq!(
        verify_webhook(&rotated(), &s0_only, BODY.as_bytes()),
        Ok(())
    );
    // s1 made with the previous secret.
    let s1_previous = format!("s1={PREVIOUS_MAC}");
    assert_eq!(
        verify_webhook(&rotated(), &s1_previous, BODY.as_bytes()),
        Ok(())
    );
    // Without the previous secret configured, s0 alone does not match.
    assert_eq!(
        verify_webhook(&secrets(), &s0_only, BODY.as_bytes()),
        Err(WebhookError::Mismatch)
    );
}

#[test]
fn wrong_secret_is_a_mismatch() {
    let other = WebhookSecrets::new(WebhookSecret::new("not-the-secret"));
    let header = format!("s1={CURRENT_MAC}");
    assert_eq!(
        verify_webhook(&other, &header, BODY.as_bytes()),
        Err(WebhookError::Mismatch)
    );
    let header = format!("s1={},s0={}", "0".repeat(64), "f".repeat(64));
    assert_eq!(
        verify_webhook(&rotated(), &header, BODY.as_bytes()),
        Err(WebhookError::Mismatch)
    );
}

#[test]
fn tampered_body_is_a_mismatch() {
    let header = format!("s1={CURRENT_MAC},s0={PREVIOUS_MAC}");
    let tampered = BODY.replace("200", "2000");
    assert_eq!(
        verify_webhook(&rotated(), &header, tampered.as_bytes()),
        Err(WebhookError::Mismatch)
    );
    // Re-serialising changes the bytes: the raw body is what is signed.
    let reformatted = format!("{BODY} ");
    assert_eq!(
        verify_webhook(&rotated(), &header, reformatted.as_bytes()),
        Err(WebhookError::Mismatch)
    );
}

#[test]
fn malformed_headers() {
    let s = secrets();
    let b = BODY.as_bytes();
    let good = CURRENT_MAC;
    for header in [
        "".to_owned(),
        "   ".to_owned(),
        "s1=zz".to_owned(),
        "s1=".to_owned(),
        "s1".to_owned(),
        CURRENT_MAC.to_owned(),
        format!("s1={good},s1={good}"),
        format!("s0={PREVIOUS_MAC},s0={PREVIOUS_MAC}"),
        format!("s1={good},"),
        format!(",s1={good}"),
        format!("s1={good},,s0={PREVIOUS_MAC}"),
        format!("={good}"),
        format!("s1={}", &good[..62]),
        format!("s1={good}00"),
        format!("s1={}g", &good[..63]),
        format!("s1={good};s0={PREVIOUS_MAC}"),
        "v1=abc".to_owned(),
    ] {
        assert!(
            malformed(verify_webhook(&s, &header, b)),
            "{header:?} gave {:?}",
            verify_webhook(&s, &header, b)
        );
    }
}

#[test]
fn whitespace_case_order_and_unknown_schemes_are_tolerated() {
    let s = rotated();
    let b = BODY.as_bytes();
    for header in [
        format!("  s1={CURRENT_MAC} "),
        format!("s1 = {CURRENT_MAC} ,\ts0= {PREVIOUS_MAC}"),
        format!("s0={PREVIOUS_MAC},s1={CURRENT_MAC}"),
        format!("s1={}", CURRENT_MAC.to_ascii_uppercase()),
        format!("v2=whatever,s1={CURRENT_MAC}"),
        format!("s1={CURRENT_MAC},s2={}", "a".repeat(64)),
    ] {
        assert_eq!(verify_webhook(&s, &header, b), Ok(()), "{header:?}");
    }
}

#[test]
fn a_bad_s1_does_not_hide_behind_a_good_s0() {
    // A valid s0 does not excuse a malformed s1: the header is refused.
    let header = format!("s1=zz,s0={PREVIOUS_MAC}");
    assert!(malformed(verify_webhook(
        &rotated(),
        &header,
        BODY.as_bytes()
    )));
}

#[test]
fn parse_gives_decoded_bytes() {
    let parsed = parse_signature_header(&format!("s0={PREVIOUS_MAC}")).unwrap();
    assert!(parsed.s1.is_none());
    assert_eq!(parsed.s0.unwrap()[0], 0xf9);
}

#[test]
fn event_is_decoded_after_verification() {
    let header = format!("s1={CURRENT_MAC}");
    let event = verify_webhook_event(&secrets(), &header, BODY.as_bytes()).unwrap();
    assert_eq!(event.id, "evt_5Hs8kLm2QxZ0vB7nR3tYc");
    assert_eq!(event.r#type.as_str(), "payment_intent.created");
    assert_eq!(event.data.status, "payment_required");
    assert_eq!(event.data.amount, Some(200));

    // Not verified: never decoded.
    assert_eq!(
        verify_webhook_event(&secrets(), "s1=00", BODY.as_bytes()).unwrap_err(),
        WebhookError::Malformed("s1 must be 64 hex digits, found 2 characters".into())
    );

    // Verified but not an event: Decode with the path.
    let body = br#"{"id":"evt_1","type":"payment.created","createdAt":"x","data":{"id":"p"}}"#;
    let secret = WebhookSecret::new(CURRENT);
    let header = signature_header(&secret, None, body);
    match verify_webhook_event(&secrets(), &header, body) {
        Err(WebhookError::Decode { path, message }) => {
            assert_eq!(path, "data", "{message}");
            assert!(message.contains("status"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn secrets_are_redacted_in_debug() {
    let shown = format!("{:?}", rotated());
    assert!(!shown.contains(CURRENT), "{shown}");
    assert!(!shown.contains(PREVIOUS), "{shown}");
    assert!(shown.contains("redacted"));
}

#[cfg(feature = "axum")]
mod axum_endpoint {
    use super::*;
    use std::sync::{Arc, Mutex};

    use paygate::hub2::webhook::axum_handler::webhook_router;

    async fn serve(router: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}/hooks/hub2")
    }

    #[tokio::test]
    async fn answers_200_only_after_verification() {
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let router = webhook_router("/hooks/hub2", rotated(), move |event| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(event.id);
                Ok::<(), String>(())
            }
        });
        let url = serve(router).await;
        let http = reqwest::Client::new();
        let send = |header: Option<String>, body: &'static str| {
            let mut request = http.post(&url).body(body);
            if let Some(header) = header {
                request = request.header("Hub2-Signature", header);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(send(None, BODY).await, 401);
        assert_eq!(send(Some("s1=zz".into()), BODY).await, 401);
        assert_eq!(
            send(Some(format!("s1={}", "0".repeat(64))), BODY).await,
            401
        );
        assert!(received.lock().unwrap().is_empty());
        assert_eq!(send(Some(format!("s0={PREVIOUS_MAC}")), BODY).await, 200);
        assert_eq!(
            send(Some(format!("s1={CURRENT_MAC},s0={PREVIOUS_MAC}")), BODY).await,
            200
        );
        assert_eq!(received.lock().unwrap().len(), 2);
        // Signed but not an event.
        let body = r#"{"not":"an event"}"#;
        let header = signature_header(&WebhookSecret::new(CURRENT), None, body.as_bytes());
        assert_eq!(send(Some(header), body).await, 400);
    }
}
