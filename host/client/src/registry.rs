//! The registry's routes (`/v1/registry/…`, `/v1/installs`), in the order of
//! `weft_api::routes::ROUTES`: publishers and keys, blobs by digest, signed
//! versions, search, yank and takedown, templates, installs with consent.
//!
//! Publishing is two calls, as the server takes it: [`Client::put_blob`]
//! (the raw bytes, with a progress callback) then [`Client::publish_version`]
//! (the signed statement about them).

use crate::raw::decode;
use crate::{Body, Client, Result};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use weft_model::registry::{
    Blob, Install, NewInstall, NewPublisher, NewPublisherKey, NewTakedown, NewVersion,
    PackageDetail, PackagePage, PackageQuery, Publisher, PublisherKey, Upgrade, Upgraded,
    UseTemplate, Verify, Version, Yank,
};
use weft_model::{List, Workflow};

/// Bytes handed to the connection at a time while uploading a blob.
const CHUNK: usize = 64 * 1024;

impl Client {
    /// `POST /v1/registry/publishers`.
    ///
    /// # Errors
    /// [`crate::Error`]; a taken or confusable name is 409.
    pub async fn create_publisher(&self, name: &str) -> Result<Publisher> {
        let body = NewPublisher { name: name.into() };
        self.call(
            Method::POST,
            &["v1", "registry", "publishers"],
            &[],
            Body::json(&body)?,
        )
        .await
    }

