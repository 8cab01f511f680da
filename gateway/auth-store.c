/* webremote: WrAuth over the store. */
#include "config.h"

#include "gateway/auth-store.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/crypto.h"
#include "common/totp.h"

/* OWASP's minimum for Argon2id: m=19 MiB, t=2, p=1. */
#define ARGON2_T_COST 2
#define ARGON2_M_COST 19456
#define ARGON2_PARALLELISM 1
#define ARGON2_HASH_LEN 32
#define ARGON2_SALT_LEN 16
#define ARGON2_ENCODED_MAX 256

#define TOKEN_BYTES 32
#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024

struct _WrAuthStore {
  GObject parent_instance;

  WrStore *store;      /* not owned */
  WrKeyring *keyring;  /* not owned */
  WrAuthPolicy policy;
  /* Verified for unknown users, so that they cost as much as known ones. */
  char *dummy_hash;
};

static void wr_auth_store_iface_init (WrAuthInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WrAuthStore, wr_auth_store, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (WR_TYPE_AUTH, wr_auth_store_iface_init))

void
wr_auth_policy_init_defaults (WrAuthPolicy *policy)
{
  policy->access_lifetime = 600;
  policy->refresh_lifetime = 12 * 3600;
  policy->lockout_threshold = 5;
  policy->lockout_seconds = 900;
  policy->address_max = 20;
  policy->address_window = 300;
}

char *
wr_auth_hash_password (const char *password, GError **error)
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

gboolean
wr_auth_verify_password (const char *encoded, const char *password)
{
  if (!encoded || !password || !g_str_has_prefix (encoded, "$argon2id$"))
    return FALSE;
  return argon2id_verify (encoded, password, strlen (password)) == ARGON2_OK;
}

gboolean
wr_auth_check_password_policy (const char *password, GError **error)
{
  if (!password || strlen (password) > PASSWORD_MAX_BYTES
      || !g_utf8_validate (password, -1, NULL)) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "the password must be UTF-8 text of at most %d bytes",
        PASSWORD_MAX_BYTES);
    return FALSE;
  }
  if (g_utf8_strlen (password, -1) < PASSWORD_MIN_CHARS) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "the password must have at least %d characters", PASSWORD_MIN_CHARS);
    return FALSE;
  }
  return TRUE;
}

static gboolean
store_failed (GError **error, GError *cause, const char *what)
{
  /* the store's message has no secrets; keep it in the debug log only */
  g_warning ("%s: the store failed: %s", what, cause ? cause->message : "?");
  g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_FAILED,
      "internal error");
  return FALSE;
}

static GStrv
groups_of (const WrUser *user)
{
  return user->oidc_groups ? g_strdupv (user->oidc_groups) : NULL;
}

/* The principal for @user, with permissions from the store; NULL (fail
 * closed) when the store fails. */
static WrPrincipal *
principal_for (WrAuthStore *self, const WrUser *user, WrPermission scopes,
    GError **error)
{
  g_autoptr (WrPrincipal) p = wr_principal_new (user->id, user->name);
  g_autoptr (GError) local = NULL;
  WrPermission perms = WR_PERM_NONE;

  p->display_name = g_strdup (user->display_name);
  p->oidc_groups = groups_of (user);
  p->totp_enabled = user->totp_enabled;
  p->sso = user->oidc_subject != NULL;
  p->token_scopes = scopes;
  if (!wr_store_permissions_for (self->store, user->id,
          (const char *const *) p->oidc_groups, NULL, &perms, &local)) {
    store_failed (error, local, "permissions");
    return NULL;
  }
  p->system_permissions = perms & WR_PERM_SYSTEM_MASK & scopes;
  return g_steal_pointer (&p);
}

