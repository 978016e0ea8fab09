//! The committed spec files parse with the reference parsers (openapiv3,
//! serde_yaml), every `$ref` resolves, and every provider id is unique.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/gateway")
}

fn read(name: &str) -> String {
    let path = spec_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every `$ref` value anywhere in the document, with where it stands.
fn refs(value: &serde_yaml::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let key = k.as_str().unwrap_or("?");
                if key == "$ref" {
                    if let Some(target) = v.as_str() {
                        out.push((at.to_owned(), target.to_owned()));
                    }
                }
                refs(v, &format!("{at}/{key}"), out);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn resolve<'a>(doc: &'a serde_yaml::Value, pointer: &str) -> Option<&'a serde_yaml::Value> {
    let path = pointer.strip_prefix("#/")?;
    path.split('/').try_fold(doc, |node, raw| {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        node.get(segment.as_str())
    })
}

#[test]
fn openapi_parses_and_every_ref_resolves() {
    let text = read("openapi.yaml");
    let spec: openapiv3::OpenAPI = serde_yaml::from_str(&text).expect("openapiv3 parses the spec");
    assert!(spec.openapi.starts_with("3.0"), "{}", spec.openapi);
    assert_eq!(spec.info.version, "5.7.2");
    for path in [
        "/{public_id}/payment_c2b",
        "/{public_id}/payment_b2c",
        "/{public_id}/status",
        "/{public_id}/deposit",
        "/{public_id}/withdrawal",
        "/{public_id}/banks",
        "/{public_id}/payment_b2c/bulk",
    ] {
        assert!(spec.paths.paths.contains_key(path), "missing {path}");
    }
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    let mut found = Vec::new();
    refs(&doc, "#", &mut found);
    assert!(found.len() > 50, "only {} $refs", found.len());
    for (at, target) in &found {
        assert!(
            resolve(&doc, target).is_some(),
            "{at}: $ref {target} does not resolve"
        );
    }
}

#[test]
fn provider_ids_are_unique_and_every_country_has_a_section() {
    let rules: serde_yaml::Value = serde_yaml::from_str(&read("providers.yaml")).expect("YAML");
    assert_eq!(rules["version"].as_u64(), Some(2));
    let mut ids = BTreeSet::new();
    let mut count = 0;
    let globals = rules["global_providers"]
        .as_sequence()
        .expect("global providers");
    for provider in globals {
        let id = provider["id"].as_u64().expect("integer id");
        assert!(ids.insert(id), "provider id {id} appears twice");
        count += 1;
    }
    for country in rules["countries"].as_sequence().expect("countries list") {
        let code = country["code"].as_str().expect("country code");
        assert!(
            country["sections"]
                .as_sequence()
                .is_some_and(|s| !s.is_empty()),
            "{code} has no section"
        );
        for provider in country["providers"].as_sequence().expect("providers list") {
            let id = provider["id"].as_u64().expect("integer id");
            assert!(ids.insert(id), "provider id {id} appears twice");
            count += 1;
        }
    }
    assert!(ids.contains(&14), "provider 14 (Simulator) is missing");
    assert!(count >= 100, "only {count} providers");
}
