//! TOTP, the optional second factor (RFC 6238: HMAC-SHA1, 6 digits, 30 s
//! steps, one step either side accepted), and how its secret is sealed.
//!
//! A user may belong to several tenants, so the secret is not sealed with a
//! tenant's data key: each sealing draws a fresh data key, wrapped by the
//! deployment's current master key (the keyring) under the name
//! `user:<user id>`, and seals the secret with it, the user id bound as
//! associated data. The stored blob is `1`, the wrapped key's length (u16,
//! big endian), the wrapped key, the 24-byte nonce, the ciphertext: a blob
//! copied to another user's row does not open, and the master key that
//! wrapped it is named inside it (as a tenant key names it).

use crate::{Actor, App, Current, Error, Operator, Result, Started};
use hmac::{Hmac, Mac as _};
use sha1::Sha1;
use subtle::ConstantTimeEq as _;
use weft_vault::{BINDING_VERSION, Binding, Keyring, Sealed, Zeroizing};

/// Seconds in a time step.
pub const STEP_S: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;
/// The issuer named in the `otpauth://` URI.
pub const ISSUER: &str = "Weft";

const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The HOTP value of `counter` (RFC 4226, section 5.3): HMAC-SHA1, dynamic
/// truncation, the last [`DIGITS`] decimal digits.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 10u32.pow(DIGITS)
}

/// The time step of a Unix time in ms.
pub fn step_at(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000).div_euclid(STEP_S)
}

/// The step whose code `code` is, among the steps around `now_ms` (one
/// either side), compared in constant time; `None`: no match (or not six
/// digits). The latest matching step wins.
pub fn verify(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(now_ms);
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let want = format!("{:0width$}", hotp(secret, counter), width = DIGITS as usize);
        if bool::from(want.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32, upper case, without padding (what authenticator apps read).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://totp/…` URI an authenticator app scans (as a QR code).
pub fn uri(email: &str, secret_b32: &str) -> String {
    let label: String = format!("{ISSUER}:{email}")
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' | b':' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "otpauth://totp/{label}?secret={secret_b32}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_S}"
    )
}

fn binding_name(user_id: &str) -> String {
    format!("user:{user_id}")
}

fn binding<'a>(name: &'a str) -> Binding<'a> {
    Binding {
        tenant_id: name,
        credential_id: "totp",
        name: "totp",
        hosts: &[],
        injection: "",
    }
}

fn vault(e: &weft_vault::Error) -> Error {
    Error::Internal(format!("vault: {e}"))
}

/// Seals a user's TOTP secret (see the module's documentation).
///
/// # Errors
/// `Internal` when the vault fails (randomness).
pub fn seal(keyring: &Keyring, user_id: &str, secret: &[u8]) -> Result<Vec<u8>> {
    let name = binding_name(user_id);
    let wrapped = keyring.new_tenant_key(&name).map_err(|e| vault(&e))?;
    let sealed = keyring
        .seal(&wrapped, &binding(&name), secret)
        .map_err(|e| vault(&e))?;
    let len = u16::try_from(wrapped.len())
        .map_err(|_| Error::Internal("vault: wrapped key too long".into()))?;
    let mut out = vec![BLOB_VERSION];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&sealed.nonce);
    out.extend_from_slice(&sealed.ciphertext);
    Ok(out)
}

/// Opens what [`seal`] sealed for this user.
///
/// # Errors
/// `Internal` for a malformed blob, one sealed for another user, or a
/// master key no longer in the keyring.
pub fn open(keyring: &Keyring, user_id: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let bad = || Error::Internal("vault: the stored TOTP secret is malformed".into());
    let (&version, rest) = blob.split_first().ok_or_else(bad)?;
    if version != BLOB_VERSION || rest.len() < 2 {
        return Err(bad());
    }
    let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
    let rest = &rest[2..];
    if rest.len() < len + NONCE_LEN {
        return Err(bad());
    }
    let (wrapped, rest) = rest.split_at(len);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let name = binding_name(user_id);
    let sealed = Sealed {
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.to_vec(),
    };
    keyring
        .open(wrapped, &binding(&name), BINDING_VERSION, &sealed)
        .map_err(|e| vault(&e))
}

/// 401 `totp_required`.
pub(crate) fn required() -> Error {
    Error::SecondFactor {
        code: "totp_required",
        message:
            "totp: this account has a second factor: send the current code of its authenticator app"
                .into(),
    }
}