/* Makes an access token and a refresh token in a new family. */
static WrLogin *
issue (WrAuthStore *self, const WrUser *user, const char *family_in,
    const char *refresh_in, GError **error)
{
  g_autoptr (WrLogin) login = g_new0 (WrLogin, 1);
  g_autoptr (GError) local = NULL;
  g_autofree char *access_hash = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  login->access_token = wr_random_token (TOKEN_BYTES);
  access_hash = wr_sha256_hex (login->access_token,
      strlen (login->access_token));
  if (!wr_store_access_token_insert (self->store, access_hash, user->id,
          WR_TOKEN_ACCESS, NULL, NULL, now + self->policy.access_lifetime,
          now, &local)) {
    store_failed (error, local, "access token");
    return NULL;
  }
  login->expires_in = self->policy.access_lifetime;

  if (refresh_in) {
    login->refresh_token = g_strdup (refresh_in);
  } else {
    g_autofree char *family = family_in ? g_strdup (family_in)
        : wr_random_hex (16);
    g_autofree char *refresh_hash = NULL;

    login->refresh_token = wr_random_token (TOKEN_BYTES);
    refresh_hash = wr_sha256_hex (login->refresh_token,
        strlen (login->refresh_token));
    if (!wr_store_refresh_insert (self->store, refresh_hash, family,
            user->id, now + self->policy.refresh_lifetime, now, &local)) {
      store_failed (error, local, "refresh token");
      return NULL;
    }
  }
  login->refresh_expires_in = self->policy.refresh_lifetime;

  login->principal = principal_for (self, user, WR_PERM_ALL, error);
  if (!login->principal)
    return NULL;
  return g_steal_pointer (&login);
}

static gboolean
record_failure (WrAuthStore *self, const WrUser *user, const char *address,
    gint64 now, GError **error)
{
  g_autoptr (GError) local = NULL;
  guint failures = 0;

  if (user && !wr_store_user_record_failure (self->store, user->id, now,
          self->policy.lockout_threshold, self->policy.lockout_seconds, NULL,
          NULL, &local))
    return store_failed (error, local, "lockout");
  if (!wr_store_address_record_failure (self->store, address, now,
          self->policy.address_window, &failures, &local))
    return store_failed (error, local, "rate limit");
  return TRUE;
}

static gboolean
check_second_factor (WrAuthStore *self, const WrUser *user,
    const WrLoginRequest *req, gint64 now, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) secret = NULL;
  g_autofree char *aad = NULL;
  g_autofree char *secret_text = NULL;
  gint64 step = 0;
  gboolean claimed = FALSE;

  if (req->recovery_code && *req->recovery_code) {
    g_autofree char *hash = wr_recovery_code_hash (req->recovery_code);
    if (wr_store_recovery_code_consume (self->store, user->id, hash, now,
            &local))
      return TRUE;
    if (local)
      return store_failed (error, local, "recovery code");
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_INVALID,
        "the code is not valid");
    return FALSE;
  }
  if (!req->totp_code || !*req->totp_code) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_REQUIRED,
        "enter the code from your authenticator app");
    return FALSE;
  }

  aad = g_strdup_printf ("totp:%" G_GINT64_FORMAT, user->id);
  secret = user->totp_secret ? wr_keyring_open (self->keyring,
      user->totp_secret, aad, &local) : NULL;
  if (!secret)
    return store_failed (error, local, "TOTP secret");
  secret_text = g_strndup (g_bytes_get_data (secret, NULL),
      g_bytes_get_size (secret));
  if (wr_totp_verify (secret_text, req->totp_code, now, 1,
          user->totp_last_step, &step)) {
    /* The store only moves the step forward, so that of two gateways
     * seeing the same code at once only one accepts it. */
    if (!wr_store_user_claim_totp_step (self->store, user->id, step,
            &claimed, &local)) {
      OPENSSL_cleanse (secret_text, strlen (secret_text));
      return store_failed (error, local, "TOTP step");
    }
  }
  OPENSSL_cleanse (secret_text, strlen (secret_text));
  if (!claimed) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_INVALID,
        "the code is not valid");
    return FALSE;
  }
  return TRUE;
}

