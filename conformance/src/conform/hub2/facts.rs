//! The HUB2 facts the cases are derived from and checked against (served
//! pairs, bank-transfer countries, Processing Only pairs, each country's
//! currency): the one place the suite takes them from.

pub(crate) use crate::simulator::hub2::{
    country_currency, BANK_TRANSFER_COUNTRIES, DELEGATED_PAIRS, SUPPORTED_PAIRS,
};
