/*-------------------------------------------------------------------------
 *
 * database.c
 *		Connections of snapshot_ops_backup: the -d connection string, the
 *		connection strings handed to pg_dump and psql, and the queries the
 *		tool runs itself.
 *
 * The connection string is parsed once with PQconninfoParse(), so that a
 * URI and a keyword/value string are treated alike.  Children get it back
 * as a keyword/value string with the password removed (pg_programs.c passes
 * that in their environment), quoted by libpgfeutils' appendConnStrVal().
 * Every connection of the tool clears search_path first, as pg_dump does,
 * and its queries name pg_catalog objects and operators explicitly.  The
 * CREATE DATABASE and DROP DATABASE of restore --create and verify are
 * here too.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/database.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "fe_utils/string_utils.h"
#include "pqexpbuffer.h"

#include "database.h"
#include "snapshot_ops_backup.h"

const char *const sob_tables[SOB_NTABLES] = {
	"session_snapshots",
	"position_snapshots",
	"metrics_snapshots",
	"risk_guard_snapshots"
};

/*
 * Parse conninfo (NULL or "" for libpq's defaults) into ci.  Returns false
 * after printing an error when the string is invalid.
 */
bool
sob_conninfo_parse(const char *conninfo, SobConnInfo *ci)
{
	PQconninfoOption *opts;
	PQconninfoOption *o;
	char	   *err = NULL;
	int			n = 0;

	memset(ci, 0, sizeof(*ci));
	opts = PQconninfoParse(conninfo ? conninfo : "", &err);
	if (opts == NULL)
	{
		pg_log_error("invalid connection string: %s", err ? err : "out of memory");
		PQfreemem(err);
		return false;
	}
	for (o = opts; o->keyword; o++)
		n++;
	ci->keywords = pg_malloc_array(char *, n + 1);
	ci->values = pg_malloc_array(char *, n + 1);
	for (o = opts; o->keyword; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0)
		{
			ci->password = pg_strdup(o->val);
			continue;
		}
		ci->keywords[ci->n] = pg_strdup(o->keyword);
		ci->values[ci->n] = pg_strdup(o->val);
		ci->n++;
	}
	PQconninfoFree(opts);
	return true;
}

/* The value of keyword in ci, or NULL. */
const char *
sob_conninfo_get(const SobConnInfo *ci, const char *keyword)
{
	int			i;

	for (i = 0; i < ci->n; i++)
	{
		if (strcmp(ci->keywords[i], keyword) == 0)
			return ci->values[i];
	}
	return NULL;
}

/*
 * A keyword/value connection string for a child process: ci without the
 * password, with dbname replaced by dbname if that is not NULL.  palloc'd.
 */
char *
sob_conninfo_string(const SobConnInfo *ci, const char *dbname)
{
	PQExpBufferData buf;
	int			i;

	initPQExpBuffer(&buf);
	for (i = 0; i < ci->n; i++)
	{
		if (dbname && strcmp(ci->keywords[i], "dbname") == 0)
			continue;
		if (buf.len > 0)
			appendPQExpBufferChar(&buf, ' ');
		appendPQExpBuffer(&buf, "%s=", ci->keywords[i]);
		appendConnStrVal(&buf, ci->values[i]);
	}
	if (dbname)
	{
		if (buf.len > 0)
			appendPQExpBufferChar(&buf, ' ');
		appendPQExpBufferStr(&buf, "dbname=");
		appendConnStrVal(&buf, dbname);
	}
	if (PQExpBufferBroken(&buf))
		pg_fatal("out of memory");
	return buf.data;
}

/*
 * Start a connection as ci says, to dbname if that is not NULL.  Returns
 * it whatever its status (NULL only when out of memory); nothing printed.
 */
