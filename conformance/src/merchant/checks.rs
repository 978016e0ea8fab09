//! Running one merchant case: send, read the answer (and the merchant's
//! view through its order lookup), judge.

use std::time::Instant;

use paygate::gateway::{OperationType, Status};

use super::bodies::{draft, Shape};
use super::cases::MerchantCaseKind;
use super::exchange::{answer_of, credited_once, expect_accepted, lookup, post, Check};
use super::hub2::{Hub2Delivery, HEADER};
use super::MerchantTarget;

fn url_for(target: &MerchantTarget, operation: OperationType) -> &str {
    match operation {
        OperationType::Deposit | OperationType::Withdrawal => {
            target.pos_url.as_deref().unwrap_or(&target.url)
        }
        _ => &target.url,
    }
}

/// Runs one case for `order_id`.
pub(crate) async fn run_case(
    target: &MerchantTarget,
    kind: &MerchantCaseKind,
    order_id: &str,
) -> Check {
    let c2b = OperationType::PaymentC2b;
    let success = |shape| draft(c2b, Status::Success, order_id, shape);
    match kind {
        MerchantCaseKind::Valid {
            operation,
            status,
            shape,
        } => {
            let body = draft(*operation, *status, order_id, *shape).signed(&target.key)?;
            let answer = post(target, url_for(target, *operation), body).await;
            expect_accepted(&answer, "the callback", target)
        }
        MerchantCaseKind::Tampered(tamper) => {
            let body = tamper.apply(&success(Shape::Plain), &target.key)?;
            let answer = post(target, &target.url, body).await;
            if answer.status == Some(200) {
                return Err(format!(
                    "a callback {} was answered 200: the merchant acted on a body the gateway did not sign",
                    tamper.name().replace('_', " ")
                ));
            }
            Ok(())
        }
        MerchantCaseKind::Replay => {
            let body = success(Shape::Plain).signed(&target.key)?;
            for n in ["first", "second"] {
                let answer = post(target, &target.url, body.clone()).await;
                expect_accepted(&answer, &format!("the {n} delivery"), target)?;
            }
            credited_once(target, order_id).await
        }
        MerchantCaseKind::ConcurrentDuplicates => {
            let body = success(Shape::Plain).signed(&target.key)?;
            let sends = (0..8).map(|_| post(target, &target.url, body.clone()));
            for (i, answer) in futures_util::future::join_all(sends)
                .await
                .iter()
                .enumerate()
            {
                expect_accepted(answer, &format!("duplicate {}", i + 1), target)?;
            }
            credited_once(target, order_id).await
        }
        MerchantCaseKind::LateInProgress => {
            let final_body = success(Shape::Plain).signed(&target.key)?;
            let late =
                draft(c2b, Status::InProgress, order_id, Shape::Plain).signed(&target.key)?;
            expect_accepted(
                &post(target, &target.url, final_body).await,
                "the success",
                target,
            )?;
            let answer = post(target, &target.url, late).await;
            if !answer.status.is_some_and(|s| (200..300).contains(&s)) {
                return Err(format!(
                    "a late \"in progress\" after the success must still be acknowledged (else it is retried), got {}",
                    answer.describe()
                ));
            }
            let (credited, status) = lookup(target, order_id).await?;
            if status != Some(Status::Success.code()) {
                return Err(format!(
                    "after a success and a late \"in progress\", the merchant's order is in status {status:?}, not 2: a final status must not move back"
                ));
            }
            if credited != 1 {
                return Err(format!("credited {credited} times, not once"));
            }
            Ok(())
        }
        MerchantCaseKind::Hub2(delivery) => hub2_case(target, delivery, order_id).await,
        MerchantCaseKind::Timing(timing) => timing.run(target, order_id).await,
        MerchantCaseKind::Faults(fault) => {
            super::faults::run_fault_case(target, *fault, order_id).await
        }
        MerchantCaseKind::UnknownOrder => {
            let body = draft(
                c2b,
                Status::Success,
                &format!("never-sent-{order_id}"),
                Shape::Plain,
            )
            .signed(&target.key)?;
            let answer = post(target, &target.url, body).await;
            match answer.status {
                Some(status) if status < 500 => Ok(()),
                _ => Err(format!(
                    "a callback for an order never sent must be answered (2xx or 4xx), got {}",
                    answer.describe()
                )),
            }
        }
    }
}

async fn hub2_case(target: &MerchantTarget, delivery: &Hub2Delivery, event_id: &str) -> Check {
    let hub2 = target
        .hub2
        .as_ref()
        .ok_or("this case needs --hub2-webhook")?;
    for (n, (body, header)) in delivery.requests(hub2, event_id).into_iter().enumerate() {
        let mut request = target
            .http
            .post(&hub2.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(header) = header {
            request = request.header(HEADER, header);
        }
        let started = Instant::now();
        let sent = request.send().await;
        let answer = answer_of(target, sent, started.elapsed());
        if delivery.must_accept() {
            expect_accepted(&answer, &format!("delivery {}", n + 1), target)?;
        } else if answer.status == Some(200) {
            return Err(format!(
                "a webhook whose signature HUB2 did not make was answered 200 ({})",
                answer.describe()
            ));
        }
    }
    Ok(())
}
