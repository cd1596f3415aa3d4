//! The memory adapter's [`PeopleStore`].

use super::{Inner, Memory, k2};
use crate::people::{Link, LinkKind, Member, Membership, PeopleStore, Session, SessionAuth, User};
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::BTreeMap;
use weft_types::Role;

/// Users, memberships, links, sessions, login failures, workflow creators.
#[derive(Default)]
pub(super) struct People {
    users: BTreeMap<String, User>,
    memberships: BTreeMap<(String, String), Membership>,
    links: BTreeMap<String, Link>,
    sessions: BTreeMap<Vec<u8>, Session>,
    failures: BTreeMap<String, Vec<i64>>,
    creators: BTreeMap<(String, String), String>,
}

fn revoke_where(g: &mut Inner, at: i64, f: impl Fn(&Session) -> bool) -> u64 {
    let mut n = 0;
    for s in g.people.sessions.values_mut() {
        if s.revoked_at.is_none() && f(s) {
            s.revoked_at = Some(at);
            n += 1;
        }
    }
    n
}

/// Whether `user_id` is an owner member of `tenant` and no other member is.
/// # Errors: `NotFound("member")`.
fn last_owner(g: &Inner, tenant: &str, user_id: &str) -> Result<bool> {
    let m = g
        .people
        .memberships
        .get(&k2(tenant, user_id))
        .ok_or(Error::NotFound("member"))?;
    Ok(m.role == Role::Owner
        && !g
            .people
            .memberships
            .values()
            .any(|o| o.tenant_id == tenant && o.user_id != user_id && o.role == Role::Owner))
}

