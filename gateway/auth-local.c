/* webremote: the built-in WrAuth: one admin account and a pre-shared agent
 * token. */
#include "config.h"

#include "gateway/auth-local.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/crypto.h"

/* OWASP's minimum for Argon2id: m=19 MiB, t=2, p=1. */
#define ARGON2_T_COST 2
#define ARGON2_M_COST 19456
#define ARGON2_PARALLELISM 1
#define ARGON2_HASH_LEN 32
#define ARGON2_SALT_LEN 16
#define ARGON2_ENCODED_MAX 256

/* Failed logins allowed per client address per window. */
#define LOGIN_FAILURES_MAX 10
#define LOGIN_WINDOW_US (60 * G_USEC_PER_SEC)
/* Bounds the memory an attacker can make us spend on address records. */
#define LOGIN_ADDRESSES_MAX 10000

typedef struct {
  WrPrincipal *principal;
  gint64 expires_at; /* monotonic, microseconds */
} TokenEntry;

typedef struct {
  guint failures;
  gint64 window_start;
} FailureEntry;

struct _WrAuthLocal {
  GObject parent_instance;

  char *admin_user;
  char *admin_hash; /* Argon2id encoded */
  char *agent_token;
  gint64 token_lifetime;

  GHashTable *tokens;   /* sha256(token) hex -> TokenEntry */
  GHashTable *failures; /* address -> FailureEntry */
};

static void wr_auth_local_iface_init (WrAuthInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WrAuthLocal, wr_auth_local, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (WR_TYPE_AUTH, wr_auth_local_iface_init))

static void
token_entry_free (TokenEntry *entry)
{
  wr_principal_free (entry->principal);
  g_free (entry);
}

static char *
hash_password (const char *password, GError **error)
{
  guchar salt[ARGON2_SALT_LEN];
  char encoded[ARGON2_ENCODED_MAX];
  int rc;

  if (RAND_bytes (salt, sizeof salt) != 1) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_FAILED,
        "the random generator failed");
    return NULL;
  }
  rc = argon2id_hash_encoded (ARGON2_T_COST, ARGON2_M_COST, ARGON2_PARALLELISM,
      password, strlen (password), salt, sizeof salt, ARGON2_HASH_LEN,
      encoded, sizeof encoded);
  if (rc != ARGON2_OK) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_FAILED,
        "could not hash the password: %s", argon2_error_message (rc));
    return NULL;
  }
  return g_strdup (encoded);
}

static gboolean
write_secret_file (const char *path, const char *text, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  gsize len = strlen (text);

  if (fd < 0 || write (fd, text, len) != (ssize_t) len || fsync (fd) < 0) {
    int e = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
        "could not write %s: %s", path, g_strerror (e));
    return FALSE;
  }
  close (fd);
  return TRUE;
}

static gboolean
load_admin_hash (WrAuthLocal *self, const char *state_dir, GError **error)
{
  const char *env = g_getenv ("WEBREMOTE_ADMIN_PASSWORD");
  g_autofree char *path = g_build_filename (state_dir, "admin-password", NULL);
  g_autofree char *stored = NULL;
  g_autofree char *password = NULL;

  if (env && *env) {
    self->admin_hash = hash_password (env, error);
    return self->admin_hash != NULL;
  }

  if (g_file_get_contents (path, &stored, NULL, NULL)) {
    g_strstrip (stored);
    if (!g_str_has_prefix (stored, "$argon2id$")) {
      g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_FAILED,
          "%s does not hold an Argon2id hash; delete it to make a new "
          "admin password", path);
      return FALSE;
    }
    self->admin_hash = g_steal_pointer (&stored);
    return TRUE;
  }

  password = wr_random_token (12);
  self->admin_hash = hash_password (password, error);
  if (!self->admin_hash)
    return FALSE;
  if (!write_secret_file (path, self->admin_hash, error))
    return FALSE;
  /* Shown once, on the terminal that started the gateway, never in the log;
   * only its hash is kept. */
  fprintf (stdout, "webremote-gateway: created the account '%s' with the "
      "password: %s\nwebremote-gateway: it is shown only this once; set "
      "WEBREMOTE_ADMIN_PASSWORD or delete %s to replace it\n",
      self->admin_user, password, path);
  fflush (stdout);
  OPENSSL_cleanse (password, strlen (password));
  return TRUE;
}

WrAuthLocal *
wr_auth_local_new (const char *admin_user, const char *state_dir,
    const char *agent_token, gint64 token_lifetime, GError **error)
{
  g_autoptr (WrAuthLocal) self = g_object_new (WR_TYPE_AUTH_LOCAL, NULL);

  self->admin_user = g_strdup (admin_user);
  self->agent_token = g_strdup (agent_token);
  self->token_lifetime = token_lifetime;
  if (!load_admin_hash (self, state_dir, error))
    return NULL;
  return g_steal_pointer (&self);
}

