//! Notification rules and deliveries on SQLite (`notification_rules`,
//! `notification_deliveries`): deliveries are inserted in the commit's
//! transaction ([`insert_events`]), claimed with a lease by the delivery loop.

use crate::error::{db, db_or_taken, one};
use crate::row::{Cols, all, execute, json, optional};
use crate::{Result, Sqlite};
use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use weft_store::Page;
use weft_store::notifications::{
    DeliveryFilter, DeliveryOutcome, MAX_ANCESTORS, NotificationDelivery, NotificationRule,
    NotificationStore, NotifyOn, NotifyTarget, RunEvent, SealedSecret, started_by_notification,
};
use weft_types::Trigger;

/// Whether `parent` or one of its ancestors was started by a notification
/// (then its descendants make no notification events: no loops).
fn below_notification(conn: &Connection, tenant: &str, parent: Option<&str>) -> Result<bool> {
    const RUN: &str =
        "SELECT trigger_kind, input, parent_run_id FROM runs WHERE tenant_id = ? AND id = ?";
    let mut next = parent.map(str::to_owned);
    for _ in 0..MAX_ANCESTORS {
        let Some(id) = next.take() else {
            return Ok(false);
        };
        let Some((trigger, input, parent)) = optional(conn, RUN, params![tenant, id], |row| {
            let c = Cols::new(row, "runs");
            Ok((
                c.parse::<Trigger>("trigger_kind")?,
                c.json::<serde_json::Value>("input")?,
                c.get::<Option<String>>("parent_run_id")?,
            ))
        })?
        else {
            return Ok(false);
        };
        if started_by_notification(trigger, &input) {
            return Ok(true);
        }
        next = parent;
    }
    Ok(false)
}

const RULE_COLS: &str = "tenant_id, id, workflow_id, event, kind, url, secret_nonce, \
    secret_ciphertext, secret_ad_version, enabled, created_at, updated_at, target";
const DELIVERY_COLS: &str = "tenant_id, id, rule_id, event_key, event, run_id, workflow_id, \
    payload, status, attempts, next_at, created_at, updated_at";

/// Inserts the deliveries `events` make for the matching enabled rules. Runs
/// in the commit's transaction, after the runs are written.
pub(crate) fn insert_events(conn: &Connection, events: &[RunEvent]) -> Result<()> {
    const PREVIOUS: &str = "SELECT status FROM runs WHERE tenant_id = ? AND workflow_id = ? \
        AND id <> ? AND finished_at IS NOT NULL AND finished_at <= ? \
        AND status IN ('completed', 'failed') AND until_step IS NULL \
        ORDER BY finished_at DESC, id DESC LIMIT 1";
    const RULES: &str = "SELECT id FROM notification_rules WHERE tenant_id = ? AND event = ? \
        AND enabled = 1 AND (workflow_id IS NULL OR workflow_id = ?)";
    const INSERT: &str = "INSERT INTO notification_deliveries (tenant_id, id, rule_id, \
        event_key, event, run_id, workflow_id, payload, status, attempts, next_at, created_at, \
        updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', '[]', ?, ?, ?) \
        ON CONFLICT (rule_id, event_key) DO NOTHING";
    for e in events {
        let rules = all(
            conn,
            RULES,
            params![e.tenant_id, e.on.as_str(), e.workflow_id],
            |row| Cols::new(row, "notification_rules").get::<String>("id"),
        )?;
        if rules.is_empty() || below_notification(conn, &e.tenant_id, e.parent.as_deref())? {
            continue;
        }
        if e.on == NotifyOn::RunRecovered {
            let previous = optional(
                conn,
                PREVIOUS,
                params![e.tenant_id, e.workflow_id, e.run_id, e.at],
                |row| Cols::new(row, "runs").get::<String>("status"),
            )?;
            if previous.as_deref() != Some("failed") {
                continue;
            }
        }
        let payload = json("notification_deliveries", "payload", &e.payload)?;
        for rule in rules {
            let d = e.delivery(&rule);
            execute(
                conn,
                INSERT,
                params![
                    d.tenant_id,
                    d.id,
                    d.rule_id,
                    d.event_key,
                    d.on.as_str(),
                    d.run_id,
                    d.workflow_id,
                    payload,
                    d.next_at,
                    d.created_at,
                    d.updated_at
                ],
            )
            .map_err(db)?;
        }
    }
    Ok(())
}

fn rule(row: &Row<'_>) -> Result<NotificationRule> {
    let c = Cols::new(row, "notification_rules");
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

fn delivery(row: &Row<'_>) -> Result<NotificationDelivery> {
    let c = Cols::new(row, "notification_deliveries");
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
        attempts: c.json("attempts")?,
        next_at: c.get("next_at")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
    })
}

