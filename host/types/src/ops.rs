//! What the operator keeps on a tenant: its state ([`TenantState`]) and its
//! overrides of the deployment's limits ([`TenantLimits`], with the usage
//! [`Quotas`]), and the operator's own credential ([`OperatorKey`])
//! (`docs/TENANCY.md`, sections 1 and 2).

use serde::{Deserialize, Serialize};

/// Where a tenant is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TenantState {
    /// Everything works.
    #[default]
    Active,
    /// Its keys and sessions answer 403 `tenant_suspended`, its webhooks start
    /// no run, its schedules do not fire, its queued steps wait.
    Suspended {
        /// Why, as the operator wrote it (shown to the tenant's callers).
        reason: String,
        /// When (ms since the epoch).
        at: i64,
    },
    /// Like suspended; erased once `erase_after` has passed, unless resumed.
    Deleting {
        /// Why, as the operator wrote it.
        reason: String,
        /// When the delete was asked (ms since the epoch).
        at: i64,
        /// From then on the sweeper erases the tenant's rows (ms since the epoch).
        erase_after: i64,
    },
    /// The grace period passed: the sweeper is erasing its rows (no resume).
    Erasing {
        /// Why, as the operator wrote it.
        reason: String,
        /// When the erase started (ms since the epoch).
        at: i64,
    },
}

impl TenantState {
    /// Why the tenant's callers are refused, or `None` when it is active.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            Self::Active => None,
            Self::Suspended { reason, .. }
            | Self::Deleting { reason, .. }
            | Self::Erasing { reason, .. } => Some(reason),
        }
    }

    /// The stable name: `active`, `suspended`, `deleting`, `erasing`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended { .. } => "suspended",
            Self::Deleting { .. } => "deleting",
            Self::Erasing { .. } => "erasing",
        }
    }
}

/// A tenant's overrides of the deployment's limits; a field left out takes the
/// deployment's value. Unknown keys are refused, naming the key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantLimits {
    /// API calls per second (tokens of the API bucket); 0 turns the bucket off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_rate: Option<f64>,
    /// The API bucket's burst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_burst: Option<u32>,
    /// Webhook calls per second; 0 turns the bucket off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_rate: Option<f64>,
    /// The webhook bucket's burst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_burst: Option<u32>,
    /// Steps of the tenant running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_running_steps: Option<u32>,
    /// Runs of the tenant not yet ended; a new run past it is refused (429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_active_runs: Option<u64>,
    /// Largest component the tenant may upload, publish or install (bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_bytes: Option<u64>,
    /// Days an ended run is kept; 0 keeps runs forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_retention_days: Option<u32>,
    /// Usage quotas, checked when a run starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotas: Option<Quotas>,
}

/// Usage quotas; a quota left out is unlimited. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Runs started in a calendar month (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_per_month: Option<u64>,
    /// Steps run in a calendar month (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_per_month: Option<u64>,
    /// LLM cost in millionths of the currency unit, per calendar month (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_cost_micros_per_month: Option<u64>,
    /// Egress bytes per day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_bytes_per_day: Option<u64>,
}

impl TenantLimits {
    /// Checks the values (the shape is checked by deserializing): rates are
    /// finite and not negative.
    ///
    /// # Errors
    /// The field at fault, with what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (field, rate) in [
            ("api_rate", self.api_rate),
            ("webhook_rate", self.webhook_rate),
        ] {
            if let Some(r) = rate
                && (!r.is_finite() || r < 0.0)
            {
                return Err(format!(
                    "`limits.{field}`: must be a finite number, 0 or more"
                ));
            }
        }
        Ok(())
    }
}

/// An operator key as stored: never the secret, only its prefix and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorKey {
    /// `opk_…` (the audit actor is `op:<id>`).
    pub id: String,
    /// The public first part of the key (`weft_op_…`), unique, used to find it.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub hash: Vec<u8>,
    /// For humans.
    pub name: String,
    /// When it was created.
    pub created_at: i64,
    /// When it was revoked; a revoked key is refused.
    pub revoked_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_limit_keys_are_refused_by_name() {
        let e = serde_json::from_str::<TenantLimits>(r#"{"api_rat": 1}"#).unwrap_err();
        assert!(e.to_string().contains("api_rat"), "{e}");
        let e = serde_json::from_str::<TenantLimits>(r#"{"quotas": {"runs": 1}}"#).unwrap_err();
        assert!(e.to_string().contains("runs"), "{e}");
        let l: TenantLimits =
            serde_json::from_str(r#"{"api_rate": 2.5, "quotas": {"runs_per_month": 10}}"#).unwrap();
        assert_eq!(l.api_rate, Some(2.5));
        assert!(
            TenantLimits {
                api_rate: Some(-1.0),
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .contains("limits.api_rate")
        );
    }

    #[test]
    fn states_round_trip_tagged() {
        let s = TenantState::Suspended {
            reason: "unpaid".into(),
            at: 5,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "suspended");
        assert_eq!(serde_json::from_value::<TenantState>(v).unwrap(), s);
        assert_eq!(s.refusal(), Some("unpaid"));
        assert_eq!(TenantState::Active.refusal(), None);
    }
}
