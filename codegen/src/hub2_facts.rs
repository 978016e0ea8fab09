//! HUB2's coverage facts (`spec/hub2/providers.yaml`): which (country,
//! provider) pairs and methods it serves, in which currency, what Processing
//! Only mode supports, each fact with its certainty and sources. Read
//! strictly, checked against the HUB2 spec's enums, and emitted as typed
//! tables (`paygate::hub2::providers`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde::Deserialize;

use crate::error::{Diagnostics, Error};
use crate::model::{Api, Kind};
use crate::provenance::Citation;
use crate::SpecSource;

/// The facts file, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsSource {
    /// Where it comes from, for messages and the generated header.
    pub name: String,
    /// The document (YAML).
    pub text: String,
}

impl FactsSource {
    /// Facts from text; `name` labels them in messages.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        FactsSource {
            name: name.into(),
            text: text.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Facts {
    version: u32,
    seeds: std::collections::BTreeMap<String, String>,
    currencies: Currencies,
    mobile_money: MobileMoney,
    bank_transfer: BankTransfer,
    processing_only: ProcessingOnly,
    sandbox_otp_message: OtpMessage,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Quote {
    seed: String,
    text: String,
}

/// A fact: its provenance (`certainty`, `quotes`, `reason`) and its content,
/// strictly (an unknown key is an error).
macro_rules! fact {
    ($name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            certainty: String,
            #[serde(default)]
            quotes: Vec<Quote>,
            #[serde(default)]
            reason: Option<String>,
            $($field: $ty,)*
        }

        impl $name {
            fn source(&self) -> Source<'_> {
                Source {
                    certainty: &self.certainty,
                    quotes: &self.quotes,
                    reason: self.reason.as_deref(),
                }
            }
        }
    };
}

/// A fact's provenance, borrowed.
struct Source<'a> {
    certainty: &'a str,
    quotes: &'a [Quote],
    reason: Option<&'a str>,
}

