//! Provenance of the hand-written specs (`spec/gateway/`, `spec/hub2/`).
//!
//! Every fact taken from the documentation carries an `x-source` extension,
//! as the last key of the node it backs, holding one entry or a list of
//! entries, each of one of four shapes:
//!
//! - `{seed: '003', quote: '...'}`: verbatim words of a seed file
//!   (`../shared/seeds/003_*.txt`), compared with every run of whitespace
//!   read as one space;
//! - `{vendor: '#/components/schemas/orderIdDef'}`: a JSON pointer into the
//!   vendor export `../shared/vendor/gateway-openapi-5.7.2.json`;
//! - `{inferred: 'reason'}`: reasoned from the seeds;
//! - `{assumed: 'reason'}`: in neither the seeds nor the vendor export.
//!
//! This test checks the shapes, that every quote is in its seed, that every
//! vendor pointer resolves (when the vendor file is there), and coverage:
//! every operation and every component schema of both specs, and every
//! property of the gateway's schemas, has an `x-source` on itself or on the
//! schema it `$ref`s. `../shared` is the folder beside the workspace root.
//!
//! The document is walked with an explicit stack, never recursively.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

const GATEWAY_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/gateway/openapi.yaml");
const HUB2_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/hub2/openapi.yaml");
const SEEDS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/seeds");
const VENDOR_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vendor/gateway-openapi-5.7.2.json"
);

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A normalised quote shorter than this proves nothing.
const MIN_QUOTE_CHARS: usize = 8;

/// One `x-source` entry.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Seed { seed: String, quote: String },
    Vendor(String),
    Inferred(String),
    Assumed(String),
}

impl Source {
    fn kind(&self) -> &'static str {
        match self {
            Source::Seed { .. } => "seed",
            Source::Vendor(_) => "vendor",
            Source::Inferred(_) => "inferred",
            Source::Assumed(_) => "assumed",
        }
    }
}

/// What a spec must annotate besides its operations and component schemas.
#[derive(Clone, Copy, PartialEq)]
enum Coverage {
    /// Also every property of every schema (the gateway spec).
    Properties,
    /// Operations and component schemas only (the HUB2 spec).
    Schemas,
}

/// The documents quotes and pointers are checked against.
struct Corpus {
    /// Seed id (`"003"`) to its whitespace-normalised text.
    seeds: BTreeMap<String, String>,
    /// The vendor export, when present.
    vendor: Option<serde_json::Value>,
}

/// The outcome of checking one spec.
#[derive(Default)]
struct Report {
    /// Every entry with the JSON pointer of where it stands.
    entries: Vec<(String, Source)>,
    /// Everything wrong, one line each, naming the pointer.
    problems: Vec<String>,
}

impl Report {
    fn count(&self, kind: &str) -> usize {
        self.entries
            .iter()
            .filter(|(_, s)| s.kind() == kind)
            .count()
    }
}

/// How the keys of a mapping are to be read.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Ctx {
    /// An OpenAPI object: fixed fields and extensions; `x-source` belongs here.
    Node,
    /// A map from user-chosen names to objects (`properties`, `content`, ...).
    Names,
    /// An operation's `callbacks`: names to callback objects (maps of names).
    Callbacks,
    /// `components`: sections, each a map of names.
    Components,
    /// Example or enum data: nothing in it is OpenAPI.
    Literal,
}

fn child_ctx(parent: Ctx, key: &str) -> Ctx {
    match parent {
        Ctx::Literal => Ctx::Literal,
        Ctx::Names => Ctx::Node,
        Ctx::Callbacks | Ctx::Components => Ctx::Names,
        Ctx::Node => match key {
            "components" => Ctx::Components,
            "callbacks" => Ctx::Callbacks,
            "properties" | "content" | "examples" | "headers" | "links" | "encoding"
            | "variables" | "patternProperties" | "x-webhooks" => Ctx::Names,
            "example"
            | "value"
            | "default"
            | "enum"
            | "const"
            | "x-enum-varnames"
            | "x-enum-descriptions" => Ctx::Literal,
            _ => Ctx::Node,
        },
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "?".to_owned(),
    }
}

