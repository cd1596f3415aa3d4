//! The render budget (TEST-PLAN H1): a running count of the data one decision
//! of a run renders and copies, so that a small input cannot become a large
//! amount of work, memory or stored rows.
//!
//! Every place where a definition multiplies data charges the same
//! [`Budget`] *before* it copies: templates (action input and config, respond
//! body and headers, sub-workflow input, `if`, switch `value`, loop `items`),
//! each merge input, each loop iteration's output collected into the loop's
//! output, and the second copies a respond step and a sub-workflow keep. A
//! charge over [`RunLimits`] fails the step with reason `render_limit`, and
//! nothing of what it was rendering is kept.
//!
//! ```
//! use serde_json::json;
//! use weft_engine::{RunLimits, budget::Budget};
//!
//! let mut b = Budget::new(RunLimits { render_bytes: 20, render_nodes: 100 });
//! assert_eq!(b.copy(&json!(["abc", 1])).unwrap(), json!(["abc", 1]));
//! assert_eq!(b.used(), (9, 3)); // the length of `["abc",1]`, three values
//! let e = b.copy(&json!("x".repeat(20))).unwrap_err();
//! assert_eq!(e.to_string(), "rendered data is over the budget of 20 bytes (`render_bytes`)");
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// Limits of what one decision of a run may do (see [`crate::run::Plan`]), the
/// `[worker.limits]` section of the server's configuration.
///
/// `render_bytes` and `render_nodes` are the render budget ([`Budget`]): the
/// data one decision renders and copies from templates, loop items and
/// outputs, merges, sub-workflow inputs and respond bodies and headers, all
/// its steps together. A step that would take more fails with reason
/// `render_limit` before anything is stored. The defaults let a body at the
/// API's 2 MiB limit be echoed, merged and answered, while a 100 KB body can
/// be multiplied at most about 80 times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunLimits {
    /// Bytes (about their compact JSON) one decision may render and copy.
    pub render_bytes: u64,
    /// JSON values (each string, number, array, object...) one decision may
    /// render and copy.
    pub render_nodes: u64,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            render_bytes: 8 * 1024 * 1024,
            render_nodes: 1_000_000,
        }
    }
}

/// The budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    /// More bytes than [`RunLimits::render_bytes`].
    #[error("rendered data is over the budget of {limit} bytes (`render_bytes`)")]
    Bytes {
        /// The limit.
        limit: u64,
    },
    /// More JSON values than [`RunLimits::render_nodes`].
    #[error("rendered data is over the budget of {limit} JSON values (`render_nodes`)")]
    Nodes {
        /// The limit.
        limit: u64,
    },
}

/// What one decision may still render and copy.
#[derive(Debug, Clone)]
pub struct Budget {
    limits: RunLimits,
    bytes: u64,
    nodes: u64,
}

impl Default for Budget {
    /// A budget of [`RunLimits::default`].
    fn default() -> Self {
        Self::new(RunLimits::default())
    }
}

impl Budget {
    /// A fresh budget of `limits`.
    pub fn new(limits: RunLimits) -> Self {
        Self {
            limits,
            bytes: 0,
            nodes: 0,
        }
    }

    /// Bytes and JSON values charged so far.
    pub fn used(&self) -> (u64, u64) {
        (self.bytes, self.nodes)
    }

    /// Gives back everything charged since `used` was read (what a failed
    /// step had rendered is dropped, not kept).
    pub fn restore(&mut self, used: (u64, u64)) {
        (self.bytes, self.nodes) = used;
    }

    /// Charges `bytes` and `nodes` JSON values.
    ///
    /// # Errors
    /// [`Exceeded`] when either total is now over its limit (and every later
    /// charge fails too, until [`Budget::restore`]).
    pub fn charge(&mut self, bytes: u64, nodes: u64) -> Result<(), Exceeded> {
        self.bytes = self.bytes.saturating_add(bytes);
        self.nodes = self.nodes.saturating_add(nodes);
        if self.bytes > self.limits.render_bytes {
            return Err(Exceeded::Bytes {
                limit: self.limits.render_bytes,
            });
        }
        if self.nodes > self.limits.render_nodes {
            return Err(Exceeded::Nodes {
                limit: self.limits.render_nodes,
            });
        }
        Ok(())
    }

