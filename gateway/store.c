/* webremote: the gateway's store, written once over WrDb.
 *
 * Rules kept throughout: every value is a bound parameter; input is checked
 * (UTF-8, control characters, lengths) before the first statement, so bad
 * input writes nothing; check-then-act sequences run in one transaction,
 * and counters that several gateways share are single atomic statements.
 */
#include "config.h"

#include "gateway/store.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "gateway/db.h"
#include "gateway/migrations.h"
#include "gateway/store-private.h"

G_DEFINE_QUARK (wr-store-error-quark, wr_store_error)

/* ------------------------------------------------------------------ */
/* Permissions */

static const char *const permission_names[] = {
  "view", "control", "clipboard", "file-transfer", "command", "record",
  "admin", "audit", "enroll",
};

G_STATIC_ASSERT (G_N_ELEMENTS (permission_names) == 9);
G_STATIC_ASSERT (WR_PERM_ENROLL == 1 << 8);

const char *
wr_permission_get_name (WrPermission permission)
{
  for (guint i = 0; i < G_N_ELEMENTS (permission_names); i++) {
    if (permission == (WrPermission) (1u << i))
      return permission_names[i];
  }
  return NULL;
}

gboolean
wr_permissions_from_string (const char *text, WrPermission *permissions,
    GError **error)
{
  g_auto (GStrv) words = NULL;
  guint result = 0;

  g_return_val_if_fail (permissions != NULL, FALSE);

  if (!text) {
    *permissions = WR_PERM_NONE;
    return TRUE;
  }
  if (!g_utf8_validate (text, -1, NULL)) {
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
        "permissions are not valid UTF-8");
    return FALSE;
  }

  words = g_strsplit_set (text, " \t,", -1);
  for (guint w = 0; words[w]; w++) {
    gboolean known = FALSE;

    if (*words[w] == '\0')
      continue;
    for (guint i = 0; i < G_N_ELEMENTS (permission_names); i++) {
      if (g_str_equal (words[w], permission_names[i])) {
        result |= 1u << i;
        known = TRUE;
        break;
      }
    }
    if (!known) {
      g_autofree char *shown = g_utf8_substring (words[w], 0,
          MIN (g_utf8_strlen (words[w], -1), 32));

      g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
          "unknown permission '%s' (known: view control clipboard "
          "file-transfer command record admin audit enroll)", shown);
      return FALSE;
    }
  }

  *permissions = (WrPermission) result;
  return TRUE;
}

char *
wr_permissions_to_string (WrPermission permissions)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (permission_names); i++) {
    if (permissions & (1u << i)) {
      if (text->len)
        g_string_append_c (text, ' ');
      g_string_append (text, permission_names[i]);
    }
  }
  return g_string_free (text, FALSE);
}

GStrv
wr_permissions_to_strv (WrPermission permissions)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < G_N_ELEMENTS (permission_names); i++) {
    if (permissions & (1u << i))
      g_strv_builder_add (builder, permission_names[i]);
  }
  return g_strv_builder_end (builder);
}

/* Reads a stored permission string; the store only ever writes canonical
 * ones, so junk means someone edited the database by hand. */
static WrPermission
permissions_from_db (const char *text)
{
  g_autoptr (GError) error = NULL;
  WrPermission permissions = WR_PERM_NONE;

  if (!wr_permissions_from_string (text, &permissions, &error)) {
    g_warning ("store: ignoring stored permissions: %s", error->message);
    return WR_PERM_NONE;
  }
  return permissions;
}

/* ------------------------------------------------------------------ */
/* Input checks */

typedef enum {
  TEXT_PLAIN = 0,       /* valid UTF-8, no control characters */
  TEXT_ASCII = 1 << 0,  /* printable ASCII without spaces (hashes, ids) */
  TEXT_MULTILINE = 1 << 1,  /* newlines and tabs allowed */
} TextRule;

static gboolean
check_text (const char *what, const char *value, gsize max, TextRule rule,
    GError **error)
{
  gsize len;

  if (!value) {
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
        "%s is missing", what);
    return FALSE;
  }
  len = strlen (value);
  if (len == 0) {
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
        "%s must not be empty", what);
    return FALSE;
  }
  if (len > max) {
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
        "%s is longer than %" G_GSIZE_FORMAT " bytes", what, max);
    return FALSE;
  }
  if (!g_utf8_validate (value, (gssize) len, NULL)) {
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
        "%s is not valid UTF-8", what);
    return FALSE;
  }

  if (rule & TEXT_ASCII) {
    for (const char *p = value; *p; p++) {
      if (*p < 0x21 || *p > 0x7e) {
        g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
            "%s must be printable ASCII without spaces", what);
        return FALSE;
      }
    }
    return TRUE;
  }

  for (const char *p = value; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if ((rule & TEXT_MULTILINE) && (c == '\n' || c == '\r' || c == '\t'))
      continue;
    if (g_unichar_iscntrl (c)) {
      g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
          "%s must not contain control characters", what);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_optional_text (const char *what, const char *value, gsize max,
    TextRule rule, GError **error)
{
  return value == NULL || check_text (what, value, max, rule, error);
}

/* Checks a permission string and returns its canonical spelling. */
static char *
canonical_permissions (const char *what, const char *text, GError **error)
{
  WrPermission permissions;

  if (!check_text (what, text, 512, TEXT_PLAIN, error))
    return NULL;
  if (!wr_permissions_from_string (text, &permissions, error))
    return NULL;
  return wr_permissions_to_string (permissions);
}

/* ------------------------------------------------------------------ */
/* Database helpers */

static void
set_failed (GError **error, const GError *db_error)
{
  if (db_error)
    g_debug ("store: backend error: %s", db_error->message);
  g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
      "the database failed; the gateway's debug log has details");
}

/* Runs one statement. A unique violation becomes CONFLICT with @conflict
 * when given. A foreign key violation means another gateway or thread
 * changed what this statement refers to between our checks and the write
 * (the checks run first for clear messages): CONFLICT, try again. Anything
 * else is FAILED. */
static gboolean
exec_sql (WrStore *store, const char *sql, const WrDbParam *params,
    guint n_params, WrDbResult **out, const char *conflict, GError **error)
{
  g_autoptr (GError) db_error = NULL;

  if (wr_db_exec (store->db, sql, params, n_params, out, &db_error))
    return TRUE;

  if (conflict && db_error->code == WR_DB_ERROR_UNIQUE) {
    g_debug ("store: constraint: %s", db_error->message);
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT,
        conflict);
  } else if (db_error->code == WR_DB_ERROR_FOREIGN_KEY) {
    g_debug ("store: constraint: %s", db_error->message);
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT,
        "a concurrent change got in the way (something this refers to "
        "was deleted or is still in use); try again");
  } else {
    set_failed (error, db_error);
  }
  return FALSE;
}

#define EXEC(sql, params, out) \
  exec_sql (store, (sql), (params), G_N_ELEMENTS (params), (out), NULL, error)
#define EXEC_CONFLICT(sql, params, out, conflict) \
  exec_sql (store, (sql), (params), G_N_ELEMENTS (params), (out), \
      (conflict), error)

static gboolean
begin (WrStore *store, GError **error)
{
  g_autoptr (GError) db_error = NULL;

  if (wr_db_begin (store->db, &db_error))
    return TRUE;
  set_failed (error, db_error);
  return FALSE;
}

static gboolean
commit (WrStore *store, GError **error)
{
  g_autoptr (GError) db_error = NULL;

  if (wr_db_commit (store->db, &db_error))
    return TRUE;
  set_failed (error, db_error);
  return FALSE;
}

static gboolean
rollback (WrStore *store)
{
  wr_db_rollback (store->db);
  return FALSE;
}

static char *
dup_cell (WrDbResult *res, guint row, guint column)
{
  return g_strdup (wr_db_result_get (res, row, column));
}

/* Sets a WR_STORE_ERROR with a formatted message; returns FALSE so that
 * callers can `return not_found (error, ...)`. */
static gboolean
store_fail (GError **error, WrStoreError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
store_fail (GError **error, WrStoreError code, const char *format, ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, WR_STORE_ERROR, code, message);
  g_free (message);
  return FALSE;
}

#define not_found(error, ...) \
  store_fail ((error), WR_STORE_ERROR_NOT_FOUND, __VA_ARGS__)
#define invalid(error, ...) \
  store_fail ((error), WR_STORE_ERROR_INVALID, __VA_ARGS__)
#define conflict(error, ...) \
  store_fail ((error), WR_STORE_ERROR_CONFLICT, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Open and close */

WrStore *
wr_store_open (const char *url_or_path, GError **error)
{
  g_autoptr (GError) db_error = NULL;
  g_autoptr (WrStore) store = NULL;
  WrDb *db;

  g_return_val_if_fail (url_or_path != NULL, NULL);

  db = wr_db_open (url_or_path, &db_error);
  if (!db) {
    /* The operator's own configuration: the reason (file, host, port)
     * helps and holds no secret; libpq never echoes the password. */
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
        "cannot open the store: %s", db_error->message);
    return NULL;
  }

  store = g_new0 (WrStore, 1);
  store->db = db;
  if (!wr_migrations_apply (db, &store->schema_version, error))
    return NULL;

  g_debug ("store: %s, schema version %d", wr_db_get_backend_name (db),
      store->schema_version);
  return g_steal_pointer (&store);
}

