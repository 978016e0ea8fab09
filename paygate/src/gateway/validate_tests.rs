//! Tests of the pre-flight rules against a small hand-made table.

use super::*;
use crate::gateway::rules::{
    CountryRule, CurrencyRule, CustomerIdRule, DirectionRule, ExtraRule, LimitTable, PhoneFormat,
    PhoneRule, PhoneToken, TableSide,
};

const SAID: Provenance = Provenance {
    certainty: Certainty::Documented,
    quotes: &[Quote {
        seed: "002",
        text: "words",
    }],
    reason: None,
};
const UNSURE: Provenance = Provenance {
    certainty: Certainty::Ambiguous,
    quotes: &[],
    reason: Some("two readings"),
};
const GUESSED: Provenance = Provenance {
    certainty: Certainty::Assumed,
    quotes: &[],
    reason: Some("outside knowledge"),
};

const CI_PHONE: PhoneFormat = PhoneFormat {
    pattern: "^225[0-9]{10}$",
    example: "2250000000000",
    tokens: &[
        PhoneToken::Literal("225"),
        PhoneToken::Digits {
            allowed: "0123456789",
            min: 10,
            max: 10,
        },
    ],
};

const fn amount(major: u64) -> Option<Amount> {
    Some(Amount::from_minor(major * 100))
}

/// Two candidate tables: 200..1 000 000 in steps of 5, and 1..no limit.
static TABLES: [LimitTable; 3] = [
    LimitTable {
        id: "CI.1",
        country: "CI",
        quotes: &[Quote {
            seed: "002",
            text: "| XOF 200.00 |",
        }],
        step: amount(5),
        c2b: Some(TableSide {
            min: amount(200),
            max: amount(1_000_000),
            daily: &[],
        }),
        b2c: Some(TableSide {
            min: amount(200),
            max: amount(1_000_000),
            daily: &[],
        }),
        labelled_for: &[],
        note: None,
    },
    LimitTable {
        id: "CI.2",
        country: "CI",
        quotes: &[Quote {
            seed: "002",
            text: "| XOF 1.00 | no limit |",
        }],
        step: None,
        c2b: Some(TableSide {
            min: amount(1),
            max: None,
            daily: &[],
        }),
        b2c: Some(TableSide {
            min: amount(1),
            max: None,
            daily: &[],
        }),
        labelled_for: &[],
        note: None,
    },
    LimitTable {
        id: "TG.1",
        country: "TG",
        quotes: &[Quote {
            seed: "002",
            text: "| XOF 5.00 | 200k / 2m with KYC |",
        }],
        step: None,
        c2b: Some(TableSide {
            min: amount(5),
            max: amount(1_000_000),
            daily: &[
                Amount::from_minor(20_000_000),
                Amount::from_minor(200_000_000),
            ],
        }),
        b2c: None,
        labelled_for: &[2358],
        note: None,
    },
];

const AMBIGUOUS_LIMITS: Limits = Limits {
    certainty: Some(Certainty::Ambiguous),
    reason: Some("nine tables"),
    candidates: &[0, 1],
    optional: false,
    min: amount(1),
    max: None,
    step: None,
    daily_max: None,
};

const ONE_TABLE: Limits = Limits {
    certainty: Some(Certainty::Inferred),
    reason: Some("the only table"),
    candidates: &[0],
    optional: false,
    min: amount(200),
    max: amount(1_000_000),
    step: amount(5),
    daily_max: None,
};

