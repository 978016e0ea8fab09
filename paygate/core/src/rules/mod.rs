//! Provider rules: which providers exist, where, within which limits, and
//! what each needs, every fact with its source and certainty.
//!
//! The tables themselves are generated from `spec/gateway/providers.yaml` at
//! build time (see `paygate::gateway::PROVIDER_TABLE`); these are the types
//! they are made of. What a client may refuse on is decided by each fact's
//! [`Certainty`]: documented and inferred facts bind, ambiguous ones bind
//! only as their loosest reading, assumed ones never.

mod phone;

pub use phone::{matches_phone, PhoneFormat, PhoneToken};

use crate::money::Amount;

/// How sure the documentation is of a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Certainty {
    /// The documentation states it (see the quotes).
    Documented,
    /// Not stated in words, but the documentation leaves one reading (see
    /// the reason).
    Inferred,
    /// The documentation allows several readings: only what all of them
    /// refuse is refused; the rest is a warning.
    Ambiguous,
    /// Not in the documentation at all: a warning at most.
    Assumed,
}

impl Certainty {
    /// Whether a request may be refused on this fact alone.
    pub const fn binds(self) -> bool {
        matches!(self, Certainty::Documented | Certainty::Inferred)
    }

    /// `documented`, `inferred`, `ambiguous` or `assumed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Certainty::Documented => "documented",
            Certainty::Inferred => "inferred",
            Certainty::Ambiguous => "ambiguous",
            Certainty::Assumed => "assumed",
        }
    }
}

impl core::fmt::Display for Certainty {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Words of the documentation, verbatim up to whitespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// The seed file's id (`002`), see [`ProviderTable::seeds`].
    pub seed: &'static str,
    /// The words.
    pub text: &'static str,
}

/// Where a fact comes from and how sure it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// How sure.
    pub certainty: Certainty,
    /// The documentation's words (the evidence, for inferred facts).
    pub quotes: &'static [Quote],
    /// Why, for anything not documented in words; the readings, for
    /// ambiguous facts.
    pub reason: Option<&'static str>,
}

impl Provenance {
    /// A fact that comes from code, not from the documentation (for tables
    /// built in tests).
    pub const UNSOURCED: Provenance = Provenance {
        certainty: Certainty::Assumed,
        quotes: &[],
        reason: Some("built in code, not from the documentation"),
    };
}

/// C2B (the customer pays the merchant) or B2C (the merchant pays out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Customer to business: a payment.
    C2b,
    /// Business to customer: a payout.
    B2c,
}

impl Direction {
    /// Both, C2B first.
    pub const BOTH: [Direction; 2] = [Direction::C2b, Direction::B2c];

    /// `c2b` or `b2c`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::C2b => "c2b",
            Direction::B2c => "b2c",
        }
    }
}

/// How a provider completes a payment beyond the standard request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    /// One request, then a callback.
    Standard,
    /// The customer's one-time password, in `extra.otp` of the payment or
    /// of a later `status` request.
    Otp,
    /// The status response carries `extra.customer_redirect`, a page the
    /// customer must be sent to.
    Redirect,
    /// The synchronous response carries bank-transfer details in `extra`.
    BankTransfer,
    /// The merchant must implement a payment page.
    PaymentPage,
}

impl Flow {
    /// `standard`, `otp`, `redirect`, `bank_transfer` or `payment_page`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Flow::Standard => "standard",
            Flow::Otp => "otp",
            Flow::Redirect => "redirect",
            Flow::BankTransfer => "bank_transfer",
            Flow::PaymentPage => "payment_page",
        }
    }
}

/// What a request's `customer_id` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CustomerIdKind {
    /// The customer's phone number.
    Phone,
    /// A bank account number.
    Account,
}

/// A phone format and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneRule {
    /// The format.
    pub format: PhoneFormat,
    /// Its source.
    pub provenance: Provenance,
}

/// A country's currency and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurrencyRule {
    /// ISO 4217 code.
    pub code: &'static str,
    /// Its source.
    pub provenance: Provenance,
}