void
wr_store_close (WrStore *store)
{
  if (!store)
    return;
  wr_db_close (store->db);
  g_free (store);
}

const char *
wr_store_get_backend_name (WrStore *store)
{
  return wr_db_get_backend_name (store->db);
}

int
wr_store_get_schema_version (WrStore *store)
{
  return store->schema_version;
}

gboolean
wr_store_begin (WrStore *store, GError **error)
{
  return begin (store, error);
}

gboolean
wr_store_commit (WrStore *store, GError **error)
{
  return commit (store, error);
}

void
wr_store_rollback (WrStore *store)
{
  rollback (store);
}

/* ------------------------------------------------------------------ */
/* Users */

#define USER_COLUMNS "id, name, display_name, password_hash, oidc_issuer, " \
  "oidc_subject, disabled, totp_secret, totp_enabled, failed_logins, " \
  "locked_until, created_at, oidc_groups, totp_last_step"

void
wr_user_free (WrUser *user)
{
  if (!user)
    return;
  g_free (user->name);
  g_free (user->display_name);
  g_free (user->password_hash);
  g_free (user->oidc_issuer);
  g_free (user->oidc_subject);
  if (user->totp_secret)
    memset (user->totp_secret, 0, strlen (user->totp_secret));
  g_free (user->totp_secret);
  g_strfreev (user->oidc_groups);
  g_free (user);
}

/* The groups column holds a JSON array of strings; anything else reads as
 * no groups. */
static GStrv
groups_from_json (const char *text)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GPtrArray) out = NULL;
  JsonNode *root;
  JsonArray *array;

  if (!text || !*text)
    return NULL;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root))
    return NULL;
  array = json_node_get_array (root);
  out = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *e = json_array_get_element (array, i);
    if (JSON_NODE_HOLDS_VALUE (e)
        && json_node_get_value_type (e) == G_TYPE_STRING)
      g_ptr_array_add (out, g_strdup (json_node_get_string (e)));
  }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static WrUser *
user_from_row (WrDbResult *res, guint row)
{
  WrUser *user = g_new0 (WrUser, 1);

  user->id = wr_db_result_get_int (res, row, 0);
  user->name = dup_cell (res, row, 1);
  user->display_name = dup_cell (res, row, 2);
  user->password_hash = dup_cell (res, row, 3);
  user->oidc_issuer = dup_cell (res, row, 4);
  user->oidc_subject = dup_cell (res, row, 5);
  user->disabled = wr_db_result_get_int (res, row, 6) != 0;
  user->totp_secret = dup_cell (res, row, 7);
  user->totp_enabled = wr_db_result_get_int (res, row, 8) != 0;
  user->failed_logins = (int) wr_db_result_get_int (res, row, 9);
  user->locked_until = wr_db_result_get_int (res, row, 10);
  user->created_at = wr_db_result_get_int (res, row, 11);
  user->oidc_groups = groups_from_json (wr_db_result_get (res, row, 12));
  user->totp_last_step = wr_db_result_get_int (res, row, 13);
  return user;
}

static gint64
real_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

WrUser *
wr_store_user_create (WrStore *store, const char *name,
    const char *display_name, const char *password_hash, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autofree char *taken = NULL;

  if (!check_text ("user name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error) ||
      !check_optional_text ("display name", display_name,
          WR_STORE_MAX_DISPLAY_NAME, TEXT_PLAIN, error) ||
      !check_optional_text ("password hash", password_hash,
          WR_STORE_MAX_SECRET, TEXT_ASCII, error))
    return NULL;

  {
    WrDbParam params[] = {
      WR_DB_TEXT (name), WR_DB_TEXT (display_name ? display_name : name),
      WR_DB_TEXT (password_hash), WR_DB_INT (real_now ()),
    };

    taken = g_strdup_printf ("a user named '%s' already exists", name);
    if (!EXEC_CONFLICT ("INSERT INTO users (name, display_name, "
            "password_hash, created_at) VALUES ($1, $2, $3, $4) "
            "RETURNING " USER_COLUMNS, params, &res, taken))
      return NULL;
  }
  return user_from_row (res, 0);
}

WrUser *
wr_store_user_get_by_name (WrStore *store, const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name) };

  if (!check_text ("user name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  if (!EXEC ("SELECT " USER_COLUMNS " FROM users WHERE name = $1", params,
          &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no user named '%s'", name);
    return NULL;
  }
  return user_from_row (res, 0);
}

WrUser *
wr_store_user_get_by_id (WrStore *store, gint64 id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (id) };

  if (!EXEC ("SELECT " USER_COLUMNS " FROM users WHERE id = $1", params,
          &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no user with id %" G_GINT64_FORMAT, id);
    return NULL;
  }
  return user_from_row (res, 0);
}

GPtrArray *
wr_store_user_list (WrStore *store, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  GPtrArray *users;

  if (!exec_sql (store, "SELECT " USER_COLUMNS " FROM users ORDER BY name",
          NULL, 0, &res, NULL, error))
    return NULL;
  users = g_ptr_array_new_full (res->n_rows, (GDestroyNotify) wr_user_free);
  for (guint i = 0; i < res->n_rows; i++)
    g_ptr_array_add (users, user_from_row (res, i));
  return users;
}

/* Revokes the user's login sessions; inside the caller's transaction. */
static gboolean
revoke_login_tokens (WrStore *store, gint64 user_id, GError **error)
{
  WrDbParam params[] = { WR_DB_INT (user_id) };

  return EXEC ("UPDATE access_tokens SET revoked = 1 "
      "WHERE user_id = $1 AND kind = 'access' AND revoked = 0", params, NULL) &&
      EXEC ("UPDATE refresh_tokens SET revoked = 1 "
      "WHERE user_id = $1 AND revoked = 0", params, NULL);
}

gboolean
wr_store_user_set_password (WrStore *store, gint64 id,
    const char *password_hash, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (id), WR_DB_TEXT (password_hash) };

  if (!check_optional_text ("password hash", password_hash,
          WR_STORE_MAX_SECRET, TEXT_ASCII, error))
    return FALSE;

  if (!begin (store, error))
    return FALSE;
  if (!EXEC ("UPDATE users SET password_hash = $2 WHERE id = $1", params,
          &res))
    return rollback (store);
  if (res->changes == 0) {
    rollback (store);
    return not_found (error, "no user with id %" G_GINT64_FORMAT, id);
  }
  if (!revoke_login_tokens (store, id, error))
    return rollback (store);
  return commit (store, error);
}

gboolean
wr_store_user_set_disabled (WrStore *store, gint64 id, gboolean disabled,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (id), WR_DB_BOOL (disabled) };

  if (!begin (store, error))
    return FALSE;
  if (!EXEC ("UPDATE users SET disabled = $2 WHERE id = $1", params, &res))
    return rollback (store);
  if (res->changes == 0) {
    rollback (store);
    return not_found (error, "no user with id %" G_GINT64_FORMAT, id);
  }
  if (disabled && !revoke_login_tokens (store, id, error))
    return rollback (store);
  return commit (store, error);
}

