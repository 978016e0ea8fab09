//! The merchant suite's fault group: the simulator's seeded fault profiles
//! (see [`crate::simulator::faults`]) applied to the merchant's endpoint.
//!
//! A [`FaultPlan`] is a profile and a number of orders (default
//! [`DEFAULT_ORDERS`]). Each order is one valid success callback, and the
//! fault the profile draws for it, exactly as the simulator draws it
//! ([`FaultProfile::callback_fault`] for public id [`FAULT_PUBLIC_ID`], the
//! order's stable name `order-{index:05}` and status 2) decides how it is
//! delivered:
//!
//! | fault | deliveries |
//! |---|---|
//! | none | the callback |
//! | `duplicate` | the callback twice |
//! | `reorder` | the callback, then a stale "in progress" (status 1) |
//! | `delay` | the callback, `callback_delay_ms` late, capped at [`MAX_REAL_DELAY`] of real time |
//! | `unknown_order` | the callback, and one for an order the merchant never sent |
//!
//! The plan is a pure function of the profile: the same seed gives the
//! same deliveries ([`FaultPlan::deliveries`]). The orders' real ids carry
//! the run's prefix, so that two runs do not meet in the merchant's books.
//!
//! One case per fault (and one for the orders without): 200 to every
//! valid delivery (2xx to a stale one, as for a late "in progress"), the
//! order credited exactly once and still successful (read through the
//! order lookup), never a 5xx for the unknown order.

use std::time::Duration;

use futures_util::StreamExt;
use paygate::gateway::{OperationType, Status};

use super::bodies::{draft, Shape};
use super::exchange::{expect_accepted, lookup, post, Check};
use super::MerchantTarget;
use crate::simulator::faults::{CallbackFault, FaultProfile};

/// Orders a plan delivers unless told otherwise (`--fault-orders`).
pub const DEFAULT_ORDERS: usize = 100;
/// The most orders a plan delivers.
pub const MAX_ORDERS: usize = 10_000;
/// The public id the draws are made for (the merchant suite has none).
pub const FAULT_PUBLIC_ID: &str = "merchant-suite";
/// The longest a `delay`ed callback really waits: the profile's
/// `callback_delay_ms` is on the simulator's clock (60 s by default), the
/// suite waits at most this much real time.
pub const MAX_REAL_DELAY: Duration = Duration::from_millis(250);
/// Orders of one case delivered at a time.
const ORDERS_AT_ONCE: usize = 8;

/// One delivery of a planned order, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedDelivery {
    /// The order's callback in this status (2: success, 1: in progress).
    Callback {
        /// The status code.
        status: i64,
    },
    /// A wait before the next delivery (already capped).
    Wait(Duration),
    /// A success callback for an order the merchant never sent.
    UnknownOrder,
}

/// A fault profile applied to `orders` success callbacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// The profile.
    pub profile: FaultProfile,
    /// How many orders.
    pub orders: usize,
}

impl FaultPlan {
    /// The plan of `profile` over `orders` orders.
    pub fn new(profile: FaultProfile, orders: usize) -> FaultPlan {
        FaultPlan { profile, orders }
    }

    /// The fault drawn for order `index`.
    pub fn fault_of(&self, index: usize) -> Option<CallbackFault> {
        self.profile.callback_fault(
            FAULT_PUBLIC_ID,
            &format!("order-{index:05}"),
            Status::Success.code(),
        )
    }

    /// The orders whose draw is `fault` (`None`: no fault).
    pub fn orders_with(&self, fault: Option<CallbackFault>) -> Vec<usize> {
        (0..self.orders)
            .filter(|&i| self.fault_of(i) == fault)
            .collect()
    }

