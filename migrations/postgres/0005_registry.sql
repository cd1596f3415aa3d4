-- The registry (docs/REGISTRY.md): publishers and their keys, packages and
-- their immutable versions, installs per tenant, blobs, and the search
-- index. A package's derived columns (latest, description, no_network, the
-- search text and its credential hosts) are those of its latest installable
-- version, rewritten in the transaction that publishes, yanks or takes down
-- a version. Text compares bytewise (COLLATE "C"), like SQLite.

CREATE TABLE registry_publishers (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id  TEXT COLLATE "C" NOT NULL,
    verified   BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX registry_publishers_tenant ON registry_publishers (tenant_id, name);

CREATE TABLE registry_keys (
    publisher  TEXT COLLATE "C" NOT NULL REFERENCES registry_publishers (name),
    key_id     TEXT COLLATE "C" NOT NULL,
    public_key TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (publisher, key_id)
);

CREATE TABLE registry_packages (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    publisher          TEXT COLLATE "C" NOT NULL REFERENCES registry_publishers (name),
    name               TEXT COLLATE "C" NOT NULL,
    kind               TEXT   NOT NULL,
    installs           BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    -- NULL when no version is installable: the package is hidden from search.
    latest             TEXT,
    description        TEXT    NOT NULL DEFAULT '',
    no_network         BOOLEAN NOT NULL DEFAULT false,
    search_keywords    TEXT    NOT NULL DEFAULT '',
    search_readme      TEXT    NOT NULL DEFAULT '',
    -- Name first (A), then description and keywords (B), then the README (D).
    search             TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A')
        || setweight(to_tsvector('simple', description), 'B')
        || setweight(to_tsvector('simple', search_keywords), 'B')
        || setweight(to_tsvector('simple', search_readme), 'D')
    ) STORED,
    UNIQUE (publisher, name)
);
CREATE INDEX registry_packages_search ON registry_packages USING GIN (search);
-- A package name is unique across publishers (the application refuses
-- confusable names too; this holds against two publishes racing).
CREATE UNIQUE INDEX registry_packages_name ON registry_packages (name);
-- Browsing without text: most installed first, over installable packages.
CREATE INDEX registry_packages_installs ON registry_packages (installs DESC, id)
    WHERE latest IS NOT NULL;

CREATE TABLE registry_versions (
    publisher         TEXT COLLATE "C" NOT NULL,
    name              TEXT COLLATE "C" NOT NULL,
    version           TEXT COLLATE "C" NOT NULL,
    kind              TEXT   NOT NULL,
    digest            TEXT COLLATE "C" NOT NULL,
    size              BIGINT NOT NULL,
    manifest          TEXT   NOT NULL,
    description       TEXT   NOT NULL,
    disclosure        TEXT   NOT NULL,
    disclosure_digest TEXT   NOT NULL,
    readme            TEXT   NOT NULL,
    keywords          TEXT   NOT NULL,
    license           TEXT   NOT NULL,
    source            TEXT,
    key_id            TEXT   NOT NULL,
    signature         TEXT   NOT NULL,
    published_at      BIGINT NOT NULL,
    yanked            BOOLEAN NOT NULL DEFAULT false,
    takedown_reason   TEXT,
    takedown_by       TEXT,
    takedown_at       BIGINT,
    PRIMARY KEY (publisher, name, version),
    FOREIGN KEY (publisher, name) REFERENCES registry_packages (publisher, name)
);
CREATE INDEX registry_versions_digest ON registry_versions (digest, published_at);
CREATE INDEX registry_versions_taken_down ON registry_versions (digest)
    WHERE takedown_at IS NOT NULL;

-- The credential slot hosts of a package's latest installable version, as
-- weft_registry::index::host_key (labels reversed, no port).
CREATE TABLE registry_credential_hosts (
    package_id BIGINT NOT NULL REFERENCES registry_packages (id),
    host       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (package_id, host)
);
CREATE INDEX registry_credential_hosts_host ON registry_credential_hosts (host, package_id);

-- A package's name is unique in a tenant's catalogue, whatever its publisher.
CREATE TABLE registry_installs (
    tenant_id      TEXT COLLATE "C" NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    publisher      TEXT COLLATE "C" NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    kind           TEXT   NOT NULL,
    pin            TEXT   NOT NULL,
    version        TEXT   NOT NULL,
    digest         TEXT COLLATE "C" NOT NULL,
    consent_digest TEXT   NOT NULL,
    consented_by   TEXT   NOT NULL,
    consented_at   BIGINT NOT NULL,
    held           TEXT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (publisher, name) REFERENCES registry_packages (publisher, name)
);
CREATE INDEX registry_installs_digest ON registry_installs (digest);

-- Components by SHA-256 digest (hex), at most `component_bytes` each.
CREATE TABLE registry_blobs (
    digest     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    bytes      BYTEA  NOT NULL,
    size       BIGINT NOT NULL
);

-- Blobs uploaded, once per tenant and digest (the latest upload's time):
-- a tenant's unpublished bytes (no version has the digest) count against
-- its upload quota, and the sweeper deletes blobs whose every upload is
-- old and unreferenced.
CREATE TABLE registry_uploads (
    digest      TEXT COLLATE "C" NOT NULL,
    tenant_id   TEXT COLLATE "C" NOT NULL,
    size        BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (digest, tenant_id)
);
CREATE INDEX registry_uploads_tenant ON registry_uploads (tenant_id);
CREATE INDEX registry_uploads_time ON registry_uploads (uploaded_at, digest);
