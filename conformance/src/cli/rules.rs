//! `paygate rules`: what the documentation says about a provider, fact by
//! fact with its source and certainty, and whether a request would be
//! refused, warned about or accepted, and why.

use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use paygate::gateway::client::{validate_payment, BrandProfile};
use paygate::gateway::rules::{
    Certainty, Direction, LimitTable, Limits, Provenance, ProviderRule, ProviderTable, Quote,
};
use paygate::gateway::validate::{Preflight, Violation};
use paygate::gateway::{PaymentB2cRequest, PaymentC2bRequest, PROVIDER_TABLE};
use paygate::money::Amount;

use super::fail;

/// `paygate rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Provider ids to describe (all of a country with --country).
    pub providers: Vec<u32>,
    /// Describe every provider of this country (ISO code, e.g. CI).
    #[arg(long)]
    pub country: Option<String>,
    /// Check a request body (a JSON file, `-` for stdin): refused, warned
    /// about or accepted, and why. Exit status 1 when refused.
    #[arg(long, value_name = "FILE.json")]
    pub check: Option<PathBuf>,
    /// The direction of the request checked.
    #[arg(long, value_enum, default_value = "c2b")]
    pub direction: DirectionArg,
}

/// C2B or B2C, on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DirectionArg {
    /// A payment (`payment_c2b`).
    C2b,
    /// A payout (`payment_b2c`).
    B2c,
}

impl From<DirectionArg> for Direction {
    fn from(d: DirectionArg) -> Direction {
        match d {
            DirectionArg::C2b => Direction::C2b,
            DirectionArg::B2c => Direction::B2c,
        }
    }
}

