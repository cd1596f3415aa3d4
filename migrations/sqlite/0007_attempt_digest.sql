-- The component that ran each attempt: `sha256:<64 hex>` of a bundled
-- connector or of an installed registry version's artifact. Attempts
-- written before this migration, and those no component ran, have none.
ALTER TABLE attempts ADD COLUMN digest TEXT;
