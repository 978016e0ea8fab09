//! What HUB2 serves, as the simulator asks it: string-keyed views of the
//! generated coverage tables (`paygate::hub2::providers`, from
//! `spec/hub2/providers.yaml`). The simulator serves exactly these pairs,
//! and the conformance suite derives its HUB2 cases from the same tables.

use paygate::hub2::providers::{Service, BANK_TRANSFER, CURRENCIES, MOBILE_MONEY, PROCESSING_ONLY};

/// The message of the sandbox's OTP `nextAction`, as HUB2 words it.
pub use paygate::hub2::providers::SANDBOX_OTP_MESSAGE as OTP_MESSAGE;

/// Whether mobile-money payments and transfers are served for `provider`
/// (lower case, as on the wire) in `country`.
pub fn serves_mobile_money(country: &str, provider: &str) -> bool {
    MOBILE_MONEY
        .iter()
        .any(|p| p.country.as_str() == country && p.provider.as_str() == provider)
}

/// Whether Processing Only mode offers `service` for `provider` in `country`.
pub fn serves_processing_only(country: &str, provider: &str, service: Service) -> bool {
    PROCESSING_ONLY.iter().any(|s| {
        s.pair.country.as_str() == country
            && s.pair.provider.as_str() == provider
            && s.services.contains(&service)
    })
}

/// Whether `bank_transfer` payments are taken in `country`.
pub fn takes_bank_transfer(country: &str) -> bool {
    BANK_TRANSFER.iter().any(|c| c.as_str() == country)
}

/// The countries that take `bank_transfer` payments, comma-separated (for
/// messages).
pub fn bank_transfer_countries() -> String {
    let codes: Vec<&str> = BANK_TRANSFER.iter().map(|c| c.as_str()).collect();
    codes.join(", ")
}

/// The Processing Only pairs, like `orange CI, mtn CI` (for messages).
pub fn processing_only_pairs() -> String {
    let pairs: Vec<String> = PROCESSING_ONLY
        .iter()
        .map(|s| format!("{} {}", s.pair.provider, s.pair.country))
        .collect();
    pairs.join(", ")
}

/// The currency of `country`'s payments, if HUB2 serves the country.
pub fn currency_of(country: &str) -> Option<&'static str> {
    CURRENCIES
        .iter()
        .find(|c| c.country.as_str() == country)
        .map(|c| c.currency.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_tables() {
        assert!(serves_mobile_money("SN", "emoney"));
        assert!(!serves_mobile_money("SN", "mtn"));
        assert!(!serves_mobile_money("sn", "emoney"), "codes are exact");
        assert!(serves_processing_only("CI", "mtn", Service::Transfer));
        assert!(!serves_processing_only("CI", "moov", Service::Payment));
        assert!(takes_bank_transfer("CI") && !takes_bank_transfer("BF"));
        assert_eq!(bank_transfer_countries(), "CI, SN");
        assert_eq!(processing_only_pairs(), "orange CI, mtn CI, orange SN");
        assert_eq!(currency_of("GA"), Some("XAF"));
        assert_eq!(currency_of("FR"), None);
    }
}