#[async_trait]
impl PeopleStore for Memory {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut g = self.lock();
        let p = &mut g.people;
        if p.users.contains_key(&user.id) || p.users.values().any(|u| u.email == user.email) {
            return Err(Error::Duplicate(format!("user {} exists", user.email)));
        }
        p.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        Ok(self.lock().people.users.get(id).cloned())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let g = self.lock();
        Ok(g.people.users.values().find(|u| u.email == email).cloned())
    }

    async fn set_password(&self, user_id: &str, hash: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        let u = g
            .people
            .users
            .get_mut(user_id)
            .ok_or(Error::NotFound("user"))?;
        hash.clone_into(&mut u.password_hash);
        revoke_where(&mut g, at, |s| s.user_id == user_id);
        Ok(())
    }

    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&[u8]>,
        pending: Option<&[u8]>,
    ) -> Result<()> {
        let mut g = self.lock();
        let u = g
            .people
            .users
            .get_mut(user_id)
            .ok_or(Error::NotFound("user"))?;
        u.totp_secret = secret.map(<[u8]>::to_vec);
        u.totp_pending = pending.map(<[u8]>::to_vec);
        Ok(())
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let mut g = self.lock();
        let u = g
            .people
            .users
            .get_mut(user_id)
            .ok_or(Error::NotFound("user"))?;
        if u.totp_last_step >= step {
            return Ok(false);
        }
        u.totp_last_step = step;
        Ok(true)
    }

    async fn add_membership(&self, m: &Membership) -> Result<()> {
        let mut g = self.lock();
        if !g.tenants.contains_key(&m.tenant_id) {
            return Err(Error::NotFound("tenant"));
        }
        if !g.people.users.contains_key(&m.user_id) {
            return Err(Error::NotFound("user"));
        }
        let key = k2(&m.tenant_id, &m.user_id);
        if g.people.memberships.contains_key(&key) {
            return Err(Error::Duplicate(format!(
                "{} is a member of {} already",
                m.user_id, m.tenant_id
            )));
        }
        g.people.memberships.insert(key, m.clone());
        Ok(())
    }

    async fn get_membership(&self, tenant: &str, user_id: &str) -> Result<Option<Membership>> {
        Ok(self
            .lock()
            .people
            .memberships
            .get(&k2(tenant, user_id))
            .cloned())
    }

    async fn list_members(&self, tenant: &str) -> Result<Vec<Member>> {
        let g = self.lock();
        let mut out: Vec<Member> = g
            .people
            .memberships
            .values()
            .filter(|m| m.tenant_id == tenant)
            .map(|m| Member {
                membership: m.clone(),
                email: g
                    .people
                    .users
                    .get(&m.user_id)
                    .map(|u| u.email.clone())
                    .unwrap_or_default(),
            })
            .collect();
        out.sort_by(|a, b| {
            (a.membership.created_at, &a.membership.user_id)
                .cmp(&(b.membership.created_at, &b.membership.user_id))
        });
        Ok(out)
    }

    async fn memberships_of(&self, user_id: &str) -> Result<Vec<Membership>> {
        let g = self.lock();
        let mut out: Vec<Membership> = g
            .people
            .memberships
            .values()
            .filter(|m| m.user_id == user_id)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.tenant_id).cmp(&(b.created_at, &b.tenant_id)));
        Ok(out)
    }

    async fn set_member_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: Role,
        at: i64,
    ) -> Result<()> {
        let mut g = self.lock();
        if role != Role::Owner && last_owner(&g, tenant, user_id)? {
            return Err(crate::people::last_owner(user_id));
        }
        let m = g
            .people
            .memberships
            .get_mut(&k2(tenant, user_id))
            .ok_or(Error::NotFound("member"))?;
        m.role = role;
        revoke_where(&mut g, at, |s| {
            s.user_id == user_id && s.tenant_id == tenant
        });
        Ok(())
    }

    async fn remove_membership(&self, tenant: &str, user_id: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        if last_owner(&g, tenant, user_id)? {
            return Err(crate::people::last_owner(user_id));
        }
        g.people
            .memberships
            .remove(&k2(tenant, user_id))
            .ok_or(Error::NotFound("member"))?;
        revoke_where(&mut g, at, |s| {
            s.user_id == user_id && s.tenant_id == tenant
        });
        Ok(())
    }

    async fn create_link(&self, link: &Link) -> Result<()> {
        let mut g = self.lock();
        let p = &mut g.people;
        if p.links.contains_key(&link.id)
            || p.links.values().any(|l| l.token_hash == link.token_hash)
        {
            return Err(Error::Duplicate(format!("link {} exists", link.id)));
        }
        p.links.insert(link.id.clone(), link.clone());
        Ok(())
    }

    async fn list_links(&self, tenant: &str, kind: LinkKind, now: i64) -> Result<Vec<Link>> {
        let g = self.lock();
        let mut out: Vec<Link> = g
            .people
            .links
            .values()
            .filter(|l| {
                l.tenant_id == tenant && l.kind == kind && l.used_at.is_none() && l.expires_at > now
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(out)
    }

    async fn delete_link(&self, tenant: &str, kind: LinkKind, id: &str) -> Result<()> {
        let mut g = self.lock();
        match g.people.links.get(id) {
            Some(l) if l.tenant_id == tenant && l.kind == kind && l.used_at.is_none() => {
                g.people.links.remove(id);
                Ok(())
            }
            _ => Err(Error::NotFound("invitation")),
        }
    }

    async fn take_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>> {
        let mut g = self.lock();
        let Some(l) = g
            .people
            .links
            .values_mut()
            .find(|l| l.token_hash == token_hash)
        else {
            return Ok(None);
        };
        if l.kind != kind || l.used_at.is_some() || l.expires_at <= now {
            return Ok(None);
        }
        l.used_at = Some(now);
        Ok(Some(l.clone()))
    }

    async fn peek_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>> {
        Ok(self
            .lock()
            .people
            .links
            .values()
            .find(|l| {
                l.token_hash == token_hash
                    && l.kind == kind
                    && l.used_at.is_none()
                    && l.expires_at > now
            })
            .cloned())
    }

    async fn create_session(&self, session: &Session, replaces: Option<&[u8]>) -> Result<()> {
        let mut g = self.lock();
        if g.people.sessions.contains_key(&session.id_hash) {
            return Err(Error::Duplicate("session exists".into()));
        }
        if let Some(old) = replaces.and_then(|h| g.people.sessions.get_mut(h)) {
            old.revoked_at.get_or_insert(session.created_at);
        }
        g.people
            .sessions
            .insert(session.id_hash.clone(), session.clone());
        Ok(())
    }

    async fn session_auth(&self, id_hash: &[u8]) -> Result<Option<SessionAuth>> {
        let g = self.lock();
        let Some(s) = g.people.sessions.get(id_hash) else {
            return Ok(None);
        };
        let user_ok = g
            .people
            .users
            .get(&s.user_id)
            .is_some_and(|u| u.disabled_at.is_none());
        let m = g.people.memberships.get(&k2(&s.tenant_id, &s.user_id));
        Ok(match m {
            Some(m) if user_ok => Some(SessionAuth {
                session: s.clone(),
                role: m.role,
            }),
            _ => None,
        })
    }

    async fn touch_session(&self, id_hash: &[u8], at: i64) -> Result<()> {
        if let Some(s) = self.lock().people.sessions.get_mut(id_hash) {
            s.last_seen_at = s.last_seen_at.max(at);
        }
        Ok(())
    }

    async fn revoke_session(&self, id_hash: &[u8], at: i64) -> Result<()> {
        if let Some(s) = self.lock().people.sessions.get_mut(id_hash) {
            s.revoked_at.get_or_insert(at);
        }
        Ok(())
    }

    async fn revoke_sessions(&self, user_id: &str, tenant: Option<&str>, at: i64) -> Result<u64> {
        let mut g = self.lock();
        Ok(revoke_where(&mut g, at, |s| {
            s.user_id == user_id && tenant.is_none_or(|t| s.tenant_id == t)
        }))
    }

    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        let v = g.people.failures.entry(key.to_owned()).or_default();
        v.retain(|t| *t >= at - crate::people::FAILURES_KEPT_MS);
        v.push(at);
        Ok(())
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<Vec<i64>> {
        let g = self.lock();
        let mut v: Vec<i64> = g
            .people
            .failures
            .get(key)
            .map(|v| v.iter().copied().filter(|t| *t >= since).collect())
            .unwrap_or_default();
        v.sort_unstable();
        Ok(v)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        self.lock().people.failures.remove(key);
        Ok(())
    }

    async fn forget_login_failure(&self, key: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        if let Some(v) = g.people.failures.get_mut(key) {
            if let Some(i) = v.iter().position(|t| *t == at) {
                v.remove(i);
            }
            if v.is_empty() {
                g.people.failures.remove(key);
            }
        }
        Ok(())
    }

    async fn clear_account_failures(&self, email: &str) -> Result<()> {
        let (account, pair) = (format!("account:{email}"), format!("pair:{email}|"));
        self.lock()
            .people
            .failures
            .retain(|k, _| *k != account && !k.starts_with(&pair));
        Ok(())
    }

    async fn prune_people(&self, now: i64, limit: u32) -> Result<u64> {
        let limit = limit as usize;
        let mut g = self.lock();
        let p = &mut g.people;
        let dead: Vec<Vec<u8>> = p
            .sessions
            .values()
            .filter(|s| s.revoked_at.is_some() || s.expires_at <= now)
            .take(limit)
            .map(|s| s.id_hash.clone())
            .collect();
        let spent: Vec<String> = p
            .links
            .values()
            .filter(|l| l.used_at.is_some() || l.expires_at <= now)
            .take(limit)
            .map(|l| l.id.clone())
            .collect();
        let mut n = (dead.len() + spent.len()) as u64;
        for id in dead {
            p.sessions.remove(&id);
        }
        for id in spent {
            p.links.remove(&id);
        }
        let old = now - crate::people::FAILURES_KEPT_MS;
        let mut left = limit;
        for v in p.failures.values_mut() {
            let before = v.len();
            let mut i = 0;
            v.retain(|t| {
                let drop = *t < old && i < left;
                i += usize::from(drop);
                !drop
            });
            let gone = before - v.len();
            left -= gone;
            n += gone as u64;
            if left == 0 {
                break;
            }
        }
        p.failures.retain(|_, v| !v.is_empty());
        Ok(n)
    }

    async fn set_workflow_creator(&self, tenant: &str, workflow_id: &str, by: &str) -> Result<()> {
        let mut g = self.lock();
        let key = k2(tenant, workflow_id);
        if !g.workflows.contains_key(&key) {
            return Err(Error::NotFound("workflow"));
        }
        g.people.creators.insert(key, by.to_owned());
        Ok(())
    }

    async fn workflow_creator(&self, tenant: &str, workflow_id: &str) -> Result<Option<String>> {
        let g = self.lock();
        let key = k2(tenant, workflow_id);
        if !g.workflows.contains_key(&key) {
            return Ok(None);
        }
        Ok(Some(
            g.people
                .creators
                .get(&key)
                .cloned()
                .unwrap_or_else(|| crate::people::SYSTEM.to_owned()),
        ))
    }
}

/// Erasing `tenant` (`OpsStore::erase_tenant`): first up to `limit` of its
/// members who belong to no other tenant, with their sessions, links and
/// login failures; then up to `limit` of the tenant's own memberships,
/// sessions, links and workflow creators. How many went (0: none left).
pub(super) fn erase_members(g: &mut Inner, tenant: &str, limit: usize) -> usize {
    let p = &mut g.people;
    let only_here: Vec<String> = p
        .memberships
        .keys()
        .filter(|(t, u)| {
            t == tenant
                && !p
                    .memberships
                    .keys()
                    .any(|(other, v)| v == u && other != tenant)
        })
        .map(|(_, u)| u.clone())
        .take(limit)
        .collect();
    for u in &only_here {
        if let Some(user) = p.users.remove(u) {
            let (account, pair) = (
                format!("account:{}", user.email),
                format!("pair:{}|", user.email),
            );
            p.failures
                .retain(|k, _| *k != account && !k.starts_with(&pair));
        }
        p.sessions.retain(|_, s| s.user_id != *u);
        p.links
            .retain(|_, l| l.user_id.as_deref() != Some(u.as_str()));
        p.memberships.retain(|(_, v), _| v != u);
    }
    if !only_here.is_empty() {
        return only_here.len();
    }
    let mut n = 0;
    let take = |n: &mut usize| {
        let go = *n < limit;
        *n += usize::from(go);
        go
    };
    p.memberships
        .retain(|(t, _), _| !(t == tenant && take(&mut n)));
    p.sessions
        .retain(|_, s| !(s.tenant_id == tenant && take(&mut n)));
    p.links
        .retain(|_, l| !(l.tenant_id == tenant && take(&mut n)));
    p.creators
        .retain(|(t, _), _| !(t == tenant && take(&mut n)));
    n
}
