//! Rendering within the plan's budget, and the failures it gives: reason
//! `template` for a template that does not evaluate, `render_limit` when the
//! budget ran out.

use crate::budget::{Budget, Exceeded};
use crate::{Template, template};
use serde_json::Value;
use weft_types::{Failure, Reason};

/// Renders the templates of `field`'s value.
pub(super) fn render(
    v: &Value,
    ctx: &Value,
    field: &str,
    budget: &mut Budget,
) -> Result<Value, Failure> {
    template::render_in(v, ctx, budget).map_err(|e| template_error(field, e))
}

/// Evaluates `field`'s expression (`if`, `value`, `items`).
pub(super) fn expr(
    src: &str,
    ctx: &Value,
    field: &str,
    budget: &mut Budget,
) -> Result<Value, Failure> {
    Template::parse_expr(src)
        .and_then(|t| t.render_in(ctx, budget))
        .map_err(|e| template_error(field, e))
}

/// A template of `field` failed: reason `render_limit` when the budget ran
/// out, else `template`.
pub(super) fn template_error(field: &str, e: template::Error) -> Failure {
    let mut e = e;
    let path = format!("/{field}{}", e.path);
    e.path.clear();
    let reason = match e.exceeded {
        Some(_) => Reason::RenderLimit,
        None => Reason::Template,
    };
    Failure::of(reason, format!("{path}: {e}"))
}

/// A copy of `what` ran out of budget.
pub(super) fn over(what: &str, e: Exceeded) -> Failure {
    Failure::of(Reason::RenderLimit, format!("/{what}: {e}"))
}
