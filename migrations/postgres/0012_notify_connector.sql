-- Notifications through a connector (docs/TENANCY.md, section 6). A rule of
-- kind `connector` keeps its target (connector, action, input, config,
-- grants) as JSON in `target`; `url` is '' and the secret columns are empty
-- for it. Deliveries are found by run when run retention prunes them.
ALTER TABLE notification_rules ADD COLUMN target TEXT;
CREATE INDEX notification_deliveries_by_run ON notification_deliveries (tenant_id, run_id);
