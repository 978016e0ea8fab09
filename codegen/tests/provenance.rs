//! Every fact of `spec/gateway/providers.yaml` cites the documentation
//! truthfully, and the file misses nothing the documentation lists.
//!
//! * each quote occurs in its seed (whitespace-normalised), and a quote made
//!   for a country occurs inside that country's section;
//! * completeness, against the seeds themselves: every provider id of the
//!   provider tables, every "This is the format of the phone number" line
//!   and every limits-table row is claimed by the file.
//!
//! The seeds are read from `../shared/seeds` beside the repository, as CI
//! has them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use paygate_codegen::provenance::{
    normalize, rules_citations, rules_seed_files, Citation, Section, Seeds,
};
use paygate_codegen::RulesSource;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rules() -> RulesSource {
    let path = root().join("spec/gateway/providers.yaml");
    let text = std::fs::read_to_string(&path).expect("providers.yaml");
    RulesSource::new("spec/gateway/providers.yaml", text)
}

fn seeds_dir() -> PathBuf {
    root().join("../shared/seeds")
}

fn seeds() -> Seeds {
    let files = rules_seed_files(&rules()).expect("the rules load");
    Seeds::load(&seeds_dir(), &files).unwrap_or_else(|e| {
        panic!("{e}: the seeds must be at ../shared/seeds beside the repository")
    })
}

fn raw_seed(id: &str) -> String {
    let files = rules_seed_files(&rules()).expect("the rules load");
    let (_, file) = files.iter().find(|(s, _)| s == id).expect("seed declared");
    std::fs::read_to_string(seeds_dir().join(file)).expect("seed file")
}

#[test]
fn every_quote_occurs_in_its_seed_and_section() {
    let seeds = seeds();
    let citations = rules_citations(&rules()).expect("the rules load");
    assert!(citations.len() > 250, "only {} quotes", citations.len());
    let failures: Vec<String> = citations
        .iter()
        .filter_map(|c| seeds.check(c).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} bad quotes:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_check_fails_on_a_quote_the_seeds_do_not_have() {
    let seeds = seeds();
    let section = Section {
        seed: "002".into(),
        from: "| 9209 | Orange |".into(),
        to: "| 802, 9062, 702 | Orange |".into(),
    };
    let cite = |text: &str, sections: Vec<Section>| Citation {
        location: "test".into(),
        seed: "002".into(),
        text: text.into(),
        sections,
    };
    // Real words, in the right section: fine.
    assert!(seeds
        .check(&cite(
            "22600000000 - This is the format",
            vec![section.clone()]
        ))
        .is_ok());
    // Invented words.
    assert!(seeds
        .check(&cite("| XOF 250.00 | XOF 250.00 |", vec![]))
        .is_err());
    // Real words, but from another country's section (Benin's table).
    assert!(seeds
        .check(&cite(
            "| XOF 100.00 | XOF 100.00 | XOF 1 000 000.00 |",
            vec![section]
        ))
        .is_err());
}

/// The data rows of the limits tables of a seed (a header naming a
/// minimum, a `|---` line, then the rows), normalised, with their count.
fn limits_rows(raw: &str) -> BTreeMap<String, usize> {
    let mut rows = BTreeMap::new();
    let lines: Vec<&str> = raw.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let header = line.starts_with('|') && line.to_ascii_lowercase().contains("minimum");
        if header && lines.get(i + 1).is_some_and(|l| l.starts_with("|---")) {
            i += 2;
            // Rows run to the next non-table line or the next table's
            // header (tables follow one another without a blank line).
            while let Some(row) = lines.get(i).filter(|l| {
                let lower = l.to_ascii_lowercase();
                l.starts_with('|')
                    && !lower.contains("minimum")
                    && !lower.contains("provider id")
                    && !lower.contains("required")
            }) {
                *rows.entry(normalize(row)).or_default() += 1;
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    rows
}

/// The provider ids of the seed's provider tables.
fn table_ids(raw: &str) -> Vec<u32> {
    let mut ids = Vec::new();
    let lines: Vec<&str> = raw.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with("| Provider ID |") {
            continue;
        }
        for row in lines[i + 2..].iter().take_while(|l| l.starts_with('|')) {
            let first = row.trim_start_matches('|').split('|').next().unwrap_or("");
            ids.extend(
                first
                    .split(',')
                    .filter_map(|id| id.trim().parse::<u32>().ok()),
            );
        }
    }
    ids
}

fn yaml() -> serde_yaml::Value {
    let mut v: serde_yaml::Value = serde_yaml::from_str(&rules().text).expect("YAML");
    v.apply_merge().expect("merge keys");
    v
}

fn listed_ids() -> Vec<u64> {
    let v = yaml();
    let mut ids: Vec<u64> = v["global_providers"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_u64())
        .collect();
    for country in v["countries"].as_sequence().into_iter().flatten() {
        ids.extend(
            country["providers"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_u64()),
        );
    }
    ids
}

#[test]
fn every_documented_provider_id_is_listed() {
    let listed = listed_ids();
    let mut documented = table_ids(&raw_seed("002"));
    // Seed 003's list: "14 Simulator Any (e.g. CD)", "2013 OrangeMoney CD ...".
    let seed3 = raw_seed("003");
    let start = seed3
        .find("Provider ID Provider Name Country Notes")
        .expect("seed 003's table");
    for line in seed3[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .skip(1)
    {
        if let Some(id) = line.split_whitespace().next().and_then(|t| t.parse().ok()) {
            documented.push(id);
        }
    }
    assert!(
        documented.len() > 100,
        "only {} ids found in the seeds",
        documented.len()
    );
    let missing: Vec<u32> = documented
        .iter()
        .copied()
        .filter(|id| !listed.contains(&u64::from(*id)))
        .collect();
    assert!(
        missing.is_empty(),
        "provider ids of the seeds missing from the rules: {missing:?}"
    );
}

#[test]
fn every_phone_format_line_is_claimed() {
    let v = yaml();
    let mut examples: Vec<String> = Vec::new();
    for country in v["countries"].as_sequence().into_iter().flatten() {
        examples.extend(country["phone"]["example"].as_str().map(str::to_owned));
        for p in country["providers"].as_sequence().into_iter().flatten() {
            examples.extend(p["phone"]["example"].as_str().map(str::to_owned));
        }
    }
    for seed in ["002", "003"] {
        let raw = raw_seed(seed);
        for (at, _) in raw.match_indices(" - This is the format of the phone number") {
            let number: String = raw[..at]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            assert!(
                !number.is_empty(),
                "seed {seed}: a format line without a number at {at}"
            );
            assert!(
                examples.contains(&number),
                "seed {seed}: the phone format {number} is not in the rules"
            );
        }
    }
}

#[test]
fn every_limits_row_is_claimed_once() {
    let printed = limits_rows(&raw_seed("002"));
    assert!(printed.values().sum::<usize>() > 40, "{printed:?}");
    let v = yaml();
    let mut claimed: BTreeMap<String, usize> = BTreeMap::new();
    for country in v["countries"].as_sequence().into_iter().flatten() {
        for table in country["tables"].as_sequence().into_iter().flatten() {
            if table["variant_of"].as_str().is_some() {
                continue; // another reading of a row already claimed
            }
            for quote in table["quotes"].as_sequence().into_iter().flatten() {
                let text = normalize(quote["text"].as_str().unwrap_or(""));
                if printed.contains_key(&text) {
                    *claimed.entry(text).or_default() += 1;
                }
            }
        }
    }
    assert_eq!(
        claimed, printed,
        "the limits rows the rules claim (left) differ from the rows the seed prints (right)"
    );
}