static PGconn *
db_connect(const SobConnInfo *ci, const char *dbname)
{
	const char **kw = pg_malloc_array(const char *, ci->n + 4);
	const char **val = pg_malloc_array(const char *, ci->n + 4);
	PGconn	   *conn;
	int			n = 0;
	int			i;

	for (i = 0; i < ci->n; i++)
	{
		if (dbname && strcmp(ci->keywords[i], "dbname") == 0)
			continue;
		kw[n] = ci->keywords[i];
		val[n++] = ci->values[i];
	}
	if (dbname)
	{
		kw[n] = "dbname";
		val[n++] = dbname;
	}
	if (ci->password)
	{
		kw[n] = "password";
		val[n++] = ci->password;
	}
	kw[n] = "fallback_application_name";
	val[n++] = SOB_PROGNAME;
	kw[n] = NULL;
	val[n] = NULL;

	conn = PQconnectdbParams(kw, val, 0);
	pg_free(kw);
	pg_free(val);
	return conn;
}

/*
 * Make a new connection ready for the tool's queries: an empty search_path,
 * as pg_dump's.  Returns conn, or NULL after printing the error and closing
 * it.
 */
static PGconn *
db_prepare(PGconn *conn)
{
	PGresult   *res;

	res = PQexec(conn, "SELECT pg_catalog.set_config('search_path', '', false)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_error("could not clear search_path: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}

/* Print why conn, a connection attempt, failed, and close it. */
static void
db_report_failure(PGconn *conn)
{
	pg_log_error("could not connect to the server: %s",
				 conn ? PQerrorMessage(conn) : "out of memory");
	PQfinish(conn);
}

/*
 * Connect as ci says, to dbname if that is not NULL.  Returns the
 * connection with an empty search_path, or NULL after printing the error.
 */
PGconn *
sob_connect(const SobConnInfo *ci, const char *dbname)
{
	PGconn	   *conn = db_connect(ci, dbname);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		db_report_failure(conn);
		return NULL;
	}
	return db_prepare(conn);
}

/*
 * Connect to a maintenance database of the server ci points at ("postgres",
 * else "template1"), for CREATE DATABASE and DROP DATABASE, as PostgreSQL's
 * connectMaintenanceDatabase() does.  template1 is tried only when
 * "postgres" failed for a reason other than the password: a password that
 * is missing or wrong for one is so for the other, and the second failure
 * would only hide the first.  The error printed is the first one, which
 * names the database the tool tried first.
 */
PGconn *
sob_connect_maintenance(const SobConnInfo *ci)
{
	PGconn	   *conn = db_connect(ci, "postgres");
	PGconn	   *conn1;

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return db_prepare(conn);
	if (conn == NULL || PQconnectionNeedsPassword(conn) || PQconnectionUsedPassword(conn))
	{
		db_report_failure(conn);
		return NULL;
	}
	conn1 = db_connect(ci, "template1");
	if (conn1 != NULL && PQstatus(conn1) == CONNECTION_OK)
	{
		PQfinish(conn);
		return db_prepare(conn1);
	}
	PQfinish(conn1);
	db_report_failure(conn);
	pg_log_error_detail("Database \"template1\" could not be connected to either.");
	return NULL;
}

/*
 * The database ci names, or the one libpq would choose: PGDATABASE, else
 * the user name.  palloc'd, or NULL.
 */
char *
sob_default_dbname(const SobConnInfo *ci)
{
	const char *db = sob_conninfo_get(ci, "dbname");
	const char *user = sob_conninfo_get(ci, "user");
	PQconninfoOption *defs;
	PQconninfoOption *o;
	char	   *result = NULL;

	if (db)
		return pg_strdup(db);
	defs = PQconndefaults();
	for (o = defs; o && o->keyword; o++)
	{
		if (strcmp(o->keyword, "dbname") == 0 && o->val && o->val[0])
			result = pg_strdup(o->val);
		else if (user == NULL && strcmp(o->keyword, "user") == 0 && o->val)
			user = o->val;
	}
	if (result == NULL && user != NULL)
		result = pg_strdup(user);
	PQconninfoFree(defs);
	return result;
}

