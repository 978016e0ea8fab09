//! The callbacks the merchant suite sends: built field by field in the
//! spec's order (`PaymentCallback`, `PosCallback`), signed over the raw
//! bytes as the gateway signs them, and tampered with one fault at a time.

use paygate::gateway::{OperationType, Status};
use paygate::signing::{sign_json, SigningKey};
use serde_json::{json, Value};

/// One callback body before it is signed: its members in the order sent.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Keys and their values as JSON text (kept as text so that `100.10`
    /// goes out as written).
    members: Vec<(String, String)>,
}

/// What a valid callback carries beyond the plain fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The spec's fields, nothing more.
    Plain,
    /// A nested `extra` object (two levels).
    NestedExtra,
    /// `amount` as the float `100.10` (PHP renders it `100.1`).
    FloatAmount,
    /// Non-ASCII text, raw and `\u`-escaped.
    Unicode,
    /// The same fields in an unusual order (signed in that order).
    UnusualOrder,
}

impl Shape {
    /// Every shape.
    pub const ALL: [Shape; 5] = [
        Shape::Plain,
        Shape::NestedExtra,
        Shape::FloatAmount,
        Shape::Unicode,
        Shape::UnusualOrder,
    ];

    /// Its name in case ids.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Plain => "plain",
            Shape::NestedExtra => "nested_extra",
            Shape::FloatAmount => "float_amount",
            Shape::Unicode => "unicode",
            Shape::UnusualOrder => "unusual_key_order",
        }
    }
}

/// A callback for `order_id` of `operation` in `status`, shaped.
pub fn draft(operation: OperationType, status: Status, order_id: &str, shape: Shape) -> Draft {
    let pos = matches!(
        operation,
        OperationType::Deposit | OperationType::Withdrawal
    );
    let amount = match shape {
        Shape::FloatAmount => "100.10".to_owned(),
        _ => "1000".to_owned(),
    };
    let members: Vec<(String, Value)> = vec![
        ("merchant_id".into(), json!("merchant-under-test")),
        ("operation_type".into(), json!(operation.code())),
        ("customer_id".into(), json!("2250705145655")),
    ];
    let mut members: Vec<(String, String)> = members
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    members.push(("amount".into(), amount.clone()));
    if !pos {
        members.push(("init_amount".into(), amount));
    }
    let mut rest: Vec<(String, Value)> = Vec::new();
    rest.extend([
        ("order_id".to_owned(), json!(order_id)),
        ("transaction_id".to_owned(), json!(format!("TX{order_id}"))),
        ("transaction_ref".to_owned(), json!("MP.33234.342.CP33")),
        ("status".to_owned(), json!(status.code())),
        ("provider_id".to_owned(), json!(2303)),
        ("destination_id".to_owned(), json!("")),
        ("result".to_owned(), json!({"code": 0, "message": "OK"})),
    ]);
    if !pos {
        rest.push((
            "provider_result".into(),
            json!({"code": 0, "message": "Success"}),
        ));
    }
    rest.extend([
        ("service_id".to_owned(), json!(1)),
        ("service_version".to_owned(), json!("1.03/1.14")),
        (
            "service_date_time".to_owned(),
            json!("2026-12-05 10:00:00.000000"),
        ),
    ]);
    match shape {
        Shape::NestedExtra => rest.push((
            "extra".into(),
            json!({"customer": {"name": "Adjoa Kouassi", "msisdn": "2250705145655"}, "channel": "ussd"}),
        )),
        Shape::Unicode | Shape::UnusualOrder | Shape::Plain | Shape::FloatAmount => {}
    }
    members.extend(rest.into_iter().map(|(k, v)| (k, v.to_string())));
    if shape == Shape::Unicode {
        // Raw UTF-8 and `\u` escapes (one a surrogate pair) in one object.
        members.push((
            "extra".into(),
            r#"{"customer_name":"Adjoa Kouassi – Côte d’Ivoire ✓","note":"\u00e9t\u00e9 \ud83d\ude00"}"#.into(),
        ));
    }
    if shape == Shape::UnusualOrder {
        members.reverse();
    }
    Draft { members }
}

impl Draft {
    /// The members as sent, without a signature.
    fn text(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Value::String(key.clone()).to_string());
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        out
    }

    /// The body with its signature, computed by `key` over these bytes.
    pub fn signed(&self, key: &SigningKey) -> Result<String, String> {
        let text = self.text();
        let signature = sign_json(key, text.as_bytes()).map_err(|e| e.to_string())?;
        Ok(with_signature(&text, &signature.to_string()))
    }
}

