//! Where the facts of the specs come from, and checking that they do.
//!
//! The provider rules and the OpenAPI specs cite the documentation (the
//! "seeds") verbatim. This module lists those citations and checks them
//! against the seed files: a quote must occur in its seed, up to
//! whitespace, and a quote made inside a country's section must occur
//! inside that section. Tests run it over the committed specs, so no fact
//! can claim a source it does not have.
//!
//! In an OpenAPI spec a fact cites its source with an `x-source` extension:
//! one entry or a list of entries, each `{seed, quote}` (the seed's words),
//! `{vendor: <JSON pointer>}` (the vendor's published spec), or
//! `{inferred: <reason>}` / `{assumed: <reason>}`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

use crate::error::{Diagnostics, Error};
use crate::{RulesSource, SpecSource};

/// Text with every run of whitespace turned into one space, trimmed.
pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A part of a seed between two verbatim anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Seed id.
    pub seed: String,
    /// Where it starts (included).
    pub from: String,
    /// Where the next part starts (excluded).
    pub to: String,
}

/// One quote and where it must be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// Where the citing fact is (a YAML path or JSON pointer).
    pub location: String,
    /// Seed id (`002`).
    pub seed: String,
    /// The quoted words.
    pub text: String,
    /// The sections the quote must be inside (empty: anywhere in the seed).
    pub sections: Vec<Section>,
}

/// A source named by an OpenAPI `x-source` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecSourceRef {
    /// The seed's words.
    Seed(Citation),
    /// A JSON pointer into the vendor's published spec.
    Vendor {
        /// Where the citing fact is.
        location: String,
        /// The pointer (`#/components/schemas/orderIdDef`).
        pointer: String,
    },
    /// Not stated anywhere: inferred or assumed, with the reason.
    Reasoned {
        /// Where the fact is.
        location: String,
        /// `inferred` or `assumed`.
        certainty: String,
        /// Why.
        reason: String,
    },
}

/// Every quote of a rules file, each with the sections it must be inside.
pub fn rules_citations(source: &RulesSource) -> Result<Vec<Citation>, Error> {
    let mut diag = Diagnostics::new(&source.name);
    let rules = crate::rules::load(&mut diag, &source.text)?;
    let mut out = Vec::new();
    let mut cite = |location: String, q: &crate::rules::Quote, sections: &[Section]| {
        out.push(Citation {
            location,
            seed: q.seed.clone(),
            text: q.text.clone(),
            sections: if q.anywhere {
                Vec::new()
            } else {
                sections.to_vec()
            },
        });
    };
    for p in &rules.global_providers {
        for q in &p.listed.quotes {
            cite(format!("global_providers[id={}]", p.id), q, &[]);
        }
    }
    for c in &rules.countries {
        let sections: Vec<Section> = c
            .sections
            .iter()
            .map(|s| Section {
                seed: s.seed.clone(),
                from: s.from.clone(),
                to: s.to.clone(),
            })
            .collect();
        let at = |what: &str| format!("countries[{}].{what}", c.code);
        for q in &c.identified.quotes {
            cite(at("identified"), q, &sections);
        }
        for q in c.currency.iter().flat_map(|cur| &cur.provenance.quotes) {
            cite(at("currency"), q, &sections);
        }
        for q in c.phone.iter().flat_map(|p| &p.provenance.quotes) {
            cite(at("phone"), q, &sections);
        }
        for t in &c.tables {
            for q in &t.quotes {
                cite(at(&format!("tables[{}]", t.id)), q, &sections);
            }
        }
        for (i, r) in c.requirements.iter().enumerate() {
            for q in &r.provenance.quotes {
                cite(at(&format!("requirements[{i}]")), q, &sections);
            }
        }
        for p in &c.providers {
            let where_ = at(&format!("providers[id={}]", p.id));
            for q in &p.listed.quotes {
                cite(where_.clone(), q, &sections);
            }
            for q in p.phone.iter().flat_map(|ph| &ph.provenance.quotes) {
                cite(format!("{where_}.phone"), q, &sections);
            }
            for q in p.limits.iter().flat_map(|l| &l.provenance.quotes) {
                cite(format!("{where_}.limits"), q, &sections);
            }
        }
        for (name, p) in &c.unlisted {
            for q in &p.quotes {
                cite(at(&format!("unlisted[{name}]")), q, &sections);
            }
        }
    }
    Ok(out)
}

/// The seed files a rules file declares: (id, file name).
pub fn rules_seed_files(source: &RulesSource) -> Result<Vec<(String, String)>, Error> {
    let mut diag = Diagnostics::new(&source.name);
    Ok(crate::rules::load(&mut diag, &source.text)?.seeds)
}

/// Every `x-source` entry of an OpenAPI document (JSON or YAML), in
/// document order. An entry that is not one of the known shapes is an
/// error naming its pointer.
pub fn spec_sources(source: &SpecSource) -> Result<Vec<SpecSourceRef>, Error> {
    let diag = Diagnostics::new(&source.name);
    let value = crate::load::parse_text(&source.name, &source.text)?;
    let mut out = Vec::new();
    // An explicit stack: the document's depth must not become ours.
    let mut stack: Vec<(String, &Value)> = vec![("#".to_owned(), &value)];
    while let Some((pointer, node)) = stack.pop() {
        match node {
            Value::Mapping(m) => {
                let mut children = Vec::new();
                for (k, v) in m {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    if key == "x-source" {
                        read_x_source(&diag, &pointer, &child, v, &mut out)?;
                    } else {
                        children.push((child, v));
                    }
                }
                stack.extend(children.into_iter().rev());
            }
            Value::Sequence(s) => {
                stack.extend(
                    s.iter()
                        .enumerate()
                        .rev()
                        .map(|(i, v)| (format!("{pointer}/{i}"), v)),
                );
            }
            _ => {}
        }
    }
    Ok(out)
}

