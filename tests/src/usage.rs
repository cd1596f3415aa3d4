//! What the journal says about usage (`docs/TENANCY.md`, section 5): the
//! counters summed over every finished attempt of every run, a GROUP BY over
//! the attempts done on the API's answers. The usage tests compare the
//! tenant's report with it.

use serde_json::Value;
use weft_model::Run;
use weft_model::usage::UsageLine;

/// The counters of `runs` (read with their steps), each finished attempt
/// once: what `GET /v1/usage` must report for them.
pub fn from_journal(runs: &[Run]) -> UsageLine {
    let mut line = UsageLine::default();
    for run in runs {
        line.add("runs", 1);
        for step in run.steps.as_deref().unwrap_or_default() {
            for a in step.attempts.iter().filter(|a| a.finished_at.is_some()) {
                line.add("steps", 1);
                let u = a.usage.clone().unwrap_or(Value::Null);
                let n = |k: &str| u[k].as_i64().unwrap_or(0);
                line.add("wall_ms", n("wall_time_us") / 1000);
                line.add("peak_memory_bytes", n("peak_memory_bytes"));
                line.add("egress_requests", n("egress_requests"));
                line.add("egress_bytes", n("egress_bytes_in") + n("egress_bytes_out"));
                line.add("log_bytes", n("log_bytes"));
                line.add("llm_input_tokens", n("llm_input_tokens"));
                line.add("llm_output_tokens", n("llm_output_tokens"));
                line.add("llm_cost_micros", n("llm_cost_micros"));
            }
        }
    }
    line
}
