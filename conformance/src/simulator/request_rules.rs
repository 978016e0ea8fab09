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

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// The gateway spec's schemas, as the simulator was built with it,
/// compiled once ([`Rules`]; the parsed spec is dropped once compiled).
static GATEWAY_RULES: LazyLock<Option<Rules>> =
    LazyLock::new(|| compile_spec(super::specs::GATEWAY_OPENAPI));

/// The HUB2 spec's schemas, compiled once.
static HUB2_RULES: LazyLock<Option<Rules>> =
    LazyLock::new(|| compile_spec(super::specs::HUB2_OPENAPI));

/// A spec's text, parsed and compiled (`None`: it does not parse).
fn compile_spec(text: &str) -> Option<Rules> {
    let spec: Yaml = serde_yaml::from_str(text).ok()?;
    Some(Rules::compile(&spec))
}

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
    let rules = match api {
        Api::Gateway => &*GATEWAY_RULES,
        Api::Hub2 => &*HUB2_RULES,
    };
    match rules.as_ref() {
        Some(rules) => check_with(rules, schema, value),
        None => Ok(()),
    }
}

/// [`check_value`] against one spec's compiled rules.
fn check_with(rules: &Rules, schema: &str, value: &Json) -> Result<(), Violation> {
    let Some(root) = rules.components.get(schema) else {
        return Ok(());
    };
    let mut stack: Vec<(&Json, Option<NodeId>, String)> = vec![(value, *root, String::new())];
    while let Some((value, node, path)) = stack.pop() {
        // A `$ref` that does not resolve: nothing to hold the value to.
        let Some(node) = node.and_then(|id| rules.nodes.get(id)) else {
            continue;
        };
        check_one(rules, value, node, &path)?;
        match value {
            Json::Object(members) => {
                for (key, member) in members {
                    if let Some(sub) = node.properties.get(key.as_str()) {
                        let sub_path = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        stack.push((member, *sub, sub_path));
                    }
                }
            }
            Json::Array(items) => {
                if let Some(sub) = node.items {
                    for (i, item) in items.iter().enumerate() {
                        stack.push((item, sub, format!("{path}[{i}]")));
                    }
                }
            }
            _ => {}
        }
        // `allOf`: every part applies to the same value.
        for part in &node.all_of {
            stack.push((value, *part, path.clone()));
        }
    }
    Ok(())
}

/// Where a compiled schema is in [`Rules::nodes`].
type NodeId = usize;

/// A spec's component schemas, each read once into a [`Node`]: a request
/// is checked against these without looking a key up in the YAML tree
/// (a walk of the tree looked up a dozen keys per value of every request,
/// about 3 % of a loaded simulator's time).
#[derive(Debug)]
struct Rules {
    nodes: Vec<Node>,
    /// `#/components/schemas/<name>`, resolved (`None`: its `$ref` does
    /// not resolve).
    components: HashMap<String, Option<NodeId>>,
}

/// One schema's constraints, its `$ref`s resolved (`None`: a reference
/// that does not resolve, which holds the value to nothing).
#[derive(Debug, Default)]
struct Node {
    /// `null` is allowed ([`admits_null`]).
    admits_null: bool,
    /// `type`.
    ty: Option<String>,
    max_length: Option<u64>,
    min_length: Option<u64>,
    /// `format: uri`.
    uri: bool,
    /// `enum`.
    enumeration: Option<Vec<Yaml>>,
    /// `maximum`, as written.
    maximum: Option<Yaml>,
    /// `minimum`, as written.
    minimum: Option<Yaml>,
    exclusive_maximum: bool,
    exclusive_minimum: bool,
    /// `oneOf` (or, without it, `anyOf`).
    alternatives: Option<Vec<Option<NodeId>>>,
    properties: HashMap<String, Option<NodeId>>,
    items: Option<Option<NodeId>>,
    all_of: Vec<Option<NodeId>>,
}

