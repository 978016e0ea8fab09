//! The provider rules YAML (`spec/gateway/providers.yaml`): read, checked
//! and resolved into one rule set per provider and direction at generation
//! time.
//!
//! Reading keeps every fact's provenance (certainty, quotes, reason);
//! resolving decides what binds: documented and inferred facts bind,
//! ambiguous limits bind only as their loosest reading, assumed facts never
//! bind. See the file's own header for the format.

mod emit;
mod phone;
mod read;
mod resolve;

pub(crate) use emit::{provider_id_enum, provider_table};
pub(crate) use read::load;
pub(crate) use resolve::{resolve, Resolved};

/// How sure the documentation is of a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Certainty {
    Documented,
    Inferred,
    Ambiguous,
    Assumed,
}

impl Certainty {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "documented" => Certainty::Documented,
            "inferred" => Certainty::Inferred,
            "ambiguous" => Certainty::Ambiguous,
            "assumed" => Certainty::Assumed,
            _ => return None,
        })
    }

    pub(crate) fn variant(self) -> &'static str {
        match self {
            Certainty::Documented => "Documented",
            Certainty::Inferred => "Inferred",
            Certainty::Ambiguous => "Ambiguous",
            Certainty::Assumed => "Assumed",
        }
    }
}

/// Words of a seed, verbatim up to whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Quote {
    pub(crate) seed: String,
    pub(crate) text: String,
    /// The quote lives outside the section of the fact that cites it.
    pub(crate) anywhere: bool,
}

/// Where a fact comes from and how sure it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provenance {
    pub(crate) certainty: Certainty,
    pub(crate) quotes: Vec<Quote>,
    pub(crate) reason: Option<String>,
}

/// A part of a seed, between two verbatim anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) seed: String,
    pub(crate) from: String,
    pub(crate) to: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Phone {
    pub(crate) pattern: String,
    pub(crate) example: String,
    pub(crate) tokens: Vec<phone::PhoneToken>,
    pub(crate) provenance: Provenance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    C2b,
    B2c,
}

impl Direction {
    pub(crate) const BOTH: [Direction; 2] = [Direction::C2b, Direction::B2c];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Direction::C2b => "c2b",
            Direction::B2c => "b2c",
        }
    }
}

/// What one limits table says for one direction. Amounts in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableSide {
    pub(crate) min: Option<u64>,
    /// `None`: the table says "no limit".
    pub(crate) max: Option<u64>,
    /// Readings of a per-day cumulative maximum (several when the table
    /// gives alternatives, like "200k / 2m with KYC").
    pub(crate) daily: Vec<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) id: String,
    pub(crate) quotes: Vec<Quote>,
    pub(crate) step: Option<u64>,
    pub(crate) c2b: Option<TableSide>,
    pub(crate) b2c: Option<TableSide>,
    /// The ids the seeds label the table for (`For 980:`).
    pub(crate) for_ids: Vec<u32>,
    /// Another reading of the same printed table (a cell's own exception).
    pub(crate) variant_of: Option<String>,
    /// Why it is placed or read as it is.
    pub(crate) note: Option<String>,
}

impl Table {
    pub(crate) fn side(&self, direction: Direction) -> Option<&TableSide> {
        match direction {
            Direction::C2b => self.c2b.as_ref(),
            Direction::B2c => self.b2c.as_ref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Standard,
    Otp,
    Redirect,
    BankTransfer,
    PaymentPage,
}

impl Flow {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "standard" => Flow::Standard,
            "otp" => Flow::Otp,
            "redirect" => Flow::Redirect,
            "bank_transfer" => Flow::BankTransfer,
            "payment_page" => Flow::PaymentPage,
            _ => return None,
        })
    }

    pub(crate) fn variant(self) -> &'static str {
        match self {
            Flow::Standard => "Standard",
            Flow::Otp => "Otp",
            Flow::Redirect => "Redirect",
            Flow::BankTransfer => "BankTransfer",
            Flow::PaymentPage => "PaymentPage",
        }
    }
}

/// What `customer_id` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CustomerIdKind {
    Phone,
    Account,
}

/// One statement of a section: what some providers need in some directions.
#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    /// `None`: every provider of the section.
    pub(crate) providers: Option<Vec<u32>>,
    pub(crate) directions: Vec<Direction>,
    pub(crate) extras: Vec<String>,
    pub(crate) flow: Option<Flow>,
    pub(crate) customer_id: Option<CustomerIdKind>,
    pub(crate) provenance: Provenance,
}

impl Requirement {
    pub(crate) fn applies(&self, provider: u32, direction: Direction) -> bool {
        self.directions.contains(&direction)
            && self
                .providers
                .as_ref()
                .is_none_or(|ids| ids.contains(&provider))
    }
}

/// A provider's own choice of candidate tables, overriding the section's.
#[derive(Debug, Clone)]
pub(crate) struct LimitsOverride {
    pub(crate) tables: Vec<String>,
    pub(crate) provenance: Provenance,
    /// A reading with no limits at all exists: nothing binds.
    pub(crate) optional: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct ProviderDecl {
    pub(crate) id: u32,
    pub(crate) name: String,
    /// How the seeds list it.
    pub(crate) listed: Provenance,
    pub(crate) phone: Option<Phone>,
    pub(crate) limits: Option<LimitsOverride>,
    pub(crate) note: Option<String>,
    pub(crate) test_provider: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Currency {
    pub(crate) code: String,
    pub(crate) provenance: Provenance,
}

#[derive(Debug, Clone)]
pub(crate) struct Country {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) sections: Vec<Section>,
    pub(crate) identified: Provenance,
    pub(crate) currency: Option<Currency>,
    pub(crate) phone: Option<Phone>,
    pub(crate) tables: Vec<Table>,
    pub(crate) requirements: Vec<Requirement>,
    pub(crate) providers: Vec<ProviderDecl>,
    /// Provider names listed without an id.
    pub(crate) unlisted: Vec<(String, Provenance)>,
}

/// The rules file as written.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// Seed id (`002`) to file name.
    pub(crate) seeds: Vec<(String, String)>,
    /// Sorted by code.
    pub(crate) countries: Vec<Country>,
    pub(crate) global_providers: Vec<ProviderDecl>,
}

/// `100`, `100.00`, `0.5` -> minor units; anything else -> `None`.
pub(crate) fn parse_amount(text: &str) -> Option<u64> {
    let (major, minor) = match text.split_once('.') {
        Some((major, minor)) if (1..=2).contains(&minor.len()) => (major, minor),
        Some(_) => return None,
        None => (text, "00"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) || major.len() > 17 {
        return None;
    }
    let minor = if minor.len() == 1 {
        minor.parse::<u64>().ok()? * 10
    } else {
        minor.parse::<u64>().ok()?
    };
    major
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(minor)
}

/// `12345` minor units -> `123.45`.
pub(crate) fn show_amount(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("100.00"), Some(10000));
        assert_eq!(parse_amount("5"), Some(500));
        assert_eq!(parse_amount("0.05"), Some(5));
        assert_eq!(parse_amount("1.5"), Some(150));
        for bad in [
            "abc",
            "-1.00",
            "",
            ".50",
            "1.000",
            "1e3",
            "123456789012345678",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }
}
