//! Where the facts of the specs come from, and checking that they do.
//!
//! The provider rules and the OpenAPI specs cite the documentation (the
//! "seeds") verbatim. This module lists those citations and checks them
//! against the seed files: a quote must occur in its seed, up to
//! whitespace, and a quote made inside a country's section must occur
//! inside that section. Tests run it over the committed specs, so no fact
//! can claim a source it does not have.
//!
//! (The OpenAPI specs cite theirs with `x-source` extensions, checked by
//! `codegen/tests/spec_provenance.rs`.)

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Diagnostics, Error};
use crate::RulesSource;

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
