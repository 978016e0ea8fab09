//! From text to a strictly typed `openapiv3::OpenAPI`.
//!
//! The text is first read into an order-preserving YAML value (JSON is read
//! with serde_json, so its errors keep JSON line numbers). Small violations of
//! the letter that are common in real specs are repaired there, with a
//! warning; then the value is parsed strictly. If that fails, the parts are
//! parsed one by one to find the JSON pointer of the node at fault.

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use crate::error::{Diagnostics, Error, Pointer};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Reads JSON or YAML text (detected by content) into a YAML value.
pub(crate) fn parse_text(origin: &str, text: &str) -> Result<Value, Error> {
    crate::prescan::check_bounds(origin, text)?;
    let looks_like_json = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{');
    if looks_like_json {
        serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')).map_err(|e| {
            Error::Syntax {
                origin: origin.to_owned(),
                format: "JSON",
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            }
        })
    } else {
        crate::bounded_yaml::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            Error::Syntax {
                origin: origin.to_owned(),
                format: "YAML",
                line,
                column,
                message: e.to_string(),
            }
        })
    }
}

/// Parses a spec: checks the version, repairs what can be repaired, parses strictly.
pub(crate) fn load_openapi(
    diag: &mut Diagnostics,
    text: &str,
) -> Result<openapiv3::OpenAPI, Error> {
    let mut value = parse_text(&diag.origin, text)?;
    let root = Pointer::root();
    let Some(map) = value.as_mapping_mut() else {
        return Err(diag.spec_error(&root, "the document is not an object"));
    };
    check_version(diag, map)?;
    repair(diag, map);
    // Parsed from a reference to the value, not a copy: the document is held
    // once, as a value, while it becomes an `OpenAPI`.
    let value = value;
    // openapiv3's deserializer has a few `unwrap`s on number conversions
    // that cannot fail today; a panic there must still not escape.
    let parsed = std::panic::catch_unwind(|| openapiv3::OpenAPI::deserialize(&value));
    match parsed {
        Ok(Ok(api)) => Ok(api),
        Ok(Err(whole)) => {
            let located = std::panic::catch_unwind(|| value.as_mapping().and_then(locate))
                .ok()
                .flatten();
            let (pointer, message) = located.unwrap_or_else(|| (root.clone(), whole.to_string()));
            Err(diag.spec_error(pointer, message))
        }
        Err(_) => Err(diag.spec_error(&root, "the OpenAPI parser failed on this document")),
    }
}

use serde::Deserialize as _;

fn check_version(diag: &Diagnostics, map: &Mapping) -> Result<(), Error> {
    let root = Pointer::root();
    match map.get("openapi") {
        None if map.contains_key("swagger") => Err(diag.spec_error(
            root.join("swagger"),
            "this is a Swagger (OpenAPI 2.0) document; only OpenAPI 3.0 is supported (convert it first)",
        )),
        None => Err(diag.spec_error(
            root.join("openapi"),
            "missing the `openapi` version field: this is not an OpenAPI 3.0 document",
        )),
        Some(Value::String(v)) if v.starts_with("3.0") => Ok(()),
        Some(Value::String(v)) => Err(diag.spec_error(
            root.join("openapi"),
            format!("OpenAPI version `{v}` is not supported; only 3.0.x is"),
        )),
        Some(_) => Err(diag.spec_error(
            root.join("openapi"),
            "the `openapi` version must be a string like \"3.0.3\"",
        )),
    }
}

/// Fixes violations of the letter that are safe to fix, with a warning each.
fn repair(diag: &mut Diagnostics, map: &mut Mapping) {
    let root = Pointer::root();
    if let Some(Value::Mapping(paths)) = map.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Some(path) = path.as_str() else { continue };
            repair_path_item(diag, &root.join("paths").join(path), item);
        }
    }
}

fn repair_path_item(diag: &mut Diagnostics, at: &Pointer, item: &mut Value) {
    let Some(item) = item.as_mapping_mut() else {
        return;
    };
    for method in METHODS {
        let Some(Value::Mapping(op)) = item.get_mut(*method) else {
            continue;
        };
        let op_at = at.join(method);
        if !op.contains_key("responses") {
            diag.warn(
                &op_at,
                "the operation has no `responses` (required by OpenAPI 3.0); read as having no documented response",
            );
            op.insert(Value::from("responses"), Value::Mapping(Mapping::new()));
        }
        if let Some(Value::Mapping(callbacks)) = op.get_mut("callbacks") {
            for (name, callback) in callbacks.iter_mut() {
                let Some(name) = name.as_str() else { continue };
                let Some(callback) = callback.as_mapping_mut() else {
                    continue;
                };
                for (expr, cb_item) in callback.iter_mut() {
                    let Some(expr) = expr.as_str() else { continue };
                    repair_path_item(
                        diag,
                        &op_at.join("callbacks").join(name).join(expr),
                        cb_item,
                    );
                }
            }
        }
    }
}

/// Whether `value` parses as `T`; the error text if not.
fn check<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    T::deserialize(value.clone())
        .map(drop)
        .map_err(|e| e.to_string())
}

