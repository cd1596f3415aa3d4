//! `/v1/registry/…` (publishers, blobs, signed versions, search, yank,
//! takedown, templates) and `/v1/installs` (installs with consent).

use crate::extract::{Body, OptBody, P, Q, Raw};
use crate::ops::OperatorCaller;
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use weft_model::registry as m;
use weft_model::{List, Workflow};
use weft_registry as r;

fn kind(k: r::Kind) -> m::PackageKind {
    match k {
        r::Kind::Connector => m::PackageKind::Connector,
        r::Kind::Template => m::PackageKind::Template,
    }
}

fn digest(hex: &str) -> String {
    format!("sha256:{hex}")
}

fn disclosure(d: &r::Disclosure) -> m::Disclosure {
    m::Disclosure {
        imports: d.imports.iter().cloned().collect(),
        network: d.network.iter().cloned().collect(),
        credentials: d
            .credentials
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
            .collect(),
        state: d.state,
    }
}

fn takedown(t: &r::Takedown) -> m::Takedown {
    m::Takedown {
        reason: t.reason.clone(),
        at: t.at,
    }
}

fn version(v: r::Version) -> m::Version {
    m::Version {
        disclosure: disclosure(&v.disclosure),
        taken_down: v.taken_down.as_ref().map(takedown),
        kind: kind(v.kind),
        digest: digest(&v.digest),
        publisher: v.publisher,
        name: v.name,
        version: v.version,
        size: v.size,
        description: v.description,
        manifest: v.manifest,
        disclosure_digest: digest(&v.disclosure_digest),
        readme: v.readme,
        keywords: v.keywords,
        license: v.license,
        source: v.source,
        key_id: v.key_id,
        signature: v.signature,
        published_at: v.published_at,
        yanked: v.yanked,
    }
}

/// The wire form of a registry package.
pub fn package(p: r::Package) -> m::Package {
    m::Package {
        kind: kind(p.kind),
        publisher: p.publisher,
        name: p.name,
        verified: p.verified,
        latest: p.latest,
        description: p.description,
        installs: p.installs,
        created_at: p.created_at,
    }
}

fn key(k: r::PublisherKey) -> m::PublisherKey {
    m::PublisherKey {
        key_id: k.key_id,
        public_key: k.public_key,
        created_at: k.created_at,
        revoked_at: k.revoked_at,
    }
}

fn publisher(p: r::Publisher, keys: Vec<r::PublisherKey>) -> m::Publisher {
    m::Publisher {
        name: p.name,
        verified: p.verified,
        created_at: p.created_at,
        keys: keys.into_iter().map(key).collect(),
    }
}

/// The takedowns by digest, read once for the installs of an answer.
type Takedowns = std::collections::HashMap<String, r::Takedown>;

/// An install as the tenant sees it, with the takedown of the artifact it
/// runs, if any.
fn install(down: &Takedowns, i: r::Install) -> m::Install {
    let taken_down = down.get(&i.digest).map(takedown);
    m::Install {
        package: format!("{}/{}", i.publisher, i.name),
        digest: digest(&i.digest),
        consent_digest: digest(&i.consent_digest),
        held: i.held.map(|h| m::HeldUpgrade {
            version: h.version,
            disclosure_digest: digest(&h.disclosure_digest),
            requested_at: h.requested_at,
        }),
        taken_down,
        id: i.id,
        name: i.name,
        pin: i.pin,
        version: i.version,
        consented_by: i.consented_by,
        consented_at: i.consented_at,
        created_at: i.created_at,
    }
}

pub async fn create_publisher(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<m::NewPublisher>,
) -> ApiResult<(StatusCode, Json<m::Publisher>)> {
    let p = state.app.create_publisher(&caller, &new.name).await?;
    Ok((StatusCode::CREATED, Json(publisher(p, Vec::new()))))
}

pub async fn get_publisher(
    State(state): State<AppState>,
    caller: Caller,
    P(name): P<String>,
) -> ApiResult<Json<m::Publisher>> {
    let (p, keys) = state.app.get_publisher(&caller, &name).await?;
    Ok(Json(publisher(p, keys)))
}

pub async fn add_publisher_key(
    State(state): State<AppState>,
    caller: Caller,
    P(name): P<String>,
    Body(new): Body<m::NewPublisherKey>,
) -> ApiResult<(StatusCode, Json<m::PublisherKey>)> {
    let k = state
        .app
        .add_publisher_key(&caller, &name, &new.public_key)
        .await?;
    Ok((StatusCode::CREATED, Json(key(k))))
}

