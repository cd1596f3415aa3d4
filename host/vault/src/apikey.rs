//! API keys: `weft_<prefix>_<secret>`, both parts base62.
//!
//! The secret is shown once, when the key is made. The store keeps only the
//! public prefix (`weft_` and 12 characters, unique, used to find the key) and
//! the SHA-256 of the whole key. A request's key is checked by looking it up by
//! [`parse_prefix`], refusing it when revoked, then [`verify`]ing it against
//! the stored hash in constant time.
//!
//! ```
//! use weft_vault::apikey;
//!
//! # fn main() -> weft_vault::Result<()> {
//! let key = apikey::generate()?; // show `key.secret` once; store `prefix` and `hash`
//! assert_eq!(apikey::parse_prefix(&key.secret), Some(key.prefix.as_str()));
//! assert!(apikey::verify(&key.secret, &key.hash));
//! assert!(!apikey::verify("weft_guess", &key.hash));
//! assert_eq!(apikey::parse_prefix("Bearer nonsense"), None);
//! # Ok(())
//! # }
//! ```

use crate::{Result, random};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

const SCHEME: &str = "weft_";
/// Random characters after `weft_` in the prefix (about 71 bits).
const PREFIX_CHARS: usize = 12;
/// Random characters in the secret part (about 256 bits).
const SECRET_CHARS: usize = 43;
/// Length of the public prefix, `weft_` included.
pub const PREFIX_LEN: usize = SCHEME.len() + PREFIX_CHARS;
/// Length of a whole key.
pub const KEY_LEN: usize = PREFIX_LEN + 1 + SECRET_CHARS;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key just made. `Debug` does not show the secret.
pub struct NewKey {
    /// The whole key: show it once, never store or log it.
    pub secret: Zeroizing<String>,
    /// The public prefix to store (unique; `weft_` and 12 characters).
    pub prefix: String,
    /// SHA-256 of the whole key, to store.
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("prefix", &self.prefix)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The scheme of operator keys (`docs/TENANCY.md`, section 1): made, parsed
/// and checked like API keys, with this prefix instead of `weft_`, so one
/// can never be taken for the other.
pub const OPERATOR_SCHEME: &str = "weft_op_";

/// Makes a fresh key.
///
/// # Errors
/// [`crate::Error::Random`] when the OS random number generator fails.
pub fn generate() -> Result<NewKey> {
    generate_in(SCHEME)
}

/// Makes a fresh operator key (`weft_op_…`).
///
/// # Errors
/// [`crate::Error::Random`] when the OS random number generator fails.
pub fn generate_operator() -> Result<NewKey> {
    generate_in(OPERATOR_SCHEME)
}

/// The public prefix of a well-formed operator key (`weft_op_` and 12 base62
/// characters); `None` for anything else (an API key included).
pub fn parse_operator_prefix(key: &str) -> Option<&str> {
    let random = key.strip_prefix("weft_op")?;
    // `weft_` + `_…` is an API key's shape once `weft_op` is taken off.
    parse_prefix(&format!("weft{random}")).map(|p| &key[..p.len() + 3])
}

/// Whether `key` is the operator key whose SHA-256 is `stored_hash`.
pub fn verify_operator(key: &str, stored_hash: &[u8]) -> bool {
    if key.len() != KEY_LEN + OPERATOR_SCHEME.len() - SCHEME.len() {
        return false;
    }
    let hash = Sha256::digest(key.as_bytes());
    hash.as_slice().ct_eq(stored_hash).into()
}

fn generate_in(scheme: &str) -> Result<NewKey> {
    let mut secret = Zeroizing::new(String::with_capacity(KEY_LEN + 3));
    secret.push_str(scheme);
    push_base62(&mut secret, PREFIX_CHARS)?;
    let prefix = secret.as_str().to_owned();
    secret.push('_');
    push_base62(&mut secret, SECRET_CHARS)?;
    let hash = Sha256::digest(secret.as_bytes()).to_vec();
    Ok(NewKey {
        secret,
        prefix,
        hash,
    })
}

/// Appends `n` uniformly random base62 characters (rejection sampling, so
/// without modulo bias).
fn push_base62(out: &mut String, n: usize) -> Result<()> {
    let mut pushed = 0;
    let mut buf = Zeroizing::new([0u8; 64]);
    while pushed < n {
        random(&mut buf[..])?;
        // 248 = 4 * 62: bytes below it map evenly onto the alphabet.
        for &b in buf.iter().filter(|&&b| b < 248).take(n - pushed) {
            out.push(char::from(BASE62[usize::from(b % 62)]));
            pushed += 1;
        }
    }
    Ok(())
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The public prefix of a well-formed key (`weft_` and 12 base62
/// characters), to look the key up by; `None` for anything else, without
/// looking further into input of the wrong length.
pub fn parse_prefix(key: &str) -> Option<&str> {
    if key.len() != KEY_LEN {
        return None;
    }
    let (prefix, rest) = key.split_at_checked(PREFIX_LEN)?;
    let secret = rest.strip_prefix('_')?;
    let random = prefix.strip_prefix(SCHEME)?;
    (is_base62(random) && is_base62(secret)).then_some(prefix)
}

/// Whether `key` is the key whose SHA-256 is `stored_hash`, compared in
/// constant time. Keys of the wrong length are refused before hashing.
pub fn verify(key: &str, stored_hash: &[u8]) -> bool {
    if key.len() != KEY_LEN {
        return false;
    }
    let hash = Sha256::digest(key.as_bytes());
    hash.as_slice().ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_keys_are_apart_from_api_keys() {
        let k = generate_operator().unwrap();
        assert!(k.secret.starts_with("weft_op_") && k.prefix.starts_with("weft_op_"));
        assert_eq!(parse_operator_prefix(&k.secret), Some(k.prefix.as_str()));
        assert!(verify_operator(&k.secret, &k.hash));
        assert_eq!(
            parse_prefix(&k.secret),
            None,
            "an operator key is no API key"
        );
        let api = generate().unwrap();
        assert_eq!(
            parse_operator_prefix(&api.secret),
            None,
            "an API key is no operator key"
        );
        assert!(!verify_operator(&api.secret, &api.hash));
    }

    #[test]
    fn generated_keys_have_the_format_and_verify() {
        let key = generate().unwrap();
        assert_eq!(key.secret.len(), KEY_LEN);
        assert!(key.secret.starts_with(&format!("{}_", key.prefix)));
        assert_eq!(key.prefix.len(), PREFIX_LEN);
        assert_eq!(parse_prefix(&key.secret), Some(key.prefix.as_str()));
        assert_eq!(key.hash, Sha256::digest(key.secret.as_bytes()).to_vec());
        assert!(verify(&key.secret, &key.hash));
        let shown = format!("{key:?}");
        assert!(
            shown.contains(&key.prefix) && !shown.contains(key.secret.as_str()),
            "{shown}"
        );
    }

    #[test]
    fn keys_are_distinct_and_use_the_whole_alphabet() {
        let keys: Vec<NewKey> = (0..200).map(|_| generate().unwrap()).collect();
        let mut prefixes: Vec<&str> = keys.iter().map(|k| k.prefix.as_str()).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(prefixes.len(), keys.len());
        // 200 * 55 random characters: every one of the 62 shows up (missing one
        // by chance has probability below 1e-80).
        let mut seen = [false; 128];
        for k in &keys {
            for b in k.secret[SCHEME.len()..].bytes().filter(|&b| b != b'_') {
                seen[usize::from(b)] = true;
            }
        }
        assert!(BASE62.iter().all(|&b| seen[usize::from(b)]));
    }

    #[test]
    fn wrong_keys_and_hashes_do_not_verify() {
        let key = generate().unwrap();
        let other = generate().unwrap();
        assert!(!verify(&other.secret, &key.hash));
        assert!(!verify(&key.secret, &other.hash));
        assert!(!verify(&key.secret, &key.hash[..31]));
        assert!(!verify(&key.secret, &[]));
        let mut flipped = key.secret.to_string().into_bytes();
        flipped[KEY_LEN - 1] ^= 1;
        assert!(!verify(std::str::from_utf8(&flipped).unwrap(), &key.hash));
        assert!(!verify(&format!("{}x", key.secret.as_str()), &key.hash));
        assert!(!verify("", &key.hash));
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        let good = generate().unwrap();
        let s = good.secret.as_str();
        let huge = "w".repeat(1 << 20);
        let cases = [
            String::new(),
            "weft_".into(),
            huge,
            s[..KEY_LEN - 1].to_owned(),
            format!("{s}A"),
            format!("Weft_{}", &s[5..]),
            format!("{}-{}", &s[..PREFIX_LEN], &s[PREFIX_LEN + 1..]),
            format!("{}_{}", &s[..PREFIX_LEN - 1], &s[PREFIX_LEN..]),
            format!("{}é{}", &s[..PREFIX_LEN], &s[PREFIX_LEN + 2..]),
            format!("{}+{}", &s[..KEY_LEN - 2], &s[KEY_LEN - 1..]),
            format!("{}a", "é".repeat((KEY_LEN - 1) / 2)), // 17 is not a char boundary
        ];
        for c in &cases {
            assert_eq!(parse_prefix(c), None, "{c:?}");
            assert!(!verify(c, &good.hash));
        }
    }
}
