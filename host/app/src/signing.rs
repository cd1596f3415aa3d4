//! Webhook signature checks: HMAC-SHA256 in the conventions senders use, a
//! replay window on the signed timestamp, constant-time comparison.
//!
//! | scheme     | headers                                                   | signed payload          |
//! |------------|-----------------------------------------------------------|-------------------------|
//! | `stripe`   | `Stripe-Signature: t=<s>,v1=<hex>[,v1=...]`               | `<t>.<body>`            |
//! | `slack`    | `X-Slack-Request-Timestamp: <s>`, `X-Slack-Signature: v0=<hex>` | `v0:<ts>:<body>`  |
//! | `github`   | `X-Hub-Signature-256: sha256=<hex>` (no timestamp)        | `<body>`                |
//! | `standard` | `webhook-id`, `webhook-timestamp: <s>`, `webhook-signature: v1,<b64> ...` | `<id>.<ts>.<body>` |
//!
//! The signature is checked before the timestamp, so `stale_timestamp` is
//! only ever said of a request the secret really signed (a replay), never
//! of a forgery. Every candidate signature is compared with
//! [`Mac::verify_slice`] (constant time).
//!
//! ```
//! use hmac::{Hmac, Mac};
//! use weft_app::signing::verify;
//! use weft_types::SignatureScheme;
//!
//! let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"secret").unwrap();
//! mac.update(b"{}");
//! let header = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
//! let headers = |name: &str| (name == "x-hub-signature-256").then_some(header.as_str());
//! assert_eq!(verify(SignatureScheme::Github, b"secret", None, &headers, b"{}", 0), Ok(()));
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use weft_types::{SignatureFailure as F, SignatureScheme};

type HmacSha256 = Hmac<Sha256>;

/// Checks that `body` was signed with `secret` in `scheme`'s convention and,
/// for a timestamped scheme, that the signed timestamp is within
/// `tolerance_ms` of `now_ms` (either way). `header` looks a request header up
/// by its lower-case name.
///
/// # Errors
/// Which check failed: a header missing or malformed, no signature that
/// matches, a timestamp outside the window.
pub fn verify<'h>(
    scheme: SignatureScheme,
    secret: &[u8],
    tolerance_ms: Option<u64>,
    header: &dyn Fn(&str) -> Option<&'h str>,
    body: &[u8],
    now_ms: i64,
) -> Result<(), F> {
    let need = |name: &str| header(name).ok_or(F::MissingHeader);
    let timestamp = match scheme {
        SignatureScheme::Stripe => {
            let (t, sigs) = stripe_header(need("stripe-signature")?)?;
            let sigs = sigs.iter().filter_map(|s| hex::decode(s).ok());
            any_matches(secret, &[t.as_bytes(), b".", body], sigs)?;
            Some(t)
        }
        SignatureScheme::Slack => {
            let ts = need("x-slack-request-timestamp")?;
            let sig = need("x-slack-signature")?
                .strip_prefix("v0=")
                .ok_or(F::MalformedHeader)?;
            let sig = hex::decode(sig).ok();
            any_matches(secret, &[b"v0:", ts.as_bytes(), b":", body], sig)?;
            Some(ts)
        }
        SignatureScheme::Github => {
            let sig = need("x-hub-signature-256")?
                .strip_prefix("sha256=")
                .ok_or(F::MalformedHeader)?;
            any_matches(secret, &[body], hex::decode(sig).ok())?;
            None
        }
        SignatureScheme::Standard => {
            let std = |name: &str| {
                header(&format!("webhook-{name}")).or_else(|| header(&format!("svix-{name}")))
            };
            let id = std("id").ok_or(F::MissingHeader)?;
            let ts = std("timestamp").ok_or(F::MissingHeader)?;
            let sigs = std("signature").ok_or(F::MissingHeader)?;
            let sigs: Vec<Vec<u8>> = sigs
                .split(' ')
                .filter_map(|s| s.strip_prefix("v1,"))
                .filter_map(|s| B64.decode(s).ok())
                .collect();
            let key = standard_key(secret);
            let payload: [&[u8]; 5] = [id.as_bytes(), b".", ts.as_bytes(), b".", body];
            any_matches(&key, &payload, sigs)?;
            Some(ts)
        }
    };
    if let (Some(ts), Some(window)) = (timestamp, tolerance_ms) {
        let secs: i64 = ts.trim().parse().map_err(|_| F::MalformedHeader)?;
        let skew = i128::from(now_ms) - i128::from(secs) * 1_000;
        if skew.unsigned_abs() > u128::from(window) {
            return Err(F::StaleTimestamp);
        }
    }
    Ok(())
}

/// `t=<s>,v1=<hex>,v1=<hex>,v0=...`: the timestamp and every `v1`.
fn stripe_header(value: &str) -> Result<(&str, Vec<&str>), F> {
    let mut t = None;
    let mut v1 = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => v1.push(v),
            Some(_) => {}
            None => return Err(F::MalformedHeader),
        }
    }
    match t {
        Some(t) if !v1.is_empty() => Ok((t, v1)),
        _ => Err(F::MalformedHeader),
    }
}

/// A Standard Webhooks secret: `whsec_<base64>` is the key it encodes;
/// anything else is used as it is.
fn standard_key(secret: &[u8]) -> Vec<u8> {
    secret
        .strip_prefix(b"whsec_")
        .and_then(|b| B64.decode(b).ok())
        .unwrap_or_else(|| secret.to_vec())
}

/// Whether any candidate is the HMAC of the concatenated `payload`, each
/// compared in constant time.
fn any_matches(
    key: &[u8],
    payload: &[&[u8]],
    candidates: impl IntoIterator<Item = Vec<u8>>,
) -> Result<(), F> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| F::SecretUnavailable)?;
    for part in payload {
        mac.update(part);
    }
    let mut ok = false;
    for c in candidates {
        // No early exit: every candidate is checked the same way.
        ok |= mac.clone().verify_slice(&c).is_ok();
    }
    if ok { Ok(()) } else { Err(F::BadSignature) }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