gboolean
wr_store_user_set_display_name (WrStore *store, gint64 id,
    const char *display_name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (id), WR_DB_TEXT (display_name) };

  if (!check_text ("display name", display_name, WR_STORE_MAX_DISPLAY_NAME,
          TEXT_PLAIN, error))
    return FALSE;
  if (!EXEC ("UPDATE users SET display_name = $2 WHERE id = $1", params,
          &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no user with id %" G_GINT64_FORMAT, id);
  return TRUE;
}

gboolean
wr_store_user_set_totp (WrStore *store, gint64 id, const char *secret,
    gboolean enabled, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_INT (id), WR_DB_TEXT (secret), WR_DB_BOOL (enabled)
  };

  if (!check_optional_text ("TOTP secret", secret, WR_STORE_MAX_SECRET,
          TEXT_ASCII, error))
    return FALSE;
  if (enabled && !secret)
    return invalid (error, "TOTP cannot be enabled without a secret");

  if (!EXEC ("UPDATE users SET totp_secret = $2, totp_enabled = $3 "
          "WHERE id = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no user with id %" G_GINT64_FORMAT, id);
  return TRUE;
}

gboolean
wr_store_user_set_oidc_groups (WrStore *store, gint64 id,
    const char *const *groups, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  guint n = 0;
  WrDbParam params[2];

  json_builder_begin_array (b);
  for (const char *const *g = groups; g && *g; g++, n++) {
    if (n >= 256 || strlen (*g) > 256 || !g_utf8_validate (*g, -1, NULL))
      return invalid (error, "too many or too long SSO groups");
    json_builder_add_string_value (b, *g);
  }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  params[0] = WR_DB_INT (id);
  params[1] = WR_DB_TEXT (text);
  if (!EXEC ("UPDATE users SET oidc_groups = $2 WHERE id = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no user with id %" G_GINT64_FORMAT, id);
  return TRUE;
}

gboolean
wr_store_user_claim_totp_step (WrStore *store, gint64 id, gint64 step,
    gboolean *claimed, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (id), WR_DB_INT (step) };

  *claimed = FALSE;
  if (!EXEC ("UPDATE users SET totp_last_step = $2 "
          "WHERE id = $1 AND totp_last_step < $2", params, &res))
    return FALSE;
  *claimed = res->changes > 0;
  return TRUE;
}

gboolean
wr_store_user_delete (WrStore *store, gint64 id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  const char *name;
  WrDbParam by_id[] = { WR_DB_INT (id) };

  if (!begin (store, error))
    return FALSE;
  if (!EXEC ("SELECT name FROM users WHERE id = $1", by_id, &res))
    return rollback (store);
  if (res->n_rows == 0) {
    rollback (store);
    return not_found (error, "no user with id %" G_GINT64_FORMAT, id);
  }
  name = wr_db_result_get (res, 0, 0);

  {
    /* Grants name users; a later user of the same name must not inherit
     * them. */
    WrDbParam by_name[] = { WR_DB_TEXT (name) };

    if (!EXEC ("DELETE FROM grants WHERE subject_kind = 'user' "
            "AND subject = $1", by_name, NULL))
      return rollback (store);
  }
  if (!EXEC ("DELETE FROM users WHERE id = $1", by_id, NULL))
    return rollback (store);
  return commit (store, error);
}

/* A name from an identity provider, made acceptable as a user name. */
static char *
oidc_base_name (const char *preferred)
{
  gsize max = WR_STORE_MAX_NAME - 8;  /* room for "-NNNNNNN" */
  const char *end;

  if (!check_text ("name", preferred, G_MAXSIZE, TEXT_PLAIN, NULL))
    return g_strdup ("user");
  end = preferred + strlen (preferred);
  if ((gsize) (end - preferred) > max) {
    /* Cut at a character boundary. */
    end = preferred + max;
    while (end > preferred && (*end & 0xc0) == 0x80)
      end--;
  }
  return g_strndup (preferred, end - preferred);
}

static WrUser *
user_by_oidc (WrStore *store, const char *issuer, const char *subject,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (issuer), WR_DB_TEXT (subject) };

  if (!EXEC ("SELECT " USER_COLUMNS " FROM users "
          "WHERE oidc_issuer = $1 AND oidc_subject = $2", params, &res))
    return NULL;
  return res->n_rows ? user_from_row (res, 0) : NULL;
}

WrUser *
wr_store_user_upsert_oidc (WrStore *store, const char *issuer,
    const char *subject, const char *preferred_name, const char *display_name,
    GError **error)
{
  g_autofree char *base = NULL;
  g_autofree char *display = NULL;
  GError *local_error = NULL;
  WrUser *user;

  if (!check_text ("OIDC issuer", issuer, WR_STORE_MAX_ISSUER, TEXT_PLAIN,
          error) ||
      !check_text ("OIDC subject", subject, WR_STORE_MAX_SUBJECT, TEXT_PLAIN,
          error))
    return NULL;

  user = user_by_oidc (store, issuer, subject, &local_error);
  if (user || local_error) {
    if (local_error)
      g_propagate_error (error, local_error);
    return user;
  }

  base = oidc_base_name (preferred_name);
  if (check_text ("display name", display_name, WR_STORE_MAX_DISPLAY_NAME,
          TEXT_PLAIN, NULL))
    display = g_strdup (display_name);
  else
    display = g_strdup (base);

  for (guint attempt = 1; attempt <= 100; attempt++) {
    g_autoptr (WrDbResult) res = NULL;
    g_autofree char *name = NULL;

    if (attempt == 1) {
      name = g_strdup (base);
    } else if (attempt < 100) {
      name = g_strdup_printf ("%s-%u", base, attempt);
    } else {
      name = g_strdup_printf ("%s-%08x", base, g_random_int ());
    }

    {
      /* DO NOTHING on any conflict: the name is taken, or another gateway
       * just created this identity; both are sorted out below. */
      WrDbParam params[] = {
        WR_DB_TEXT (name), WR_DB_TEXT (display), WR_DB_TEXT (issuer),
        WR_DB_TEXT (subject), WR_DB_INT (real_now ()),
      };

      if (!EXEC ("INSERT INTO users (name, display_name, oidc_issuer, "
              "oidc_subject, created_at) VALUES ($1, $2, $3, $4, $5) "
              "ON CONFLICT DO NOTHING RETURNING " USER_COLUMNS, params, &res))
        return NULL;
    }
    if (res->n_rows)
      return user_from_row (res, 0);

    user = user_by_oidc (store, issuer, subject, &local_error);
    if (user || local_error) {
      if (local_error)
        g_propagate_error (error, local_error);
      return user;
    }
  }

  g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT,
      "cannot find a free user name for this SSO identity");
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Login throttling */

gboolean
wr_store_user_record_failure (WrStore *store, gint64 user_id, gint64 now,
    guint threshold, gint64 lock_seconds, guint *failures,
    gint64 *locked_until, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_INT (user_id), WR_DB_INT (now), WR_DB_INT (threshold),
    WR_DB_INT (lock_seconds),
  };

  /* One statement: the row lock makes concurrent failures from several
   * gateways count one after the other. SET expressions see the old
   * row in both backends. */
  if (!EXEC ("UPDATE users SET "
          "failed_logins = CASE WHEN $3 > 0 AND failed_logins + 1 >= $3 "
          "  THEN 0 ELSE failed_logins + 1 END, "
          "locked_until = CASE WHEN $3 > 0 AND failed_logins + 1 >= $3 "
          "  THEN $2 + $4 ELSE locked_until END "
          "WHERE id = $1 RETURNING failed_logins, locked_until", params,
          &res))
    return FALSE;
  if (res->n_rows == 0)
    return not_found (error, "no user with id %" G_GINT64_FORMAT, user_id);

  if (failures)
    *failures = (guint) wr_db_result_get_int (res, 0, 0);
  if (locked_until)
    *locked_until = wr_db_result_get_int (res, 0, 1);
  return TRUE;
}

gboolean
wr_store_user_reset_failures (WrStore *store, gint64 user_id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (user_id) };

  if (!EXEC ("UPDATE users SET failed_logins = 0, locked_until = 0 "
          "WHERE id = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no user with id %" G_GINT64_FORMAT, user_id);
  return TRUE;
}

gboolean
wr_store_address_record_failure (WrStore *store, const char *address,
    gint64 now, gint64 window_seconds, guint *failures, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_TEXT (address), WR_DB_INT (now), WR_DB_INT (window_seconds),
  };

  if (!check_text ("client address", address, WR_STORE_MAX_ADDRESS,
          TEXT_ASCII, error))
    return FALSE;

  if (!EXEC ("INSERT INTO address_failures (address, failures, window_start) "
          "VALUES ($1, 1, $2) ON CONFLICT (address) DO UPDATE SET "
          "failures = CASE WHEN address_failures.window_start <= $2 - $3 "
          "  THEN 1 ELSE address_failures.failures + 1 END, "
          "window_start = CASE WHEN address_failures.window_start <= $2 - $3 "
          "  THEN $2 ELSE address_failures.window_start END "
          "RETURNING failures", params, &res))
    return FALSE;

  *failures = (guint) wr_db_result_get_int (res, 0, 0);
  return TRUE;
}

gboolean
wr_store_address_failures (WrStore *store, const char *address, gint64 now,
    gint64 window_seconds, guint *failures, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_TEXT (address), WR_DB_INT (now), WR_DB_INT (window_seconds),
  };

  if (!check_text ("client address", address, WR_STORE_MAX_ADDRESS,
          TEXT_ASCII, error))
    return FALSE;
  if (!EXEC ("SELECT failures FROM address_failures "
          "WHERE address = $1 AND window_start > $2 - $3", params, &res))
    return FALSE;
  *failures = res->n_rows ? (guint) wr_db_result_get_int (res, 0, 0) : 0;
  return TRUE;
}

gboolean
wr_store_address_reset (WrStore *store, const char *address, GError **error)
{
  WrDbParam params[] = { WR_DB_TEXT (address) };

  if (!check_text ("client address", address, WR_STORE_MAX_ADDRESS,
          TEXT_ASCII, error))
    return FALSE;
  return EXEC ("DELETE FROM address_failures WHERE address = $1", params,
      NULL);
}

/* ------------------------------------------------------------------ */
/* Recovery codes */

static gboolean
user_exists (WrStore *store, gint64 user_id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (user_id) };

  if (!EXEC ("SELECT 1 FROM users WHERE id = $1", params, &res))
    return FALSE;
  if (res->n_rows == 0)
    return not_found (error, "no user with id %" G_GINT64_FORMAT, user_id);
  return TRUE;
}

