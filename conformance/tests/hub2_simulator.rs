//! The HUB2 simulator over raw HTTP: authentication, intents and their
//! flows, tokens, throttling, transfers and balance, Processing Only mode,
//! webhooks and their signatures, the manual clock (more than one attempt
//! per intent and fees: `hub2_attempts.rs`).

mod hub2_support;

use std::time::Duration;

use paygate_conformance::simulator::hub2::{hmac_sha256_hex, DEMO_HUB2_WEBHOOK_SECRET};
use paygate_conformance::simulator::SimulatorConfig;
use serde_json::{json, Value};

use hub2_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_environment() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let body = json!({"customerReference": "c", "purchaseReference": "p", "amount": 100, "currency": "XOF"});
    let missing = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            None,
            "sandbox",
            Some(body.clone()),
        )
        .await;
    assert_error(&missing, 401);
    let unknown = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            Some("nope"),
            "sandbox",
            Some(body.clone()),
        )
        .await;
    assert_error(&unknown, 401);
    let mismatch = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            Some(KEY),
            "live",
            Some(body.clone()),
        )
        .await;
    assert_error(&mismatch, 403);
    assert!(mismatch.body["message"]
        .as_str()
        .unwrap()
        .contains("sandbox"));
    let live = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            Some(LIVE),
            "live",
            Some(body.clone()),
        )
        .await;
    assert_eq!(live.status, 201, "{}", live.body);
    assert_eq!(live.body["mode"], "live");
    // A live intent does not exist in the sandbox.
    let id = live.body["id"].as_str().unwrap();
    assert_error(&api.get(&format!("/payment-intents/{id}")).await, 404);
    // Request ids are unique.
    let again = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            None,
            "sandbox",
            Some(body),
        )
        .await;
    assert_ne!(again.body["request_id"], missing.body["request_id"]);
    // Unknown HUB2 paths answer the Error schema; the gateway is untouched.
    assert_error(&api.get("/nothing-here").await, 404);
    let gateway = reqwest::get(format!("{}/_sim/health", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(gateway.status(), 200);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_never_gives_a_5xx() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    for body in [
        "",
        "{",
        "[]",
        "null",
        r#"{"customerReference":"c"}"#,
        r#"{"customerReference":"c","purchaseReference":"p","amount":"x","currency":"XOF"}"#,
        r#"{"customerReference":"c","purchaseReference":"p","amount":-5,"currency":"XOF"}"#,
        r#"{"customerReference":"c","purchaseReference":"p","amount":5,"currency":"EUR"}"#,
    ] {
        for path in [
            "/payment-intents",
            "/transfers",
            "/webhooks",
            "/delegated/payments",
            "/payment-intents/pi_x/payments",
            "/payment-intents/pi_x/authentication",
        ] {
            let response = api
                .http
                .post(format!("{}{path}", api.base))
                .header("ApiKey", KEY)
                .header("MerchantId", MERCHANT)
                .header("Environment", "sandbox")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{path} {body:?}: {status}");
            let error: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert_eq!(error["status"], status);
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_with_forbidden_characters_are_refused_naming_the_field() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let answer = api
        .post(
            "/payment-intents",
            json!({"customerReference": "c", "purchaseReference": "order#1", "amount": 100, "currency": "XOF"}),
        )
        .await;
    assert_error(&answer, 400);
    assert_eq!(answer.body["code"], "invalid-purchaseReference");
    assert!(answer.body["message"]
        .as_str()
        .unwrap()
        .contains("purchaseReference"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msisdn_table_drives_the_outcome() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);

    let ok = api.intent(500).await;
    assert_eq!(ok["status"], "payment_required");
    assert_eq!(ok["token"].as_str().unwrap().split('.').count(), 3);
    let attempt = api.pay(&ok, "0700000099", None).await;
    assert_eq!(attempt.status, 201, "{}", attempt.body);
    assert_eq!(attempt.body["status"], "processing");
    assert_eq!(attempt.body["payments"][0]["status"], "pending");
    let done = api
        .wait_status(ok["id"].as_str().unwrap(), "successful")
        .await;
    assert_eq!(done["payments"][0]["status"], "successful");

    let failed = api.intent(500).await;
    api.pay(&failed, "0700000001", None).await;
    let done = api
        .wait_status(failed["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(done["payments"][0]["status"], "failed");

    // OTP: action_required, then the authentication endpoint.
    let otp = api.intent(500).await;
    let id = otp["id"].as_str().unwrap();
    api.pay(&otp, "0700000011", None).await;
    let waiting = api.wait_status(id, "action_required").await;
    let action = &waiting["payments"][0]["nextAction"];
    assert_eq!(action["type"], "otp");
    assert!(action["message"]
        .as_str()
        .unwrap()
        .starts_with("Mode Sandbox. Entrez un numéro à 4 chiffres"));
    let auth = |code: &str, token: &Value| {
        let api = &api;
        let body = json!({"token": token, "confirmationCode": code});
        async move {
            api.send(
                reqwest::Method::POST,
                &format!("/payment-intents/{id}/authentication"),
                None,
                "sandbox",
                Some(body),
            )
            .await
        }
    };
    assert_error(&auth("12a4", &otp["token"]).await, 400);
    let other = api.intent(10).await;
    assert_error(&auth("1234", &other["token"]).await, 401);
    assert_error(&auth("1234", &json!("not.a.token")).await, 401);
    let accepted = auth("1234", &otp["token"]).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    api.wait_status(id, "successful").await;

    // Wrong OTP.
    let wrong = api.intent(500).await;
    let wid = wrong["id"].as_str().unwrap();
    api.pay(&wrong, "0700000011", None).await;
    api.wait_status(wid, "action_required").await;
    let answer = api
        .send(
            reqwest::Method::POST,
            &format!("/payment-intents/{wid}/authentication"),
            None,
            "sandbox",
            Some(json!({"token": wrong["token"], "confirmationCode": "0000"})),
        )
        .await;
    assert_eq!(answer.status, 201);
    api.wait_status(wid, "failed").await;

    // OTP up front.
    let upfront = api.intent(500).await;
    api.pay(&upfront, "0700000011", Some("4321")).await;
    api.wait_status(upfront["id"].as_str().unwrap(), "successful")
        .await;

    // Redirection: opening the page completes it.
    let redirect = api.intent(500).await;
    let rid = redirect["id"].as_str().unwrap();
    api.pay(&redirect, "0700000012", None).await;
    let waiting = api.wait_status(rid, "action_required").await;
    let action = &waiting["payments"][0]["nextAction"];
    assert_eq!(action["type"], "redirection");
    let url = action["data"]["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!("/hub2/_sim/redirect/{rid}")),
        "{url}"
    );
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200);
    api.wait_status(rid, "successful").await;

    // USSD.
    let ussd = api.intent(500).await;
    let uid = ussd["id"].as_str().unwrap();
    api.pay(&ussd, "0700000013", None).await;
    let waiting = api.wait_status(uid, "action_required").await;
    assert_eq!(waiting["payments"][0]["nextAction"]["type"], "ussd");
    api.wait_status(uid, "successful").await;

    // A second attempt on a final intent conflicts.
    assert_error(&api.pay(&ok, "0700000099", None).await, 409);
    // A token of another intent is refused.
    let mut stolen = api.intent(10).await;
    stolen["token"] = other["token"].clone();
    assert_error(&api.pay(&stolen, "0700000099", None).await, 401);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_transfers_carry_unique_references() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let mut references = Vec::new();
    for _ in 0..2 {
        let intent = api.intent(1000).await;
        let id = intent["id"].as_str().unwrap();
        let answer = api
            .send(
                reqwest::Method::POST,
                &format!("/payment-intents/{id}/payments"),
                None,
                "sandbox",
                Some(json!({"token": intent["token"], "paymentMethod": "bank_transfer", "country": "CI"})),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.body["status"], "processing");
        let details = &answer.body["payments"][0]["bankTransferDetails"];
        references.push(details["reference"].as_str().unwrap().to_owned());
        let forced = api
            .http
            .post(format!("{}/_sim/payment-intents/{id}/outcome", api.base))
            .header("content-type", "application/json")
            .body(json!({"status": "successful"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(forced.status(), 200);
    }
    assert_ne!(references[0], references[1]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_a_final_intent_is_throttled_and_the_global_limit_applies() {
    let mut config = fast_config();
    config.hub2.rate_limit.requests = 50;
    let sim = sim(config).await;
    let api = Api::new(&sim);
    let intent = api.intent(100).await;
    let id = intent["id"].as_str().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = api.get(&format!("/payment-intents/{id}/status")).await;
        statuses.push(answer.status);
        if answer.status == 429 {
            assert_error(&answer, 429);
            let retry: u64 = answer.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=5).contains(&retry));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    // The global limit: 50 requests per 5 s per IP (6 used so far).
    let mut first_429 = None;
    for i in 0..60 {
        let answer = api.get("/balance").await;
        if answer.status == 429 {
            assert!(answer.headers.contains_key("retry-after"));
            first_429 = Some(i);
            break;
        }
    }
    assert_eq!(first_429, Some(44));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_debit_the_balance_and_refund_failures() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let available = |b: &Value| {
        b["transferAccount"][0]["availableBalance"]
            .as_i64()
            .unwrap()
    };
    let start = api.get("/balance?currency=XOF").await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert_eq!(available(&start.body), 1_000_000);
    let transfer = |amount: i64, msisdn: &str| {
        json!({"reference": "payout-1", "amount": amount, "currency": "XOF", "description": "Refund",
               "destination": {"type": "mobile_money", "country": "CI", "recipientName": "Awa", "msisdn": msisdn, "provider": "mtn"}})
    };
    let too_much = api
        .post("/transfers", transfer(2_000_000, "0500000099"))
        .await;
    assert_error(&too_much, 402);
    assert_eq!(too_much.body["code"], "insufficient-funds");
    assert_eq!(
        available(&api.get("/balance?currency=XOF").await.body),
        1_000_000
    );

    let ok = api.post("/transfers", transfer(1000, "0500000099")).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["status"], "pending");
    let failed = api.post("/transfers", transfer(5000, "0500000001")).await;
    assert_eq!(failed.status, 201);
    assert_eq!(
        available(&api.get("/balance?currency=XOF").await.body),
        994_000
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = ok.body["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/transfers/{id}/status")).await.body["status"],
        "successful"
    );
    let fid = failed.body["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/transfers/{fid}")).await.body["status"],
        "failed"
    );
    assert_eq!(
        available(&api.get("/balance?currency=XOF").await.body),
        999_000
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_only_needs_the_permission_and_validated_credentials() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let body = json!({"customerReference": "c", "purchaseReference": "p", "amount": 120, "currency": "XOF",
                      "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}});
    let limited = api
        .send(
            reqwest::Method::POST,
            "/delegated/payments",
            Some(LIMITED),
            "sandbox",
            Some(body.clone()),
        )
        .await;
    assert_error(&limited, 403);
    assert!(limited.body["message"]
        .as_str()
        .unwrap()
        .contains("Api.delegated_payment_create"));
    let no_credentials = api.post("/delegated/payments", body.clone()).await;
    assert_error(&no_credentials, 400);
    assert_eq!(no_credentials.body["code"], "provider-credentials-missing");

    let register = |provider: &str, country: &str, credentials: Value| {
        let http = api.http.clone();
        let url = format!("{}/_sim/provider-credentials", api.base);
        let body = json!({"provider": provider, "country": country, "transactionType": "payment", "credentials": credentials});
        async move { http.post(url).body(body.to_string()).send().await.unwrap() }
    };
    let bad = register("orange", "CI", json!({"apiKey": "invalid"})).await;
    assert_eq!(bad.status(), 400);
    let message = json_of(bad).await["message"].as_str().unwrap().to_owned();
    assert!(message.contains("authentication token"), "{message}");
    assert_eq!(register("orange", "CI", json!({})).await.status(), 400);
    assert_eq!(
        register("wave", "SN", json!({"apiKey": "k"}))
            .await
            .status(),
        400
    );
    assert_eq!(
        register("orange", "CI", json!({"apiKey": "k"}))
            .await
            .status(),
        201
    );

    let paid = api.post("/delegated/payments", body).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    api.wait_status(paid.body["id"].as_str().unwrap(), "successful")
        .await;

    let transfer = json!({"reference": "p-1", "amount": 100, "currency": "XOF",
        "destination": {"type": "mobile_money", "country": "CI", "recipientName": "A", "msisdn": "0500000099", "provider": "mtn"}});
    let limited = api
        .send(
            reqwest::Method::POST,
            "/delegated/transfers",
            Some(LIMITED),
            "sandbox",
            Some(transfer.clone()),
        )
        .await;
    assert_error(&limited, 403);
    assert!(limited.body["message"]
        .as_str()
        .unwrap()
        .contains("Api.delegated_transfer_create"));
    assert_error(&api.post("/delegated/transfers", transfer).await, 400);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_with_the_current_and_previous_secret() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let (url, inbox) = receiver().await;
    let created = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment_intent.succeeded", "payment_intent.created"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["secret"], DEMO_HUB2_WEBHOOK_SECRET);
    let webhook_id = created.body["id"].as_str().unwrap().to_owned();
    let listed = api.get("/webhooks").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(listed.body[0].get("secret").is_none());

    let intent = api.intent(300).await;
    let id = intent["id"].as_str().unwrap().to_owned();
    let (signature, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.created" && e["data"]["id"] == id
    })
    .await;
    assert_eq!(
        signature,
        format!(
            "s1={}",
            hmac_sha256_hex(DEMO_HUB2_WEBHOOK_SECRET.as_bytes(), &body)
        )
    );

    let rotated = json_of(
        api.http
            .post(format!("{}/_sim/webhooks/{webhook_id}/rotate", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, DEMO_HUB2_WEBHOOK_SECRET);
    api.pay(&intent, "0700000099", None).await;
    let (signature, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.succeeded" && e["data"]["id"] == id
    })
    .await;
    assert_eq!(
        signature,
        format!(
            "s1={},s0={}",
            hmac_sha256_hex(new_secret.as_bytes(), &body),
            hmac_sha256_hex(DEMO_HUB2_WEBHOOK_SECRET.as_bytes(), &body)
        )
    );
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["data"]["status"], "successful");
    assert!(event["data"].get("token").is_none());

    let deliveries = json_of(
        api.http
            .get(format!(
                "{}/_sim/webhook-deliveries?object_id={id}",
                api.base
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(deliveries["deliveries"].as_array().unwrap().len() >= 2);
    let deleted = api
        .send(
            reqwest::Method::DELETE,
            &format!("/webhooks/{webhook_id}"),
            Some(KEY),
            "sandbox",
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_webhook_deliveries_are_retried_and_recorded() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    // Nobody listens there.
    let created = api
        .post(
            "/webhooks",
            json!({"url": "http://127.0.0.1:9/none", "events": ["payment_intent.created"]}),
        )
        .await;
    assert_eq!(created.status, 201);
    let intent = api.intent(300).await;
    let id = intent["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let attempts: Vec<_> = sim
        .state()
        .hub2_deliveries()
        .into_iter()
        .filter(|d| d.object_id == id)
        .collect();
    assert_eq!(attempts.len(), 4, "{attempts:#?}");
    assert!(attempts.iter().all(|a| !a.delivered));
    sim.shutdown().await;
}

#[test]
fn yaml_hub2_section_is_optional_and_checked() {
    let old = "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: s\n";
    let config = SimulatorConfig::from_yaml_str(old, "m.yaml").unwrap();
    assert!(config.hub2.merchants.is_empty());
    let with = format!(
        "{old}hub2:\n  rate_limit: {{requests: 5, window_ms: 1000}}\n  merchants:\n    - merchant_id: m\n      webhook_secret: w\n      api_keys:\n        - key: k\n          environment: sandbox\n          permissions: [Api.delegated_payment_create]\n"
    );
    let config = SimulatorConfig::from_yaml_str(&with, "m.yaml").unwrap();
    assert_eq!(config.hub2.merchants[0].api_keys[0].key, "k");
    assert_eq!(config.hub2.rate_limit.requests, 5);
    assert!(!format!("{config:?}").contains("\"k\""));
    let bad = format!("{old}hub2:\n  merchants:\n    - merchant_id: m\n      api_keys:\n        - key: ''\n          environment: sandbox\n");
    let err = SimulatorConfig::from_yaml_str(&bad, "m.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("hub2.merchants[0].api_keys[0].key"), "{err}");
}

/// On a manual clock (issue 16): the previous webhook secret still signs
/// (`s0`) until 24 hours of the clock have passed since the rotation, and
/// a payment-intent token stops working 24 hours after it was issued;
/// neither needs a day of real time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_grace_period_and_token_lifetime_follow_the_manual_clock() {
    let mut config = fast_config();
    config.clock = paygate_conformance::simulator::ClockMode::Manual {
        start_ms: Some(1_769_900_400_000),
    };
    let sim = sim(config).await;
    let api = Api::new(&sim);
    let advance = |seconds: u64| {
        let api = &api;
        let base = sim.base_url();
        async move {
            let answer = api
                .http
                .post(format!("{base}/_sim/clock/advance"))
                .header("content-type", "application/json")
                .body(json!({ "seconds": seconds }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
        }
    };
    let (url, inbox) = receiver().await;
    let created = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment_intent.created"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let webhook_id = created.body["id"].as_str().unwrap().to_owned();
    let rotated = json_of(
        api.http
            .post(format!("{}/_sim/webhooks/{webhook_id}/rotate", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(rotated["secret"].is_string());

    async fn signature_of_new_intent(api: &Api, inbox: &Inbox) -> (Value, String) {
        let intent = api.intent(300).await;
        let id = intent["id"].as_str().unwrap().to_owned();
        let (signature, _) = wait_for(inbox, |e| e["data"]["id"] == id).await;
        (intent, signature)
    }
    // 23 h 59 min after the rotation: still signed with both.
    advance(23 * 3600 + 59 * 60).await;
    let (intent, signature) = signature_of_new_intent(&api, &inbox).await;
    assert!(signature.contains(",s0="), "{signature}");
    // 24 h after: the new secret alone.
    advance(60).await;
    let (_, signature) = signature_of_new_intent(&api, &inbox).await;
    assert!(
        signature.starts_with("s1=") && !signature.contains("s0="),
        "{signature}"
    );

    // The first intent's token, issued 1 min before the 24 h mark: valid
    // for another minute of the clock, then expired.
    advance(59).await;
    let answer = api.pay(&intent, "0700000099", None).await;
    assert_ne!(answer.status, 401, "{}", answer.body);
    let late = api.intent(300).await;
    advance(24 * 3600).await;
    let answer = api.pay(&late, "0700000099", None).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(
        answer.body.to_string().contains("expired"),
        "{}",
        answer.body
    );
    sim.shutdown().await;
}
