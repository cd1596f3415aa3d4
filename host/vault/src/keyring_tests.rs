use super::*;

#[test]
fn file_round_trip_keeps_ids_order_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.keys");
    let mut ring = Keyring::generate().unwrap();
    ring.rotate().unwrap();
    ring.rotate().unwrap();
    ring.save(&path).unwrap();
    let back = Keyring::load(&path).unwrap();
    assert_eq!(
        back.ids().collect::<Vec<_>>(),
        ring.ids().collect::<Vec<_>>()
    );
    for id in ring.ids() {
        assert_eq!(*back.key(id).unwrap().key, *ring.key(id).unwrap().key);
    }
    assert_eq!(back.current_id(), ring.current_id());
}

#[cfg(unix)]
#[test]
fn file_is_private_and_created_once() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.keys");
    let first = Keyring::load_or_generate(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let second = Keyring::load_or_generate(&path).unwrap();
    assert_eq!(first.current_id(), second.current_id());
    assert_eq!(*first.current().key, *second.current().key);
    // Saving again replaces the file and keeps it private; no temp file is left.
    let mut third = second;
    third.rotate().unwrap();
    third.save(&path).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(Keyring::load(&path).unwrap().ids().count(), 2);
}

#[test]
fn bad_files_are_refused_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let key = STANDARD.encode([7u8; 32]);
    let cases = [
        ("# only a comment\n\n".to_owned(), "line 0: no key"),
        (
            format!("a:{key}\nnocolon\n"),
            "line 2: expected `id:base64`",
        ),
        (format!("a:{key}\na:{key}\n"), "line 2: key id `a` repeats"),
        (format!("bad id:{key}\n"), "line 1: key id must be"),
        (
            "a:c2hvcnQ=\n".to_owned(),
            "line 1: key is not base64 of 32 bytes",
        ),
        (
            format!("a:{key}{key}\n"),
            "line 1: key is not base64 of 32 bytes",
        ),
        (
            "a:!!!\n".to_owned(),
            "line 1: key is not base64 of 32 bytes",
        ),
    ];
    for (text, want) in cases {
        fs::write(&path, &text).unwrap();
        let err = Keyring::load(&path).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
        assert!(!err.contains(&key), "{err}");
    }
    fs::write(&path, format!("\n# c\n  k1:{key}  \nk0:{key}\n")).unwrap();
    let ring = Keyring::load(&path).unwrap();
    assert_eq!(ring.ids().collect::<Vec<_>>(), ["k1", "k0"]);
    assert!(matches!(
        Keyring::load(&dir.path().join("absent")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn debug_shows_ids_not_keys() {
    let mut ring = Keyring::generate().unwrap();
    ring.rotate().unwrap();
    let shown = format!("{ring:?}");
    for id in ring.ids() {
        assert!(shown.contains(id), "{shown}");
    }
    let key = STANDARD.encode(&ring.current().key[..]);
    assert!(!shown.contains(&key) && !shown.contains(&format!("{:?}", &ring.current().key[..4])));
}

#[test]
fn retire_keeps_the_current_key() {
    let mut ring = Keyring::generate().unwrap();
    let old = ring.current_id().to_owned();
    let new = ring.rotate().unwrap().to_owned();
    assert_ne!(old, new);
    assert!(valid_id(&new) && new.len() == 9);
    assert!(
        ring.retire(&new)
            .unwrap_err()
            .to_string()
            .contains("is current")
    );
    ring.retire(&old).unwrap();
    assert!(
        ring.retire(&old)
            .unwrap_err()
            .to_string()
            .contains("not in the keyring")
    );
    assert_eq!(ring.ids().collect::<Vec<_>>(), [new.as_str()]);
}
