use super::*;

fn console() -> Console {
    Console::from_files([
        ("index.html", &b"<!doctype html><title>Weft</title>"[..]),
        ("assets/index-abc123.js", &b"console.log(1)"[..]),
        ("assets/index-abc123.js.br", &b"BR"[..]),
        ("assets/index-abc123.js.gz", &b"GZ"[..]),
        ("favicon.svg", &b"<svg/>"[..]),
    ])
    .unwrap()
}

fn get(c: &Console, path: &str, headers: &[(&'static str, &'static str)]) -> Response<Bytes> {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, HeaderValue::from_static(v));
    }
    c.respond(&Method::GET, path, &h).unwrap()
}

#[test]
fn routes_get_the_index_and_missing_files_are_404() {
    let c = console();
    for path in ["/", "/runs", "/runs/run_1", "/workflows/wf_1/edit"] {
        let r = get(&c, path, &[]);
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.body().starts_with(b"<!doctype html>"), "{path}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    }
    for path in [
        "/assets/gone-123.js",
        "/assets/chunk",
        "/robots.txt",
        "/a/../index.html",
        "/a//b",
    ] {
        assert_eq!(get(&c, path, &[]).status(), 404, "{path}");
    }
    assert_eq!(c.len(), 3);
}

#[test]
fn hashed_assets_are_immutable_and_the_index_is_revalidated() {
    let c = console();
    let js = get(&c, "/assets/index-abc123.js", &[]);
    assert_eq!(js.headers()["cache-control"], IMMUTABLE);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(js.body().as_ref(), b"console.log(1)");
    for path in ["/", "/favicon.svg"] {
        assert_eq!(
            get(&c, path, &[]).headers()["cache-control"],
            "no-cache",
            "{path}"
        );
    }
}

#[test]
fn an_unchanged_file_answers_304() {
    let c = console();
    let first = get(&c, "/", &[]);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let mut h = HeaderMap::new();
    h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
    let again = c.respond(&Method::GET, "/", &h).unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());
    h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
    assert_eq!(c.respond(&Method::GET, "/", &h).unwrap().status(), 200);
}

#[test]
fn the_best_accepted_encoding_is_sent() {
    let c = console();
    let path = "/assets/index-abc123.js";
    let br = get(&c, path, &[("accept-encoding", "gzip, deflate, br")]);
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.body().as_ref(), b"BR");
    assert_eq!(br.headers()["vary"], "accept-encoding");
    let gz = get(&c, path, &[("accept-encoding", "gzip, br;q=0")]);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.body().as_ref(), b"GZ");
    let plain = get(&c, path, &[("accept-encoding", "identity")]);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.body().as_ref(), b"console.log(1)");
    assert_eq!(plain.headers()["content-length"], "14");
}

#[test]
fn every_answer_carries_the_security_headers() {
    let c = console();
    for path in ["/", "/assets/index-abc123.js", "/missing.js"] {
        let r = get(&c, path, &[]);
        assert_eq!(r.headers()["content-security-policy"], CSP, "{path}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    assert!(CSP.contains("script-src 'self';") && CSP.contains("frame-ancestors 'none'"));
}

#[test]
fn head_has_no_body_and_other_methods_are_not_the_consoles() {
    let c = console();
    let head = c.respond(&Method::HEAD, "/", &HeaderMap::new()).unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    assert!(c.respond(&Method::POST, "/", &HeaderMap::new()).is_none());
}

#[test]
fn a_folder_without_an_index_is_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("weft-console-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("assets/a.js"), "1").unwrap();
    let err = Console::from_dir(&dir).unwrap_err();
    assert!(err.to_string().contains("has no index.html"), "{err}");
    std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
    let c = Console::from_dir(&dir).unwrap();
    assert_eq!(get(&c, "/assets/a.js", &[]).status(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}
