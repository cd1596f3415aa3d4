//! Tenant data keys wrapped by master keys, and credentials sealed with them.
//!
//! A wrapped tenant key is `master key id`, `:`, a 24-byte nonce, then the
//! 32-byte data key encrypted with XChaCha20-Poly1305 (48 bytes with the tag).
//! Associated data binds a purpose label and, length-prefixed, the master key
//! id and tenant id (wrapping) or, for a credential, its [`Binding`]: tenant
//! id, credential id, name, sorted hosts and injection (version 2). Version 1
//! bound only the tenant and credential ids; it is opened only to re-seal.

use crate::keyring::{KEY_LEN, MAX_ID_LEN, MasterKey, valid_id};
use crate::{Error, Keyring, Result, random};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Bytes in an XChaCha20-Poly1305 nonce.
const NONCE_LEN: usize = 24;
/// Bytes in a Poly1305 tag.
const TAG_LEN: usize = 16;
/// Bytes after the key id and `:` in a wrapped tenant key.
const WRAPPED_BODY: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

const WRAP_LABEL: &[u8] = b"weft-vault/tenant-key/v1";
const SEAL_LABEL_V1: &[u8] = b"weft-vault/credential/v1";
const SEAL_LABEL_V2: &[u8] = b"weft-vault/credential/v2";

/// The binding version [`Keyring::seal`] writes: store it with the row
/// (`ad_version`) and hand it back to [`Keyring::open`].
pub const BINDING_VERSION: u32 = 2;

/// What a credential's seal authenticates besides its secret: change any of
/// it in the database and the secret does not open.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The tenant that owns it.
    pub tenant_id: &'a str,
    /// `cred_…`.
    pub credential_id: &'a str,
    /// Its name (what workflows grant).
    pub name: &'a str,
    /// Host patterns it may be sent to, in any order (sorted and deduplicated here).
    pub hosts: &'a [String],
    /// How it is injected, as canonical JSON (the caller serialises its typed
    /// injection, so the same injection always gives the same bytes).
    pub injection: &'a str,
}

impl Binding<'_> {
    /// The associated data of `version`, or `None` for a version this build
    /// does not know.
    fn aad(&self, version: u32) -> Option<Vec<u8>> {
        match version {
            1 => Some(aad(SEAL_LABEL_V1, &[self.tenant_id, self.credential_id])),
            2 => {
                let mut hosts: Vec<&str> = self.hosts.iter().map(String::as_str).collect();
                hosts.sort_unstable();
                hosts.dedup();
                // Each host length-prefixed inside the part: unambiguous too.
                let hosts = aad(b"", &hosts);
                let mut out = aad(
                    SEAL_LABEL_V2,
                    &[
                        self.tenant_id,
                        self.credential_id,
                        self.name,
                        self.injection,
                    ],
                );
                let len = u32::try_from(hosts.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&hosts);
                Some(out)
            }
            _ => None,
        }
    }
}

/// A sealed secret, stored as `CredentialRecord::{nonce, ciphertext}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The random 24-byte nonce.
    pub nonce: Vec<u8>,
    /// The ciphertext with its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.ciphertext.len())
    }
}

