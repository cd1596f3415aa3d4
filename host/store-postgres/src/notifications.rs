//! Notification rules and deliveries on PostgreSQL (`notification_rules`,
//! `notification_deliveries`): deliveries are inserted in the commit's
//! transaction ([`insert_events`]), claimed with a lease (`FOR UPDATE SKIP
//! LOCKED`) by the delivery loops of every worker.

use crate::Postgres;
use crate::row::{Cols, unavailable, write_error};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Postgres as Pg, Transaction};
use weft_store::notifications::{
    DeliveryFilter, DeliveryOutcome, MAX_ANCESTORS, NotificationDelivery, NotificationRule,
    NotificationStore, NotifyOn, NotifyTarget, RunEvent, SealedSecret, started_by_notification,
};
use weft_types::Trigger;

/// Whether `parent` or one of its ancestors was started by a notification
/// (then its descendants make no notification events: no loops).
async fn below_notification(
    tx: &mut Transaction<'_, Pg>,
    tenant: &str,
    parent: Option<&str>,
) -> Result<bool> {
    let mut next = parent.map(str::to_owned);
    for _ in 0..MAX_ANCESTORS {
        let Some(id) = next.take() else {
            return Ok(false);
        };
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT trigger_kind, input, parent_run_id FROM runs WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(&id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
        let Some((trigger, input, parent)) = row else {
            return Ok(false);
        };
        let trigger: Trigger = trigger
            .parse()
            .map_err(|e: String| Error::Corrupt(format!("runs.trigger_kind: {e}")))?;
        let input: serde_json::Value =
            serde_json::from_str(&input).map_err(|e| Error::Corrupt(format!("runs.input: {e}")))?;
        if started_by_notification(trigger, &input) {
            return Ok(true);
        }
        next = parent;
    }
    Ok(false)
}
use weft_store::{Error, Page, Result};

const RULE_COLS: &str = "tenant_id, id, workflow_id, event, kind, url, secret_nonce, \
    secret_ciphertext, secret_ad_version, enabled, created_at, updated_at, target";
const DELIVERY_COLS: &str = "tenant_id, id, rule_id, event_key, event, run_id, workflow_id, \
    payload, status, attempts, next_at, created_at, updated_at";

/// Inserts the deliveries `events` make for the matching enabled rules. Runs
/// in the commit's transaction, after the runs are written.
pub(crate) async fn insert_events(tx: &mut Transaction<'_, Pg>, events: &[RunEvent]) -> Result<()> {
    for e in events {
        let rules: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM notification_rules WHERE tenant_id = $1 AND event = $2 \
             AND enabled AND (workflow_id IS NULL OR workflow_id = $3)",
        )
        .bind(&e.tenant_id)
        .bind(e.on.as_str())
        .bind(&e.workflow_id)
        .fetch_all(&mut **tx)
        .await
        .map_err(unavailable)?;
        if rules.is_empty() || below_notification(tx, &e.tenant_id, e.parent.as_deref()).await? {
            continue;
        }
        if e.on == NotifyOn::RunRecovered {
            let previous: Option<String> = sqlx::query_scalar(
                "SELECT status FROM runs WHERE tenant_id = $1 AND workflow_id = $2 \
                 AND id <> $3 AND finished_at IS NOT NULL AND finished_at <= $4 \
                 AND status IN ('completed', 'failed') AND until_step IS NULL \
                 ORDER BY finished_at DESC, id DESC LIMIT 1",
            )
            .bind(&e.tenant_id)
            .bind(&e.workflow_id)
            .bind(&e.run_id)
            .bind(e.at)
            .fetch_optional(&mut **tx)
            .await
            .map_err(unavailable)?;
            if previous.as_deref() != Some("failed") {
                continue;
            }
        }
        let payload = serde_json::to_string(&e.payload)
            .map_err(|err| Error::Unavailable(format!("encoding a notification: {err}")))?;
        for rule in rules {
            let d = e.delivery(&rule);
            sqlx::query(
                "INSERT INTO notification_deliveries (tenant_id, id, rule_id, event_key, event, \
                 run_id, workflow_id, payload, status, attempts, next_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', '[]', $9, $10, $11) \
                 ON CONFLICT (rule_id, event_key) DO NOTHING",
            )
            .bind(&d.tenant_id)
            .bind(&d.id)
            .bind(&d.rule_id)
            .bind(&d.event_key)
            .bind(d.on.as_str())
            .bind(&d.run_id)
            .bind(&d.workflow_id)
            .bind(&payload)
            .bind(d.next_at)
            .bind(d.created_at)
            .bind(d.updated_at)
            .execute(&mut **tx)
            .await
            .map_err(unavailable)?;
        }
    }
    Ok(())
}