static TABLE: ProviderTable = ProviderTable {
    seeds: &[("002", "002.txt")],
    countries: &[
        CountryRule {
            code: "CI",
            name: "Ivory Coast",
            identified: SAID,
            currency: Some(CurrencyRule {
                code: "XOF",
                provenance: SAID,
            }),
            phone: Some(PhoneRule {
                format: CI_PHONE,
                provenance: SAID,
            }),
        },
        CountryRule {
            code: "ZA",
            name: "South Africa",
            identified: SAID,
            currency: Some(CurrencyRule {
                code: "ZAR",
                provenance: GUESSED,
            }),
            phone: None,
        },
    ],
    // Sorted by id, as the generated tables are.
    providers: &[
        ProviderRule {
            id: 2013,
            name: "OrangeMoney",
            country: None,
            listed: SAID,
            test_provider: false,
            phone: None,
            note: None,
            c2b: DirectionRule {
                limits: Limits {
                    optional: true,
                    certainty: Some(Certainty::Ambiguous),
                    min: None,
                    max: None,
                    step: None,
                    ..ONE_TABLE
                },
                ..DirectionRule::OPEN
            },
            b2c: DirectionRule::OPEN,
        },
        ProviderRule {
            id: 2303,
            name: "MTN",
            country: Some("CI"),
            listed: SAID,
            test_provider: false,
            phone: None,
            note: None,
            c2b: DirectionRule {
                limits: AMBIGUOUS_LIMITS,
                ..DirectionRule::OPEN
            },
            b2c: DirectionRule {
                limits: ONE_TABLE,
                extras: &[ExtraRule {
                    name: "customer_name",
                    provenance: SAID,
                }],
                ..DirectionRule::OPEN
            },
        },
        ProviderRule {
            id: 2304,
            name: "Bank",
            country: Some("CI"),
            listed: SAID,
            test_provider: false,
            phone: None,
            note: None,
            c2b: DirectionRule {
                extras: &[ExtraRule {
                    name: "bic",
                    provenance: UNSURE,
                }],
                customer_id: Some(CustomerIdRule {
                    kind: CustomerIdKind::Account,
                    provenance: SAID,
                }),
                ..DirectionRule::OPEN
            },
            b2c: DirectionRule::OPEN,
        },
        ProviderRule {
            id: 2353,
            name: "Bank Transfer",
            country: Some("ZA"),
            listed: SAID,
            test_provider: false,
            phone: None,
            note: None,
            c2b: DirectionRule::OPEN,
            b2c: DirectionRule::OPEN,
        },
        ProviderRule {
            id: 2358,
            name: "MOOV",
            country: None,
            listed: SAID,
            test_provider: false,
            phone: None,
            note: None,
            c2b: DirectionRule {
                limits: Limits {
                    certainty: Some(Certainty::Documented),
                    reason: None,
                    candidates: &[2],
                    optional: false,
                    min: amount(5),
                    max: amount(1_000_000),
                    step: None,
                    daily_max: amount(2_000_000),
                },
                ..DirectionRule::OPEN
            },
            b2c: DirectionRule::OPEN,
        },
    ],
    tables: &TABLES,
};

fn valid() -> PaymentDraft<'static> {
    PaymentDraft {
        direction: Direction::C2b,
        provider_id: 2303,
        country: Some("CI"),
        currency: "XOF",
        amount: Amount::from_minor(110_000),
        customer_id: "2250705145655",
        order_id: "order_1:2-3.4",
        extras: &[],
    }
}

/// (field, rule) of the refusals and of the warnings.
type Found = (Vec<(String, Rule)>, Vec<(String, Rule)>);

fn found(draft: PaymentDraft<'_>) -> Found {
    let f = check_payment(&TABLE, &draft);
    let pairs = |v: Vec<Violation>| v.into_iter().map(|v| (v.field, v.rule)).collect();
    (pairs(f.refusals), pairs(f.warnings))
}

fn one(field: &str, rule: Rule) -> Vec<(String, Rule)> {
    vec![(field.to_owned(), rule)]
}

#[test]
fn a_valid_payment_passes_without_warnings() {
    assert_eq!(found(valid()), (vec![], vec![]));
}

#[test]
fn documented_facts_refuse_and_name_their_field() {
    let cases: Vec<(PaymentDraft<'static>, &str, Rule)> = vec![
        (
            PaymentDraft {
                order_id: "",
                ..valid()
            },
            "order_id",
            Rule::OrderIdLength,
        ),
        (
            PaymentDraft {
                order_id: Box::leak("a".repeat(129).into_boxed_str()),
                ..valid()
            },
            "order_id",
            Rule::OrderIdLength,
        ),
        (
            PaymentDraft {
                order_id: "order#1",
                ..valid()
            },
            "order_id",
            Rule::OrderIdCharset,
        ),
        (
            PaymentDraft {
                country: Some("SN"),
                ..valid()
            },
            "country",
            Rule::CountryMismatch,
        ),
        (
            PaymentDraft {
                currency: "XAF",
                ..valid()
            },
            "currency",
            Rule::CurrencyMismatch,
        ),
        (
            PaymentDraft {
                customer_id: "225070514565",
                ..valid()
            },
            "customer_id",
            Rule::PhoneFormat,
        ),
        (
            PaymentDraft {
                amount: Amount::from_minor(50),
                ..valid()
            },
            "amount",
            Rule::AmountBelowMinimum,
        ),
    ];
    for (draft, field, rule) in cases {
        let (refusals, _) = found(draft);
        assert_eq!(refusals, one(field, rule), "{draft:?}");
    }
}

