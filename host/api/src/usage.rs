//! `GET /v1/usage` and `GET /v1/usage.csv`: the tenant's usage report
//! (`docs/TENANCY.md`, section 5).

use crate::extract::Q;
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use weft_model::usage::{UsageGroup, UsageLine, UsageQuery, UsageReport};
use weft_store::usage::UsageRow;

/// Groups stored rows into report lines (by day, or by workflow; with the
/// tenant when `by_tenant`), plus the total.
pub fn report(
    from: String,
    to: String,
    group: UsageGroup,
    by_tenant: bool,
    rows: &[UsageRow],
) -> UsageReport {
    let mut lines: BTreeMap<(String, String), UsageLine> = BTreeMap::new();
    let mut total = UsageLine::default();
    for r in rows {
        let tenant = if by_tenant {
            r.tenant_id.clone()
        } else {
            String::new()
        };
        let key = match group {
            UsageGroup::Day => r.day.clone(),
            UsageGroup::Workflow => r.workflow_id.clone(),
        };
        let line = lines
            .entry((tenant.clone(), key.clone()))
            .or_insert_with(|| UsageLine {
                tenant_id: by_tenant.then_some(tenant),
                day: (group == UsageGroup::Day).then(|| key.clone()),
                workflow_id: (group == UsageGroup::Workflow).then_some(key),
                ..UsageLine::default()
            });
        line.add(&r.counter, r.value);
        total.add(&r.counter, r.value);
    }
    UsageReport {
        from,
        to,
        group,
        lines: lines.into_values().collect(),
        total,
    }
}

/// The report as CSV: the header, the lines, then `total`.
pub fn csv(r: &UsageReport) -> String {
    let mut out = String::with_capacity(64 * (r.lines.len() + 2));
    out.push_str(UsageLine::CSV_HEADER);
    out.push_str("\r\n");
    for l in &r.lines {
        out.push_str(&l.csv());
        out.push_str("\r\n");
    }
    let total = UsageLine {
        tenant_id: Some("total".into()),
        ..r.total.clone()
    };
    out.push_str(&total.csv());
    out.push_str("\r\n");
    out
}

async fn tenant_report(
    state: &AppState,
    caller: &Caller,
    q: &UsageQuery,
) -> ApiResult<UsageReport> {
    let (from, to, rows) = state
        .app
        .usage(caller, q.from.as_deref(), q.to.as_deref())
        .await?;
    Ok(report(from, to, q.group.unwrap_or_default(), false, &rows))
}

pub async fn get_usage(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<UsageQuery>,
) -> ApiResult<Json<UsageReport>> {
    Ok(Json(tenant_report(&state, &caller, &q).await?))
}

pub async fn get_usage_csv(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<UsageQuery>,
) -> ApiResult<impl IntoResponse> {
    let r = tenant_report(&state, &caller, &q).await?;
    Ok((
        [
            (
                http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present",
            ),
            (
                http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"usage.csv\"",
            ),
        ],
        csv(&r),
    ))
}
