//! What the dashboard (`/_sim/ui`) reads and does, through HTTP: the
//! transaction listing and its filters, each callback attempt's body,
//! sending a callback again, the attempt's latency and next retry, the HUB2
//! listing, and who may use any of it (the sign-in cookie, the header a
//! cookie-authenticated change must carry). The page itself, in a browser:
//! `dashboard_browser.rs`.

mod simulator_support;

use paygate_conformance::simulator::{RunningSimulator, DEMO_PUBLIC_ID};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use simulator_support::*;

async fn pay(sim: &RunningSimulator, order: &str, customer: &str, callback: Option<&str>) {
    client(sim)
        .payment_c2b(typed(kenya_c2b(order, customer, callback)))
        .await
        .expect("payment accepted");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn transactions_are_listed_newest_first_and_filtered() {
    // Outcomes an hour away: every payment stays "in progress" (status 1)
    // while the filters are checked, however slow the machine.
    let mut config = fast_config();
    config.latency = std::time::Duration::from_secs(3600);
    let sim = simulator(config).await;
    for n in 0..5 {
        pay(&sim, &format!("list-{n}"), &format!("25470000000{n}"), None).await;
    }
    let base = sim.base_url();
    let (status, all) = control_get(&sim, &format!("{base}/_sim/transactions")).await;
    assert_eq!(status, 200);
    let orders: Vec<&str> = all["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(orders, ["list-4", "list-3", "list-2", "list-1", "list-0"]);
    assert_eq!(all["total"], 5);
    assert_eq!(all["transactions"][0]["amount"], "100.00");
    assert_eq!(all["transactions"][0]["provider_id"], 2390);

    let (_, two) = control_get(&sim, &format!("{base}/_sim/transactions?limit=2")).await;
    let two: Vec<&str> = two["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(two, ["list-4", "list-3"], "the newest two");

    for (query, expected) in [
        (format!("public_id={DEMO_PUBLIC_ID}"), 5),
        ("public_id=someone-else".to_owned(), 0),
        ("provider_id=2390".to_owned(), 5),
        ("provider_id=2303".to_owned(), 0),
        ("status=1".to_owned(), 5),
        ("status=2".to_owned(), 0),
    ] {
        let (status, list) = control_get(&sim, &format!("{base}/_sim/transactions?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            list["transactions"].as_array().unwrap().len(),
            expected,
            "{query}"
        );
    }
    let (status, refused) =
        control_get(&sim, &format!("{base}/_sim/transactions?status=two")).await;
    assert_eq!(status, 400, "{refused}");
    let (status, _) = control_get(&sim, &format!("{base}/_sim/transactions?colour=red")).await;
    assert_eq!(status, 400);
    let (status, _) = get_json(&format!("{base}/_sim/transactions")).await;
    assert_eq!(status, 401, "the listing is behind the admin token");
    let (status, _) = get_json(&format!("{base}/hub2/_sim/transactions")).await;
    assert_eq!(status, 401);
    let (status, hub2) = control_get(&sim, &format!("{base}/hub2/_sim/transactions")).await;
    assert_eq!(status, 200);
    assert_eq!(hub2["transactions"], serde_json::json!([]));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_callback_is_shown_as_signed_and_sent_again_on_request() {
    // The merchant fails the first delivery, then accepts.
    let receiver = Receiver::start(Some(1)).await;
    let sim = simulator(fast_config()).await;
    let base = sim.base_url();
    pay(&sim, "resend-1", "254700000001", Some(&receiver.url)).await;
    eventually("two deliveries (one failed, one accepted)", || {
        receiver.count() == 2
    })
    .await;

    let (_, attempts) =
        control_get(&sim, &format!("{base}/_sim/callbacks?order_id=resend-1")).await;
    let attempts = attempts["callbacks"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["http_status"], 500);
    assert!(
        attempts[0]["next_attempt_at"].is_string(),
        "a failed attempt says when the next is due: {:?}",
        attempts[0]
    );
    assert!(attempts[0]["latency_ms"].is_u64());
    assert_eq!(attempts[1]["delivered"], true);
    assert!(attempts[1]["next_attempt_at"].is_null());

    let delivered = receiver.all()[1].body.clone();
    assert_eq!(
        attempts[1]["body"].as_str().unwrap().as_bytes(),
        &delivered[..],
        "each attempt shows the body it sent, byte for byte"
    );
    assert_eq!(
        attempts[0]["body"].as_str().unwrap().as_bytes(),
        &receiver.all()[0].body[..]
    );
    let (_, everything) = control_get(&sim, &format!("{base}/_sim/callbacks")).await;
    assert!(
        everything["callbacks"][0].get("body").is_none(),
        "the full log leaves the bodies out"
    );

    let url = format!("{base}/_sim/transactions/{DEMO_PUBLIC_ID}/resend-1/callback");
    let (status, answer) = json(control(&sim, Method::POST, &url).send().await.unwrap()).await;
    assert_eq!(status, 202, "{answer}");
    eventually("the callback sent again", || receiver.count() == 3).await;
    let again = receiver.all()[2]
        .callback
        .clone()
        .expect("signed with the merchant's key");
    let first = receiver.all()[1].callback.clone().unwrap();
    assert_eq!(
        (again.order_id, again.status),
        (first.order_id, first.status)
    );

    // Not final yet: nothing to show or send.
    let sim_slow = {
        let mut config = fast_config();
        config.latency = std::time::Duration::from_secs(3600);
        simulator(config).await
    };
    pay(&sim_slow, "pending-1", "254700000002", Some(&receiver.url)).await;
    let pending = format!(
        "{}/_sim/transactions/{DEMO_PUBLIC_ID}/pending-1/callback",
        sim_slow.base_url()
    );
    let (status, _) = json(
        control(&sim_slow, Method::POST, &pending)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    let missing = format!(
        "{}/_sim/transactions/{DEMO_PUBLIC_ID}/never/callback",
        sim_slow.base_url()
    );
    let (status, _) = json(
        control(&sim_slow, Method::POST, &missing)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    sim_slow.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn the_page_needs_the_token_and_a_cookie_cannot_change_state_without_the_ui_header() {
    let sim = simulator(fast_config()).await;
    let base = sim.base_url();
    let http = no_redirects();
    let token = sim.admin_token().expect("a token").reveal().to_owned();

    // Without the token: to the sign-in form; the assets are refused.
    let answer = http.get(format!("{base}/_sim/ui")).send().await.unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()[LOCATION], "/_sim/ui/login");
    let answer = http
        .get(format!("{base}/_sim/ui/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let form = http
        .get(format!("{base}/_sim/ui/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("name=\"token\""));

    // A wrong token: 401 and no cookie.
    let answer = http
        .post(format!("{base}/_sim/ui/login"))
        .form(&[("token", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get(SET_COOKIE).is_none());

    // The right one: an HttpOnly, SameSite=Strict cookie.
    let answer = http
        .post(format!("{base}/_sim/ui/login"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let cookie = answer.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let page = http
        .get(format!("{base}/_sim/ui"))
        .header(COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(page.text().await.unwrap().contains("/_sim/ui/app.js"));
    let list = http
        .get(format!("{base}/_sim/transactions"))
        .header(COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200, "the cookie reads the control API");

    // A change by cookie alone (what a form of another site could send) is
    // refused; with the dashboard's header it goes through.
    let (status, refused) = json(
        http.post(format!("{base}/_sim/reset"))
            .header(COOKIE, &pair)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["code"], "admin-ui-header-missing");
    let answer = http
        .post(format!("{base}/_sim/reset"))
        .header(COOKIE, &pair)
        .header("x-paygate-ui", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // A cookie with another token is refused.
    let answer = http
        .get(format!("{base}/_sim/transactions"))
        .header(COOKIE, "paygate_sim_admin=guess")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn hub2_intents_are_listed_newest_first_with_their_kind_and_filtered_by_status() {
    use paygate_conformance::simulator::hub2::config::{
        DEMO_HUB2_MERCHANT_ID, DEMO_HUB2_SANDBOX_KEY,
    };
    let sim = simulator(fast_config()).await;
    let base = sim.base_url();
    let http = reqwest::Client::new();
    for (n, amount) in [(1, 1_000), (2, 2_000)] {
        let answer = http
            .post(format!("{base}/hub2/payment-intents"))
            .header("ApiKey", DEMO_HUB2_SANDBOX_KEY)
            .header("MerchantId", DEMO_HUB2_MERCHANT_ID)
            .header("Environment", "sandbox")
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"customerReference": "c", "purchaseReference": format!("p{n}"), "amount": amount, "currency": "XOF"})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
        // createdAt has millisecond precision: keep the two apart.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (status, list) = control_get(&sim, &format!("{base}/hub2/_sim/transactions")).await;
    assert_eq!(status, 200, "{list}");
    let rows = list["transactions"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{list}");
    assert_eq!(rows[0]["amount"], 2_000, "the newest first: {list}");
    assert_eq!(rows[0]["kind"], "payment_intent");
    let open = rows[0]["status"].as_str().unwrap().to_owned();
    let (_, same) = control_get(
        &sim,
        &format!("{base}/hub2/_sim/transactions?status={open}"),
    )
    .await;
    assert_eq!(same["transactions"].as_array().unwrap().len(), 2);
    let (_, none) = control_get(
        &sim,
        &format!("{base}/hub2/_sim/transactions?status=successful"),
    )
    .await;
    assert_eq!(none["transactions"], serde_json::json!([]));
    let (_, one) = control_get(&sim, &format!("{base}/hub2/_sim/transactions?limit=1")).await;
    assert_eq!(one["transactions"].as_array().unwrap().len(), 1);
    sim.shutdown().await;
}
