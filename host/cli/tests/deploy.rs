#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The deployment files in `deploy/`: the image, the compose file, the
//! Kubernetes manifests and the systemd units parse, have the shape the
//! operator's guide describes, and every configuration they hand to `weft` (a
//! file plus `WEFT_*` variables) is accepted by the same loader the binary
//! uses. No container engine or cluster is needed: nothing is deployed.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use weft_cli::config::Settings;

const SUBCOMMANDS: [&str; 4] = ["api", "worker", "migrate", "serve"];

/// `WEFT_*` variables (and others) as a process would get them, in order.
type Env = Vec<(String, String)>;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    let p = repo().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn yaml(name: &str, text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn yaml_docs(name: &str, text: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

/// `KEY=VALUE` lines (an env file), without comments and blank lines.
fn env_file(text: &str) -> Env {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not KEY=VALUE: {l}"));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

/// `"45s"`, `"10min"`, `"2"` (seconds) as milliseconds.
fn duration_ms(text: &str) -> u64 {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .unwrap_or_else(|_| panic!("not a duration: {text}"));
    match unit.trim() {
        "" | "s" => n * 1000,
        "ms" => n,
        "m" | "min" => n * 60_000,
        other => panic!("unit {other:?} in {text}"),
    }
}

/// The host of `scheme://user:secret@host:port/path`.
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port.split(':').next().unwrap_or_default().to_owned()
}

fn settings(origin: &str, file: Option<(&str, &str)>, env: &[(String, String)]) -> Settings {
    Settings::from_parts(file, env.to_vec())
        .unwrap_or_else(|e| panic!("{origin}: weft refuses its configuration: {e}"))
}

/// A distributed deployment's settings: PostgreSQL, RabbitMQ and Redis set.
fn assert_distributed(origin: &str, s: &Settings) {
    assert!(
        weft_cli::config::is_postgres(&s.database.url),
        "{origin}: database.url {:?}",
        s.database.url
    );
    assert!(
        s.queue.url.starts_with("amqp://"),
        "{origin}: queue.url {:?}",
        s.queue.url
    );
    assert!(
        s.redis.url.starts_with("redis://"),
        "{origin}: redis.url {:?}",
        s.redis.url
    );
}

// ---------------------------------------------------------------- the image

/// What `deploy/Dockerfile`'s final stage gives every container.
struct Image {
    entrypoint: Vec<String>,
    env: Env,
    /// The default config file's path in the image and its text.
    config: (String, String),
    user: String,
    last_from: String,
    text: String,
}

fn image() -> Image {
    let text = read("deploy/Dockerfile");
    // Join continuation lines, drop comments.
    let mut lines = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let l = raw.trim();
        if l.starts_with('#') && cur.is_empty() {
            continue;
        }
        if let Some(head) = l.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(l);
            if !cur.trim().is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    let last_stage = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("a FROM line");
    let stage = &lines[last_stage..];
    let mut entrypoint = Vec::new();
    let mut env = Vec::new();
    let mut copies = Vec::new();
    let mut user = String::new();
    for l in stage {
        if let Some(json) = l.strip_prefix("ENTRYPOINT ") {
            entrypoint = serde_json::from_str(json).expect("ENTRYPOINT in exec form");
        } else if let Some(pairs) = l.strip_prefix("ENV ") {
            for p in pairs.split_whitespace() {
                let (k, v) = p.split_once('=').expect("ENV K=V");
                env.push((k.to_owned(), v.to_owned()));
            }
        } else if let Some(c) = l.strip_prefix("COPY ") {
            copies.push(c.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
        } else if let Some(u) = l.strip_prefix("USER ") {
            u.trim().clone_into(&mut user);
        }
    }
    let config_path = env
        .iter()
        .find(|(k, _)| k == "WEFT_CONFIG")
        .map(|(_, v)| v.clone())
        .expect("the image sets WEFT_CONFIG");
    let source = copies
        .iter()
        .find(|c| c.len() == 2 && c[1] == config_path)
        .map(|c| c[0].clone())
        .unwrap_or_else(|| panic!("no COPY of a file to {config_path}"));
    Image {
        entrypoint,
        env,
        config: (config_path, read(&source)),
        user,
        last_from: stage[0].clone(),
        text,
    }
}

/// The argv a container runs: its entrypoint (the image's unless replaced)
/// and command, with the binary's path dropped. Returns the subcommand and
/// the rest.
fn weft_argv(entrypoint: &[String], command: &[String]) -> (String, Vec<String>) {
    let argv: Vec<&String> = entrypoint.iter().chain(command).collect();
    let first = argv.first().map(|a| a.as_str()).unwrap_or_default();
    assert!(
        first == "weft" || first.ends_with("/weft"),
        "argv {argv:?} does not run weft"
    );
    let sub = argv.get(1).map(|a| (*a).clone()).unwrap_or_default();
    assert!(
        SUBCOMMANDS.contains(&sub.as_str()),
        "argv {argv:?}: subcommand {sub:?} is not one of {SUBCOMMANDS:?}"
    );
    (sub, argv[2..].iter().map(|a| (*a).clone()).collect())
}

#[test]
fn the_image_builds_the_connectors_and_runs_weft_as_a_non_root_user() {
    let img = image();
    assert!(
        img.text.contains("--target wasm32-wasip2"),
        "connectors built for wasm32-wasip2"
    );
    assert!(
        img.text
            .contains("cargo build --locked --release -p weft-cli")
    );
    assert!(
        img.last_from.starts_with("FROM debian:") && img.last_from.contains("-slim"),
        "runtime stage: {}",
        img.last_from
    );
    assert!(img.text.contains("ARG DEBIAN_RELEASE=bookworm"));
    assert!(
        img.text.contains("/out/ /usr/lib/weft/connectors/"),
        "connectors copied to /usr/lib/weft/connectors"
    );
    let uid = img.user.split(':').next().unwrap_or_default();
    assert!(
        !uid.is_empty() && uid != "0" && uid != "root",
        "USER {}",
        img.user
    );
    assert!(
        uid.parse::<u32>().is_ok(),
        "USER must be numeric for runAsNonRoot: {}",
        img.user
    );
    assert_eq!(img.entrypoint, ["/usr/bin/weft"]);
    let (name, text) = &img.config;
    let s = settings("the image", Some((name, text)), &img.env);
    assert_eq!(s.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(s.data_dir, Path::new("/var/lib/weft"));
    assert_eq!(s.plugins, [PathBuf::from("/usr/lib/weft/connectors")]);
    // Local secrets and build output stay out of the build context.
    let ignore = read("deploy/Dockerfile.dockerignore");
    for p in ["deploy/secrets", "deploy/.env", "**/target", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim() == p),
            "Dockerfile.dockerignore lacks {p}"
        );
    }
}

// ---------------------------------------------------------------- compose

/// Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
/// `${VAR?error}` and `$$`.
fn interpolate(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or("unclosed ${")?;
            let expr = &r[..end];
            rest = &r[end + 1..];
            let name_end = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let (name, op) = expr.split_at(name_end);
            let val = vars.get(name).cloned();
            let set = val.clone().filter(|v| !v.is_empty());
            out.push_str(&match op {
                "" => val.unwrap_or_default(),
                _ if op.starts_with(":-") => set.unwrap_or_else(|| op[2..].to_owned()),
                _ if op.starts_with('-') => val.unwrap_or_else(|| op[1..].to_owned()),
                _ if op.starts_with(":?") => set.ok_or(format!("{name}: {}", &op[2..]))?,
                _ if op.starts_with('?') => val.ok_or(format!("{name}: {}", &op[1..]))?,
                _ => return Err(format!("unsupported ${{{expr}}}")),
            });
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(vars.get(&rest[..end]).map_or("", String::as_str));
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// compose.yaml as `docker compose` sees it with `.env` = compose.env.example.
fn compose() -> Value {
    let vars: BTreeMap<_, _> = env_file(&read("deploy/compose.env.example"))
        .into_iter()
        .collect();
    let text = interpolate(&read("deploy/compose.yaml"), &vars).expect("interpolation");
    yaml("compose.yaml", &text)
}

/// The services running the weft image: name, subcommand, service.
fn compose_weft_services(c: &Value) -> Vec<(String, String, Value)> {
    let img = image();
    c["services"]
        .as_object()
        .expect("services")
        .iter()
        .filter(|(_, svc)| s(&svc["image"]).split(':').next() == Some("weft"))
        .map(|(name, svc)| {
            let entry = match &svc["entrypoint"] {
                Value::Null => img.entrypoint.clone(),
                e => strings(e),
            };
            let (sub, _) = weft_argv(&entry, &strings(&svc["command"]));
            (name.clone(), sub, svc.clone())
        })
        .collect()
}

#[test]
fn compose_runs_the_services_migrate_an_api_and_two_workers() {
    let c = compose();
    let services = c["services"].as_object().expect("services");
    for (name, image) in [
        ("postgres", "postgres:15"),
        ("rabbitmq", "rabbitmq:3"),
        ("redis", "redis:7"),
    ] {
        let svc = &services[name];
        assert!(
            s(&svc["image"]).starts_with(image),
            "{name}: image {}",
            svc["image"]
        );
        assert!(
            svc["healthcheck"]["test"].is_array(),
            "{name} has no healthcheck"
        );
    }
    let weft = compose_weft_services(&c);
    let count = |sub: &str| -> u64 {
        weft.iter()
            .filter(|(_, s, _)| s == sub)
            .map(|(_, _, svc)| svc["deploy"]["replicas"].as_u64().unwrap_or(1))
            .sum()
    };
    assert_eq!(count("migrate"), 1);
    assert!(count("api") >= 1);
    assert_eq!(count("worker"), 2, "two workers");
    assert!(
        weft.iter()
            .all(|(_, _, svc)| s(&svc["image"]) == "weft:latest")
    );
    assert!(
        weft.iter().any(|(_, sub, svc)| sub == "migrate"
            && s(&svc["build"]["dockerfile"]) == "deploy/Dockerfile"
            && s(&svc["build"]["context"]) == ".."),
        "migrate builds weft:latest from deploy/Dockerfile"
    );
    let grace = |svc: &Value| duration_ms(&s(&svc["stop_grace_period"]));
    for (name, sub, svc) in &weft {
        let deps = &svc["depends_on"];
        assert_eq!(
            s(&deps["postgres"]["condition"]),
            "service_healthy",
            "{name}"
        );
        if sub == "migrate" {
            assert_eq!(s(&svc["restart"]), "no", "{name} runs once");
        } else {
            assert_eq!(
                s(&deps["migrate"]["condition"]),
                "service_completed_successfully",
                "{name} waits for the migration"
            );
            for dep in ["rabbitmq", "redis"] {
                assert_eq!(
                    s(&deps[dep]["condition"]),
                    "service_healthy",
                    "{name} -> {dep}"
                );
            }
            let test = strings(&svc["healthcheck"]["test"]).join(" ");
            assert!(
                test.contains("http://127.0.0.1:8080/readyz"),
                "{name}: {test}"
            );
            assert_eq!(
                s(&svc["pull_policy"]),
                "never",
                "{name} must not pull weft:latest"
            );
        }
        assert_eq!(s(&svc["stop_signal"]), "SIGTERM", "{name}");
        assert!(grace(svc) > 30_000, "{name}: stop_grace_period");
    }
    let api = weft.iter().find(|(_, sub, _)| sub == "api").expect("api");
    assert!(
        strings(&api.2["ports"])
            .iter()
            .any(|p| p.ends_with(":8080")),
        "the API is published on 8080"
    );
    // Volumes for the stateful services, declared at the top level.
    for (svc, vol) in [("postgres", "pgdata"), ("rabbitmq", "rabbitmq-data")] {
        assert!(
            strings(&services[svc]["volumes"])
                .iter()
                .any(|v| v.starts_with(&format!("{vol}:"))),
            "{svc} keeps its data in {vol}"
        );
        assert!(c["volumes"].as_object().expect("volumes").contains_key(vol));
    }
}

#[test]
fn compose_hands_weft_a_configuration_it_accepts_and_one_keyring() {
    let c = compose();
    let img = image();
    let names: BTreeSet<String> = c["services"]
        .as_object()
        .expect("services")
        .keys()
        .cloned()
        .collect();
    let keyring_secret = &c["secrets"]["master_keys"];
    assert_eq!(s(&keyring_secret["file"]), "./secrets/master.keys");
    for (name, sub, svc) in compose_weft_services(&c) {
        let mut env = img.env.clone();
        for (k, v) in svc["environment"].as_object().expect("environment map") {
            env.push((k.clone(), s(v)));
        }
        let origin = format!("compose service {name}");
        let (file, text) = &img.config;
        let st = settings(&origin, Some((file, text)), &env);
        assert_distributed(&origin, &st);
        for url in [&st.database.url, &st.queue.url, &st.redis.url] {
            assert!(
                names.contains(&url_host(url)),
                "{origin}: {url} names no service"
            );
        }
        assert!(st.base_url.is_some(), "{origin}: base_url");
        if sub == "worker" {
            assert_eq!(st.worker.concurrency, 16, "{origin}: sized for 16 steps");
        }
        // The keyring secret is data_dir/master.keys.
        let mounts = svc["secrets"].as_array().expect("secrets");
        assert!(
            mounts.iter().any(|m| s(&m["source"]) == "master_keys"
                && Path::new(&s(&m["target"])) == st.data_dir.join("master.keys")),
            "{origin}: the keyring is not mounted at data_dir/master.keys"
        );
    }
    // Without .env, the passwords are required rather than empty.
    let err = interpolate(&read("deploy/compose.yaml"), &BTreeMap::new()).unwrap_err();
    assert!(err.contains("PASSWORD"), "{err}");
}

// ---------------------------------------------------------------- Kubernetes

struct K8s {
    /// Every document of every file listed in kustomization.yaml.
    docs: Vec<Value>,
    kustomization: Value,
    /// secret.example.yaml, not applied.
    secrets: Vec<Value>,
}

fn k8s() -> K8s {
    let kustomization = yaml("kustomization.yaml", &read("deploy/k8s/kustomization.yaml"));
    let resources = strings(&kustomization["resources"]);
    let mut docs = Vec::new();
    for r in &resources {
        docs.extend(yaml_docs(r, &read(&format!("deploy/k8s/{r}"))));
    }
    // Every manifest in the directory is either applied or the template.
    for entry in std::fs::read_dir(repo().join("deploy/k8s")).expect("deploy/k8s") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" && name != "secret.example.yaml"
        {
            assert!(
                resources.contains(&name),
                "{name} is not in kustomization.yaml"
            );
        }
    }
    assert!(
        !resources.iter().any(|r| r.contains("secret")),
        "placeholders must never be applied over the real Secrets"
    );
    let secrets = yaml_docs(
        "secret.example.yaml",
        &read("deploy/k8s/secret.example.yaml"),
    );
    K8s {
        docs,
        kustomization,
        secrets,
    }
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The container env Kubernetes would give: the image's, then envFrom the
/// Secret (from the template), then `env`.
fn k8s_env(k: &K8s, img: &Image, container: &Value) -> Env {
    let mut env = img.env.clone();
    for from in container["envFrom"].as_array().into_iter().flatten() {
        let name = s(&from["secretRef"]["name"]);
        let secret = find(&k.secrets, "Secret", &name);
        for (key, v) in secret["stringData"].as_object().expect("stringData") {
            env.push((key.clone(), s(v)));
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        env.push((s(&e["name"]), s(&e["value"])));
    }
    env
}

#[test]
fn kubernetes_manifests_have_the_expected_objects() {
    let k = k8s();
    assert_eq!(s(&k.kustomization["namespace"]), "weft");
    let kinds: Vec<(String, String)> = k
        .docs
        .iter()
        .map(|d| (s(&d["kind"]), s(&d["metadata"]["name"])))
        .collect();
    for (kind, name) in [
        ("Namespace", "weft"),
        ("ConfigMap", "weft-config"),
        ("Job", "weft-migrate"),
        ("Deployment", "weft-api"),
        ("Service", "weft-api"),
        ("PodDisruptionBudget", "weft-api"),
        ("Deployment", "weft-worker"),
        ("PodDisruptionBudget", "weft-worker"),
    ] {
        assert!(
            kinds.contains(&(kind.to_owned(), name.to_owned())),
            "missing {kind} {name}: {kinds:?}"
        );
    }
    let api = find(&k.docs, "Deployment", "weft-api");
    let worker = find(&k.docs, "Deployment", "weft-worker");
    assert_eq!(worker["spec"]["replicas"], 2);
    // The Service and the budgets select the pods they are for.
    let labels = |d: &Value| d["spec"]["template"]["metadata"]["labels"].clone();
    let selects = |selector: &Value, d: &Value| {
        let l = labels(d);
        let sel = selector.as_object().expect("selector");
        !sel.is_empty() && sel.iter().all(|(k, v)| l[k] == *v)
    };
    let svc = find(&k.docs, "Service", "weft-api");
    assert!(selects(&svc["spec"]["selector"], api));
    assert!(!selects(&svc["spec"]["selector"], worker));
    assert_eq!(s(&svc["spec"]["ports"][0]["targetPort"]), "http");
    assert!(selects(
        &find(&k.docs, "PodDisruptionBudget", "weft-api")["spec"]["selector"]["matchLabels"],
        api
    ));
    assert!(selects(
        &find(&k.docs, "PodDisruptionBudget", "weft-worker")["spec"]["selector"]["matchLabels"],
        worker
    ));
    for d in [api, worker] {
        assert!(
            selects(&d["spec"]["selector"]["matchLabels"], d),
            "{}: selector does not match its pods",
            d["metadata"]["name"]
        );
    }
    // The keyring template holds no usable key.
    let keys = find(&k.secrets, "Secret", "weft-master-keys");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("master.keys");
    std::fs::write(&path, s(&keys["stringData"]["master.keys"])).expect("write");
    assert!(
        weft_vault::Keyring::load(&path).is_err(),
        "the template's keyring must not be usable"
    );
}

#[test]
fn kubernetes_pods_run_weft_with_an_accepted_configuration_probes_and_limits() {
    let k = k8s();
    let img = image();
    let config = find(&k.docs, "ConfigMap", "weft-config");
    let mut seen = BTreeMap::new();
    for d in &k.docs {
        let (kind, name) = (s(&d["kind"]), s(&d["metadata"]["name"]));
        if kind != "Deployment" && kind != "Job" {
            continue;
        }
        let pod = &d["spec"]["template"]["spec"];
        let origin = format!("{kind} {name}");
        assert_eq!(
            pod["enableServiceLinks"], false,
            "{origin}: service links add WEFT_* variables"
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{origin}");
        let containers = pod["containers"].as_array().expect("containers");
        for ct in containers {
            assert_eq!(s(&ct["image"]).split(':').next(), Some("weft"), "{origin}");
            let entry = match &ct["command"] {
                Value::Null => img.entrypoint.clone(),
                c => strings(c),
            };
            let (sub, rest) = weft_argv(&entry, &strings(&ct["args"]));
            let at = rest.iter().position(|a| a == "--config").expect("--config");
            let config_path = PathBuf::from(&rest[at + 1]);
            // The --config file is the ConfigMap's key, mounted at its directory.
            let mounts = ct["volumeMounts"].as_array().expect("volumeMounts");
            let volume = |mount: &Value| {
                pod["volumes"]
                    .as_array()
                    .expect("volumes")
                    .iter()
                    .find(|v| v["name"] == mount["name"])
                    .cloned()
                    .expect("the mount's volume")
            };
            let cm_mount = mounts
                .iter()
                .find(|m| Path::new(&s(&m["mountPath"])) == config_path.parent().expect("dir"))
                .expect("the config directory is mounted");
            assert_eq!(s(&volume(cm_mount)["configMap"]["name"]), "weft-config");
            let key = config_path
                .file_name()
                .expect("file")
                .to_string_lossy()
                .into_owned();
            let text = s(&config["data"][&key]);
            let env = k8s_env(&k, &img, ct);
            let st = settings(&origin, Some((&key, &text)), &env);
            assert_distributed(&origin, &st);
            // The keyring Secret is the single file data_dir/master.keys.
            let keys = mounts
                .iter()
                .find(|m| Path::new(&s(&m["mountPath"])) == st.data_dir.join("master.keys"))
                .unwrap_or_else(|| panic!("{origin}: no keyring at data_dir/master.keys"));
            assert_eq!(s(&keys["subPath"]), "master.keys");
            assert_eq!(s(&volume(keys)["secret"]["secretName"]), "weft-master-keys");
            let res = &ct["resources"];
            for path in [
                ("requests", "cpu"),
                ("requests", "memory"),
                ("limits", "memory"),
            ] {
                assert!(
                    !res[path.0][path.1].is_null(),
                    "{origin}: resources.{}.{}",
                    path.0,
                    path.1
                );
            }
            assert_eq!(
                ct["securityContext"]["allowPrivilegeEscalation"], false,
                "{origin}"
            );
            if kind == "Job" {
                assert_eq!(sub, "migrate");
                continue;
            }
            // Probes on the port weft listens on.
            let port = ct["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .find(|p| p["name"] == "http")
                .expect("a port named http");
            assert_eq!(
                port["containerPort"],
                st.listen.port(),
                "{origin}: listen port"
            );
            for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
                assert_eq!(s(&ct[probe]["httpGet"]["path"]), path, "{origin} {probe}");
                assert_eq!(s(&ct[probe]["httpGet"]["port"]), "http", "{origin} {probe}");
            }
            let grace_s = pod["terminationGracePeriodSeconds"]
                .as_u64()
                .expect("grace");
            let pre_stop: u64 = strings(&ct["lifecycle"]["preStop"]["exec"]["command"])
                .iter()
                .filter_map(|a| a.parse::<u64>().ok())
                .sum();
            assert!(
                (grace_s - pre_stop) * 1000 > st.worker.shutdown_grace_ms,
                "{origin}: terminationGracePeriodSeconds {grace_s} (preStop {pre_stop} s) vs grace_ms {}",
                st.worker.shutdown_grace_ms
            );
            seen.insert(sub, st.worker.concurrency);
        }
    }
    assert_eq!(seen.keys().collect::<Vec<_>>(), ["api", "worker"]);
}

// ---------------------------------------------------------------- systemd

/// A unit file's sections: name -> (key, value) in order.
fn unit(name: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let text = read(&format!("deploy/systemd/{name}"));
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut section = None;
    for l in text.lines().map(str::trim) {
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(sec) = l.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            section = Some(sec.to_owned());
            out.entry(sec.to_owned()).or_default();
            continue;
        }
        let sec = section
            .clone()
            .unwrap_or_else(|| panic!("{name}: {l} before a section"));
        let (k, v) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("{name}: not Key=Value: {l}"));
        out.entry(sec)
            .or_default()
            .push((k.to_owned(), v.to_owned()));
    }
    out
}

fn values(u: &BTreeMap<String, Vec<(String, String)>>, sec: &str, key: &str) -> Vec<String> {
    u.get(sec)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

fn one(u: &BTreeMap<String, Vec<(String, String)>>, sec: &str, key: &str) -> String {
    let v = values(u, sec, key);
    assert_eq!(v.len(), 1, "{sec}.{key}: {v:?}");
    v[0].clone()
}

fn systemd_settings(extra: &[(String, String)]) -> Settings {
    let text = read("deploy/systemd/weft.toml");
    let mut env = env_file(&read("deploy/systemd/weft.env.example"));
    env.extend_from_slice(extra);
    settings("systemd", Some(("weft.toml", &text)), &env)
}

#[test]
fn systemd_units_run_weft_hardened_and_migrate_first() {
    let base = systemd_settings(&[]);
    let units = [
        ("weft-migrate.service", "migrate"),
        ("weft-api.service", "api"),
        ("weft-worker@.service", "worker"),
    ];
    for (file, sub) in units {
        let u = unit(file);
        for sec in ["Unit", "Service", "Install"] {
            assert!(u.contains_key(sec), "{file}: no [{sec}]");
        }
        let exec = one(&u, "Service", "ExecStart");
        let argv: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
        let (got, rest) = weft_argv(&argv[..1], &argv[1..]);
        assert_eq!(got, sub, "{file}");
        assert_eq!(rest, ["--config", "/etc/weft/weft.toml"], "{file}");
        assert_eq!(one(&u, "Service", "KillSignal"), "SIGTERM", "{file}");
        let stop = duration_ms(&one(&u, "Service", "TimeoutStopSec"));
        assert!(
            stop > base.worker.shutdown_grace_ms,
            "{file}: TimeoutStopSec vs grace_ms"
        );
        assert!(
            values(&u, "Service", "EnvironmentFile").contains(&"/etc/weft/weft.env".to_owned()),
            "{file}"
        );
        for (key, want) in [
            ("User", "weft"),
            ("StateDirectory", "weft"),
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
        ] {
            assert_eq!(one(&u, "Service", key), want, "{file}: {key}");
        }
        // wasmtime writes machine code at run time.
        assert!(
            values(&u, "Service", "MemoryDenyWriteExecute").is_empty(),
            "{file}"
        );
        assert_eq!(
            Path::new("/var/lib").join(one(&u, "Service", "StateDirectory")),
            base.data_dir,
            "{file}: StateDirectory is data_dir"
        );
        assert_eq!(
            one(&u, "Install", "WantedBy"),
            "multi-user.target",
            "{file}"
        );
        let deps = |key: &str| values(&u, "Unit", key).join(" ");
        if sub == "migrate" {
            assert_eq!(one(&u, "Service", "Type"), "oneshot");
            assert!(deps("Before").split(' ').any(|x| x == "weft-api.service"));
        } else {
            assert!(
                deps("Requires")
                    .split(' ')
                    .any(|x| x == "weft-migrate.service"),
                "{file}"
            );
            assert!(
                deps("After")
                    .split(' ')
                    .any(|x| x == "weft-migrate.service"),
                "{file}"
            );
        }
    }
    let sysusers = read("deploy/systemd/weft.sysusers.conf");
    assert!(
        sysusers.lines().any(|l| l.starts_with("u weft ")),
        "the weft user"
    );
}

#[test]
fn systemd_configuration_is_accepted_and_each_worker_has_its_port() {
    let api = systemd_settings(&[]);
    assert_distributed("systemd", &api);
    assert!(
        !env_file(&read("deploy/systemd/weft.env.example"))
            .iter()
            .any(|(k, _)| k == "WEFT_LISTEN"),
        "weft.env must not override the workers' WEFT_LISTEN"
    );
    let u = unit("weft-worker@.service");
    let listen: Vec<String> = values(&u, "Service", "Environment")
        .into_iter()
        .filter_map(|e| e.strip_prefix("WEFT_LISTEN=").map(str::to_owned))
        .collect();
    assert_eq!(listen.len(), 1, "{listen:?}");
    let mut ports = BTreeSet::from([api.listen.port()]);
    for i in 1..=2 {
        let env = [(
            "WEFT_LISTEN".to_owned(),
            listen[0].replace("%i", &i.to_string()),
        )];
        let w = systemd_settings(&env);
        assert!(
            ports.insert(w.listen.port()),
            "weft-worker@{i} shares port {}",
            w.listen
        );
    }
}

// ---------------------------------------------------------------- the guide

#[test]
fn the_guide_documents_every_setting_with_its_environment_name_and_default() {
    let guide = read("deploy/README.md");
    // The opening statement, whatever the line breaks and quote markers.
    let flat = guide
        .lines()
        .map(|l| l.trim_start_matches('>').trim())
        .collect::<Vec<_>>()
        .join(" ")
        .replace("**", "");
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    let statement = "No Docker engine or Kubernetes cluster runs where this was written; the \
                     files are checked by tests (they parse, and the configuration they pass is \
                     accepted by weft), not deployed.";
    let at = flat
        .find(statement)
        .expect("the guide states what was and was not checked");
    assert!(at < 200, "the statement is at the top");
    let defaults = serde_json::to_value(Settings::default()).expect("json");
    // Every leaf, however deep (a section's sub-sections too).
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            other => out.push((path.clone(), other.clone())),
        }
    }
    let mut leaves = Vec::new();
    walk(&defaults, &mut Vec::new(), &mut leaves);
    // Keys that moved are documented under their older names too.
    for (old, new) in weft_cli::config::env::ALIASES {
        let row = guide
            .lines()
            .find(|l| l.starts_with(&format!("| `{old}` |")))
            .unwrap_or_else(|| panic!("deploy/README.md has no row for the older name `{old}`"));
        let env = weft_cli::config::env::name_of(old);
        assert!(
            row.contains(&format!("`{env}`")) && row.contains(&format!("`{new}`")),
            "{old}: row lacks `{env}` or `{new}`: {row}"
        );
    }
    assert!(leaves.len() >= 50, "{} settings", leaves.len());
    for (path, default) in leaves {
        let key = path.join(".");
        let env = format!("WEFT_{}", path.join("_").to_uppercase());
        let row = guide
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` |")))
            .unwrap_or_else(|| panic!("deploy/README.md has no row for `{key}`"));
        assert!(
            row.contains(&format!("`{env}`")),
            "{key}: row lacks `{env}`: {row}"
        );
        let shown = match &default {
            Value::Null => None,
            Value::String(s) if s.is_empty() => Some("\"\"".to_owned()),
            Value::Array(a) if a.is_empty() => Some("[]".to_owned()),
            other => Some(s(other)),
        };
        if let Some(d) = &shown {
            assert!(
                row.contains(&format!("`{d}`")),
                "{key}: default `{d}` not in {row}"
            );
        }
        // The documented variable is one weft knows.
        let value = match &default {
            Value::Null => "http://example.com".to_owned(),
            Value::Array(_) => String::new(),
            other => s(other),
        };
        Settings::from_parts(None, [(env.clone(), value)])
            .unwrap_or_else(|e| panic!("{env} is not a setting: {e}"));
    }
}

// ---------------------------------------------------------------- the keyring

fn master_keys(args: &[&str], dir: &Path) -> String {
    let out = Command::new("sh")
        .arg(repo().join("deploy/master-keys.sh"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "master-keys.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn master_keys_sh_writes_keyrings_weft_loads_and_rotates_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let load = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        weft_vault::Keyring::load(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let first = load("a.keys", &master_keys(&["new"], dir.path()));
    let old = first.current_id().to_owned();
    assert_eq!(first.ids().count(), 1);
    // Roll 1: the new key is known everywhere but not used yet.
    let added = load("b.keys", &master_keys(&["add", "a.keys"], dir.path()));
    let ids: Vec<String> = added.ids().map(str::to_owned).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(added.current_id(), old, "add keeps the current key");
    let new = ids.iter().find(|i| **i != old).expect("the new id").clone();
    // Roll 2: it becomes current; the old key stays to unwrap.
    let promoted = load(
        "c.keys",
        &master_keys(&["promote", "b.keys", &new], dir.path()),
    );
    assert_eq!(promoted.current_id(), new);
    assert!(promoted.ids().any(|i| i == old));
    // Two fresh keyrings differ.
    let other = load("d.keys", &master_keys(&["new"], dir.path()));
    assert_ne!(other.current_id(), old);
}

// ---------------------------------------------------------------- the binary

/// `weft config --config FILE` with exactly `env`: exit status and stdout.
fn weft_config(dir: &Path, name: &str, text: &str, env: &[(String, String)]) -> (bool, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["config", "--config"])
        .arg(&path)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run weft");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_weft_binary_accepts_every_deployment_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = image();
    let mut cases: Vec<(String, String, Env)> = Vec::new();
    let sd_env = env_file(&read("deploy/systemd/weft.env.example"));
    cases.push(("systemd".into(), read("deploy/systemd/weft.toml"), sd_env));
    let k = k8s();
    let config = find(&k.docs, "ConfigMap", "weft-config");
    let worker = find(&k.docs, "Deployment", "weft-worker");
    let ct = &worker["spec"]["template"]["spec"]["containers"][0];
    cases.push((
        "kubernetes".into(),
        s(&config["data"]["weft.toml"]),
        k8s_env(&k, &img, ct),
    ));
    let c = compose();
    let (_, _, api) = compose_weft_services(&c)
        .into_iter()
        .find(|(_, sub, _)| sub == "api")
        .expect("api");
    let mut env = img.env.clone();
    for (k, v) in api["environment"].as_object().expect("environment") {
        env.push((k.clone(), s(v)));
    }
    // WEFT_CONFIG names the image's path; the test passes --config instead.
    env.retain(|(k, _)| k != "WEFT_CONFIG");
    cases.push(("compose".into(), img.config.1.clone(), env));
    for (origin, text, env) in cases {
        let (ok, out) = weft_config(dir.path(), &format!("{origin}.toml"), &text, &env);
        assert!(ok, "{origin}: `weft config` failed");
        assert!(out.contains("queue_type = \"quorum\""), "{origin}: {out}");
        assert!(
            out.contains("postgres://weft:***@"),
            "{origin}: password not masked: {out}"
        );
        assert!(
            !out.contains("CHANGE-ME"),
            "{origin}: a password is printed: {out}"
        );
    }
    // And it does fail on a mistake, so the checks above can fail too.
    let (ok, _) = weft_config(
        dir.path(),
        "bad.toml",
        "[queue]\nqueue_typ = \"quorum\"\n",
        &[],
    );
    assert!(!ok, "an unknown key must fail `weft config`");
}