/* Run one SQL command.  Returns 0, or -1 after printing the error. */
int
sob_exec_command(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * Count the rows of the extension's four tables in the database of conn.
 * qualnames[i] receives "schema.table" quoted as pg_dump quotes it
 * (palloc'd), counts[i] the count.  Returns 0, 1 when the extension is not
 * installed, or -1 after printing an error.
 */
int
sob_table_counts(PGconn *conn, char **qualnames, long long *counts)
{
	PQExpBufferData sql;
	PGresult   *res;
	char	   *schema;
	int			i;

	res = PQexec(conn,
				 "SELECT pg_catalog.quote_ident(n.nspname)"
				 "  FROM pg_catalog.pg_extension e"
				 "  JOIN pg_catalog.pg_namespace n"
				 "    ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
				 " WHERE e.extname OPERATOR(pg_catalog.=) 'snapshot_ops'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_error("could not look up the extension: %s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return 1;
	}
	schema = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	initPQExpBuffer(&sql);
	appendPQExpBufferStr(&sql, "SELECT ");
	for (i = 0; i < SOB_NTABLES; i++)
	{
		qualnames[i] = psprintf("%s.%s", schema, sob_tables[i]);
		appendPQExpBuffer(&sql, "%s(SELECT pg_catalog.count(*) FROM %s)",
						  i > 0 ? ", " : "", qualnames[i]);
	}
	pg_free(schema);

	res = PQexec(conn, sql.data);
	termPQExpBuffer(&sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_error("could not count the rows of the snapshot tables: %s",
					 PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	for (i = 0; i < SOB_NTABLES; i++)
		counts[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * What a restore target already holds: whether snapshot_ops is installed,
 * and how many relations outside the system schemas that belong to no
 * extension, with one of their names as an example (palloc'd, or NULL).
 * Returns 0, or -1 after printing an error.
 */
int
sob_target_contents(PGconn *conn, bool *has_extension, long long *nrelations,
					char **example)
{
	PGresult   *res;

	res = PQexec(conn,
				 "WITH rels AS ("
				 " SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name"
				 "   FROM pg_catalog.pg_class c"
				 "   JOIN pg_catalog.pg_namespace n"
				 "     ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				 "  WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f,S}'::\"char\"[])"
				 "    AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema}'::name[])"
				 "    AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_)'"
				 "    AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
				 "     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				 "       AND d.objid OPERATOR(pg_catalog.=) c.oid"
				 "       AND d.deptype OPERATOR(pg_catalog.=) 'e'))"
				 "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension"
				 "                WHERE extname OPERATOR(pg_catalog.=) 'snapshot_ops'),"
				 "       (SELECT pg_catalog.count(*) FROM rels),"
				 "       (SELECT pg_catalog.min(name) FROM rels)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_error("could not inspect the target database: %s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	*has_extension = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	*nrelations = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	*example = PQgetisnull(res, 0, 2) ? NULL : pg_strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/*
 * Where the snapshot_ops extension of the database of conn lives: *schema
 * receives the name of its schema (palloc'd, NULL if the extension is not
 * installed), *nothers how many objects in that schema are neither the
 * extension nor its members, i.e. what would keep DROP SCHEMA (without
 * CASCADE) from dropping the schema after DROP EXTENSION, and *example one
 * of them described (palloc'd, or NULL).  Returns 0, or -1 after printing
 * an error.
 */
int
sob_extension_schema(PGconn *conn, char **schema, long long *nothers,
					 char **example)
{
	PGresult   *res;

	*schema = NULL;
	*nothers = 0;
	*example = NULL;
	res = PQexec(conn,
				 "WITH ext AS ("
				 " SELECT e.oid, e.extnamespace FROM pg_catalog.pg_extension e"
				 "  WHERE e.extname OPERATOR(pg_catalog.=) 'snapshot_ops'),"
				 " others AS ("
				 " SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS what"
				 "   FROM pg_catalog.pg_depend d, ext"
				 "  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass"
				 "    AND d.refobjid OPERATOR(pg_catalog.=) ext.extnamespace"
				 "    AND d.deptype OPERATOR(pg_catalog.=) 'n'"
				 "    AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
				 "             AND d.objid OPERATOR(pg_catalog.=) ext.oid)"
				 "    AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend m"
				 "     WHERE m.classid OPERATOR(pg_catalog.=) d.classid"
				 "       AND m.objid OPERATOR(pg_catalog.=) d.objid"
				 "       AND m.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
				 "       AND m.refobjid OPERATOR(pg_catalog.=) ext.oid"
				 "       AND m.deptype OPERATOR(pg_catalog.=) 'e'))"
				 "SELECT n.nspname,"
				 "       (SELECT pg_catalog.count(*) FROM others),"
				 "       (SELECT pg_catalog.min(what) FROM others)"
				 "  FROM ext JOIN pg_catalog.pg_namespace n"
				 "    ON n.oid OPERATOR(pg_catalog.=) ext.extnamespace");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_error("could not look up the schema of the extension: %s",
					 PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) > 0)
	{
		*schema = pg_strdup(PQgetvalue(res, 0, 0));
		*nothers = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		if (!PQgetisnull(res, 0, 2))
			*example = pg_strdup(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return 0;
}

/*
 * DROP DATABASE name, ending the sessions in it (the worker's): WITH
 * (FORCE) from PostgreSQL 13.  Returns 0, or -1 after printing the error.
 */
int
sob_drop_database(PGconn *conn, const char *name)
{
	char	   *ident = PQescapeIdentifier(conn, name, strlen(name));
	char	   *sql;
	int			rc;

	if (ident == NULL)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		return -1;
	}
	sql = psprintf("DROP DATABASE IF EXISTS %s%s", ident,
				   PQserverVersion(conn) >= 130000 ? " WITH (FORCE)" : "");
	PQfreemem(ident);
	rc = sob_exec_command(conn, sql);
	pg_free(sql);
	if (rc == 0)
		printf("  Dropped database \"%s\"\n", name);
	return rc;
}

/*
 * CREATE DATABASE name from template0.  Returns an exit code: refused if the
 * database exists.
 */
int
sob_create_database(PGconn *conn, const char *name)
{
	const char *params[1] = {name};
	PGresult   *res;
	char	   *ident;
	char	   *sql;
	int			rc;

	res = PQexecParams(conn,
					   "SELECT FROM pg_catalog.pg_database"
					   " WHERE datname OPERATOR(pg_catalog.=) $1",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return SOB_EXIT_SERVER;
	}
	rc = PQntuples(res);
	PQclear(res);
	if (rc > 0)
	{
		pg_log_error("database \"%s\" already exists", name);
		return SOB_EXIT_REFUSED;
	}

	ident = PQescapeIdentifier(conn, name, strlen(name));
	if (ident == NULL)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		return SOB_EXIT_SERVER;
	}
	sql = psprintf("CREATE DATABASE %s TEMPLATE template0", ident);
	PQfreemem(ident);
	rc = sob_exec_command(conn, sql);
	pg_free(sql);
	if (rc < 0)
		return SOB_EXIT_SERVER;
	printf("  Created database \"%s\"\n", name);
	return SOB_EXIT_OK;
}

/* Release ci's strings. */
void
sob_conninfo_free(SobConnInfo *ci)
{
	int			i;

	for (i = 0; i < ci->n; i++)
	{
		pg_free(ci->keywords[i]);
		pg_free(ci->values[i]);
	}
	pg_free(ci->keywords);
	pg_free(ci->values);
	pg_free(ci->password);
	memset(ci, 0, sizeof(*ci));
}
