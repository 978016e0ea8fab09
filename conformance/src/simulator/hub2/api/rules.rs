//! What HUB2 serves, checked against a request: the (country, provider)
//! pairs and the country's currency, the countries of bank transfers,
//! Processing Only mode (its pairs, the merchant's registered provider
//! credentials), and the [`Plan`] a payment attempt gets from its wallet
//! number (the outcome table of the [module docs](crate::simulator::hub2)).

use paygate::hub2::models::{PaymentMethod, Provider};
use paygate::hub2::providers::Service;

use super::input::{check_msisdn, is_otp};
use crate::simulator::hub2::attempts::Attempt;
use crate::simulator::hub2::config::Hub2Environment;
use crate::simulator::hub2::coverage::{
    bank_transfer_countries, currency_of, serves_mobile_money, serves_processing_only,
    takes_bank_transfer,
};
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::store::Plan;
use crate::simulator::SimulatorState;

/// Checks the pair is served (`served`, else 400 `provider-not-supported`),
/// and the country uses `currency`.
pub(super) fn check_pair(
    country: &str,
    provider: &str,
    currency: &str,
    served: impl Fn(&str, &str) -> bool,
) -> Result<(), Hub2ApiError> {
    if !served(country, provider) {
        return Err(Hub2ApiError::bad_request(format!(
            "provider {provider} is not available in country {country}"
        ))
        .with_code("provider-not-supported"));
    }
    check_country_currency(country, currency)
}

/// 400 `invalid-currency` unless `country` uses `currency`; 400
/// `invalid-country` for a country HUB2 does not serve.
fn check_country_currency(country: &str, currency: &str) -> Result<(), Hub2ApiError> {
    match currency_of(country) {
        Some(c) if c == currency => Ok(()),
        Some(c) => Err(Hub2ApiError::invalid(
            "currency",
            format!("payments in {country} are in {c}, not {currency}"),
        )),
        None => Err(Hub2ApiError::invalid(
            "country",
            format!("country {country} is not supported"),
        )),
    }
}

/// The plan for a mobile-money payment, from the msisdn and the OTP given
/// up front.
fn plan_for(msisdn: &str, otp: Option<&str>) -> Result<Plan, Hub2ApiError> {
    if let Some(otp) = otp {
        if !is_otp(otp) {
            return Err(Hub2ApiError::invalid(
                "mobileMoney.otp",
                format!("mobileMoney.otp must be 4 digits, not {otp:?}"),
            ));
        }
    }
    // `msisdn` passed `check_msisdn` (ASCII digits), so this is the last
    // two digits; `get` keeps it panic-free anyway.
    let suffix = msisdn.get(msisdn.len().saturating_sub(2)..).unwrap_or("");
    let otp_plan = |otp: &str| {
        if otp == "0000" {
            Plan::Fail("invalid OTP".into())
        } else {
            Plan::Succeed
        }
    };
    Ok(match suffix {
        "01" => Plan::Fail("insufficient funds on the customer's wallet".into()),
        "03" => Plan::Stay,
        "11" => otp.map_or(Plan::Otp, otp_plan),
        "12" => Plan::Redirection,
        "13" => Plan::Ussd,
        _ => otp.map_or(Plan::Succeed, otp_plan),
    })
}

/// Checks a payment attempt on an intent in `currency` (mobile money on a
/// served pair, or a bank transfer in a country that takes them) and
/// gives its plan.
pub(super) fn validate_attempt(attempt: &Attempt, currency: &str) -> Result<Plan, Hub2ApiError> {
    match &attempt.method {
        PaymentMethod::MobileMoney => {
            let provider = attempt.provider.as_ref().ok_or_else(|| {
                Hub2ApiError::invalid("provider", "provider is required for mobile_money")
            })?;
            let mm = attempt.mobile_money.as_ref().ok_or_else(|| {
                Hub2ApiError::invalid("mobileMoney", "mobileMoney is required for mobile_money")
            })?;
            check_msisdn("mobileMoney.msisdn", &mm.msisdn)?;
            check_pair(
                attempt.country.as_str(),
                provider.as_str(),
                currency,
                serves_mobile_money,
            )?;
            plan_for(&mm.msisdn, mm.otp.as_deref())
        }
        PaymentMethod::BankTransfer => {
            let country = attempt.country.as_str();
            if !takes_bank_transfer(country) {
                return Err(Hub2ApiError::invalid(
                    "country",
                    format!(
                        "bank_transfer is not available in {country} (only {})",
                        bank_transfer_countries()
                    ),
                ));
            }
            check_country_currency(country, currency)?;
            Ok(Plan::Stay)
        }
        other => Err(Hub2ApiError::invalid(
            "paymentMethod",
            format!("paymentMethod must be mobile_money or bank_transfer, not {other}"),
        )),
    }
}

/// 400 `provider-credentials-missing` unless the merchant (`owner`, in its
/// environment) registered credentials for the provider, country and
/// transaction type (`payment` or `transfer`) of a Processing Only request.
pub(super) fn credentials_registered(
    state: &SimulatorState,
    (merchant_id, env): (&str, Hub2Environment),
    provider: &str,
    country: &str,
    transaction_type: &str,
) -> Result<(), Hub2ApiError> {
    let registered = state.hub2_store().credentials.iter().any(|c| {
        c.merchant_id == merchant_id
            && c.environment == env
            && c.provider == provider
            && c.country == country
            && c.transaction_type == transaction_type
    });
    if registered {
        Ok(())
    } else {
        Err(Hub2ApiError::bad_request(format!(
            "No {transaction_type} credentials registered for provider {provider} in {country}: register them first (Management > Connectors credentials; in the simulator POST /hub2/_sim/provider-credentials)"
        ))
        .with_code("provider-credentials-missing"))
    }
}

/// Checks a Processing Only payment attempt (`/delegated/payments`, or a
/// new attempt on an intent it created): mobile money on a Processing Only
/// pair, with the merchant's provider credentials registered.
pub(super) fn processing_only_attempt(
    state: &SimulatorState,
    owner: (&str, Hub2Environment),
    attempt: &Attempt,
    currency: &str,
) -> Result<Plan, Hub2ApiError> {
    if attempt.method != PaymentMethod::MobileMoney {
        return Err(Hub2ApiError::invalid(
            "paymentMethod",
            "Processing Only mode takes mobile_money payments only",
        ));
    }
    let provider = attempt.provider.as_ref().map_or("", Provider::as_str);
    check_pair(
        attempt.country.as_str(),
        provider,
        currency,
        |country, provider| serves_processing_only(country, provider, Service::Payment),
    )?;
    let plan = validate_attempt(attempt, currency)?;
    credentials_registered(state, owner, provider, attempt.country.as_str(), "payment")?;
    Ok(plan)
}