static WrLogin *
store_login (WrAuth *auth, const WrLoginRequest *req, GError **error)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  const char *address = req->client_address ? req->client_address : "";
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GError) local = NULL;
  g_autoptr (WrUser) user = NULL;
  guint failures = 0;
  gboolean password_ok;

  if (!wr_store_address_failures (self->store, address, now,
          self->policy.address_window, &failures, &local)) {
    store_failed (error, local, "rate limit");
    return NULL;
  }
  if (failures >= self->policy.address_max) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_RATE_LIMITED,
        "too many failed sign-ins from this address; try again later");
    return NULL;
  }

  user = wr_store_user_get_by_name (self->store, req->username, &local);
  if (!user && !g_error_matches (local, WR_STORE_ERROR,
          WR_STORE_ERROR_NOT_FOUND) && !g_error_matches (local,
          WR_STORE_ERROR, WR_STORE_ERROR_INVALID)) {
    store_failed (error, local, "login");
    return NULL;
  }
  g_clear_error (&local);

  if (user && user->locked_until > now) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_LOCKED,
        "this account is locked after too many failed sign-ins; try again "
        "in %" G_GINT64_FORMAT " minutes",
        (user->locked_until - now + 59) / 60);
    return NULL;
  }

  password_ok = wr_auth_verify_password (user && user->password_hash
      ? user->password_hash : self->dummy_hash, req->password);
  if (!user || !user->password_hash || user->disabled || !password_ok) {
    if (!record_failure (self, user && !user->disabled ? user : NULL,
            address, now, error))
      return NULL;
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "wrong username or password");
    return NULL;
  }

  if (user->totp_enabled
      && !check_second_factor (self, user, req, now, &local)) {
    if (g_error_matches (local, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_INVALID)
        && !record_failure (self, user, address, now, error))
      return NULL;
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }

  if (!wr_store_user_reset_failures (self->store, user->id, &local)) {
    store_failed (error, local, "login");
    return NULL;
  }
  return issue (self, user, NULL, NULL, error);
}

static WrLogin *
store_login_sso (WrAuth *auth, const char *issuer, const char *subject,
    const char *username, const char *display_name,
    const char *const *groups, GError **error)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  g_autoptr (GError) local = NULL;
  g_autoptr (WrUser) user = NULL;

  user = wr_store_user_upsert_oidc (self->store, issuer, subject, username,
      display_name, &local);
  if (!user) {
    store_failed (error, local, "SSO login");
    return NULL;
  }
  if (user->disabled) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "this account is disabled");
    return NULL;
  }
  /* The groups of this sign-in decide the permissions until the next. */
  if (!wr_store_user_set_oidc_groups (self->store, user->id, groups, &local)) {
    store_failed (error, local, "SSO login");
    return NULL;
  }
  g_strfreev (user->oidc_groups);
  user->oidc_groups = g_strdupv ((char **) groups);
  return issue (self, user, NULL, NULL, error);
}

static WrLogin *
store_refresh (WrAuth *auth, const char *refresh_token, GError **error)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GError) local = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autofree char *old_hash = NULL;
  g_autofree char *new_hash = NULL;
  g_autofree char *new_token = NULL;
  g_autofree char *family = NULL;
  gint64 user_id = 0;
  WrRefreshResult r;

  if (!refresh_token || !*refresh_token || strlen (refresh_token) > 256) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "not signed in");
    return NULL;
  }
  old_hash = wr_sha256_hex (refresh_token, strlen (refresh_token));
  new_token = wr_random_token (TOKEN_BYTES);
  new_hash = wr_sha256_hex (new_token, strlen (new_token));
  r = wr_store_refresh_rotate (self->store, old_hash, new_hash,
      now + self->policy.refresh_lifetime, now, &user_id, &family, &local);
  if (local) {
    store_failed (error, local, "refresh");
    return NULL;
  }
  if (r == WR_REFRESH_REUSED) {
    g_message ("a refresh token of user %" G_GINT64_FORMAT " was used twice; "
        "its sign-in is revoked", user_id);
  }
  if (r != WR_REFRESH_OK) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "the sign-in has expired or was revoked");
    return NULL;
  }
  user = wr_store_user_get_by_id (self->store, user_id, &local);
  if (!user || user->disabled) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "the sign-in has expired or was revoked");
    return NULL;
  }
  return issue (self, user, family, new_token, error);
}

