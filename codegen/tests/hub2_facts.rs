//! `spec/hub2/providers.yaml`: its quotes are the seeds' words, it is read
//! strictly, and a code the HUB2 spec does not define is an error naming
//! the fact.

use std::path::PathBuf;

use paygate_codegen::provenance::Seeds;
use paygate_codegen::{
    generate_hub2_providers, hub2_facts_citations, hub2_facts_seed_files, FactsSource, SpecSource,
    HUB2_FACTS, HUB2_SPEC,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn facts_text() -> String {
    std::fs::read_to_string(root().join(HUB2_FACTS)).expect("spec/hub2/providers.yaml")
}

fn spec() -> SpecSource {
    let text = std::fs::read_to_string(root().join(HUB2_SPEC)).expect("spec/hub2/openapi.yaml");
    SpecSource::new(HUB2_SPEC, text)
}

fn generate(text: &str) -> Result<String, String> {
    generate_hub2_providers(&spec(), &FactsSource::new(HUB2_FACTS, text)).map_err(|e| e.to_string())
}

#[test]
fn every_quote_occurs_in_its_seed() {
    let facts = FactsSource::new(HUB2_FACTS, facts_text());
    let files = hub2_facts_seed_files(&facts).expect("the facts load");
    let seeds = Seeds::load(&root().join("../shared/seeds"), &files)
        .unwrap_or_else(|e| panic!("{e}: the seeds must be at ../shared/seeds"));
    let citations = hub2_facts_citations(&facts).expect("the facts load");
    assert!(citations.len() >= 6, "only {} quotes", citations.len());
    let failures: Vec<String> = citations
        .iter()
        .filter_map(|c| seeds.check(c).err())
        .collect();
    assert!(failures.is_empty(), "bad quotes:\n{}", failures.join("\n"));
}

#[test]
fn the_committed_facts_generate_typed_tables() {
    let code = generate(&facts_text()).expect("the facts generate");
    assert!(
        code.contains("Pair {\n        country: Country::Ci,\n        provider: Provider::Orange,")
    );
    assert!(code.contains("certainty: crate::rules::Certainty::Documented"));
}

#[test]
fn unknown_keys_and_codes_are_errors_naming_the_fact() {
    let text = facts_text();
    let e = generate(&text.replace(
        "    - {country: GA, providers: [airtel]}",
        "    - {country: GA, providers: [airtel], limit: 5}",
    ))
    .expect_err("an unknown key");
    assert!(e.contains("unknown field `limit`"), "{e}");
    let e = generate(&text.replace(
        "{country: GA, providers: [airtel]}",
        "{country: GA, providers: [zamtel]}",
    ))
    .expect_err("a provider the spec does not define");
    assert!(e.contains("mobile_money.pairs[9].providers[0]"), "{e}");
    assert!(
        e.contains("`zamtel` is not a value of the spec's `Provider`"),
        "{e}"
    );
    let e = generate(&text.replace(
        "{country: CI, currency: XOF}",
        "{country: CI, currency: EUR}",
    ))
    .expect_err("a currency the spec does not define");
    assert!(e.contains("currencies.countries[0].currency"), "{e}");
    let e = generate(&text.replace(
        "services: [payment, transfer]}",
        "services: [payment, refund]}",
    ))
    .expect_err("an unknown service");
    assert!(e.contains("`refund` is not a service"), "{e}");
}

#[test]
fn provenance_is_required() {
    let text = facts_text();
    let documented_without_quotes = text.replacen(
        "processing_only:\n  certainty: documented\n  quotes:",
        "processing_only:\n  certainty: documented\n  unused_quotes:",
        1,
    );
    assert!(generate(&documented_without_quotes).is_err());
    let assumed_without_reason = text.replacen(
        "mobile_money:\n  certainty: assumed\n  reason:",
        "mobile_money:\n  certainty: assumed\n  why:",
        1,
    );
    let e = generate(&assumed_without_reason).expect_err("no reason");
    assert!(
        e.contains("unknown field `why`") || e.contains("needs a `reason`"),
        "{e}"
    );
    let undeclared_seed = text.replacen(
        "{seed: '000', text: 'Orange CIPayment",
        "{seed: '009', text: 'Orange CIPayment",
        1,
    );
    let e = generate(&undeclared_seed).expect_err("undeclared seed");
    assert!(e.contains("seed `009` is not declared"), "{e}");
}