    /// What order `index` gets, in order.
    pub fn deliveries_of(&self, index: usize) -> Vec<PlannedDelivery> {
        let success = PlannedDelivery::Callback {
            status: Status::Success.code(),
        };
        match self.fault_of(index) {
            None => vec![success],
            Some(CallbackFault::Duplicate) => vec![success.clone(), success],
            Some(CallbackFault::Reorder) => vec![
                success,
                PlannedDelivery::Callback {
                    status: Status::InProgress.code(),
                },
            ],
            Some(CallbackFault::Delay) => vec![
                PlannedDelivery::Wait(
                    Duration::from_millis(self.profile.callback_delay_ms).min(MAX_REAL_DELAY),
                ),
                success,
            ],
            Some(CallbackFault::UnknownOrder) => vec![success, PlannedDelivery::UnknownOrder],
        }
    }

    /// Every order's deliveries: the plan as a list.
    pub fn deliveries(&self) -> Vec<(usize, Vec<PlannedDelivery>)> {
        (0..self.orders)
            .map(|i| (i, self.deliveries_of(i)))
            .collect()
    }
}

/// A case's name for `fault`.
pub fn case_name(fault: Option<CallbackFault>) -> &'static str {
    match fault {
        None => "no_fault_credited_once",
        Some(CallbackFault::Duplicate) => "duplicate_credited_once",
        Some(CallbackFault::Reorder) => "reorder_keeps_success",
        Some(CallbackFault::Delay) => "delay_credited_once",
        Some(CallbackFault::UnknownOrder) => "unknown_order_no_5xx",
    }
}

/// Every case's fault: none, then each kind.
pub fn all_faults() -> Vec<Option<CallbackFault>> {
    std::iter::once(None)
        .chain(CallbackFault::ALL.into_iter().map(Some))
        .collect()
}

/// A fault profile from a file's text, YAML or JSON (the shape of the
/// merchants file's `faults:`); the error names the field.
pub fn parse_profile(text: &str) -> Result<FaultProfile, String> {
    let de = serde_yaml::Deserializer::from_str(text);
    let profile: FaultProfile = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        if path == "." {
            format!("(top level): {message}")
        } else {
            let message = message
                .strip_prefix(&format!("{path}: "))
                .map_or(message.clone(), str::to_owned);
            format!("field `{path}`: {message}")
        }
    })?;
    profile
        .check()
        .map_err(|(field, message)| format!("field `{field}`: {message}"))?;
    Ok(profile)
}

/// Runs the case of `fault`: its orders, `ORDERS_AT_ONCE` at a time.
pub(super) async fn run_fault_case(
    target: &MerchantTarget,
    fault: Option<CallbackFault>,
    prefix: &str,
) -> Check {
    let plan = target
        .faults
        .as_ref()
        .ok_or("this case needs a fault profile")?;
    let orders = plan.orders_with(fault);
    let checked = orders.len();
    let failures: Vec<String> = futures_util::stream::iter(orders)
        .map(|index| run_order(target, plan, prefix, index))
        .buffered(ORDERS_AT_ONCE)
        .filter_map(|result| async move { result.err() })
        .collect()
        .await;
    match failures.first() {
        None => Ok(()),
        Some(first) => Err(format!(
            "{} of the {checked} orders drawn {} failed; first: {first}",
            failures.len(),
            match fault {
                None => "without a fault".to_owned(),
                Some(f) => format!("`{}`", crate::simulator::faults::callback_name(f)),
            }
        )),
    }
}

