//! Scrubbing granted secrets out of everything a plugin receives or emits
//! (response headers and bodies, transport errors, its output, logs and
//! error messages), in the forms a careless or hostile remote host could hand
//! them back in.
//!
//! One multi-pattern automaton (Aho-Corasick, linear in the input, built once
//! per invocation) holds every form that cannot be undone by a decoder below:
//! the literal secret (and, for a secret with line breaks, the secret without
//! them) and base64 (standard and URL-safe) at each of the three alignments a
//! secret can have inside a longer base64 string. A second automaton, ASCII
//! case-insensitive, holds the hex form (any mix of cases). For an alignment, only the characters that depend on
//! the secret's bits alone are a pattern (the edge characters mix in the bytes
//! around it), so `base64(anything + secret + anything)` is found wherever the
//! secret sits, Basic tokens included.
//!
//! It runs twice: over the bytes as they are, and over a **decoded view**
//! where one level of JSON string escapes (`\"`, `\\`, `\/`, `\n`, `\uXXXX`
//! with surrogate pairs), percent-encoding (either hex case; `+` for a space
//! is a form of its own) and HTML character references (`&#NN;`, `&#xHH;`, `&amp;`, `&lt;`, `&gt;`,
//! `&quot;`, `&apos;`) are decoded, in any mix, and line breaks are
//! dropped, raw or decoded (base64 wrapped with `\n`, `%0A`, `&#10;`). A
//! match there redacts the original bytes it was decoded from. The view is
//! built only when the input has one of `\ & % CR LF`, and costs 5 bytes per
//! input byte (the decoded bytes and a `u32` origin each).
//!
//! Not scrubbed (open): a partial reflection (a host echoing a truncated
//! secret or a few of its characters), and more than one level of
//! encoding (`%252B`, a JSON string inside a JSON string in the raw text;
//! [`Scrubber::scrub_json`] undoes one more level for parsed JSON).
//!
//! Every match is replaced with `[REDACTED]`. Forms shorter than
//! [`MIN_FORM`] bytes are not scrubbed (they would redact ordinary text).

use aho_corasick::AhoCorasick;

/// What replaces a secret.
const REDACTED: &[u8] = b"[REDACTED]";
/// The shortest form scrubbed.
pub(crate) const MIN_FORM: usize = 4;
/// The shortest base64 or hex form scrubbed: short runs of those alphabets
/// are common in ordinary text.
const MIN_ENCODED: usize = 8;

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The secrets of one invocation, ready to be found.
#[derive(Default)]
pub(crate) enum Scrubber {
    /// No secret granted.
    #[default]
    Empty,
    /// Literal and base64 forms (`exact`), and hex in any case (`hex`).
    Forms {
        exact: AhoCorasick,
        hex: Option<AhoCorasick>,
    },
    /// The automaton could not be built (past its size limits, far above what
    /// a step's secrets can reach): everything is redacted, nothing leaks.
    Everything,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrubber")
    }
}

