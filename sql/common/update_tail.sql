
/*
 * Common tail of every update script (sql/common/update_tail.sql, appended
 * by make).  Released update scripts contain it, so it never changes: what
 * it does lives in snapshot_ops.after_update(), which a later version
 * replaces (CREATE OR REPLACE in its own parts, which run before this).
 * It takes EXECUTE away from PUBLIC on every routine, gives every role that
 * holds an access level the objects the update added to that level, and
 * refuses to finish the update when an invariant of the schema is broken
 * (a table not registered for pg_dump, a missing comment, changed
 * reloptions).
 */
SELECT snapshot_ops.after_update();