pub async fn revoke_publisher_key(
    State(state): State<AppState>,
    caller: Caller,
    P((name, key_id)): P<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .app
        .revoke_publisher_key(&caller, &name, &key_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/ops/registry/publishers/{name}/verify` (the operator).
pub async fn verify_publisher(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(name): P<String>,
    Body(v): Body<m::Verify>,
) -> ApiResult<Json<m::Publisher>> {
    let (p, keys) = state.app.verify_publisher(&op, &name, v.verified).await?;
    Ok(Json(publisher(p, keys)))
}

pub async fn put_blob(
    State(state): State<AppState>,
    caller: Caller,
    P(d): P<String>,
    Raw(bytes): Raw,
) -> ApiResult<(StatusCode, Json<m::Blob>)> {
    let (hex, created) = state.app.put_blob(&caller, &d, &bytes).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(m::Blob {
            digest: digest(&hex),
            size: bytes.len() as u64,
            created,
        }),
    ))
}

pub async fn publish_version(
    State(state): State<AppState>,
    caller: Caller,
    P((p, n)): P<(String, String)>,
    Body(new): Body<m::NewVersion>,
) -> ApiResult<(StatusCode, Json<m::Version>)> {
    let new = weft_app::registry::NewVersion {
        kind: match new.kind {
            m::PackageKind::Connector => r::Kind::Connector,
            m::PackageKind::Template => r::Kind::Template,
        },
        version: new.version,
        digest: new.digest,
        readme: new.readme,
        keywords: new.keywords,
        license: new.license,
        source: new.source,
        key_id: new.key_id,
        signature: new.signature,
    };
    let v = state.app.publish_version(&caller, &p, &n, new).await?;
    Ok((StatusCode::CREATED, Json(version(v))))
}

pub async fn search_packages(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<m::PackageQuery>,
) -> ApiResult<Json<m::PackagePage>> {
    let query = r::SearchQuery {
        text: q.q.filter(|t| !t.trim().is_empty()),
        kind: q.kind.map(|k| match k {
            m::PackageKind::Connector => r::Kind::Connector,
            m::PackageKind::Template => r::Kind::Template,
        }),
        publisher: q.publisher,
        verified: q.verified,
        no_network: q.no_network.unwrap_or(false),
        credential_host: q.credential_host,
        sort: match q.sort.unwrap_or_default() {
            m::PackageSort::Relevance => r::Sort::Relevance,
            m::PackageSort::Installs => r::Sort::Installs,
        },
        limit: q.limit.unwrap_or(20),
        cursor: q.cursor,
    };
    let page = state.app.search_packages(&caller, &query).await?;
    Ok(Json(m::PackagePage {
        items: page.items.into_iter().map(package).collect(),
        next: page.next,
    }))
}

pub async fn get_package(
    State(state): State<AppState>,
    caller: Caller,
    P((p, n)): P<(String, String)>,
) -> ApiResult<Json<m::PackageDetail>> {
    let d = state.app.get_package(&caller, &p, &n).await?;
    Ok(Json(m::PackageDetail {
        package: package(d.package),
        versions: d.versions.into_iter().map(version).collect(),
    }))
}

pub async fn get_package_version(
    State(state): State<AppState>,
    caller: Caller,
    P((p, n, v)): P<(String, String, String)>,
) -> ApiResult<Json<m::Version>> {
    let v = state.app.get_package_version(&caller, &p, &n, &v).await?;
    Ok(Json(version(v)))
}

pub async fn yank_version(
    State(state): State<AppState>,
    caller: Caller,
    P((p, n, v)): P<(String, String, String)>,
    Body(y): Body<m::Yank>,
) -> ApiResult<Json<m::Version>> {
    let v = state
        .app
        .yank_version(&caller, &p, &n, &v, y.yanked)
        .await?;
    Ok(Json(version(v)))
}

/// `POST /v1/ops/registry/packages/{publisher}/{name}/versions/{version}/takedown`
/// (the operator).
pub async fn take_down_version(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P((p, n, v)): P<(String, String, String)>,
    Body(t): Body<m::NewTakedown>,
) -> ApiResult<Json<m::Version>> {
    let v = state
        .app
        .take_down_version(&op, &p, &n, &v, &t.reason)
        .await?;
    Ok(Json(version(v)))
}

pub async fn use_template(
    State(state): State<AppState>,
    caller: Caller,
    P((p, n)): P<(String, String)>,
    OptBody(u): OptBody<m::UseTemplate>,
) -> ApiResult<(StatusCode, Json<Workflow>)> {
    let (wf, def) = state
        .app
        .use_template(&caller, &p, &n, u.version.as_deref(), &u.parameters)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::workflows::with_definition(
            wf,
            &state.base_url,
            Some(def),
        )),
    ))
}

pub async fn create_install(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<m::NewInstall>,
) -> ApiResult<(StatusCode, Json<m::Install>)> {
    let req = weft_app::registry::InstallRequest {
        package: new.package,
        version: new.version,
        pin: new.pin,
        consent: new.consent,
    };
    let i = state.app.install(&caller, req).await?;
    let down = state.app.takedowns().await?;
    Ok((StatusCode::CREATED, Json(install(&down, i))))
}

pub async fn list_installs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<m::Install>>> {
    let down = state.app.takedowns().await?;
    let items: Vec<m::Install> = state
        .app
        .list_installs(&caller)
        .await?
        .into_iter()
        .map(|i| install(&down, i))
        .collect();
    Ok(Json(items.into()))
}

pub async fn get_install(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<m::Install>> {
    let i = state.app.get_install(&caller, &id).await?;
    let down = state.app.takedowns().await?;
    Ok(Json(install(&down, i)))
}

pub async fn upgrade_install(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    OptBody(u): OptBody<m::Upgrade>,
) -> ApiResult<(StatusCode, Json<m::Upgraded>)> {
    let done = state
        .app
        .upgrade_install(&caller, &id, u.version.as_deref(), u.consent.as_deref())
        .await?;
    let down = state.app.takedowns().await?;
    Ok(match done {
        weft_app::registry::Upgraded::Applied(i) => (
            StatusCode::OK,
            Json(m::Upgraded {
                install: install(&down, i),
                applied: true,
                widening: Vec::new(),
            }),
        ),
        weft_app::registry::Upgraded::Held(i, widening) => (
            StatusCode::ACCEPTED,
            Json(m::Upgraded {
                install: install(&down, i),
                applied: false,
                widening,
            }),
        ),
    })
}

pub async fn delete_install(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.uninstall(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
