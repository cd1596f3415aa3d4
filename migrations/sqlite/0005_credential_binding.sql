-- What a credential's associated data binds (weft_vault::Binding). Rows
-- written before this migration were sealed under version 1 (tenant and
-- credential id only); the process that migrates re-seals them under the
-- current version, which also binds name, hosts and injection, at start.
ALTER TABLE credentials ADD COLUMN ad_version INTEGER NOT NULL DEFAULT 1;
