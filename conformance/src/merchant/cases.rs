//! The merchant suite's cases, derived from the spec's callbacks: every
//! operation type with every status the spec lists (POS callbacks come
//! after successful operations only), every shape of a valid callback,
//! every tampering, and the deliveries a gateway really makes (replays,
//! concurrent duplicates, a late "in progress", an unknown order), the
//! deliveries its retries make, and those a seeded fault profile makes.

use paygate::gateway::{OperationType, Status};

use super::bodies::{Shape, Tamper};
use super::hub2::Hub2Delivery;
use super::timing::TimingCase;
use crate::conform::filter::Filtered;
use crate::simulator::faults::CallbackFault;

/// Group: valid callbacks the merchant must accept.
pub const VALID: &str = "merchant-valid";
/// Group: callbacks that are not the gateway's, which it must refuse.
pub const TAMPERED: &str = "merchant-tampered";
/// Group: deliveries more than once, late or unknown.
pub const DELIVERY: &str = "merchant-delivery";
/// Group: the deliveries the gateway's retries make (see [`super::timing`]).
pub const TIMING: &str = "merchant-timing";
/// Group: deliveries as a seeded fault profile makes them (see
/// [`super::faults`]; `--fault-profile`, or `--fault-seed` and `--fault-rate`).
pub const FAULTS: &str = "merchant-faults";
/// Group: HUB2 webhooks (`--hub2-webhook`).
pub const HUB2: &str = "merchant-hub2";

/// What a case sends and expects.
#[derive(Clone, Debug)]
pub enum MerchantCaseKind {
    /// A correctly signed callback: answered 200 within the deadline.
    Valid {
        /// Its operation type.
        operation: OperationType,
        /// Its status.
        status: Status,
        /// Its shape.
        shape: Shape,
    },
    /// A tampered callback: anything but 200.
    Tampered(Tamper),
    /// The same valid callback twice, one after the other: 200 both
    /// times; credited once (with an order lookup).
    Replay,
    /// The same valid callback eight times at once: all 2xx; credited once.
    ConcurrentDuplicates,
    /// A success, then a late "in progress" for the same order: both
    /// acknowledged; the order stays successful (with an order lookup).
    LateInProgress,
    /// A valid callback for an order the merchant never sent: answered,
    /// never a 5xx (a 5xx makes the gateway retry for nothing).
    UnknownOrder,
    /// A HUB2 webhook delivery (see [`super::hub2`]).
    Hub2(Hub2Delivery),
    /// Deliveries of the gateway's retry schedule (see [`super::timing`]).
    Timing(TimingCase),
    /// The orders of the fault plan that drew this fault (`None`: no
    /// fault), delivered as it says (see [`super::faults`]).
    Faults(Option<CallbackFault>),
}

/// One case of the merchant suite.
#[derive(Clone, Debug)]
pub struct MerchantCase {
    /// Stable id, e.g. `merchant/valid/c2b/status_2/plain`.
    pub id: String,
    /// Report group.
    pub group: &'static str,
    /// What it does.
    pub kind: MerchantCaseKind,
    /// Whether it needs the merchant's order lookup (`--order-lookup`).
    pub needs_lookup: bool,
}

impl Filtered for MerchantCase {
    fn case_id(&self) -> &str {
        &self.id
    }
    fn case_group(&self) -> &'static str {
        self.group
    }
}

fn operation_name(operation: OperationType) -> &'static str {
    match operation {
        OperationType::PaymentC2b => "c2b",
        OperationType::PaymentB2c => "b2c",
        OperationType::Deposit => "pos_deposit",
        OperationType::Withdrawal => "pos_withdrawal",
        _ => "other",
    }
}

fn case(id: String, group: &'static str, kind: MerchantCaseKind) -> MerchantCase {
    MerchantCase {
        id,
        group,
        kind,
        needs_lookup: false,
    }
}

/// Every case.
pub fn merchant_cases() -> Vec<MerchantCase> {
    let mut out = Vec::new();
    for &operation in OperationType::ALL {
        let pos = matches!(
            operation,
            OperationType::Deposit | OperationType::Withdrawal
        );
        let statuses: Vec<Status> = if pos {
            vec![Status::Success]
        } else {
            Status::ALL.to_vec()
        };
        for status in statuses {
            out.push(case(
                format!(
                    "merchant/valid/{}/status_{}/plain",
                    operation_name(operation),
                    status.code()
                ),
                VALID,
                MerchantCaseKind::Valid {
                    operation,
                    status,
                    shape: Shape::Plain,
                },
            ));
        }
    }
    for shape in Shape::ALL.into_iter().filter(|s| *s != Shape::Plain) {
        out.push(case(
            format!("merchant/valid/c2b/status_2/{}", shape.name()),
            VALID,
            MerchantCaseKind::Valid {
                operation: OperationType::PaymentC2b,
                status: Status::Success,
                shape,
            },
        ));
    }
    for tamper in Tamper::ALL {
        out.push(case(
            format!("merchant/tampered/{}", tamper.name()),
            TAMPERED,
            MerchantCaseKind::Tampered(tamper),
        ));
    }
    for (name, kind, needs_lookup) in [
        ("replay_credited_once", MerchantCaseKind::Replay, true),
        (
            "concurrent_duplicates_credited_once",
            MerchantCaseKind::ConcurrentDuplicates,
            true,
        ),
        (
            "late_in_progress_keeps_success",
            MerchantCaseKind::LateInProgress,
            true,
        ),
        (
            "unknown_order_no_5xx",
            MerchantCaseKind::UnknownOrder,
            false,
        ),
    ] {
        out.push(MerchantCase {
            needs_lookup,
            ..case(format!("merchant/delivery/{name}"), DELIVERY, kind)
        });
    }
    for (name, timing) in TimingCase::ALL {
        out.push(MerchantCase {
            needs_lookup: true,
            ..case(
                format!("merchant/timing/{name}"),
                TIMING,
                MerchantCaseKind::Timing(timing),
            )
        });
    }
    for fault in super::faults::all_faults() {
        out.push(MerchantCase {
            // The unknown order's case checks the answers, and the
            // merchant's books only when it can.
            needs_lookup: fault != Some(CallbackFault::UnknownOrder),
            ..case(
                format!("merchant/faults/{}", super::faults::case_name(fault)),
                FAULTS,
                MerchantCaseKind::Faults(fault),
            )
        });
    }
    for (name, delivery) in Hub2Delivery::all() {
        out.push(case(
            format!("merchant/hub2/{name}"),
            HUB2,
            MerchantCaseKind::Hub2(delivery),
        ));
    }
    out
}