/// Resolves `#/a/b` in the YAML document.
fn resolve_yaml<'a>(doc: &'a Value, pointer: &str) -> Option<&'a Value> {
    let path = pointer.strip_prefix('#')?;
    if path.is_empty() {
        return Some(doc);
    }
    let path = path.strip_prefix('/')?;
    path.split('/').try_fold(doc, |node, raw| {
        let segment = unescape(raw);
        match node {
            Value::Mapping(map) => map
                .iter()
                .find(|(k, _)| key_text(k) == segment)
                .map(|(_, v)| v),
            Value::Sequence(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
    })
}

/// Resolves `#/a/b` in the vendor JSON.
fn resolve_json<'a>(doc: &'a serde_json::Value, pointer: &str) -> Option<&'a serde_json::Value> {
    let path = pointer.strip_prefix('#')?;
    if path.is_empty() {
        return Some(doc);
    }
    let path = path.strip_prefix('/')?;
    path.split('/').try_fold(doc, |node, raw| {
        let segment = unescape(raw);
        match node {
            serde_json::Value::Object(map) => map.get(&segment),
            serde_json::Value::Array(items) => {
                segment.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        }
    })
}

fn parse_source(value: &Value) -> Result<Source, String> {
    let Some(map) = value.as_mapping() else {
        return Err("an entry must be a mapping".to_owned());
    };
    let mut fields = BTreeMap::new();
    for (k, v) in map {
        let key = key_text(k);
        let Some(text) = v.as_str() else {
            return Err(format!("`{key}` must be a string"));
        };
        fields.insert(key, text.to_owned());
    }
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    let text = |key: &str| fields[key].clone();
    match keys.as_slice() {
        ["quote", "seed"] => {
            let seed = text("seed");
            if seed.len() != 3 || !seed.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("seed id `{seed}` is not a 3-digit file prefix"));
            }
            Ok(Source::Seed {
                seed,
                quote: text("quote"),
            })
        }
        ["vendor"] => {
            let pointer = text("vendor");
            if !pointer.starts_with("#/") {
                return Err(format!("vendor pointer `{pointer}` does not start with `#/`"));
            }
            Ok(Source::Vendor(pointer))
        }
        ["inferred"] | ["assumed"] => {
            let reason = text(keys[0]);
            if reason.trim().is_empty() {
                return Err(format!("`{}` needs a reason", keys[0]));
            }
            Ok(if keys[0] == "inferred" {
                Source::Inferred(reason)
            } else {
                Source::Assumed(reason)
            })
        }
        _ => Err(format!(
            "an entry must be {{seed, quote}}, {{vendor}}, {{inferred}} or {{assumed}}; found keys {keys:?}"
        )),
    }
}

