//! Stored credentials: sealing new ones, re-sealing them when their binding
//! changes or was sealed under an older binding version, and unsealing them
//! into the sandbox's grants for one step. The secret never leaves this module
//! except into the sandbox, which injects it into outbound requests.
//!
//! The seal's associated data binds the credential's tenant, id, name, hosts
//! and injection ([`weft_vault::Binding`]): a row whose hosts or injection were
//! changed in the database does not open, and the step fails
//! `credential_tampered` without sending anything.

use crate::{Error, Handle, Result, new_id, now_ms};
use weft_sandbox::{Credential, Grants, Secret};
use weft_store::Store;
use weft_types::{CredentialRecord, ErrorKind, Failure, HostPattern, Injection, Reason};
use weft_vault::{BINDING_VERSION, Binding, Keyring, Sealed, Zeroizing};

pub use weft_types::NewCredential;

/// The canonical JSON of an injection: serialised from the typed value, so the
/// same injection always gives the same bytes.
fn canonical(injection: &Injection) -> Result<String> {
    serde_json::to_string(injection).map_err(|e| Error::Invalid(format!("/injection: {e}")))
}

/// A record's binding as the vault authenticates it. The injection is parsed
/// and re-serialised; a value that is not an injection at all is tampering.
fn with_binding<T>(
    record: &CredentialRecord,
    f: impl FnOnce(&Binding<'_>) -> Result<T>,
) -> Result<T> {
    let injection: Injection = serde_json::from_value(record.injection.clone()).map_err(|e| {
        Error::Tampered(format!(
            "credential metadata does not match its seal: credential `{}` has an injection that is not one ({e})",
            record.name
        ))
    })?;
    let injection = canonical(&injection)?;
    f(&Binding {
        tenant_id: &record.tenant_id,
        credential_id: &record.id,
        name: &record.name,
        hosts: &record.hosts,
        injection: &injection,
    })
}

fn sealed(record: &CredentialRecord) -> Sealed {
    Sealed {
        nonce: record.nonce.clone(),
        ciphertext: record.ciphertext.clone(),
    }
}

/// A vault refusal to open: tampering (named, never retried) or a key problem.
fn refused(e: weft_vault::Error) -> Error {
    match e {
        weft_vault::Error::Open { .. } | weft_vault::Error::BindingVersion(_) => {
            Error::Tampered(e.to_string())
        }
        e => Error::Vault(e.to_string()),
    }
}

impl Handle {
    /// Seals and stores a credential for `tenant`.
    ///
    /// # Errors
    /// `Invalid` (empty name or secret, no hosts), store `Duplicate` (name taken), store or vault failures.
    pub async fn create_credential(
        &self,
        tenant: &str,
        new: NewCredential,
    ) -> Result<CredentialRecord> {
        if new.name.is_empty() || new.name.len() > 100 {
            return Err(Error::Invalid("/name: must be 1-100 characters".into()));
        }
        let oauth2 = new.injection.oauth2().cloned();
        if let Some(o) = &oauth2 {
            crate::oauth::check_settings(o, &new.secret, self.sandbox().egress().allow_private)?;
        } else if new.secret.is_empty() || new.secret.len() > 16 * 1024 {
            return Err(Error::Invalid("/secret: must be 1 byte to 16 KiB".into()));
        }
        if new.hosts.is_empty() {
            return Err(Error::Invalid(
                "/hosts: bind the credential to at least one host".into(),
            ));
        }
        if let Injection::AwsSigv4 {
            access_key_id,
            region,
            service,
        } = &new.injection
            && let Some(why) = weft_types::aws_sigv4_problem(access_key_id, region, service)
        {
            return Err(Error::Invalid(format!("/injection: {why}")));
        }
        self.check_amqp(&new.injection, &new.hosts)?;
        let t = self
            .store()
            .get_tenant(tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let mut record = CredentialRecord {
            tenant_id: tenant.to_owned(),
            id: new_id("cred"),
            name: new.name,
            injection: serde_json::to_value(&new.injection)
                .map_err(|e| Error::Invalid(e.to_string()))?,
            hosts: new.hosts.iter().map(ToString::to_string).collect(),
            nonce: Vec::new(),
            ciphertext: Vec::new(),
            created_at: now_ms(),
            ad_version: BINDING_VERSION,
        };
        // An OAuth2 credential seals its client secret with room for the
        // tokens the authorization (or the first client-credentials request)
        // brings.
        let secret = match &oauth2 {
            Some(_) => crate::oauth::Tokens::new(new.secret).to_bytes()?,
            None => Zeroizing::new(new.secret.into_bytes()),
        };
        let sealed = with_binding(&record, |b| {
            self.keyring()
                .seal(&t.wrapped_key, b, &secret)
                .map_err(|e| Error::Vault(e.to_string()))
        })?;
        record.nonce = sealed.nonce;
        record.ciphertext = sealed.ciphertext;
        self.store().create_credential(&record).await?;
        Ok(record)
    }

    /// Rebinds credential `id` of `tenant` to new hosts and injection: the
    /// secret is opened under the old binding and sealed under the new one,
    /// and both go to the store in one write.
    ///
    /// # Errors
    /// `Invalid` (no hosts), `NotFound`, `Conflict` (changed meanwhile),
    /// `Tampered` (the stored row does not match its seal), store or vault
    /// failures.
    pub async fn rebind_credential(
        &self,
        tenant: &str,
        id: &str,
        hosts: &[HostPattern],
        injection: &Injection,
    ) -> Result<CredentialRecord> {
        if hosts.is_empty() {
            return Err(Error::Invalid(
                "/hosts: bind the credential to at least one host".into(),
            ));
        }
        self.check_amqp(injection, hosts)?;
        let old = self
            .store()
            .list_credentials(tenant)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(Error::NotFound("credential"))?;
        let new = CredentialRecord {
            injection: serde_json::to_value(injection)
                .map_err(|e| Error::Invalid(e.to_string()))?,
            hosts: hosts.iter().map(ToString::to_string).collect(),
            ..old.clone()
        };
        let new = reseal(self.store().as_ref(), self.keyring(), &old, new).await?;
        new.ok_or_else(|| Error::Conflict(format!("credential `{}` changed meanwhile", old.name)))
    }

    /// Re-seals every credential sealed under an older binding version, so
    /// its name, hosts and injection are bound too ([`reseal_credentials`]:
    /// only `weft migrate` runs it). Idempotent.
    ///
    /// # Errors
    /// Store failures (a row that does not open is skipped and counted).
    pub async fn reseal_credentials(&self) -> Result<Resealed> {
        reseal_credentials(self.store().as_ref(), self.keyring()).await
    }

    /// An `amqp` login's URL, checked when it is stored as when a consumer
    /// connects (`queue_trigger::check_broker`): no password in it (it would
    /// be stored in clear and listed), the broker among `hosts`, TLS unless
    /// private addresses are allowed.
    fn check_amqp(&self, injection: &Injection, hosts: &[HostPattern]) -> Result<()> {
        if let Injection::Amqp { url } = injection {
            let allow_private = self.sandbox().egress().allow_private;
            crate::queue_trigger::check_broker(url, hosts, allow_private)
                .map_err(|why| Error::Invalid(format!("/injection/url: {why}")))?;
        }
        Ok(())
    }

    /// Unseals the credentials `bound` ((slot, credential name) pairs) into
    /// `grants` for one invocation, a step's or a poll's, with the OAuth2
    /// refresher when one of them is OAuth2 (a 401 to its request renews the
    /// token once). `what` names the invocation in the log.
    ///
    /// # Errors
    /// The invocation's failure: `auth` (an OAuth2 credential that needs
    /// authorising again), `missing_credential`, `credential_tampered`, or a
    /// transient one for a store or vault failure.
    pub(crate) async fn grant_credentials(
        &self,
        tenant: &str,
        bound: impl IntoIterator<Item = (&str, &str)>,
        grants: &mut Grants,
        what: &str,
    ) -> std::result::Result<(), Failure> {
        let mut oauth = Vec::new();
        for (slot, name) in bound {
            match self.unseal(tenant, slot, name).await {
                Ok(c) => {
                    if matches!(c.inject, Injection::OAuth2(_)) {
                        oauth.push((slot.to_owned(), name.to_owned()));
                    }
                    grants.credentials.push(c);
                }
                Err(Error::Auth(msg)) => return Err(Failure::new(ErrorKind::Auth, msg)),
                Err(Error::NotFound(_)) => {
                    let msg = format!("credential `{name}` (slot `{slot}`) does not exist");
                    return Err(Failure::of(Reason::MissingCredential, msg));
                }
                Err(Error::Tampered(msg)) => {
                    tracing::error!(credential.name = %name, invocation = %what, error = %msg, "credential refused");
                    return Err(Failure::of(Reason::CredentialTampered, msg));
                }
                Err(e) => return Err(Failure::new(ErrorKind::Transient, e.to_string())),
            }
        }
        if !oauth.is_empty() {
            grants.refresh = Some(self.refresher(tenant, oauth));
        }
        Ok(())
    }

    /// Unseals the credential `name` of `tenant` for slot `slot`. For an
    /// OAuth2 credential, the secret is a current access token (refreshed
    /// first when it is about to expire, see `oauth.rs`).
    ///
    /// # Errors
    /// `NotFound`; `Tampered` when the row's metadata does not match its seal
    /// or it is sealed under an older binding version (never opened then);
    /// `Auth` when an OAuth2 credential needs (re-)authorization; store or
    /// vault failures.
    pub(crate) async fn unseal(&self, tenant: &str, slot: &str, name: &str) -> Result<Credential> {
        let record = self
            .store()
            .credential_by_name(tenant, name)
            .await?
            .ok_or(Error::NotFound("credential"))?;
        let (plain, injection) = self.open_credential(&record).await?;
        let secret = match &injection {
            Injection::OAuth2(o) => {
                let tokens = crate::oauth::Tokens::parse(&plain, name)?;
                self.oauth_token(&record, o, tokens, None).await?
            }
            _ => String::from_utf8(plain.to_vec())
                .map_err(|_| Error::Vault(format!("credential `{name}` is not UTF-8")))?,
        };
        let hosts = record
            .hosts
            .iter()
            .filter_map(|h| h.parse::<HostPattern>().ok())
            .collect();
        Ok(Credential {
            slot: slot.to_owned(),
            secret: Secret::new(secret),
            hosts,
            inject: injection,
        })
    }

    /// Opens a stored credential: its secret and its injection.
    ///
    /// # Errors
    /// `Tampered` when the row's metadata does not match its seal or it is
    /// sealed under an older binding version; store or vault failures.
    pub(crate) async fn open_credential(
        &self,
        record: &CredentialRecord,
    ) -> Result<(Zeroizing<Vec<u8>>, Injection)> {
        let name = &record.name;
        if record.ad_version != BINDING_VERSION {
            return Err(Error::Tampered(format!(
                "credential metadata does not match its seal: credential `{name}` is sealed under binding version {} (run `weft migrate` to re-seal it under version {BINDING_VERSION})",
                record.ad_version
            )));
        }
        let t = self
            .store()
            .get_tenant(&record.tenant_id)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        with_binding(record, |b| {
            let plain = self
                .keyring()
                .open(&t.wrapped_key, b, record.ad_version, &sealed(record))
                .map_err(refused)?;
            let injection: Injection = serde_json::from_str(b.injection)
                .map_err(|e| Error::Vault(format!("credential `{name}` injection: {e}")))?;
            Ok((plain, injection))
        })
    }

    /// `record` with `secret` sealed under its binding (a new nonce): the
    /// caller writes it with `reseal_credential` against the old nonce.
    ///
    /// # Errors
    /// Store or vault failures.
    pub(crate) async fn seal_credential(
        &self,
        record: &CredentialRecord,
        secret: &[u8],
    ) -> Result<CredentialRecord> {
        let t = self
            .store()
            .get_tenant(&record.tenant_id)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let sealed = with_binding(record, |b| {
            self.keyring()
                .seal(&t.wrapped_key, b, secret)
                .map_err(|e| Error::Vault(e.to_string()))
        })?;
        Ok(CredentialRecord {
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
            ad_version: BINDING_VERSION,
            ..record.clone()
        })
    }
}

/// Opens `old` under its own binding and version, seals the secret under
/// `new`'s binding at [`BINDING_VERSION`], and writes `new` if the row still
/// has `old`'s nonce. `None`: the row changed meanwhile.
async fn reseal(
    store: &dyn Store,
    keyring: &Keyring,
    old: &CredentialRecord,
    mut new: CredentialRecord,
) -> Result<Option<CredentialRecord>> {
    let t = store
        .get_tenant(&old.tenant_id)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    let sealed = with_binding(old, |ob| {
        with_binding(&new, |nb| {
            keyring
                .reseal(&t.wrapped_key, ob, old.ad_version, &sealed(old), nb)
                .map_err(refused)
        })
    })?;
    new.nonce = sealed.nonce;
    new.ciphertext = sealed.ciphertext;
    new.ad_version = BINDING_VERSION;
    Ok(store
        .reseal_credential(&new, &old.nonce)
        .await?
        .then_some(new))
}

/// A version-1 credential `weft migrate` re-sealed: the binding it now
/// authenticates, as the row had it. Those name, hosts and injection were not
/// authenticated before, so the operator checks each one (a database writer
/// could have restored an old row with hosts of their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedBinding {
    /// The credential's tenant.
    pub tenant_id: String,
    /// The credential's id.
    pub credential_id: String,
    /// Its name.
    pub name: String,
    /// The hosts it is now bound to.
    pub hosts: Vec<String>,
    /// Its injection (canonical JSON).
    pub injection: String,
}

/// What [`reseal_credentials`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Each row re-sealed under the current binding, with what it binds.
    pub accepted: Vec<AcceptedBinding>,
    /// Rows left as they were because they did not open (tampered, an
    /// unknown version, a tenant key that does not unwrap): each logged, and
    /// still refused at unseal.
    pub skipped: usize,
}

