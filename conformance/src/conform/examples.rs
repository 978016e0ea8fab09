//! The examples the documentation prints (`spec/gateway/examples.yaml`), as
//! conformance cases: each request passes the client's pre-flight and the
//! target accepts it as printed (with the test merchant's id and a fresh
//! signature in place of the placeholders).

use serde::Deserialize;

use super::cases::{Case, CaseKind};
use super::group;

/// The recorded examples, as committed.
pub const EXAMPLES_YAML: &str = include_str!("../../../spec/gateway/examples.yaml");

/// One printed example.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct SeedExample {
    /// Stable id (`002/bf-otp-payment`).
    pub id: String,
    /// The seed that prints it.
    pub seed: String,
    /// The line it starts on.
    pub printed_at_line: u32,
    /// `request`, `response` or `callback`.
    pub kind: String,
    /// The operation it belongs to (`payment_c2b`, ...).
    pub operation: String,
    /// A remark.
    #[serde(default)]
    pub note: Option<String>,
    /// What was changed to make the printed text JSON.
    #[serde(default)]
    pub transcription: Option<String>,
    /// The secret key the example is signed with, when the documentation
    /// gives one.
    #[serde(default)]
    pub secret_key: Option<String>,
    /// The example as JSON text, key order and value types as printed.
    pub body: String,
}

#[derive(Deserialize)]
struct File {
    examples: Vec<SeedExample>,
}

/// Every recorded example, in file order.
pub fn all() -> Result<Vec<SeedExample>, String> {
    serde_yaml::from_str::<File>(EXAMPLES_YAML)
        .map(|f| f.examples)
        .map_err(|e| format!("spec/gateway/examples.yaml: {e}"))
}

/// The example with this id.
pub fn find(id: &str) -> Result<SeedExample, String> {
    all()?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| format!("no example {id:?} in spec/gateway/examples.yaml"))
}

/// One case per request example.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let examples = match all() {
        Ok(examples) => examples,
        Err(message) => {
            out.push(Case::new(
                "examples/load",
                group::EXAMPLES,
                CaseKind::SpecError(message),
            ));
            return;
        }
    };
    for example in examples.into_iter().filter(|e| e.kind == "request") {
        let provider_14 = example.body.contains("\"provider_id\": 14")
            || example.body.contains("\"provider_id\":14");
        let case = Case::new(
            format!("examples/{}", example.id),
            group::EXAMPLES,
            CaseKind::SeedExample {
                example: example.id.clone(),
            },
        );
        // Sandbox-safe only when it moves no money: provider 14, or a
        // status request.
        out.push(if provider_14 || example.operation == "status" {
            case.safe()
        } else {
            case
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_examples_file_loads() {
        let all = super::all().unwrap();
        assert!(all.len() >= 28, "{}", all.len());
        for e in &all {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&e.body);
            assert!(parsed.is_ok(), "{}: {:?}", e.id, parsed.err());
        }
    }
}