impl Rules {
    /// Reads every component schema of `spec` and every schema they reach.
    /// A worklist, not recursion: each YAML schema is read once (known by
    /// its address in the parsed spec), however the schemas refer to one
    /// another, cycles included.
    fn compile(spec: &Yaml) -> Rules {
        let mut compiler = Compiler {
            spec,
            ids: HashMap::new(),
            nodes: Vec::new(),
            pending: Vec::new(),
        };
        let mut components = HashMap::new();
        if let Some(schemas) = spec
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(Yaml::as_mapping)
        {
            for (name, schema) in schemas {
                if let Some(name) = name.as_str() {
                    let id = compiler.intern(schema);
                    components.insert(name.to_owned(), id);
                }
            }
        }
        while let Some((id, schema)) = compiler.pending.pop() {
            let node = compiler.read(schema);
            if let Some(slot) = compiler.nodes.get_mut(id) {
                *slot = node;
            }
        }
        Rules {
            nodes: compiler.nodes,
            components,
        }
    }
}

/// The state of [`Rules::compile`].
struct Compiler<'a> {
    spec: &'a Yaml,
    ids: HashMap<*const Yaml, NodeId>,
    nodes: Vec<Node>,
    /// Schemas given an id, not read yet.
    pending: Vec<(NodeId, &'a Yaml)>,
}

