//! The request constraints of the specs, enforced on the bodies merchants
//! send: `null` only where the spec marks a schema `nullable`, `type`,
//! `minLength` / `maxLength` (in characters, as JSON Schema counts them),
//! `minimum` / `maximum`, `enum`, `format: uri` and `oneOf` / `anyOf` (one
//! alternative must fit) on every value the request schema reaches through
//! `properties`, `items` and `allOf`. `pattern` is left to the typed
//! decoding and the provider rules, which answer it with their own codes.
//!
//! The typed decoding (the generated request types) already refuses wrong
//! JSON types, but an `Option<String>` reads `null` as "absent" and the
//! generated types carry no lengths or, for open enums, no closed value
//! list. This check reads the constraints from the spec files themselves
//! (compiled in), so the simulator and `spec/` cannot drift apart. It runs
//! on requests only: answers the clients read stay liberal.
//!
//! The walk uses an explicit stack, so the request's nesting (already
//! bounded by serde_json's recursion limit) never deepens the call stack,
//! and `$ref` chains are followed at most [`MAX_REF_HOPS`] times.

use std::fmt;
use std::sync::LazyLock;

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// The gateway spec, as the simulator was built with it.
static GATEWAY_SPEC: LazyLock<Option<Yaml>> =
    LazyLock::new(|| serde_yaml::from_str(super::specs::GATEWAY_OPENAPI).ok());

/// The HUB2 spec, as the simulator was built with it.
static HUB2_SPEC: LazyLock<Option<Yaml>> =
    LazyLock::new(|| serde_yaml::from_str(super::specs::HUB2_OPENAPI).ok());

/// How many `$ref`s in a row are followed before a schema is given up on
/// (the generator refuses specs with longer chains).
const MAX_REF_HOPS: usize = 64;

/// Which API a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// The Payment API Gateway (`spec/gateway/openapi.yaml`).
    Gateway,
    /// HUB2 (`spec/hub2/openapi.yaml`).
    Hub2,
}

/// A request value that breaks a constraint of its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The JSON path of the value (`extra.operator_otp`, `items[2].amount`).
    pub(crate) path: String,
    /// The rule it breaks, as a sentence fragment.
    pub(crate) rule: String,
}

impl Violation {
    /// The top-level property the value sits under (`extra` for
    /// `extra.operator_otp`).
    pub(crate) fn field(&self) -> &str {
        self.path.split(['.', '[']).next().unwrap_or(&self.path)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.rule)
    }
}

/// The component schema named after the Rust type `T`
/// (`paygate::gateway::models::PaymentC2bRequest` → `PaymentC2bRequest`):
/// the generated request types carry their schema's name.
pub(crate) fn schema_name_of<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Checks a request body of the component schema `schema` of `api`.
/// A body that is not JSON, or a schema the spec does not have, passes:
/// the typed decoding reports the former, and the latter is caught by
/// this module's tests.
pub(crate) fn check(api: Api, schema: &str, body: &[u8]) -> Result<(), Violation> {
    let Ok(value) = serde_json::from_slice::<Json>(body) else {
        return Ok(());
    };
    check_value(api, schema, &value)
}

/// [`check`] for a parsed body.
pub(crate) fn check_value(api: Api, schema: &str, value: &Json) -> Result<(), Violation> {
    let spec = match api {
        Api::Gateway => &*GATEWAY_SPEC,
        Api::Hub2 => &*HUB2_SPEC,
    };
    let Some(spec) = spec.as_ref() else {
        return Ok(());
    };
    let Some(root) = component(spec, schema) else {
        return Ok(());
    };
    let mut stack: Vec<(&Json, &Yaml, String)> = vec![(value, root, String::new())];
    while let Some((value, schema, path)) = stack.pop() {
        let Some(schema) = resolve(spec, schema) else {
            continue;
        };
        check_one(spec, value, schema, &path)?;
        match value {
            Json::Object(members) => {
                let properties = &schema["properties"];
                for (key, member) in members {
                    if let Some(sub) = properties.get(key.as_str()) {
                        let sub_path = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        stack.push((member, sub, sub_path));
                    }
                }
            }
            Json::Array(items) => {
                if let Some(sub) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        stack.push((item, sub, format!("{path}[{i}]")));
                    }
                }
            }
            _ => {}
        }
        // `allOf`: every part applies to the same value.
        if let Some(parts) = schema.get("allOf").and_then(Yaml::as_sequence) {
            for part in parts {
                stack.push((value, part, path.clone()));
            }
        }
    }
    Ok(())
}