fn invalid_code(status_401: bool) -> Error {
    let message = "totp: wrong, expired or already used code".to_owned();
    if status_401 {
        Error::SecondFactor {
            code: "totp_invalid",
            message,
        }
    } else {
        Error::Refused {
            code: "totp_invalid",
            message,
            problems: Vec::new(),
        }
    }
}

/// A TOTP secret set up, not active until confirmed.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    /// The secret in base32 (shown once: type it into an authenticator app).
    pub secret: Zeroizing<String>,
    /// The `otpauth://` URI (for a QR code).
    pub uri: Zeroizing<String>,
}

impl App {
    /// Checks a user's second factor, if they have one: `code` must be a
    /// current code not used before; a wrong or replayed one leaves the
    /// attempt counted as a failed login.
    pub(crate) async fn second_factor(
        &self,
        user: &weft_store::people::User,
        code: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let Some(sealed) = &user.totp_secret else {
            return Ok(());
        };
        let code = code.ok_or_else(required)?;
        if self.use_code(&user.id, sealed, code, now).await? {
            return Ok(());
        }
        // The attempt was recorded as a failed login before the password
        // check (`begin_attempt`); it stays one.
        Err(invalid_code(true))
    }

    /// Whether `code` is a current code of the sealed secret, not used
    /// before (recording its step as used).
    async fn use_code(&self, user_id: &str, sealed: &[u8], code: &str, now: i64) -> Result<bool> {
        let secret = open(self.handle.keyring(), user_id, sealed)?;
        match verify(&secret, code, now) {
            Some(step) => Ok(self.store().use_totp_step(user_id, step).await?),
            None => Ok(false),
        }
    }

    async fn session_user_row(&self, current: &Current) -> Result<weft_store::people::User> {
        self.store()
            .get_user(&current.auth.session.user_id)
            .await?
            .ok_or(Error::Unauthenticated)
    }

    /// Sets up TOTP for the session's user: a new secret, stored sealed as
    /// pending (not checked at login until [`App::totp_confirm`]). Setting
    /// up again replaces a pending secret.
    ///
    /// # Errors
    /// `Conflict` when TOTP is on already (turn it off first).
    pub async fn totp_setup(&self, current: &Current, password: &str) -> Result<TotpSetup> {
        let user = self.session_user_row(current).await?;
        if user.totp_secret.is_some() {
            return Err(Error::Conflict(
                "totp: already on; turn it off (DELETE /v1/auth/totp) before setting up another"
                    .into(),
            ));
        }
        // The password again: a stolen session alone must not enrol its own
        // device (and then lock the user out). Counted like a login.
        let now = weft_worker::now_ms();
        let attempt = self.begin_attempt(&user.email, None, now).await?;
        match self
            .verify_password(password, Some(&user.password_hash))
            .await
        {
            Ok(true) => self.succeed_attempt(&attempt).await?,
            Ok(false) => {
                return Err(Error::Refused {
                    code: "invalid_password",
                    message: "password: not this account's password".into(),
                    problems: Vec::new(),
                });
            }
            Err(e) => {
                self.forget_attempt(&attempt).await;
                return Err(e);
            }
        }
        let random = Zeroizing::new(weft_worker::new_token());
        let bytes = Zeroizing::new(
            hex::decode(random.as_bytes()).map_err(|e| Error::Internal(format!("token: {e}")))?,
        );
        let secret = &bytes[..SECRET_LEN];
        let sealed = seal(self.handle.keyring(), &user.id, secret)?;
        self.store().set_totp(&user.id, None, Some(&sealed)).await?;
        self.audit(&current.actor, "totp.setup", &user.id).await?;
        let b32 = Zeroizing::new(base32(secret));
        let uri = Zeroizing::new(uri(&user.email, &b32));
        Ok(TotpSetup { secret: b32, uri })
    }

    /// Confirms the pending secret with a current code: TOTP is on from now,
    /// and the session is rotated (a new id, the old one revoked): a
    /// privilege change.
    ///
    /// # Errors
    /// `Conflict` when nothing is set up; `Refused` (`totp_invalid`).
    pub async fn totp_confirm(
        &self,
        secret: &str,
        current: &Current,
        code: &str,
    ) -> Result<Started> {
        let user = self.session_user_row(current).await?;
        let pending = user.totp_pending.clone().ok_or_else(|| {
            Error::Conflict(
                "totp: nothing set up to confirm (POST /v1/auth/totp/setup first)".into(),
            )
        })?;
        if !self
            .use_code(&user.id, &pending, code, weft_worker::now_ms())
            .await?
        {
            return Err(invalid_code(false));
        }
        self.store()
            .set_totp(&user.id, Some(&pending), None)
            .await?;
        self.audit(&current.actor, "totp.enable", &user.id).await?;
        let tenant = current.auth.session.tenant_id.clone();
        self.start_session(user, Some(&tenant), Some(secret)).await
    }