static gboolean
address_is_limited (WrAuthLocal *self, const char *address, gint64 now)
{
  FailureEntry *f = g_hash_table_lookup (self->failures, address);

  if (!f)
    return FALSE;
  if (now - f->window_start > LOGIN_WINDOW_US) {
    g_hash_table_remove (self->failures, address);
    return FALSE;
  }
  return f->failures >= LOGIN_FAILURES_MAX;
}

static void
record_failure (WrAuthLocal *self, const char *address, gint64 now)
{
  FailureEntry *f = g_hash_table_lookup (self->failures, address);

  if (!f) {
    if (g_hash_table_size (self->failures) >= LOGIN_ADDRESSES_MAX)
      g_hash_table_remove_all (self->failures);
    f = g_new0 (FailureEntry, 1);
    f->window_start = now;
    g_hash_table_insert (self->failures, g_strdup (address), f);
  }
  f->failures++;
}

static void
prune_tokens (WrAuthLocal *self, gint64 now)
{
  GHashTableIter iter;
  TokenEntry *entry;

  g_hash_table_iter_init (&iter, self->tokens);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (entry->expires_at <= now)
      g_hash_table_iter_remove (&iter);
}

static char *
local_login (WrAuth *auth, const char *username, const char *password,
    const char *client_address, gint64 *expires_in, WrPrincipal **principal,
    GError **error)
{
  WrAuthLocal *self = WR_AUTH_LOCAL (auth);
  const char *address = client_address ? client_address : "";
  gint64 now = g_get_monotonic_time ();
  gboolean user_ok, password_ok;
  TokenEntry *entry;
  char *token;

  if (address_is_limited (self, address, now)) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_RATE_LIMITED,
        "too many failed logins; try again in a minute");
    return NULL;
  }

  /* Always run the hash so that an unknown user costs as much as a wrong
   * password. */
  user_ok = wr_constant_time_equal (username, self->admin_user);
  password_ok = argon2id_verify (self->admin_hash, password,
      strlen (password)) == ARGON2_OK;
  if (!user_ok || !password_ok) {
    record_failure (self, address, now);
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "wrong username or password");
    return NULL;
  }
  g_hash_table_remove (self->failures, address);

  prune_tokens (self, now);
  token = wr_random_token (32);
  entry = g_new0 (TokenEntry, 1);
  entry->principal = wr_principal_new (self->admin_user, TRUE);
  entry->expires_at = now + self->token_lifetime * G_USEC_PER_SEC;
  g_hash_table_insert (self->tokens, wr_sha256_hex (token, strlen (token)),
      entry);
  *expires_in = self->token_lifetime;
  *principal = wr_principal_copy (entry->principal);
  return token;
}

/* Tokens are looked up by their SHA-256, so neither the table nor the
 * lookup time reveals anything about a valid token. */
static WrPrincipal *
local_authenticate_token (WrAuth *auth, const char *token)
{
  WrAuthLocal *self = WR_AUTH_LOCAL (auth);
  g_autofree char *key = wr_sha256_hex (token, strlen (token));
  TokenEntry *entry = g_hash_table_lookup (self->tokens, key);

  if (!entry)
    return NULL;
  if (entry->expires_at <= g_get_monotonic_time ()) {
    g_hash_table_remove (self->tokens, key);
    return NULL;
  }
  return wr_principal_copy (entry->principal);
}

static void
local_logout (WrAuth *auth, const char *token)
{
  WrAuthLocal *self = WR_AUTH_LOCAL (auth);
  g_autofree char *key = wr_sha256_hex (token, strlen (token));

  g_hash_table_remove (self->tokens, key);
}

static char *
local_authenticate_agent (WrAuth *auth, const char *credential,
    GError **error)
{
  WrAuthLocal *self = WR_AUTH_LOCAL (auth);

  if (!self->agent_token
      || !wr_constant_time_equal (credential, self->agent_token)) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "the agent token is not valid");
    return NULL;
  }
  /* a pre-shared token is not bound to one agent id */
  return g_strdup ("");
}

static void
wr_auth_local_finalize (GObject *object)
{
  WrAuthLocal *self = WR_AUTH_LOCAL (object);

  g_free (self->admin_user);
  g_free (self->admin_hash);
  if (self->agent_token)
    OPENSSL_cleanse (self->agent_token, strlen (self->agent_token));
  g_free (self->agent_token);
  g_hash_table_unref (self->tokens);
  g_hash_table_unref (self->failures);
  G_OBJECT_CLASS (wr_auth_local_parent_class)->finalize (object);
}

static void
wr_auth_local_init (WrAuthLocal *self)
{
  self->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) token_entry_free);
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
}

static void
wr_auth_local_class_init (WrAuthLocalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wr_auth_local_finalize;
}

static void
wr_auth_local_iface_init (WrAuthInterface *iface)
{
  iface->login = local_login;
  iface->authenticate_token = local_authenticate_token;
  iface->logout = local_logout;
  iface->authenticate_agent = local_authenticate_agent;
}
