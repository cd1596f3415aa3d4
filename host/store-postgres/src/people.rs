//! `impl PeopleStore for Postgres`: users, memberships, one-time links,
//! sessions, login failures and workflows' creators (migration 0008).

use crate::Postgres;
use crate::row::{Cols, unavailable, write_error};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use weft_store::people::{
    FAILURES_KEPT_MS, Link, LinkKind, Member, Membership, PeopleStore, Session, SessionAuth, User,
};
use weft_store::{Error, Result};
use weft_types::Role;

macro_rules! user_cols {
    () => {
        "id, email, password_hash, totp_secret, totp_pending, totp_last_step, created_at, \
         disabled_at"
    };
}
macro_rules! link_cols {
    () => {
        "id, token_hash, kind, tenant_id, role, email, user_id, created_by, created_at, \
         expires_at, used_at"
    };
}
const REVOKE_USER: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
const REVOKE_MEMBER: &str = "UPDATE sessions SET revoked_at = $1 \
     WHERE user_id = $2 AND tenant_id = $3 AND revoked_at IS NULL";

fn user(r: &PgRow) -> Result<User> {
    let c = Cols::new(r, "users");
    Ok(User {
        id: c.get("id")?,
        email: c.get("email")?,
        password_hash: c.get("password_hash")?,
        totp_secret: c.get("totp_secret")?,
        totp_pending: c.get("totp_pending")?,
        totp_last_step: c.get("totp_last_step")?,
        created_at: c.get("created_at")?,
        disabled_at: c.get("disabled_at")?,
    })
}

fn membership(r: &PgRow) -> Result<Membership> {
    let c = Cols::new(r, "memberships");
    Ok(Membership {
        tenant_id: c.get("tenant_id")?,
        user_id: c.get("user_id")?,
        role: c.parse("role")?,
        created_by: c.get("created_by")?,
        created_at: c.get("created_at")?,
    })
}

fn link(r: &PgRow) -> Result<Link> {
    let c = Cols::new(r, "invitations");
    let kind: String = c.get("kind")?;
    Ok(Link {
        id: c.get("id")?,
        token_hash: c.get("token_hash")?,
        kind: LinkKind::parse(&kind).ok_or_else(|| {
            Error::Unavailable(format!("corrupt value in invitations.kind: {kind}"))
        })?,
        tenant_id: c.get("tenant_id")?,
        role: c.parse("role")?,
        email: c.get("email")?,
        user_id: c.get("user_id")?,
        created_by: c.get("created_by")?,
        created_at: c.get("created_at")?,
        expires_at: c.get("expires_at")?,
        used_at: c.get("used_at")?,
    })
}

fn changed(n: u64, what: &'static str) -> Result<()> {
    if n == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(())
    }
}

/// Whether `user_id` is an owner member of `tenant` and no other member
/// is. The tenant's owner memberships are locked first (`FOR UPDATE`), so
/// two concurrent demotions serialise and the second sees the first's.
async fn last_owner(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: &str,
    user_id: &str,
) -> Result<bool> {
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner' FOR UPDATE",
    )
    .bind(tenant)
    .fetch_all(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(owners.len() == 1 && owners[0] == user_id)
}

#[async_trait]
impl PeopleStore for Postgres {
    async fn create_user(&self, u: &User) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO users (",
            user_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(&u.totp_secret)
        .bind(&u.totp_pending)
        .bind(u.totp_last_step)
        .bind(u.created_at)
        .bind(u.disabled_at)
        .execute(&self.pool)
        .await
        .map_err(write_error("user", || format!("user {} exists", u.email)))?;
        Ok(())
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(user)
        .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(user)
        .transpose()
    }

