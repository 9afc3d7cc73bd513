//! Timestamps as the console shows them. Formatting is pure arithmetic in UTC so the server's HTML and the
//! browser's hydrated view render the same text (no time zone database, no hydration mismatch).

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// `2026-11-23 09:38:05 UTC`.
pub fn format_utc(ms: Millis) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// `2026-11-23T09:38:05Z`.
pub fn format_rfc3339(ms: Millis) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// A short duration: `850 ms`, `12 s`, `1 m 24 s`, `2 h 5 m`, `3 d 4 h`.
pub fn format_duration(ms: Millis) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    let s = ms / 1_000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3_599 => format!("{} m {} s", s / 60, s % 60),
        3_600..=86_399 => format!("{} h {} m", s / 3_600, (s % 3_600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3_600),
    }
}

/// Microseconds as milliseconds with two decimals: `1.25 ms`. Integer arithmetic (rounded to the nearest
/// hundredth): formatting a float would put the float formatter into the app shell's wasm.
pub fn format_millis(us: u64) -> String {
    let hundredths = (us + 5) / 10;
    format!("{}.{:02} ms", hundredths / 100, hundredths % 100)
}

fn civil(ms: Millis) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3_600) as u32,
        ((rem % 3_600) / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        // 2026-11-23T09:38:05Z
        assert_eq!(format_rfc3339(1_795_426_685_000), "2026-11-23T09:38:05Z");
        // Leap day.
        assert_eq!(format_rfc3339(1_709_164_800_000), "2024-02-29T00:00:00Z");
        // Before the epoch.
        assert_eq!(format_rfc3339(-1_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(850), "850 ms");
        assert_eq!(format_duration(12_000), "12 s");
        assert_eq!(format_duration(84_000), "1 m 24 s");
        assert_eq!(format_duration(7_500_000), "2 h 5 m");
        assert_eq!(format_duration(-5), "0 ms");
    }

    #[test]
    fn formats_millis_with_two_decimals() {
        assert_eq!(format_millis(0), "0.00 ms");
        assert_eq!(format_millis(4), "0.00 ms");
        assert_eq!(format_millis(5), "0.01 ms");
        assert_eq!(format_millis(1_250), "1.25 ms");
        assert_eq!(format_millis(1_999), "2.00 ms");
        assert_eq!(format_millis(123_456), "123.46 ms");
    }
}
