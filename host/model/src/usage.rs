//! Usage reports (`docs/TENANCY.md`, section 5): `GET /v1/usage` (and its
//! CSV form `GET /v1/usage.csv`) for a tenant.

use crate::query::{BadQuery, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the report's lines are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageGroup {
    /// One line per UTC day.
    #[default]
    Day,
    /// One line per workflow, over the whole range.
    Workflow,
}

/// `GET /v1/usage`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// First UTC day, `YYYY-MM-DD` (default: the first day of this month).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last UTC day, included, `YYYY-MM-DD` (default: today). At most 366
    /// days after `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `day` (default) or `workflow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<UsageGroup>,
}

/// Whether `s` is a day `YYYY-MM-DD` with a month 1–12 and a day 1–31.
pub fn is_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|i| b[*i].is_ascii_digit())
        && matches!(s[5..7].parse::<u8>(), Ok(1..=12))
        && matches!(s[8..10].parse::<u8>(), Ok(1..=31))
}

impl Query for UsageQuery {
    const PARAMS: &'static [&'static str] = &["from", "to", "group"];

    fn check(&self) -> Result<(), BadQuery> {
        for (param, v) in [("from", &self.from), ("to", &self.to)] {
            if let Some(v) = v
                && !is_day(v)
            {
                return Err(BadQuery {
                    param: param.into(),
                    value: v.clone(),
                    reason: "is not a UTC day `YYYY-MM-DD`".into(),
                });
            }
        }
        if let (Some(f), Some(t)) = (&self.from, &self.to)
            && f > t
        {
            return Err(BadQuery {
                param: "to".into(),
                value: t.clone(),
                reason: format!("is before `from` ({f})"),
            });
        }
        Ok(())
    }
}

/// One line of a report: the counters of a day or of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageLine {
    /// The tenant (the operator's report only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The UTC day (`group=day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// The workflow (`group=workflow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// Runs created.
    pub runs: i64,
    /// Step attempts finished (each retry counts).
    pub steps: i64,
    /// Wall time of the attempts, in milliseconds.
    pub wall_ms: i64,
    /// The largest linear memory of one attempt, in bytes (a maximum).
    pub peak_memory_bytes: i64,
    /// Outbound HTTP requests (each redirect hop counts).
    pub egress_requests: i64,
    /// Outbound request and response bodies, in bytes.
    pub egress_bytes: i64,
    /// LLM input tokens the connectors reported.
    pub llm_input_tokens: i64,
    /// LLM output tokens the connectors reported.
    pub llm_output_tokens: i64,
    /// LLM cost the connectors reported, in millionths of the currency unit.
    pub llm_cost_micros: i64,
    /// Log and stdio bytes the plugins wrote.
    pub log_bytes: i64,
}

impl UsageLine {
    /// The CSV header, in the order of [`UsageLine::csv`].
    pub const CSV_HEADER: &'static str = "tenant_id,day,workflow_id,runs,steps,wall_ms,\
        peak_memory_bytes,egress_requests,egress_bytes,llm_input_tokens,llm_output_tokens,\
        llm_cost_micros,log_bytes";

    /// Adds a stored counter (`peak_memory_bytes` keeps the maximum); an
    /// unknown counter is ignored.
    pub fn add(&mut self, counter: &str, value: i64) {
        let slot = match counter {
            "runs" => &mut self.runs,
            "steps" => &mut self.steps,
            "wall_ms" => &mut self.wall_ms,
            "peak_memory_bytes" => {
                self.peak_memory_bytes = self.peak_memory_bytes.max(value);
                return;
            }
            "egress_requests" => &mut self.egress_requests,
            "egress_bytes" => &mut self.egress_bytes,
            "llm_input_tokens" => &mut self.llm_input_tokens,
            "llm_output_tokens" => &mut self.llm_output_tokens,
            "llm_cost_micros" => &mut self.llm_cost_micros,
            "log_bytes" => &mut self.log_bytes,
            _ => return,
        };
        *slot = slot.saturating_add(value);
    }

    /// The line as CSV (ids are `[a-z0-9_-]`, days digits and dashes: nothing
    /// to quote).
    pub fn csv(&self) -> String {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s(&self.tenant_id),
            s(&self.day),
            s(&self.workflow_id),
            self.runs,
            self.steps,
            self.wall_ms,
            self.peak_memory_bytes,
            self.egress_requests,
            self.egress_bytes,
            self.llm_input_tokens,
            self.llm_output_tokens,
            self.llm_cost_micros,
            self.log_bytes
        )
    }
}

/// A usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    /// First UTC day.
    pub from: String,
    /// Last UTC day, included.
    pub to: String,
    /// How the lines are grouped.
    pub group: UsageGroup,
    /// The lines, by day or by workflow id; days and workflows without use
    /// are left out.
    pub lines: Vec<UsageLine>,
    /// The whole range.
    pub total: UsageLine,
}
