/* webremote: the store's schema, as numbered migrations.
 *
 * SQL is portable between SQLite and PostgreSQL: INTEGER 0/1 for booleans,
 * BIGINT unix seconds for times. The one spelling that differs, the
 * auto-increment primary key, is written `{{ID}}` and replaced per backend.
 * Never edit a released migration; add a new one.
 */
#include "config.h"

#include "gateway/migrations.h"

#include <string.h>

#include "gateway/store.h"

/* Arbitrary, fixed: the key of the PostgreSQL advisory lock that
 * serialises migrations of gateways starting at the same time. */
#define WR_MIGRATION_LOCK_KEY "7702519830"

typedef struct {
  int version;
  const char *sql;
} WrMigration;

static const WrMigration migrations[] = {
  { 1,
    "CREATE TABLE users ("
    "  id {{ID}},"
    "  name TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL,"
    "  password_hash TEXT,"
    "  oidc_issuer TEXT,"
    "  oidc_subject TEXT,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  totp_secret TEXT,"
    "  totp_enabled INTEGER NOT NULL DEFAULT 0,"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  locked_until BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  UNIQUE (oidc_issuer, oidc_subject)"
    ");"
    "CREATE TABLE recovery_codes ("
    "  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  code_hash TEXT NOT NULL,"
    "  used_at BIGINT,"
    "  PRIMARY KEY (user_id, code_hash)"
    ");"
    "CREATE TABLE roles ("
    "  id {{ID}},"
    "  name TEXT NOT NULL UNIQUE,"
    "  builtin INTEGER NOT NULL DEFAULT 0,"
    "  permissions TEXT NOT NULL"
    ");"
    "CREATE TABLE agent_groups ("
    "  id {{ID}},"
    "  name TEXT NOT NULL UNIQUE,"
    "  require_reason INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE agents ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  group_id BIGINT NOT NULL REFERENCES agent_groups (id),"
    "  created_at BIGINT NOT NULL,"
    "  last_seen BIGINT NOT NULL"
    ");"
    "CREATE INDEX agents_group ON agents (group_id);"
    "CREATE TABLE grants ("
    "  id {{ID}},"
    "  subject_kind TEXT NOT NULL"
    "    CHECK (subject_kind IN ('user', 'oidc-group')),"
    "  subject TEXT NOT NULL,"
    "  role_id BIGINT NOT NULL REFERENCES roles (id),"
    "  agent_group_id BIGINT REFERENCES agent_groups (id) ON DELETE CASCADE"
    ");"
    /* NULL (every group) would not collide with itself in a plain UNIQUE
     * constraint. */
    "CREATE UNIQUE INDEX grants_unique ON grants"
    "  (subject_kind, subject, role_id, COALESCE (agent_group_id, 0));"
    "CREATE INDEX grants_role ON grants (role_id);"
    "CREATE TABLE address_failures ("
    "  address TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  window_start BIGINT NOT NULL"
    ");"
    "CREATE TABLE access_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('access', 'api')),"
    "  name TEXT,"
    "  scopes TEXT,"
    "  expires_at BIGINT NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX access_tokens_user ON access_tokens (user_id);"
    /* A revoked API token frees its name. */
    "CREATE UNIQUE INDEX access_tokens_api_name ON access_tokens"
    "  (user_id, name) WHERE kind = 'api' AND revoked = 0;"
    "CREATE TABLE refresh_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  family TEXT NOT NULL,"
    "  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  expires_at BIGINT NOT NULL,"
    "  used INTEGER NOT NULL DEFAULT 0,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens (family);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);"
    /* Sessions are history: they outlive the user (user_id becomes NULL)
     * and the agent (agent_id is not a reference). */
    "CREATE TABLE sessions ("
    "  sid TEXT PRIMARY KEY,"
    "  user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,"
    "  agent_id TEXT NOT NULL,"
    "  display TEXT NOT NULL,"
    "  scopes TEXT NOT NULL,"
    "  reason TEXT,"
    "  started_at BIGINT NOT NULL,"
    "  ended_at BIGINT,"
    "  end_reason TEXT"
    ");"
    "CREATE INDEX sessions_user ON sessions (user_id);"
    "CREATE INDEX sessions_agent ON sessions (agent_id);"
    "INSERT INTO agent_groups (name, require_reason) VALUES ('default', 0);"
    "INSERT INTO roles (name, builtin, permissions) VALUES"
    "  ('admin', 1, 'view control clipboard file-transfer command record"
    " admin audit enroll'),"
    "  ('operator', 1, 'view control clipboard file-transfer command"
    " record'),"
    "  ('viewer', 1, 'view'),"
    "  ('auditor', 1, 'audit');" },
  /* SSO group claims of the user's last sign-in (a JSON array; they decide
   * the user's permissions until the next one), and the last TOTP time
   * step accepted (a code is good once, across every gateway). */
  { 2,
    "ALTER TABLE users ADD COLUMN oidc_groups TEXT;"
    "ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;" },
  /* Enrollment: single-use tokens (hashed) that put a new agent in a
   * group, and each agent's current client certificate. Only the current
   * serial of a non-revoked agent is accepted on /ws/agent. */
  { 3,
    "CREATE TABLE enroll_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  group_id BIGINT NOT NULL REFERENCES agent_groups (id)"
    "    ON DELETE CASCADE,"
    "  expires_at BIGINT NOT NULL,"
    "  used_at BIGINT,"
    "  created_at BIGINT NOT NULL"
    ");"
    "ALTER TABLE agents ADD COLUMN cert_serial TEXT;"
    "ALTER TABLE agents ADD COLUMN cert_not_after BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE agents ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;" },
  /* Audit and recording (docs/compliance.md). audit_events is a hash
   * chain: each row's hash covers the previous row's hash and a digest of
   * its own canonical form (gateway/audit.c); audit_checkpoints sign the
   * chain's head now and then. Recordings are files on disk; the store
   * keeps their segments' hashes and the signed manifest. Times here are
   * unix milliseconds. Per agent group: recording policy ('off',
   * 'best-effort', 'strict') and retention in days (0 = keep). */
  { 4,
    "CREATE TABLE audit_events ("
    "  seq BIGINT PRIMARY KEY,"
    "  ts BIGINT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  actor TEXT,"
    "  agent TEXT,"
    "  session TEXT,"
    "  address TEXT,"
    "  detail TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL"
    ");"
    "CREATE INDEX audit_events_ts ON audit_events (ts);"
    "CREATE INDEX audit_events_session ON audit_events (session);"
    "CREATE INDEX audit_events_actor ON audit_events (actor);"
    "CREATE INDEX audit_events_agent ON audit_events (agent);"
    "CREATE INDEX audit_events_type ON audit_events (type);"
    "CREATE TABLE audit_checkpoints ("
    "  seq BIGINT PRIMARY KEY,"
    "  hash TEXT NOT NULL,"
    "  ts BIGINT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  signature TEXT NOT NULL"
    ");"
    "CREATE TABLE recorders ("
    "  name TEXT PRIMARY KEY,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL"
    ");"
    "CREATE TABLE recordings ("
    "  id TEXT PRIMARY KEY,"
    "  session_id TEXT NOT NULL,"
    "  agent_id TEXT NOT NULL,"
    "  group_name TEXT NOT NULL,"
    "  user_name TEXT NOT NULL,"
    "  recorder TEXT NOT NULL,"
    "  codec TEXT,"
    "  container TEXT,"
    "  started_at BIGINT NOT NULL,"
    "  ended_at BIGINT,"
    "  status TEXT NOT NULL,"
    "  manifest TEXT,"
    "  manifest_signature TEXT,"
    "  deleted_at BIGINT"
    ");"
    "CREATE INDEX recordings_session ON recordings (session_id);"
    "CREATE INDEX recordings_started ON recordings (started_at);"
    "CREATE TABLE recording_segments ("
    "  recording_id TEXT NOT NULL REFERENCES recordings (id)"
    "    ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  file_name TEXT NOT NULL,"
    "  size BIGINT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  start_ms BIGINT NOT NULL,"
    "  end_ms BIGINT NOT NULL,"
    "  partial INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (recording_id, idx)"
    ");"
    "ALTER TABLE sessions ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE agent_groups ADD COLUMN recording TEXT NOT NULL"
    "  DEFAULT 'off';"
    "ALTER TABLE agent_groups ADD COLUMN retention_days INTEGER NOT NULL"
    "  DEFAULT 0;" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == WR_SCHEMA_VERSION);

static gboolean
read_version (WrDb *db, int *version, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;

  if (!wr_db_exec (db, "SELECT COALESCE (MAX (version), 0) FROM "
          "schema_version", NULL, 0, &res, error))
    return FALSE;
  *version = (int) wr_db_result_get_int (res, 0, 0);
  return TRUE;
}

typedef struct {
  int version;
} MigrateData;

static gboolean
migrate_locked (WrDb *db, gpointer user_data, GError **error)
{
  MigrateData *data = user_data;
  gboolean is_pg = g_str_equal (wr_db_get_backend_name (db), "postgresql");
  int current = 0;

  if (is_pg && !wr_db_exec (db, "SELECT pg_advisory_xact_lock ("
          WR_MIGRATION_LOCK_KEY ")", NULL, 0, NULL, error))
    return FALSE;

  if (!wr_db_exec (db, "CREATE TABLE IF NOT EXISTS schema_version ("
          "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
          NULL, 0, NULL, error))
    return FALSE;

  if (!read_version (db, &current, error))
    return FALSE;

  if (current > WR_SCHEMA_VERSION) {
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_SCHEMA_TOO_NEW,
        "database schema version %d is newer than this gateway (%d); "
        "upgrade the gateway", current, WR_SCHEMA_VERSION);
    return FALSE;
  }

  for (guint i = 0; i < G_N_ELEMENTS (migrations); i++) {
    const WrMigration *m = &migrations[i];
    g_auto (GStrv) parts = NULL;
    g_autofree char *sql = NULL;
    WrDbParam params[] = {
      WR_DB_INT (m->version), WR_DB_INT (g_get_real_time () / G_USEC_PER_SEC)
    };

    if (m->version <= current)
      continue;

    parts = g_strsplit (m->sql, "{{ID}}", -1);
    sql = g_strjoinv (wr_db_get_id_column_sql (db), parts);
    if (!wr_db_exec_script (db, sql, error))
      return FALSE;
    if (!wr_db_exec (db, "INSERT INTO schema_version (version, applied_at) "
            "VALUES ($1, $2)", params, G_N_ELEMENTS (params), NULL, error))
      return FALSE;
    g_info ("store: applied schema migration %d", m->version);
    current = m->version;
  }

  data->version = current;
  return TRUE;
}

gboolean
wr_migrations_apply (WrDb *db, int *version, GError **error)
{
  MigrateData data = { 0 };
  g_autoptr (GError) local_error = NULL;

  if (!wr_db_transaction (db, migrate_locked, &data, &local_error)) {
    if (g_error_matches (local_error, WR_STORE_ERROR,
            WR_STORE_ERROR_SCHEMA_TOO_NEW)) {
      g_propagate_error (error, g_steal_pointer (&local_error));
    } else {
      g_debug ("store: migration failed: %s", local_error->message);
      g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
          "cannot bring the database schema up to date: %s",
          local_error->message);
    }
    return FALSE;
  }

  if (version)
    *version = data.version;
  return TRUE;
}

gboolean
wr_migrations_get_version (WrDb *db, int *version, GError **error)
{
  return read_version (db, version, error);
}