    /// `GET /v1/registry/publishers/{name}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_publisher(&self, name: &str) -> Result<Publisher> {
        self.call(
            Method::GET,
            &["v1", "registry", "publishers", name],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/registry/publishers/{name}/keys`: `public_key` is 64 hex digits.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn add_publisher_key(&self, name: &str, public_key: &str) -> Result<PublisherKey> {
        let body = NewPublisherKey {
            public_key: public_key.into(),
        };
        self.call(
            Method::POST,
            &["v1", "registry", "publishers", name, "keys"],
            &[],
            Body::json(&body)?,
        )
        .await
    }

    /// `DELETE /v1/registry/publishers/{name}/keys/{key_id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn revoke_publisher_key(&self, name: &str, key_id: &str) -> Result<()> {
        self.call(
            Method::DELETE,
            &["v1", "registry", "publishers", name, "keys", key_id],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/ops/registry/publishers/{name}/verify` (an operator key).
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn verify_publisher(&self, name: &str, verified: bool) -> Result<Publisher> {
        self.call(
            Method::POST,
            &["v1", "ops", "registry", "publishers", name, "verify"],
            &[],
            Body::json(&Verify { verified })?,
        )
        .await
    }

    /// `PUT /v1/registry/blobs/{digest}` with `bytes` (`digest`: `sha256:…`),
    /// sent as `content_type` in chunks; `progress(sent, total)` is called as
    /// each chunk is handed to the connection. Stored (201) and stored
    /// already (200) are both a [`Blob`] (`created` tells them apart).
    ///
    /// # Errors
    /// [`crate::Error`]; a digest that is not the bytes' is 400 naming both.
    pub async fn put_blob(
        &self,
        digest: &str,
        bytes: Vec<u8>,
        content_type: &str,
        progress: impl FnMut(u64, u64) + Send + Sync + 'static,
    ) -> Result<Blob> {
        let url = self.url(&["v1", "registry", "blobs", digest], &[])?;
        let total = bytes.len() as u64;
        let chunks: Vec<Vec<u8>> = bytes.chunks(CHUNK).map(<[u8]>::to_vec).collect();
        let mut progress = progress;
        let mut sent = 0u64;
        let stream = futures_util::stream::iter(chunks.into_iter().map(move |c| {
            sent += c.len() as u64;
            progress(sent, total);
            Ok::<_, std::io::Error>(c)
        }));
        let resp = self
            .request(Method::PUT, url.clone())
            .header(CONTENT_TYPE, content_type)
            .header(reqwest::header::CONTENT_LENGTH, total)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(|e| crate::Error::transport("cannot reach".into(), &url, "", e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| {
            crate::Error::transport("PUT".into(), &url, "the answer broke off: ", e)
        })?;
        decode(
            Method::PUT,
            &url,
            crate::Response {
                status,
                headers,
                body: body.to_vec(),
            },
        )
    }

    /// `GET /v1/registry/packages`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn search_packages(&self, q: &PackageQuery) -> Result<PackagePage> {
        self.call(
            Method::GET,
            &["v1", "registry", "packages"],
            &crate::routes::pairs(q),
            Body::None,
        )
        .await
    }

    /// `GET /v1/registry/packages/{publisher}/{name}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_package(&self, publisher: &str, name: &str) -> Result<PackageDetail> {
        self.call(
            Method::GET,
            &["v1", "registry", "packages", publisher, name],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/registry/packages/{publisher}/{name}/versions`.
    ///
    /// # Errors
    /// [`crate::Error`]; a refused artifact names its code and every problem
    /// with its path in `details`.
    pub async fn publish_version(
        &self,
        publisher: &str,
        name: &str,
        new: &NewVersion,
    ) -> Result<Version> {
        self.call(
            Method::POST,
            &["v1", "registry", "packages", publisher, name, "versions"],
            &[],
            Body::json(new)?,
        )
        .await
    }

    /// `GET /v1/registry/packages/{publisher}/{name}/versions/{version}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_package_version(
        &self,
        publisher: &str,
        name: &str,
        version: &str,
    ) -> Result<Version> {
        self.call(
            Method::GET,
            &[
                "v1", "registry", "packages", publisher, name, "versions", version,
            ],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST …/versions/{version}/yank` (`yanked: false` restores it).
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn yank_version(
        &self,
        publisher: &str,
        name: &str,
        version: &str,
        yanked: bool,
    ) -> Result<Version> {
        self.call(
            Method::POST,
            &[
                "v1", "registry", "packages", publisher, name, "versions", version, "yank",
            ],
            &[],
            Body::json(&Yank { yanked })?,
        )
        .await
    }

    /// `POST /v1/ops/registry/…/versions/{version}/takedown` (an operator key).
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn take_down_version(
        &self,
        publisher: &str,
        name: &str,
        version: &str,
        reason: &str,
    ) -> Result<Version> {
        self.call(
            Method::POST,
            &[
                "v1", "ops", "registry", "packages", publisher, name, "versions", version,
                "takedown",
            ],
            &[],
            Body::json(&NewTakedown {
                reason: reason.into(),
            })?,
        )
        .await
    }

    /// `POST /v1/registry/packages/{publisher}/{name}/use`: an inactive workflow.
    ///
    /// # Errors
    /// [`crate::Error`]; parameters that do not fit the schema and missing
    /// connectors are named in `details`.
    pub async fn use_template(
        &self,
        publisher: &str,
        name: &str,
        body: &UseTemplate,
    ) -> Result<Workflow> {
        self.call(
            Method::POST,
            &["v1", "registry", "packages", publisher, name, "use"],
            &[],
            Body::json(body)?,
        )
        .await
    }

    /// `POST /v1/installs`.
    ///
    /// # Errors
    /// [`crate::Error`]; a consent that is not the version's disclosure
    /// digest is 409 `consent_mismatch`.
    pub async fn create_install(&self, new: &NewInstall) -> Result<Install> {
        self.call(Method::POST, &["v1", "installs"], &[], Body::json(new)?)
            .await
    }

    /// `GET /v1/installs`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_installs(&self) -> Result<Vec<Install>> {
        let l: List<Install> = self
            .call(Method::GET, &["v1", "installs"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `GET /v1/installs/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_install(&self, id: &str) -> Result<Install> {
        self.call(Method::GET, &["v1", "installs", id], &[], Body::None)
            .await
    }

    /// `POST /v1/installs/{id}/upgrade`: applied (200) or held for consent
    /// (202); [`Upgraded::applied`] tells them apart.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn upgrade_install(&self, id: &str, body: &Upgrade) -> Result<Upgraded> {
        self.call(
            Method::POST,
            &["v1", "installs", id, "upgrade"],
            &[],
            Body::json(body)?,
        )
        .await
    }

    /// `DELETE /v1/installs/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`]; 409 naming the active workflows that use it.
    pub async fn delete_install(&self, id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "installs", id], &[], Body::None)
            .await
    }
}
