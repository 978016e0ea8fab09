//! From the sections as written to one rule set per provider and direction:
//! which limits tables are its candidates, what binds (the loosest reading),
//! which extras, flow and `customer_id` kind apply, each with provenance.

use super::{
    Certainty, Country, CustomerIdKind, Direction, Flow, Phone, Provenance, ProviderDecl, Rules,
    Table,
};

/// A provider's limits in one direction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Limits {
    /// How the candidates were chosen; `None` when there are none.
    pub(crate) provenance: Option<Provenance>,
    /// Indices into [`Resolved::tables`].
    pub(crate) candidates: Vec<usize>,
    /// A reading with no limits at all exists: nothing binds.
    pub(crate) optional: bool,
    /// What every reading refuses, in minor units.
    pub(crate) min: Option<u64>,
    pub(crate) max: Option<u64>,
    pub(crate) step: Option<u64>,
    pub(crate) daily: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Extra {
    pub(crate) name: String,
    pub(crate) provenance: Provenance,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DirectionRules {
    pub(crate) limits: Limits,
    pub(crate) extras: Vec<Extra>,
    pub(crate) flow: Option<(Flow, Provenance)>,
    pub(crate) customer_id: Option<(CustomerIdKind, Provenance)>,
}

#[derive(Debug, Clone)]
pub(crate) struct ResolvedProvider {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) country: Option<String>,
    pub(crate) listed: Provenance,
    pub(crate) test_provider: bool,
    /// Its own phone format (overriding the country's).
    pub(crate) phone: Option<Phone>,
    pub(crate) note: Option<String>,
    pub(crate) c2b: DirectionRules,
    pub(crate) b2c: DirectionRules,
}

/// Everything the emitter needs.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) seeds: Vec<(String, String)>,
    pub(crate) countries: Vec<Country>,
    /// Every limits table, with its country code.
    pub(crate) tables: Vec<(String, Table)>,
    /// Sorted by id.
    pub(crate) providers: Vec<ResolvedProvider>,
}

pub(crate) fn resolve(rules: &Rules) -> Resolved {
    let mut tables = Vec::new();
    let mut providers = Vec::new();
    for p in &rules.global_providers {
        providers.push(ResolvedProvider {
            id: p.id,
            name: p.name.clone(),
            country: None,
            listed: p.listed.clone(),
            test_provider: p.test_provider,
            phone: p.phone.clone(),
            note: p.note.clone(),
            c2b: DirectionRules::default(),
            b2c: DirectionRules::default(),
        });
    }
    for country in &rules.countries {
        let first = tables.len();
        tables.extend(
            country
                .tables
                .iter()
                .map(|t| (country.code.clone(), t.clone())),
        );
        for p in &country.providers {
            let [c2b, b2c] = Direction::BOTH.map(|d| direction(country, first, p, d));
            providers.push(ResolvedProvider {
                id: p.id,
                name: p.name.clone(),
                country: Some(country.code.clone()),
                listed: p.listed.clone(),
                test_provider: p.test_provider,
                phone: p.phone.clone(),
                note: p.note.clone(),
                c2b,
                b2c,
            });
        }
    }
    providers.sort_by_key(|p| p.id);
    Resolved {
        seeds: rules.seeds.clone(),
        countries: rules.countries.clone(),
        tables,
        providers,
    }
}

fn direction(country: &Country, first: usize, p: &ProviderDecl, d: Direction) -> DirectionRules {
    DirectionRules {
        limits: limits(country, first, p, d),
        extras: extras(country, p.id, d),
        flow: most_certain(
            country
                .requirements
                .iter()
                .filter(|r| r.applies(p.id, d))
                .filter_map(|r| r.flow.map(|f| (f, r.provenance.clone()))),
        ),
        customer_id: most_certain(
            country
                .requirements
                .iter()
                .filter(|r| r.applies(p.id, d))
                .filter_map(|r| r.customer_id.map(|k| (k, r.provenance.clone()))),
        ),
    }
}

/// The first of the most certain statements.
fn most_certain<T>(items: impl Iterator<Item = (T, Provenance)>) -> Option<(T, Provenance)> {
    let mut best: Option<(T, Provenance)> = None;
    for item in items {
        if best
            .as_ref()
            .is_none_or(|b| item.1.certainty < b.1.certainty)
        {
            best = Some(item);
        }
    }
    best
}