impl Scrubber {
    /// A scrubber for `secrets`: each is what may appear on the wire in
    /// clear (the secret, and for Basic `username:secret`).
    pub(crate) fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut raw = Vec::new();
        let mut plain = Vec::new();
        let mut hexes = Vec::new();
        for s in secrets {
            let s = s.as_ref();
            if s.len() < MIN_FORM {
                continue;
            }
            plain.push(s.to_vec());
            raw.push(s.to_vec());
            if s.iter().any(|b| matches!(b, b'\r' | b'\n')) {
                // The decoded view drops line breaks: a multi-line secret
                // (a PEM key) is found there without them.
                let flat: Vec<u8> = s
                    .iter()
                    .copied()
                    .filter(|b| !matches!(b, b'\r' | b'\n'))
                    .collect();
                plain.push(flat.clone());
                raw.push(flat);
            }
            if s.contains(&b' ') {
                // Form encoding's `+` for a space (the decoded view keeps a
                // literal `+`, which a secret may contain).
                let plus: Vec<u8> = s
                    .iter()
                    .map(|&b| if b == b' ' { b'+' } else { b })
                    .collect();
                plain.push(plus.clone());
                raw.push(plus);
            }
            hexes.push(hex::encode(s).into_bytes());
            for offset in 0..3 {
                for alphabet in [STD, URL_SAFE] {
                    raw.push(base64_interior(s, offset, alphabet));
                    // When the secret ends the encoded data (a Basic token, a
                    // header value): its last characters and padding too.
                    let tail = base64_tail(s, offset, alphabet);
                    let unpadded = tail.iter().copied().filter(|&c| c != b'=').collect();
                    raw.push(tail);
                    raw.push(unpadded);
                }
            }
        }
        raw.retain(|f| f.len() >= MIN_FORM && (plain.contains(f) || f.len() >= MIN_ENCODED));
        raw.sort();
        raw.dedup();
        hexes.retain(|f| f.len() >= MIN_ENCODED);
        hexes.sort();
        hexes.dedup();
        if raw.is_empty() {
            return Self::Empty;
        }
        let build = |forms: &[Vec<u8>], any_case: bool| {
            AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .ascii_case_insensitive(any_case)
                .build(forms)
        };
        let hex = if hexes.is_empty() {
            Ok(None)
        } else {
            build(&hexes, true).map(Some)
        };
        match (build(&raw, false), hex) {
            (Ok(exact), Ok(hex)) => Self::Forms { exact, hex },
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "secret scrubber not built; redacting everything");
                Self::Everything
            }
        }
    }

    /// Every match of a form in `hay`, as `[start, end)`.
    fn find(
        exact: &AhoCorasick,
        hex: Option<&AhoCorasick>,
        hay: &[u8],
        hits: &mut Vec<(usize, usize)>,
    ) {
        hits.extend(exact.find_iter(hay).map(|m| (m.start(), m.end())));
        if let Some(hex) = hex {
            hits.extend(hex.find_iter(hay).map(|m| (m.start(), m.end())));
        }
    }

    /// Whether there is nothing to scrub.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// The byte ranges of `data` that carry a secret, sorted and merged.
    fn ranges(&self, data: &[u8]) -> Vec<(usize, usize)> {
        let (exact, hex) = match self {
            Self::Empty => return Vec::new(),
            Self::Everything => return vec![(0, data.len())],
            Self::Forms { exact, hex } => (exact, hex.as_ref()),
        };
        let mut hits = Vec::new();
        Self::find(exact, hex, data, &mut hits);
        // M2: no decoded view (5 bytes per input byte) when nothing in the
        // input can decode.
        let decodable = memchr::memchr3(b'\\', b'&', b'%', data).is_some()
            || memchr::memchr2(b'\r', b'\n', data).is_some();
        if decodable {
            let Some(view) = Decoded::of(data) else {
                // Over 4 GiB (far past any response limit): fail closed.
                return vec![(0, data.len())];
            };
            if view.changed {
                let mut found = Vec::new();
                Self::find(exact, hex, &view.bytes, &mut found);
                hits.extend(found.into_iter().map(|(s, e)| {
                    let start = view.origin[s] as usize;
                    let last = view.origin[e - 1] as usize;
                    (start, last + piece(&data[last..]).1)
                }));
            }
        }
        hits.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(hits.len());
        for (s, e) in hits {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    /// `data` with every secret replaced, or `None` when there is none.
    pub(crate) fn scrub(&self, data: &[u8]) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        let ranges = self.ranges(data);
        if ranges.is_empty() || data.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(data.len());
        let mut last = 0;
        for (s, e) in ranges {
            out.extend_from_slice(&data[last..s]);
            out.extend_from_slice(REDACTED);
            last = e;
        }
        out.extend_from_slice(&data[last..]);
        Some(out)
    }

    /// Every string (and key) of a parsed JSON value scrubbed: a form that
    /// JSON escaping doubled in the text (`\\u0073...`) is one decode away
    /// here.
    pub(crate) fn scrub_json(&self, v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.is_empty() {
            return v;
        }
        match v {
            Value::String(s) => Value::String(self.scrub_str(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|i| self.scrub_json(i)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.scrub_str(&k), self.scrub_json(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// [`Scrubber::scrub`] for strings.
    pub(crate) fn scrub_str(&self, s: &str) -> String {
        match self.scrub(s.as_bytes()) {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => s.to_owned(),
        }
    }
}

/// The base64 characters that depend only on `secret` when it starts
/// `offset` (0-2) bytes into a 3-byte group of a longer base64 string.
fn base64_interior(secret: &[u8], offset: usize, alphabet: &[u8; 64]) -> Vec<u8> {
    let bits_before = 8 * offset;
    let bits_end = bits_before + 8 * secret.len();
    let bit = |i: usize| -> u8 {
        // Bit i of (offset filler bytes + secret), most significant first.
        let byte = secret[(i - bits_before) / 8];
        (byte >> (7 - (i - bits_before) % 8)) & 1
    };
    let first = bits_before.div_ceil(6);
    let last = bits_end / 6; // exclusive: a character needs 6 bits inside
    (first..last)
        .map(|c| {
            let v = (0..6).fold(0u8, |acc, k| (acc << 1) | bit(6 * c + k));
            alphabet[usize::from(v)]
        })
        .collect()
}

/// The base64 of `secret` starting `offset` bytes into a 3-byte group and
/// ending the data: the characters from the first that depends on the secret
/// alone to the end, padding included.
fn base64_tail(secret: &[u8], offset: usize, alphabet: &[u8; 64]) -> Vec<u8> {
    let filled = [&[0u8; 2][..offset], secret].concat();
    let full = crate::grants::base64(&filled);
    full.bytes()
        .skip((8 * offset).div_ceil(6))
        .map(|c| match c {
            b'+' => alphabet[62],
            b'/' => alphabet[63],
            c => c,
        })
        .collect()
}

/// One level of JSON, percent and HTML decoding, with where each decoded byte
/// came from.
struct Decoded {
    bytes: Vec<u8>,
    /// For each decoded byte, where the piece it came from starts in the
    /// original ([`piece`] there gives its length): 4 bytes, not a range.
    origin: Vec<u32>,
    /// Whether anything was decoded (else the raw scan saw it all).
    changed: bool,
}

/// What the piece at one position of the original decodes to.
enum Piece {
    /// Itself (one byte, kept as it is).
    Same,
    /// A character (a JSON or HTML escape).
    Char(char),
    /// A byte (percent-encoding: percent-encoded UTF-8 decodes to the same bytes).
    Byte(u8),
}

/// The piece at the start of `s` and its length in the original.
fn piece(s: &[u8]) -> (Piece, usize) {
    let char_of = |(c, len): (Option<u32>, usize)| match c.and_then(char::from_u32) {
        Some(c) => (Piece::Char(c), len),
        None => (Piece::Same, 1),
    };
    match s.first() {
        Some(b'\\') => char_of(json_escape(s)),
        Some(b'&') => char_of(html(s)),
        Some(b'%') => match s.get(1..3).and_then(hex_value) {
            Some(v) => (Piece::Byte(u8::try_from(v).unwrap_or(0)), 3),
            None => (Piece::Same, 1),
        },
        _ => (Piece::Same, 1),
    }
}

impl Decoded {
    /// `None` past 4 GiB (origins are `u32`).
    fn of(data: &[u8]) -> Option<Self> {
        u32::try_from(data.len()).ok()?;
        let mut d = Self {
            bytes: Vec::with_capacity(data.len()),
            origin: Vec::with_capacity(data.len()),
            changed: false,
        };
        let mut i = 0;
        while i < data.len() {
            let at = u32::try_from(i).unwrap_or(u32::MAX);
            let (p, len) = piece(&data[i..]);
            let mut buf = [0u8; 4];
            let bytes: &[u8] = match p {
                Piece::Same => &data[i..=i],
                Piece::Char(c) => c.encode_utf8(&mut buf).as_bytes(),
                Piece::Byte(b) => {
                    buf[0] = b;
                    &buf[..1]
                }
            };
            if matches!(bytes, b"\r" | b"\n") {
                // L5: a line break, raw or decoded (`\n`, `%0A`, `&#10;`),
                // is dropped: base64 wrapped either way reads as one run.
                d.changed = true;
            } else {
                d.changed |= !matches!(p, Piece::Same);
                for &b in bytes {
                    d.bytes.push(b);
                    d.origin.push(at);
                }
            }
            i += len;
        }
        Some(d)
    }
}

/// Hex digits only (no sign, no prefix), as `from_str_radix` would also take `+`.
fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let s = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// `\X` or `\uXXXX` (a surrogate pair as one character) at the start of `s`.
fn json_escape(s: &[u8]) -> (Option<u32>, usize) {
    let simple = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            _ => return None,
        }))
    };
    match s.get(1) {
        Some(b'u') => {
            let Some(hi) = s.get(2..6).and_then(hex_value) else {
                return (None, 1);
            };
            if (0xD800..0xDC00).contains(&hi)
                && s.get(6..8) == Some(b"\\u")
                && let Some(lo) = s.get(8..12).and_then(hex_value)
                && (0xDC00..0xE000).contains(&lo)
            {
                return (Some(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)), 12);
            }
            (Some(hi), 6)
        }
        Some(&c) => (simple(c), 2),
        None => (None, 1),
    }
}

/// An HTML character reference at the start of `s`.
fn html(s: &[u8]) -> (Option<u32>, usize) {
    let end = s.iter().take(12).position(|&b| b == b';');
    let Some(end) = end else {
        return (None, 1);
    };
    let body = &s[1..end];
    let ch = match body {
        b"amp" => Some(u32::from(b'&')),
        b"lt" => Some(u32::from(b'<')),
        b"gt" => Some(u32::from(b'>')),
        b"quot" => Some(u32::from(b'"')),
        b"apos" => Some(u32::from(b'\'')),
        [b'#', b'x' | b'X', hex @ ..] => hex_value(hex),
        [b'#', dec @ ..]
            if !dec.is_empty() && dec.len() <= 7 && dec.iter().all(u8::is_ascii_digit) =>
        {
            std::str::from_utf8(dec).ok().and_then(|d| d.parse().ok())
        }
        _ => None,
    };
    match ch {
        Some(c) => (Some(c), end + 1),
        None => (None, 1),
    }
}

#[cfg(test)]
#[path = "scrub_tests.rs"]
mod tests;