fn read_x_source(
    diag: &Diagnostics,
    owner: &str,
    at: &str,
    v: &Value,
    out: &mut Vec<SpecSourceRef>,
) -> Result<(), Error> {
    let entries: Vec<(String, &Value)> = match v {
        Value::Sequence(s) => s
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("{at}/{i}"), e))
            .collect(),
        other => vec![(at.to_owned(), other)],
    };
    for (here, e) in entries {
        let Some(m) = e.as_mapping() else {
            return Err(diag.spec_error(&here, "an x-source entry is a mapping"));
        };
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
        let entry = if let (Some(seed), Some(quote)) = (text("seed"), text("quote")) {
            SpecSourceRef::Seed(Citation {
                location: owner.to_owned(),
                seed,
                text: quote,
                sections: Vec::new(),
            })
        } else if let Some(pointer) = text("vendor") {
            SpecSourceRef::Vendor {
                location: owner.to_owned(),
                pointer,
            }
        } else if let Some(reason) = text("inferred") {
            SpecSourceRef::Reasoned {
                location: owner.to_owned(),
                certainty: "inferred".into(),
                reason,
            }
        } else if let Some(reason) = text("assumed") {
            SpecSourceRef::Reasoned {
                location: owner.to_owned(),
                certainty: "assumed".into(),
                reason,
            }
        } else {
            return Err(diag.spec_error(
                &here,
                "an x-source entry is {seed, quote}, {vendor}, {inferred} or {assumed}",
            ));
        };
        out.push(entry);
    }
    Ok(())
}

/// The seed files, normalized, by id.
#[derive(Debug, Clone, Default)]
pub struct Seeds {
    texts: BTreeMap<String, String>,
}

impl Seeds {
    /// Reads `files` (id, file name) from `dir`.
    pub fn load(dir: &Path, files: &[(String, String)]) -> Result<Seeds, String> {
        let mut texts = BTreeMap::new();
        for (id, file) in files {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read seed {id} ({}): {e}", path.display()))?;
            texts.insert(id.clone(), normalize(&text));
        }
        Ok(Seeds { texts })
    }

    /// Seeds from (id, text) pairs.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Seeds {
        Seeds {
            texts: texts
                .into_iter()
                .map(|(id, t)| (id.to_owned(), normalize(t)))
                .collect(),
        }
    }

    /// The normalized text of seed `id`.
    pub fn text(&self, id: &str) -> Option<&str> {
        self.texts.get(id).map(String::as_str)
    }

    /// The byte range of `section` in its normalized seed.
    pub fn section_range(&self, section: &Section) -> Result<(usize, usize), String> {
        let text = self
            .text(&section.seed)
            .ok_or_else(|| format!("no seed {}", section.seed))?;
        let from = normalize(&section.from);
        let start = text.find(&from).ok_or_else(|| {
            format!(
                "section anchor {:?} does not occur in seed {}",
                section.from, section.seed
            )
        })?;
        if text[start + 1..].contains(&from) {
            return Err(format!(
                "section anchor {:?} occurs more than once in seed {}",
                section.from, section.seed
            ));
        }
        let to = normalize(&section.to);
        let end = text[start + from.len()..]
            .find(&to)
            .map(|i| i + start + from.len())
            .ok_or_else(|| {
                format!(
                    "section end {:?} does not occur after {:?} in seed {}",
                    section.to, section.from, section.seed
                )
            })?;
        Ok((start, end))
    }

    /// Checks one citation: the quote occurs in its seed, and inside one of
    /// its sections when it has any.
    pub fn check(&self, c: &Citation) -> Result<(), String> {
        let text = self
            .text(&c.seed)
            .ok_or_else(|| format!("{}: seed {} is not loaded", c.location, c.seed))?;
        let quote = normalize(&c.text);
        if !text.contains(&quote) {
            return Err(format!(
                "{}: the quote {:?} does not occur in seed {}",
                c.location, c.text, c.seed
            ));
        }
        let in_seed: Vec<&Section> = c.sections.iter().filter(|s| s.seed == c.seed).collect();
        if in_seed.is_empty() {
            return Ok(());
        }
        for section in in_seed {
            let (start, end) = self.section_range(section)?;
            if text[start..end].contains(&quote) {
                return Ok(());
            }
        }
        Err(format!(
            "{}: the quote {:?} occurs in seed {} but not inside the section it is cited for",
            c.location, c.text, c.seed
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_found_up_to_whitespace_and_only_in_their_section() {
        let seeds = Seeds::from_texts([("1", "| A |\nfoo   bar\n| B |\nbaz\n")]);
        let section = Section {
            seed: "1".into(),
            from: "| A |".into(),
            to: "| B |".into(),
        };
        let cite = |text: &str, sections: Vec<Section>| Citation {
            location: "here".into(),
            seed: "1".into(),
            text: text.into(),
            sections,
        };
        assert!(seeds.check(&cite("foo bar", vec![section.clone()])).is_ok());
        assert!(seeds.check(&cite("foo\n bar", vec![])).is_ok());
        let outside = seeds.check(&cite("baz", vec![section])).unwrap_err();
        assert!(outside.contains("not inside"), "{outside}");
        let missing = seeds.check(&cite("qux", vec![])).unwrap_err();
        assert!(missing.contains("does not occur"), "{missing}");
    }
}
