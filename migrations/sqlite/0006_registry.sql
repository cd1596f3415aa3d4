-- The registry (docs/REGISTRY.md): publishers and their keys, packages and
-- their immutable versions, installs per tenant, and the search index.
-- A package's derived columns (latest, description, no_network, its
-- credential hosts and its row in registry_search) are those of its latest
-- installable version, rewritten in the transaction that publishes, yanks
-- or takes down a version.

CREATE TABLE registry_publishers (
    name       TEXT    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    verified   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX registry_publishers_tenant ON registry_publishers (tenant_id, name);

CREATE TABLE registry_keys (
    publisher  TEXT    NOT NULL REFERENCES registry_publishers (name),
    key_id     TEXT    NOT NULL,
    public_key TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (publisher, key_id)
) STRICT;

-- `id` is the row id of the package's registry_search row.
CREATE TABLE registry_packages (
    id          INTEGER NOT NULL PRIMARY KEY,
    publisher   TEXT    NOT NULL REFERENCES registry_publishers (name),
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    installs    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    -- NULL when no version is installable: the package is hidden from search.
    latest      TEXT,
    description TEXT    NOT NULL DEFAULT '',
    no_network  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (publisher, name)
) STRICT;
-- A package name is unique across publishers (the application refuses
-- confusable names too; this holds against two publishes racing).
CREATE UNIQUE INDEX registry_packages_name ON registry_packages (name);
-- Browsing without text: most installed first, over installable packages.
CREATE INDEX registry_packages_installs ON registry_packages (installs DESC, id)
    WHERE latest IS NOT NULL;

CREATE TABLE registry_versions (
    publisher         TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    version           TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    digest            TEXT    NOT NULL,
    size              INTEGER NOT NULL,
    manifest          TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    disclosure        TEXT    NOT NULL,
    disclosure_digest TEXT    NOT NULL,
    readme            TEXT    NOT NULL,
    keywords          TEXT    NOT NULL,
    license           TEXT    NOT NULL,
    source            TEXT,
    key_id            TEXT    NOT NULL,
    signature         TEXT    NOT NULL,
    published_at      INTEGER NOT NULL,
    yanked            INTEGER NOT NULL DEFAULT 0,
    takedown_reason   TEXT,
    takedown_by       TEXT,
    takedown_at       INTEGER,
    PRIMARY KEY (publisher, name, version),
    FOREIGN KEY (publisher, name) REFERENCES registry_packages (publisher, name)
) STRICT;
CREATE INDEX registry_versions_digest ON registry_versions (digest, published_at);
CREATE INDEX registry_versions_taken_down ON registry_versions (digest)
    WHERE takedown_at IS NOT NULL;

-- The credential slot hosts of a package's latest installable version, as
-- weft_registry::index::host_key (labels reversed, no port).
CREATE TABLE registry_credential_hosts (
    package_id INTEGER NOT NULL REFERENCES registry_packages (id),
    host       TEXT    NOT NULL,
    PRIMARY KEY (package_id, host)
) STRICT;
CREATE INDEX registry_credential_hosts_host ON registry_credential_hosts (host, package_id);

-- Full text of the latest installable version, row id = the package's id.
-- Contentless: the text lives in registry_versions.
CREATE VIRTUAL TABLE registry_search USING fts5 (
    name, description, keywords, readme,
    content = '', contentless_delete = 1
);

-- A package's name is unique in a tenant's catalogue, whatever its publisher.
CREATE TABLE registry_installs (
    tenant_id      TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    publisher      TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    pin            TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    digest         TEXT    NOT NULL,
    consent_digest TEXT    NOT NULL,
    consented_by   TEXT    NOT NULL,
    consented_at   INTEGER NOT NULL,
    held           TEXT,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (publisher, name) REFERENCES registry_packages (publisher, name)
) STRICT;
CREATE INDEX registry_installs_digest ON registry_installs (digest);

-- Blobs uploaded, once per tenant and digest (the latest upload's time):
-- a tenant's unpublished bytes (no version has the digest) count against
-- its upload quota, and the sweeper deletes blobs whose every upload is
-- old and unreferenced.
CREATE TABLE registry_uploads (
    digest      TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    size        INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (digest, tenant_id)
) STRICT;
CREATE INDEX registry_uploads_tenant ON registry_uploads (tenant_id);
CREATE INDEX registry_uploads_time ON registry_uploads (uploaded_at, digest);
