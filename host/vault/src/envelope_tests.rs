use super::*;

fn sealed(ring: &Keyring) -> (Vec<u8>, Sealed) {
    let wrapped = ring.new_tenant_key("ten_a").unwrap();
    let sealed = ring.seal("ten_a", &wrapped, "cred_1", b"s3cret").unwrap();
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
        .open("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&open[..], b"s3cret");
    // Empty secrets and fresh nonces each time.
    let empty = ring.seal("ten_a", &wrapped, "cred_2", b"").unwrap();
    assert_eq!(
        &ring
            .open("ten_a", &wrapped, "cred_2", &empty.nonce, &empty.ciphertext)
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
        ring.open(tenant, w, cred, n, c).map(|p| p.to_vec())
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
        "credential `cred_2` of tenant `ten_a` does not open (tampered, or sealed for another tenant, credential or key)"
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
            .open("ten_a", w, "cred_1", &s.nonce, &s.ciphertext)
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
        .open("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&opened[..], b"s3cret");

    // Rewrapping changes the wrapping, not the data key: old ciphertexts open.
    let rewrapped = ring.rewrap("ten_a", &wrapped).unwrap();
    assert_eq!(Keyring::wrapped_by(&rewrapped).unwrap(), second);
    assert!(ring.is_current(&rewrapped).unwrap());
    let opened = ring
        .open("ten_a", &rewrapped, "cred_1", &s.nonce, &s.ciphertext)
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
        .open("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap_err();
    assert!(matches!(&err, Error::UnknownKey { id } if *id == first));
    assert!(
        err.to_string()
            .contains(&format!("master key `{first}` is not in the keyring")),
        "{err}"
    );
    let opened = ring
        .open("ten_a", &rewrapped, "cred_1", &s.nonce, &s.ciphertext)
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
        .open("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext)
        .unwrap();
    assert_eq!(&opened[..], b"s3cret");
    // A different keyring (another installation) cannot.
    let other = Keyring::generate().unwrap();
    assert!(matches!(
        other.open("ten_a", &wrapped, "cred_1", &s.nonce, &s.ciphertext),
        Err(Error::UnknownKey { .. })
    ));
}

#[test]
fn associated_data_is_unambiguous() {
    assert_ne!(aad(SEAL_LABEL, &["ab", "c"]), aad(SEAL_LABEL, &["a", "bc"]));
    assert_ne!(aad(SEAL_LABEL, &["a", "b"]), aad(WRAP_LABEL, &["a", "b"]));
}