/// Walks the document: collects every `x-source` entry (checking where it
/// stands and its shape) and every `schema` value (roots for the property
/// coverage).
fn collect<'a>(doc: &'a Value, report: &mut Report) -> Vec<(String, &'a Value)> {
    let mut schema_roots = Vec::new();
    let mut stack: Vec<(String, &Value, Ctx)> = vec![("#".to_owned(), doc, Ctx::Node)];
    while let Some((at, value, ctx)) = stack.pop() {
        match value {
            Value::Mapping(map) => {
                let last = map.len().saturating_sub(1);
                for (i, (k, v)) in map.iter().enumerate() {
                    let key = key_text(k);
                    let here = format!("{at}/{}", escape(&key));
                    if key == "x-source" {
                        if ctx != Ctx::Node {
                            report.problems.push(format!(
                                "{here}: `x-source` stands in {} where it is data or a name, not an annotation",
                                if ctx == Ctx::Literal { "example or enum data" } else { "a map of names" }
                            ));
                            continue;
                        }
                        if i != last {
                            report.problems.push(format!(
                                "{here}: `x-source` must be the last key of its mapping"
                            ));
                        }
                        let items: Vec<(String, &Value)> = match v {
                            Value::Sequence(seq) => {
                                if seq.is_empty() {
                                    report
                                        .problems
                                        .push(format!("{here}: empty list of sources"));
                                }
                                seq.iter()
                                    .enumerate()
                                    .map(|(n, item)| (format!("{here}/{n}"), item))
                                    .collect()
                            }
                            other => vec![(here.clone(), other)],
                        };
                        for (p, item) in items {
                            match parse_source(item) {
                                Ok(source) => report.entries.push((p, source)),
                                Err(why) => report.problems.push(format!("{p}: {why}")),
                            }
                        }
                        continue;
                    }
                    let child = child_ctx(ctx, &key);
                    if ctx == Ctx::Node && key == "schema" {
                        schema_roots.push((here.clone(), v));
                    }
                    stack.push((here, v, child));
                }
            }
            Value::Sequence(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), v, ctx));
                }
            }
            Value::Tagged(tagged) => stack.push((at, &tagged.value, ctx)),
            _ => {}
        }
    }
    report.entries.sort_by(|a, b| a.0.cmp(&b.0));
    schema_roots
}

/// Checks every quote against its seed and every vendor pointer against the export.
fn verify(report: &mut Report, corpus: &Corpus) {
    for (at, source) in &report.entries {
        match source {
            Source::Seed { seed, quote } => {
                let Some(text) = corpus.seeds.get(seed) else {
                    report.problems.push(format!(
                        "{at}: no seed file `{seed}_*.txt` (quote {quote:?})"
                    ));
                    continue;
                };
                let wanted = normalise(quote);
                if wanted.chars().count() < MIN_QUOTE_CHARS {
                    report.problems.push(format!(
                        "{at}: quote {quote:?} is too short to be distinctive (under {MIN_QUOTE_CHARS} characters)"
                    ));
                } else if !text.contains(&wanted) {
                    report.problems.push(format!(
                        "{at}: seed {seed} does not contain the quote {quote:?}"
                    ));
                }
            }
            Source::Vendor(pointer) => {
                if let Some(vendor) = &corpus.vendor {
                    if resolve_json(vendor, pointer).is_none() {
                        report.problems.push(format!(
                            "{at}: vendor pointer `{pointer}` does not resolve in gateway-openapi-5.7.2.json"
                        ));
                    }
                }
            }
            Source::Inferred(_) | Source::Assumed(_) => {}
        }
    }
}

fn has_source(node: &Value) -> bool {
    node.as_mapping()
        .is_some_and(|m| m.contains_key("x-source"))
}

/// Whether `node` is annotated, on itself or on the schema it `$ref`s.
fn covered(doc: &Value, node: &Value) -> bool {
    if has_source(node) {
        return true;
    }
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|target| resolve_yaml(doc, target))
        .is_some_and(has_source)
}

