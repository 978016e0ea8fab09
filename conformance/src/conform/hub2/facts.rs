//! The HUB2 facts the cases are derived from and checked against (served
//! pairs, bank-transfer countries, Processing Only pairs and services, each
//! country's currency): the one place the suite takes them from, the
//! generated tables of `spec/hub2/providers.yaml` (`paygate::hub2::providers`),
//! which the simulator serves too.

use paygate::hub2::providers::{Service, BANK_TRANSFER, CURRENCIES, MOBILE_MONEY, PROCESSING_ONLY};

/// Whether mobile money is served for `provider` in `country`.
pub(crate) fn serves_mobile_money(country: &str, provider: &str) -> bool {
    MOBILE_MONEY
        .iter()
        .any(|p| p.country.as_str() == country && p.provider.as_str() == provider)
}

/// The countries that take `bank_transfer` payments.
pub(crate) fn bank_transfer_countries() -> impl Iterator<Item = &'static str> {
    BANK_TRANSFER.iter().map(|c| c.as_str())
}

/// The Processing Only pairs, each with its transaction types (`payment`,
/// `transfer`) in table order.
pub(crate) fn processing_only_pairs(
) -> impl Iterator<Item = (&'static str, &'static str, Vec<&'static str>)> {
    PROCESSING_ONLY.iter().map(|s| {
        let types = s
            .services
            .iter()
            .map(|service| match service {
                Service::Payment => "payment",
                Service::Transfer => "transfer",
            })
            .collect();
        (s.pair.country.as_str(), s.pair.provider.as_str(), types)
    })
}

/// The currency of `country`'s payments, if HUB2 serves the country.
pub(crate) fn country_currency(country: &str) -> Option<&'static str> {
    CURRENCIES
        .iter()
        .find(|c| c.country.as_str() == country)
        .map(|c| c.currency.as_str())
}
