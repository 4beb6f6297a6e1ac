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

CREATE FUNCTION snapshot_ops.note_bulk_load()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'snapshot_ops_note_bulk_load';

COMMENT ON FUNCTION snapshot_ops.note_bulk_load()
	IS 'statement trigger of the four snapshot tables: a COPY FROM into the table records a retention hold';

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

/* Bulk loads record a retention hold. */
CREATE TRIGGER session_snapshots_bulk_load_hold
	AFTER INSERT ON session_snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.note_bulk_load();
CREATE TRIGGER position_snapshots_bulk_load_hold
	AFTER INSERT ON position_snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.note_bulk_load();
CREATE TRIGGER metrics_snapshots_bulk_load_hold
	AFTER INSERT ON metrics_snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.note_bulk_load();
CREATE TRIGGER risk_guard_snapshots_bulk_load_hold
	AFTER INSERT ON risk_guard_snapshots
	FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.note_bulk_load();

COMMENT ON TRIGGER session_snapshots_bulk_load_hold ON session_snapshots
	IS 'a COPY FROM into the table records a retention hold (snapshot_ops.retention_holds)';
COMMENT ON TRIGGER position_snapshots_bulk_load_hold ON position_snapshots
	IS 'a COPY FROM into the table records a retention hold (snapshot_ops.retention_holds)';
COMMENT ON TRIGGER metrics_snapshots_bulk_load_hold ON metrics_snapshots
	IS 'a COPY FROM into the table records a retention hold (snapshot_ops.retention_holds)';
COMMENT ON TRIGGER risk_guard_snapshots_bulk_load_hold ON risk_guard_snapshots
	IS 'a COPY FROM into the table records a retention hold (snapshot_ops.retention_holds)';

/*
 * Retention holds.  Not dumped (after_update()'s not_dumped list): a
 * restore records its own.  Written and read only through the functions
 * below and the bulk-load trigger, which work on it as its owner.
 */
CREATE TABLE snapshot_ops.retention_holds (
	hold_id bigint GENERATED ALWAYS AS IDENTITY,
	reason text NOT NULL,
	source text NOT NULL,
	held_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	held_by name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT retention_holds_pkey PRIMARY KEY (hold_id),
	CONSTRAINT retention_holds_reason_check
		CHECK (reason OPERATOR(pg_catalog.<>) ''),
	CONSTRAINT retention_holds_source_check
		CHECK (source OPERATOR(pg_catalog.=) ANY (ARRAY['bulk_load', 'manual']))
);

COMMENT ON TABLE snapshot_ops.retention_holds
	IS 'while this table has a row, retention deletes nothing: one row per bulk load (COPY FROM) into a snapshot table and per snapshot_ops.hold_retention() call, until snapshot_ops.release_retention()';
COMMENT ON COLUMN snapshot_ops.retention_holds.source
	IS 'bulk_load (recorded by a COPY FROM into a snapshot table) or manual (hold_retention())';
COMMENT ON COLUMN snapshot_ops.retention_holds.held_by
	IS 'the role that loaded the rows or called hold_retention()';

CREATE FUNCTION snapshot_ops.hold_retention(reason text)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_hold_retention';

COMMENT ON FUNCTION snapshot_ops.hold_retention(text)
	IS 'hold retention (nothing is deleted) until release_retention(), for example before a restore that fires no triggers; returns the hold_id';

CREATE FUNCTION snapshot_ops.release_retention(force boolean DEFAULT false)
RETURNS integer
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'snapshot_ops_release_retention';

COMMENT ON FUNCTION snapshot_ops.release_retention(boolean)
	IS 'remove every retention hold and return how many; refused while child rows lack their session_snapshots row, unless force';

CREATE FUNCTION snapshot_ops.list_retention_holds(
	OUT hold_id bigint,
	OUT reason text,
	OUT source text,
	OUT held_at timestamptz,
	OUT held_by name)
RETURNS SETOF record
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'snapshot_ops_list_retention_holds';

COMMENT ON FUNCTION snapshot_ops.list_retention_holds()
	IS 'the retention holds, oldest first: while there is one, retention deletes nothing';

INSERT INTO snapshot_ops.access_level_functions (level, function_name, schema_kind) VALUES
	('admin', 'hold_retention', 'admin'),
	('admin', 'release_retention', 'admin'),
	('admin', 'list_retention_holds', 'admin');
