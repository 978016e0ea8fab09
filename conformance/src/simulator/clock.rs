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
    let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Written digit by digit: `format!` took about 1.3 % of a loaded
    // simulator's time (two or three timestamps per payment). Years past
    // 9999 and out-of-range microseconds keep `format!`'s wider output.
    match u32::try_from(y) {
        Ok(year) if year <= 9999 && micros <= 999_999 => {
            let mut out = [0u8; 26];
            let fields: [(usize, u64, usize); 7] = [
                (0, u64::from(year), 4),
                (5, u64::from(m), 2),
                (8, u64::from(d), 2),
                (11, hh, 2),
                (14, mm, 2),
                (17, ss, 2),
                (20, u64::from(micros), 6),
            ];
            for (at, mut value, width) in fields {
                for slot in out[at..at + width].iter_mut().rev() {
                    *slot = b'0' + (value % 10) as u8;
                    value /= 10;
                }
            }
            for (at, separator) in [
                (4, b'-'),
                (7, b'-'),
                (10, b' '),
                (13, b':'),
                (16, b':'),
                (19, b'.'),
            ] {
                out[at] = separator;
            }
            out.iter().map(|&b| char::from(b)).collect()
        }
        _ => format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}.{micros:06}"),
    }
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
        assert_eq!(
            format_timestamp(253_402_300_799, 999_999),
            "9999-12-31 23:59:59.999999"
        );
        // Past what the gateway's format holds: wider, never cut.
        assert_eq!(
            format_timestamp(253_402_300_800, 0),
            "10000-01-01 00:00:00.000000"
        );
        assert_eq!(
            format_timestamp(0, 1_000_000),
            "1970-01-01 00:00:00.1000000"
        );
    }

    #[test]
    fn the_written_timestamp_matches_the_formatted_one() {
        let formatted = |secs: u64, micros: u32| {
            let (y, m, d) = civil_from_days((secs / 86_400) as i64);
            let rem = secs % 86_400;
            format!(
                "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60
            )
        };
        let mut secs: u64 = 1;
        while secs < 253_402_300_800 {
            let micros = (secs % 1_000_000) as u32;
            assert_eq!(format_timestamp(secs, micros), formatted(secs, micros));
            secs = secs * 3 + 7;
        }
    }
}
