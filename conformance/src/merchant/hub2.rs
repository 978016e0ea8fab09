//! The merchant suite's HUB2 part: deliveries to the merchant's webhook
//! endpoint, signed as HUB2 signs them (`Hub2-Signature: s1=<hex>` or
//! `s1=<hex>,s0=<hex>`, HMAC-SHA256 of the raw body; `s0` with the previous
//! secret for 24 hours after a rotation, never after: a secret rotated out
//! more than 24 hours ago signs nothing the merchant may accept).

use paygate::hub2::models::WebhookEventType;
use paygate::hub2::webhook::{sign_webhook, WebhookSecret, SIGNATURE_HEADER};
use serde_json::json;

/// The merchant's HUB2 webhook endpoint and the secrets it was given.
#[derive(Clone, Debug)]
pub struct Hub2WebhookTarget {
    /// Where deliveries go.
    pub url: String,
    /// The webhook's current secret.
    pub current: WebhookSecret,
    /// The secret before the last rotation, if one happened less than 24
    /// hours ago (the merchant still accepts `s0` signed with it).
    pub previous: Option<WebhookSecret>,
    /// A secret rotated out more than 24 hours ago: HUB2 no longer signs
    /// with it, so the merchant must refuse an `s0` made with it.
    pub expired: Option<WebhookSecret>,
}

/// What a HUB2 case sends.
#[derive(Clone, Debug)]
pub enum Hub2Delivery {
    /// An event of this type, `s1` only: 200.
    Event(WebhookEventType),
    /// `s1` right and `s0` from another secret (a rotation seen from the
    /// new side): 200.
    RotationBothSigned,
    /// `s1` wrong, `s0` right with the previous secret, inside the grace
    /// period: 200 (needs the previous secret).
    WrongCurrentRightPrevious,
    /// `s1` wrong, `s0` right with a secret rotated out more than 24 hours
    /// ago (past the grace period): not 200 (needs the expired secret).
    WrongCurrentRightExpired,
    /// The same event twice: 200 both times (HUB2 repeats deliveries).
    Repeated,
    /// A body changed after signing: not 200.
    BodyChanged,
    /// No `Hub2-Signature`: not 200.
    MissingHeader,
    /// `s1` of another secret: not 200.
    OtherSecret,
    /// Only `s0`, of a secret the merchant never had: not 200.
    UnknownPreviousOnly,
}

impl Hub2Delivery {
    /// Every case's delivery, named.
    pub fn all() -> Vec<(String, Hub2Delivery)> {
        let mut out: Vec<(String, Hub2Delivery)> = WebhookEventType::ALL
            .iter()
            .map(|t| {
                (
                    format!("event/{}", t.as_str()),
                    Hub2Delivery::Event(t.clone()),
                )
            })
            .collect();
        out.extend([
            (
                "rotation/s1_and_s0".into(),
                Hub2Delivery::RotationBothSigned,
            ),
            (
                "rotation/wrong_s1_right_s0_in_grace".into(),
                Hub2Delivery::WrongCurrentRightPrevious,
            ),
            (
                "rotation/wrong_s1_right_s0_after_grace".into(),
                Hub2Delivery::WrongCurrentRightExpired,
            ),
            ("delivery/repeated_event".into(), Hub2Delivery::Repeated),
            ("tampered/body_changed".into(), Hub2Delivery::BodyChanged),
            (
                "tampered/missing_header".into(),
                Hub2Delivery::MissingHeader,
            ),
            (
                "tampered/s1_of_another_secret".into(),
                Hub2Delivery::OtherSecret,
            ),
            (
                "tampered/s0_only_of_an_unknown_secret".into(),
                Hub2Delivery::UnknownPreviousOnly,
            ),
        ]);
        out
    }

    /// Whether the merchant must answer 200.
    pub fn must_accept(&self) -> bool {
        matches!(
            self,
            Hub2Delivery::Event(_)
                | Hub2Delivery::RotationBothSigned
                | Hub2Delivery::WrongCurrentRightPrevious
                | Hub2Delivery::Repeated
        )
    }

    /// Whether it needs the previous secret.
    pub fn needs_previous(&self) -> bool {
        matches!(self, Hub2Delivery::WrongCurrentRightPrevious)
    }

    /// Whether it needs the expired secret (rotated out over 24 hours ago).
    pub fn needs_expired(&self) -> bool {
        matches!(self, Hub2Delivery::WrongCurrentRightExpired)
    }