#[async_trait]
impl NotificationStore for Sqlite {
    async fn create_rule(&self, r: &NotificationRule) -> Result<()> {
        let sql = format!(
            "INSERT INTO notification_rules ({RULE_COLS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let r = r.clone();
        self.write(move |conn| {
            let (url, secret, target) = r.target.columns()?;
            execute(
                conn,
                &sql,
                params![
                    r.tenant_id,
                    r.id,
                    r.workflow_id,
                    r.on.as_str(),
                    r.target.kind(),
                    url,
                    secret.nonce,
                    secret.ciphertext,
                    i64::from(secret.ad_version),
                    r.enabled,
                    r.created_at,
                    r.updated_at,
                    target
                ],
            )
            .map_err(db_or_taken(|| format!("rule {} exists", r.id)))?;
            Ok(())
        })
        .await
    }

    async fn get_rule(&self, tenant: &str, id: &str) -> Result<Option<NotificationRule>> {
        let sql =
            format!("SELECT {RULE_COLS} FROM notification_rules WHERE tenant_id = ? AND id = ?");
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        self.read(move |conn| optional(conn, &sql, params![tenant, id], rule))
            .await
    }

    async fn list_rules(&self, tenant: &str) -> Result<Vec<NotificationRule>> {
        let sql = format!(
            "SELECT {RULE_COLS} FROM notification_rules WHERE tenant_id = ? \
             ORDER BY created_at, id"
        );
        let tenant = tenant.to_owned();
        self.read(move |conn| all(conn, &sql, params![tenant], rule))
            .await
    }

    async fn update_rule(&self, r: &NotificationRule) -> Result<()> {
        const SQL: &str = "UPDATE notification_rules SET workflow_id = ?, event = ?, url = ?, \
            secret_nonce = ?, secret_ciphertext = ?, secret_ad_version = ?, enabled = ?, \
            updated_at = ?, kind = ?, target = ? WHERE tenant_id = ? AND id = ?";
        let r = r.clone();
        self.write(move |conn| {
            let (url, secret, target) = r.target.columns()?;
            let n = execute(
                conn,
                SQL,
                params![
                    r.workflow_id,
                    r.on.as_str(),
                    url,
                    secret.nonce,
                    secret.ciphertext,
                    i64::from(secret.ad_version),
                    r.enabled,
                    r.updated_at,
                    r.target.kind(),
                    target,
                    r.tenant_id,
                    r.id
                ],
            )
            .map_err(db)?;
            one(n, "notification rule")
        })
        .await
    }

    async fn delete_rule(&self, tenant: &str, id: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM notification_rules WHERE tenant_id = ? AND id = ?";
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        self.write(move |conn| {
            let n = execute(conn, SQL, params![tenant, id]).map_err(db)?;
            one(n, "notification rule")
        })
        .await
    }

    async fn list_notifications(
        &self,
        tenant: &str,
        f: &DeliveryFilter,
        p: &Page,
    ) -> Result<Vec<NotificationDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM notification_deliveries WHERE tenant_id = ? \
             AND (? IS NULL OR rule_id = ?) AND (? IS NULL OR status = ?) \
             AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?"
        );
        let tenant = tenant.to_owned();
        let rule = f.rule_id.clone();
        let status = f.status.map(|s| s.as_str());
        let before = p.before.clone();
        let limit = i64::from(p.capped());
        self.read(move |conn| {
            all(
                conn,
                &sql,
                params![tenant, rule, rule, status, status, before, before, limit],
                delivery,
            )
        })
        .await
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
        // (rows being sent, by any worker) and its earliest `per_tenant` due
        // rows (an index range); of those, as many as keep its live claims
        // at most `per_tenant`, then the earliest `limit` overall. A claim
        // so reads the tenants with rows due plus `per_tenant` rows of each,
        // never one tenant's backlog per due row (it runs on the single
        // writer: a slow claim would stall every commit). The single writer
        // makes it atomic.
        let sql = format!(
            "UPDATE notification_deliveries SET claimed_until = ?1 WHERE rowid IN \
             (SELECT rid FROM (SELECT d.rowid AS rid, d.next_at, d.id, COALESCE(l.n, 0) + \
                ROW_NUMBER() OVER (PARTITION BY d.tenant_id ORDER BY d.next_at, d.id) AS n \
               FROM (SELECT DISTINCT tenant_id FROM notification_deliveries \
                     WHERE status = 'pending' AND next_at <= ?2) AS t \
               LEFT JOIN (SELECT tenant_id, COUNT(*) AS n FROM notification_deliveries \
                     WHERE status = 'pending' AND claimed_until > ?2 GROUP BY tenant_id) AS l \
                 ON l.tenant_id = t.tenant_id \
               JOIN notification_deliveries AS d ON d.rowid IN \
                 (SELECT e.rowid FROM notification_deliveries AS e \
                  WHERE e.tenant_id = t.tenant_id AND e.status = 'pending' \
                  AND e.next_at <= ?2 AND e.claimed_until <= ?2 \
                  ORDER BY e.next_at, e.id LIMIT ?3) \
               WHERE COALESCE(l.n, 0) < ?3) AS due \
              WHERE due.n <= ?3 ORDER BY next_at, id LIMIT ?4) \
             RETURNING {DELIVERY_COLS}"
        );
        let until = now.saturating_add(lease_ms);
        let (limit, per_tenant) = (i64::from(limit), i64::from(per_tenant));
        self.write(move |conn| {
            let mut out = all(conn, &sql, params![until, now, per_tenant, limit], delivery)?;
            out.sort_by(|a, b| (a.next_at, &a.id).cmp(&(b.next_at, &b.id)));
            Ok(out)
        })
        .await
    }

    async fn record_notification(
        &self,
        tenant: &str,
        id: &str,
        o: &DeliveryOutcome,
        at: i64,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE notification_deliveries SET \
            attempts = json_insert(attempts, '$[#]', json(?)), status = ?, next_at = ?, \
            claimed_until = 0, updated_at = ? \
            WHERE tenant_id = ? AND id = ? AND status = 'pending'";
        let attempt = json("notification_deliveries", "attempts", &o.attempt)?;
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        let (status, next_at) = (o.status.as_str(), o.next_at);
        self.write(move |conn| {
            let n = execute(conn, SQL, params![attempt, status, next_at, at, tenant, id])
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn defer_notification(
        &self,
        tenant: &str,
        id: &str,
        next_at: i64,
        at: i64,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE notification_deliveries SET \
            next_at = ?, claimed_until = 0, updated_at = ? \
            WHERE tenant_id = ? AND id = ? AND status = 'pending'";
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        self.write(move |conn| {
            let n = execute(conn, SQL, params![next_at, at, tenant, id]).map_err(db)?;
            Ok(n > 0)
        })
        .await
    }
}