    /// Turns TOTP off (and drops a pending secret), proven by a current code
    /// or the password; a wrong proof counts as a failed login.
    ///
    /// # Errors
    /// `Invalid` without a proof; `Refused` (`totp_invalid`,
    /// `invalid_password`); `Throttled`; `Conflict` when it is not on.
    pub async fn totp_disable(
        &self,
        current: &Current,
        code: Option<&str>,
        password: Option<&str>,
    ) -> Result<()> {
        let user = self.session_user_row(current).await?;
        let Some(sealed) = user.totp_secret.clone() else {
            if user.totp_pending.is_some() {
                self.store().set_totp(&user.id, None, None).await?;
                return Ok(());
            }
            return Err(Error::Conflict("totp: not on".into()));
        };
        let now = weft_worker::now_ms();
        if code.is_none() && password.is_none() {
            return Err(Error::Invalid(
                "code or password: one is required to turn TOTP off".into(),
            ));
        }
        // Counted like a login (recorded before the check).
        let attempt = self.begin_attempt(&user.email, None, now).await?;
        let ok = match (code, password) {
            (Some(c), _) => self.use_code(&user.id, &sealed, c, now).await,
            (None, Some(p)) => self.verify_password(p, Some(&user.password_hash)).await,
            (None, None) => Ok(false),
        };
        let ok = match ok {
            Ok(ok) => ok,
            Err(e) => {
                self.forget_attempt(&attempt).await;
                return Err(e);
            }
        };
        if ok {
            self.succeed_attempt(&attempt).await?;
        } else {
            return Err(if code.is_some() {
                invalid_code(false)
            } else {
                Error::Refused {
                    code: "invalid_password",
                    message: "password: not this account's password".into(),
                    problems: Vec::new(),
                }
            });
        }
        self.store().set_totp(&user.id, None, None).await?;
        self.audit(&current.actor, "totp.disable", &user.id).await
    }

    /// The operator turns a user's TOTP off (a lost device), whatever their
    /// tenants; in the operator audit log and the user's first tenant's. A
    /// reset link does not turn it off.
    ///
    /// # Errors
    /// `Invalid` (email); `NotFound("user")`.
    pub async fn op_remove_totp(&self, op: &Operator, email: &str) -> Result<()> {
        let email = crate::normalise_email(email, "email")?;
        let user = self
            .store()
            .user_by_email(&email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        self.store().set_totp(&user.id, None, None).await?;
        let tenant = self
            .store()
            .memberships_of(&user.id)
            .await?
            .first()
            .map(|m| m.tenant_id.clone())
            .unwrap_or_default();
        if !tenant.is_empty() {
            let actor = Actor::new(tenant.clone(), op.actor(), weft_types::Role::Owner);
            self.audit(&actor, "totp.disable", &user.id).await?;
        }
        self.tenants
            .op_audit(op, "user.totp_remove", &tenant, &user.id)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B (the SHA-1 rows), at 8 digits there: the last 6
    /// digits are ours.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let step = u64::try_from(step_at(t * 1000)).unwrap();
            assert_eq!(hotp(secret, step), want % 1_000_000, "T = {t}");
        }
    }

    #[test]
    fn verify_accepts_one_step_either_side_only() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_111_000;
        let s = step_at(now);
        let code = |step: i64| format!("{:06}", hotp(secret, u64::try_from(step).unwrap()));
        assert_eq!(verify(secret, &code(s), now), Some(s));
        assert_eq!(verify(secret, &code(s - 1), now), Some(s - 1));
        assert_eq!(verify(secret, &code(s + 1), now), Some(s + 1));
        assert_eq!(verify(secret, &code(s - 2), now), None);
        assert_eq!(verify(secret, &code(s + 2), now), None);
        assert_eq!(verify(secret, "12345", now), None);
        assert_eq!(verify(secret, "abcdef", now), None);
    }

    #[test]
    fn base32_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn sealed_for_one_user_only() {
        let keyring = Keyring::generate().unwrap();
        let blob = seal(&keyring, "usr_a", b"secret").unwrap();
        assert_eq!(&open(&keyring, "usr_a", &blob).unwrap()[..], b"secret");
        assert!(open(&keyring, "usr_b", &blob).is_err());
        let mut bad = blob.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&keyring, "usr_a", &bad).is_err());
        assert!(open(&keyring, "usr_a", &blob[..10]).is_err());
    }
}
