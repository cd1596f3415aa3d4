-- Wakes the processes waiting for a run's answer (docs/DISTRIBUTED.md,
-- "Waiting for a run"): the transaction that sets a run's response, or ends
-- it, sends NOTIFY weft_run_answered with the run's id, delivered to the
-- listeners when (and only if) it commits. A spurious notification (another
-- schema in the same database) wakes nobody: run ids are unique.
CREATE FUNCTION weft_run_answered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('weft_run_answered', NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_answered_insert AFTER INSERT ON runs FOR EACH ROW
    WHEN (NEW.response IS NOT NULL
          OR NEW.status IN ('completed', 'failed', 'cancelled', 'skipped'))
    EXECUTE FUNCTION weft_run_answered();

CREATE TRIGGER runs_answered_update AFTER UPDATE ON runs FOR EACH ROW
    WHEN ((OLD.response IS NULL AND NEW.response IS NOT NULL)
          OR (OLD.status IS DISTINCT FROM NEW.status
              AND NEW.status IN ('completed', 'failed', 'cancelled', 'skipped')))
    EXECUTE FUNCTION weft_run_answered();
