//! The HUB2 simulator over raw HTTP: more than one payment attempt on one
//! intent, and the fee every attempt carries.

mod hub2_support;

use std::time::Duration;

use paygate_conformance::simulator::SimulatorConfig;
use serde_json::{json, Value};

use hub2_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_attempt_may_follow_a_failed_one() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let (url, inbox) = receiver().await;
    let hook = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment.created", "payment.failed", "payment.succeeded",
                                           "payment_intent.failed", "payment_intent.succeeded"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let intent = api.intent(500).await;
    let id = intent["id"].as_str().unwrap();

    api.pay(&intent, "0700000001", None).await;
    // The intent shows `failed` (the seed lists it among the statuses
    // polling sees), with the failed attempt in `payments`.
    let failed = api.wait_status(id, "failed").await;
    assert_eq!(statuses(&failed), ["failed"]);
    let first_id = failed["payments"][0]["id"].as_str().unwrap().to_owned();

    // A second attempt is taken: 201, the intent follows it.
    let second = api.pay(&intent, "0700000099", None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["status"], "processing");
    assert_eq!(statuses(&second.body), ["failed", "pending"]);
    assert_eq!(second.body["payments"][0]["id"], first_id.as_str());
    let second_id = second.body["payments"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_id, first_id);
    assert!(second_id.starts_with("pay_"));

    // It ends successful; the failed attempt stays first, unchanged.
    // (wait_status reads the final intent twice: the polling throttle
    // counted the reads of the failed intent before the new attempt, and
    // must not refuse these.)
    let done = api.wait_status(id, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);
    assert_eq!(done["payments"][0]["id"], first_id.as_str());
    assert_eq!(done["payments"][1]["id"], second_id.as_str());

    // Once successful, no more attempts.
    let third = api.pay(&intent, "0700000099", None).await;
    assert_error(&third, 409);
    // Polling the successful intent is throttled again after 3 reads
    // (2 made by wait_status).
    assert_eq!(
        api.get(&format!("/payment-intents/{id}/status"))
            .await
            .status,
        200
    );
    assert_error(
        &api.get(&format!("/payment-intents/{id}/status")).await,
        429,
    );

    // Webhooks: one payment.created per attempt, each attempt's own end,
    // and the intent's events carrying both attempts.
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.succeeded" && e["data"]["id"] == id
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(statuses(&event["data"]), ["failed", "successful"]);
    for (kind, payment) in [
        ("payment.created", &first_id),
        ("payment.failed", &first_id),
        ("payment.created", &second_id),
        ("payment.succeeded", &second_id),
    ] {
        wait_for(&inbox, |e| {
            e["type"] == kind && e["data"]["id"] == payment.as_str()
        })
        .await;
    }
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.failed" && e["data"]["id"] == id
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(statuses(&event["data"]), ["failed"]);
    // Nothing says the second attempt failed.
    assert!(!inbox.lock().unwrap().iter().any(|(_, b)| {
        let e: Value = serde_json::from_slice(b).unwrap();
        e["type"] == "payment.failed" && e["data"]["id"] == second_id.as_str()
    }));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_wrong_otp_the_new_attempt_gets_its_own_otp_step() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let intent = api.intent(500).await;
    let id = intent["id"].as_str().unwrap();
    api.pay(&intent, "0700000011", None).await;
    api.wait_status(id, "action_required").await;
    assert_eq!(api.authenticate(&intent, "0000").await.status, 201);
    api.wait_status(id, "failed").await;
    // The failed attempt waits for no OTP any more.
    assert_error(&api.authenticate(&intent, "1234").await, 409);

    let second = api.pay(&intent, "0700000011", None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    let waiting = api.wait_status(id, "action_required").await;
    assert_eq!(statuses(&waiting), ["failed", "action_required"]);
    assert!(waiting["payments"][0].get("nextAction").is_none());
    assert_eq!(waiting["payments"][1]["nextAction"]["type"], "otp");

    // The code goes to the current (second) attempt.
    let accepted = api.authenticate(&intent, "1234").await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(accepted.body["status"], "processing");
    assert_eq!(statuses(&accepted.body), ["failed", "processing"]);
    let done = api.wait_status(id, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_new_attempt_while_one_is_pending_and_actions_follow_the_current_one() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);

    // Processing (msisdn 03 stays processing): a new attempt conflicts.
    let stay = api.intent(500).await;
    let sid = stay["id"].as_str().unwrap();
    let first = api.pay(&stay, "0700000003", None).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let refused = api.pay(&stay, "0700000099", None).await;
    assert_error(&refused, 409);
    assert_eq!(
        statuses(&api.get(&format!("/payment-intents/{sid}")).await.body),
        ["pending"]
    );
    assert_eq!(api.force(sid, "failed").await, 200);
    assert_eq!(api.pay(&stay, "0700000003", None).await.status, 201);
    // The control API forces the current attempt only.
    assert_eq!(api.force(sid, "successful").await, 200);
    let done = api.get(&format!("/payment-intents/{sid}")).await.body;
    assert_eq!(done["status"], "successful");
    assert_eq!(statuses(&done), ["failed", "successful"]);

    // Redirection: action_required refuses a new attempt; after a failure
    // the page completes the current attempt.
    let redirect = api.intent(500).await;
    let rid = redirect["id"].as_str().unwrap();
    api.pay(&redirect, "0700000012", None).await;
    api.wait_status(rid, "action_required").await;
    assert_error(&api.pay(&redirect, "0700000099", None).await, 409);
    assert_eq!(api.force(rid, "failed").await, 200);
    api.pay(&redirect, "0700000012", None).await;
    let waiting = api.wait_status(rid, "action_required").await;
    assert_eq!(statuses(&waiting), ["failed", "action_required"]);
    let url = waiting["payments"][1]["nextAction"]["data"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let done = api.wait_status(rid, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);

    // USSD: the first attempt is failed before the customer finished
    // dialing; its pending completion must not touch the next attempt.
    let ussd = api.intent(500).await;
    let uid = ussd["id"].as_str().unwrap();
    api.pay(&ussd, "0700000013", None).await;
    api.wait_status(uid, "action_required").await;
    assert_eq!(api.force(uid, "failed").await, 200);
    api.pay(&ussd, "0700000003", None).await;
    // The USSD completion was due 500 ms after the action.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let still = api.get(&format!("/payment-intents/{uid}")).await.body;
    assert_eq!(still["status"], "processing");
    assert_eq!(statuses(&still), ["failed", "pending"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_only_intent_is_retried_under_processing_only_rules() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let registered = api
        .http
        .post(format!("{}/_sim/provider-credentials", api.base))
        .body(json!({"provider": "orange", "country": "CI", "transactionType": "payment", "credentials": {"apiKey": "k"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let body = json!({"customerReference": "c", "purchaseReference": "p", "amount": 120, "currency": "XOF",
                      "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000001"}});
    let paid = api.post("/delegated/payments", body).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    let id = paid.body["id"].as_str().unwrap();
    api.wait_status(id, "failed").await;
    let attempt = |provider: &str| {
        json!({"token": paid.body["token"], "paymentMethod": "mobile_money", "country": "CI",
               "provider": provider, "mobileMoney": {"msisdn": "0700000099"}})
    };
    let path = format!("/payment-intents/{id}/payments");
    // Moov CI is served by HUB2 but not in Processing Only mode.
    let moov = api
        .send(
            reqwest::Method::POST,
            &path,
            None,
            "sandbox",
            Some(attempt("moov")),
        )
        .await;
    assert_error(&moov, 400);
    assert_eq!(moov.body["code"], "provider-not-supported");
    let orange = api
        .send(
            reqwest::Method::POST,
            &path,
            None,
            "sandbox",
            Some(attempt("orange")),
        )
        .await;
    assert_eq!(orange.status, 201, "{}", orange.body);
    let done = api.wait_status(id, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);
    sim.shutdown().await;
}

// ----- fees ------------------------------------------------------------------------

fn fees(payment: &Value) -> Value {
    payment["fees"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_attempts_carry_a_fee_at_the_default_rate() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let (url, inbox) = receiver().await;
    let hook = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment.created", "payment.succeeded", "payment.failed",
                                           "payment_intent.succeeded"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let collected = || async {
        api.get("/balance?currency=XOF").await.body["collectionAccount"][0]["availableBalance"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(collected().await, 0);

    // 2 % (200 basis points) of 1025 is 20.5: rounded halves up, 21.
    let intent = api.intent(1025).await;
    let id = intent["id"].as_str().unwrap();
    let expected = json!([{"amount": 21, "currency": "XOF"}]);
    let attempt = api.pay(&intent, "0700000099", None).await;
    assert_eq!(attempt.status, 201, "{}", attempt.body);
    assert_eq!(fees(&attempt.body["payments"][0]), expected);
    // The spec gives the intent no `fees` of its own: they are on its
    // payments.
    assert!(attempt.body.get("fees").is_none(), "{}", attempt.body);
    let done = api.wait_status(id, "successful").await;
    assert_eq!(fees(&done["payments"][0]), expected);
    // The collection account gets the amount less the fee.
    assert_eq!(collected().await, 1025 - 21);

    let payment_id = done["payments"][0]["id"].as_str().unwrap();
    for kind in ["payment.created", "payment.succeeded"] {
        let (_, body) = wait_for(&inbox, |e| {
            e["type"] == kind && e["data"]["id"] == payment_id
        })
        .await;
        let event: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(fees(&event["data"]), expected, "{kind}");
    }
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.succeeded" && e["data"]["id"] == id
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fees(&event["data"]["payments"][0]), expected);

    // A failed attempt carries its fee but moves no money; the next attempt
    // carries its own.
    let retried = api.intent(490).await;
    let rid = retried["id"].as_str().unwrap();
    api.pay(&retried, "0700000001", None).await;
    let failed = api.wait_status(rid, "failed").await;
    let ten = json!([{"amount": 10, "currency": "XOF"}]); // 9.8
    assert_eq!(fees(&failed["payments"][0]), ten);
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment.failed" && e["data"]["intentId"] == rid
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fees(&event["data"]), ten);
    assert_eq!(collected().await, 1004);
    api.pay(&retried, "0700000099", None).await;
    let done = api.wait_status(rid, "successful").await;
    assert_eq!(fees(&done["payments"][0]), ten);
    assert_eq!(fees(&done["payments"][1]), ten);
    assert_eq!(collected().await, 1004 + 480);
    sim.shutdown().await;
}

const GATEWAY_MERCHANTS: &str =
    "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: s\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fee_rate_comes_from_the_merchants_file() {
    // A merchant's own rate wins over the file's.
    let yaml = format!(
        "{GATEWAY_MERCHANTS}hub2:\n  fees: {{rate_bps: 0}}\n  merchants:\n    - merchant_id: {MERCHANT}\n      fees: {{rate_bps: 175}}\n      api_keys:\n        - key: {KEY}\n          environment: sandbox\n"
    );
    let mut config = SimulatorConfig::from_yaml_str(&yaml, "m.yaml").unwrap();
    config.latency = Duration::from_millis(40);
    let sim = sim(config).await;
    let api = Api::new(&sim);
    // 1.75 % of 200 is 3.5: 4. Of 199, 3.4825: 3. In XAF for a CM payment.
    for (amount, fee) in [(200, 4), (199, 3)] {
        let intent = api.intent(amount).await;
        let answer = api.pay(&intent, "0700000099", None).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(
            fees(&answer.body["payments"][0]),
            json!([{"amount": fee, "currency": "XOF"}])
        );
    }
    let xaf = api
        .post(
            "/payment-intents",
            json!({"customerReference": "c", "purchaseReference": "p", "amount": 1000, "currency": "XAF"}),
        )
        .await;
    let id = xaf.body["id"].as_str().unwrap();
    let answer = api
        .send(
            reqwest::Method::POST,
            &format!("/payment-intents/{id}/payments"),
            None,
            "sandbox",
            Some(
                json!({"token": xaf.body["token"], "paymentMethod": "mobile_money", "country": "CM",
                        "provider": "mtn", "mobileMoney": {"msisdn": "670000099"}}),
            ),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        fees(&answer.body["payments"][0]),
        json!([{"amount": 18, "currency": "XAF"}]) // 17.5
    );
    // The control API tells the rate.
    let model = json_of(
        api.http
            .get(format!("{}/_sim/fees", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(model["fees"][0]["merchantId"], MERCHANT);
    assert_eq!(model["fees"][0]["rateBps"], 175);
    sim.shutdown().await;

    // Without a merchant rate the file's applies; rates above 100 % are
    // refused naming the field.
    let yaml = format!(
        "{GATEWAY_MERCHANTS}hub2:\n  fees: {{rate_bps: 0}}\n  merchants:\n    - merchant_id: m\n      api_keys:\n        - key: k\n          environment: sandbox\n"
    );
    let config = SimulatorConfig::from_yaml_str(&yaml, "m.yaml").unwrap();
    let sim = crate::sim(config).await;
    let model = json_of(
        Api::new(&sim)
            .http
            .get(format!("{}/hub2/_sim/fees", sim.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(model["fees"][0]["rateBps"], 0);
    sim.shutdown().await;
    for (bad, path) in [
        ("hub2:\n  fees: {rate_bps: 10001}\n", "hub2.fees.rate_bps"),
        (
            "hub2:\n  merchants:\n    - merchant_id: m\n      fees: {rate_bps: 20000}\n      api_keys:\n        - key: k\n          environment: sandbox\n",
            "hub2.merchants[0].fees.rate_bps",
        ),
    ] {
        let err = SimulatorConfig::from_yaml_str(&format!("{GATEWAY_MERCHANTS}{bad}"), "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains(path), "{err}");
    }
}