fact!(Currencies { countries: Vec<CountryCurrency> });
fact!(MobileMoney { pairs: Vec<CountryProviders> });
fact!(BankTransfer { countries: Vec<String> });
fact!(ProcessingOnly { pairs: Vec<ServicedPair> });
fact!(OtpMessage { text: String });

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryCurrency {
    country: String,
    currency: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryProviders {
    country: String,
    providers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicedPair {
    country: String,
    provider: String,
    services: Vec<String>,
}

impl Facts {
    /// Every fact's name and provenance, in file order.
    fn sources(&self) -> [(&'static str, Source<'_>); 5] {
        [
            ("currencies", self.currencies.source()),
            ("mobile_money", self.mobile_money.source()),
            ("bank_transfer", self.bank_transfer.source()),
            ("processing_only", self.processing_only.source()),
            ("sandbox_otp_message", self.sandbox_otp_message.source()),
        ]
    }
}

/// The facts, read and checked: the quotes of each fact, for provenance
/// checks against the seeds.
pub fn hub2_facts_citations(facts: &FactsSource) -> Result<Vec<Citation>, Error> {
    let parsed = read(facts)?;
    let mut out = Vec::new();
    for (name, source) in parsed.sources() {
        for (i, q) in source.quotes.iter().enumerate() {
            out.push(Citation {
                location: format!("{name}.quotes[{i}]"),
                seed: q.seed.clone(),
                text: q.text.clone(),
                sections: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// The seed files the facts cite (id → file name).
pub fn hub2_facts_seed_files(facts: &FactsSource) -> Result<Vec<(String, String)>, Error> {
    Ok(read(facts)?.seeds.into_iter().collect())
}

fn read(source: &FactsSource) -> Result<Facts, Error> {
    crate::prescan::check_bounds(&source.name, &source.text)?;
    let facts: Facts = serde_yaml::from_str(&source.text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        Error::Syntax {
            origin: source.name.clone(),
            format: "YAML",
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let diag = Diagnostics::new(&source.name);
    if facts.version != 1 {
        return Err(diag.rules_error("version", "only version 1 is known"));
    }
    for (name, source) in facts.sources() {
        let needs_reason = matches!(source.certainty, "inferred" | "ambiguous" | "assumed");
        if source.certainty == "documented" && source.quotes.is_empty() {
            return Err(
                diag.rules_error(name, "a documented fact needs `quotes` (the seed's words)")
            );
        }
        if needs_reason && source.reason.is_none() {
            return Err(diag.rules_error(
                name,
                "an inferred, ambiguous or assumed fact needs a `reason`",
            ));
        }
        if source.certainty != "documented" && !needs_reason {
            return Err(diag.rules_error(
                format!("{name}.certainty"),
                "expected documented, inferred, ambiguous or assumed",
            ));
        }
        for (i, q) in source.quotes.iter().enumerate() {
            if !facts.seeds.contains_key(&q.seed) {
                return Err(diag.rules_error(
                    format!("{name}.quotes[{i}].seed"),
                    format!("seed `{}` is not declared under `seeds`", q.seed),
                ));
            }
            if q.text.trim().is_empty() {
                return Err(diag.rules_error(
                    format!("{name}.quotes[{i}].text"),
                    "an empty quote cites nothing",
                ));
            }
        }
    }
    Ok(facts)
}

/// An enum of the HUB2 spec: wire value → variant identifier.
struct EnumValues<'a> {
    name: &'static str,
    variants: Vec<(&'a str, &'a str)>,
}

impl<'a> EnumValues<'a> {
    fn of(api: &'a Api, name: &'static str, diag: &Diagnostics) -> Result<Self, Error> {
        match api.item(name).map(|item| &item.kind) {
            Some(Kind::StrEnum(variants)) => Ok(EnumValues {
                name,
                variants: variants
                    .iter()
                    .map(|v| (v.value.as_str(), v.ident.as_str()))
                    .collect(),
            }),
            _ => Err(diag.rules_error(
                name,
                format!("the HUB2 spec has no string enum `{name}` for the facts to refer to"),
            )),
        }
    }

    /// `Country::Ci` for `CI`; an error naming the path otherwise.
    fn variant(&self, value: &str, path: &str, diag: &Diagnostics) -> Result<TokenStream, Error> {
        let Some((_, ident)) = self.variants.iter().find(|(wire, _)| *wire == value) else {
            let known: Vec<&str> = self.variants.iter().map(|(wire, _)| *wire).collect();
            return Err(diag.rules_error(
                path,
                format!(
                    "`{value}` is not a value of the spec's `{}` ({})",
                    self.name,
                    known.join(", ")
                ),
            ));
        };
        let ty = format_ident!("{}", self.name);
        let variant = format_ident!("{}", ident);
        Ok(quote!(#ty::#variant))
    }
}

/// The `providers` module of `paygate::hub2`: the facts as typed tables.
pub fn generate_hub2_providers(spec: &SpecSource, facts: &FactsSource) -> Result<String, Error> {
    let mut spec_diag = Diagnostics::new(&spec.name);
    let api = crate::load::load_openapi(&mut spec_diag, &spec.text)?;
    let model = crate::schema::lower(&api, &mut spec_diag, &[])?;
    let parsed = read(facts)?;
    let diag = Diagnostics::new(&facts.name);
    let countries = EnumValues::of(&model, "Country", &diag)?;
    let providers = EnumValues::of(&model, "Provider", &diag)?;
    let currencies = EnumValues::of(&model, "Currency", &diag)?;

    let mut currency_rows = Vec::new();
    for (i, row) in parsed.currencies.countries.iter().enumerate() {
        let at = format!("currencies.countries[{i}]");
        let country = countries.variant(&row.country, &format!("{at}.country"), &diag)?;
        let currency = currencies.variant(&row.currency, &format!("{at}.currency"), &diag)?;
        currency_rows.push(quote!(CountryCurrency { country: #country, currency: #currency }));
    }
    let mut pair_rows = Vec::new();
    for (i, row) in parsed.mobile_money.pairs.iter().enumerate() {
        let at = format!("mobile_money.pairs[{i}]");
        let country = countries.variant(&row.country, &format!("{at}.country"), &diag)?;
        for (j, provider) in row.providers.iter().enumerate() {
            let provider = providers.variant(provider, &format!("{at}.providers[{j}]"), &diag)?;
            pair_rows.push(quote!(Pair { country: #country, provider: #provider }));
        }
    }
    let mut bank_rows = Vec::new();
    for (i, country) in parsed.bank_transfer.countries.iter().enumerate() {
        bank_rows.push(countries.variant(
            country,
            &format!("bank_transfer.countries[{i}]"),
            &diag,
        )?);
    }
    let mut delegated_rows = Vec::new();
    for (i, row) in parsed.processing_only.pairs.iter().enumerate() {
        let at = format!("processing_only.pairs[{i}]");
        let country = countries.variant(&row.country, &format!("{at}.country"), &diag)?;
        let provider = providers.variant(&row.provider, &format!("{at}.provider"), &diag)?;
        let mut services = Vec::new();
        for (j, service) in row.services.iter().enumerate() {
            services.push(match service.as_str() {
                "payment" => quote!(Service::Payment),
                "transfer" => quote!(Service::Transfer),
                other => {
                    return Err(diag.rules_error(
                        format!("{at}.services[{j}]"),
                        format!("`{other}` is not a service (payment, transfer)"),
                    ))
                }
            });
        }
        delegated_rows.push(quote!(ServicedPair {
            pair: Pair { country: #country, provider: #provider },
            services: &[#(#services),*],
        }));
    }
    let provenance = |source: Source<'_>| {
        let variant = format_ident!(
            "{}",
            match source.certainty {
                "documented" => "Documented",
                "inferred" => "Inferred",
                "ambiguous" => "Ambiguous",
                _ => "Assumed",
            }
        );
        let quotes = source.quotes.iter().map(|q| {
            let (seed, text) = (&q.seed, &q.text);
            quote!(crate::rules::Quote { seed: #seed, text: #text })
        });
        let reason = match source.reason {
            Some(r) => {
                let r = crate::provenance::normalize(r);
                quote!(Some(#r))
            }
            None => quote!(None),
        };
        quote!(Provenance {
            certainty: crate::rules::Certainty::#variant,
            quotes: &[#(#quotes),*],
            reason: #reason,
        })
    };
    let p = &parsed;
    let currencies_source = provenance(p.currencies.source());
    let mobile_source = provenance(p.mobile_money.source());
    let bank_source = provenance(p.bank_transfer.source());
    let delegated_source = provenance(p.processing_only.source());
    let otp_source = provenance(p.sandbox_otp_message.source());
    let otp = &p.sandbox_otp_message.text;
    let seeds = p.seeds.iter().map(|(id, file)| quote!((#id, #file)));

    let tokens = quote! {
        use super::{Country, Currency, Provider};
        use crate::rules::Provenance;

        /// The seed files the facts quote: (id, file name).
        pub const SEEDS: &[(&str, &str)] = &[#(#seeds),*];

        /// A country and the currency its payments are in.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct CountryCurrency {
            /// The country.
            pub country: Country,
            /// Its currency.
            pub currency: Currency,
        }

        /// A (country, provider) pair.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Pair {
            /// The country.
            pub country: Country,
            /// The provider.
            pub provider: Provider,
        }

        /// What HUB2 offers on a pair in Processing Only mode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Service {
            /// Payments (pay-ins).
            Payment,
            /// Transfers (payouts).
            Transfer,
        }

        /// A pair and the services offered on it.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct ServicedPair {
            /// The pair.
            pub pair: Pair,
            /// The services.
            pub services: &'static [Service],
        }

        /// The currency of each country HUB2 serves.
        pub const CURRENCIES: &[CountryCurrency] = &[#(#currency_rows),*];
        /// Where [`CURRENCIES`] comes from.
        pub const CURRENCIES_SOURCE: Provenance = #currencies_source;

        /// The pairs served for mobile-money payments and transfers.
        pub const MOBILE_MONEY: &[Pair] = &[#(#pair_rows),*];
        /// Where [`MOBILE_MONEY`] comes from.
        pub const MOBILE_MONEY_SOURCE: Provenance = #mobile_source;

        /// The countries where `bank_transfer` payments are taken.
        pub const BANK_TRANSFER: &[Country] = &[#(#bank_rows),*];
        /// Where [`BANK_TRANSFER`] comes from.
        pub const BANK_TRANSFER_SOURCE: Provenance = #bank_source;

        /// The pairs of Processing Only mode (delegated payments and
        /// transfers with the merchant's own provider credentials).
        pub const PROCESSING_ONLY: &[ServicedPair] = &[#(#delegated_rows),*];
        /// Where [`PROCESSING_ONLY`] comes from.
        pub const PROCESSING_ONLY_SOURCE: Provenance = #delegated_source;

        /// The message of the sandbox's OTP `nextAction`.
        pub const SANDBOX_OTP_MESSAGE: &str = #otp;
        /// Where [`SANDBOX_OTP_MESSAGE`] comes from.
        pub const SANDBOX_OTP_MESSAGE_SOURCE: Provenance = #otp_source;

        /// The currency of `country`'s payments, if HUB2 serves it.
        pub fn currency_of(country: &Country) -> Option<&'static Currency> {
            CURRENCIES.iter().find(|c| c.country == *country).map(|c| &c.currency)
        }

        /// Whether mobile-money payments and transfers are served for
        /// `provider` in `country`.
        pub fn serves_mobile_money(country: &Country, provider: &Provider) -> bool {
            MOBILE_MONEY.iter().any(|p| p.country == *country && p.provider == *provider)
        }

        /// Whether `bank_transfer` payments are taken in `country`.
        pub fn takes_bank_transfer(country: &Country) -> bool {
            BANK_TRANSFER.contains(country)
        }

        /// The Processing Only services offered for `provider` in `country`
        /// (empty if none).
        pub fn processing_only(country: &Country, provider: &Provider) -> &'static [Service] {
            PROCESSING_ONLY
                .iter()
                .find(|s| s.pair.country == *country && s.pair.provider == *provider)
                .map_or(&[], |s| s.services)
        }
    };
    let file = syn::parse2::<syn::File>(tokens).map_err(|e| Error::Internal(e.to_string()))?;
    let header = format!(
        "// @generated by paygate-codegen {} from `{}` and the enums of `{}`.\n// Do not edit: change the facts and rebuild.\n\n",
        env!("CARGO_PKG_VERSION"),
        facts.name.replace('\\', "/"),
        spec.name.replace('\\', "/"),
    );
    let mut code = header;
    crate::space_items(&prettyplease::unparse(&file), &mut code, &mut false);
    Ok(code)
}