/// `label`, then each part prefixed with its length (u32, big endian), so no
/// two different lists of parts give the same bytes.
fn aad(label: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(label.len() + parts.iter().map(|p| 4 + p.len()).sum::<usize>());
    out.extend_from_slice(label);
    for p in parts {
        // Ids longer than 4 GiB cannot reach here; saturate rather than wrap.
        let len = u32::try_from(p.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    out
}

fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

fn nonce() -> Result<[u8; NONCE_LEN]> {
    let mut n = [0u8; NONCE_LEN];
    random(&mut n)?;
    Ok(n)
}

/// Splits a wrapped tenant key into its master key id and the rest.
fn split(wrapped: &[u8]) -> Result<(&str, &[u8])> {
    let head = wrapped.get(..=MAX_ID_LEN).unwrap_or(wrapped);
    let colon = head
        .iter()
        .position(|&b| b == b':')
        .ok_or(Error::Malformed("no master key id"))?;
    let (id, rest) = wrapped.split_at(colon);
    let id = std::str::from_utf8(id)
        .ok()
        .filter(|id| valid_id(id))
        .ok_or(Error::Malformed("bad master key id"))?;
    let body = rest.get(1..).unwrap_or_default();
    if body.len() != WRAPPED_BODY {
        return Err(Error::Malformed("wrong length"));
    }
    Ok((id, body))
}

impl Keyring {
    /// A fresh random data key for `tenant_id`, wrapped by the current master
    /// key; store it with the tenant.
    ///
    /// # Errors
    /// [`Error::Random`] when the OS random number generator fails.
    pub fn new_tenant_key(&self, tenant_id: &str) -> Result<Vec<u8>> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        random(&mut key[..])?;
        self.wrap(tenant_id, &key)
    }

    /// The same data key, wrapped by the current master key: after
    /// [`Keyring::rotate`], rewrap each tenant's key (in the background;
    /// the old blob keeps working meanwhile), then retire the old master key.
    ///
    /// # Errors
    /// As [`Keyring::open`] for the wrapped key.
    pub fn rewrap(&self, tenant_id: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        let key = self.unwrap(tenant_id, wrapped)?;
        self.wrap(tenant_id, &key)
    }

    /// Whether a wrapped tenant key is wrapped by the current master key
    /// (so needs no [`Keyring::rewrap`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] when it is not a wrapped key.
    pub fn is_current(&self, wrapped: &[u8]) -> Result<bool> {
        Ok(Self::wrapped_by(wrapped)? == self.current_id())
    }

    /// The id of the master key that wrapped a tenant key.
    ///
    /// # Errors
    /// [`Error::Malformed`] when it is not a wrapped key.
    pub fn wrapped_by(wrapped: &[u8]) -> Result<&str> {
        split(wrapped).map(|(id, _)| id)
    }

    /// Encrypts a credential's secret with the tenant's data key, binding
    /// everything in `binding` (version [`BINDING_VERSION`]).
    ///
    /// # Errors
    /// As [`Keyring::open`] for the wrapped key; [`Error::TooLarge`] past the
    /// cipher's limit (256 GiB); [`Error::Random`].
    pub fn seal(&self, wrapped: &[u8], binding: &Binding<'_>, plaintext: &[u8]) -> Result<Sealed> {
        self.seal_version(wrapped, binding, BINDING_VERSION, plaintext)
    }

    /// Seals under binding `version`. Weft writes only [`BINDING_VERSION`];
    /// older versions exist so the re-sealing of older rows can be tested
    /// against real ciphertexts.
    ///
    /// # Errors
    /// As [`Keyring::seal`]; [`Error::BindingVersion`] for an unknown version.
    #[doc(hidden)]
    pub fn seal_version(
        &self,
        wrapped: &[u8],
        binding: &Binding<'_>,
        version: u32,
        plaintext: &[u8],
    ) -> Result<Sealed> {
        let aad = binding.aad(version).ok_or(Error::BindingVersion(version))?;
        let key = self.unwrap(binding.tenant_id, wrapped)?;
        let nonce = nonce()?;
        let ciphertext = cipher(&key)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::TooLarge)?;
        Ok(Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts what [`Keyring::seal`] sealed with the same binding under
    /// binding `version` (the row's `ad_version`).
    ///
    /// # Errors
    /// - [`Error::Malformed`]: `wrapped` is not a wrapped tenant key;
    /// - [`Error::UnknownKey`]: the master key that wrapped it is not here;
    /// - [`Error::Unwrap`]: it was tampered with or wrapped for another tenant;
    /// - [`Error::BindingVersion`]: a version this build does not know;
    /// - [`Error::Open`]: the binding (name, hosts, injection) was changed,
    ///   the nonce or ciphertext was tampered with, or they were sealed for
    ///   another tenant, credential or tenant key.
    pub fn open(
        &self,
        wrapped: &[u8],
        binding: &Binding<'_>,
        version: u32,
        sealed: &Sealed,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let aad = binding.aad(version).ok_or(Error::BindingVersion(version))?;
        let key = self.unwrap(binding.tenant_id, wrapped)?;
        let refused = || Error::Open {
            tenant_id: binding.tenant_id.to_owned(),
            credential_id: binding.credential_id.to_owned(),
        };
        let nonce = <[u8; NONCE_LEN]>::try_from(sealed.nonce.as_slice()).map_err(|_| refused())?;
        cipher(&key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| refused())
    }

    /// Opens a secret sealed under `old` (binding version `version`) and
    /// seals it again under `new` at [`BINDING_VERSION`]: for a changed
    /// binding (hosts, injection, name) and to migrate rows sealed under an
    /// older version. The plaintext lives only inside this call.
    ///
    /// # Errors
    /// As [`Keyring::open`] for `old`, as [`Keyring::seal`] for `new`.
    pub fn reseal(
        &self,
        wrapped: &[u8],
        old: &Binding<'_>,
        version: u32,
        sealed: &Sealed,
        new: &Binding<'_>,
    ) -> Result<Sealed> {
        let plain = self.open(wrapped, old, version, sealed)?;
        self.seal(wrapped, new, &plain)
    }

    fn wrap(&self, tenant_id: &str, key: &[u8; KEY_LEN]) -> Result<Vec<u8>> {
        let MasterKey { id, key: master } = self.current();
        let nonce = nonce()?;
        let aad = aad(WRAP_LABEL, &[id, tenant_id]);
        let sealed = cipher(master)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: key,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::TooLarge)?;
        let mut out = Vec::with_capacity(id.len() + 1 + WRAPPED_BODY);
        out.extend_from_slice(id.as_bytes());
        out.push(b':');
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, tenant_id: &str, wrapped: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let (id, body) = split(wrapped)?;
        let master = self.key(id)?;
        let (nonce, sealed) = body
            .split_at_checked(NONCE_LEN)
            .ok_or(Error::Malformed("wrong length"))?;
        let nonce =
            <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| Error::Malformed("wrong length"))?;
        let aad = aad(WRAP_LABEL, &[id, tenant_id]);
        let refused = || Error::Unwrap {
            tenant_id: tenant_id.to_owned(),
        };
        let plain = cipher(&master.key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| refused())?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(plain.get(..KEY_LEN).ok_or_else(refused)?);
        Ok(key)
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
