-- On SQLite this migration rebuilds the doses table with the slot's unique key day first,
-- so that a dose writes no page of its patient's own. PostgreSQL keeps its key (patient
-- first) and its indexes; the change was measured on SQLite only. Nothing to change here;
-- the folder keeps both backends' migrations in step.
SELECT 1;