/// Pointers of the operations, component schemas and (for `Properties`)
/// properties that carry no `x-source`.
fn uncovered(doc: &Value, schema_roots: &[(String, &Value)], mode: Coverage) -> Vec<String> {
    let mut missing = Vec::new();
    // Operations: under paths, under callbacks of those, under x-webhooks.
    let mut path_items: Vec<(String, &Value)> = Vec::new();
    for section in ["paths", "x-webhooks"] {
        if let Some(Value::Mapping(items)) = doc.get(section) {
            for (k, item) in items {
                path_items.push((format!("#/{section}/{}", escape(&key_text(k))), item));
            }
        }
    }
    while let Some((at, item)) = path_items.pop() {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let op_at = format!("{at}/{method}");
            if !has_source(op) {
                missing.push(op_at.clone());
            }
            if let Some(Value::Mapping(callbacks)) = op.get("callbacks") {
                for (name, callback) in callbacks {
                    let Some(callback) = callback.as_mapping() else {
                        continue;
                    };
                    for (expr, cb_item) in callback {
                        path_items.push((
                            format!(
                                "{op_at}/callbacks/{}/{}",
                                escape(&key_text(name)),
                                escape(&key_text(expr))
                            ),
                            cb_item,
                        ));
                    }
                }
            }
        }
    }
    // Component schemas.
    let mut roots: Vec<(String, &Value)> = Vec::new();
    if let Some(Value::Mapping(schemas)) = doc.get("components").and_then(|c| c.get("schemas")) {
        for (k, schema) in schemas {
            let at = format!("#/components/schemas/{}", escape(&key_text(k)));
            if !covered(doc, schema) {
                missing.push(at.clone());
            }
            roots.push((at, schema));
        }
    }
    // Properties of every schema, components and inline ones alike.
    if mode == Coverage::Properties {
        roots.extend(schema_roots.iter().cloned());
        let mut stack = roots;
        while let Some((at, schema)) = stack.pop() {
            let Some(map) = schema.as_mapping() else {
                continue;
            };
            if map.contains_key("$ref") {
                continue; // its target is a component, checked as a root
            }
            if let Some(Value::Mapping(props)) = map.get("properties") {
                for (k, prop) in props {
                    let prop_at = format!("{at}/properties/{}", escape(&key_text(k)));
                    if !covered(doc, prop) {
                        missing.push(prop_at.clone());
                    }
                    stack.push((prop_at, prop));
                }
            }
            for key in ["items", "additionalProperties", "not"] {
                if let Some(sub) = map.get(key) {
                    stack.push((format!("{at}/{key}"), sub));
                }
            }
            for key in ["allOf", "oneOf", "anyOf"] {
                if let Some(Value::Sequence(subs)) = map.get(key) {
                    for (i, sub) in subs.iter().enumerate() {
                        stack.push((format!("{at}/{key}/{i}"), sub));
                    }
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    missing
}

/// Every check on one spec text.
fn check(text: &str, mode: Coverage, corpus: &Corpus) -> Report {
    let mut report = Report::default();
    let doc: Value = match serde_yaml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            report
                .problems
                .push(format!("#: the spec does not parse: {e}"));
            return report;
        }
    };
    let schema_roots = collect(&doc, &mut report);
    verify(&mut report, corpus);
    for at in uncovered(&doc, &schema_roots, mode) {
        report.problems.push(format!(
            "{at}: no `x-source` (on itself or on its `$ref` target)"
        ));
    }
    report
}

fn load_corpus() -> Corpus {
    let dir = Path::new(SEEDS_DIR);
    let listing = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "cannot read the seeds at {} ({e}); the `shared` folder must stand beside the workspace root",
            dir.display()
        )
    });
    let mut seeds = BTreeMap::new();
    for entry in listing {
        let path = entry.expect("a seed directory entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((id, _)) = name.split_once('_') else {
            continue;
        };
        if id.len() != 3 || !id.bytes().all(|b| b.is_ascii_digit()) || !name.ends_with(".txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let previous = seeds.insert(id.to_owned(), normalise(&text));
        assert!(previous.is_none(), "two seed files share the id {id}");
    }
    assert!(!seeds.is_empty(), "no seed files in {}", dir.display());
    let vendor = match std::fs::read_to_string(VENDOR_SPEC) {
        Ok(text) => Some(serde_json::from_str(&text).expect("the vendor export is JSON")),
        Err(_) => {
            println!("note: {VENDOR_SPEC} is absent; `vendor` pointers are not checked");
            None
        }
    };
    Corpus { seeds, vendor }
}

