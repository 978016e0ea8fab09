//! Time as the simulator writes it: the gateway's `YYYY-MM-DD
//! hh:mm:ss.ffffff` timestamps (UTC) and milliseconds since the epoch.

use super::sim_clock::SimClock;

/// Now, as the gateway writes times: `YYYY-MM-DD hh:mm:ss.ffffff` (UTC),
/// on the clock of the simulator whose work is running (see
/// [`super::sim_clock`]).
pub fn now_timestamp() -> String {
    let us = SimClock::current().now_us();
    format_timestamp(us / 1_000_000, (us % 1_000_000) as u32)
}

/// Formats seconds since the epoch (UTC) plus microseconds.
pub fn format_timestamp(secs: u64, micros: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Milliseconds since the epoch, now (on the current simulator's clock).
pub(crate) fn now_ms() -> u64 {
    SimClock::current().now_us() / 1000
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_the_gateways() {
        assert_eq!(format_timestamp(0, 0), "1970-01-01 00:00:00.000000");
        assert_eq!(
            format_timestamp(1_606_298_912, 832_969),
            "2020-11-25 10:08:32.832969"
        );
        assert_eq!(
            format_timestamp(951_782_400, 1),
            "2000-02-29 00:00:00.000001"
        );
    }
}
