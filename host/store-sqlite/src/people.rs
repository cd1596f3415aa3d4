//! `impl PeopleStore for Sqlite`: users, memberships, one-time links,
//! sessions, login failures and workflows' creators (migration 0009).

use crate::error::{db, db_or_missing, db_or_taken, immediate, one};
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use async_trait::async_trait;
use rusqlite::{Row, params};
use weft_store::Error;
use weft_store::people::{
    FAILURES_KEPT_MS, Link, LinkKind, Member, Membership, PeopleStore, Session, SessionAuth, User,
};
use weft_types::Role;

macro_rules! user_cols {
    () => {
        "id, email, password_hash, totp_secret, totp_pending, totp_last_step, created_at, disabled_at"
    };
}
macro_rules! link_cols {
    () => {
        "id, token_hash, kind, tenant_id, role, email, user_id, created_by, created_at, \
         expires_at, used_at"
    };
}

/// Whether `u` is an owner member of `t` and no other member is (inside the
/// write transaction, which SQLite serialises).
fn last_owner(tx: &rusqlite::Connection, t: &str, u: &str) -> Result<bool> {
    const SQL: &str = "SELECT \
        EXISTS (SELECT 1 FROM memberships WHERE tenant_id = ?1 AND user_id = ?2 AND role = 'owner') \
        AND NOT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = ?1 AND user_id <> ?2 AND role = 'owner')";
    tx.query_row(SQL, params![t, u], |r| r.get::<_, bool>(0))
        .map_err(db)
}