/// Delivers order `index` as planned and checks the merchant's view.
async fn run_order(target: &MerchantTarget, plan: &FaultPlan, prefix: &str, index: usize) -> Check {
    let order_id = format!("{prefix}-o{index:05}");
    for (n, delivery) in plan.deliveries_of(index).into_iter().enumerate() {
        let what = format!("order {order_id}, delivery {}", n + 1);
        match delivery {
            PlannedDelivery::Wait(wait) => tokio::time::sleep(wait).await,
            PlannedDelivery::Callback { status } => {
                let status = Status::from(status);
                let body = draft(OperationType::PaymentC2b, status, &order_id, Shape::Plain)
                    .signed(&target.key)?;
                let answer = post(target, &target.url, body).await;
                if status == Status::Success {
                    expect_accepted(&answer, &what, target)?;
                } else if !answer.status.is_some_and(|s| (200..300).contains(&s)) {
                    return Err(format!(
                        "{what}: a stale \"in progress\" after the success must still be acknowledged (else it is retried), got {}",
                        answer.describe()
                    ));
                }
            }
            PlannedDelivery::UnknownOrder => {
                let body = draft(
                    OperationType::PaymentC2b,
                    Status::Success,
                    &format!("never-sent-{order_id}"),
                    Shape::Plain,
                )
                .signed(&target.key)?;
                let answer = post(target, &target.url, body).await;
                if answer.status.is_none_or(|s| s >= 500) {
                    return Err(format!(
                        "{what}: a callback for an order never sent must be answered (2xx or 4xx), got {}",
                        answer.describe()
                    ));
                }
            }
        }
    }
    if target.order_lookup.is_none() {
        return Ok(());
    }
    let (credited, status) = lookup(target, &order_id).await?;
    if credited != 1 {
        return Err(format!(
            "order {order_id} credited {credited} times, not once"
        ));
    }
    if status != Some(Status::Success.code()) {
        return Err(format!(
            "order {order_id} is in status {status:?} after its success, not 2: a final status must not move back"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_plans_the_same_deliveries_and_another_seed_others() {
        let plan = |seed| FaultPlan::new(FaultProfile::new(seed, 40), DEFAULT_ORDERS);
        assert_eq!(plan(17).deliveries(), plan(17).deliveries());
        assert_ne!(plan(17).deliveries(), plan(18).deliveries());
        // Every order is in exactly one case.
        let total: usize = all_faults()
            .into_iter()
            .map(|f| plan(17).orders_with(f).len())
            .sum();
        assert_eq!(total, DEFAULT_ORDERS);
    }

    #[test]
    fn the_plan_draws_as_the_simulator_and_caps_the_delay() {
        let profile = FaultProfile {
            callbacks: vec![CallbackFault::Delay],
            ..FaultProfile::new(3, 100)
        };
        let plan = FaultPlan::new(profile.clone(), 5);
        for i in 0..5 {
            assert_eq!(
                plan.fault_of(i),
                profile.callback_fault(FAULT_PUBLIC_ID, &format!("order-{i:05}"), 2)
            );
            assert_eq!(
                plan.deliveries_of(i)[0],
                PlannedDelivery::Wait(MAX_REAL_DELAY)
            );
        }
        assert!(
            FaultPlan::new(FaultProfile::new(3, 0), 50)
                .orders_with(None)
                .len()
                == 50
        );
    }

    #[test]
    fn a_profile_file_is_yaml_or_json_and_errors_name_the_field() {
        let yaml = parse_profile("seed: 7\nrate_percent: 20\ncallbacks: [duplicate]\n").unwrap();
        assert_eq!(yaml.callbacks, [CallbackFault::Duplicate]);
        let json = parse_profile(r#"{"seed": 7, "rate_percent": 20, "callbacks": ["duplicate"]}"#)
            .unwrap();
        assert_eq!(yaml, json);
        for (text, field) in [
            ("seed: 7\nrate_percent: 101\n", "rate_percent"),
            (
                "seed: 7\nrate_percent: 5\ncallbacks: [explode]\n",
                "callbacks",
            ),
            ("seed: -1\nrate_percent: 5\n", "seed"),
            (
                "seed: 7\nrate_percent: 5\ncallback_delay_ms: 99999999\n",
                "callback_delay_ms",
            ),
        ] {
            let err = parse_profile(text).unwrap_err();
            assert!(err.contains(field), "{text}: {err}");
        }
        let err = parse_profile("seed: 7\n").unwrap_err();
        assert!(err.contains("rate_percent"), "{err}");
        assert!(parse_profile(": : :").is_err());
    }
}
