-- A test run up to one step (`Run::until`, the editor's "test step"): the
-- top-level step it stops after; NULL for every other run.
ALTER TABLE runs ADD COLUMN until_step TEXT;