fn check_spec_file(name: &str, path: &str, mode: Coverage) {
    let corpus = load_corpus();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let report = check(&text, mode, &corpus);
    println!(
        "{name}: {} x-source entries: seed {}, vendor {}, inferred {}, assumed {}",
        report.entries.len(),
        report.count("seed"),
        report.count("vendor"),
        report.count("inferred"),
        report.count("assumed"),
    );
    assert!(
        report.problems.is_empty(),
        "{name}: {} provenance problem(s):\n{}",
        report.problems.len(),
        report.problems.join("\n")
    );
    assert!(
        !report.entries.is_empty(),
        "{name}: no x-source entries at all"
    );
}

#[test]
fn gateway_spec_provenance() {
    check_spec_file("gateway", GATEWAY_SPEC, Coverage::Properties);
}

#[test]
fn hub2_spec_provenance() {
    check_spec_file("hub2", HUB2_SPEC, Coverage::Schemas);
}

// ----- self-test: the checks can fail -----------------------------------------

const SELF_TEST_SEED: &str = "The widget API.\n\nEvery   widget has a\nname and a size.";

fn self_test_corpus() -> Corpus {
    let mut seeds = BTreeMap::new();
    seeds.insert("900".to_owned(), normalise(SELF_TEST_SEED));
    let vendor = serde_json::json!({"components": {"schemas": {"widgetDef": {"type": "object"}}}});
    Corpus {
        seeds,
        vendor: Some(vendor),
    }
}

/// A small spec; `{op}`, `{schema}` and `{prop}` are the sources of the
/// operation, the schema and its property (`~` to leave one out).
fn self_test_spec(op: &str, schema: &str, prop: &str) -> String {
    let line = |indent: &str, source: &str| {
        if source == "~" {
            String::new()
        } else {
            format!("{indent}x-source: {source}\n")
        }
    };
    format!(
        "openapi: 3.0.3\n\
         info: {{title: widgets, version: '1'}}\n\
         paths:\n\
         \x20 /widgets:\n\
         \x20   post:\n\
         \x20     operationId: createWidget\n\
         \x20     responses:\n\
         \x20       '200':\n\
         \x20         description: ok\n\
         \x20         content:\n\
         \x20           application/json:\n\
         \x20             schema:\n\
         \x20               $ref: '#/components/schemas/Widget'\n\
         {}\
         components:\n\
         \x20 schemas:\n\
         \x20   Widget:\n\
         \x20     type: object\n\
         \x20     properties:\n\
         \x20       name:\n\
         \x20         type: string\n\
         \x20         example: bolt\n\
         {}\
         {}",
        line("      ", op),
        line("          ", prop),
        line("      ", schema),
    )
}

const GOOD_OP: &str = "{seed: '900', quote: 'The widget API.'}";
const GOOD_SCHEMA: &str =
    "[{seed: '900', quote: 'Every widget has a name'}, {vendor: '#/components/schemas/widgetDef'}]";
const GOOD_PROP: &str = "{inferred: 'a widget has a name, per the seed; its type is not said'}";

#[test]
fn self_test_a_clean_spec_passes() {
    let report = check(
        &self_test_spec(GOOD_OP, GOOD_SCHEMA, GOOD_PROP),
        Coverage::Properties,
        &self_test_corpus(),
    );
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(report.entries.len(), 4);
    assert_eq!(
        report.entries[0],
        (
            "#/components/schemas/Widget/properties/name/x-source".to_owned(),
            Source::Inferred("a widget has a name, per the seed; its type is not said".to_owned())
        )
    );
    assert_eq!(report.count("seed"), 2);
    assert_eq!(report.count("vendor"), 1);
}