static WrPrincipal *
store_authenticate_token (WrAuth *auth, const char *token, GError **error)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GError) local = NULL;
  g_autoptr (WrTokenInfo) info = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autofree char *hash = NULL;

  if (strlen (token) > 256)
    return NULL;
  hash = wr_sha256_hex (token, strlen (token));
  info = wr_store_access_token_lookup (self->store, hash, now, &local);
  if (!info) {
    if (local)
      store_failed (error, local, "token");
    return NULL;
  }
  user = wr_store_user_get_by_id (self->store, info->user_id, &local);
  if (!user) {
    if (!g_error_matches (local, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND))
      store_failed (error, local, "token");
    return NULL;
  }
  if (user->disabled)
    return NULL;
  return principal_for (self, user, info->scope_mask, error);
}

static void
store_logout (WrAuth *auth, const char *access_token,
    const char *refresh_token)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  g_autoptr (GError) local = NULL;

  if (access_token && *access_token && strlen (access_token) <= 256) {
    g_autofree char *hash = wr_sha256_hex (access_token,
        strlen (access_token));
    if (!wr_store_access_token_revoke (self->store, hash, &local))
      g_warning ("logout: the store failed: %s", local->message);
    g_clear_error (&local);
  }
  if (refresh_token && *refresh_token && strlen (refresh_token) <= 256) {
    g_autofree char *hash = wr_sha256_hex (refresh_token,
        strlen (refresh_token));
    g_autofree char *family = NULL;
    gint64 now = g_get_real_time () / G_USEC_PER_SEC;
    WrRefreshResult r = wr_store_refresh_use (self->store, hash, now, NULL,
        &family, &local);
    if (r != WR_REFRESH_INVALID && family
        && !wr_store_refresh_revoke_family (self->store, family, &local))
      g_warning ("logout: the store failed: %s", local->message);
  }
}

WrAuthStore *
wr_auth_store_new (WrStore *store, WrKeyring *keyring,
    const WrAuthPolicy *policy)
{
  WrAuthStore *self = g_object_new (WR_TYPE_AUTH_STORE, NULL);
  g_autofree char *dummy = wr_random_token (16);

  self->store = store;
  self->keyring = keyring;
  self->policy = *policy;
  self->dummy_hash = wr_auth_hash_password (dummy, NULL);
  return self;
}

gboolean
wr_auth_bootstrap_admin (WrStore *store, const char *name, GError **error)
{
  g_autoptr (GPtrArray) users = wr_store_user_list (store, error);
  g_autoptr (WrUser) user = NULL;
  g_autofree char *generated = NULL;
  g_autofree char *hash = NULL;
  const char *password = g_getenv ("WEBREMOTE_ADMIN_PASSWORD");

  if (!users)
    return FALSE;
  if (users->len > 0)
    return TRUE;

  if (!password || !*password) {
    generated = wr_random_token (12);
    password = generated;
  }
  hash = wr_auth_hash_password (password, error);
  if (!hash)
    return FALSE;
  user = wr_store_user_create (store, name, "Administrator", hash, error);
  if (!user)
    return FALSE;
  if (!wr_store_grant_create (store, WR_STORE_SUBJECT_USER, name, "admin",
          NULL, NULL, error))
    return FALSE;
  if (generated) {
    /* Shown once, on the terminal that started the gateway, never in the
     * log; only its hash is kept. */
    fprintf (stdout, "webremote-gateway: created the account '%s' with the "
        "password: %s\nwebremote-gateway: it is shown only this once; "
        "change it after signing in\n", name, generated);
    fflush (stdout);
    OPENSSL_cleanse (generated, strlen (generated));
  }
  return TRUE;
}

static void
wr_auth_store_finalize (GObject *object)
{
  WrAuthStore *self = WR_AUTH_STORE (object);

  g_free (self->dummy_hash);
  G_OBJECT_CLASS (wr_auth_store_parent_class)->finalize (object);
}

static void
wr_auth_store_init (WrAuthStore *self)
{
}

static void
wr_auth_store_class_init (WrAuthStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wr_auth_store_finalize;
}

static void
wr_auth_store_iface_init (WrAuthInterface *iface)
{
  iface->login = store_login;
  iface->login_sso = store_login_sso;
  iface->refresh = store_refresh;
  iface->authenticate_token = store_authenticate_token;
  iface->logout = store_logout;
}
