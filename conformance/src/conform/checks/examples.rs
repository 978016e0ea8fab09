//! The documentation's request examples, sent as printed.

use paygate::gateway::client::validate_payment;
use paygate::gateway::rules::Direction;
use paygate::gateway::{
    PaymentB2cRequest, PaymentC2bRequest, PaymentResponse, StatusRequest, WithdrawalRequest,
};
use paygate::signing::sign_json;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::super::cases::PaymentSpec;
use super::super::examples::{find, SeedExample};
use super::super::target::Ctx;
use super::check::{ensure, Check};
use super::support::*;

fn parse<T: DeserializeOwned>(example: &SeedExample, body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| {
        format!(
            "{}: the example does not parse as the typed request: {e}",
            example.id
        )
    })
}

/// The value of a top-level string or number field of compact JSON.
fn field(body: &str, name: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    match v.get(name)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Puts `value` in place of the printed value of the string field `name`.
fn replace_field(body: &str, name: &str, value: &str) -> Result<String, String> {
    let Some(old) = field(body, name) else {
        return Ok(body.to_owned());
    };
    let from = format!("\"{name}\":{}", Value::String(old));
    let to = format!("\"{name}\":{}", Value::String(value.to_owned()));
    replace_once(body, &from, &to)
}

/// The example with this run's merchant id and a fresh order id, signed
/// again with the merchant's key (the signature keeps its printed place).
fn prepared(ctx: &Ctx, example: &SeedExample, order: &str) -> Result<Vec<u8>, String> {
    let body = replace_field(&example.body, "merchant_id", &ctx.merchant_id)?;
    let body = replace_field(&body, "order_id", order)?;
    let signature =
        sign_json(&ctx.key, body.as_bytes()).map_err(|e| format!("cannot sign: {e}"))?;
    let signed = if field(&body, "signature").is_some() {
        replace_field(&body, "signature", &signature.to_string())?
    } else {
        let open = body.strip_suffix('}').ok_or("not an object")?;
        format!("{open},\"signature\":\"{signature}\"}}")
    };
    Ok(signed.into_bytes())
}

/// The client's pre-flight refuses nothing the example sends (`body`: the
/// example as it will be sent).
fn preflight(ctx: &Ctx, example: &SeedExample, body: &[u8]) -> Check {
    let brand = &ctx.client.config().brand;
    let found = match example.operation.as_str() {
        "payment_c2b" => validate_payment(
            brand,
            Direction::C2b,
            &parse::<PaymentC2bRequest>(example, body)?,
        ),
        "payment_b2c" => {
            let b2c: PaymentB2cRequest = parse(example, body)?;
            let as_c2b: PaymentC2bRequest = serde_json::to_value(&b2c)
                .and_then(serde_json::from_value)
                .map_err(|e| e.to_string())?;
            validate_payment(brand, Direction::B2c, &as_c2b)
        }
        "status" => {
            parse::<StatusRequest>(example, body)?;
            return Ok(());
        }
        "withdrawal" => {
            parse::<WithdrawalRequest>(example, body)?;
            return Ok(());
        }
        other => {
            return Err(format!(
                "{}: no request type for operation {other}",
                example.id
            ))
        }
    };
    ensure!(
        found.refusals.is_empty(),
        "the client's pre-flight refuses the documentation's example: {}",
        found
            .refusals
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(())
}

/// A status example asks about an order that must exist: create it with
/// the example's customer (a payment to the Simulator provider, or to the
/// OTP provider of the example's country when it carries an OTP).
async fn create_order(ctx: &Ctx, example: &SeedExample, order: &str) -> Check {
    let customer = field(&example.body, "customer_id").unwrap_or_else(|| "2250000000000".into());
    let with_otp = example.body.contains("\"otp\"");
    let provider = if with_otp { 9197 } else { 14 };
    let payment = PaymentSpec {
        direction: Direction::C2b,
        provider_id: provider,
        country: Some("CI"),
        currency: "XOF",
        amount: paygate::money::Amount::from_minor(110_000),
        customer_id: customer,
        extras: Vec::new(),
    };
    submit(ctx, &payment, order).await.map(|_| ())
}

/// Sends the example as printed; it must be accepted with the documented
/// response shape.
pub(crate) async fn seed_example(ctx: &Ctx, id: &str) -> Check {
    let example = find(id)?;
    let order = ctx.order_id();
    let body = prepared(ctx, &example, &order)?;
    preflight(ctx, &example, &body)?;
    if example.operation == "status" {
        create_order(ctx, &example, &order).await?;
    }
    let answer = ctx.post_raw(&ctx.url(&example.operation), body).await?;
    ensure!(
        answer.status == 200 && answer.code() == Some(0),
        "the documentation's example was refused: {}",
        answer.describe()
    );
    let response: PaymentResponse = serde_json::from_slice(&answer.body).map_err(|e| {
        format!(
            "the answer is not a PaymentResponse: {e}: {}",
            answer.describe()
        )
    })?;
    ensure!(
        response.order_id == order,
        "the answer is about order {:?}, not {order:?}",
        response.order_id
    );
    Ok(())
}
