/*
 * Referential integrity by triggers, and retention holds (src/refint.c,
 * src/holds.c).
 *
 * Version 1.0 tied the three child tables to session_snapshots with
 * declarative foreign keys.  pg_dump writes the rows of each table that an
 * extension registers for dumping as a separate COPY that depends on
 * nothing else in the archive, and pg_restore -j runs those COPYs in
 * parallel, each in its own transaction: children arrive before their
 * parents and every foreign key fails, so a parallel restore lost every
 * child row.  From 1.1 the same rules are kept by triggers:
 *
 *   - inserting or re-keying a child row checks that its parent exists
 *     (constraint triggers named like the old constraints, same error);
 *   - deleting snapshots deletes their children (ON DELETE CASCADE);
 *   - a key with children cannot change (NO ACTION);
 *   - TRUNCATE session_snapshots is refused unless the children are
 *     truncated in the same command;
 *   - rows loaded with COPY FROM are not checked (a restore may load the
 *     tables in any order), and every such COPY records a retention hold.
 *
 * While a retention hold exists, retention deletes nothing, so that a
 * restored backup is never pruned on arrival.  A DBA lists holds with
 * snapshot_ops.list_retention_holds(), adds one with hold_retention() and
 * resumes retention with release_retention(), which refuses while child
 * rows without a parent remain.
 */

ALTER TABLE position_snapshots DROP CONSTRAINT position_snapshots_snapshot_id_fkey;
ALTER TABLE metrics_snapshots DROP CONSTRAINT metrics_snapshots_snapshot_id_fkey;
ALTER TABLE risk_guard_snapshots DROP CONSTRAINT risk_guard_snapshots_snapshot_id_fkey;

/* The trigger functions (internal: no access level executes them). */
CREATE FUNCTION snapshot_ops.refint_check_parent()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_refint_check_parent';

COMMENT ON FUNCTION snapshot_ops.refint_check_parent()
	IS 'constraint trigger of the child tables: the session_snapshots row a child row references must exist (not checked for COPY FROM)';

CREATE FUNCTION snapshot_ops.refint_cascade_delete()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_refint_cascade_delete';

COMMENT ON FUNCTION snapshot_ops.refint_cascade_delete()
	IS 'statement trigger of session_snapshots: delete the child rows of the deleted snapshots (ON DELETE CASCADE)';

CREATE FUNCTION snapshot_ops.refint_restrict_key_update()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_refint_restrict_key_update';

COMMENT ON FUNCTION snapshot_ops.refint_restrict_key_update()
	IS 'row trigger of session_snapshots: refuse to change a snapshot_id that child rows reference (NO ACTION)';

CREATE FUNCTION snapshot_ops.refint_check_truncate()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_refint_check_truncate';

COMMENT ON FUNCTION snapshot_ops.refint_check_truncate()
	IS 'truncate trigger of session_snapshots: refuse unless the child tables are empty afterwards (truncated in the same command)';

/*
 * Child side: named like the foreign keys they replace, so that errors
 * and pg_constraint (contype 't') still name <child>_snapshot_id_fkey.
 * Not deferrable, as the foreign keys were not.
 */
CREATE CONSTRAINT TRIGGER position_snapshots_snapshot_id_fkey
	AFTER INSERT OR UPDATE OF snapshot_id ON position_snapshots
	NOT DEFERRABLE
	FOR EACH ROW EXECUTE FUNCTION snapshot_ops.refint_check_parent();
CREATE CONSTRAINT TRIGGER metrics_snapshots_snapshot_id_fkey
	AFTER INSERT OR UPDATE OF snapshot_id ON metrics_snapshots
	NOT DEFERRABLE
	FOR EACH ROW EXECUTE FUNCTION snapshot_ops.refint_check_parent();
CREATE CONSTRAINT TRIGGER risk_guard_snapshots_snapshot_id_fkey
	AFTER INSERT OR UPDATE OF snapshot_id ON risk_guard_snapshots
	NOT DEFERRABLE
	FOR EACH ROW EXECUTE FUNCTION snapshot_ops.refint_check_parent();

COMMENT ON TRIGGER position_snapshots_snapshot_id_fkey ON position_snapshots
	IS 'foreign key (snapshot_id) to session_snapshots, kept by a trigger so that restores may load the tables in any order';
COMMENT ON TRIGGER metrics_snapshots_snapshot_id_fkey ON metrics_snapshots
	IS 'foreign key (snapshot_id) to session_snapshots, kept by a trigger so that restores may load the tables in any order';
COMMENT ON TRIGGER risk_guard_snapshots_snapshot_id_fkey ON risk_guard_snapshots
	IS 'foreign key (snapshot_id) to session_snapshots, kept by a trigger so that restores may load the tables in any order';

/* Parent side: cascade, no action on key change, truncate check. */
CREATE TRIGGER session_snapshots_cascade_delete
	AFTER DELETE ON session_snapshots
	REFERENCING OLD TABLE AS deleted_snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.refint_cascade_delete();
CREATE TRIGGER session_snapshots_restrict_key_update
	AFTER UPDATE OF snapshot_id ON session_snapshots
	FOR EACH ROW EXECUTE FUNCTION snapshot_ops.refint_restrict_key_update();
CREATE TRIGGER session_snapshots_restrict_truncate
	AFTER TRUNCATE ON session_snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.refint_check_truncate();

COMMENT ON TRIGGER session_snapshots_cascade_delete ON session_snapshots
	IS 'ON DELETE CASCADE to position_snapshots, metrics_snapshots and risk_guard_snapshots';
COMMENT ON TRIGGER session_snapshots_restrict_key_update ON session_snapshots
	IS 'ON UPDATE NO ACTION: a snapshot_id that child rows reference cannot change';
COMMENT ON TRIGGER session_snapshots_restrict_truncate ON session_snapshots
	IS 'TRUNCATE session_snapshots only together with its child tables';
