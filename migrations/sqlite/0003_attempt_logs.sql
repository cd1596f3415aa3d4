-- Step logs in the journal: each attempt's log records, a JSON array of
-- {"level", "source", "message", "fields"?} (weft_types::log::LogRecord),
-- bounded per step by the engine (weft_types::log::bound). Attempts written
-- before this migration have none.
ALTER TABLE attempts ADD COLUMN logs TEXT NOT NULL DEFAULT '[]';
