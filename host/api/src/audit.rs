//! The audit trail of mutating admin calls: who (the API key) did what to which record.

use crate::{ApiResult, AppState, Caller};
use weft_store::AuditEntry;
use weft_worker::now_ms;

/// Appends `action` on `target` by the caller's key to the tenant's audit log.
///
/// # Errors
/// Store failures.
pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: &str,
) -> ApiResult<()> {
    let entry = AuditEntry {
        tenant_id: caller.tenant_id.clone(),
        actor: caller.key_id.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        at: now_ms(),
    };
    Ok(state.handle.store().audit(&entry).await?)
}