/// Runs `paygate rules`.
pub fn run(args: &RulesArgs) -> ExitCode {
    let table = &PROVIDER_TABLE;
    if let Some(path) = &args.check {
        let body = match read(path) {
            Ok(body) => body,
            Err(message) => return fail(message),
        };
        return match check(table, &body, args.direction.into()) {
            Ok((text, refused)) => {
                print!("{text}");
                if refused {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(message) => fail(message),
        };
    }
    let mut ids = args.providers.clone();
    if let Some(country) = &args.country {
        let code = country.to_ascii_uppercase();
        if table.country(&code).is_none() {
            return fail(format!("no country {code} in the provider rules"));
        }
        ids.extend(
            table
                .providers
                .iter()
                .filter(|p| p.country == Some(code.as_str()))
                .map(|p| p.id),
        );
    }
    if ids.is_empty() {
        print!("{}", summary(table));
        return ExitCode::SUCCESS;
    }
    let mut out = String::new();
    for id in ids {
        match table.provider(id) {
            Some(provider) => out.push_str(&describe(table, provider)),
            None => {
                return fail(format!(
                    "provider {id} is not in the documented tables (ids differ between merchants: check it with your manager); `paygate rules` lists them"
                ))
            }
        }
    }
    print!("{out}");
    ExitCode::SUCCESS
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
    } else {
        body = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    Ok(body)
}

/// Every provider, one line each, by country.
pub fn summary(table: &ProviderTable) -> String {
    let mut out = String::from("Providers of the documented tables (paygate rules ID for one, --country CODE for a country):\n");
    let mut last = None;
    for p in table.providers {
        if last != Some(p.country) {
            let name = p
                .country
                .and_then(|c| table.country(c))
                .map_or("no country".to_owned(), |c| {
                    format!("{} {}", c.code, c.name)
                });
            let _ = writeln!(out, "{name}:");
            last = Some(p.country);
        }
        let _ = writeln!(out, "  {:>5}  {}", p.id, p.name);
    }
    out
}

fn quote_lines(out: &mut String, indent: &str, quotes: &[Quote]) {
    for q in quotes {
        let _ = writeln!(out, "{indent}seed {}: \"{}\"", q.seed, q.text);
    }
}

fn fact(out: &mut String, indent: &str, what: &str, p: &Provenance) {
    let _ = writeln!(out, "{indent}{what} [{}]", p.certainty);
    let deeper = format!("{indent}    ");
    if let Some(reason) = p.reason {
        let _ = writeln!(out, "{deeper}{reason}");
    }
    quote_lines(out, &deeper, p.quotes);
}

fn amount(a: Option<Amount>, none: &str) -> String {
    a.map_or_else(|| none.to_owned(), |a| a.to_string())
}

fn limits(
    out: &mut String,
    table: &ProviderTable,
    limits: &Limits,
    direction: Direction,
    currency: &str,
) {
    let Some(certainty) = limits.certainty else {
        let _ = writeln!(out, "    limits: none documented");
        return;
    };
    let _ = writeln!(out, "    limits [{certainty}]");
    if let Some(reason) = limits.reason {
        let _ = writeln!(out, "        {reason}");
    }
    if limits.optional {
        let _ = writeln!(
            out,
            "      binding: nothing (a reading without limits exists)"
        );
    } else {
        let mut binding = format!(
            "      binding: {} to {} {currency}",
            amount(limits.min, "0.00"),
            amount(limits.max, "no limit")
        );
        if let Some(step) = limits.step {
            let _ = write!(binding, ", multiples of {step}");
        }
        if let Some(daily) = limits.daily_max {
            let _ = write!(binding, ", at most {daily} a day");
        }
        let _ = writeln!(out, "{binding}");
    }
    for t in table.candidates(limits) {
        candidate(out, t, direction, currency);
    }
}

fn candidate(out: &mut String, t: &LimitTable, direction: Direction, currency: &str) {
    let Some(side) = t.side(direction) else {
        return;
    };
    let mut line = format!(
        "      table {}: {} to {} {currency}",
        t.id,
        amount(side.min, "0.00"),
        amount(side.max, "no limit")
    );
    if let Some(step) = t.step {
        let _ = write!(line, ", multiples of {step}");
    }
    if !side.daily.is_empty() {
        let daily: Vec<String> = side.daily.iter().map(ToString::to_string).collect();
        let _ = write!(line, ", a day at most {}", daily.join(" or "));
    }
    let _ = writeln!(out, "{line}");
    if let Some(note) = t.note {
        let _ = writeln!(out, "          {note}");
    }
    quote_lines(out, "          ", t.quotes);
}

/// A provider's rules per direction, each fact with its source.
pub fn describe(table: &ProviderTable, p: &ProviderRule) -> String {
    let mut out = String::new();
    let country = p.country.and_then(|c| table.country(c));
    let _ = writeln!(
        out,
        "Provider {}: {}{}",
        p.id,
        p.name,
        country.map_or(String::new(), |c| format!(" ({}, {})", c.code, c.name))
    );
    fact(&mut out, "  ", "listed", &p.listed);
    if let Some(note) = p.note {
        let _ = writeln!(out, "  note: {note}");
    }
    if p.test_provider {
        let _ = writeln!(
            out,
            "  the documented test provider: stays in progress, no callback"
        );
    }
    if let Some(c) = country {
        fact(
            &mut out,
            "  ",
            &format!("country {}", c.code),
            &c.identified,
        );
        match c.currency {
            Some(cur) => fact(
                &mut out,
                "  ",
                &format!("currency {}", cur.code),
                &cur.provenance,
            ),
            None => {
                let _ = writeln!(out, "  currency: not documented");
            }
        }
    }
    match table.phone_for(p) {
        Some(phone) => fact(
            &mut out,
            "  ",
            &format!("phone {} ({})", phone.format.example, phone.format.pattern),
            &phone.provenance,
        ),
        None => {
            let _ = writeln!(out, "  phone format: not documented");
        }
    }
    let currency = table.currency_for(p).map_or("", |c| c.code);
    for direction in Direction::BOTH {
        let rule = p.direction(direction);
        let title = match direction {
            Direction::C2b => "c2b (payment)",
            Direction::B2c => "b2c (payout)",
        };
        let _ = writeln!(out, "  {title}");
        match rule.flow {
            Some(f) => fact(
                &mut out,
                "    ",
                &format!("flow: {}", f.flow.as_str()),
                &f.provenance,
            ),
            None => {
                let _ = writeln!(out, "    flow: standard (none stated)");
            }
        }
        if let Some(kind) = rule.customer_id {
            let what = match kind.kind {
                paygate::gateway::rules::CustomerIdKind::Phone => "customer_id: a phone number",
                paygate::gateway::rules::CustomerIdKind::Account => {
                    "customer_id: a bank account number"
                }
            };
            fact(&mut out, "    ", what, &kind.provenance);
        }
        limits(&mut out, table, &rule.limits, direction, currency);
        if rule.extras.is_empty() {
            let _ = writeln!(out, "    extras: none");
        }
        for e in rule.extras {
            let verdict = if e.provenance.certainty.binds() {
                "required"
            } else {
                "may be needed (a warning when missing)"
            };
            fact(
                &mut out,
                "    ",
                &format!("extra.{}: {verdict}", e.name),
                &e.provenance,
            );
        }
    }
    out.push('\n');
    out
}

fn finding(out: &mut String, v: &Violation) {
    let _ = writeln!(out, "  {v}");
    let _ = writeln!(out, "      certainty: {}", v.certainty);
    if let Some(reason) = v.reason {
        let _ = writeln!(out, "      {reason}");
    }
    quote_lines(out, "      ", v.quotes);
}

/// Checks a request body: the report, and whether it is refused.
pub fn check(
    table: &'static ProviderTable,
    body: &[u8],
    direction: Direction,
) -> Result<(String, bool), String> {
    let brand = BrandProfile::new("paygate rules", "http://localhost").with_providers(table);
    let mut with_signature = body.to_vec();
    // A body to check need not be signed yet.
    if !String::from_utf8_lossy(body).contains("\"signature\"") {
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim_end();
        let open = trimmed
            .strip_suffix('}')
            .ok_or("the body is not a JSON object")?;
        let sep = if open.trim_end().ends_with('{') {
            ""
        } else {
            ","
        };
        with_signature = format!("{open}{sep}\"signature\":\"\"}}").into_bytes();
    }
    let found: Preflight = match direction {
        Direction::C2b => {
            let request: PaymentC2bRequest = serde_json::from_slice(&with_signature)
                .map_err(|e| format!("not a payment_c2b request: {e}"))?;
            validate_payment(&brand, direction, &request)
        }
        Direction::B2c => {
            let request: PaymentB2cRequest = serde_json::from_slice(&with_signature)
                .map_err(|e| format!("not a payment_b2c request: {e}"))?;
            let as_c2b: PaymentC2bRequest = serde_json::to_value(&request)
                .and_then(serde_json::from_value)
                .map_err(|e| e.to_string())?;
            validate_payment(&brand, direction, &as_c2b)
        }
    };
    let mut out = String::new();
    let refused = !found.refusals.is_empty();
    let verdict = match (refused, found.warnings.is_empty()) {
        (true, _) => "refused: paygate would not send it",
        (false, false) => "accepted with warnings: sent, but the documentation is not sure about",
        (false, true) => "accepted: every rule the documentation gives holds",
    };
    let _ = writeln!(out, "{verdict}");
    for v in &found.refusals {
        finding(&mut out, v);
    }
    if refused && !found.warnings.is_empty() {
        let _ = writeln!(out, "and warned about:");
    }
    for v in &found.warnings {
        finding(&mut out, v);
    }
    debug_assert!(found
        .refusals
        .iter()
        .all(|v| v.certainty == Certainty::Ambiguous || v.certainty.binds()));
    Ok((out, refused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_described_with_its_sources() {
        let p = PROVIDER_TABLE.provider(2303).unwrap();
        let text = describe(&PROVIDER_TABLE, p);
        assert!(
            text.contains("Provider 2303: MTN (CI, Ivory Coast)"),
            "{text}"
        );
        assert!(
            text.contains("seed 002: \"| 2303, 2333, 699, 805, 9196, 2430 | MTN |\""),
            "{text}"
        );
        assert!(text.contains("limits [ambiguous]"), "{text}");
        assert!(text.contains("table CI.4: 1.00 to no limit XOF"), "{text}");
        assert!(
            text.contains("extra.customer_name: required [documented]"),
            "{text}"
        );
    }

    #[test]
    fn a_check_says_refused_warned_or_accepted_and_why() {
        let ok = br#"{"merchant_id":"m","customer_id":"2250705145655","order_id":"o1","amount":"1100","currency":"XOF","country":"CI","provider_id":"9197","extra":{"otp":"5647"}}"#;
        let (text, refused) = check(&PROVIDER_TABLE, ok, Direction::C2b).unwrap();
        assert!(!refused && text.starts_with("accepted: "), "{text}");
        let warned = br#"{"merchant_id":"m","customer_id":"2250705145655","order_id":"o1","amount":"150","currency":"XOF","country":"CI","provider_id":2303}"#;
        let (text, refused) = check(&PROVIDER_TABLE, warned, Direction::C2b).unwrap();
        assert!(
            !refused && text.starts_with("accepted with warnings"),
            "{text}"
        );
        assert!(
            text.contains("[amount_below_minimum]") && text.contains("certainty: ambiguous"),
            "{text}"
        );
        let bad = br#"{"merchant_id":"m","customer_id":"2250705145655","order_id":"o1","amount":"150","currency":"XOF","country":"CI","provider_id":2303}"#;
        let (text, refused) = check(&PROVIDER_TABLE, bad, Direction::B2c).unwrap();
        assert!(refused && text.starts_with("refused"), "{text}");
        assert!(
            text.contains("extra.customer_name") && text.contains("For B2C payments"),
            "{text}"
        );
        assert!(check(&PROVIDER_TABLE, b"[1]", Direction::C2b).is_err());
    }
}