#[test]
fn self_test_a_wrong_quote_is_reported() {
    let wrong = "{seed: '900', quote: 'Every widget has a colour'}";
    let report = check(
        &self_test_spec(GOOD_OP, wrong, GOOD_PROP),
        Coverage::Properties,
        &self_test_corpus(),
    );
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    let problem = &report.problems[0];
    assert!(
        problem.starts_with("#/components/schemas/Widget/x-source:")
            && problem.contains("seed 900")
            && problem.contains("Every widget has a colour"),
        "{problem}"
    );
    // Unknown seed, too-short quote, dangling vendor pointer.
    for (source, needle) in [
        (
            "{seed: '901', quote: 'The widget API.'}",
            "no seed file `901_*.txt`",
        ),
        ("{seed: '900', quote: 'widget'}", "too short"),
        (
            "{vendor: '#/components/schemas/gadgetDef'}",
            "does not resolve",
        ),
    ] {
        let report = check(
            &self_test_spec(source, GOOD_SCHEMA, GOOD_PROP),
            Coverage::Properties,
            &self_test_corpus(),
        );
        assert!(
            report.problems.len() == 1
                && report.problems[0].starts_with("#/paths/~1widgets/post/x-source:")
                && report.problems[0].contains(needle),
            "{source}: {:#?}",
            report.problems
        );
    }
}

#[test]
fn self_test_a_missing_annotation_is_reported() {
    let report = check(
        &self_test_spec("~", GOOD_SCHEMA, "~"),
        Coverage::Properties,
        &self_test_corpus(),
    );
    assert_eq!(
        report.problems,
        vec![
            "#/components/schemas/Widget/properties/name: no `x-source` (on itself or on its `$ref` target)",
            "#/paths/~1widgets/post: no `x-source` (on itself or on its `$ref` target)",
        ],
    );
    // Without property coverage only the operation is missing.
    let report = check(
        &self_test_spec("~", GOOD_SCHEMA, "~"),
        Coverage::Schemas,
        &self_test_corpus(),
    );
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    // A missing schema annotation.
    let report = check(
        &self_test_spec(GOOD_OP, "~", GOOD_PROP),
        Coverage::Schemas,
        &self_test_corpus(),
    );
    assert_eq!(
        report.problems,
        vec!["#/components/schemas/Widget: no `x-source` (on itself or on its `$ref` target)"],
    );
}

#[test]
fn self_test_bad_shapes_and_places_are_reported() {
    for (source, needle) in [
        ("{seed: '900'}", "must be {seed, quote}"),
        (
            "{vendor: 'components/schemas/widgetDef'}",
            "does not start with `#/`",
        ),
        ("{assumed: ' '}", "needs a reason"),
        ("{seed: 900, quote: 'The widget API.'}", "must be a string"),
        ("{seed: '9', quote: 'The widget API.'}", "3-digit"),
        ("'The widget API.'", "must be a mapping"),
        ("[]", "empty list"),
    ] {
        let report = check(
            &self_test_spec(source, GOOD_SCHEMA, GOOD_PROP),
            Coverage::Properties,
            &self_test_corpus(),
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.starts_with("#/paths/~1widgets/post/x-source") && p.contains(needle)),
            "{source}: {:#?}",
            report.problems
        );
    }
    // Not the last key; inside a map of names; inside example data.
    let spec = self_test_spec("~", GOOD_SCHEMA, GOOD_PROP);
    for (from, to, needle) in [
        (
            "      operationId: createWidget\n",
            "      x-source: {seed: '900', quote: 'The widget API.'}\n      operationId: createWidget\n",
            "must be the last key",
        ),
        (
            "      properties:\n",
            "      properties:\n        x-source: {seed: '900', quote: 'The widget API.'}\n",
            "a map of names",
        ),
        (
            "          example: bolt\n",
            "          example:\n            x-source: {seed: '900', quote: 'The widget API.'}\n",
            "example or enum data",
        ),
    ] {
        let text = spec.replacen(from, to, 1);
        assert_ne!(text, spec);
        let report = check(&text, Coverage::Properties, &self_test_corpus());
        assert!(
            report.problems.iter().any(|p| p.contains(needle)),
            "{needle}: {:#?}",
            report.problems
        );
    }
}
