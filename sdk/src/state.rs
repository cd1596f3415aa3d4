//! The key-value store scoped to (tenant, connector).
//!
//! Usable only when the manifest declares [`Manifest::state`](crate::Manifest::state)
//! and the tenant granted it. Values are bytes; the `_json` helpers store JSON.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::weft::plugin::state as wit;
use crate::{Error, Result};

/// Why the store refused an operation (the WIT `state-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// The manifest did not declare `state`, or the tenant did not grant it.
    NotGranted,
    /// The key or value is over the host's limit (the limit in bytes).
    TooLarge(u64),
    /// The store could not be reached; worth retrying.
    Unavailable(String),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGranted => f.write_str("state store not granted (declare `state` in the manifest; the tenant must allow it)"),
            Self::TooLarge(limit) => write!(f, "state key or value over the limit of {limit} bytes"),
            Self::Unavailable(why) => write!(f, "state store unavailable: {why}"),
        }
    }
}

impl std::error::Error for StateError {}

impl From<StateError> for Error {
    fn from(e: StateError) -> Self {
        let message = e.to_string();
        match e {
            StateError::NotGranted => Error::permanent(message),
            StateError::TooLarge(_) => Error::invalid_input(message),
            StateError::Unavailable(_) => Error::transient(message),
        }
    }
}

impl From<wit::StateError> for StateError {
    fn from(e: wit::StateError) -> Self {
        match e {
            wit::StateError::NotGranted => Self::NotGranted,
            wit::StateError::TooLarge(n) => Self::TooLarge(n),
            wit::StateError::Unavailable(s) => Self::Unavailable(s),
        }
    }
}

/// Read a value.
///
/// # Errors
///
/// The store's [`StateError`].
pub fn get(key: &str) -> Result<Option<Vec<u8>>, StateError> {
    wit::get(key).map_err(Into::into)
}

/// Write a value.
///
/// # Errors
///
/// The store's [`StateError`].
pub fn set(key: &str, value: &[u8]) -> Result<(), StateError> {
    wit::set(key, value).map_err(Into::into)
}

/// Delete a key; returns whether it existed.
///
/// # Errors
///
/// The store's [`StateError`].
pub fn delete(key: &str) -> Result<bool, StateError> {
    wit::delete(key).map_err(Into::into)
}

/// Read and deserialize a JSON value.
///
/// # Errors
///
/// The store's error converted to [`Error`], or a permanent error naming the key
/// when the stored bytes are not the expected JSON.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    let Some(bytes) = get(key)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::permanent(format!(
            "state key `{key}` does not hold the expected JSON: {e}"
        ))
    })
}

/// Serialize `value` as JSON and write it.
///
/// # Errors
///
/// The store's error converted to [`Error`], or an invalid-input error naming the
/// key when `value` cannot be serialized.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| {
        Error::invalid_input(format!("state key `{key}`: could not serialize value: {e}"))
    })?;
    set(key, &bytes).map_err(|e| Error::from(e).context(format_args!("state key `{key}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn classification() {
        assert_eq!(
            Error::from(StateError::NotGranted).kind,
            ErrorKind::Permanent
        );
        assert_eq!(
            Error::from(StateError::TooLarge(10)).kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(
            Error::from(StateError::Unavailable("down".into())).kind,
            ErrorKind::Transient
        );
    }
}
