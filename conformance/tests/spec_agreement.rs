//! The simulator answers as the specs say (issue 14, defect 6): every path
//! of `spec/gateway/openapi.yaml` (at `/`) and `spec/hub2/openapi.yaml`
//! (under `/hub2`) answers 405 with an `Allow` header for each method the
//! spec does not define there, never 404.

use std::path::Path;

use paygate_conformance::simulator::{start, SimulatorConfig};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

/// `(path, methods the spec defines)` for every path of a spec.
fn paths(spec: &str) -> Vec<(String, Vec<String>)> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec")
        .join(spec);
    let text = std::fs::read_to_string(&file).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap().to_owned();
        let defined = item
            .as_mapping()
            .unwrap()
            .keys()
            .filter_map(|k| k.as_str())
            .filter(|k| METHODS.contains(k) || *k == "head" || *k == "options")
            .map(str::to_owned)
            .collect();
        out.push((path, defined));
    }
    assert!(!out.is_empty(), "{spec} has paths");
    out
}

/// The path with its parameters filled in.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(if name == "public_id" {
            "demo-public-id"
        } else {
            "x1"
        });
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_undefined_method_of_a_spec_path_is_405_with_allow() {
    let sim = start(SimulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (spec, prefix) in [("gateway/openapi.yaml", ""), ("hub2/openapi.yaml", "/hub2")] {
        for (path, defined) in paths(spec) {
            let url = format!("{}{prefix}{}", sim.base_url(), concrete(&path));
            for method in METHODS.iter().filter(|m| !defined.iter().any(|d| d == *m)) {
                let answer = http
                    .request(method.to_uppercase().parse().unwrap(), &url)
                    .header("ApiKey", "demo-hub2-sandbox-key")
                    .header("MerchantId", "demo-hub2-merchant")
                    .header("Environment", "sandbox")
                    .send()
                    .await
                    .unwrap();
                checked += 1;
                let allow = answer
                    .headers()
                    .get("allow")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let status = answer.status().as_u16();
                let allows_defined = defined
                    .iter()
                    .filter(|d| METHODS.contains(&d.as_str()))
                    .all(|d| allow.contains(d.as_str()));
                if status != 405 || !allows_defined {
                    wrong.push(format!(
                        "{method} {prefix}{path}: {status}, Allow: {allow:?}"
                    ));
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} method/path pairs");
    assert!(wrong.is_empty(), "{} of {checked}: {wrong:#?}", wrong.len());
}

/// HUB2's GET and DELETE operations do not list 400: a missing
/// `Environment` header is read as the key's own environment (every key
/// belongs to one; the seeds do not mention the header), and a value that
/// is neither `sandbox` nor `live` gets the listed 403.
#[tokio::test]
async fn hub2_environment_header_answers_only_listed_statuses() {
    let sim = start(SimulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for path in ["/balance", "/webhooks", "/payment-intents/pi_missing"] {
        let url = format!("{}/hub2{path}", sim.base_url());
        let missing = http
            .get(&url)
            .header("ApiKey", "demo-hub2-sandbox-key")
            .header("MerchantId", "demo-hub2-merchant")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(
            matches!(missing, 200 | 404),
            "GET {path} without Environment: {missing}"
        );
        let bogus = http
            .get(&url)
            .header("ApiKey", "demo-hub2-sandbox-key")
            .header("MerchantId", "demo-hub2-merchant")
            .header("Environment", "staging")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(bogus, 403, "GET {path} with Environment: staging");
    }
}
