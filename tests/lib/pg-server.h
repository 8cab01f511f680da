/* webremote tests: a throwaway PostgreSQL cluster on 127.0.0.1.
 *
 * initdb + pg_ctl in a temporary directory, on a free port, fsync off
 * (platform-notes.md). As root the server runs as the `postgres` user
 * (runuser), otherwise as the caller. A guard process watches the test
 * program and stops the cluster and removes the directory when the test
 * program goes away for any reason (a failed assertion aborts, a watchdog
 * kills): no cluster outlives its test.
 *
 * The binaries come from $WR_PG_BINDIR, else the newest
 * /usr/lib/postgresql/N/bin, else $PATH.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _WrPgServer WrPgServer;

/**
 * wr_pg_server_start:
 *
 * Returns: (transfer full) (nullable): a running cluster, or %NULL with
 * @error saying why (with initdb's or pg_ctl's output).
 */
WrPgServer *wr_pg_server_start (GError **error);

/* Stops the cluster, removes its directory and frees @server. Waits for
 * the cluster to be gone. %NULL is ignored. */
void wr_pg_server_stop (WrPgServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrPgServer, wr_pg_server_stop)

/* postgresql://postgres@127.0.0.1:PORT/postgres */
const char *wr_pg_server_get_url (WrPgServer *server);
guint16 wr_pg_server_get_port (WrPgServer *server);

/**
 * wr_pg_server_create_database:
 *
 * Makes a fresh, empty place for one test: a new schema that the returned
 * URL puts first on the search path, so unqualified table names land
 * there. (Much faster than CREATE DATABASE; database-wide things such as
 * advisory locks are shared between them.)
 *
 * Returns: (transfer full) (nullable): a postgresql:// URL for it.
 */
char *wr_pg_server_create_database (WrPgServer *server, GError **error);

/**
 * wr_pg_server_exec:
 * @url: a database of this server
 * @sql: statements without parameters (test setup only)
 *
 * Runs SQL as the superuser, e.g. to terminate connections.
 */
gboolean wr_pg_server_exec (const char *url, const char *sql, GError **error);

G_END_DECLS
