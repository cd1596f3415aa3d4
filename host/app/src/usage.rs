//! Usage reports (`docs/TENANCY.md`, section 5): the tenant's counters, and
//! every tenant's for the operator. The counters are written by the store's
//! commit; quotas are checked by the worker when a run starts.

use crate::{Actor, App, Error, Result};
use weft_store::usage::{UsageRow, civil, day, days_from_civil};
use weft_types::Role;

/// The longest range one report reads, in days.
pub const MAX_DAYS: i64 = 366;

/// The range `from..=to` (UTC days): `from` defaults to the first day of the
/// current month, `to` to today; `to` before `from` or a range over
/// [`MAX_DAYS`] is `Invalid`, naming the parameter.
///
/// # Errors
/// [`Error::Invalid`].
pub fn range(from: Option<&str>, to: Option<&str>, now_ms: i64) -> Result<(String, String)> {
    let today = day(now_ms);
    let to = to.map_or(today.clone(), str::to_owned);
    let from = from.map_or_else(|| format!("{}-01", &to[..7.min(to.len())]), str::to_owned);
    let parse = |s: &str, param: &str| -> Result<i64> {
        let bad = || {
            Error::Invalid(format!(
                "query parameter `{param}`: `{s}` is not a UTC day `YYYY-MM-DD`"
            ))
        };
        let mut it = s.splitn(3, '-').map(str::parse::<i64>);
        let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) = (it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let n = days_from_civil(y, m, d);
        if s.len() != 10 || civil(n) != (y, m, d) {
            return Err(bad());
        }
        Ok(n)
    };
    let (f, t) = (parse(&from, "from")?, parse(&to, "to")?);
    if t < f {
        return Err(Error::Invalid(format!(
            "query parameter `to`: `{to}` is before `from` ({from})"
        )));
    }
    if t - f >= MAX_DAYS {
        return Err(Error::Invalid(format!(
            "query parameter `from`: `{from}` is more than {MAX_DAYS} days before `to` ({to})"
        )));
    }
    Ok((from, to))
}

impl App {
    /// The caller's tenant's counters for the days `from..=to` (see
    /// [`range`]), by day, workflow and counter. Viewers and up.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Invalid`]; store failures.
    pub async fn usage(
        &self,
        actor: &Actor,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(String, String, Vec<UsageRow>)> {
        actor.require(Role::Viewer)?;
        let (from, to) = range(from, to, weft_worker::now_ms())?;
        let rows = self.store().usage(&actor.tenant_id, &from, &to).await?;
        Ok((from, to, rows))
    }

    /// Every tenant's counters for the days `from..=to`. For the operator:
    /// the caller must have been authenticated as the operator (the route's
    /// principal); no tenant actor reaches it.
    ///
    /// # Errors
    /// [`Error::Invalid`]; store failures.
    pub async fn usage_all(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(String, String, Vec<UsageRow>)> {
        let (from, to) = range(from, to, weft_worker::now_ms())?;
        let rows = self.store().usage_all(&from, &to).await?;
        Ok((from, to, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_default_and_are_checked() {
        let now = 1_751_328_000_000 + 5 * 86_400_000; // 2025-07-06
        assert_eq!(
            range(None, None, now).unwrap(),
            ("2025-07-01".into(), "2025-07-06".into())
        );
        assert!(range(Some("2025-02-30"), None, now).is_err());
        assert!(range(Some("2025-07-07"), Some("2025-07-06"), now).is_err());
        assert!(range(Some("2024-01-01"), Some("2025-07-06"), now).is_err());
        assert!(range(Some("2024-07-06"), Some("2025-07-05"), now).is_ok());
    }
}