fn user(row: &Row<'_>) -> Result<User> {
    let c = Cols::new(row, "users");
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

fn membership(row: &Row<'_>) -> Result<Membership> {
    let c = Cols::new(row, "memberships");
    Ok(Membership {
        tenant_id: c.get("tenant_id")?,
        user_id: c.get("user_id")?,
        role: c.parse("role")?,
        created_by: c.get("created_by")?,
        created_at: c.get("created_at")?,
    })
}

fn link(row: &Row<'_>) -> Result<Link> {
    let c = Cols::new(row, "invitations");
    let kind = c.text("kind")?;
    Ok(Link {
        id: c.get("id")?,
        token_hash: c.get("token_hash")?,
        kind: LinkKind::parse(kind).ok_or_else(|| {
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

fn session_auth(row: &Row<'_>) -> Result<SessionAuth> {
    let c = Cols::new(row, "sessions");
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
}

const REVOKE_USER: &str =
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL";
const REVOKE_MEMBER: &str = "UPDATE sessions SET revoked_at = ? \
     WHERE user_id = ? AND tenant_id = ? AND revoked_at IS NULL";

#[async_trait]
impl PeopleStore for Sqlite {
    async fn create_user(&self, u: &User) -> Result<()> {
        const SQL: &str = concat!(
            "INSERT INTO users (",
            user_cols!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let u = u.clone();
        self.write(move |conn| {
            execute(
                conn,
                SQL,
                params![
                    u.id,
                    u.email,
                    u.password_hash,
                    u.totp_secret,
                    u.totp_pending,
                    u.totp_last_step,
                    u.created_at,
                    u.disabled_at
                ],
            )
            .map_err(db_or_taken(|| format!("user {} exists", u.email)))?;
            Ok(())
        })
        .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        const SQL: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?");
        let id = id.to_owned();
        self.read(move |conn| optional(conn, SQL, params![id], user))
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        const SQL: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE email = ?");
        let email = email.to_owned();
        self.read(move |conn| optional(conn, SQL, params![email], user))
            .await
    }

    async fn set_password(&self, user_id: &str, hash: &str, at: i64) -> Result<()> {
        const SQL: &str = "UPDATE users SET password_hash = ? WHERE id = ?";
        let (user_id, hash) = (user_id.to_owned(), hash.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                one(
                    execute(tx, SQL, params![hash, user_id]).map_err(db)?,
                    "user",
                )?;
                execute(tx, REVOKE_USER, params![at, user_id]).map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&[u8]>,
        pending: Option<&[u8]>,
    ) -> Result<()> {
        const SQL: &str = "UPDATE users SET totp_secret = ?, totp_pending = ? WHERE id = ?";
        let (user_id, secret, pending) = (
            user_id.to_owned(),
            secret.map(<[u8]>::to_vec),
            pending.map(<[u8]>::to_vec),
        );
        self.write(move |conn| {
            one(
                execute(conn, SQL, params![secret, pending, user_id]).map_err(db)?,
                "user",
            )
        })
        .await
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        const SQL: &str = "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?";
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            Ok(execute(conn, SQL, params![step, user_id, step]).map_err(db)? == 1)
        })
        .await
    }

    async fn add_membership(&self, m: &Membership) -> Result<()> {
        const SQL: &str = "INSERT INTO memberships \
            (tenant_id, user_id, role, created_by, created_at) VALUES (?, ?, ?, ?, ?)";
        let m = m.clone();
        self.write(move |conn| {
            let r = execute(
                conn,
                SQL,
                params![
                    m.tenant_id,
                    m.user_id,
                    m.role.as_str(),
                    m.created_by,
                    m.created_at
                ],
            );
            match r.map_err(db_or_missing("tenant or user")) {
                Err(Error::Duplicate(_)) => Err(Error::Duplicate(format!(
                    "{} is a member of {} already",
                    m.user_id, m.tenant_id
                ))),
                other => other.map(drop),
            }
        })
        .await
    }

    async fn get_membership(&self, tenant: &str, user_id: &str) -> Result<Option<Membership>> {
        const SQL: &str = "SELECT tenant_id, user_id, role, created_by, created_at \
            FROM memberships WHERE tenant_id = ? AND user_id = ?";
        let (t, u) = (tenant.to_owned(), user_id.to_owned());
        self.read(move |conn| optional(conn, SQL, params![t, u], membership))
            .await
    }

    async fn list_members(&self, tenant: &str) -> Result<Vec<Member>> {
        const SQL: &str = "SELECT m.tenant_id, m.user_id, m.role, m.created_by, m.created_at, \
            u.email FROM memberships m JOIN users u ON u.id = m.user_id \
            WHERE m.tenant_id = ? ORDER BY m.created_at, m.user_id";
        let t = tenant.to_owned();
        self.read(move |conn| {
            all(conn, SQL, params![t], |row| {
                Ok(Member {
                    membership: membership(row)?,
                    email: Cols::new(row, "users").get("email")?,
                })
            })
        })
        .await
    }

    async fn memberships_of(&self, user_id: &str) -> Result<Vec<Membership>> {
        const SQL: &str = "SELECT tenant_id, user_id, role, created_by, created_at \
            FROM memberships WHERE user_id = ? ORDER BY created_at, tenant_id";
        let u = user_id.to_owned();
        self.read(move |conn| all(conn, SQL, params![u], membership))
            .await
    }

    async fn set_member_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: Role,
        at: i64,
    ) -> Result<()> {
        const SQL: &str = "UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?";
        let (t, u) = (tenant.to_owned(), user_id.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                if role != Role::Owner && last_owner(tx, &t, &u)? {
                    return Err(weft_store::people::last_owner(&u));
                }
                one(
                    execute(tx, SQL, params![role.as_str(), t, u]).map_err(db)?,
                    "member",
                )?;
                execute(tx, REVOKE_MEMBER, params![at, u, t]).map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    async fn remove_membership(&self, tenant: &str, user_id: &str, at: i64) -> Result<()> {
        const SQL: &str = "DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?";
        let (t, u) = (tenant.to_owned(), user_id.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                if last_owner(tx, &t, &u)? {
                    return Err(weft_store::people::last_owner(&u));
                }
                one(execute(tx, SQL, params![t, u]).map_err(db)?, "member")?;
                execute(tx, REVOKE_MEMBER, params![at, u, t]).map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    async fn create_link(&self, l: &Link) -> Result<()> {
        const SQL: &str = concat!(
            "INSERT INTO invitations (",
            link_cols!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let l = l.clone();
        self.write(move |conn| {
            execute(
                conn,
                SQL,
                params![
                    l.id,
                    l.token_hash,
                    l.kind.as_str(),
                    l.tenant_id,
                    l.role.as_str(),
                    l.email,
                    l.user_id,
                    l.created_by,
                    l.created_at,
                    l.expires_at,
                    l.used_at
                ],
            )
            .map_err(db_or_missing("tenant"))?;
            Ok(())
        })
        .await
    }

    async fn list_links(&self, tenant: &str, kind: LinkKind, now: i64) -> Result<Vec<Link>> {
        const SQL: &str = concat!(
            "SELECT ",
            link_cols!(),
            " FROM invitations WHERE tenant_id = ? AND kind = ? AND used_at IS NULL \
             AND expires_at > ? ORDER BY created_at DESC, id DESC"
        );
        let t = tenant.to_owned();
        self.read(move |conn| all(conn, SQL, params![t, kind.as_str(), now], link))
            .await
    }

    async fn delete_link(&self, tenant: &str, kind: LinkKind, id: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM invitations \
            WHERE tenant_id = ? AND kind = ? AND id = ? AND used_at IS NULL";
        let (t, id) = (tenant.to_owned(), id.to_owned());
        self.write(move |conn| {
            one(
                execute(conn, SQL, params![t, kind.as_str(), id]).map_err(db)?,
                "invitation",
            )
        })
        .await
    }

    async fn take_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>> {
        const SQL: &str = concat!(
            "UPDATE invitations SET used_at = ? WHERE token_hash = ? AND kind = ? \
             AND used_at IS NULL AND expires_at > ? RETURNING ",
            link_cols!()
        );
        let h = token_hash.to_vec();
        self.write(move |conn| optional(conn, SQL, params![now, h, kind.as_str(), now], link))
            .await
    }

    async fn peek_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>> {
        const SQL: &str = concat!(
            "SELECT ",
            link_cols!(),
            " FROM invitations WHERE token_hash = ? AND kind = ? \
             AND used_at IS NULL AND expires_at > ?"
        );
        let h = token_hash.to_vec();
        self.read(move |conn| optional(conn, SQL, params![h, kind.as_str(), now], link))
            .await
    }

    async fn create_session(&self, s: &Session, replaces: Option<&[u8]>) -> Result<()> {
        const SQL: &str = "INSERT INTO sessions (id_hash, user_id, tenant_id, csrf_hash, \
            created_at, last_seen_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
        const REVOKE: &str =
            "UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL";
        let (s, old) = (s.clone(), replaces.map(<[u8]>::to_vec));
        self.write(move |conn| {
            immediate(conn, |tx| {
                if let Some(old) = &old {
                    execute(tx, REVOKE, params![s.created_at, old]).map_err(db)?;
                }
                execute(
                    tx,
                    SQL,
                    params![
                        s.id_hash,
                        s.user_id,
                        s.tenant_id,
                        s.csrf_hash,
                        s.created_at,
                        s.last_seen_at,
                        s.expires_at,
                        s.revoked_at
                    ],
                )
                .map_err(db_or_missing("tenant or user"))?;
                Ok(())
            })
        })
        .await
    }

    async fn session_auth(&self, id_hash: &[u8]) -> Result<Option<SessionAuth>> {
        const SQL: &str = "SELECT s.id_hash, s.user_id, s.tenant_id, s.csrf_hash, s.created_at, \
            s.last_seen_at, s.expires_at, s.revoked_at, m.role \
            FROM sessions s \
            JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id \
            JOIN users u ON u.id = s.user_id \
            WHERE s.id_hash = ? AND u.disabled_at IS NULL";
        let h = id_hash.to_vec();
        self.read(move |conn| optional(conn, SQL, params![h], session_auth))
            .await
    }

    async fn touch_session(&self, id_hash: &[u8], at: i64) -> Result<()> {
        const SQL: &str =
            "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?";
        let h = id_hash.to_vec();
        self.write(move |conn| {
            execute(conn, SQL, params![at, h, at]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn revoke_session(&self, id_hash: &[u8], at: i64) -> Result<()> {
        const SQL: &str =
            "UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL";
        let h = id_hash.to_vec();
        self.write(move |conn| {
            execute(conn, SQL, params![at, h]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn revoke_sessions(&self, user_id: &str, tenant: Option<&str>, at: i64) -> Result<u64> {
        let (u, t) = (user_id.to_owned(), tenant.map(str::to_owned));
        self.write(move |conn| {
            let n = match &t {
                Some(t) => execute(conn, REVOKE_MEMBER, params![at, u, t]),
                None => execute(conn, REVOKE_USER, params![at, u]),
            }
            .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()> {
        const PRUNE: &str = "DELETE FROM login_failures WHERE key = ? AND at < ?";
        const SQL: &str = "INSERT INTO login_failures (key, at) VALUES (?, ?)";
        let key = key.to_owned();
        self.write(move |conn| {
            immediate(conn, |tx| {
                execute(tx, PRUNE, params![key, at - FAILURES_KEPT_MS]).map_err(db)?;
                execute(tx, SQL, params![key, at]).map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<Vec<i64>> {
        const SQL: &str = "SELECT at FROM login_failures WHERE key = ? AND at >= ? ORDER BY at";
        let key = key.to_owned();
        self.read(move |conn| {
            all(conn, SQL, params![key, since], |row| {
                Cols::new(row, "login_failures").get("at")
            })
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM login_failures WHERE key = ?";
        let key = key.to_owned();
        self.write(move |conn| {
            execute(conn, SQL, params![key]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn forget_login_failure(&self, key: &str, at: i64) -> Result<()> {
        const SQL: &str = "DELETE FROM login_failures WHERE rowid IN \
            (SELECT rowid FROM login_failures WHERE key = ? AND at = ? LIMIT 1)";
        let key = key.to_owned();
        self.write(move |conn| {
            execute(conn, SQL, params![key, at]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn clear_account_failures(&self, email: &str) -> Result<()> {
        // The pair keys by their prefix, compared exactly (an email may hold
        // LIKE's wildcards).
        const SQL: &str = "DELETE FROM login_failures WHERE key = ? \
            OR (key >= ? AND substr(key, 1, length(?)) = ?)";
        let (account, pair) = (format!("account:{email}"), format!("pair:{email}|"));
        self.write(move |conn| {
            execute(conn, SQL, params![account, pair, pair, pair]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn prune_people(&self, now: i64, limit: u32) -> Result<u64> {
        const SESSIONS: &str = "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions \
            WHERE revoked_at IS NOT NULL OR expires_at <= ? LIMIT ?)";
        const LINKS: &str = "DELETE FROM invitations WHERE rowid IN (SELECT rowid FROM invitations \
            WHERE used_at IS NOT NULL OR expires_at <= ? LIMIT ?)";
        const FAILURES: &str = "DELETE FROM login_failures WHERE rowid IN \
            (SELECT rowid FROM login_failures WHERE at < ? LIMIT ?)";
        let old = now - weft_store::people::FAILURES_KEPT_MS;
        self.write(move |conn| {
            immediate(conn, |tx| {
                let a = execute(tx, SESSIONS, params![now, limit]).map_err(db)?;
                let b = execute(tx, LINKS, params![now, limit]).map_err(db)?;
                let c = execute(tx, FAILURES, params![old, limit]).map_err(db)?;
                Ok((a + b + c) as u64)
            })
        })
        .await
    }

    async fn set_workflow_creator(&self, tenant: &str, workflow_id: &str, by: &str) -> Result<()> {
        const SQL: &str = "UPDATE workflows SET created_by = ? WHERE tenant_id = ? AND id = ?";
        let (t, w, by) = (tenant.to_owned(), workflow_id.to_owned(), by.to_owned());
        self.write(move |conn| {
            one(
                execute(conn, SQL, params![by, t, w]).map_err(db)?,
                "workflow",
            )
        })
        .await
    }

    async fn workflow_creator(&self, tenant: &str, workflow_id: &str) -> Result<Option<String>> {
        const SQL: &str = "SELECT created_by FROM workflows WHERE tenant_id = ? AND id = ?";
        let (t, w) = (tenant.to_owned(), workflow_id.to_owned());
        self.read(move |conn| {
            optional(conn, SQL, params![t, w], |row| {
                Cols::new(row, "workflows").get("created_by")
            })
        })
        .await
    }
}