fn rule(r: &PgRow) -> Result<NotificationRule> {
    let c = Cols::new(r, "notification_rules");
    Ok(NotificationRule {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        workflow_id: c.get("workflow_id")?,
        on: c.parse("event")?,
        target: NotifyTarget::from_columns(
            &c.get::<String>("kind")?,
            c.get("url")?,
            SealedSecret {
                nonce: c.get("secret_nonce")?,
                ciphertext: c.get("secret_ciphertext")?,
                ad_version: c.u32("secret_ad_version")?,
            },
            c.get::<Option<String>>("target")?.as_deref(),
        )?,
        enabled: c.get("enabled")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
    })
}

fn delivery(r: &PgRow) -> Result<NotificationDelivery> {
    let c = Cols::new(r, "notification_deliveries");
    Ok(NotificationDelivery {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        rule_id: c.get("rule_id")?,
        event_key: c.get("event_key")?,
        on: c.parse("event")?,
        run_id: c.get("run_id")?,
        workflow_id: c.get("workflow_id")?,
        payload: c.json("payload")?,
        status: c.parse("status")?,
        attempts: c.json_as("attempts")?,
        next_at: c.get("next_at")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
    })
}

fn one(n: u64) -> Result<()> {
    if n == 0 {
        Err(Error::NotFound("notification rule"))
    } else {
        Ok(())
    }
}