/// How deep `oneOf` alternatives that are themselves `oneOf`s are followed
/// (the specs nest none; a bound all the same, since this recurses).
const MAX_ALTERNATIVE_DEPTH: usize = 4;

/// The constraints of one schema on one value (not its members).
fn check_one(spec: &Yaml, value: &Json, schema: &Yaml, path: &str) -> Result<(), Violation> {
    check_one_at(spec, value, schema, path, 0)
}

/// [`check_one`], `depth` alternatives down.
fn check_one_at(
    spec: &Yaml,
    value: &Json,
    schema: &Yaml,
    path: &str,
    depth: usize,
) -> Result<(), Violation> {
    let violation = |rule: String| Violation {
        path: if path.is_empty() {
            "request".to_owned()
        } else {
            path.to_owned()
        },
        rule,
    };
    if matches!(value, Json::Null) {
        if admits_null(spec, schema) {
            return Ok(());
        }
        return Err(violation(
            "null is not allowed: the spec does not mark this field nullable; leave it out instead"
                .to_owned(),
        ));
    }
    // `oneOf` / `anyOf`: at least one alternative must take the value
    // (each alternative checked on its own level: the specs' alternatives
    // are scalars).
    for key in ["oneOf", "anyOf"] {
        if let Some(alternatives) = schema.get(key).and_then(Yaml::as_sequence) {
            if depth >= MAX_ALTERNATIVE_DEPTH {
                return Ok(());
            }
            let mut reasons = Vec::new();
            for alternative in alternatives {
                let Some(alternative) = resolve(spec, alternative) else {
                    return Ok(());
                };
                match check_one_at(spec, value, alternative, path, depth + 1) {
                    Ok(()) => return Ok(()),
                    Err(v) => reasons.push(v.rule),
                }
            }
            return Err(violation(format!(
                "fits none of the spec's {} alternatives: {}",
                reasons.len(),
                reasons.join("; ")
            )));
        }
    }
    if let Some(ty) = schema.get("type").and_then(Yaml::as_str) {
        let fits = match ty {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => true,
        };
        if !fits {
            return Err(violation(format!(
                "{} is not of the spec's type {ty}",
                json_type(value)
            )));
        }
    }
    match value {
        Json::String(text) => {
            let chars = text.chars().count();
            if let Some(max) = schema.get("maxLength").and_then(Yaml::as_u64) {
                if chars as u64 > max {
                    return Err(violation(format!(
                        "is {chars} characters long, more than maxLength {max}"
                    )));
                }
            }
            if let Some(min) = schema.get("minLength").and_then(Yaml::as_u64) {
                if (chars as u64) < min {
                    return Err(violation(format!(
                        "is {chars} characters long, less than minLength {min}"
                    )));
                }
            }
            // `format: uri`: an absolute URI, read with the WHATWG parser
            // the simulator's own HTTP client uses.
            if schema.get("format").and_then(Yaml::as_str) == Some("uri")
                && reqwest::Url::parse(text).is_err()
            {
                return Err(violation(format!(
                    "{value} is not an absolute URI (format uri)"
                )));
            }
            check_enum(schema, value, violation)
        }
        Json::Number(number) => {
            check_bounds(schema, number).map_err(&violation)?;
            check_enum(schema, value, violation)
        }
        _ => Ok(()),
    }
}

