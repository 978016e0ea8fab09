//! `spec/gateway/examples.yaml` records every example the gateway's
//! documentation prints, faithfully: the objects are extracted from the
//! seeds here, independently, and each must be recorded with the same keys
//! in the same order and the same scalar values.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seed(prefix: &str) -> String {
    let dir = root().join("../shared/seeds");
    let entry = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the seeds must be beside the repository)",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no seed {prefix}"));
    std::fs::read_to_string(entry.path()).expect("seed")
}

/// The top-level objects printed in a seed, with the page's decorations
/// removed (list bullets, trailing commas, folded `{ }` objects), as
/// ordered key/value pairs.
fn printed_objects(raw: &str) -> Vec<IndexMap<String, Value>> {
    // Redoc's list bullets: "  • " and "- " before a key.
    let mut text = String::with_capacity(raw.len());
    for line in raw.replace('•', "").lines() {
        let mut l = line.trim_start().to_owned();
        for prefix in ["{- ", "}{- ", "}, - ", "- "] {
            if let Some(rest) = l.strip_prefix(prefix) {
                l = format!("{}{rest}", &prefix[..prefix.len() - 2]);
            }
        }
        text.push_str(&l);
        text.push('\n');
    }
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(start) = text[i..].find('{').map(|k| k + i) {
        let next = text[start + 1..].trim_start();
        if !next.starts_with('"') {
            i = start + 1;
            continue;
        }
        // The matching brace, outside strings.
        let (mut depth, mut in_str, mut esc, mut end) = (0i32, false, false, None);
        for (j, &b) in bytes.iter().enumerate().skip(start) {
            if in_str {
                match b {
                    _ if esc => esc = false,
                    b'\\' => esc = true,
                    b'"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.expect("a closing brace");
        let object = &text[start..=end];
        let mut cleaned = String::new();
        let chars: Vec<char> = object.chars().collect();
        for (k, c) in chars.iter().enumerate() {
            // A comma followed (after whitespace) by a closing brace.
            if *c == ',' && chars[k + 1..].iter().find(|c| !c.is_whitespace()) == Some(&'}') {
                continue;
            }
            cleaned.push(*c);
        }
        let parsed: IndexMap<String, Value> = serde_json::from_str(&cleaned)
            .unwrap_or_else(|e| panic!("a printed object does not parse ({e}): {cleaned}"));
        out.push(parsed);
        i = end + 1;
    }
    out
}

/// The `$postData = [ 'k' => v, ... ];` array of a seed, as ordered pairs.
fn php_sample(raw: &str) -> IndexMap<String, Value> {
    let start = raw.find("$postData = [").expect("a PHP sample");
    let body = &raw[start..raw[start..].find("];").map(|e| e + start).expect("its end")];
    let mut out = IndexMap::new();
    for line in body.lines().skip(1) {
        let Some((k, v)) = line.trim().trim_end_matches(',').split_once("=>") else {
            continue;
        };
        let key = k.trim().trim_matches('\'').to_owned();
        let v = v.trim();
        let value = match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            Some(text) => Value::String(text.to_owned()),
            None => serde_json::from_str(v).expect("a PHP number"),
        };
        out.insert(key, value);
    }
    out
}

#[derive(serde::Deserialize)]
struct Example {
    id: String,
    seed: String,
    kind: String,
    body: String,
}

#[derive(serde::Deserialize)]
struct File {
    examples: Vec<Example>,
}

fn recorded() -> Vec<Example> {
    let text =
        std::fs::read_to_string(root().join("spec/gateway/examples.yaml")).expect("examples.yaml");
    serde_yaml::from_str::<File>(&text)
        .expect("examples.yaml parses")
        .examples
}

/// Same keys in the same order; same scalars (an object printed folded,
/// `{ }`, matches any object).
fn same(
    printed: &IndexMap<String, Value>,
    recorded: &IndexMap<String, Value>,
) -> Result<(), String> {
    let keys = |m: &IndexMap<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    if keys(printed) != keys(recorded) {
        return Err(format!("keys {:?} vs {:?}", keys(printed), keys(recorded)));
    }
    for (key, value) in printed {
        let other = &recorded[key];
        match (value, other) {
            (Value::Object(p), Value::Object(_)) if p.is_empty() => {}
            (Value::Object(_), Value::Object(_)) => {
                if value != other {
                    return Err(format!("`{key}`: {value} vs {other}"));
                }
            }
            _ if value == other => {}
            _ => return Err(format!("`{key}`: printed {value}, recorded {other}")),
        }
    }
    Ok(())
}

#[test]
fn every_printed_example_is_recorded_faithfully() {
    let recorded = recorded();
    for seed_id in ["002", "003"] {
        let raw = seed(seed_id);
        let printed = printed_objects(&raw);
        assert_eq!(
            printed.len(),
            13,
            "seed {seed_id} prints {} objects",
            printed.len()
        );
        let mine: Vec<&Example> = recorded
            .iter()
            .filter(|e| e.seed == seed_id && !e.id.ends_with("php-signing-sample"))
            .collect();
        assert_eq!(
            mine.len(),
            printed.len(),
            "seed {seed_id}: recorded vs printed"
        );
        for (p, r) in printed.iter().zip(&mine) {
            let body: IndexMap<String, Value> =
                serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{}: {e}", r.id));
            if let Err(diff) = same(p, &body) {
                panic!("{} differs from the printed example: {diff}", r.id);
            }
            assert!(
                matches!(r.kind.as_str(), "request" | "response" | "callback"),
                "{}",
                r.id
            );
        }
        let php = recorded
            .iter()
            .find(|e| e.seed == seed_id && e.id.ends_with("php-signing-sample"))
            .unwrap_or_else(|| panic!("seed {seed_id}'s PHP sample is not recorded"));
        let body: IndexMap<String, Value> = serde_json::from_str(&php.body).expect("JSON");
        if let Err(diff) = same(&php_sample(&raw), &body) {
            panic!("{} differs from the PHP sample: {diff}", php.id);
        }
    }
}

#[test]
fn the_comparison_notices_a_changed_example() {
    let raw = seed("002");
    let printed = printed_objects(&raw);
    let bf = printed
        .iter()
        .find(|o| o.get("country") == Some(&Value::String("BF".into())))
        .expect("the Burkina Faso example");
    let mut changed = bf.clone();
    changed.insert("amount".into(), Value::String("1100.00".into()));
    assert!(same(bf, &changed).is_err());
    let mut reordered = IndexMap::new();
    for (k, v) in bf.iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    assert!(same(bf, &reordered).is_err());
}
