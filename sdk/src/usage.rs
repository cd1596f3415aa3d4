//! Reporting what a call used that the host cannot measure itself: an LLM's
//! tokens and their cost. The host adds the report to the step attempt's
//! usage (`usage.llm_input_tokens`, `usage.llm_output_tokens`,
//! `usage.llm_cost_micros` in the run's journal) and to the tenant's usage
//! counters (`GET /v1/usage`), which the tenant's quotas read
//! (`llm_cost_micros_per_month`).
//!
//! ```no_run
//! use weft_sdk::usage::{self, Usage};
//! // After a completion whose answer said 1,200 prompt and 300 completion tokens:
//! usage::report(&Usage::llm(1_200, 300).cost_micros(1_050_000));
//! ```
//!
//! A report is a log record whose message is [`RECORD`] and whose fields are
//! decimal integers; it is counted before the step's log budget applies, so it
//! is never dropped. Several reports in one attempt add up: report each call
//! once. The figures are the connector's word: the host does not check them.

/// The message of the log record the host reads as a usage report.
pub const RECORD: &str = "weft.usage";

/// What one call used. Zero fields are not sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Tokens sent to the model (the prompt).
    pub llm_input_tokens: u64,
    /// Tokens the model produced (the completion).
    pub llm_output_tokens: u64,
    /// What the call cost, in millionths of the currency unit the prices are
    /// given in (1 USD = 1,000,000).
    pub llm_cost_micros: u64,
}

impl Usage {
    /// The tokens of one model call, without a cost.
    pub fn llm(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            llm_input_tokens: input_tokens,
            llm_output_tokens: output_tokens,
            llm_cost_micros: 0,
        }
    }

    /// The same usage with its cost, in millionths of a currency unit.
    #[must_use]
    pub fn cost_micros(self, micros: u64) -> Self {
        Self {
            llm_cost_micros: micros,
            ..self
        }
    }

    /// The record's fields: the counters that are not zero, as decimal text.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        [
            ("llm_input_tokens", self.llm_input_tokens),
            ("llm_output_tokens", self.llm_output_tokens),
            ("llm_cost_micros", self.llm_cost_micros),
        ]
        .into_iter()
        .filter(|(_, v)| *v > 0)
        .map(|(k, v)| (k, v.to_string()))
        .collect()
    }
}

/// Reports `usage` to the host (an `info` record [`RECORD`]); nothing is
/// written when every counter is zero.
pub fn report(usage: &Usage) {
    let fields = usage.fields();
    if fields.is_empty() {
        return;
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::log::write(crate::log::Level::Info, RECORD, &fields);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_counters_used_are_sent() {
        assert!(Usage::default().fields().is_empty());
        assert_eq!(
            Usage::llm(1_200, 300).cost_micros(1_050_000).fields(),
            vec![
                ("llm_input_tokens", "1200".to_owned()),
                ("llm_output_tokens", "300".to_owned()),
                ("llm_cost_micros", "1050000".to_owned()),
            ]
        );
        assert_eq!(
            Usage::llm(0, 7).fields(),
            vec![("llm_output_tokens", "7".to_owned())]
        );
    }
}