#[test]
fn ambiguous_limits_refuse_only_what_every_candidate_refuses() {
    // 150 is below CI.1's 200 but within CI.2 (1..no limit): a warning.
    let (refusals, warnings) = found(PaymentDraft {
        amount: Amount::from_minor(15_000),
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(warnings, one("amount", Rule::AmountBelowMinimum));
    // 2 000 000 is above CI.1's maximum, 1 001 off its step: warnings only.
    let (refusals, warnings) = found(PaymentDraft {
        amount: Amount::from_minor(200_000_100),
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(
        warnings,
        vec![
            ("amount".to_owned(), Rule::AmountAboveMaximum),
            ("amount".to_owned(), Rule::AmountStep)
        ]
    );
    // 0.50 is below every candidate: refused, citing the loosest table.
    let f = check_payment(
        &TABLE,
        &PaymentDraft {
            amount: Amount::from_minor(50),
            ..valid()
        },
    );
    assert_eq!(f.refusals.len(), 1);
    assert_eq!(f.refusals[0].quotes, TABLES[1].quotes);
    assert!(
        f.refusals[0].message.contains("every one of its 2"),
        "{}",
        f.refusals[0].message
    );
}

#[test]
fn a_single_table_binds_with_its_step() {
    let payout = |minor| PaymentDraft {
        direction: Direction::B2c,
        amount: Amount::from_minor(minor),
        extras: &["customer_name"],
        ..valid()
    };
    assert_eq!(found(payout(20_000)), (vec![], vec![]));
    assert_eq!(found(payout(100_000_000)), (vec![], vec![]));
    assert_eq!(
        found(payout(19_500)).0,
        one("amount", Rule::AmountBelowMinimum)
    );
    assert_eq!(
        found(payout(100_000_500)).0,
        one("amount", Rule::AmountAboveMaximum)
    );
    assert_eq!(found(payout(110_100)).0, one("amount", Rule::AmountStep));
}

#[test]
fn extras_refuse_when_documented_and_warn_when_unsure() {
    let (refusals, _) = found(PaymentDraft {
        direction: Direction::B2c,
        ..valid()
    });
    assert_eq!(refusals, one("extra.customer_name", Rule::MissingExtra));
    let (refusals, warnings) = found(PaymentDraft {
        provider_id: 2304,
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(warnings, one("extra.bic", Rule::MissingExtra));
}

#[test]
fn an_account_number_is_not_held_to_the_phone_format() {
    let (refusals, warnings) = found(PaymentDraft {
        provider_id: 2304,
        customer_id: "16280954971628095497",
        extras: &["bic"],
        ..valid()
    });
    assert_eq!((refusals, warnings), (vec![], vec![]));
}

#[test]
fn unknown_providers_and_assumed_facts_only_warn() {
    let (refusals, warnings) = found(PaymentDraft {
        provider_id: 5026,
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(warnings, one("provider_id", Rule::UnknownProvider));
    let (refusals, warnings) = found(PaymentDraft {
        provider_id: 2353,
        country: Some("ZA"),
        currency: "USD",
        customer_id: "27000000000",
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(warnings, one("currency", Rule::CurrencyMismatch));
}

#[test]
fn optional_limits_and_lower_daily_readings_only_warn() {
    let (refusals, warnings) = found(PaymentDraft {
        provider_id: 2013,
        country: None,
        amount: Amount::from_minor(15_000),
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(warnings, one("amount", Rule::AmountBelowMinimum));
    // 300 000 is above the 200k daily reading without KYC, not the 2m one.
    let (refusals, warnings) = found(PaymentDraft {
        provider_id: 2358,
        country: None,
        amount: Amount::from_minor(30_000_000),
        ..valid()
    });
    assert_eq!(refusals, vec![]);
    assert_eq!(warnings, one("amount", Rule::AmountAboveDailyMaximum));
}

#[test]
fn messages_say_what_is_wrong_and_cite_the_source() {
    let f = check_payment(
        &TABLE,
        &PaymentDraft {
            direction: Direction::B2c,
            amount: Amount::from_minor(19_500),
            extras: &["customer_name"],
            ..valid()
        },
    );
    let err = f.into_result().unwrap_err();
    assert_eq!(
        err.to_string(),
        "amount: 195.00 is below the b2c minimum of 200.00 XOF for provider 2303 (MTN, CI) [amount_below_minimum]"
    );
    assert_eq!(err.0[0].certainty, Certainty::Inferred);
    assert_eq!(err.0[0].quotes, TABLES[0].quotes);
}
