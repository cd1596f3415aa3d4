use super::*;

const SECRET: &str = "sk_live/Ab+9\"x\\yZ~ é";

fn scrubbed(data: &[u8]) -> String {
    let s = Scrubber::new([SECRET]);
    String::from_utf8_lossy(&s.scrub(data).unwrap_or_else(|| data.to_vec())).into_owned()
}

fn assert_gone(data: &[u8]) {
    let out = scrubbed(data);
    assert!(out.contains("[REDACTED]"), "not scrubbed: {out}");
    assert!(!out.contains("sk_live"), "left: {out}");
    assert!(!out.contains("Ab"), "left: {out}");
}

fn std_base64(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | (u32::from(x) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            let _ = write!(out, "{}", STD[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn literal_and_every_occurrence() {
    let out = scrubbed(format!("a {SECRET} b {SECRET}{SECRET}").as_bytes());
    assert_eq!(out, "a [REDACTED] b [REDACTED]");
    assert!(Scrubber::new([SECRET]).scrub(b"nothing here").is_none());
}

#[test]
fn json_escapes_in_any_form_and_mix() {
    // serde_json's own escaping (\" and \\).
    let json = serde_json::to_string(&serde_json::json!({ "echo": SECRET })).unwrap();
    assert_gone(json.as_bytes());
    // \/ and every character as \uXXXX (é as itself, as \u00e9, and as UTF-8 bytes).
    let all_u: String = SECRET
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    assert_gone(all_u.as_bytes());
    let upper_u: String = SECRET
        .chars()
        .map(|c| format!("\\u{:04X}", c as u32))
        .collect();
    assert_gone(upper_u.as_bytes());
    assert_gone(br#"{"k":"sk_live\/Ab+9\"x\\yZ~ \u00e9"}"#);
    let out = scrubbed(br#"{"k":"sk_live\/Ab+9\"x\\yZ~ \u00e9","other":"kept"}"#);
    assert_eq!(out, r#"{"k":"[REDACTED]","other":"kept"}"#);
}

#[test]
fn percent_encodings_upper_lower_and_plus() {
    let upper: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
    assert!(upper.contains('+'), "form encoding uses + for the space");
    assert_gone(upper.as_bytes());
    let lower = upper
        .replace("%2F", "%2f")
        .replace("%2B", "%2b")
        .replace("%C3%A9", "%c3%a9");
    assert_gone(lower.as_bytes());
    // Every byte percent-encoded, and %20 for the space.
    let every: String = SECRET.bytes().map(|b| format!("%{b:02X}")).collect();
    assert_gone(every.as_bytes());
    // In a query string next to other parameters.
    let out = scrubbed(format!("GET /?a=1&key={upper}&b=2").as_bytes());
    assert_eq!(out, "GET /?a=1&key=[REDACTED]&b=2");
}

#[test]
fn html_character_references() {
    let dec: String = SECRET.chars().map(|c| format!("&#{};", c as u32)).collect();
    assert_gone(dec.as_bytes());
    let hex: String = SECRET
        .chars()
        .map(|c| format!("&#x{:x};", c as u32))
        .collect();
    assert_gone(hex.as_bytes());
    assert_gone(SECRET.replace('"', "&quot;").as_bytes());
}

#[test]
fn base64_at_every_offset_and_both_alphabets() {
    for prefix in ["", "x", "xy", "xyz", "Bearer "] {
        for suffix in ["", "!", "!!"] {
            let plain = format!("{prefix}{SECRET}{suffix}");
            let std = std_base64(plain.as_bytes());
            assert_gone(format!("echo: {std}").as_bytes());
            let url = std.replace('+', "-").replace('/', "_");
            let out = scrubbed(url.as_bytes());
            assert!(out.contains("[REDACTED]"), "{prefix:?}+{suffix:?}: {out}");
        }
    }
    // Wrapped at 76 characters (MIME).
    let long = std_base64(format!("{}{SECRET}", "p".repeat(70)).as_bytes());
    let wrapped: String = long
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n");
    assert!(scrubbed(wrapped.as_bytes()).contains("[REDACTED]"));
}

#[test]
fn base64_interior_matches_the_shifted_encodings() {
    for offset in 0..3 {
        let filler = vec![b'q'; offset];
        let full = std_base64(&[filler.as_slice(), SECRET.as_bytes(), b"tail"].concat());
        let interior = base64_interior(SECRET.as_bytes(), offset, STD);
        let interior = std::str::from_utf8(&interior).unwrap();
        assert!(
            full.contains(interior),
            "offset {offset}: {interior} in {full}"
        );
        assert!(interior.len() >= SECRET.len() * 4 / 3 - 2);
    }
}

#[test]
fn hex_in_any_case() {
    assert_gone(hex::encode(SECRET).as_bytes());
    assert_gone(hex::encode_upper(SECRET).as_bytes());
    // L5: mixed case (one digit pair upper, the next lower, ...).
    let mixed: String = hex::encode(SECRET)
        .char_indices()
        .map(|(i, c)| if i % 4 < 2 { c.to_ascii_uppercase() } else { c })
        .collect();
    assert_ne!(mixed, hex::encode(SECRET));
    assert_ne!(mixed, hex::encode_upper(SECRET));
    assert_gone(mixed.as_bytes());
}

#[test]
fn base64_wrapped_with_escaped_line_breaks() {
    // L5: base64 wrapped at 16 characters with line breaks that are
    // themselves encoded: a JSON `\n` / `\r\n`, `%0A`, `&#10;`, `&#13;&#10;`.
    let b64 = std_base64(format!("Bearer {SECRET}").as_bytes());
    for brk in [
        "\\n",
        "\\r\\n",
        "%0A",
        "%0d%0a",
        "&#10;",
        "&#13;&#10;",
        "&#xA;",
    ] {
        let wrapped = b64
            .as_bytes()
            .chunks(16)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(brk);
        let out = scrubbed(format!("{{\"t\":\"{wrapped}\"}}").as_bytes());
        assert!(out.contains("[REDACTED]"), "{brk}: {out}");
        for line in wrapped.split(brk).skip(1) {
            assert!(
                !out.contains(line) || line.len() < 4,
                "{brk}: {line} left in {out}"
            );
        }
    }
}

#[test]
fn a_multi_line_secret_is_found_escaped_too() {
    let pem = "-----BEGIN KEY-----\nMIIBfakefakefake\n-----END KEY-----";
    let s = Scrubber::new([pem]);
    let json = serde_json::to_string(&serde_json::json!({ "k": pem })).unwrap();
    assert!(json.contains("\\n"));
    let out = s.scrub_str(&json);
    assert!(!out.contains("MIIBfake"), "{out}");
    assert!(!s.scrub_str(pem).contains("MIIBfake"));
}

#[test]
fn basic_credentials_are_found_through_the_username_form() {
    let s = Scrubber::new(["hunter22", "alice:hunter22"]);
    let token = std_base64(b"alice:hunter22");
    let out = s.scrub_str(&format!("Authorization: Basic {token}"));
    assert_eq!(out, "Authorization: Basic [REDACTED]");
    // Inside a longer base64 text, at most the edge characters (a few bits) stay.
    let inner = std_base64(b"x-alice:hunter22-y");
    let out = s.scrub_str(&inner);
    assert!(
        out.contains("[REDACTED]") && out.len() <= "[REDACTED]".len() + 6,
        "{out}"
    );
}

#[test]
fn ordinary_text_is_left_alone() {
    let s = Scrubber::new([SECRET]);
    for text in [
        "plain text with 100% and a+b and &amp; and \\n",
        r#"{"a":"\u00e9\"","b":"%41%42"}"#,
        "aGVsbG8gd29ybGQ=",
        "",
    ] {
        assert_eq!(s.scrub(text.as_bytes()), None, "{text}");
    }
    // Short secrets are not scrubbed (they would redact ordinary words).
    assert!(Scrubber::new(["abc"]).is_empty());
    assert!(Scrubber::new(Vec::<String>::new()).is_empty());
    // Incomplete escapes at the end do not panic.
    for text in ["\\", "\\u12", "%4", "&#x;", "&#", "\\ud800\\u", "%"] {
        assert_eq!(s.scrub(text.as_bytes()), None, "{text}");
    }
}

#[test]
fn scrubbing_is_linear_and_bounded() {
    // 4 MiB with many near-misses and escapes: no blow-up.
    let s = Scrubber::new([SECRET, "another-secret-value"]);
    let chunk = "sk_live/Ab+9 %41\\u0041&#65; ";
    let big = chunk.repeat((4 << 20) / chunk.len());
    let start = std::time::Instant::now();
    assert_eq!(s.scrub(big.as_bytes()), None);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// Counts the bytes this thread has allocated (live and peak) while
/// [`peak_during`] runs; other threads (tests in parallel) are not counted.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub(super) struct Counting;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn track(delta: isize) {
        let _ = ON.try_with(|on| {
            if on.get() {
                LIVE.with(|l| {
                    l.set(l.get() + delta);
                    PEAK.with(|p| p.set(p.get().max(l.get())));
                });
            }
        });
    }

    #[allow(unsafe_code)]
    // SAFETY: every call is forwarded to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            track(layout.size() as isize);
            // SAFETY: as the caller's contract.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            track(-(layout.size() as isize));
            // SAFETY: as the caller's contract.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            track(new as isize - layout.size() as isize);
            // SAFETY: as the caller's contract.
            unsafe { System.realloc(ptr, layout, new) }
        }
    }

    /// The most bytes `f` had allocated at once on this thread.
    pub(super) fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
        LIVE.with(|l| l.set(0));
        PEAK.with(|p| p.set(0));
        ON.with(|on| on.set(true));
        let out = f();
        ON.with(|on| on.set(false));
        (out, PEAK.with(Cell::get).max(0) as usize)
    }
}

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

#[test]
fn scrubbing_memory_is_a_small_multiple_of_the_input() {
    // M2: an 8 MiB response (the shape a hostile host would pick: escapes
    // everywhere, so the decoded view is built) must not cost the host many
    // times its size outside the sandbox's limits.
    let s = Scrubber::new([SECRET, "another-secret-value"]);
    let chunk = "sk_live/Ab+9 %41\\u0041&#65;\n";
    let big = chunk.repeat((8 << 20) / chunk.len()).into_bytes();
    let (out, peak) = counting::peak_during(|| s.scrub(&big));
    assert_eq!(out, None);
    let per_byte = peak as f64 / big.len() as f64;
    println!(
        "scrubbing {} bytes: peak {} bytes allocated ({per_byte:.2} per input byte)",
        big.len(),
        peak
    );
    // Plain text with no escape at all needs no decoded view.
    let plain = "plain words, nothing to decode "
        .repeat((8 << 20) / 30)
        .into_bytes();
    let (_, plain_peak) = counting::peak_during(|| s.scrub(&plain));
    println!("plain {} bytes: peak {plain_peak} bytes", plain.len());
    assert!(per_byte < 6.0, "{per_byte:.2} bytes per input byte");
    assert!(plain_peak < plain.len() / 8, "{plain_peak}");
}