gboolean
wr_store_recovery_codes_replace (WrStore *store, gint64 user_id,
    const char *const *code_hashes, GError **error)
{
  WrDbParam by_user[] = { WR_DB_INT (user_id) };
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = 0;

  for (; code_hashes && code_hashes[n]; n++) {
    if (!check_text ("recovery code hash", code_hashes[n], WR_STORE_MAX_HASH,
            TEXT_ASCII, error))
      return FALSE;
    if (!g_hash_table_add (seen, (gpointer) code_hashes[n]))
      return invalid (error, "duplicate recovery code");
  }
  if (n > WR_STORE_MAX_RECOVERY_CODES)
    return invalid (error, "more than %d recovery codes",
        WR_STORE_MAX_RECOVERY_CODES);

  if (!begin (store, error))
    return FALSE;
  if (!user_exists (store, user_id, error) ||
      !EXEC ("DELETE FROM recovery_codes WHERE user_id = $1", by_user, NULL))
    return rollback (store);
  for (guint i = 0; i < n; i++) {
    WrDbParam params[] = { WR_DB_INT (user_id), WR_DB_TEXT (code_hashes[i]) };

    if (!EXEC ("INSERT INTO recovery_codes (user_id, code_hash) "
            "VALUES ($1, $2)", params, NULL))
      return rollback (store);
  }
  return commit (store, error);
}

gboolean
wr_store_recovery_code_consume (WrStore *store, gint64 user_id,
    const char *code_hash, gint64 now, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_INT (user_id), WR_DB_TEXT (code_hash), WR_DB_INT (now),
  };

  /* An unusable code is just a wrong code: refused, not an error. */
  if (!check_text ("recovery code hash", code_hash, WR_STORE_MAX_HASH,
          TEXT_ASCII, NULL))
    return FALSE;
  if (!EXEC ("UPDATE recovery_codes SET used_at = $3 "
          "WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
          params, &res))
    return FALSE;
  return res->changes == 1;
}

gboolean
wr_store_recovery_codes_remaining (WrStore *store, gint64 user_id,
    guint *remaining, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (user_id) };

  if (!EXEC ("SELECT COUNT (*) FROM recovery_codes "
          "WHERE user_id = $1 AND used_at IS NULL", params, &res))
    return FALSE;
  *remaining = (guint) wr_db_result_get_int (res, 0, 0);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Roles */

void
wr_role_free (WrRole *role)
{
  if (!role)
    return;
  g_free (role->name);
  g_free (role);
}

static WrRole *
role_from_row (WrDbResult *res, guint row)
{
  WrRole *role = g_new0 (WrRole, 1);

  role->id = wr_db_result_get_int (res, row, 0);
  role->name = dup_cell (res, row, 1);
  role->builtin = wr_db_result_get_int (res, row, 2) != 0;
  role->permissions = permissions_from_db (wr_db_result_get (res, row, 3));
  return role;
}

#define ROLE_COLUMNS "id, name, builtin, permissions"

WrRole *
wr_store_role_create (WrStore *store, const char *name,
    const char *permissions, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *taken = NULL;

  if (!check_text ("role name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  canonical = canonical_permissions ("permissions", permissions, error);
  if (!canonical)
    return NULL;

  {
    WrDbParam params[] = { WR_DB_TEXT (name), WR_DB_TEXT (canonical) };

    taken = g_strdup_printf ("a role named '%s' already exists", name);
    if (!EXEC_CONFLICT ("INSERT INTO roles (name, builtin, permissions) "
            "VALUES ($1, 0, $2) RETURNING " ROLE_COLUMNS, params, &res,
            taken))
      return NULL;
  }
  return role_from_row (res, 0);
}

GPtrArray *
wr_store_role_list (WrStore *store, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  GPtrArray *roles;

  if (!exec_sql (store, "SELECT " ROLE_COLUMNS " FROM roles ORDER BY name",
          NULL, 0, &res, NULL, error))
    return NULL;
  roles = g_ptr_array_new_full (res->n_rows, (GDestroyNotify) wr_role_free);
  for (guint i = 0; i < res->n_rows; i++)
    g_ptr_array_add (roles, role_from_row (res, i));
  return roles;
}

WrRole *
wr_store_role_get_by_name (WrStore *store, const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name) };

  if (!check_text ("role name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  if (!EXEC ("SELECT " ROLE_COLUMNS " FROM roles WHERE name = $1", params,
          &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no role named '%s'", name);
    return NULL;
  }
  return role_from_row (res, 0);
}

/* Looks a role up for a change: NOT_FOUND, or INVALID when built in. */
static gboolean
role_id_for_change (WrStore *store, const char *name, gint64 *id,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name) };

  if (!EXEC ("SELECT id, builtin FROM roles WHERE name = $1", params, &res))
    return FALSE;
  if (res->n_rows == 0)
    return not_found (error, "no role named '%s'", name);
  if (wr_db_result_get_int (res, 0, 1))
    return invalid (error, "role '%s' is built in and cannot be changed",
        name);
  *id = wr_db_result_get_int (res, 0, 0);
  return TRUE;
}

