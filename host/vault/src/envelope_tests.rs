use super::*;

fn bind<'a>(tenant_id: &'a str, credential_id: &'a str) -> Binding<'a> {
    Binding {
        tenant_id,
        credential_id,
        name: "slack",
        hosts: &[],
        injection: r#"{"type":"bearer"}"#,
    }
}

/// The positional form the older tests were written in.
trait At {
    fn seal_at(&self, t: &str, w: &[u8], c: &str, p: &[u8]) -> Result<Sealed>;
    fn open_at(
        &self,
        t: &str,
        w: &[u8],
        c: &str,
        n: &[u8],
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>>;
}

impl At for Keyring {
    fn seal_at(&self, t: &str, w: &[u8], c: &str, p: &[u8]) -> Result<Sealed> {
        self.seal(w, &bind(t, c), p)
    }
    fn open_at(
        &self,
        t: &str,
        w: &[u8],
        c: &str,
        n: &[u8],
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let sealed = Sealed {
            nonce: n.to_vec(),
            ciphertext: ct.to_vec(),
        };
        self.open(w, &bind(t, c), BINDING_VERSION, &sealed)
    }
}

fn sealed(ring: &Keyring) -> (Vec<u8>, Sealed) {
    let wrapped = ring.new_tenant_key("ten_a").unwrap();
    let sealed = ring
        .seal_at("ten_a", &wrapped, "cred_1", b"s3cret")
        .unwrap();
    (wrapped, sealed)
}

#[test]
fn seal_then_open_round_trips() {
    let ring = Keyring::generate().unwrap();
    let (wrapped, s) = sealed(&ring);
    assert_eq!(wrapped.len(), ring.current_id().len() + 1 + WRAPPED_BODY);
    assert!(wrapped.starts_with(format!("{}:", ring.current_id()).as_bytes()));
    assert_eq!(s.nonce.len(), NONCE_LEN);
    assert_eq!(s.ciphertext.len(), b"s3cret".len() + TAG_LEN);
    assert!(!s.ciphertext.windows(6).any(|w| w == b"s3cret"));
    let open = ring
        .open_at("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&open[..], b"s3cret");
    // Empty secrets and fresh nonces each time.
    let empty = ring.seal_at("ten_a", &wrapped, "cred_2", b"").unwrap();
    assert_eq!(
        &ring
            .open_at("ten_a", &wrapped, "cred_2", &empty.nonce, &empty.ciphertext)
            .unwrap()[..],
        b""
    );
    assert_ne!(empty.nonce, s.nonce);
    assert_eq!(format!("{s:?}"), "Sealed(22 bytes)");
}

#[test]
fn tenant_keys_are_random() {
    let ring = Keyring::generate().unwrap();
    let a = ring.new_tenant_key("ten_a").unwrap();
    let b = ring.new_tenant_key("ten_a").unwrap();
    assert_ne!(a, b);
    assert_ne!(
        *ring.unwrap("ten_a", &a).unwrap(),
        *ring.unwrap("ten_a", &b).unwrap()
    );
}

#[test]
fn moved_or_tampered_data_does_not_open() {
    let ring = Keyring::generate().unwrap();
    let (wrapped, s) = sealed(&ring);
    let open = |tenant: &str, w: &[u8], cred: &str, n: &[u8], c: &[u8]| {
        ring.open_at(tenant, w, cred, n, c).map(|p| p.to_vec())
    };
    // The tenant key of another tenant, or ours claimed by another tenant.
    let other = ring.new_tenant_key("ten_b").unwrap();
    assert!(matches!(
        open("ten_b", &wrapped, "cred_1", &s.nonce, &s.ciphertext),
        Err(Error::Unwrap { tenant_id }) if tenant_id == "ten_b"
    ));
    assert!(matches!(
        open("ten_a", &other, "cred_1", &s.nonce, &s.ciphertext),
        Err(Error::Unwrap { .. })
    ));
    // Another tenant's (valid) key cannot open our ciphertext.
    let err = open("ten_b", &other, "cred_1", &s.nonce, &s.ciphertext).unwrap_err();
    assert!(matches!(err, Error::Open { .. }), "{err}");
    // Another credential id.
    let err = open("ten_a", &wrapped, "cred_2", &s.nonce, &s.ciphertext).unwrap_err();
    assert_eq!(
        err.to_string(),
        "credential metadata does not match its seal: credential `cred_2` of tenant `ten_a` does not open (its name, hosts or injection were changed outside Weft, or it was tampered with or sealed for another tenant, credential or key)"
    );
    // Every single flipped bit of nonce or ciphertext, and truncation.
    for i in 0..s.nonce.len() {
        let mut n = s.nonce.clone();
        n[i] ^= 1;
        assert!(matches!(
            open("ten_a", &wrapped, "cred_1", &n, &s.ciphertext),
            Err(Error::Open { .. })
        ));
    }
    for i in 0..s.ciphertext.len() {
        let mut c = s.ciphertext.clone();
        c[i] ^= 0x80;
        assert!(matches!(
            open("ten_a", &wrapped, "cred_1", &s.nonce, &c),
            Err(Error::Open { .. })
        ));
    }
    let short = &s.ciphertext[..s.ciphertext.len() - 1];
    assert!(open("ten_a", &wrapped, "cred_1", &s.nonce, short).is_err());
    assert!(open("ten_a", &wrapped, "cred_1", &s.nonce[..23], &s.ciphertext).is_err());
    assert!(open("ten_a", &wrapped, "cred_1", &s.nonce, &[]).is_err());
    // A tampered wrapped key.
    let id_len = ring.current_id().len() + 1;
    for i in id_len..wrapped.len() {
        let mut w = wrapped.clone();
        w[i] ^= 1;
        assert!(matches!(
            open("ten_a", &w, "cred_1", &s.nonce, &s.ciphertext),
            Err(Error::Unwrap { .. })
        ));
    }
}

#[test]
fn malformed_wrapped_keys_are_refused() {
    let ring = Keyring::generate().unwrap();
    let (wrapped, s) = sealed(&ring);
    let id_len = ring.current_id().len();
    let long_id = [b"k".repeat(40), b":".to_vec(), vec![0; WRAPPED_BODY]].concat();
    let cases: [(&[u8], &str); 6] = [
        (b"", "no master key id"),
        (&[0u8; 73], "no master key id"),
        (&wrapped[..wrapped.len() - 1], "wrong length"),
        (&[wrapped.as_slice(), b"x"].concat(), "wrong length"),
        (
            &[b"k y".as_slice(), &wrapped[id_len..]].concat(),
            "bad master key id",
        ),
        (&long_id, "no master key id"),
    ];
    for (w, want) in cases {
        let err = ring
            .open_at("ten_a", w, "cred_1", &s.nonce, &s.ciphertext)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("malformed wrapped tenant key: {want}")
        );
    }
    assert!(Keyring::wrapped_by(b":").is_err());
    assert_eq!(Keyring::wrapped_by(&wrapped).unwrap(), ring.current_id());
}

#[test]
fn rotation_keeps_old_keys_working_until_retired() {
    let mut ring = Keyring::generate().unwrap();
    let first = ring.current_id().to_owned();
    let (wrapped, s) = sealed(&ring);
    assert!(ring.is_current(&wrapped).unwrap());

    let second = ring.rotate().unwrap().to_owned();
    assert!(!ring.is_current(&wrapped).unwrap());
    let opened = ring
        .open_at("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&opened[..], b"s3cret");

    // Rewrapping changes the wrapping, not the data key: old ciphertexts open.
    let rewrapped = ring.rewrap("ten_a", &wrapped).unwrap();
    assert_eq!(Keyring::wrapped_by(&rewrapped).unwrap(), second);
    assert!(ring.is_current(&rewrapped).unwrap());
    let opened = ring
        .open_at("ten_a", &rewrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&opened[..], b"s3cret");
    assert!(ring.rewrap("ten_b", &wrapped).is_err());

    // New keys are wrapped by the current master key.
    assert_eq!(
        Keyring::wrapped_by(&ring.new_tenant_key("ten_c").unwrap()).unwrap(),
        second
    );

    // Without the old master key: a clear error naming it; rewrapped keys still work.
    ring.retire(&first).unwrap();
    let err = ring
        .open_at("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap_err();
    assert!(matches!(&err, Error::UnknownKey { id } if *id == first));
    assert!(
        err.to_string()
            .contains(&format!("master key `{first}` is not in the keyring")),
        "{err}"
    );
    let opened = ring
        .open_at("ten_a", &rewrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&opened[..], b"s3cret");
}

#[test]
fn a_reloaded_keyring_opens_what_it_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    let mut ring = Keyring::load_or_generate(&path).unwrap();
    let (wrapped, s) = sealed(&ring);
    ring.rotate().unwrap();
    ring.save(&path).unwrap();
    let back = Keyring::load(&path).unwrap();
    let opened = back
        .open_at("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&opened[..], b"s3cret");
    // A different keyring (another installation) cannot.
    let other = Keyring::generate().unwrap();
    assert!(matches!(
        other.open_at("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext),
        Err(Error::UnknownKey { .. })
    ));
}

#[test]
fn associated_data_is_unambiguous() {
    assert_ne!(
        aad(SEAL_LABEL_V2, &["ab", "c"]),
        aad(SEAL_LABEL_V2, &["a", "bc"])
    );
    assert_ne!(
        aad(SEAL_LABEL_V2, &["a", "b"]),
        aad(WRAP_LABEL, &["a", "b"])
    );
    assert_ne!(
        aad(SEAL_LABEL_V1, &["a", "b"]),
        aad(SEAL_LABEL_V2, &["a", "b"])
    );
    // Hosts: one "a,b" is not two "a" and "b"; a host is not moved into the name.
    let one = ["a,b".to_owned()];
    let two = ["a".to_owned(), "b".to_owned()];
    assert_ne!(
        Binding {
            hosts: &one,
            ..bind("t", "c")
        }
        .aad(2),
        Binding {
            hosts: &two,
            ..bind("t", "c")
        }
        .aad(2)
    );
    assert_eq!(bind("t", "c").aad(3), None);
}

fn hosts(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_binding_is_authenticated_hosts_in_any_order() {
    let ring = Keyring::generate().unwrap();
    let wrapped = ring.new_tenant_key("ten_a").unwrap();
    let bound = hosts(&["api.slack.com", "*.slack.com"]);
    let b = Binding {
        hosts: &bound,
        ..bind("ten_a", "cred_1")
    };
    let s = ring.seal(&wrapped, &b, b"s3cret").unwrap();
    let open = |b: &Binding<'_>| {
        ring.open(&wrapped, b, BINDING_VERSION, &s)
            .map(|p| p.to_vec())
    };
    assert_eq!(open(&b).unwrap(), b"s3cret");
    // Order and duplicates of the hosts do not matter.
    let same = hosts(&["*.slack.com", "api.slack.com", "*.slack.com"]);
    assert_eq!(open(&Binding { hosts: &same, ..b }).unwrap(), b"s3cret");
    // Any change to hosts, injection or name does not open, with the message.
    let evil = hosts(&["evil.example"]);
    let more = hosts(&["api.slack.com", "*.slack.com", "evil.example"]);
    let fewer = hosts(&["api.slack.com"]);
    for changed in [
        Binding { hosts: &evil, ..b },
        Binding { hosts: &more, ..b },
        Binding { hosts: &fewer, ..b },
        Binding { hosts: &[], ..b },
        Binding {
            injection: r#"{"type":"query","param":"k"}"#,
            ..b
        },
        Binding {
            name: "github",
            ..b
        },
    ] {
        let err = open(&changed).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("credential metadata does not match its seal"),
            "{err}"
        );
    }
    // An unknown binding version is named.
    let err = ring.open(&wrapped, &b, 9, &s).unwrap_err();
    assert!(matches!(err, Error::BindingVersion(9)), "{err}");
}

#[test]
fn reseal_moves_a_version_1_seal_to_the_current_binding() {
    let ring = Keyring::generate().unwrap();
    let wrapped = ring.new_tenant_key("ten_a").unwrap();
    let bound = hosts(&["api.slack.com"]);
    let b = Binding {
        hosts: &bound,
        ..bind("ten_a", "cred_1")
    };
    // What a build before binding version 2 wrote: (tenant, credential) only.
    let key = ring.unwrap("ten_a", &wrapped).unwrap();
    let n = [7u8; NONCE_LEN];
    let v1 = Sealed {
        nonce: n.to_vec(),
        ciphertext: cipher(&key)
            .encrypt(
                &XNonce::from(n),
                Payload {
                    msg: b"s3cret".as_slice(),
                    aad: &aad(SEAL_LABEL_V1, &["ten_a", "cred_1"]),
                },
            )
            .unwrap(),
    };
    assert_eq!(&ring.open(&wrapped, &b, 1, &v1).unwrap()[..], b"s3cret");
    // A version-1 seal does not open as version 2 (no downgrade to skip the binding).
    assert!(ring.open(&wrapped, &b, BINDING_VERSION, &v1).is_err());
    let v2 = ring.reseal(&wrapped, &b, 1, &v1, &b).unwrap();
    assert_eq!(
        &ring.open(&wrapped, &b, BINDING_VERSION, &v2).unwrap()[..],
        b"s3cret"
    );
    assert!(ring.open(&wrapped, &b, 1, &v2).is_err());
    // Rebinding (a change through Weft) re-seals under the new hosts only.
    let moved = hosts(&["hooks.slack.com"]);
    let nb = Binding { hosts: &moved, ..b };
    let v3 = ring
        .reseal(&wrapped, &b, BINDING_VERSION, &v2, &nb)
        .unwrap();
    assert_eq!(
        &ring.open(&wrapped, &nb, BINDING_VERSION, &v3).unwrap()[..],
        b"s3cret"
    );
    assert!(ring.open(&wrapped, &b, BINDING_VERSION, &v3).is_err());
    // Resealing needs the old binding to open.
    assert!(
        ring.reseal(&wrapped, &nb, BINDING_VERSION, &v2, &nb)
            .is_err()
    );
}
