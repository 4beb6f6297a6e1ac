/*-------------------------------------------------------------------------
 *
 * holds.h
 *		Retention holds (snapshot_ops.retention_holds): while one exists,
 *		retention deletes nothing.
 *
 * A hold is recorded by every bulk load (COPY FROM) into one of the four
 * snapshot tables, so that a restored backup is never pruned on arrival,
 * and by snapshot_ops.hold_retention(); snapshot_ops.release_retention()
 * removes them all.  See src/holds.c.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/holds.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_HOLDS_H
#define SNAPSHOT_OPS_HOLDS_H

/*
 * Is retention held in this database?  True when snapshot_ops.retention_holds
 * has a row visible in the active snapshot; then *why (if why is not NULL)
 * is a palloc'd sentence naming how many holds there are and the oldest
 * one's reason, role and time, for an errdetail.  False in a database whose
 * SQL predates 1.1 (no holds there) or without the extension.
 *
 * Needs a transaction and an active snapshot; connects to SPI itself and
 * reads the table as its owner, so any caller may ask.  A caller that
 * deletes when this says false must delete in the same snapshot: a restore
 * commits its rows and its hold together, so a later snapshot could see the
 * rows without having seen the hold (so_expire() in src/retention.c).
 */
extern bool so_retention_held(char **why);

#endif							/* SNAPSHOT_OPS_HOLDS_H */
