//! From YAML text to [`Rules`], checking every fact's shape and
//! provenance. Errors name the YAML path (`countries[3].tables[1].c2b.min`).

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::{Mapping, Value};

use super::phone::{compile_phone, matches_tokens};
use super::{
    parse_amount, show_amount, Certainty, Country, Currency, CustomerIdKind, Direction, Flow,
    LimitsOverride, Phone, Provenance, ProviderDecl, Quote, Requirement, Rules, Section, Table,
    TableSide,
};
use crate::error::{Diagnostics, Error};

/// The format version this reader understands.
const VERSION: u64 = 2;

/// Longest phone pattern accepted (the matcher backtracks per token).
const MAX_PATTERN_LEN: usize = 64;

pub(crate) fn load(diag: &mut Diagnostics, text: &str) -> Result<Rules, Error> {
    let mut value = crate::load::parse_text(&diag.origin, text)?;
    value
        .apply_merge()
        .map_err(|e| diag.rules_error("(root)", format!("YAML merge keys: {e}")))?;
    let Some(root) = value.as_mapping() else {
        return Err(diag.rules_error("(root)", "the rules must be a mapping"));
    };
    let mut r = Reader {
        diag,
        seeds: BTreeSet::new(),
    };
    r.check_keys(
        root,
        "(root)",
        &[
            "version",
            "api",
            "api_version",
            "seeds",
            "global_providers",
            "countries",
        ],
    );
    match root.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        Some(other) => {
            return Err(r.diag.rules_error(
                "version",
                format!("version {other} is not supported; this generator reads version {VERSION} (facts with provenance)"),
            ))
        }
        None => {
            return Err(r.diag.rules_error(
                "version",
                format!("missing `version: {VERSION}`"),
            ))
        }
    }
    let mut seeds = Vec::new();
    match root.get("seeds") {
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                let (Some(id), Some(file)) = (scalar_text(k), v.as_str()) else {
                    return Err(r
                        .diag
                        .rules_error("seeds", "expected `id: file name` pairs"));
                };
                r.seeds.insert(id.clone());
                seeds.push((id, file.to_owned()));
            }
        }
        _ => {
            return Err(r
                .diag
                .rules_error("seeds", "missing `seeds`: the seed files quotes refer to"))
        }
    }

    let mut global_providers = Vec::new();
    if let Some(list) = r.opt_seq(root, "global_providers", "(root)")? {
        for (i, p) in list.iter().enumerate() {
            global_providers.push(r.provider(p, &format!("global_providers[{i}]"))?);
        }
    }
    let mut countries = Vec::new();
    for (i, c) in r.seq(root, "countries", "(root)")?.iter().enumerate() {
        countries.push(r.country(c, &format!("countries[{i}]"))?);
    }

    let mut seen_countries: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen_ids: BTreeMap<u32, String> = BTreeMap::new();
    for (i, p) in global_providers.iter().enumerate() {
        note_id(
            r.diag,
            &mut seen_ids,
            p.id,
            format!("global_providers[{i}]"),
        )?;
    }
    for (ci, c) in countries.iter().enumerate() {
        if let Some(first) = seen_countries.insert(&c.code, ci) {
            return Err(r.diag.rules_error(
                format!("countries[{ci}]"),
                format!(
                    "duplicate country code `{}` (also at countries[{first}])",
                    c.code
                ),
            ));
        }
        for (pi, p) in c.providers.iter().enumerate() {
            note_id(
                r.diag,
                &mut seen_ids,
                p.id,
                format!("countries[{ci}].providers[{pi}]"),
            )?;
        }
    }
    countries.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Rules {
        seeds,
        countries,
        global_providers,
    })
}

fn note_id(
    diag: &Diagnostics,
    seen: &mut BTreeMap<u32, String>,
    id: u32,
    path: String,
) -> Result<(), Error> {
    if let Some(first) = seen.get(&id) {
        return Err(diag.rules_error(
            &path,
            format!("duplicate provider id {id}: defined at {first} and again at {path}"),
        ));
    }
    seen.insert(id, path);
    Ok(())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

struct Reader<'d> {
    diag: &'d mut Diagnostics,
    /// Declared seed ids.
    seeds: BTreeSet<String>,
}