fn extras(country: &Country, id: u32, d: Direction) -> Vec<Extra> {
    let mut out: Vec<Extra> = Vec::new();
    for r in country.requirements.iter().filter(|r| r.applies(id, d)) {
        for name in &r.extras {
            match out.iter_mut().find(|e| &e.name == name) {
                Some(e) if r.provenance.certainty < e.provenance.certainty => {
                    e.provenance = r.provenance.clone();
                }
                Some(_) => {}
                None => out.push(Extra {
                    name: name.clone(),
                    provenance: r.provenance.clone(),
                }),
            }
        }
    }
    out
}

fn limits(country: &Country, first: usize, p: &ProviderDecl, d: Direction) -> Limits {
    let index = |id: &str| country.tables.iter().position(|t| t.id == id);
    let (chosen, provenance, optional): (Vec<usize>, Provenance, bool) = match &p.limits {
        Some(o) => (
            o.tables.iter().filter_map(|t| index(t)).collect(),
            o.provenance.clone(),
            o.optional,
        ),
        None => {
            let labelled: Vec<usize> = (0..country.tables.len())
                .filter(|&i| country.tables[i].for_ids.contains(&p.id))
                .collect();
            if !labelled.is_empty() {
                let quotes = labelled
                    .iter()
                    .flat_map(|&i| country.tables[i].quotes.clone())
                    .collect();
                let reason = labelled
                    .iter()
                    .find_map(|&i| country.tables[i].note.clone());
                (
                    labelled,
                    Provenance {
                        certainty: Certainty::Documented,
                        quotes,
                        reason,
                    },
                    false,
                )
            } else {
                let open: Vec<usize> = (0..country.tables.len())
                    .filter(|&i| {
                        country.tables[i].for_ids.is_empty()
                            && country.tables[i].variant_of.is_none()
                    })
                    .collect();
                let quotes = open
                    .iter()
                    .flat_map(|&i| country.tables[i].quotes.clone())
                    .collect();
                let provenance = match open.len() {
                    0 => Provenance {
                        certainty: Certainty::Documented,
                        quotes: Vec::new(),
                        reason: None,
                    },
                    1 => Provenance {
                        certainty: Certainty::Inferred,
                        quotes,
                        reason: Some(format!(
                            "The only limits table of the {} section not labelled for other ids.",
                            country.name
                        )),
                    },
                    n => Provenance {
                        certainty: Certainty::Ambiguous,
                        quotes,
                        reason: Some(format!(
                            "The {} section prints {n} limits tables without saying which ids they are for; each is a candidate. The loosest binds, the others give warnings.",
                            country.name
                        )),
                    },
                };
                (open, provenance, false)
            }
        }
    };
    let candidates: Vec<usize> = chosen
        .into_iter()
        .filter(|&i| country.tables[i].side(d).is_some())
        .collect();
    if candidates.is_empty() {
        return Limits::default();
    }
    let sides: Vec<_> = candidates
        .iter()
        .filter_map(|&i| country.tables[i].side(d))
        .collect();
    let steps: Vec<Option<u64>> = candidates.iter().map(|&i| country.tables[i].step).collect();
    let mut limits = Limits {
        provenance: Some(provenance),
        candidates: candidates.iter().map(|i| first + i).collect(),
        optional,
        ..Limits::default()
    };
    if optional {
        return limits;
    }
    limits.min = sides
        .iter()
        .map(|s| s.min.unwrap_or(0))
        .min()
        .filter(|&m| m > 0);
    limits.max = sides
        .iter()
        .map(|s| s.max)
        .collect::<Option<Vec<u64>>>()
        .and_then(|maxes| maxes.into_iter().max());
    limits.step = binding_step(&steps);
    limits.daily = sides
        .iter()
        .map(|s| s.daily.iter().copied().max())
        .collect::<Option<Vec<u64>>>()
        .and_then(|d| d.into_iter().max());
    limits
}

/// A step binds only if every candidate has one, and one of them divides
/// all the others (then an amount off it is off every candidate's).
fn binding_step(steps: &[Option<u64>]) -> Option<u64> {
    let all: Vec<u64> = steps.iter().copied().collect::<Option<Vec<u64>>>()?;
    all.iter()
        .copied()
        .filter(|&s| s > 0 && all.iter().all(|&t| t % s == 0))
        .max()
}

#[cfg(test)]
mod tests {
    use super::binding_step;

    #[test]
    fn a_step_binds_only_when_every_reading_has_it() {
        assert_eq!(binding_step(&[Some(500), Some(500)]), Some(500));
        assert_eq!(binding_step(&[Some(500), None]), None);
        assert_eq!(binding_step(&[Some(500), Some(1000)]), Some(500));
        assert_eq!(binding_step(&[Some(300), Some(500)]), None);
        assert_eq!(binding_step(&[]), None);
    }
}
