//! Every quote that reaches the runtime (the generated provider table and
//! the hand-written `ORDER_ID_SOURCE` and `PROVIDER_IDS_SOURCE`) occurs in
//! the documentation, whitespace-normalised.

use paygate::gateway::rules::Quote;
use paygate::gateway::validate::{ORDER_ID_SOURCE, PROVIDER_IDS_SOURCE};
use paygate::gateway::PROVIDER_TABLE;

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn seed_text(file: &str) -> String {
    let path = format!("{}/../../shared/seeds/{file}", env!("CARGO_MANIFEST_DIR"));
    norm(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

#[test]
fn every_runtime_quote_is_in_its_seed() {
    let seeds: Vec<(&str, String)> = PROVIDER_TABLE
        .seeds
        .iter()
        .map(|(id, file)| (*id, seed_text(file)))
        .collect();
    let mut quotes: Vec<(String, Quote)> = Vec::new();
    let mut add = |at: String, qs: &[Quote]| quotes.extend(qs.iter().map(|q| (at.clone(), *q)));
    add("ORDER_ID_SOURCE".into(), ORDER_ID_SOURCE.quotes);
    add("PROVIDER_IDS_SOURCE".into(), PROVIDER_IDS_SOURCE.quotes);
    for c in PROVIDER_TABLE.countries {
        add(format!("{} identified", c.code), c.identified.quotes);
        if let Some(cur) = c.currency {
            add(format!("{} currency", c.code), cur.provenance.quotes);
        }
        if let Some(p) = c.phone {
            add(format!("{} phone", c.code), p.provenance.quotes);
        }
    }
    for t in PROVIDER_TABLE.tables {
        add(format!("table {}", t.id), t.quotes);
    }
    for p in PROVIDER_TABLE.providers {
        add(format!("provider {}", p.id), p.listed.quotes);
        for d in [p.c2b, p.b2c] {
            for e in d.extras {
                add(
                    format!("provider {} extra {}", p.id, e.name),
                    e.provenance.quotes,
                );
            }
            if let Some(f) = d.flow {
                add(format!("provider {} flow", p.id), f.provenance.quotes);
            }
        }
    }
    assert!(quotes.len() > 500, "{}", quotes.len());
    for (at, q) in &quotes {
        let text = seeds
            .iter()
            .find(|(id, _)| *id == q.seed)
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("{at}: seed {} is not declared", q.seed));
        assert!(
            text.contains(&norm(q.text)),
            "{at}: {:?} is not in seed {}",
            q.text,
            q.seed
        );
    }
}