    async fn set_password(&self, user_id: &str, hash: &str, at: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?
            .rows_affected();
        changed(n, "user")?;
        sqlx::query(REVOKE_USER)
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&[u8]>,
        pending: Option<&[u8]>,
    ) -> Result<()> {
        let n = sqlx::query("UPDATE users SET totp_secret = $1, totp_pending = $2 WHERE id = $3")
            .bind(secret)
            .bind(pending)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?
            .rows_affected();
        changed(n, "user")
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn add_membership(&self, m: &Membership) -> Result<()> {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&m.tenant_id)
        .bind(&m.user_id)
        .bind(m.role.as_str())
        .bind(&m.created_by)
        .bind(m.created_at)
        .execute(&self.pool)
        .await
        .map_err(write_error("tenant or user", || {
            format!("{} is a member of {} already", m.user_id, m.tenant_id)
        }))?;
        Ok(())
    }

    async fn get_membership(&self, tenant: &str, user_id: &str) -> Result<Option<Membership>> {
        sqlx::query(
            "SELECT tenant_id, user_id, role, created_by, created_at FROM memberships \
             WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(membership)
        .transpose()
    }

    async fn list_members(&self, tenant: &str) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.tenant_id, m.user_id, m.role, m.created_by, m.created_at, u.email \
             FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.tenant_id = $1 ORDER BY m.created_at, m.user_id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    membership: membership(r)?,
                    email: Cols::new(r, "users").get("email")?,
                })
            })
            .collect()
    }

    async fn memberships_of(&self, user_id: &str) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT tenant_id, user_id, role, created_by, created_at FROM memberships \
             WHERE user_id = $1 ORDER BY created_at, tenant_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(membership).collect()
    }

    async fn set_member_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: Role,
        at: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        if last_owner(&mut tx, tenant, user_id).await? && role != Role::Owner {
            return Err(weft_store::people::last_owner(user_id));
        }
        let n =
            sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
                .bind(role.as_str())
                .bind(tenant)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?
                .rows_affected();
        changed(n, "member")?;
        sqlx::query(REVOKE_MEMBER)
            .bind(at)
            .bind(user_id)
            .bind(tenant)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn remove_membership(&self, tenant: &str, user_id: &str, at: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        if last_owner(&mut tx, tenant, user_id).await? {
            return Err(weft_store::people::last_owner(user_id));
        }
        let n = sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?
            .rows_affected();
        changed(n, "member")?;
        sqlx::query(REVOKE_MEMBER)
            .bind(at)
            .bind(user_id)
            .bind(tenant)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn create_link(&self, l: &Link) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO invitations (",
            link_cols!(),
            ") \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&l.id)
        .bind(&l.token_hash)
        .bind(l.kind.as_str())
        .bind(&l.tenant_id)
        .bind(l.role.as_str())
        .bind(&l.email)
        .bind(&l.user_id)
        .bind(&l.created_by)
        .bind(l.created_at)
        .bind(l.expires_at)
        .bind(l.used_at)
        .execute(&self.pool)
        .await
        .map_err(write_error("tenant", || format!("link {} exists", l.id)))?;
        Ok(())
    }

    async fn list_links(&self, tenant: &str, kind: LinkKind, now: i64) -> Result<Vec<Link>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            link_cols!(),
            " FROM invitations WHERE tenant_id = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3 ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant)
        .bind(kind.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(link).collect()
    }

    async fn delete_link(&self, tenant: &str, kind: LinkKind, id: &str) -> Result<()> {
        let n = sqlx::query(
            "DELETE FROM invitations WHERE tenant_id = $1 AND kind = $2 AND id = $3 \
             AND used_at IS NULL",
        )
        .bind(tenant)
        .bind(kind.as_str())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?
        .rows_affected();
        changed(n, "invitation")
    }

    async fn take_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>> {
        sqlx::query(concat!(
            "UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND kind = $3 \
             AND used_at IS NULL AND expires_at > $1 RETURNING ",
            link_cols!()
        ))
        .bind(now)
        .bind(token_hash)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(link)
        .transpose()
    }

    async fn peek_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>> {
        sqlx::query(concat!(
            "SELECT ",
            link_cols!(),
            " FROM invitations WHERE token_hash = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3"
        ))
        .bind(token_hash)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(link)
        .transpose()
    }

    async fn create_session(&self, s: &Session, replaces: Option<&[u8]>) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        if let Some(old) = replaces {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
            )
            .bind(s.created_at)
            .bind(old)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, tenant_id, csrf_hash, created_at, \
             last_seen_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.id_hash)
        .bind(&s.user_id)
        .bind(&s.tenant_id)
        .bind(&s.csrf_hash)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(s.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(write_error("tenant or user", || "session exists".into()))?;
        tx.commit().await.map_err(unavailable)
    }

    async fn session_auth(&self, id_hash: &[u8]) -> Result<Option<SessionAuth>> {
        let row = sqlx::query(
            "SELECT s.id_hash, s.user_id, s.tenant_id, s.csrf_hash, s.created_at, \
             s.last_seen_at, s.expires_at, s.revoked_at, m.role \
             FROM sessions s \
             JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id \
             JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND u.disabled_at IS NULL",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|r| {
            let c = Cols::new(&r, "sessions");
            Ok(SessionAuth {
                session: Session {
                    id_hash: c.get("id_hash")?,
                    user_id: c.get("user_id")?,
                    tenant_id: c.get("tenant_id")?,
                    csrf_hash: c.get("csrf_hash")?,
                    created_at: c.get("created_at")?,
                    last_seen_at: c.get("last_seen_at")?,
                    expires_at: c.get("expires_at")?,
                    revoked_at: c.get("revoked_at")?,
                },
                role: c.parse("role")?,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, id_hash: &[u8], at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1",
        )
        .bind(at)
        .bind(id_hash)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn revoke_session(&self, id_hash: &[u8], at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id_hash)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn revoke_sessions(&self, user_id: &str, tenant: Option<&str>, at: i64) -> Result<u64> {
        let q = match tenant {
            Some(t) => sqlx::query(REVOKE_MEMBER).bind(at).bind(user_id).bind(t),
            None => sqlx::query(REVOKE_USER).bind(at).bind(user_id),
        };
        Ok(q.execute(&self.pool)
            .await
            .map_err(unavailable)?
            .rows_affected())
    }

    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
            .bind(key)
            .bind(at - FAILURES_KEPT_MS)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at")
            .bind(key)
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn forget_login_failure(&self, key: &str, at: i64) -> Result<()> {
        sqlx::query(
            "DELETE FROM login_failures WHERE ctid = ANY(ARRAY(\
             SELECT ctid FROM login_failures WHERE key = $1 AND at = $2 LIMIT 1))",
        )
        .bind(key)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn clear_account_failures(&self, email: &str) -> Result<()> {
        // The pair keys by their prefix, compared exactly (an email may hold
        // LIKE's wildcards); `key >= $2` lets the index narrow it.
        sqlx::query(
            "DELETE FROM login_failures WHERE key = $1 \
             OR (key >= $2 AND left(key, length($2)) = $2)",
        )
        .bind(format!("account:{email}"))
        .bind(format!("pair:{email}|"))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn prune_people(&self, now: i64, limit: u32) -> Result<u64> {
        let limit = i64::from(limit);
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let mut n = 0;
        for (sql, cut) in [
            (
                "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions \
                 WHERE revoked_at IS NOT NULL OR expires_at <= $1 LIMIT $2)",
                now,
            ),
            (
                "DELETE FROM invitations WHERE id IN (SELECT id FROM invitations \
                 WHERE used_at IS NOT NULL OR expires_at <= $1 LIMIT $2)",
                now,
            ),
            (
                "DELETE FROM login_failures WHERE ctid = ANY(ARRAY(\
                 SELECT ctid FROM login_failures WHERE at < $1 LIMIT $2))",
                now - FAILURES_KEPT_MS,
            ),
        ] {
            n += sqlx::query(sql)
                .bind(cut)
                .bind(limit)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?
                .rows_affected();
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(n)
    }

    async fn set_workflow_creator(&self, tenant: &str, workflow_id: &str, by: &str) -> Result<()> {
        let n =
            sqlx::query("UPDATE workflows SET created_by = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(by)
                .bind(tenant)
                .bind(workflow_id)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?
                .rows_affected();
        changed(n, "workflow")
    }

    async fn workflow_creator(&self, tenant: &str, workflow_id: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT created_by FROM workflows WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(workflow_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)
    }
}