/// The JSON type of a value, for messages.
fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number with a fraction or exponent",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `minimum` / `maximum` (and OpenAPI 3.0's boolean `exclusiveMinimum` /
/// `exclusiveMaximum`), compared exactly for integers (a bound such as
/// 999 999 999 999 999 999 is not representable as an `f64`).
fn check_bounds(schema: &Yaml, number: &serde_json::Number) -> Result<(), String> {
    enum Exact {
        Int(i128),
        Float(f64),
    }
    fn of_json(n: &serde_json::Number) -> Option<Exact> {
        n.as_i64()
            .map(|v| Exact::Int(i128::from(v)))
            .or_else(|| n.as_u64().map(|v| Exact::Int(i128::from(v))))
            .or_else(|| n.as_f64().map(Exact::Float))
    }
    fn of_yaml(v: &Yaml) -> Option<Exact> {
        v.as_i64()
            .map(|v| Exact::Int(i128::from(v)))
            .or_else(|| v.as_u64().map(|v| Exact::Int(i128::from(v))))
            .or_else(|| v.as_f64().map(Exact::Float))
    }
    /// `a` against `b`: exact for two integers, else as `f64`.
    fn compare(a: &Exact, b: &Exact) -> Option<std::cmp::Ordering> {
        let float = |e: &Exact| match e {
            Exact::Int(i) => *i as f64,
            Exact::Float(f) => *f,
        };
        match (a, b) {
            (Exact::Int(x), Exact::Int(y)) => Some(x.cmp(y)),
            _ => float(a).partial_cmp(&float(b)),
        }
    }
    let Some(value) = of_json(number) else {
        return Ok(());
    };
    let exclusive = |key: &str| schema.get(key).and_then(Yaml::as_bool) == Some(true);
    if let Some(max) = schema.get("maximum").and_then(of_yaml) {
        let over = match compare(&value, &max) {
            Some(std::cmp::Ordering::Greater) => true,
            Some(std::cmp::Ordering::Equal) => exclusive("exclusiveMaximum"),
            _ => false,
        };
        if over {
            return Err(format!(
                "{number} is above the spec's maximum {}",
                yaml_number(&schema["maximum"])
            ));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(of_yaml) {
        let under = match compare(&value, &min) {
            Some(std::cmp::Ordering::Less) => true,
            Some(std::cmp::Ordering::Equal) => exclusive("exclusiveMinimum"),
            _ => false,
        };
        if under {
            return Err(format!(
                "{number} is below the spec's minimum {}",
                yaml_number(&schema["minimum"])
            ));
        }
    }
    Ok(())
}

/// A YAML number as written (`999999999999999999`, not `1e18`).
fn yaml_number(v: &Yaml) -> String {
    match v {
        Yaml::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// `enum`: the value must be one of the listed ones.
fn check_enum(
    schema: &Yaml,
    value: &Json,
    violation: impl Fn(String) -> Violation,
) -> Result<(), Violation> {
    let Some(listed) = schema.get("enum").and_then(Yaml::as_sequence) else {
        return Ok(());
    };
    let matches = |v: &Yaml| match (v, value) {
        (Yaml::String(a), Json::String(b)) => a == b,
        (Yaml::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        _ => false,
    };
    if listed.iter().any(matches) {
        return Ok(());
    }
    let names: Vec<String> = listed
        .iter()
        .filter_map(|v| match v {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    Err(violation(format!(
        "{value} is not in the spec's enum [{}]",
        names.join(", ")
    )))
}

/// Whether `null` is a valid value of `schema`: `nullable: true`, a
/// `null` type, or a `oneOf`/`anyOf` alternative that admits it.
fn admits_null(spec: &Yaml, schema: &Yaml) -> bool {
    let direct = |s: &Yaml| {
        s.get("nullable").and_then(Yaml::as_bool) == Some(true)
            || s.get("type").and_then(Yaml::as_str) == Some("null")
    };
    if direct(schema) {
        return true;
    }
    ["oneOf", "anyOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Yaml::as_sequence)
            .is_some_and(|alternatives| {
                alternatives
                    .iter()
                    .filter_map(|alt| resolve(spec, alt))
                    .any(direct)
            })
    })
}

/// `#/components/schemas/<name>`.
fn component<'a>(spec: &'a Yaml, name: &str) -> Option<&'a Yaml> {
    spec.get("components")?.get("schemas")?.get(name)
}

/// Follows `$ref`s to the schema they name; `None` for a reference
/// outside `#/components/schemas/` or a chain longer than
/// [`MAX_REF_HOPS`].
fn resolve<'a>(spec: &'a Yaml, mut schema: &'a Yaml) -> Option<&'a Yaml> {
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = schema.get("$ref").and_then(Yaml::as_str) else {
            return Some(schema);
        };
        let name = reference.strip_prefix("#/components/schemas/")?;
        schema = component(spec, name)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every request type the simulator decodes names a schema of its
    /// spec (otherwise its constraints would silently not be checked).
    #[test]
    fn every_request_type_names_a_schema_of_its_spec() {
        use paygate::gateway as gw;
        use paygate::hub2::models as h2;
        let gateway = [
            schema_name_of::<gw::PaymentC2bRequest>(),
            schema_name_of::<gw::PaymentB2cRequest>(),
            schema_name_of::<gw::StatusRequest>(),
            schema_name_of::<gw::DepositRequest>(),
            schema_name_of::<gw::WithdrawalRequest>(),
            schema_name_of::<gw::BanksRequest>(),
            schema_name_of::<gw::BulkB2cRequest>(),
            schema_name_of::<gw::BulkDetailsRequest>(),
            schema_name_of::<gw::BulkCancelRequest>(),
        ];
        let hub2 = [
            schema_name_of::<h2::CreatePaymentIntentRequest>(),
            schema_name_of::<h2::AttemptPaymentRequest>(),
            schema_name_of::<h2::AuthenticatePaymentRequest>(),
            schema_name_of::<h2::CreateDelegatedPaymentRequest>(),
            schema_name_of::<h2::CreateTransferRequest>(),
            schema_name_of::<h2::CreateWebhookRequest>(),
        ];
        for (api, spec, names) in [
            (Api::Gateway, &*GATEWAY_SPEC, &gateway[..]),
            (Api::Hub2, &*HUB2_SPEC, &hub2[..]),
        ] {
            let spec = spec.as_ref().expect("the spec parses");
            for name in names {
                assert!(component(spec, name).is_some(), "{api:?}: {name}");
            }
        }
    }

    #[test]
    fn null_lengths_and_enums_are_checked_along_the_path() {
        let base = || {
            json!({"merchant_id": "m", "customer_id": "1", "order_id": "o-1", "amount": "1.00",
                   "currency": "KES", "provider_id": 1, "signature": "00"})
        };
        assert_eq!(
            check_value(Api::Gateway, "PaymentB2cRequest", &base()),
            Ok(())
        );
        let mut otp = base();
        otp["extra"] = json!({"operator_otp": null});
        let err = check_value(Api::Gateway, "PaymentB2cRequest", &otp).unwrap_err();
        assert_eq!(err.path, "extra.operator_otp");
        assert_eq!(err.field(), "extra");
        assert!(err.rule.contains("null"), "{err}");
        let mut long = base();
        long["customer_user_id"] = json!("é".repeat(201));
        let err = check_value(Api::Gateway, "PaymentB2cRequest", &long).unwrap_err();
        assert!(err.to_string().contains("maxLength 200"), "{err}");
        long["customer_user_id"] = json!("é".repeat(200));
        assert_eq!(
            check_value(Api::Gateway, "PaymentB2cRequest", &long),
            Ok(())
        );
        let mut currency = base();
        currency["currency"] = json!("EUR");
        let err = check_value(Api::Gateway, "PaymentB2cRequest", &currency).unwrap_err();
        assert!(err.to_string().contains("enum"), "{err}");
        let mut empty = base();
        empty["order_id"] = json!("");
        let err = check_value(Api::Gateway, "PaymentB2cRequest", &empty).unwrap_err();
        assert!(err.to_string().contains("minLength 1"), "{err}");
        let mut extra = base();
        extra["extra"] = json!([null, null]);
        let err = check_value(Api::Gateway, "PaymentB2cRequest", &extra).unwrap_err();
        assert!(err.to_string().contains("type object"), "{err}");
        let mut provider = base();
        provider["provider_id"] = json!(1_000_000_000_000_000_000_u64);
        let err = check_value(Api::Gateway, "PaymentB2cRequest", &provider).unwrap_err();
        assert!(err.to_string().contains("999999999999999999"), "{err}");
        provider["provider_id"] = json!(999_999_999_999_999_999_u64);
        assert_eq!(
            check_value(Api::Gateway, "PaymentB2cRequest", &provider),
            Ok(())
        );
        provider["provider_id"] = json!("1003");
        assert_eq!(
            check_value(Api::Gateway, "PaymentB2cRequest", &provider),
            Ok(())
        );
        // Not JSON, or not a schema: left to the typed decoding.
        assert_eq!(check(Api::Gateway, "PaymentB2cRequest", b"{"), Ok(()));
        assert_eq!(
            check_value(Api::Gateway, "NoSuchSchema", &json!(null)),
            Ok(())
        );
    }
}