/// `text` (an object) with `"signature": signature` as its last member.
fn with_signature(text: &str, signature: &str) -> String {
    let body = text.strip_suffix('}').unwrap_or(text);
    let separator = if body.ends_with('{') { "" } else { "," };
    format!("{body}{separator}\"signature\":\"{signature}\"}}")
}

/// One way a callback is not the gateway's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// One byte of a value changed after signing.
    OneByte,
    /// A key renamed after signing.
    KeyRenamed,
    /// Two members swapped after signing (the signature kept).
    KeysReordered,
    /// Signed with another secret.
    OtherSecret,
    /// The right signature in upper-case hex.
    UpperCaseHex,
    /// No `signature` member.
    MissingSignature,
    /// A JSON array, not an object.
    NotAnObject,
}

impl Tamper {
    /// Every tampering.
    pub const ALL: [Tamper; 7] = [
        Tamper::OneByte,
        Tamper::KeyRenamed,
        Tamper::KeysReordered,
        Tamper::OtherSecret,
        Tamper::UpperCaseHex,
        Tamper::MissingSignature,
        Tamper::NotAnObject,
    ];

    /// Its name in case ids.
    pub fn name(self) -> &'static str {
        match self {
            Tamper::OneByte => "one_byte_of_a_value",
            Tamper::KeyRenamed => "key_renamed",
            Tamper::KeysReordered => "keys_reordered_signature_kept",
            Tamper::OtherSecret => "signed_with_another_secret",
            Tamper::UpperCaseHex => "upper_case_hex_signature",
            Tamper::MissingSignature => "missing_signature",
            Tamper::NotAnObject => "not_an_object",
        }
    }

    /// The tampered body of `draft`.
    pub fn apply(self, draft: &Draft, key: &SigningKey) -> Result<String, String> {
        let signed = draft.signed(key)?;
        let signature = sign_json(key, draft.text().as_bytes())
            .map_err(|e| e.to_string())?
            .to_string();
        Ok(match self {
            Tamper::OneByte => signed.replacen("\"amount\":1000", "\"amount\":1001", 1),
            Tamper::KeyRenamed => signed.replacen("\"customer_id\"", "\"customer_iD\"", 1),
            Tamper::KeysReordered => {
                let mut swapped = draft.clone();
                swapped.members.swap(0, 2);
                with_signature(&swapped.text(), &signature)
            }
            Tamper::OtherSecret => draft.signed(&SigningKey::new(
                &paygate::signing::SecretKey::new("not-the-merchants-secret"),
            ))?,
            Tamper::UpperCaseHex => with_signature(&draft.text(), &signature.to_ascii_uppercase()),
            Tamper::MissingSignature => draft.text(),
            Tamper::NotAnObject => format!("[{signed}]"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paygate::signing::{verify_json, SecretKey};

    fn key() -> SigningKey {
        SigningKey::new(&SecretKey::new("suite-secret"))
    }

    #[test]
    fn every_shape_verifies_and_every_tampering_does_not() {
        for shape in Shape::ALL {
            let d = draft(OperationType::PaymentC2b, Status::Success, "o-1", shape);
            let body = d.signed(&key()).unwrap();
            assert!(
                verify_json(&key(), body.as_bytes()).is_ok(),
                "{shape:?}: {body}"
            );
            let _: Value = serde_json::from_str(&body).unwrap();
        }
        let d = draft(
            OperationType::PaymentC2b,
            Status::Success,
            "o-1",
            Shape::Plain,
        );
        for tamper in Tamper::ALL {
            let body = tamper.apply(&d, &key()).unwrap();
            assert_ne!(
                body,
                d.signed(&key()).unwrap(),
                "{tamper:?} changed nothing"
            );
            assert!(
                verify_json(&key(), body.as_bytes()).is_err(),
                "{tamper:?}: {body}"
            );
        }
    }

    #[test]
    fn a_float_amount_is_sent_as_written() {
        let d = draft(
            OperationType::PaymentC2b,
            Status::Success,
            "o-1",
            Shape::FloatAmount,
        );
        assert!(d.signed(&key()).unwrap().contains("\"amount\":100.10"));
    }
}
