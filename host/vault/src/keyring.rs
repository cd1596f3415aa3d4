//! The master keyring and its file.

use crate::{Error, Result, random};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Bytes in a master key.
pub(crate) const KEY_LEN: usize = 32;
/// Longest key id.
pub(crate) const MAX_ID_LEN: usize = 32;

const HEADER: &str = "# Weft master keys, one `id:base64` line each, the current key first.\n\
# Older keys only unwrap what they wrapped. Keep this file secret.\n";

/// One master key.
pub(crate) struct MasterKey {
    pub(crate) id: String,
    pub(crate) key: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    fn generate(taken: &[&str]) -> Result<Self> {
        let mut key = Zeroizing::new([0; KEY_LEN]);
        random(&mut key[..])?;
        loop {
            let mut raw = [0u8; 4];
            random(&mut raw)?;
            let id: String = std::iter::once('k')
                .chain(raw.iter().flat_map(|b| hex(*b)))
                .collect();
            if !taken.contains(&id.as_str()) {
                return Ok(Self { id, key });
            }
        }
    }
}

fn hex(b: u8) -> [char; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [
        char::from(DIGITS[usize::from(b >> 4)]),
        char::from(DIGITS[usize::from(b & 0xf)]),
    ]
}

/// Whether `id` can name a master key: 1 to 32 of `[A-Za-z0-9_-]`.
pub(crate) fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The master keys: the current one, which wraps new tenant keys, and older
/// ones kept to unwrap what they wrapped.
///
/// The file holds one `id:base64` line per key, the current key first; blank
/// lines and `#` comments are ignored. It is written with mode 0600, replaced
/// atomically. `Debug` shows key ids only.
pub struct Keyring {
    current: MasterKey,
    older: Vec<MasterKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "older",
                &self.older.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// A keyring with one fresh random key.
    ///
    /// # Errors
    /// [`Error::Random`] when the OS random number generator fails.
    pub fn generate() -> Result<Self> {
        Ok(Self {
            current: MasterKey::generate(&[])?,
            older: Vec::new(),
        })
    }

    /// Reads a keyring file.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read, [`Error::KeyFile`] when a line is
    /// not `id:base64` of 32 bytes, an id repeats, or there is no key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| io_error(path, e))?);
        Self::parse(&text, path)
    }

    /// Reads the keyring file, or creates it with one fresh key when it does
    /// not exist (never overwriting a file another process created meanwhile).
    ///
    /// # Errors
    /// As [`Keyring::load`] and [`Keyring::save`].
    pub fn load_or_generate(path: &Path) -> Result<Self> {
        match Self::load(path) {
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                let keyring = Self::generate()?;
                match keyring.write(path, false) {
                    Ok(()) => Ok(keyring),
                    Err(Error::Io { source, .. })
                        if source.kind() == io::ErrorKind::AlreadyExists =>
                    {
                        Self::load(path)
                    }
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
    }

    /// Writes the keyring file (mode 0600), atomically replacing it.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.write(path, true)
    }

    /// Makes a fresh key current; the previous keys stay for unwrapping.
    /// Returns the new key's id. Save the keyring and reload it in every
    /// process before wrapping with it elsewhere.
    ///
    /// # Errors
    /// [`Error::Random`] when the OS random number generator fails.
    pub fn rotate(&mut self) -> Result<&str> {
        let taken: Vec<&str> = self.ids().collect();
        let fresh = MasterKey::generate(&taken)?;
        let previous = std::mem::replace(&mut self.current, fresh);
        self.older.insert(0, previous);
        Ok(&self.current.id)
    }

    /// Drops an older key, once nothing is wrapped by it any more
    /// (see [`Keyring::is_current`] and [`Keyring::rewrap`]).
    ///
    /// # Errors
    /// [`Error::Keyring`] for the current key or an unknown id.
    pub fn retire(&mut self, id: &str) -> Result<()> {
        if id == self.current.id {
            return Err(Error::Keyring(format!(
                "master key `{id}` is current and cannot be retired"
            )));
        }
        let before = self.older.len();
        self.older.retain(|k| k.id != id);
        if self.older.len() == before {
            return Err(Error::Keyring(format!(
                "master key `{id}` is not in the keyring"
            )));
        }
        Ok(())
    }

    /// The id of the key that wraps new tenant keys.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Every key id, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .map(|k| k.id.as_str())
    }

    pub(crate) fn current(&self) -> &MasterKey {
        &self.current
    }

    pub(crate) fn key(&self, id: &str) -> Result<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| Error::UnknownKey { id: id.to_owned() })
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |line: usize, message: String| Error::KeyFile {
            path: path.to_owned(),
            line,
            message,
        };
        let mut keys: Vec<MasterKey> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, b64) = line
                .split_once(':')
                .ok_or_else(|| bad(n + 1, "expected `id:base64`".into()))?;
            if !valid_id(id) {
                return Err(bad(
                    n + 1,
                    format!("key id must be 1 to {MAX_ID_LEN} of letters, digits, `_`, `-`"),
                ));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(bad(n + 1, format!("key id `{id}` repeats")));
            }
            // Decoded into a zeroized buffer large enough for any base64 of 32 bytes.
            let mut buf = Zeroizing::new([0u8; KEY_LEN + 16]);
            let len = STANDARD
                .decode_slice(b64.trim(), &mut buf[..])
                .map_err(|_| bad(n + 1, "key is not base64 of 32 bytes".into()))?;
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            match buf.get(..len) {
                Some(bytes) if len == KEY_LEN => key.copy_from_slice(bytes),
                _ => return Err(bad(n + 1, "key is not base64 of 32 bytes".into())),
            }
            keys.push(MasterKey {
                id: id.to_owned(),
                key,
            });
        }
        let mut keys = keys.into_iter();
        let current = keys.next().ok_or_else(|| bad(0, "no key".into()))?;
        Ok(Self {
            current,
            older: keys.collect(),
        })
    }

    fn text(&self) -> Zeroizing<String> {
        let all: Vec<&MasterKey> = std::iter::once(&self.current).chain(&self.older).collect();
        let size = HEADER.len() + all.iter().map(|k| k.id.len() + 46).sum::<usize>();
        // Sized up front so the string never reallocates and leaves key copies behind.
        let mut text = Zeroizing::new(String::with_capacity(size));
        text.push_str(HEADER);
        for k in all {
            text.push_str(&k.id);
            text.push(':');
            STANDARD.encode_string(&k.key[..], &mut text);
            text.push('\n');
        }
        text
    }

    /// Writes to a temporary file in the same directory, then moves it into
    /// place: renaming over `path` when `replace`, else linking (which fails
    /// with `AlreadyExists` rather than overwrite).
    fn write(&self, path: &Path, replace: bool) -> Result<()> {
        let mut suffix = [0u8; 6];
        random(&mut suffix)?;
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(
            ".tmp-{}",
            suffix.iter().flat_map(|b| hex(*b)).collect::<String>()
        ));
        let tmp = path.with_file_name(name);
        let result = (|| {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(self.text().as_bytes())?;
            file.sync_all()?;
            if replace {
                fs::rename(&tmp, path)
            } else {
                fs::hard_link(&tmp, path)
            }
        })();
        let _ = fs::remove_file(&tmp); // gone already after a rename
        result.map_err(|e| io_error(path, e))
    }
}

fn io_error(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: PathBuf::from(path),
        source,
    }
}

#[cfg(test)]
#[path = "keyring_tests.rs"]
mod tests;