/// A country the gateway serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountryRule {
    /// ISO 3166-1 alpha-2 code.
    pub code: &'static str,
    /// English name.
    pub name: &'static str,
    /// How the documentation ties its section to this country.
    pub identified: Provenance,
    /// The currency used there, if known.
    pub currency: Option<CurrencyRule>,
    /// The phone-number format, if the documentation gives one.
    pub phone: Option<PhoneRule>,
}

/// What one printed limits table says for one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSide {
    /// Smallest amount, if given.
    pub min: Option<Amount>,
    /// Largest amount per transaction; `None`: "no limit".
    pub max: Option<Amount>,
    /// Readings of a cumulative per-day maximum, if given.
    pub daily: &'static [Amount],
}

/// One limits table as the documentation prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitTable {
    /// Stable id (`CI.4`).
    pub id: &'static str,
    /// The country whose section prints it.
    pub country: &'static str,
    /// Its printed row (and the note or label above it).
    pub quotes: &'static [Quote],
    /// Amounts must be a multiple of this, if the table says so.
    pub step: Option<Amount>,
    /// Payments, if the table covers them.
    pub c2b: Option<TableSide>,
    /// Payouts, if the table covers them.
    pub b2c: Option<TableSide>,
    /// The ids the documentation labels it for (empty: unlabelled).
    pub labelled_for: &'static [u32],
    /// Why it is placed or read as it is.
    pub note: Option<&'static str>,
}

impl LimitTable {
    /// What it says for `direction`, if anything.
    pub fn side(&self, direction: Direction) -> Option<&TableSide> {
        match direction {
            Direction::C2b => self.c2b.as_ref(),
            Direction::B2c => self.b2c.as_ref(),
        }
    }
}

/// A provider's limits in one direction: the candidate tables and what
/// binds (what every candidate refuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How sure the choice of candidates is (their quotes are the
    /// tables'); `None` when no table applies.
    pub certainty: Option<Certainty>,
    /// Why these candidates (for inferred and ambiguous choices).
    pub reason: Option<&'static str>,
    /// Indices into [`ProviderTable::tables`].
    pub candidates: &'static [u16],
    /// One reading has no limits at all: nothing binds, each candidate
    /// gives warnings only.
    pub optional: bool,
    /// Binding minimum.
    pub min: Option<Amount>,
    /// Binding maximum per transaction.
    pub max: Option<Amount>,
    /// Binding step.
    pub step: Option<Amount>,
    /// Binding cumulative maximum per day (checked by the gateway, which
    /// knows the day's total).
    pub daily_max: Option<Amount>,
}

impl Limits {
    /// No limits.
    pub const NONE: Limits = Limits {
        certainty: None,
        reason: None,
        candidates: &[],
        optional: false,
        min: None,
        max: None,
        step: None,
        daily_max: None,
    };
}

/// An `extra` field a direction needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtraRule {
    /// The field's name under `extra`.
    pub name: &'static str,
    /// Its source: binding ones are refused when missing, others warned.
    pub provenance: Provenance,
}

/// A direction's flow and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRule {
    /// The flow.
    pub flow: Flow,
    /// Its source.
    pub provenance: Provenance,
}

/// What `customer_id` holds, and where that comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomerIdRule {
    /// Phone or account.
    pub kind: CustomerIdKind,
    /// Its source.
    pub provenance: Provenance,
}

/// What a provider needs in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectionRule {
    /// Amount limits.
    pub limits: Limits,
    /// `extra` fields.
    pub extras: &'static [ExtraRule],
    /// The flow, if the documentation states one.
    pub flow: Option<FlowRule>,
    /// What `customer_id` holds, if the documentation says (a phone number
    /// otherwise).
    pub customer_id: Option<CustomerIdRule>,
}

impl DirectionRule {
    /// Nothing known.
    pub const OPEN: DirectionRule = DirectionRule {
        limits: Limits::NONE,
        extras: &[],
        flow: None,
        customer_id: None,
    };

