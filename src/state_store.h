/*-------------------------------------------------------------------------
 *
 * state_store.h
 *		save_snapshot(), load_snapshot() and load_snapshot_by_id().
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/state_store.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_STATE_STORE_H
#define SNAPSHOT_OPS_STATE_STORE_H

#include "utils/jsonb.h"

/*
 * Validate a state document and write it into the four tables of the
 * extension in schema nspid; returns the new snapshot_id.  Connects to SPI
 * itself.
 */
extern int64 so_save_state(Oid nspid, Jsonb *state, const char *snapshot_type);

/*
 * The latest snapshot of a session as a document, or NULL; the result is
 * allocated in the caller's memory context.
 */
extern Jsonb *so_load_state(Oid nspid, text *session_id);

/* SQL text of the query behind load_snapshot(session_id) ($1 text). */
extern char *so_load_by_session_sql(const char *qschema);

#endif							/* SNAPSHOT_OPS_STATE_STORE_H */
