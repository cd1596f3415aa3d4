//! The registry as a plugin author and a tenant use it: the real `weft`
//! binary against a real `weft serve` (SQLite, blobs on disk). Keygen writes
//! a 0600 key file and refuses to overwrite it; a built component is
//! published (progress, the server's checks, the disclosure in plain words),
//! found, shown, installed with `--yes`, upgraded with re-consent when 0.2.0
//! reaches one more host, yanked; a refused publish prints the server's code,
//! message and every problem with its path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// `weft ARGS` with HOME at `home` and no inherited WEFT_*/XDG settings.
fn weft(home: &Path, server: Option<(&str, &str)>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    for (k, _) in std::env::vars() {
        if k.starts_with("WEFT_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("XDG_CONFIG_HOME")
        .env("HOME", home)
        .args(args);
    if let Some((base, key)) = server {
        cmd.env("WEFT_SERVER", base).env("WEFT_API_KEY", key);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn component(name: &str) -> String {
    let p = weft_tests::wasm_dir().join(format!("{name}.wasm"));
    assert!(p.exists(), "{} missing: run scripts/test", p.display());
    p.display().to_string()
}

#[cfg(unix)]
#[test]
fn keygen_writes_a_private_key_file_and_never_overwrites_it() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let out = ok(weft(
        home.path(),
        None,
        &["plugin", "keygen", "--publisher", "acme"],
    ));
    let path = home.path().join(".config/weft/keys/acme.key");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let key = weft_registry::sign::read_key_file(&path).unwrap();
    assert_eq!(key.publisher, "acme");
    assert!(
        out.contains(&format!("public key: {}", key.key.public_hex())),
        "{out}"
    );
    assert!(
        out.contains(&format!("key id:     {}", key.key.key_id())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "weft registry publisher key add acme --public-key {}",
            key.key.public_hex()
        )),
        "{out}"
    );

    let again = weft(
        home.path(),
        None,
        &["plugin", "keygen", "--publisher", "acme"],
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("is never overwritten"),
        "{}",
        text(&again)
    );
    let same = weft_registry::sign::read_key_file(&path).unwrap();
    assert_eq!(same.key.public(), key.key.public(), "the first key is kept");

    let bad = weft(
        home.path(),
        None,
        &["plugin", "keygen", "--publisher", "Acme!"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("--publisher"), "{}", text(&bad));
}

#[test]
fn publish_search_show_install_upgrade_yank_as_an_author_and_a_tenant() {
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let serve = common::Serve::start(data.path(), true, "fixture_trivial", &[]);
    let key = serve.key.clone().unwrap();
    let s = Some((serve.base.as_str(), key.as_str()));
    let h = home.path();

    ok(weft(h, s, &["registry", "publisher", "create", "acme"]));
    ok(weft(h, None, &["plugin", "keygen", "--publisher", "acme"]));
    let key_file = h.join(".config/weft/keys/acme.key");
    let added = ok(weft(
        h,
        s,
        &[
            "registry",
            "publisher",
            "key",
            "add",
            "acme",
            "--key",
            key_file.to_str().unwrap(),
        ],
    ));
    assert!(added.contains("added key "), "{added}");

    let readme = h.join("README.md");
    std::fs::write(&readme, "# greeter\n\nSays hello to whoever asks.\n").unwrap();
    let v1 = component("fixture_greeter");
    let size = std::fs::metadata(&v1).unwrap().len();
    let o = weft(
        h,
        s,
        &[
            "plugin",
            "publish",
            &v1,
            "--publisher",
            "acme",
            "--license",
            "MIT",
            "--keyword",
            "greeting",
            "--readme",
            readme.to_str().unwrap(),
        ],
    );
    let all = text(&o);
    assert!(o.status.success(), "{all}");
    assert!(
        all.contains(&format!("{size} / {size} bytes")),
        "the upload's progress: {all}"
    );
    assert!(
        all.contains("published acme/greeter@0.1.0 (sha256:"),
        "{all}"
    );
    assert!(all.contains("the signature, with key "), "{all}");
    assert!(all.contains("  - calls 127.0.0.1"), "the disclosure: {all}");
    assert!(all.contains("  - keeps no state"), "{all}");

    let found = ok(weft(h, s, &["registry", "search", "greeter"]));
    assert!(found.contains("acme/greeter"), "{found}");
    assert!(found.contains("0.1.0"), "{found}");
    let none = ok(weft(
        h,
        s,
        &["registry", "search", "greeter", "--no-network"],
    ));
    assert!(!none.contains("acme/greeter"), "it calls a host: {none}");

    let shown = ok(weft(h, s, &["registry", "show", "acme/greeter"]));
    assert!(shown.contains("acme/greeter 0.1.0  connector"), "{shown}");
    assert!(shown.contains("  - calls 127.0.0.1"), "{shown}");
    assert!(shown.contains("consent digest: sha256:"), "{shown}");
    assert!(
        shown.contains("Says hello to whoever asks."),
        "the README: {shown}"
    );

    // Without --yes and without a terminal, nothing is installed.
    let refused = weft(h, s, &["registry", "install", "acme/greeter"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("pass --yes"), "{}", text(&refused));
    assert!(!ok(weft(h, s, &["registry", "installs"])).contains("acme/greeter"));

    let installed = ok(weft(
        h,
        s,
        &["registry", "install", "acme/greeter", "--yes"],
    ));
    assert!(
        installed.contains("  - calls 127.0.0.1"),
        "shown before: {installed}"
    );
    assert!(
        installed.contains("installed acme/greeter as `greeter`"),
        "{installed}"
    );
    let list = ok(weft(h, s, &["registry", "installs", "--json"]));
    let list: weft_model::List<weft_model::registry::Install> =
        serde_json::from_str(&list).unwrap();
    assert_eq!(list.items.len(), 1);
    let detail: weft_model::registry::Version = serde_json::from_str(&ok(weft(
        h,
        s,
        &["registry", "show", "acme/greeter@0.1.0", "--json"],
    )))
    .unwrap();
    assert_eq!(
        list.items[0].consent_digest, detail.disclosure_digest,
        "the consent sent is the digest shown"
    );

    // 0.2.0 reaches api.example.com too: the upgrade shows it and asks.
    let v2 = component("fixture_greeter_v2");
    ok(weft(
        h,
        s,
        &[
            "plugin",
            "publish",
            &v2,
            "--publisher",
            "acme",
            "--license",
            "MIT",
        ],
    ));
    let up = ok(weft(
        h,
        s,
        &[
            "registry",
            "upgrade",
            "greeter",
            "--version",
            "0.2.0",
            "--yes",
        ],
    ));
    assert!(
        up.contains("0.1.0 -> 0.2.0 reaches more than you consented to"),
        "{up}"
    );
    assert!(up.contains("api.example.com"), "{up}");
    assert!(up.contains("now runs 0.2.0"), "{up}");

    let yanked = ok(weft(h, s, &["registry", "yank", "acme/greeter@0.1.0"]));
    assert!(yanked.contains("yanked acme/greeter@0.1.0"), "{yanked}");
    let shown = ok(weft(h, s, &["registry", "show", "acme/greeter"]));
    assert!(
        shown
            .lines()
            .any(|l| l.contains("0.1.0") && l.contains("yanked")),
        "{shown}"
    );
}

#[test]
fn a_refused_publish_prints_the_code_the_message_and_every_problem_with_its_path() {
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let serve = common::Serve::start(data.path(), true, "fixture_trivial", &[]);
    let key = serve.key.clone().unwrap();
    let s = Some((serve.base.as_str(), key.as_str()));
    let h = home.path();
    for p in ["acme", "other"] {
        ok(weft(h, s, &["registry", "publisher", "create", p]));
        ok(weft(h, None, &["plugin", "keygen", "--publisher", p]));
        let f = h.join(format!(".config/weft/keys/{p}.key"));
        ok(weft(
            h,
            s,
            &[
                "registry",
                "publisher",
                "key",
                "add",
                p,
                "--key",
                f.to_str().unwrap(),
            ],
        ));
    }

    // A template whose workflow names a connector the server does not have.
    let doc = serde_json::json!({
        "name": "pinger", "description": "Pings.", "category": "demo",
        "difficulty": "beginner",
        "parameters": {"type": "object", "properties": {}},
        "definition": {"name": "pinger", "steps": [
            {"id": "ping", "kind": "action", "connector": "nosuch", "action": "go", "input": {}}
        ]}
    });
    let file = h.join("pinger.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let o = weft(
        h,
        s,
        &[
            "templates",
            "publish",
            file.to_str().unwrap(),
            "--version",
            "1.0.0",
            "--publisher",
            "acme",
            "--license",
            "MIT",
        ],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("error: invalid_template: "), "{all}");
    assert!(
        all.lines()
            .any(|l| l.starts_with("  /definition/steps/0") && l.contains("nosuch")),
        "each problem with its path: {all}"
    );

    // A name confusable with another publisher's package is refused, naming it.
    ok(weft(
        h,
        s,
        &[
            "plugin",
            "publish",
            &component("fixture_greeter"),
            "--publisher",
            "acme",
            "--license",
            "MIT",
        ],
    ));
    let o = weft(
        h,
        s,
        &[
            "plugin",
            "publish",
            &component("fixture_greeter_v2"),
            "--publisher",
            "other",
            "--license",
            "MIT",
        ],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("error: name_confusable: "), "{all}");
    assert!(all.contains("acme/greeter"), "{all}");

    // A key of another publisher is refused before anything is sent.
    let other_key = h.join(".config/weft/keys/other.key");
    let o = weft(
        h,
        s,
        &[
            "plugin",
            "publish",
            &component("fixture_greeter_v2"),
            "--publisher",
            "acme",
            "--key",
            other_key.to_str().unwrap(),
            "--license",
            "MIT",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is a key of publisher `other`"),
        "{}",
        text(&o)
    );
}

/// The whole author path with nothing prebuilt: `weft plugin new` scaffolds
/// a connector, `weft plugin publish --build` builds it, signs and publishes
/// it; a tenant finds it, installs it with `--yes` and runs it in a workflow,
/// and the run records the digest that was published.
#[test]
fn scaffold_build_publish_install_and_run_a_new_connector() {
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let serve = common::Serve::start(data.path(), true, "fixture_trivial", &[]);
    let key = serve.key.clone().unwrap();
    let s = Some((serve.base.as_str(), key.as_str()));
    let h = home.path();

    ok(weft(
        h,
        None,
        &["plugin", "new", "hello-conn", "--dir", h.to_str().unwrap()],
    ));
    let krate = h.join("hello-conn");
    // The versions the workspace built already (the shared target directory).
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"),
        krate.join("Cargo.lock"),
    )
    .unwrap();
    ok(weft(h, s, &["registry", "publisher", "create", "hello"]));
    ok(weft(h, None, &["plugin", "keygen", "--publisher", "hello"]));
    let key_file = h.join(".config/weft/keys/hello.key");
    ok(weft(
        h,
        s,
        &[
            "registry",
            "publisher",
            "key",
            "add",
            "hello",
            "--key",
            key_file.to_str().unwrap(),
        ],
    ));
    let mut publish = Command::new(env!("CARGO_BIN_EXE_weft"));
    publish
        .current_dir(&krate)
        .env("HOME", h)
        .env_remove("XDG_CONFIG_HOME")
        .env("WEFT_SERVER", &serve.base)
        .env("WEFT_API_KEY", &key)
        .args([
            "plugin",
            "publish",
            "--build",
            "--publisher",
            "hello",
            "--license",
            "MIT",
        ]);
    let published = ok(publish.output().unwrap());
    assert!(
        published.contains("published hello/hello-conn@0.1.0"),
        "{published}"
    );
    let digest = published
        .split("published hello/hello-conn@0.1.0 (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap()
        .to_owned();

    let found = ok(weft(h, s, &["registry", "search", "hello"]));
    assert!(found.contains("hello/hello-conn"), "{found}");
    let installed = ok(weft(
        h,
        s,
        &["registry", "install", "hello/hello-conn", "--yes"],
    ));
    assert!(
        installed.contains("installed hello/hello-conn"),
        "{installed}"
    );

    let client = weft_client::Client::new(&serve.base, Some(&key)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = rt.block_on(async {
        let def = serde_json::json!({"name": "hi", "steps": [
            {"id": "greet", "kind": "action", "connector": "hello-conn", "action": "greet",
             "input": {"name": "{{ trigger.body.name }}"}}
        ]});
        let wf = client
            .create_workflow(weft_client::Definition::Json(&def))
            .await
            .unwrap_or_else(|e| panic!("a workflow naming the installed connector: {e}"));
        let started = client
            .start_run(
                &wf.id,
                &weft_model::StartRun {
                    input: serde_json::json!({"name": "Ada"}),
                    until: None,
                },
                &weft_model::StartQuery::default(),
            )
            .await
            .unwrap();
        loop {
            let run = client.get_run(&started.id).await.unwrap();
            if run.status.is_terminal() {
                break run;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    assert_eq!(run.status, weft_model::Status::Completed, "{run:#?}");
    let step = run.step("greet").unwrap();
    assert_eq!(step.output.as_ref().unwrap()["message"], "Hello, Ada!");
    assert_eq!(step.attempts[0].digest.as_deref(), Some(digest.as_str()));
}

/// `weft plugin publish --build` for the other two languages: a Python and a
/// JavaScript scaffold are built by their SDKs' build commands, checked
/// locally, signed and published, with the licence and source read from
/// `pyproject.toml` and `package.json`. Needs the toolchains of
/// `scripts/python-plugins` and `scripts/js-plugins`.
#[test]
fn python_and_javascript_connectors_publish_with_build() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("WEFT_PY_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").unwrap()).join(".cache/weft/python-plugins-venv")
        });
    assert!(
        venv.join("bin/python3").exists(),
        "{}: no Python toolchain; make it with `scripts/python-plugins`",
        venv.display()
    );
    let sdk_js = repo.join("sdk/js").canonicalize().unwrap();
    assert!(
        sdk_js
            .join("node_modules/@bytecodealliance/componentize-js")
            .is_dir(),
        "{}: no JavaScript toolchain; install it with `scripts/js-plugins`",
        sdk_js.display()
    );
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let serve = common::Serve::start(data.path(), true, "fixture_trivial", &[]);
    let key = serve.key.clone().unwrap();
    let s = Some((serve.base.as_str(), key.as_str()));
    let h = home.path();
    ok(weft(h, s, &["registry", "publisher", "create", "poly"]));
    ok(weft(h, None, &["plugin", "keygen", "--publisher", "poly"]));
    let key_file = h.join(".config/weft/keys/poly.key");
    ok(weft(
        h,
        s,
        &[
            "registry",
            "publisher",
            "key",
            "add",
            "poly",
            "--key",
            key_file.to_str().unwrap(),
        ],
    ));

    for (lang, name) in [("python", "py-hello"), ("js", "js-hello")] {
        ok(weft(
            h,
            None,
            &[
                "plugin",
                "new",
                name,
                "--lang",
                lang,
                "--dir",
                h.to_str().unwrap(),
            ],
        ));
        let project = h.join(name);
        let source = format!("https://example.com/{name}");
        if lang == "python" {
            let file = project.join("pyproject.toml");
            let text = std::fs::read_to_string(&file).unwrap().replacen(
                "[project]\n",
                &format!("[project]\nlicense = \"MIT\"\nurls = {{ Repository = \"{source}\" }}\n"),
                1,
            );
            std::fs::write(&file, text).unwrap();
        } else {
            let file = project.join("package.json");
            let mut doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            doc["license"] = "MIT".into();
            doc["repository"] = serde_json::json!({"type": "git", "url": source});
            std::fs::write(&file, doc.to_string()).unwrap();
            // The local SDK in place of `npm install` (no network).
            std::fs::create_dir_all(project.join("node_modules/@weft")).unwrap();
            std::os::unix::fs::symlink(&sdk_js, project.join("node_modules/@weft/sdk")).unwrap();
        }
        let mut publish = Command::new(env!("CARGO_BIN_EXE_weft"));
        for (k, _) in std::env::vars() {
            if k.starts_with("WEFT_") {
                publish.env_remove(k);
            }
        }
        publish
            .current_dir(&project)
            .env("HOME", h)
            .env("PATH", &path)
            .env_remove("XDG_CONFIG_HOME")
            .env("WEFT_SERVER", &serve.base)
            .env("WEFT_API_KEY", &key)
            .args(["plugin", "publish", "--build", "--publisher", "poly"]);
        let published = ok(publish.output().unwrap());
        assert!(
            published.contains(&format!("published poly/{name}@0.1.0")),
            "{published}"
        );
        let shown = ok(weft(h, s, &["registry", "show", &format!("poly/{name}")]));
        assert!(
            shown.contains(&format!("license: MIT  source: {source}")),
            "{lang}: {shown}"
        );
    }
}
