//! Provider flows: OTP, redirect, bank transfer, B2C confirmation.

mod simulator_support;

use std::time::Duration;

use paygate::gateway::{PaymentB2cRequest, PaymentC2bRequest};
use paygate::money::Amount;
use paygate_conformance::simulator::DEMO_PUBLIC_ID;
use serde_json::json;
use simulator_support::*;

fn burkina_otp(order_id: &str, otp: Option<&str>) -> serde_json::Value {
    let extra = otp.map(|otp| json!({ "otp": otp }));
    payment(
        order_id,
        "22670000000",
        9209,
        "1000.00",
        "XOF",
        "BF",
        None,
        extra,
    )
}

#[tokio::test]
async fn otp_flow_needs_four_digits_and_0000_fails_and_takes_the_otp_by_status() {
    let sim = simulator(fast_config()).await;
    let receiver = Receiver::start(Some(0)).await;
    let client = client(&sim);
    let mut good = burkina_otp("otp-ok", Some("5647"));
    good["callback_url"] = receiver.url.clone().into();
    client.payment_c2b(typed(good)).await.expect("accepted");
    assert_eq!(
        client
            .wait_for_final_status("otp-ok", Duration::from_secs(5))
            .await
            .unwrap()
            .status
            .code(),
        2
    );

    client
        .payment_c2b(typed(burkina_otp("otp-bad", Some("0000"))))
        .await
        .expect("accepted");
    let failed = client
        .wait_for_final_status("otp-bad", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(failed.status.code(), 3);
    assert_eq!(failed.provider_result.unwrap().message, "invalid OTP");

    // Without an OTP the payment waits for one (seed 002: the OTP may come
    // afterwards in a status request with customer_id and extra.otp).
    let missing: PaymentC2bRequest = typed(burkina_otp("otp-missing", None));
    let (status, body) = post_raw(
        &sim,
        "payment_c2b",
        "application/json",
        signed_bytes(missing),
    )
    .await;
    assert_eq!(status, 200, "{:?}", result_of(&body));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        client.status("otp-missing").await.unwrap().status.code(),
        1,
        "waits for the OTP"
    );
    let wrong_customer = client
        .status_with_otp("otp-missing", "22670000099", "1234")
        .await
        .unwrap_err();
    assert_eq!(wrong_customer.gateway_code(), Some(10422));
    let bad_format = client
        .status_with_otp("otp-missing", "22670000000", "12a")
        .await
        .unwrap_err();
    assert_eq!(bad_format.gateway_code(), Some(10422));
    client
        .status_with_otp("otp-missing", "22670000000", "1234")
        .await
        .expect("the OTP is taken");
    let done = client
        .wait_for_final_status("otp-missing", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(done.status.code(), 2);
    let short: PaymentC2bRequest = typed(burkina_otp("otp-short", Some("12a")));
    let (status, body) =
        post_raw(&sim, "payment_c2b", "application/json", signed_bytes(short)).await;
    assert_eq!(status, 422);
    assert!(
        result_of(&body).1.contains("[otp_format]"),
        "{:?}",
        result_of(&body)
    );
    eventually("the callback", || receiver.count() >= 1).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn redirect_flow_waits_for_the_customer_page() {
    let sim = simulator(fast_config()).await;
    let receiver = Receiver::start(Some(0)).await;
    let client = client(&sim);
    let extra = json!({ "customer_name": "Jane Doe", "customer_email": "jane@example.com" });
    let request = payment(
        "redir-1",
        "250700000000",
        2351,
        "1000.00",
        "RWF",
        "RW",
        Some(&receiver.url),
        Some(extra),
    );
    let response = client.payment_c2b(typed(request)).await.expect("accepted");
    assert_eq!(response.status.code(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = client.status("redir-1").await.unwrap();
    assert_eq!(status.status.code(), 1, "waits for the customer");
    let link = status
        .extra
        .and_then(|e| e.customer_redirect)
        .expect("customer_redirect");
    assert_eq!(
        link,
        format!("{}/_sim/redirect/{DEMO_PUBLIC_ID}/redir-1", sim.base_url())
    );
    assert_eq!(receiver.count(), 0);
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("redir-1"));
    assert_eq!(client.status("redir-1").await.unwrap().status.code(), 2);
    eventually("the callback", || receiver.count() >= 1).await;
    assert_eq!(
        receiver.all()[0].callback.as_ref().unwrap().status.code(),
        2
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bank_transfer_answers_carry_bank_details() {
    let sim = simulator(fast_config()).await;
    let client = client(&sim);
    let request = payment(
        "bank-1",
        "2348000000000",
        2311,
        "100.00",
        "NGN",
        "NG",
        None,
        None,
    );
    let response = client.payment_c2b(typed(request)).await.expect("accepted");
    let extra = response.into_inner().extra.expect("extra");
    assert_eq!(
        extra.transfer_amount.map(|a| a.to_string()),
        Some("100".to_owned())
    );
    assert!(
        extra.account_name.is_some() && extra.account_number.is_some() && extra.bank_name.is_some()
    );
    let (status, raw) = post_raw(
        &sim,
        "status",
        "application/json",
        sign_raw(r#"{"merchant_id":"demo-merchant","order_id":"bank-1"}"#),
    )
    .await;
    assert_eq!(status, 200);
    let raw: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(raw["extra"]["transfer_amount"], json!(100));
    sim.shutdown().await;
}

#[tokio::test]
async fn b2c_confirmation_with_confirm_type_1() {
    // Customers ending in 007 get the confirmation round.
    let sim = simulator(fast_config()).await;
    let receiver = Receiver::start(Some(0)).await;
    let client = client(&sim);
    let request: PaymentB2cRequest = typed(payment(
        "b2c-otp-1",
        "254700000007",
        700,
        "100.00",
        "KES",
        "KE",
        Some(&receiver.url),
        None,
    ));
    let first = client.payment_b2c(request.clone()).await.expect("accepted");
    assert_eq!((first.status.code(), first.confirm_type), (0, Some(1)));
    let replay = client.payment_b2c(request.clone()).await.expect("replayed");
    assert_eq!((replay.status.code(), replay.confirm_type), (0, Some(1)));
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(
        client.status("b2c-otp-1").await.unwrap().status.code(),
        0,
        "waits for the confirmation"
    );

    // A different payout under the same order id is still a conflict.
    let mut other = request.clone();
    other.amount = Amount::from_minor(20000);
    let err = client.confirm_payment_b2c(other, "1234").await.unwrap_err();
    assert_eq!(err.gateway_code(), Some(10409));

    let confirmed = client
        .confirm_payment_b2c(request, "1234")
        .await
        .expect("confirmed");
    assert_eq!(
        (confirmed.status.code(), confirmed.confirm_type),
        (1, Some(0))
    );
    eventually("the callback", || receiver.count() >= 1).await;
    let callback = receiver.all()[0].callback.clone().unwrap();
    assert_eq!(
        (callback.operation_type.code(), callback.status.code()),
        (16, 2)
    );
    assert_eq!(sim.state().store().transaction_count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn payouts_follow_the_b2c_flow_not_the_c2b_one() {
    // 9209 takes payments with an OTP, but its payouts are standard.
    let sim = simulator(fast_config()).await;
    let client = client(&sim);
    let request: PaymentB2cRequest = typed(payment(
        "b2c-9209",
        "22670000000",
        9209,
        "1000.00",
        "XOF",
        "BF",
        None,
        None,
    ));
    let first = client.payment_b2c(request).await.expect("accepted");
    assert_eq!((first.status.code(), first.confirm_type), (1, Some(0)));
    let done = client
        .wait_for_final_status("b2c-9209", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(done.status.code(), 2);
    sim.shutdown().await;
}