#[async_trait]
impl NotificationStore for Postgres {
    async fn create_rule(&self, r: &NotificationRule) -> Result<()> {
        let (url, secret, target) = r.target.columns()?;
        let sql = format!(
            "INSERT INTO notification_rules ({RULE_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&r.tenant_id)
            .bind(&r.id)
            .bind(&r.workflow_id)
            .bind(r.on.as_str())
            .bind(r.target.kind())
            .bind(url)
            .bind(&secret.nonce)
            .bind(&secret.ciphertext)
            .bind(i64::from(secret.ad_version))
            .bind(r.enabled)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(write_error("tenant", || format!("rule {} exists", r.id)))?;
        Ok(())
    }

    async fn get_rule(&self, tenant: &str, id: &str) -> Result<Option<NotificationRule>> {
        let sql =
            format!("SELECT {RULE_COLS} FROM notification_rules WHERE tenant_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(rule)
            .transpose()
    }

    async fn list_rules(&self, tenant: &str) -> Result<Vec<NotificationRule>> {
        let sql = format!(
            "SELECT {RULE_COLS} FROM notification_rules WHERE tenant_id = $1 \
             ORDER BY created_at, id"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(rule)
            .collect()
    }

    async fn update_rule(&self, r: &NotificationRule) -> Result<()> {
        let (url, secret, target) = r.target.columns()?;
        let done = sqlx::query(
            "UPDATE notification_rules SET workflow_id = $1, event = $2, url = $3, \
             secret_nonce = $4, secret_ciphertext = $5, secret_ad_version = $6, enabled = $7, \
             updated_at = $8, kind = $11, target = $12 WHERE tenant_id = $9 AND id = $10",
        )
        .bind(&r.workflow_id)
        .bind(r.on.as_str())
        .bind(url)
        .bind(&secret.nonce)
        .bind(&secret.ciphertext)
        .bind(i64::from(secret.ad_version))
        .bind(r.enabled)
        .bind(r.updated_at)
        .bind(&r.tenant_id)
        .bind(&r.id)
        .bind(r.target.kind())
        .bind(target)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        one(done.rows_affected())
    }

    async fn delete_rule(&self, tenant: &str, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM notification_rules WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        one(done.rows_affected())
    }

    async fn list_notifications(
        &self,
        tenant: &str,
        f: &DeliveryFilter,
        p: &Page,
    ) -> Result<Vec<NotificationDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM notification_deliveries WHERE tenant_id = $1 \
             AND ($2::text IS NULL OR rule_id = $2) AND ($3::text IS NULL OR status = $3) \
             AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(&f.rule_id)
            .bind(f.status.map(|s| s.as_str()))
            .bind(&p.before)
            .bind(i64::from(p.capped()))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(delivery)
            .collect()
    }

    async fn claim_notifications(
        &self,
        now: i64,
        lease_ms: i64,
        limit: u32,
        per_tenant: u32,
    ) -> Result<Vec<NotificationDelivery>> {
        // Fair by tenant: for each tenant with rows due (read off the
        // `(tenant_id, next_at, id)` index), its live claims counted once
        // (rows being sent by any worker) and its earliest `per_tenant` due
        // rows (a LATERAL index range); of those, as many as keep its live
        // claims at most `per_tenant`, then the earliest `limit` overall. A
        // claim so reads the tenants with rows due plus `per_tenant` rows of
        // each, never one tenant's backlog per due row. A tenant's rows are
        // locked `SKIP LOCKED` as they are read, at most `limit` of each (a
        // racing worker takes the next ones rather than none), and claimed only if still due and
        // unclaimed, so two workers racing never take one row (they may, at
        // worst, together exceed the tenant's share by one claim's worth).
        let sql = format!(
            "UPDATE notification_deliveries SET claimed_until = $1 WHERE (tenant_id, id) IN \
             (SELECT tenant_id, id FROM notification_deliveries WHERE (tenant_id, id) IN \
               (SELECT tenant_id, id FROM \
                 (SELECT t.tenant_id, x.id, x.next_at, COALESCE(l.n, 0) + ROW_NUMBER() OVER \
                   (PARTITION BY t.tenant_id ORDER BY x.next_at, x.id) AS n \
                  FROM (SELECT DISTINCT tenant_id FROM notification_deliveries \
                        WHERE status = 'pending' AND next_at <= $2) t \
                  LEFT JOIN (SELECT tenant_id, COUNT(*) AS n FROM notification_deliveries \
                        WHERE status = 'pending' AND claimed_until > $2 GROUP BY tenant_id) l \
                    ON l.tenant_id = t.tenant_id \
                  CROSS JOIN LATERAL (SELECT d.id, d.next_at FROM notification_deliveries d \
                        WHERE d.tenant_id = t.tenant_id AND d.status = 'pending' \
                        AND d.next_at <= $2 AND d.claimed_until <= $2 \
                        ORDER BY d.next_at, d.id LIMIT LEAST($3, $4) FOR UPDATE SKIP LOCKED) x \
                  WHERE COALESCE(l.n, 0) < $4) due \
                WHERE due.n <= $4 ORDER BY next_at, id LIMIT $3) \
              AND status = 'pending' AND claimed_until <= $2 \
              FOR UPDATE SKIP LOCKED) \
             AND status = 'pending' AND claimed_until <= $2 \
             RETURNING {DELIVERY_COLS}"
        );
        let mut out = sqlx::query(AssertSqlSafe(sql))
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .bind(i64::from(limit))
            .bind(i64::from(per_tenant))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(delivery)
            .collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| (a.next_at, &a.id).cmp(&(b.next_at, &b.id)));
        Ok(out)
    }

    async fn record_notification(
        &self,
        tenant: &str,
        id: &str,
        o: &DeliveryOutcome,
        at: i64,
    ) -> Result<bool> {
        let attempt = serde_json::to_string(&[&o.attempt])
            .map_err(|e| Error::Unavailable(format!("encoding a delivery attempt: {e}")))?;
        let done = sqlx::query(
            "UPDATE notification_deliveries SET \
             attempts = (attempts::jsonb || $1::jsonb)::text, status = $2, next_at = $3, \
             claimed_until = 0, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6 AND status = 'pending'",
        )
        .bind(attempt)
        .bind(o.status.as_str())
        .bind(o.next_at)
        .bind(at)
        .bind(tenant)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn defer_notification(
        &self,
        tenant: &str,
        id: &str,
        next_at: i64,
        at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE notification_deliveries SET next_at = $1, claimed_until = 0, updated_at = $2 \
             WHERE tenant_id = $3 AND id = $4 AND status = 'pending'",
        )
        .bind(next_at)
        .bind(at)
        .bind(tenant)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }
}