    /// Charges the size of `v`: about its compact JSON length (escapes are not
    /// counted) and one node per value. Stops at the first value over the
    /// limit, so weighing a huge value costs no more than the budget.
    ///
    /// # Errors
    /// As [`Budget::charge`].
    pub fn weigh(&mut self, v: &Value) -> Result<(), Exceeded> {
        enum Children<'a> {
            Array(std::slice::Iter<'a, Value>),
            Object(serde_json::map::Iter<'a>),
        }
        // A container's own charge is its brackets and the commas between its
        // members; a key costs its quotes and colon.
        let separators = |n: usize| 2 + u64::try_from(n.saturating_sub(1)).unwrap_or(u64::MAX);
        let mut stack = Vec::new();
        let mut next = Some(v);
        loop {
            if let Some(v) = next.take() {
                let own = match v {
                    Value::Null | Value::Bool(true) => 4,
                    Value::Bool(false) => 5,
                    Value::Number(n) => number_len(n),
                    Value::String(s) => len(s) + 2,
                    Value::Array(a) => {
                        stack.push(Children::Array(a.iter()));
                        separators(a.len())
                    }
                    Value::Object(m) => {
                        stack.push(Children::Object(m.iter()));
                        separators(m.len())
                    }
                };
                self.charge(own, 1)?;
            }
            let Some(top) = stack.last_mut() else {
                return Ok(());
            };
            match top {
                Children::Array(it) => next = it.next(),
                Children::Object(it) => {
                    if let Some((k, v)) = it.next() {
                        self.charge(len(k) + 3, 0)?;
                        next = Some(v);
                    }
                }
            }
            if next.is_none() {
                stack.pop();
            }
        }
    }

    /// A copy of `v`, weighed first (see [`Budget::weigh`]).
    ///
    /// # Errors
    /// As [`Budget::charge`]; nothing is copied then.
    pub fn copy(&mut self, v: &Value) -> Result<Value, Exceeded> {
        self.weigh(v)?;
        Ok(v.clone())
    }
}

/// A length as a charge (lossless on every platform Rust supports).
pub(crate) fn len(s: &str) -> u64 {
    u64::try_from(s.len()).unwrap_or(u64::MAX)
}

fn number_len(n: &Number) -> u64 {
    let digits = |u: u64| u.checked_ilog10().map_or(1, |d| u64::from(d) + 1);
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => digits(u),
        (None, Some(i)) => 1 + digits(i.unsigned_abs()),
        // The longest a finite f64 prints as.
        _ => 24,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits(bytes: u64, nodes: u64) -> RunLimits {
        RunLimits {
            render_bytes: bytes,
            render_nodes: nodes,
        }
    }

    #[test]
    fn weight_is_about_the_compact_json() {
        for v in [
            json!(null),
            json!(false),
            json!(-120),
            json!(18446744073709551615u64),
            json!("héllo"),
            json!([]),
            json!({}),
            json!({"a": [1, 2, {"bc": null}], "d": "e"}),
            json!([[[]], [true, 0]]),
        ] {
            let mut b = Budget::new(limits(u64::MAX, u64::MAX));
            b.weigh(&v).unwrap();
            assert_eq!(b.used().0, v.to_string().len() as u64, "{v}");
        }
        let mut b = Budget::new(limits(u64::MAX, u64::MAX));
        b.weigh(&json!({"a": [1, 2, {"bc": null}], "d": "e"}))
            .unwrap();
        assert_eq!(b.used().1, 7, "object, array, 1, 2, object, null, \"e\"");
    }

    #[test]
    fn a_charge_over_either_limit_fails_and_stays_failed_until_restored() {
        let mut b = Budget::new(limits(10, 3));
        b.charge(10, 3).unwrap();
        let before = b.used();
        assert_eq!(b.charge(1, 0), Err(Exceeded::Bytes { limit: 10 }));
        assert_eq!(b.charge(0, 0), Err(Exceeded::Bytes { limit: 10 }));
        b.restore(before);
        assert_eq!(b.charge(0, 1), Err(Exceeded::Nodes { limit: 3 }));
        assert_eq!(
            Exceeded::Nodes { limit: 3 }.to_string(),
            "rendered data is over the budget of 3 JSON values (`render_nodes`)"
        );
    }

    #[test]
    fn weighing_stops_at_the_limit_and_copies_nothing() {
        let wide = Value::Array(vec![json!(0); 100_000]);
        let mut b = Budget::new(limits(u64::MAX, 10));
        assert_eq!(b.copy(&wide), Err(Exceeded::Nodes { limit: 10 }));
        assert_eq!(b.used().1, 11, "it stopped at the first node over");
        let mut b = Budget::new(limits(1_000, u64::MAX));
        assert_eq!(b.weigh(&wide), Err(Exceeded::Bytes { limit: 1_000 }));
        assert_eq!(b.used(), (100_001, 1), "the brackets and commas, at once");
    }
}
