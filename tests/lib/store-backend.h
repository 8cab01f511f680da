/* webremote tests: the two store backends every store test runs on,
 * SQLite (a file in a temporary directory) and PostgreSQL (a fresh schema
 * in a throwaway cluster shared by the test program, tests/lib/pg-server.h).
 */
#pragma once

#include <glib.h>

#include "tests/lib/pg-server.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;   /* what the store or driver calls its backend */
  gboolean pg;
} WrTestBackend;

/* SQLite, then PostgreSQL. */
extern const WrTestBackend wr_test_backends[2];

/**
 * wr_test_backend_location:
 * @backend: one of #wr_test_backends
 * @dir: (nullable): where the SQLite file goes; unused for PostgreSQL
 * @sqlite_name: (nullable): the SQLite file's name in @dir
 *
 * For PostgreSQL, starts the program's cluster on first use (a cluster
 * that does not start fails the test: no skip, scripts/test installs
 * PostgreSQL) and makes a fresh schema in it.
 *
 * Returns: (transfer full): the store location: a postgresql:// URL, or
 *   the path @dir/@sqlite_name.
 */
char *wr_test_backend_location (const WrTestBackend *backend,
    const char *dir, const char *sqlite_name);

/* The cluster started by wr_test_backend_location(), or %NULL. */
WrPgServer *wr_test_backend_get_pg_server (void);

/* Stops the cluster, if one was started: at the end of main(). */
void wr_test_backends_shutdown (void);

/* Removes the SQLite file @path with its -wal and -shm files. */
void wr_test_sqlite_remove (const char *path);

/* Removes @path and everything under it; symbolic links are removed, not
 * followed. */
void wr_test_remove_tree (const char *path);

G_END_DECLS
