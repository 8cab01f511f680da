/* webremote: the store's numbered schema migrations.
 *
 * Each migration runs once, in order, inside one transaction with the
 * version it brings recorded in `schema_version`. A database whose version
 * is newer than WR_SCHEMA_VERSION is refused rather than guessed at.
 */
#pragma once

#include "gateway/db.h"

G_BEGIN_DECLS

/* The newest schema this binary knows. */
#define WR_SCHEMA_VERSION 4

/**
 * wr_migrations_apply:
 * @version: (out) (optional): the schema version after migrating
 *
 * Brings @db to WR_SCHEMA_VERSION. Safe when several gateways start at
 * once on one PostgreSQL database (an advisory lock serialises them).
 *
 * Returns: %FALSE with WR_STORE_ERROR_SCHEMA_TOO_NEW when the database is
 * newer than this binary, or WR_STORE_ERROR_FAILED.
 */
gboolean wr_migrations_apply (WrDb *db, int *version, GError **error);

/* The recorded schema version, 0 for an empty database. */
gboolean wr_migrations_get_version (WrDb *db, int *version, GError **error);

G_END_DECLS