fn entries<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = (String, &'v Value)> {
    value
        .get(key)
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|m| m.iter())
        .map(|(k, v)| (key_text(k), v))
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "?".to_owned(),
    }
}

/// Finds the deepest node that does not parse, and why.
fn locate(map: &Mapping) -> Option<(Pointer, String)> {
    let root = Pointer::root();
    let doc = Value::Mapping(map.clone());
    for (key, required) in [("info", true), ("paths", true)] {
        if required && !map.contains_key(key) {
            return Some((
                root.join(key),
                format!("missing the required `{key}` field"),
            ));
        }
    }
    if let Some(info) = map.get("info") {
        if let Err(e) = check::<openapiv3::Info>(info) {
            return Some((root.join("info"), e));
        }
    }
    for (path, item) in entries(&doc, "paths") {
        if let Some(found) = locate_path_item(&root.join("paths").join(&path), item) {
            return Some(found);
        }
    }
    if let Some(components) = map.get("components") {
        let at = root.join("components");
        for (name, schema) in entries(components, "schemas") {
            if let Some(found) = locate_schema(&at.join("schemas").join(&name), schema) {
                return Some(found);
            }
        }
        macro_rules! section {
            ($key:literal, $ty:ty) => {
                for (name, v) in entries(components, $key) {
                    if let Err(e) = check::<openapiv3::ReferenceOr<$ty>>(v) {
                        return Some((at.join($key).join(&name), e));
                    }
                }
            };
        }
        section!("responses", openapiv3::Response);
        section!("parameters", openapiv3::Parameter);
        section!("requestBodies", openapiv3::RequestBody);
        section!("examples", openapiv3::Example);
        section!("headers", openapiv3::Header);
        section!("securitySchemes", openapiv3::SecurityScheme);
        if let Err(e) = check::<openapiv3::Components>(components) {
            return Some((at, e));
        }
    }
    None
}

fn locate_path_item(at: &Pointer, item: &Value) -> Option<(Pointer, String)> {
    for method in METHODS {
        let Some(op) = item.get(*method) else {
            continue;
        };
        if let Some(found) = locate_operation(&at.join(method), op) {
            return Some(found);
        }
    }
    check::<openapiv3::ReferenceOr<openapiv3::PathItem>>(item)
        .err()
        .map(|e| (at.clone(), e))
}

fn locate_operation(at: &Pointer, op: &Value) -> Option<(Pointer, String)> {
    if let Some(body) = op.get("requestBody") {
        if let Some(found) = locate_content(&at.join("requestBody"), body) {
            return Some(found);
        }
        if let Err(e) = check::<openapiv3::ReferenceOr<openapiv3::RequestBody>>(body) {
            return Some((at.join("requestBody"), e));
        }
    }
    for (code, response) in entries(op, "responses") {
        let r_at = at.join("responses").join(&code);
        if let Some(found) = locate_content(&r_at, response) {
            return Some(found);
        }
        if let Err(e) = check::<openapiv3::ReferenceOr<openapiv3::Response>>(response) {
            return Some((r_at, e));
        }
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_sequence) {
        for (i, p) in params.iter().enumerate() {
            if let Err(e) = check::<openapiv3::ReferenceOr<openapiv3::Parameter>>(p) {
                return Some((at.join("parameters").join(i), e));
            }
        }
    }
    for (name, callback) in entries(op, "callbacks") {
        if let Some(cb) = callback.as_mapping() {
            for (expr, item) in cb {
                let cb_at = at.join("callbacks").join(&name).join(key_text(expr));
                if let Some(found) = locate_path_item(&cb_at, item) {
                    return Some(found);
                }
            }
        }
    }
    check::<openapiv3::Operation>(op)
        .err()
        .map(|e| (at.clone(), e))
}

fn locate_content(at: &Pointer, holder: &Value) -> Option<(Pointer, String)> {
    for (media, mt) in entries(holder, "content") {
        if let Some(schema) = mt.get("schema") {
            let s_at = at.join("content").join(&media).join("schema");
            if let Some(found) = locate_schema(&s_at, schema) {
                return Some(found);
            }
        }
    }
    None
}

fn locate_schema(at: &Pointer, schema: &Value) -> Option<(Pointer, String)> {
    for (name, prop) in entries(schema, "properties") {
        if let Some(found) = locate_schema(&at.join("properties").join(&name), prop) {
            return Some(found);
        }
    }
    for key in ["items", "not", "additionalProperties"] {
        if let Some(child @ Value::Mapping(_)) = schema.get(key) {
            if let Some(found) = locate_schema(&at.join(key), child) {
                return Some(found);
            }
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_sequence) {
            for (i, child) in list.iter().enumerate() {
                if let Some(found) = locate_schema(&at.join(key).join(i), child) {
                    return Some(found);
                }
            }
        }
    }
    check::<openapiv3::ReferenceOr<openapiv3::Schema>>(schema)
        .err()
        .map(|e| (at.clone(), e))
}
