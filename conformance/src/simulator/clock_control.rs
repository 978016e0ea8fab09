//! `GET /_sim/clock` and `POST /_sim/clock/advance` (admin token, like
//! the rest of the control API): read and move a manual clock.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::clock::format_timestamp;
use super::control::json_value;
use super::SimulatorState;

/// At most ten years in one advance (an `u64` of seconds would overflow
/// the microsecond clock).
const MAX_ADVANCE_S: u64 = 10 * 366 * 86_400;

fn now_json(state: &SimulatorState) -> serde_json::Value {
    let clock = state.clock();
    let us = clock.now_us();
    json!({
        "mode": if clock.is_manual() { "manual" } else { "wall" },
        "now": format_timestamp(us / 1_000_000, (us % 1_000_000) as u32),
        "now_ms": us / 1000,
        "pending_timers": clock.pending_timers(),
    })
}

/// `GET /_sim/clock`.
pub(crate) async fn clock(State(state): State<SimulatorState>) -> Response {
    json_value(StatusCode::OK, &now_json(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: u64,
}

/// `POST /_sim/clock/advance` `{"seconds": N}`: fires every timer due on
/// the way, in order, each woken task running to its next timer before
/// time moves on; answers with the new time and how many timers fired.
pub(crate) async fn advance_clock(State(state): State<SimulatorState>, body: Bytes) -> Response {
    let seconds = match serde_json::from_slice::<AdvanceBody>(&body) {
        Ok(AdvanceBody { seconds }) if seconds <= MAX_ADVANCE_S => seconds,
        Ok(_) => {
            return json_value(
                StatusCode::BAD_REQUEST,
                &json!({"status": 400, "message": format!("seconds: at most {MAX_ADVANCE_S} in one advance")}),
            )
        }
        Err(err) => {
            return json_value(
                StatusCode::BAD_REQUEST,
                &json!({"status": 400, "message": format!("the body must be {{\"seconds\": N}}: {err}")}),
            )
        }
    };
    match state.clock().advance(Duration::from_secs(seconds)).await {
        Some(advanced) => {
            let mut answer = now_json(&state);
            answer["fired"] = advanced.fired.into();
            json_value(StatusCode::OK, &answer)
        }
        None => json_value(
            StatusCode::CONFLICT,
            &json!({"status": 409, "message": "the simulator runs on the wall clock; start it with --clock manual to advance time"}),
        ),
    }
}
