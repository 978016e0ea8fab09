//! Gateway money arithmetic under hostile amounts (issue 14, defect 3, the
//! gateway side): amounts are minor units in a `u64`, read with checked
//! arithmetic; an amount past `u64` is refused naming the field; a bulk
//! payout whose items add up past `u64` is served without any sum
//! wrapping (the simulator never adds a bulk's amounts), each item
//! keeping its exact amount.

mod simulator_support;

use paygate_conformance::simulator::DEMO_MERCHANT_ID;
use serde_json::Value;
use simulator_support::*;

/// 10^17 XOF: 10^19 minor units, more than half of `u64::MAX`.
const HUGE: &str = "100000000000000000.00";

fn bulk_item(order_id: &str) -> String {
    // Provider 999999 is in no table: a standard flow with no maximum.
    format!(
        "{{\"order_id\":\"{order_id}\",\"customer_id\":\"2250700000100\",\
         \"amount\":\"{HUGE}\",\"country\":\"CI\",\"provider_id\":999999}}"
    )
}

#[tokio::test]
async fn a_bulk_whose_total_overflows_u64_never_wraps() {
    let sim = simulator(fast_config()).await;
    let items: Vec<String> = (1..=3).map(|n| bulk_item(&format!("huge-{n}"))).collect();
    let body = sign_raw(&format!(
        "{{\"merchant_id\":\"{DEMO_MERCHANT_ID}\",\"bulk_id\":\"huge-bulk\",\"currency\":\"XOF\",\
         \"items\":[{}]}}",
        items.join(",")
    ));
    let (status, answer) = post_raw(&sim, "payment_b2c/bulk", "application/json", body).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        status == 200 || (400..500).contains(&status),
        "HTTP {status}: {text}"
    );
    if status != 200 {
        // Refused: the refusal names the amount.
        assert!(text.contains("amount"), "{text}");
        return;
    }
    let details = sign_raw(&format!(
        "{{\"merchant_id\":\"{DEMO_MERCHANT_ID}\",\"bulk_id\":\"huge-bulk\",\"page\":1,\"page_size\":10}}"
    ));
    let (status, answer) = post_raw(
        &sim,
        "payment_b2c/bulk/details",
        "application/json",
        details,
    )
    .await;
    let value: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    assert_eq!(status, 200, "{value}");
    assert_eq!(value["total"], 3, "{value}");
    let amounts: Vec<String> = value["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|item| item["amount"].to_string().trim_matches('"').to_owned())
        .collect();
    assert_eq!(amounts.len(), 3, "{value}");
    for amount in amounts {
        assert!(
            amount == HUGE || amount == HUGE.trim_end_matches(".00"),
            "an item's amount changed: {amount} ({value})"
        );
    }
}

#[tokio::test]
async fn an_amount_past_u64_is_refused_naming_the_field() {
    let sim = simulator(fast_config()).await;
    // u64::MAX minor units is 184467440737095516.15; one more cent.
    let body = sign_raw(&format!(
        "{{\"merchant_id\":\"{DEMO_MERCHANT_ID}\",\"customer_id\":\"2250700000100\",\
         \"order_id\":\"past-u64\",\"amount\":\"184467440737095516.16\",\"currency\":\"XOF\",\
         \"country\":\"CI\",\"provider_id\":999999}}"
    ));
    let (status, answer) = post_raw(&sim, "payment_c2b", "application/json", body).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!((400..500).contains(&status), "HTTP {status}: {text}");
    assert!(text.contains("amount"), "{text}");
}