/// How many credentials are still sealed under an older binding version (and
/// so refused until `weft migrate` re-seals them).
///
/// # Errors
/// Store failures.
pub async fn unresealed_credentials(store: &dyn Store) -> Result<usize> {
    let mut n = 0;
    for tenant in store.list_tenants().await? {
        n += store
            .list_credentials(&tenant.id)
            .await?
            .iter()
            .filter(|c| c.ad_version < BINDING_VERSION)
            .count();
    }
    Ok(n)
}

/// Re-seals every credential sealed under an older binding version (the
/// explicit operator step `weft migrate`; `weft serve` never calls it, since
/// the name, hosts and injection of such a row were never authenticated).
/// Returns each binding it accepted, for the operator to check. A row that
/// does not open under its own version, or whose tenant key does not unwrap,
/// is logged and skipped (it stays refused at unseal), not fatal.
///
/// # Errors
/// Store failures listing tenants or credentials.
pub async fn reseal_credentials(store: &dyn Store, keyring: &Keyring) -> Result<Resealed> {
    let mut done = Resealed::default();
    for tenant in store.list_tenants().await? {
        for old in store.list_credentials(&tenant.id).await? {
            if old.ad_version >= BINDING_VERSION {
                continue;
            }
            let from = old.ad_version;
            match reseal(store, keyring, &old, old.clone()).await {
                Ok(Some(new)) => {
                    let injection = with_binding(&new, |b| Ok(b.injection.to_owned()))
                        .unwrap_or_else(|_| new.injection.to_string());
                    tracing::warn!(
                        tenant.id = %new.tenant_id,
                        credential.id = %new.id,
                        credential.name = %new.name,
                        hosts = ?new.hosts,
                        injection = %injection,
                        from,
                        to = BINDING_VERSION,
                        "credential re-sealed: this binding (name, hosts, injection) is now authenticated; check it"
                    );
                    done.accepted.push(AcceptedBinding {
                        tenant_id: new.tenant_id,
                        credential_id: new.id,
                        name: new.name,
                        hosts: new.hosts,
                        injection,
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(
                        tenant.id = %old.tenant_id,
                        credential.id = %old.id,
                        credential.name = %old.name,
                        from,
                        error = %e,
                        "credential not re-sealed (skipped; it stays refused)"
                    );
                    done.skipped += 1;
                }
            }
        }
    }
    Ok(done)
}