    /// The deliveries to make: (body, `Hub2-Signature` or none), in order.
    pub fn requests(
        &self,
        target: &Hub2WebhookTarget,
        event_id: &str,
    ) -> Vec<(String, Option<String>)> {
        let stranger = WebhookSecret::new("a-secret-the-merchant-never-had");
        let kind = match self {
            Hub2Delivery::Event(kind) => kind.clone(),
            _ => WebhookEventType::PaymentSucceeded,
        };
        let body = event_body(&kind, event_id);
        let s1 = |secret: &WebhookSecret, body: &str| {
            format!("s1={}", sign_webhook(secret, body.as_bytes()))
        };
        let signed = s1(&target.current, &body);
        match self {
            Hub2Delivery::Event(_) => vec![(body, Some(signed))],
            Hub2Delivery::Repeated => {
                vec![(body.clone(), Some(signed.clone())), (body, Some(signed))]
            }
            Hub2Delivery::RotationBothSigned => {
                let header = format!("{signed},s0={}", sign_webhook(&stranger, body.as_bytes()));
                vec![(body, Some(header))]
            }
            Hub2Delivery::WrongCurrentRightPrevious => {
                let previous = target.previous.as_ref().unwrap_or(&stranger);
                let header = format!(
                    "{},s0={}",
                    s1(&stranger, &body),
                    sign_webhook(previous, body.as_bytes())
                );
                vec![(body, Some(header))]
            }
            Hub2Delivery::WrongCurrentRightExpired => {
                let expired = target.expired.as_ref().unwrap_or(&stranger);
                let header = format!(
                    "{},s0={}",
                    s1(&stranger, &body),
                    sign_webhook(expired, body.as_bytes())
                );
                vec![(body, Some(header))]
            }
            Hub2Delivery::BodyChanged => {
                vec![(
                    body.replacen("\"amount\":1000", "\"amount\":1001", 1),
                    Some(signed),
                )]
            }
            Hub2Delivery::MissingHeader => vec![(body, None)],
            Hub2Delivery::OtherSecret => {
                let header = s1(&stranger, &body);
                vec![(body, Some(header))]
            }
            Hub2Delivery::UnknownPreviousOnly => {
                let header = format!("s0={}", sign_webhook(&stranger, body.as_bytes()));
                vec![(body, Some(header))]
            }
        }
    }
}

/// A HUB2 event of `kind` with the object its prefix names.
fn event_body(kind: &WebhookEventType, event_id: &str) -> String {
    let name = kind.as_str();
    let (status, extra) = match name.split_once('.') {
        Some(("transfer", what)) => (
            if what == "created" { "created" } else { what },
            json!({"reference": format!("ref-{event_id}"), "description": "Payout"}),
        ),
        Some(("payment", what)) => (
            if what == "created" { "pending" } else { what },
            json!({"intentId": format!("pi_{event_id}")}),
        ),
        _ => (
            match name {
                "payment_intent.created" => "payment_required",
                "payment_intent.action_required" => "action_required",
                "payment_intent.succeeded" => "successful",
                _ => "failed",
            },
            json!({"purchaseReference": format!("order {event_id}"), "customerReference": "customer 1"}),
        ),
    };
    let mut data = json!({
        "id": format!("obj_{event_id}"),
        "createdAt": "2026-12-05T10:00:00.000Z",
        "merchantId": "merchant-under-test",
        "amount": 1000,
        "currency": "XOF",
        "status": status,
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    json!({
        "id": format!("evt_{event_id}"),
        "type": name,
        "createdAt": "2026-12-05T10:00:01.000Z",
        "data": data,
    })
    .to_string()
}

/// The header name, for the checks.
pub const HEADER: &str = SIGNATURE_HEADER;

#[cfg(test)]
mod tests {
    use super::*;
    use paygate::hub2::webhook::{verify_webhook_event, WebhookSecrets};

    #[test]
    fn after_the_grace_period_the_expired_secret_signs_s0_and_nothing_else() {
        let target = Hub2WebhookTarget {
            url: String::new(),
            current: WebhookSecret::new("current"),
            previous: None,
            expired: Some(WebhookSecret::new("expired")),
        };
        let requests = Hub2Delivery::WrongCurrentRightExpired.requests(&target, "e1");
        let [(body, Some(header))] = requests.as_slice() else {
            panic!("{requests:?}");
        };
        let s0 = sign_webhook(&WebhookSecret::new("expired"), body.as_bytes());
        assert!(header.ends_with(&format!(",s0={s0}")), "{header}");
        // Accepted by a merchant that never dropped the expired secret.
        let careless = WebhookSecrets::new(WebhookSecret::new("current"))
            .with_previous(WebhookSecret::new("expired"));
        assert!(verify_webhook_event(&careless, header, body.as_bytes()).is_ok());
    }

    #[test]
    fn accepted_deliveries_verify_with_paygate_and_refused_ones_do_not() {
        let target = Hub2WebhookTarget {
            url: String::new(),
            current: WebhookSecret::new("current"),
            previous: Some(WebhookSecret::new("previous")),
            expired: Some(WebhookSecret::new("expired")),
        };
        let secrets = WebhookSecrets::new(WebhookSecret::new("current"))
            .with_previous(WebhookSecret::new("previous"));
        for (name, delivery) in Hub2Delivery::all() {
            for (body, header) in delivery.requests(&target, "e1") {
                let ok = header
                    .as_deref()
                    .is_some_and(|h| verify_webhook_event(&secrets, h, body.as_bytes()).is_ok());
                assert_eq!(ok, delivery.must_accept(), "{name}: {header:?} {body}");
            }
        }
    }
}