gboolean
wr_store_role_update_permissions (WrStore *store, const char *name,
    const char *permissions, GError **error)
{
  g_autofree char *canonical = NULL;
  gint64 id = 0;

  if (!check_text ("role name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  canonical = canonical_permissions ("permissions", permissions, error);
  if (!canonical)
    return FALSE;

  if (!begin (store, error))
    return FALSE;
  if (!role_id_for_change (store, name, &id, error))
    return rollback (store);
  {
    WrDbParam params[] = { WR_DB_INT (id), WR_DB_TEXT (canonical) };

    if (!EXEC ("UPDATE roles SET permissions = $2 WHERE id = $1", params,
            NULL))
      return rollback (store);
  }
  return commit (store, error);
}

gboolean
wr_store_role_delete (WrStore *store, const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  gint64 id = 0;
  gint64 uses;

  if (!check_text ("role name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;

  if (!begin (store, error))
    return FALSE;
  if (!role_id_for_change (store, name, &id, error))
    return rollback (store);
  {
    WrDbParam params[] = { WR_DB_INT (id) };

    if (!EXEC ("SELECT COUNT (*) FROM grants WHERE role_id = $1", params,
            &res))
      return rollback (store);
    uses = wr_db_result_get_int (res, 0, 0);
    if (uses > 0) {
      rollback (store);
      return conflict (error, "role '%s' is used by %" G_GINT64_FORMAT
          " grant(s); delete them first", name, uses);
    }
    if (!EXEC ("DELETE FROM roles WHERE id = $1", params, NULL))
      return rollback (store);
  }
  return commit (store, error);
}

/* ------------------------------------------------------------------ */
/* Agent groups */

void
wr_agent_group_free (WrAgentGroup *group)
{
  if (!group)
    return;
  g_free (group->name);
  g_free (group->recording);
  g_free (group);
}

gboolean
wr_store_recording_mode_is_valid (const char *mode)
{
  return mode && (g_str_equal (mode, WR_STORE_RECORDING_OFF)
      || g_str_equal (mode, WR_STORE_RECORDING_BEST_EFFORT)
      || g_str_equal (mode, WR_STORE_RECORDING_STRICT));
}

static WrAgentGroup *
group_from_row (WrDbResult *res, guint row)
{
  WrAgentGroup *group = g_new0 (WrAgentGroup, 1);

  group->id = wr_db_result_get_int (res, row, 0);
  group->name = dup_cell (res, row, 1);
  group->require_reason = wr_db_result_get_int (res, row, 2) != 0;
  group->recording = dup_cell (res, row, 3);
  group->retention_days = wr_db_result_get_int (res, row, 4);
  return group;
}

#define GROUP_COLUMNS "id, name, require_reason, recording, retention_days"

WrAgentGroup *
wr_store_group_create (WrStore *store, const char *name,
    gboolean require_reason, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autofree char *taken = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name), WR_DB_BOOL (require_reason) };

  if (!check_text ("group name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  taken = g_strdup_printf ("an agent group named '%s' already exists", name);
  if (!EXEC_CONFLICT ("INSERT INTO agent_groups (name, require_reason) "
          "VALUES ($1, $2) RETURNING " GROUP_COLUMNS, params, &res, taken))
    return NULL;
  return group_from_row (res, 0);
}

GPtrArray *
wr_store_group_list (WrStore *store, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  GPtrArray *groups;

  if (!exec_sql (store, "SELECT " GROUP_COLUMNS " FROM agent_groups "
          "ORDER BY name", NULL, 0, &res, NULL, error))
    return NULL;
  groups = g_ptr_array_new_full (res->n_rows,
      (GDestroyNotify) wr_agent_group_free);
  for (guint i = 0; i < res->n_rows; i++)
    g_ptr_array_add (groups, group_from_row (res, i));
  return groups;
}

WrAgentGroup *
wr_store_group_get_by_name (WrStore *store, const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name) };

  if (!check_text ("group name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  if (!EXEC ("SELECT " GROUP_COLUMNS " FROM agent_groups WHERE name = $1",
          params, &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no agent group named '%s'", name);
    return NULL;
  }
  return group_from_row (res, 0);
}

/* The id of a group; NOT_FOUND when there is none. */
static gboolean
group_id (WrStore *store, const char *name, gint64 *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name) };

  if (!EXEC ("SELECT id FROM agent_groups WHERE name = $1", params, &res))
    return FALSE;
  if (res->n_rows == 0)
    return not_found (error, "no agent group named '%s'", name);
  *id = wr_db_result_get_int (res, 0, 0);
  return TRUE;
}

gboolean
wr_store_group_delete (WrStore *store, const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  gint64 id = 0;
  gint64 agents;

  if (!check_text ("group name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (g_str_equal (name, WR_STORE_DEFAULT_GROUP))
    return invalid (error, "the default agent group cannot be deleted");

  if (!begin (store, error))
    return FALSE;
  if (!group_id (store, name, &id, error))
    return rollback (store);
  {
    WrDbParam params[] = { WR_DB_INT (id) };

    if (!EXEC ("SELECT COUNT (*) FROM agents WHERE group_id = $1", params,
            &res))
      return rollback (store);
    agents = wr_db_result_get_int (res, 0, 0);
    if (agents > 0) {
      rollback (store);
      return conflict (error, "agent group '%s' still has %" G_GINT64_FORMAT
          " agent(s); move them first", name, agents);
    }
    if (!EXEC ("DELETE FROM agent_groups WHERE id = $1", params, NULL))
      return rollback (store);
  }
  return commit (store, error);
}

gboolean
wr_store_group_set_require_reason (WrStore *store, const char *name,
    gboolean require_reason, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name), WR_DB_BOOL (require_reason) };

  if (!check_text ("group name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (!EXEC ("UPDATE agent_groups SET require_reason = $2 WHERE name = $1",
          params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no agent group named '%s'", name);
  return TRUE;
}

gboolean
wr_store_group_set_recording (WrStore *store, const char *name,
    const char *mode, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name), WR_DB_TEXT (mode) };

  if (!check_text ("group name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (!wr_store_recording_mode_is_valid (mode))
    return invalid (error, "the recording policy must be off, best-effort "
        "or strict");
  if (!EXEC ("UPDATE agent_groups SET recording = $2 WHERE name = $1",
          params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no agent group named '%s'", name);
  return TRUE;
}

gboolean
wr_store_group_set_retention_days (WrStore *store, const char *name,
    gint64 days, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name), WR_DB_INT (days) };

  if (!check_text ("group name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (days < 0 || days > WR_STORE_MAX_RETENTION_DAYS)
    return invalid (error, "the retention must be 0 (keep forever) to %d "
        "days", WR_STORE_MAX_RETENTION_DAYS);
  if (!EXEC ("UPDATE agent_groups SET retention_days = $2 WHERE name = $1",
          params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no agent group named '%s'", name);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Agents */

void
wr_stored_agent_free (WrStoredAgent *agent)
{
  if (!agent)
    return;
  g_free (agent->id);
  g_free (agent->name);
  g_free (agent->group_name);
  g_free (agent->recording);
  g_free (agent);
}

#define AGENT_SELECT "SELECT a.id, a.name, g.name, g.require_reason, " \
  "a.created_at, a.last_seen, g.recording, g.retention_days FROM agents a " \
  "JOIN agent_groups g ON g.id = a.group_id"

static WrStoredAgent *
agent_from_row (WrDbResult *res, guint row)
{
  WrStoredAgent *agent = g_new0 (WrStoredAgent, 1);

  agent->id = dup_cell (res, row, 0);
  agent->name = dup_cell (res, row, 1);
  agent->group_name = dup_cell (res, row, 2);
  agent->require_reason = wr_db_result_get_int (res, row, 3) != 0;
  agent->created_at = wr_db_result_get_int (res, row, 4);
  agent->last_seen = wr_db_result_get_int (res, row, 5);
  agent->recording = dup_cell (res, row, 6);
  agent->retention_days = wr_db_result_get_int (res, row, 7);
  return agent;
}

gboolean
wr_store_agent_upsert (WrStore *store, const char *id, const char *name,
    gint64 now, GError **error)
{
  WrDbParam params[] = { WR_DB_TEXT (id), WR_DB_TEXT (name), WR_DB_INT (now) };

  if (!check_text ("agent id", id, WR_STORE_MAX_NAME, TEXT_PLAIN, error) ||
      !check_text ("agent name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;

  /* INSERT ... SELECT needs its WHERE for SQLite to parse ON CONFLICT. */
  return EXEC ("INSERT INTO agents (id, name, group_id, created_at, "
      "last_seen) SELECT $1, $2, id, $3, $3 FROM agent_groups "
      "WHERE name = 'default' ON CONFLICT (id) DO UPDATE SET "
      "name = excluded.name, last_seen = excluded.last_seen", params, NULL);
}

gboolean
wr_store_agent_set_group (WrStore *store, const char *id,
    const char *group_name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  gint64 gid = 0;

  if (!check_text ("agent id", id, WR_STORE_MAX_NAME, TEXT_PLAIN, error) ||
      !check_text ("group name", group_name, WR_STORE_MAX_NAME, TEXT_PLAIN,
          error))
    return FALSE;

  if (!begin (store, error))
    return FALSE;
  if (!group_id (store, group_name, &gid, error))
    return rollback (store);
  {
    WrDbParam params[] = { WR_DB_TEXT (id), WR_DB_INT (gid) };

    if (!EXEC ("UPDATE agents SET group_id = $2 WHERE id = $1", params,
            &res))
      return rollback (store);
  }
  if (res->changes == 0) {
    rollback (store);
    return not_found (error, "no agent with id '%s'", id);
  }
  return commit (store, error);
}

WrStoredAgent *
wr_store_agent_get (WrStore *store, const char *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id) };

  if (!check_text ("agent id", id, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  if (!EXEC (AGENT_SELECT " WHERE a.id = $1", params, &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no agent with id '%s'", id);
    return NULL;
  }
  return agent_from_row (res, 0);
}

GPtrArray *
wr_store_agent_list (WrStore *store, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  GPtrArray *agents;

  if (!exec_sql (store, AGENT_SELECT " ORDER BY a.id", NULL, 0, &res, NULL,
          error))
    return NULL;
  agents = g_ptr_array_new_full (res->n_rows,
      (GDestroyNotify) wr_stored_agent_free);
  for (guint i = 0; i < res->n_rows; i++)
    g_ptr_array_add (agents, agent_from_row (res, i));
  return agents;
}

gboolean
wr_store_agent_delete (WrStore *store, const char *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id) };

  if (!check_text ("agent id", id, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (!EXEC ("DELETE FROM agents WHERE id = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no agent with id '%s'", id);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Enrollment */

gboolean
wr_store_enroll_token_create (WrStore *store, const char *token_hash,
    const char *group_name, gint64 expires_at, gint64 now, GError **error)
{
  gint64 gid = 0;

  if (!check_text ("group name", group_name, WR_STORE_MAX_NAME, TEXT_PLAIN,
          error))
    return FALSE;
  if (!begin (store, error))
    return FALSE;
  if (!group_id (store, group_name, &gid, error))
    return rollback (store);
  {
    WrDbParam params[] = { WR_DB_TEXT (token_hash), WR_DB_INT (gid),
      WR_DB_INT (expires_at), WR_DB_INT (now) };

    if (!EXEC ("INSERT INTO enroll_tokens (token_hash, group_id, expires_at, "
            "created_at) VALUES ($1, $2, $3, $4)", params, NULL))
      return rollback (store);
  }
  return commit (store, error);
}

gboolean
wr_store_agent_enroll (WrStore *store, const char *token_hash,
    const char *agent_id, const char *serial, gint64 not_after, gint64 now,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (WrDbResult) agent = NULL;
  gint64 gid;

  if (!check_text ("agent id", agent_id, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (!begin (store, error))
    return FALSE;
  {
    WrDbParam params[] = { WR_DB_TEXT (token_hash), WR_DB_INT (now) };

    /* the consuming UPDATE is the check: two requests racing with one
     * token cannot both change the row */
    if (!EXEC ("UPDATE enroll_tokens SET used_at = $2 WHERE token_hash = $1 "
            "AND used_at IS NULL AND expires_at > $2 RETURNING group_id",
            params, &res))
      return rollback (store);
    if (res->n_rows == 0) {
      g_autoptr (WrDbResult) why = NULL;
      WrDbParam p1[] = { WR_DB_TEXT (token_hash) };

      if (!EXEC ("SELECT used_at, expires_at FROM enroll_tokens "
              "WHERE token_hash = $1", p1, &why))
        return rollback (store);
      rollback (store);
      if (why->n_rows == 0)
        return not_found (error, "the enrollment token is not valid");
      if (wr_db_result_get (why, 0, 0))
        return not_found (error, "the enrollment token was already used");
      return not_found (error, "the enrollment token has expired");
    }
    gid = wr_db_result_get_int (res, 0, 0);
  }
  {
    WrDbParam params[] = { WR_DB_TEXT (agent_id) };

    if (!EXEC ("SELECT cert_serial, revoked FROM agents WHERE id = $1",
            params, &agent))
      return rollback (store);
    if (agent->n_rows > 0 && wr_db_result_get (agent, 0, 0)
        && wr_db_result_get_int (agent, 0, 1) == 0) {
      rollback (store);
      return conflict (error, "the agent id '%s' belongs to an enrolled "
          "agent; revoke or delete it first", agent_id);
    }
  }
  {
    WrDbParam params[] = { WR_DB_TEXT (agent_id), WR_DB_INT (gid),
      WR_DB_TEXT (serial), WR_DB_INT (not_after), WR_DB_INT (now) };

    if (!EXEC ("INSERT INTO agents (id, name, group_id, created_at, "
            "last_seen, cert_serial, cert_not_after, revoked) "
            "VALUES ($1, $1, $2, $5, $5, $3, $4, 0) ON CONFLICT (id) DO "
            "UPDATE SET group_id = excluded.group_id, "
            "cert_serial = excluded.cert_serial, "
            "cert_not_after = excluded.cert_not_after, revoked = 0",
            params, NULL))
      return rollback (store);
  }
  return commit (store, error);
}

void
wr_agent_cert_free (WrAgentCert *cert)
{
  if (!cert)
    return;
  g_free (cert->serial);
  g_free (cert);
}

WrAgentCert *
wr_store_agent_get_cert (WrStore *store, const char *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id) };
  WrAgentCert *cert;

  if (!check_text ("agent id", id, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return NULL;
  if (!EXEC ("SELECT cert_serial, cert_not_after, revoked FROM agents "
          "WHERE id = $1", params, &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no agent with id '%s'", id);
    return NULL;
  }
  cert = g_new0 (WrAgentCert, 1);
  cert->serial = dup_cell (res, 0, 0);
  cert->not_after = wr_db_result_get_int (res, 0, 1);
  cert->revoked = wr_db_result_get_int (res, 0, 2) != 0;
  return cert;
}

gboolean
wr_store_agent_renew_cert (WrStore *store, const char *id,
    const char *old_serial, const char *serial, gint64 not_after,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id), WR_DB_TEXT (old_serial),
    WR_DB_TEXT (serial), WR_DB_INT (not_after) };

  if (!EXEC ("UPDATE agents SET cert_serial = $3, cert_not_after = $4 "
          "WHERE id = $1 AND cert_serial = $2 AND revoked = 0", params, &res))
    return FALSE;
  if (res->changes == 0)
    return conflict (error, "the certificate of agent '%s' is no longer "
        "current", id);
  return TRUE;
}

gboolean
wr_store_agent_revoke (WrStore *store, const char *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id) };

  if (!check_text ("agent id", id, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (!EXEC ("UPDATE agents SET revoked = 1 WHERE id = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no agent with id '%s'", id);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Grants */

void
wr_stored_grant_free (WrStoredGrant *grant)
{
  if (!grant)
    return;
  g_free (grant->subject_kind);
  g_free (grant->subject);
  g_free (grant->role_name);
  g_free (grant->group_name);
  g_free (grant);
}

gboolean
wr_store_grant_create (WrStore *store, const char *subject_kind,
    const char *subject, const char *role_name, const char *group_name,
    gint64 *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  gint64 role_id;
  gint64 gid = 0;

  if (g_strcmp0 (subject_kind, WR_STORE_SUBJECT_USER) != 0 &&
      g_strcmp0 (subject_kind, WR_STORE_SUBJECT_OIDC_GROUP) != 0)
    return invalid (error, "grant subject kind must be 'user' or "
        "'oidc-group'");
  if (!check_text ("grant subject", subject, WR_STORE_MAX_SUBJECT,
          TEXT_PLAIN, error) ||
      !check_text ("role name", role_name, WR_STORE_MAX_NAME, TEXT_PLAIN,
          error) ||
      !check_optional_text ("group name", group_name, WR_STORE_MAX_NAME,
          TEXT_PLAIN, error))
    return FALSE;

  if (!begin (store, error))
    return FALSE;

  if (g_str_equal (subject_kind, WR_STORE_SUBJECT_USER)) {
    WrDbParam params[] = { WR_DB_TEXT (subject) };

    if (!EXEC ("SELECT 1 FROM users WHERE name = $1", params, &res))
      return rollback (store);
    if (res->n_rows == 0) {
      rollback (store);
      return not_found (error, "no user named '%s'", subject);
    }
    g_clear_pointer (&res, wr_db_result_free);
  }

  {
    WrDbParam params[] = { WR_DB_TEXT (role_name) };

    if (!EXEC ("SELECT id FROM roles WHERE name = $1", params, &res))
      return rollback (store);
    if (res->n_rows == 0) {
      rollback (store);
      return not_found (error, "no role named '%s'", role_name);
    }
    role_id = wr_db_result_get_int (res, 0, 0);
    g_clear_pointer (&res, wr_db_result_free);
  }

  if (group_name && !group_id (store, group_name, &gid, error))
    return rollback (store);

  {
    WrDbParam params[] = {
      WR_DB_TEXT (subject_kind), WR_DB_TEXT (subject), WR_DB_INT (role_id),
      group_name ? WR_DB_INT (gid) : WR_DB_INT_NULL,
    };

    if (!EXEC_CONFLICT ("INSERT INTO grants (subject_kind, subject, role_id, "
            "agent_group_id) VALUES ($1, $2, $3, $4) RETURNING id", params,
            &res, "this grant exists already"))
      return rollback (store);
  }
  if (!commit (store, error))
    return FALSE;
  if (id)
    *id = wr_db_result_get_int (res, 0, 0);
  return TRUE;
}

GPtrArray *
wr_store_grant_list (WrStore *store, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  GPtrArray *grants;

  if (!exec_sql (store, "SELECT g.id, g.subject_kind, g.subject, r.name, "
          "ag.name FROM grants g JOIN roles r ON r.id = g.role_id "
          "LEFT JOIN agent_groups ag ON ag.id = g.agent_group_id "
          "ORDER BY g.id", NULL, 0, &res, NULL, error))
    return NULL;
  grants = g_ptr_array_new_full (res->n_rows,
      (GDestroyNotify) wr_stored_grant_free);
  for (guint i = 0; i < res->n_rows; i++) {
    WrStoredGrant *grant = g_new0 (WrStoredGrant, 1);

    grant->id = wr_db_result_get_int (res, i, 0);
    grant->subject_kind = dup_cell (res, i, 1);
    grant->subject = dup_cell (res, i, 2);
    grant->role_name = dup_cell (res, i, 3);
    grant->group_name = dup_cell (res, i, 4);
    g_ptr_array_add (grants, grant);
  }
  return grants;
}

gboolean
wr_store_grant_delete (WrStore *store, gint64 id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (id) };

  if (!EXEC ("DELETE FROM grants WHERE id = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no grant with id %" G_GINT64_FORMAT, id);
  return TRUE;
}

gboolean
wr_store_permissions_for (WrStore *store, gint64 user_id,
    const char *const *oidc_groups, const char *agent_group,
    WrPermission *permissions, GError **error)
{
  g_autoptr (WrDbResult) user = NULL;
  g_autoptr (WrDbResult) res = NULL;
  guint result = 0;
  gint64 gid = 0;

  if (agent_group && !check_text ("group name", agent_group,
          WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;

  {
    WrDbParam params[] = { WR_DB_INT (user_id) };

    if (!EXEC ("SELECT name, disabled FROM users WHERE id = $1", params,
            &user))
      return FALSE;
    if (user->n_rows == 0)
      return not_found (error, "no user with id %" G_GINT64_FORMAT, user_id);
  }
  if (agent_group && !group_id (store, agent_group, &gid, error))
    return FALSE;
  if (wr_db_result_get_int (user, 0, 1)) {
    *permissions = WR_PERM_NONE;
    return TRUE;
  }

  {
    /* Group claims are compared here, not in SQL, so their number does
     * not shape the statement; there are few oidc-group grants. With no
     * agent group, "agent_group_id = NULL" matches nothing and only
     * every-group grants remain. */
    WrDbParam params[] = {
      WR_DB_TEXT (wr_db_result_get (user, 0, 0)),
      agent_group ? WR_DB_INT (gid) : WR_DB_INT_NULL,
    };

    if (!EXEC ("SELECT g.subject_kind, g.subject, r.permissions "
            "FROM grants g JOIN roles r ON r.id = g.role_id "
            "WHERE ((g.subject_kind = 'user' AND g.subject = $1) "
            "  OR g.subject_kind = 'oidc-group') "
            "AND (g.agent_group_id IS NULL OR g.agent_group_id = $2)",
            params, &res))
      return FALSE;
  }

  for (guint i = 0; i < res->n_rows; i++) {
    const char *kind = wr_db_result_get (res, i, 0);
    const char *subject = wr_db_result_get (res, i, 1);

    if (g_str_equal (kind, WR_STORE_SUBJECT_OIDC_GROUP) &&
        !(oidc_groups && g_strv_contains (oidc_groups, subject)))
      continue;
    result |= permissions_from_db (wr_db_result_get (res, i, 2));
  }

  *permissions = (WrPermission) (result &
      (agent_group ? WR_PERM_AGENT_MASK : WR_PERM_SYSTEM_MASK));
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Access and API tokens */

void
wr_token_info_free (WrTokenInfo *info)
{
  if (!info)
    return;
  g_free (info->user_name);
  g_free (info->name);
  g_free (info->scopes);
  g_free (info);
}

void
wr_api_token_free (WrApiToken *token)
{
  if (!token)
    return;
  g_free (token->name);
  g_free (token->scopes);
  g_free (token);
}

gboolean
wr_store_access_token_insert (WrStore *store, const char *token_hash,
    gint64 user_id, WrTokenKind kind, const char *name, const char *scopes,
    gint64 expires_at, gint64 now, GError **error)
{
  g_autofree char *canonical = NULL;
  g_autofree char *taken = NULL;

  if (!check_text ("token hash", token_hash, WR_STORE_MAX_HASH, TEXT_ASCII,
          error) ||
      !check_optional_text ("token name", name, WR_STORE_MAX_NAME,
          TEXT_PLAIN, error))
    return FALSE;
  if (kind != WR_TOKEN_ACCESS && kind != WR_TOKEN_API)
    return invalid (error, "unknown token kind");
  if (kind == WR_TOKEN_API && !name)
    return invalid (error, "an API token needs a name");
  if (expires_at <= now)
    return invalid (error, "token expiry must be in the future");
  if (scopes) {
    canonical = canonical_permissions ("token scopes", scopes, error);
    if (!canonical)
      return FALSE;
  }

  if (!begin (store, error))
    return FALSE;
  if (!user_exists (store, user_id, error))
    return rollback (store);
  {
    WrDbParam params[] = {
      WR_DB_TEXT (token_hash), WR_DB_INT (user_id),
      WR_DB_TEXT (kind == WR_TOKEN_API ? "api" : "access"), WR_DB_TEXT (name),
      WR_DB_TEXT (canonical), WR_DB_INT (expires_at), WR_DB_INT (now),
    };

    taken = name ? g_strdup_printf ("an API token named '%s' exists already",
        name) : g_strdup ("this token exists already");
    if (!EXEC_CONFLICT ("INSERT INTO access_tokens (token_hash, user_id, "
            "kind, name, scopes, expires_at, revoked, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, 0, $7)", params, NULL, taken))
      return rollback (store);
  }
  return commit (store, error);
}

WrTokenInfo *
wr_store_access_token_lookup (WrStore *store, const char *token_hash,
    gint64 now, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (token_hash), WR_DB_INT (now) };
  WrTokenInfo *info;
  const char *scopes;

  /* A malformed token is an unknown token. */
  if (!check_text ("token hash", token_hash, WR_STORE_MAX_HASH, TEXT_ASCII,
          NULL))
    return NULL;

  if (!EXEC ("SELECT t.user_id, u.name, t.kind, t.name, t.scopes, "
          "t.expires_at FROM access_tokens t "
          "JOIN users u ON u.id = t.user_id "
          "WHERE t.token_hash = $1 AND t.revoked = 0 AND t.expires_at > $2 "
          "AND u.disabled = 0", params, &res))
    return NULL;
  if (res->n_rows == 0)
    return NULL;

  info = g_new0 (WrTokenInfo, 1);
  info->user_id = wr_db_result_get_int (res, 0, 0);
  info->user_name = dup_cell (res, 0, 1);
  info->kind = g_strcmp0 (wr_db_result_get (res, 0, 2), "api") == 0 ?
      WR_TOKEN_API : WR_TOKEN_ACCESS;
  info->name = dup_cell (res, 0, 3);
  scopes = wr_db_result_get (res, 0, 4);
  info->scopes = g_strdup (scopes);
  info->scope_mask = scopes ? permissions_from_db (scopes) : WR_PERM_ALL;
  info->expires_at = wr_db_result_get_int (res, 0, 5);
  return info;
}

gboolean
wr_store_access_token_revoke (WrStore *store, const char *token_hash,
    GError **error)
{
  WrDbParam params[] = { WR_DB_TEXT (token_hash) };

  if (!check_text ("token hash", token_hash, WR_STORE_MAX_HASH, TEXT_ASCII,
          NULL))
    return TRUE;
  return EXEC ("UPDATE access_tokens SET revoked = 1 WHERE token_hash = $1",
      params, NULL);
}

GPtrArray *
wr_store_access_token_list_api (WrStore *store, gint64 user_id,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (user_id) };
  GPtrArray *tokens;

  if (!EXEC ("SELECT name, scopes, expires_at, created_at FROM access_tokens "
          "WHERE user_id = $1 AND kind = 'api' AND revoked = 0 "
          "ORDER BY name", params, &res))
    return NULL;
  tokens = g_ptr_array_new_full (res->n_rows,
      (GDestroyNotify) wr_api_token_free);
  for (guint i = 0; i < res->n_rows; i++) {
    WrApiToken *token = g_new0 (WrApiToken, 1);

    token->name = dup_cell (res, i, 0);
    token->scopes = dup_cell (res, i, 1);
    token->expires_at = wr_db_result_get_int (res, i, 2);
    token->created_at = wr_db_result_get_int (res, i, 3);
    g_ptr_array_add (tokens, token);
  }
  return tokens;
}

gboolean
wr_store_access_token_revoke_api (WrStore *store, gint64 user_id,
    const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (user_id), WR_DB_TEXT (name) };

  if (!check_text ("token name", name, WR_STORE_MAX_NAME, TEXT_PLAIN, error))
    return FALSE;
  if (!EXEC ("UPDATE access_tokens SET revoked = 1 WHERE user_id = $1 "
          "AND kind = 'api' AND name = $2 AND revoked = 0", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "no API token named '%s'", name);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Refresh tokens */

static gboolean
insert_refresh (WrStore *store, const char *token_hash, const char *family,
    gint64 user_id, gint64 expires_at, gint64 now, GError **error)
{
  WrDbParam params[] = {
    WR_DB_TEXT (token_hash), WR_DB_TEXT (family), WR_DB_INT (user_id),
    WR_DB_INT (expires_at), WR_DB_INT (now),
  };

  return EXEC_CONFLICT ("INSERT INTO refresh_tokens (token_hash, family, "
      "user_id, expires_at, used, revoked, created_at) "
      "VALUES ($1, $2, $3, $4, 0, 0, $5)", params, NULL,
      "this refresh token exists already");
}

gboolean
wr_store_refresh_insert (WrStore *store, const char *token_hash,
    const char *family, gint64 user_id, gint64 expires_at, gint64 now,
    GError **error)
{
  if (!check_text ("token hash", token_hash, WR_STORE_MAX_HASH, TEXT_ASCII,
          error) ||
      !check_text ("token family", family, WR_STORE_MAX_HASH, TEXT_ASCII,
          error))
    return FALSE;
  if (expires_at <= now)
    return invalid (error, "token expiry must be in the future");

  if (!begin (store, error))
    return FALSE;
  if (!user_exists (store, user_id, error) ||
      !insert_refresh (store, token_hash, family, user_id, expires_at, now,
          error))
    return rollback (store);
  return commit (store, error);
}

/* The core of use and rotate, inside the caller's transaction. */
static WrRefreshResult
refresh_use_locked (WrStore *store, const char *token_hash, gint64 now,
    gint64 *user_id, char **family, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (token_hash), WR_DB_INT (now) };

  /* The conditional UPDATE is the atomic step: of two concurrent uses,
   * the second waits for the first's row lock, then matches nothing. */
  if (!EXEC ("UPDATE refresh_tokens SET used = 1 "
          "WHERE token_hash = $1 AND used = 0 AND revoked = 0 "
          "AND expires_at > $2 "
          "AND user_id IN (SELECT id FROM users WHERE disabled = 0) "
          "RETURNING user_id, family", params, &res))
    return WR_REFRESH_INVALID;
  if (res->n_rows == 1) {
    *user_id = wr_db_result_get_int (res, 0, 0);
    *family = dup_cell (res, 0, 1);
    return WR_REFRESH_OK;
  }
  g_clear_pointer (&res, wr_db_result_free);

  {
    WrDbParam by_hash[] = { WR_DB_TEXT (token_hash) };

    if (!EXEC ("SELECT user_id, family, used FROM refresh_tokens "
            "WHERE token_hash = $1", by_hash, &res))
      return WR_REFRESH_INVALID;
  }
  if (res->n_rows == 0 || wr_db_result_get_int (res, 0, 2) == 0)
    return WR_REFRESH_INVALID;

  /* Used before: someone holds a copy. Revoke the whole login. */
  {
    WrDbParam by_family[] = { WR_DB_TEXT (wr_db_result_get (res, 0, 1)) };

    if (!EXEC ("UPDATE refresh_tokens SET revoked = 1 WHERE family = $1",
            by_family, NULL))
      return WR_REFRESH_INVALID;
  }
  *user_id = wr_db_result_get_int (res, 0, 0);
  *family = dup_cell (res, 0, 1);
  return WR_REFRESH_REUSED;
}

WrRefreshResult
wr_store_refresh_rotate (WrStore *store, const char *old_hash,
    const char *new_hash, gint64 new_expires_at, gint64 now, gint64 *user_id,
    char **family, GError **error)
{
  g_autofree char *found_family = NULL;
  gint64 found_user = 0;
  GError *local_error = NULL;
  WrRefreshResult result;

  if (!check_text ("token hash", old_hash, WR_STORE_MAX_HASH, TEXT_ASCII,
          NULL))
    return WR_REFRESH_INVALID;
  if (new_hash) {
    if (!check_text ("token hash", new_hash, WR_STORE_MAX_HASH, TEXT_ASCII,
            error))
      return WR_REFRESH_INVALID;
    if (new_expires_at <= now) {
      invalid (error, "token expiry must be in the future");
      return WR_REFRESH_INVALID;
    }
  }

  if (!begin (store, error))
    return WR_REFRESH_INVALID;
  result = refresh_use_locked (store, old_hash, now, &found_user,
      &found_family, &local_error);
  if (local_error) {
    rollback (store);
    g_propagate_error (error, local_error);
    return WR_REFRESH_INVALID;
  }
  if (result == WR_REFRESH_OK && new_hash &&
      !insert_refresh (store, new_hash, found_family, found_user,
          new_expires_at, now, error)) {
    rollback (store);
    return WR_REFRESH_INVALID;
  }
  /* REUSED commits too: the family's revocation must stick. */
  if (!commit (store, error))
    return WR_REFRESH_INVALID;

  if (result != WR_REFRESH_INVALID) {
    if (user_id)
      *user_id = found_user;
    if (family)
      *family = g_steal_pointer (&found_family);
  }
  return result;
}

WrRefreshResult
wr_store_refresh_use (WrStore *store, const char *token_hash, gint64 now,
    gint64 *user_id, char **family, GError **error)
{
  return wr_store_refresh_rotate (store, token_hash, NULL, 0, now, user_id,
      family, error);
}

gboolean
wr_store_refresh_revoke_family (WrStore *store, const char *family,
    GError **error)
{
  WrDbParam params[] = { WR_DB_TEXT (family) };

  if (!check_text ("token family", family, WR_STORE_MAX_HASH, TEXT_ASCII,
          error))
    return FALSE;
  return EXEC ("UPDATE refresh_tokens SET revoked = 1 WHERE family = $1",
      params, NULL);
}

gboolean
wr_store_refresh_revoke_user (WrStore *store, gint64 user_id, GError **error)
{
  WrDbParam params[] = { WR_DB_INT (user_id) };

  return EXEC ("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = $1",
      params, NULL);
}

/* ------------------------------------------------------------------ */
/* Sessions */

void
wr_stored_session_free (WrStoredSession *session)
{
  if (!session)
    return;
  g_free (session->sid);
  g_free (session->agent_id);
  g_free (session->display);
  g_free (session->scopes);
  g_free (session->reason);
  g_free (session->end_reason);
  g_free (session);
}

#define SESSION_COLUMNS "sid, user_id, agent_id, display, scopes, reason, " \
  "started_at, ended_at, end_reason"

static WrStoredSession *
session_from_row (WrDbResult *res, guint row)
{
  WrStoredSession *session = g_new0 (WrStoredSession, 1);

  session->sid = dup_cell (res, row, 0);
  session->user_id = wr_db_result_get_int (res, row, 1);
  session->agent_id = dup_cell (res, row, 2);
  session->display = dup_cell (res, row, 3);
  session->scopes = dup_cell (res, row, 4);
  session->reason = dup_cell (res, row, 5);
  session->started_at = wr_db_result_get_int (res, row, 6);
  session->ended_at = wr_db_result_get_int (res, row, 7);
  session->end_reason = dup_cell (res, row, 8);
  return session;
}

gboolean
wr_store_session_insert (WrStore *store, const char *sid, gint64 user_id,
    const char *agent_id, const char *display, const char *scopes,
    const char *reason, gint64 now, GError **error)
{
  g_autofree char *canonical = NULL;

  if (!check_text ("session id", sid, WR_STORE_MAX_NAME, TEXT_ASCII,
          error) ||
      !check_text ("agent id", agent_id, WR_STORE_MAX_NAME, TEXT_PLAIN,
          error) ||
      !check_text ("display", display, WR_STORE_MAX_NAME, TEXT_PLAIN,
          error) ||
      !check_optional_text ("reason", reason, WR_STORE_MAX_REASON,
          TEXT_MULTILINE, error))
    return FALSE;
  canonical = canonical_permissions ("session scopes", scopes, error);
  if (!canonical)
    return FALSE;

  if (!begin (store, error))
    return FALSE;
  if (!user_exists (store, user_id, error))
    return rollback (store);
  {
    WrDbParam params[] = {
      WR_DB_TEXT (sid), WR_DB_INT (user_id), WR_DB_TEXT (agent_id),
      WR_DB_TEXT (display), WR_DB_TEXT (canonical), WR_DB_TEXT (reason),
      WR_DB_INT (now),
    };

    if (!EXEC_CONFLICT ("INSERT INTO sessions (sid, user_id, agent_id, "
            "display, scopes, reason, started_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)", params, NULL,
            "a session with this id exists already"))
      return rollback (store);
  }
  return commit (store, error);
}

gboolean
wr_store_session_end (WrStore *store, const char *sid,
    const char *end_reason, gint64 now, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_TEXT (sid), WR_DB_TEXT (end_reason), WR_DB_INT (now),
  };
  WrDbParam by_sid[] = { WR_DB_TEXT (sid) };

  if (!check_text ("session id", sid, WR_STORE_MAX_NAME, TEXT_ASCII,
          error) ||
      !check_optional_text ("end reason", end_reason, WR_STORE_MAX_REASON,
          TEXT_MULTILINE, error))
    return FALSE;

  if (!EXEC ("UPDATE sessions SET ended_at = $3, end_reason = $2 "
          "WHERE sid = $1 AND ended_at IS NULL", params, &res))
    return FALSE;
  if (res->changes > 0)
    return TRUE;
  g_clear_pointer (&res, wr_db_result_free);
  if (!EXEC ("SELECT 1 FROM sessions WHERE sid = $1", by_sid, &res))
    return FALSE;
  if (res->n_rows == 0)
    return not_found (error, "no session with id '%s'", sid);
  return TRUE;
}

WrStoredSession *
wr_store_session_get (WrStore *store, const char *sid, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (sid) };

  if (!check_text ("session id", sid, WR_STORE_MAX_NAME, TEXT_ASCII, error))
    return NULL;
  if (!EXEC ("SELECT " SESSION_COLUMNS " FROM sessions WHERE sid = $1",
          params, &res))
    return NULL;
  if (res->n_rows == 0) {
    not_found (error, "no session with id '%s'", sid);
    return NULL;
  }
  return session_from_row (res, 0);
}

GPtrArray *
wr_store_session_list (WrStore *store, gboolean live_only, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_BOOL (live_only) };
  GPtrArray *sessions;

  if (!EXEC ("SELECT " SESSION_COLUMNS " FROM sessions "
          "WHERE $1 = 0 OR ended_at IS NULL "
          "ORDER BY started_at DESC, sid", params, &res))
    return NULL;
  sessions = g_ptr_array_new_full (res->n_rows,
      (GDestroyNotify) wr_stored_session_free);
  for (guint i = 0; i < res->n_rows; i++)
    g_ptr_array_add (sessions, session_from_row (res, i));
  return sessions;
}

/* ------------------------------------------------------------------ */
/* Housekeeping */

gboolean
wr_store_purge_expired (WrStore *store, gint64 now, gint64 address_window,
    GError **error)
{
  WrDbParam by_now[] = { WR_DB_INT (now) };
  WrDbParam window[] = { WR_DB_INT (now), WR_DB_INT (address_window) };

  if (!begin (store, error))
    return FALSE;
  if (!EXEC ("DELETE FROM access_tokens WHERE expires_at <= $1", by_now,
          NULL) ||
      !EXEC ("DELETE FROM refresh_tokens WHERE expires_at <= $1", by_now,
          NULL) ||
      !EXEC ("DELETE FROM address_failures WHERE window_start <= $1 - $2",
          window, NULL))
    return rollback (store);
  return commit (store, error);
}
