//! The resolved rules as Rust: the static `PROVIDER_TABLE` and the open
//! `ProviderId` enum. Shared provenance blocks (a section's statements, a
//! country's facts) are emitted once as private constants.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::phone::PhoneToken;
use super::resolve::{DirectionRules, Limits, ResolvedProvider};
use super::{CustomerIdKind, Phone, Provenance, Resolved, Table, TableSide};
use crate::emit::{docs, int_enum};
use crate::model::Variant;
use crate::names;

/// The `PROVIDER_TABLE` static (and the constants it uses).
pub(crate) fn provider_table(rules: &Resolved, origin: &str) -> TokenStream {
    let mut consts = Consts::default();
    let seeds = rules.seeds.iter().map(|(id, file)| quote!((#id, #file)));
    let countries: Vec<TokenStream> = rules
        .countries
        .iter()
        .map(|c| {
            let (code, name) = (&c.code, &c.name);
            let identified = consts.provenance(&format!("{code}_IDENTIFIED"), &c.identified);
            let currency = match &c.currency {
                Some(cur) => {
                    let value = &cur.code;
                    let p = consts.provenance(&format!("{code}_CURRENCY"), &cur.provenance);
                    quote!(Some(crate::rules::CurrencyRule { code: #value, provenance: #p }))
                }
                None => quote!(None),
            };
            let phone = opt_phone(&mut consts, &format!("{code}_PHONE"), c.phone.as_ref());
            quote! {
                crate::rules::CountryRule {
                    code: #code,
                    name: #name,
                    identified: #identified,
                    currency: #currency,
                    phone: #phone,
                }
            }
        })
        .collect();
    let tables: Vec<TokenStream> = rules.tables.iter().map(|(c, t)| table(c, t)).collect();
    let providers: Vec<TokenStream> = rules
        .providers
        .iter()
        .map(|p| provider(&mut consts, p))
        .collect();
    let doc = docs(&format!(
        "The provider table of `{origin}`: {} countries (sorted by code), {} providers (sorted by id) and {} printed limits tables, every fact with its source and certainty.",
        rules.countries.len(),
        rules.providers.len(),
        rules.tables.len()
    ));
    let defs = consts.defs;
    quote! {
        #(#defs)*

        #doc
        pub static PROVIDER_TABLE: crate::rules::ProviderTable = crate::rules::ProviderTable {
            seeds: &[ #(#seeds),* ],
            countries: &[ #(#countries),* ],
            providers: &[ #(#providers),* ],
            tables: &[ #(#tables),* ],
        };
    }
}

/// The open `ProviderId` enum.
pub(crate) fn provider_id_enum(rules: &Resolved) -> TokenStream {
    if rules.providers.is_empty() {
        return quote!();
    }
    let mut namer = names::Namer::default();
    namer.reserve("Unknown", "");
    let variants: Vec<Variant<i64>> = rules
        .providers
        .iter()
        .map(|p| {
            let country = p.country.as_deref().unwrap_or("");
            let base = names::pascal(&format!("{} {} {}", p.name, country, p.id), "P");
            let (ident, _) = namer.unique(&base, "", "_");
            let place = match &p.country {
                Some(c) => format!(" ({c})"),
                None => " (no country)".to_owned(),
            };
            let source = p
                .listed
                .quotes
                .first()
                .map(|q| {
                    format!(
                        " Listed in seed {}: \"{}\" ({}).",
                        q.seed,
                        q.text,
                        p.listed.certainty.variant().to_ascii_lowercase()
                    )
                })
                .unwrap_or_default();
            Variant {
                ident,
                value: i64::from(p.id),
                doc: format!("{}{place}, provider id `{}`.{source}", p.name, p.id),
            }
        })
        .collect();
    let extra = quote! {
        /// This provider's rules in [`PROVIDER_TABLE`], if it is listed there.
        pub fn rule(&self) -> Option<&'static crate::rules::ProviderRule> {
            u32::try_from(self.code()).ok().and_then(|id| PROVIDER_TABLE.provider(id))
        }
    };
    int_enum(
        "ProviderId",
        "A provider id of the gateway. Open: ids not in the rules deserialize as `Unknown`.",
        &variants,
        extra,
    )
}

/// Provenance blocks emitted once each, as private constants: identical
/// blocks (a section statement shared by its providers) share one.
#[derive(Default)]
struct Consts {
    defs: Vec<TokenStream>,
    /// (name, the value's tokens as text) of each constant emitted.
    seen: Vec<(String, String)>,
}

impl Consts {
    /// A constant holding `p`, named after `name` unless an identical one
    /// exists; returns its name.
    fn provenance(&mut self, name: &str, p: &Provenance) -> TokenStream {
        let value = provenance(p);
        let text = value.to_string();
        if let Some((existing, _)) = self.seen.iter().find(|(_, v)| *v == text) {
            let ident = format_ident!("{}", existing);
            return quote!(#ident);
        }
        let base = names::snake(name).to_ascii_uppercase();
        let mut unique = base.clone();
        let mut n = 2;
        while self.seen.iter().any(|(existing, _)| *existing == unique) {
            unique = format!("{base}_{n}");
            n += 1;
        }
        let ident = format_ident!("{}", unique);
        self.defs.push(quote! {
            const #ident: crate::rules::Provenance = #value;
        });
        self.seen.push((unique, text));
        quote!(#ident)
    }
}

fn provenance(p: &Provenance) -> TokenStream {
    let certainty = certainty(p.certainty);
    let quotes = p.quotes.iter().map(|q| {
        let (seed, text) = (&q.seed, &q.text);
        quote!(crate::rules::Quote { seed: #seed, text: #text })
    });
    let reason = opt_str(p.reason.as_deref());
    quote! {
        crate::rules::Provenance {
            certainty: #certainty,
            quotes: &[ #(#quotes),* ],
            reason: #reason,
        }
    }
}

fn certainty(c: super::Certainty) -> TokenStream {
    let v = format_ident!("{}", c.variant());
    quote!(crate::rules::Certainty::#v)
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn amount(minor: Option<u64>) -> TokenStream {
    match minor {
        Some(m) => {
            let m = Literal::u64_unsuffixed(m);
            quote!(Some(crate::money::Amount::from_minor(#m)))
        }
        None => quote!(None),
    }
}

fn opt_phone(consts: &mut Consts, name: &str, p: Option<&Phone>) -> TokenStream {
    let Some(p) = p else { return quote!(None) };
    let tokens = p.tokens.iter().map(|t| match t {
        PhoneToken::Literal(l) => quote!(crate::rules::PhoneToken::Literal(#l)),
        PhoneToken::Digits { allowed, min, max } => {
            let (min, max) = (Literal::u8_unsuffixed(*min), Literal::u8_unsuffixed(*max));
            quote!(crate::rules::PhoneToken::Digits { allowed: #allowed, min: #min, max: #max })
        }
    });
    let (pattern, example) = (&p.pattern, &p.example);
    let provenance = consts.provenance(name, &p.provenance);
    quote! {
        Some(crate::rules::PhoneRule {
            format: crate::rules::PhoneFormat { pattern: #pattern, example: #example, tokens: &[ #(#tokens),* ] },
            provenance: #provenance,
        })
    }
}

fn side(s: &Option<TableSide>) -> TokenStream {
    let Some(s) = s else { return quote!(None) };
    let (min, max) = (amount(s.min), amount(s.max));
    let daily = s.daily.iter().map(|d| {
        let d = Literal::u64_unsuffixed(*d);
        quote!(crate::money::Amount::from_minor(#d))
    });
    quote! {
        Some(crate::rules::TableSide { min: #min, max: #max, daily: &[ #(#daily),* ] })
    }
}

fn table(country: &str, t: &Table) -> TokenStream {
    let id = &t.id;
    let quotes = t.quotes.iter().map(|q| {
        let (seed, text) = (&q.seed, &q.text);
        quote!(crate::rules::Quote { seed: #seed, text: #text })
    });
    let step = amount(t.step);
    let (c2b, b2c) = (side(&t.c2b), side(&t.b2c));
    let labelled = t.for_ids.iter().map(|i| Literal::u32_unsuffixed(*i));
    let note = opt_str(t.note.as_deref());
    quote! {
        crate::rules::LimitTable {
            id: #id,
            country: #country,
            quotes: &[ #(#quotes),* ],
            step: #step,
            c2b: #c2b,
            b2c: #b2c,
            labelled_for: &[ #(#labelled),* ],
            note: #note,
        }
    }
}

fn limits(l: &Limits) -> TokenStream {
    let certainty = match &l.provenance {
        Some(p) => {
            let c = certainty(p.certainty);
            quote!(Some(#c))
        }
        None => quote!(None),
    };
    let reason = opt_str(l.provenance.as_ref().and_then(|p| p.reason.as_deref()));
    let candidates = l.candidates.iter().map(|&i| {
        let i = u16::try_from(i).unwrap_or(u16::MAX);
        Literal::u16_unsuffixed(i)
    });
    let optional = l.optional;
    let (min, max, step, daily) = (
        amount(l.min),
        amount(l.max),
        amount(l.step),
        amount(l.daily),
    );
    quote! {
        crate::rules::Limits {
            certainty: #certainty,
            reason: #reason,
            candidates: &[ #(#candidates),* ],
            optional: #optional,
            min: #min,
            max: #max,
            step: #step,
            daily_max: #daily,
        }
    }
}

fn direction(consts: &mut Consts, prefix: &str, d: &DirectionRules) -> TokenStream {
    let limits = limits(&d.limits);
    let extras: Vec<TokenStream> = d
        .extras
        .iter()
        .map(|e| {
            let name = &e.name;
            let p = consts.provenance(&format!("{prefix}_EXTRA_{name}"), &e.provenance);
            quote!(crate::rules::ExtraRule { name: #name, provenance: #p })
        })
        .collect();
    let flow = match &d.flow {
        Some((f, p)) => {
            let v = format_ident!("{}", f.variant());
            let p = consts.provenance(&format!("{prefix}_FLOW"), p);
            quote!(Some(crate::rules::FlowRule { flow: crate::rules::Flow::#v, provenance: #p }))
        }
        None => quote!(None),
    };
    let customer_id = match &d.customer_id {
        Some((k, p)) => {
            let v: Ident = match k {
                CustomerIdKind::Phone => format_ident!("Phone"),
                CustomerIdKind::Account => format_ident!("Account"),
            };
            let p = consts.provenance(&format!("{prefix}_CUSTOMER_ID"), p);
            quote!(Some(crate::rules::CustomerIdRule { kind: crate::rules::CustomerIdKind::#v, provenance: #p }))
        }
        None => quote!(None),
    };
    quote! {
        crate::rules::DirectionRule {
            limits: #limits,
            extras: &[ #(#extras),* ],
            flow: #flow,
            customer_id: #customer_id,
        }
    }
}

fn provider(consts: &mut Consts, p: &ResolvedProvider) -> TokenStream {
    let id = Literal::u32_unsuffixed(p.id);
    let name = &p.name;
    let country = opt_str(p.country.as_deref());
    // Shared blocks are named after the country whose section states them.
    let prefix = p.country.clone().unwrap_or_else(|| format!("P{}", p.id));
    let listed = provenance(&p.listed);
    let test_provider = p.test_provider;
    let phone = opt_phone(consts, &format!("P{}_PHONE", p.id), p.phone.as_ref());
    let note = opt_str(p.note.as_deref());
    let c2b = direction(consts, &format!("{prefix}_C2B"), &p.c2b);
    let b2c = direction(consts, &format!("{prefix}_B2C"), &p.b2c);
    quote! {
        crate::rules::ProviderRule {
            id: #id,
            name: #name,
            country: #country,
            listed: #listed,
            test_provider: #test_provider,
            phone: #phone,
            note: #note,
            c2b: #c2b,
            b2c: #b2c,
        }
    }
}