impl Reader<'_> {
    fn err(&self, path: impl std::fmt::Display, message: impl Into<String>) -> Error {
        self.diag.rules_error(path, message)
    }

    fn check_keys(&mut self, m: &Mapping, path: &str, known: &[&str]) {
        for key in m.keys() {
            let name = scalar_text(key).unwrap_or_else(|| format!("{key:?}"));
            if !known.contains(&name.as_str()) {
                self.diag
                    .warn(format!("{path}.{name}"), "unknown key; ignored");
            }
        }
    }

    fn map<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Mapping, Error> {
        v.as_mapping()
            .ok_or_else(|| self.err(path, "expected a mapping"))
    }

    fn seq<'v>(&self, m: &'v Mapping, key: &str, path: &str) -> Result<&'v [Value], Error> {
        self.opt_seq(m, key, path)?
            .ok_or_else(|| self.err(format!("{path}.{key}"), format!("missing `{key}`")))
    }

    fn opt_seq<'v>(
        &self,
        m: &'v Mapping,
        key: &str,
        path: &str,
    ) -> Result<Option<&'v [Value]>, Error> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Sequence(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(format!("{path}.{key}"), "expected a list")),
        }
    }

    fn string(&self, m: &Mapping, key: &str, path: &str) -> Result<String, Error> {
        self.opt_string(m, key, path)?
            .ok_or_else(|| self.err(format!("{path}.{key}"), format!("missing `{key}`")))
    }

    fn opt_string(&self, m: &Mapping, key: &str, path: &str) -> Result<Option<String>, Error> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar_text(v)
                .map(Some)
                .ok_or_else(|| self.err(format!("{path}.{key}"), "expected a string")),
        }
    }

    fn id(&self, v: &Value, path: &str) -> Result<u32, Error> {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.err(
                    path,
                    "a provider id must be a non-negative integer below 2^32",
                )
            })
    }

    fn ids(&self, m: &Mapping, key: &str, path: &str) -> Result<Option<Vec<u32>>, Error> {
        let Some(list) = self.opt_seq(m, key, path)? else {
            return Ok(None);
        };
        list.iter()
            .enumerate()
            .map(|(i, v)| self.id(v, &format!("{path}.{key}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn quotes(&self, m: &Mapping, path: &str) -> Result<Vec<Quote>, Error> {
        let Some(list) = self.opt_seq(m, "quotes", path)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (i, q) in list.iter().enumerate() {
            let at = format!("{path}.quotes[{i}]");
            let q = self.map(q, &at)?;
            let seed = self.string(q, "seed", &at)?;
            if !self.seeds.contains(&seed) {
                return Err(self.err(
                    format!("{at}.seed"),
                    format!("seed `{seed}` is not declared under `seeds`"),
                ));
            }
            let text = self.string(q, "text", &at)?;
            if text.trim().is_empty() {
                return Err(self.err(format!("{at}.text"), "an empty quote cites nothing"));
            }
            let anywhere = q.get("anywhere").and_then(Value::as_bool).unwrap_or(false);
            out.push(Quote {
                seed,
                text,
                anywhere,
            });
        }
        Ok(out)
    }

    /// Reads `certainty`, `quotes` and `reason` of a fact; `default` is the
    /// certainty when the fact states none.
    fn provenance(
        &self,
        m: &Mapping,
        path: &str,
        default: Option<Certainty>,
    ) -> Result<Provenance, Error> {
        let certainty = match m.get("certainty") {
            None => default.ok_or_else(|| {
                self.err(
                    format!("{path}.certainty"),
                    "missing `certainty` (documented, inferred, ambiguous or assumed)",
                )
            })?,
            Some(v) => v.as_str().and_then(Certainty::parse).ok_or_else(|| {
                self.err(
                    format!("{path}.certainty"),
                    "expected documented, inferred, ambiguous or assumed",
                )
            })?,
        };
        let quotes = self.quotes(m, path)?;
        let reason = self.opt_string(m, "reason", path)?;
        if certainty == Certainty::Documented && quotes.is_empty() {
            return Err(self.err(path, "a documented fact needs `quotes` (the seed's words)"));
        }
        if certainty != Certainty::Documented && reason.is_none() {
            return Err(self.err(
                path,
                "an inferred, ambiguous or assumed fact needs a `reason`",
            ));
        }
        Ok(Provenance {
            certainty,
            quotes,
            reason,
        })
    }

    fn amount(&self, m: &Mapping, key: &str, path: &str) -> Result<Option<u64>, Error> {
        let at = format!("{path}.{key}");
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let text = scalar_text(v).unwrap_or_default();
                parse_amount(&text).map(Some).ok_or_else(|| {
                    self.err(
                        &at,
                        format!("`{text}` is not an amount (digits with up to two decimals, like '100.00')"),
                    )
                })
            }
        }
    }

    fn phone(&self, v: &Value, path: &str) -> Result<Phone, Error> {
        let m = self.map(v, path)?;
        let pattern = self.string(m, "pattern", path)?;
        let example = self.string(m, "example", path)?;
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(self.err(
                format!("{path}.pattern"),
                format!("patterns are at most {MAX_PATTERN_LEN} characters"),
            ));
        }
        let tokens = compile_phone(&pattern).map_err(|e| {
            self.err(
                format!("{path}.pattern"),
                format!("pattern `{pattern}`: {e}"),
            )
        })?;
        if !matches_tokens(&tokens, example.as_bytes()) {
            return Err(self.err(
                format!("{path}.example"),
                format!("example `{example}` does not match the pattern `{pattern}`"),
            ));
        }
        let provenance = self.provenance(m, path, None)?;
        Ok(Phone {
            pattern,
            example,
            tokens,
            provenance,
        })
    }

    fn directions(&self, m: &Mapping, path: &str) -> Result<Vec<Direction>, Error> {
        let Some(list) = self.opt_seq(m, "directions", path)? else {
            return Ok(Direction::BOTH.to_vec());
        };
        list.iter()
            .enumerate()
            .map(|(i, v)| match v.as_str() {
                Some("c2b") => Ok(Direction::C2b),
                Some("b2c") => Ok(Direction::B2c),
                _ => Err(self.err(format!("{path}.directions[{i}]"), "expected c2b or b2c")),
            })
            .collect()
    }

    fn provider(&mut self, v: &Value, path: &str) -> Result<ProviderDecl, Error> {
        let m = self.map(v, path)?;
        self.check_keys(
            m,
            path,
            &[
                "id",
                "name",
                "certainty",
                "quotes",
                "reason",
                "phone",
                "limits",
                "note",
                "test_provider",
            ],
        );
        let id = match m.get("id") {
            Some(v) => self.id(v, &format!("{path}.id"))?,
            None => return Err(self.err(format!("{path}.id"), "missing `id`")),
        };
        let name = self.string(m, "name", path)?;
        let listed = self.provenance(m, path, Some(Certainty::Documented))?;
        let phone = match m.get("phone") {
            None | Some(Value::Null) => None,
            Some(p) => Some(self.phone(p, &format!("{path}.phone"))?),
        };
        let limits = match m.get("limits") {
            None | Some(Value::Null) => None,
            Some(l) => {
                let at = format!("{path}.limits");
                let lm = self.map(l, &at)?;
                let tables = self
                    .seq(lm, "tables", &at)?
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        t.as_str().map(str::to_owned).ok_or_else(|| {
                            self.err(format!("{at}.tables[{i}]"), "expected a table id")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let provenance = self.provenance(lm, &at, None)?;
                let optional = lm.get("optional").and_then(Value::as_bool).unwrap_or(false);
                Some(LimitsOverride {
                    tables,
                    provenance,
                    optional,
                })
            }
        };
        Ok(ProviderDecl {
            id,
            name,
            listed,
            phone,
            limits,
            note: self.opt_string(m, "note", path)?,
            test_provider: m
                .get("test_provider")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn table(&self, v: &Value, path: &str) -> Result<Table, Error> {
        let m = self.map(v, path)?;
        let id = self.string(m, "id", path)?;
        let quotes = self.quotes(m, path)?;
        if quotes.is_empty() {
            return Err(self.err(path, "a limits table needs `quotes` (its printed row)"));
        }
        let step = self.amount(m, "step", path)?;
        if step == Some(0) {
            return Err(self.err(format!("{path}.step"), "a step of zero divides nothing"));
        }
        let mut sides = [None, None];
        for (slot, direction) in sides.iter_mut().zip(Direction::BOTH) {
            let at = format!("{path}.{}", direction.key());
            let Some(s) = m.get(direction.key()) else {
                continue;
            };
            let s = self.map(s, &at)?;
            let min = self.amount(s, "min", &at)?;
            if !s.contains_key("max") {
                return Err(self.err(
                    &at,
                    "missing `max` (write `max: null` when the table says \"no limit\")",
                ));
            }
            let max = self.amount(s, "max", &at)?;
            if let (Some(lo), Some(hi)) = (min, max) {
                if lo > hi {
                    return Err(self.err(
                        &at,
                        format!(
                            "min ({}) is greater than max ({})",
                            show_amount(lo),
                            show_amount(hi)
                        ),
                    ));
                }
            }
            let mut daily = Vec::new();
            if let Some(list) = self.opt_seq(s, "daily", &at)? {
                for (i, d) in list.iter().enumerate() {
                    let text = scalar_text(d).unwrap_or_default();
                    daily.push(parse_amount(&text).ok_or_else(|| {
                        self.err(
                            format!("{at}.daily[{i}]"),
                            format!("`{text}` is not an amount"),
                        )
                    })?);
                }
            }
            *slot = Some(TableSide { min, max, daily });
        }
        let [c2b, b2c] = sides;
        if c2b.is_none() && b2c.is_none() {
            return Err(self.err(path, "a limits table needs `c2b` or `b2c`"));
        }
        let note = ["label_reason", "located_reason", "daily_reason"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Table {
            id,
            quotes,
            step,
            c2b,
            b2c,
            for_ids: self.ids(m, "for", path)?.unwrap_or_default(),
            variant_of: self.opt_string(m, "variant_of", path)?,
            note: (!note.is_empty()).then_some(note),
        })
    }

    fn requirement(&self, v: &Value, path: &str) -> Result<Requirement, Error> {
        let m = self.map(v, path)?;
        let mut extras = Vec::new();
        if let Some(list) = self.opt_seq(m, "extras", path)? {
            for (i, e) in list.iter().enumerate() {
                extras.push(e.as_str().map(str::to_owned).ok_or_else(|| {
                    self.err(format!("{path}.extras[{i}]"), "expected a field name")
                })?);
            }
        }
        let flow = match m.get("flow") {
            None => None,
            Some(f) => Some(f.as_str().and_then(Flow::parse).ok_or_else(|| {
                self.err(
                    format!("{path}.flow"),
                    "expected standard, otp, redirect, bank_transfer or payment_page",
                )
            })?),
        };
        let customer_id = match m.get("customer_id").and_then(Value::as_str) {
            None => None,
            Some("phone") => Some(CustomerIdKind::Phone),
            Some("account") => Some(CustomerIdKind::Account),
            Some(_) => {
                return Err(self.err(format!("{path}.customer_id"), "expected phone or account"))
            }
        };
        if extras.is_empty() && flow.is_none() && customer_id.is_none() {
            return Err(self.err(
                path,
                "a requirement states `extras`, `flow` or `customer_id`",
            ));
        }
        Ok(Requirement {
            providers: self.ids(m, "providers", path)?,
            directions: self.directions(m, path)?,
            extras,
            flow,
            customer_id,
            provenance: self.provenance(m, path, None)?,
        })
    }

    fn country(&mut self, v: &Value, path: &str) -> Result<Country, Error> {
        let m = self.map(v, path)?;
        self.check_keys(
            m,
            path,
            &[
                "code",
                "name",
                "sections",
                "identified",
                "currency",
                "phone",
                "tables",
                "requirements",
                "providers",
                "unlisted",
            ],
        );
        let code = self.string(m, "code", path)?;
        let name = self.string(m, "name", path)?;
        let mut sections = Vec::new();
        for (i, s) in self.seq(m, "sections", path)?.iter().enumerate() {
            let at = format!("{path}.sections[{i}]");
            let s = self.map(s, &at)?;
            let seed = self.string(s, "seed", &at)?;
            if !self.seeds.contains(&seed) {
                return Err(self.err(
                    format!("{at}.seed"),
                    format!("seed `{seed}` is not declared"),
                ));
            }
            sections.push(Section {
                seed,
                from: self.string(s, "from", &at)?,
                to: self.string(s, "to", &at)?,
            });
        }
        let identified = match m.get("identified") {
            Some(i) => self.provenance(
                self.map(i, &format!("{path}.identified"))?,
                &format!("{path}.identified"),
                None,
            )?,
            None => {
                return Err(self.err(
                    format!("{path}.identified"),
                    "missing `identified`: how the seeds tie this section to the country",
                ))
            }
        };
        let currency = match m.get("currency") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let at = format!("{path}.currency");
                let c = self.map(c, &at)?;
                Some(Currency {
                    code: self.string(c, "value", &at)?,
                    provenance: self.provenance(c, &at, None)?,
                })
            }
        };
        let phone = match m.get("phone") {
            None | Some(Value::Null) => None,
            Some(p) => Some(self.phone(p, &format!("{path}.phone"))?),
        };
        let mut tables = Vec::new();
        if let Some(list) = self.opt_seq(m, "tables", path)? {
            for (i, t) in list.iter().enumerate() {
                tables.push(self.table(t, &format!("{path}.tables[{i}]"))?);
            }
        }
        let mut providers = Vec::new();
        for (i, p) in self.seq(m, "providers", path)?.iter().enumerate() {
            providers.push(self.provider(p, &format!("{path}.providers[{i}]"))?);
        }
        let mut requirements = Vec::new();
        if let Some(list) = self.opt_seq(m, "requirements", path)? {
            for (i, r) in list.iter().enumerate() {
                requirements.push(self.requirement(r, &format!("{path}.requirements[{i}]"))?);
            }
        }
        let mut unlisted = Vec::new();
        if let Some(list) = self.opt_seq(m, "unlisted", path)? {
            for (i, u) in list.iter().enumerate() {
                let at = format!("{path}.unlisted[{i}]");
                let u = self.map(u, &at)?;
                unlisted.push((
                    self.string(u, "name", &at)?,
                    self.provenance(u, &at, Some(Certainty::Documented))?,
                ));
            }
        }
        let country = Country {
            code,
            name,
            sections,
            identified,
            currency,
            phone,
            tables,
            requirements,
            providers,
            unlisted,
        };
        self.cross_check(&country, path)?;
        Ok(country)
    }

    /// References inside a country point at things that exist.
    fn cross_check(&self, c: &Country, path: &str) -> Result<(), Error> {
        let ids: BTreeSet<u32> = c.providers.iter().map(|p| p.id).collect();
        let mut table_ids = BTreeSet::new();
        for (i, t) in c.tables.iter().enumerate() {
            if !table_ids.insert(t.id.as_str()) {
                return Err(self.err(
                    format!("{path}.tables[{i}].id"),
                    format!("duplicate table id `{}`", t.id),
                ));
            }
            if let Some(id) = t.for_ids.iter().find(|id| !ids.contains(id)) {
                return Err(self.err(
                    format!("{path}.tables[{i}].for"),
                    format!("provider {id} is not a provider of {}", c.code),
                ));
            }
        }
        for (i, t) in c.tables.iter().enumerate() {
            if let Some(v) = &t.variant_of {
                if !table_ids.contains(v.as_str()) {
                    return Err(self.err(
                        format!("{path}.tables[{i}].variant_of"),
                        format!("no table `{v}` in {}", c.code),
                    ));
                }
            }
        }
        for (i, r) in c.requirements.iter().enumerate() {
            if let Some(id) = r.providers.iter().flatten().find(|id| !ids.contains(id)) {
                return Err(self.err(
                    format!("{path}.requirements[{i}].providers"),
                    format!("provider {id} is not a provider of {}", c.code),
                ));
            }
        }
        for (i, p) in c.providers.iter().enumerate() {
            for t in p.limits.iter().flat_map(|l| &l.tables) {
                if !table_ids.contains(t.as_str()) {
                    return Err(self.err(
                        format!("{path}.providers[{i}].limits.tables"),
                        format!("no table `{t}` in {}", c.code),
                    ));
                }
            }
        }
        Ok(())
    }
}