impl<'a> Compiler<'a> {
    /// The id of `schema` once its `$ref`s are followed, reading it later
    /// if it is new.
    fn intern(&mut self, schema: &'a Yaml) -> Option<NodeId> {
        let target = resolve(self.spec, schema)?;
        let address: *const Yaml = target;
        if let Some(id) = self.ids.get(&address) {
            return Some(*id);
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.ids.insert(address, id);
        self.pending.push((id, target));
        Some(id)
    }

    /// One schema's constraints (its `$ref`s already followed).
    fn read(&mut self, schema: &'a Yaml) -> Node {
        let flag = |key: &str| schema.get(key).and_then(Yaml::as_bool) == Some(true);
        let number = |key: &str| {
            schema
                .get(key)
                .filter(|v| v.as_i64().is_some() || v.as_u64().is_some() || v.as_f64().is_some())
                .cloned()
        };
        let alternatives = ["oneOf", "anyOf"]
            .iter()
            .find_map(|key| schema.get(*key).and_then(Yaml::as_sequence))
            .map(|list| list.iter().map(|alt| self.intern(alt)).collect());
        let mut properties = HashMap::new();
        if let Some(members) = schema.get("properties").and_then(Yaml::as_mapping) {
            for (key, sub) in members {
                if let Some(key) = key.as_str() {
                    let id = self.intern(sub);
                    properties.insert(key.to_owned(), id);
                }
            }
        }
        let items = schema.get("items").map(|sub| self.intern(sub));
        let all_of = schema
            .get("allOf")
            .and_then(Yaml::as_sequence)
            .map(|parts| parts.iter().map(|part| self.intern(part)).collect())
            .unwrap_or_default();
        Node {
            admits_null: admits_null(self.spec, schema),
            ty: schema.get("type").and_then(Yaml::as_str).map(str::to_owned),
            max_length: schema.get("maxLength").and_then(Yaml::as_u64),
            min_length: schema.get("minLength").and_then(Yaml::as_u64),
            uri: schema.get("format").and_then(Yaml::as_str) == Some("uri"),
            enumeration: schema.get("enum").and_then(Yaml::as_sequence).cloned(),
            maximum: number("maximum"),
            minimum: number("minimum"),
            exclusive_maximum: flag("exclusiveMaximum"),
            exclusive_minimum: flag("exclusiveMinimum"),
            alternatives,
            properties,
            items,
            all_of,
        }
    }
}

/// How deep `oneOf` alternatives that are themselves `oneOf`s are followed
/// (the specs nest none; a bound all the same, since this recurses).
const MAX_ALTERNATIVE_DEPTH: usize = 4;

/// The constraints of one schema on one value (not its members).
fn check_one(rules: &Rules, value: &Json, node: &Node, path: &str) -> Result<(), Violation> {
    check_one_at(rules, value, node, path, 0)
}

/// [`check_one`], `depth` alternatives down.
fn check_one_at(
    rules: &Rules,
    value: &Json,
    node: &Node,
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
        if node.admits_null {
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
    if let Some(alternatives) = &node.alternatives {
        if depth >= MAX_ALTERNATIVE_DEPTH {
            return Ok(());
        }
        let mut reasons = Vec::new();
        for alternative in alternatives {
            let Some(alternative) = alternative.and_then(|id| rules.nodes.get(id)) else {
                return Ok(());
            };
            match check_one_at(rules, value, alternative, path, depth + 1) {
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
    if let Some(ty) = node.ty.as_deref() {
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
            if let Some(max) = node.max_length {
                if chars as u64 > max {
                    return Err(violation(format!(
                        "is {chars} characters long, more than maxLength {max}"
                    )));
                }
            }
            if let Some(min) = node.min_length {
                if (chars as u64) < min {
                    return Err(violation(format!(
                        "is {chars} characters long, less than minLength {min}"
                    )));
                }
            }
            // `format: uri`: an absolute URI, read with the WHATWG parser
            // the simulator's own HTTP client uses.
            if node.uri && reqwest::Url::parse(text).is_err() {
                return Err(violation(format!(
                    "{value} is not an absolute URI (format uri)"
                )));
            }
            check_enum(node, value, violation)
        }
        Json::Number(number) => {
            check_bounds(node, number).map_err(&violation)?;
            check_enum(node, value, violation)
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
fn check_bounds(node: &Node, number: &serde_json::Number) -> Result<(), String> {
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
    if let Some((max, written)) = node.maximum.as_ref().and_then(|v| Some((of_yaml(v)?, v))) {
        let over = match compare(&value, &max) {
            Some(std::cmp::Ordering::Greater) => true,
            Some(std::cmp::Ordering::Equal) => node.exclusive_maximum,
            _ => false,
        };
        if over {
            return Err(format!(
                "{number} is above the spec's maximum {}",
                yaml_number(written)
            ));
        }
    }
    if let Some((min, written)) = node.minimum.as_ref().and_then(|v| Some((of_yaml(v)?, v))) {
        let under = match compare(&value, &min) {
            Some(std::cmp::Ordering::Less) => true,
            Some(std::cmp::Ordering::Equal) => node.exclusive_minimum,
            _ => false,
        };
        if under {
            return Err(format!(
                "{number} is below the spec's minimum {}",
                yaml_number(written)
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
    node: &Node,
    value: &Json,
    violation: impl Fn(String) -> Violation,
) -> Result<(), Violation> {
    let Some(listed) = &node.enumeration else {
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

    /// The gateway spec, parsed, for the tests.
    static GATEWAY_SPEC: LazyLock<Option<Yaml>> =
        LazyLock::new(|| serde_yaml::from_str(super::super::specs::GATEWAY_OPENAPI).ok());

    /// The HUB2 spec, parsed, for the tests.
    static HUB2_SPEC: LazyLock<Option<Yaml>> =
        LazyLock::new(|| serde_yaml::from_str(super::super::specs::HUB2_OPENAPI).ok());

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

    #[test]
    fn schemas_that_refer_to_themselves_compile_once_and_check_at_any_depth() {
        let spec: Yaml = serde_yaml::from_str(
            r##"
components:
  schemas:
    Tree:
      type: object
      properties:
        name: { type: string, maxLength: 3 }
        child: { $ref: '#/components/schemas/Tree' }
        lost: { $ref: '#/components/schemas/Missing' }
        kids: { type: array, items: { $ref: '#/components/schemas/Tree' } }
    Alias: { $ref: '#/components/schemas/Tree' }
    Loop: { $ref: '#/components/schemas/Loop' }
"##,
        )
        .expect("a spec");
        let rules = Rules::compile(&spec);
        // Tree and Alias are one node; `name` and the array are two more;
        // the loop and the missing schema resolve to nothing.
        assert_eq!(rules.nodes.len(), 3, "{rules:#?}");
        assert_eq!(rules.components.get("Alias"), rules.components.get("Tree"));
        assert_eq!(rules.components.get("Loop"), Some(&None));
        let deep = json!({"child": {"child": {"kids": [{"name": "ok"}, {"name": "long"}]}}});
        let err = check_with(&rules, "Alias", &deep).unwrap_err();
        assert_eq!(err.path, "child.child.kids[1].name");
        assert!(err.rule.contains("maxLength 3"), "{err}");
        let fine = json!({"child": {"name": "abc", "lost": 7}, "name": null});
        let err = check_with(&rules, "Tree", &fine).unwrap_err();
        assert_eq!(err.path, "name", "{err}");
        assert_eq!(check_with(&rules, "Loop", &deep), Ok(()));
        assert_eq!(
            check_with(&rules, "Tree", &json!({"lost": [1, {"x": null}]})),
            Ok(())
        );
    }
}
