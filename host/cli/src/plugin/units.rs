//! Human units on the command line: `500ms`, `5s`, `64MiB`.

use anyhow::{Context, bail};
use std::time::Duration;

pub fn duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .with_context(|| format!("`{s}` is not a duration like 500ms, 5s or 1m"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => bail!("`{s}`: unknown unit `{unit}` (use ms, s or m)"),
    })
}

pub fn bytes(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .with_context(|| format!("`{s}` is not a size like 64MiB or 1GiB"))?;
    let mul = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => bail!("`{s}`: unknown unit `{unit}` (use KiB, MiB or GiB)"),
    };
    n.checked_mul(mul)
        .with_context(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_names_bad_ones() {
        assert_eq!(duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(bytes("64MiB").unwrap(), 64 << 20);
        assert_eq!(bytes("1g").unwrap(), 1 << 30);
        assert!(
            duration("5h")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert!(
            bytes("lots")
                .unwrap_err()
                .to_string()
                .contains("not a size")
        );
    }
}