    /// The flow (standard when the documentation states none).
    pub fn flow(&self) -> Flow {
        self.flow.map_or(Flow::Standard, |f| f.flow)
    }

    /// What `customer_id` holds (a phone number unless documented
    /// otherwise).
    pub fn customer_id_kind(&self) -> CustomerIdKind {
        self.customer_id.map_or(CustomerIdKind::Phone, |c| c.kind)
    }

    /// The `extra` fields a request must carry (binding ones only).
    pub fn required_extras(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.extras
            .iter()
            .filter(|e| e.provenance.certainty.binds())
            .map(|e| e.name)
    }
}

/// One provider id and everything the documentation says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderRule {
    /// The gateway's provider id.
    pub id: u32,
    /// Display name (MTN, Orange, ...).
    pub name: &'static str,
    /// Country code; `None` for providers tied to no country.
    pub country: Option<&'static str>,
    /// How the documentation lists it.
    pub listed: Provenance,
    /// The gateway's documented test provider (14).
    pub test_provider: bool,
    /// Its own phone format, overriding its country's.
    pub phone: Option<PhoneRule>,
    /// A remark.
    pub note: Option<&'static str>,
    /// Payments (customer to merchant).
    pub c2b: DirectionRule,
    /// Payouts (merchant to customer).
    pub b2c: DirectionRule,
}

impl ProviderRule {
    /// The rules for one direction.
    pub fn direction(&self, direction: Direction) -> &DirectionRule {
        match direction {
            Direction::C2b => &self.c2b,
            Direction::B2c => &self.b2c,
        }
    }
}

/// A brand's provider table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderTable {
    /// The documentation files quotes come from: (id, file name).
    pub seeds: &'static [(&'static str, &'static str)],
    /// Countries, sorted by code.
    pub countries: &'static [CountryRule],
    /// Providers, sorted by id.
    pub providers: &'static [ProviderRule],
    /// Every printed limits table.
    pub tables: &'static [LimitTable],
}

impl ProviderTable {
    /// The provider with this id.
    pub fn provider(&self, id: u32) -> Option<&'static ProviderRule> {
        self.providers
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .and_then(|i| self.providers.get(i))
    }

    /// The country with this code.
    pub fn country(&self, code: &str) -> Option<&'static CountryRule> {
        self.countries
            .binary_search_by(|c| c.code.cmp(code))
            .ok()
            .and_then(|i| self.countries.get(i))
    }

    /// The candidate tables of `limits`.
    pub fn candidates(&self, limits: &Limits) -> impl Iterator<Item = &'static LimitTable> + '_ {
        let tables = self.tables;
        limits
            .candidates
            .iter()
            .filter_map(move |&i| tables.get(usize::from(i)))
    }

    /// The phone format that applies to `provider`: its own, else its
    /// country's.
    pub fn phone_for<'a>(&self, provider: &'a ProviderRule) -> Option<&'a PhoneRule>
    where
        'static: 'a,
    {
        match &provider.phone {
            Some(own) => Some(own),
            None => provider
                .country
                .and_then(|c| self.country(c))
                .and_then(|c| c.phone.as_ref()),
        }
    }

    /// The currency of `provider`'s country, if known.
    pub fn currency_for(&self, provider: &ProviderRule) -> Option<&'static CurrencyRule> {
        provider
            .country
            .and_then(|c| self.country(c))
            .and_then(|c| c.currency.as_ref())
    }

    /// The file name of seed `id`.
    pub fn seed_file(&self, id: &str) -> Option<&'static str> {
        self.seeds.iter().find(|(s, _)| *s == id).map(|(_, f)| *f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_and_inferred_facts_bind() {
        assert!(Certainty::Documented.binds());
        assert!(Certainty::Inferred.binds());
        assert!(!Certainty::Ambiguous.binds());
        assert!(!Certainty::Assumed.binds());
    }
}
