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
  WrAudit *audit;      /* not owned, nullable */
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

void
wr_auth_store_set_audit (WrAuthStore *self, WrAudit *audit)
{
  g_return_if_fail (WR_IS_AUTH_STORE (self));
  self->audit = audit;
}

static gboolean
audit_unavailable (GError **error, GError *cause, const char *type)
{
  g_warning ("%s refused: the audit log cannot be written: %s", type,
      cause ? cause->message : "?");
  g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_UNAVAILABLE,
      "the audit log cannot be written; try again later");
  return FALSE;
}

/* One audit row (login, logout, token.refresh_reuse); %FALSE with
 * WR_AUTH_ERROR_UNAVAILABLE when it cannot be written. Inside a
 * transaction the row joins it; the caller rolls back on failure. */
static gboolean
audit_auth (WrAuthStore *self, const char *type, WrAuditOutcome outcome,
    const char *actor, const char *address, JsonObject *detail,
    GError **error)
{
  g_autoptr (GError) local = NULL;
  WrAuditEvent event = {
    .type = type, .outcome = outcome, .actor = actor,
    .address = address && *address ? address : NULL,
  };

  if (!self->audit
      || wr_audit_append (self->audit, &event, detail, NULL, &local))
    return TRUE;
  return audit_unavailable (error, local, type);
}

/* A login row: detail {method, reason?}. */
static gboolean
audit_login (WrAuthStore *self, WrAuditOutcome outcome, const char *actor,
    const char *address, const char *method, const char *reason,
    GError **error)
{
  g_autoptr (JsonObject) detail = json_object_new ();

  json_object_set_string_member (detail, "method", method);
  if (reason)
    json_object_set_string_member (detail, "reason", reason);
  return audit_auth (self, "login", outcome, actor, address, detail, error);
}

/* After the checks passed: the tokens and the login row in one
 * transaction, so that no token exists unless the row does. */
static WrLogin *
issue_audited (WrAuthStore *self, const WrUser *user, const char *address,
    const char *method, GError **error);

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

static WrLogin *
issue_audited (WrAuthStore *self, const WrUser *user, const char *address,
    const char *method, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (WrLogin) login = NULL;

  if (!wr_store_begin (self->store, &local)) {
    store_failed (error, local, "login");
    return NULL;
  }
  if (!wr_store_user_reset_failures (self->store, user->id, &local)) {
    wr_store_rollback (self->store);
    store_failed (error, local, "login");
    return NULL;
  }
  login = issue (self, user, NULL, NULL, error);
  if (!login) {
    wr_store_rollback (self->store);
    return NULL;
  }
  if (!audit_login (self, WR_AUDIT_OK, user->name, address, method, NULL,
          error)) {
    wr_store_rollback (self->store);
    return NULL;
  }
  if (!wr_store_commit (self->store, &local)) {
    audit_unavailable (error, local, "login");
    return NULL;
  }
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
  const char *method = "password";
  const char *reason;

  if (!wr_store_address_failures (self->store, address, now,
          self->policy.address_window, &failures, &local)) {
    store_failed (error, local, "rate limit");
    return NULL;
  }
  if (failures >= self->policy.address_max) {
    /* the name is not shown: it may be a mistyped password */
    if (!audit_login (self, WR_AUDIT_DENIED, NULL, address, method,
            "rate_limited", error))
      return NULL;
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
    if (!audit_login (self, WR_AUDIT_DENIED, user->name, address, method,
            "locked", error))
      return NULL;
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
    reason = !user ? "unknown_user" : !user->password_hash ? "no_password"
        : !password_ok ? "wrong_password" : "disabled";
    if (!audit_login (self, user && user->disabled && password_ok
            ? WR_AUDIT_DENIED : WR_AUDIT_FAILED, user ? user->name : NULL,
            address,
            method, reason, error))
      return NULL;
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "wrong username or password");
    return NULL;
  }

  if (user->totp_enabled) {
    method = req->recovery_code && *req->recovery_code ? "recovery" : "totp";
    if (!check_second_factor (self, user, req, now, &local)) {
      if (g_error_matches (local, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_INVALID)
          && !record_failure (self, user, address, now, error))
        return NULL;
      if (local->domain == WR_AUTH_ERROR
          && (local->code == WR_AUTH_ERROR_TOTP_INVALID
              || local->code == WR_AUTH_ERROR_TOTP_REQUIRED)
          && !audit_login (self, WR_AUDIT_FAILED, user->name, address,
              method, local->code == WR_AUTH_ERROR_TOTP_REQUIRED
              ? "code_required" : "code_invalid", error))
        return NULL;
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  }

  return issue_audited (self, user, address, method, error);
}

static WrLogin *
store_login_sso (WrAuth *auth, const char *issuer, const char *subject,
    const char *username, const char *display_name,
    const char *const *groups, const char *client_address, GError **error)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  g_autoptr (GError) local = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autoptr (WrLogin) login = NULL;

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
  /* The groups of this sign-in decide the permissions until the next;
   * they, the tokens and the login row commit together. */
  if (!wr_store_begin (self->store, &local)) {
    store_failed (error, local, "SSO login");
    return NULL;
  }
  if (!wr_store_user_set_oidc_groups (self->store, user->id, groups, &local)) {
    wr_store_rollback (self->store);
    store_failed (error, local, "SSO login");
    return NULL;
  }
  g_strfreev (user->oidc_groups);
  user->oidc_groups = g_strdupv ((char **) groups);
  login = issue (self, user, NULL, NULL, error);
  if (!login || !audit_login (self, WR_AUDIT_OK, user->name, client_address,
          "sso", NULL, error)) {
    wr_store_rollback (self->store);
    return NULL;
  }
  if (!wr_store_commit (self->store, &local)) {
    audit_unavailable (error, local, "login");
    return NULL;
  }
  return g_steal_pointer (&login);
}

static WrLogin *
store_refresh (WrAuth *auth, const char *refresh_token,
    const char *client_address, GError **error)
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
    g_autoptr (WrUser) owner = wr_store_user_get_by_id (self->store, user_id,
        NULL);
    g_autoptr (JsonObject) detail = json_object_new ();

    g_message ("a refresh token of user %" G_GINT64_FORMAT " was used twice; "
        "its sign-in is revoked", user_id);
    /* The family is revoked already, whatever happens to this row. */
    json_object_set_string_member (detail, "family", family);
    if (!audit_auth (self, "token.refresh_reuse", WR_AUDIT_DENIED,
            owner ? owner->name : NULL, client_address, detail, error))
      return NULL;
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
    const char *refresh_token, const char *client_address)
{
  WrAuthStore *self = WR_AUTH_STORE (auth);
  g_autoptr (GError) local = NULL;
  g_autofree char *who = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean revoked = FALSE;

  if (access_token && *access_token && strlen (access_token) <= 256) {
    g_autofree char *hash = wr_sha256_hex (access_token,
        strlen (access_token));
    g_autoptr (WrTokenInfo) info = wr_store_access_token_lookup (self->store,
        hash, now, NULL);

    if (info) {
      who = g_strdup (info->user_name);
      revoked = TRUE;
    }
    if (!wr_store_access_token_revoke (self->store, hash, &local))
      g_warning ("logout: the store failed: %s", local->message);
    g_clear_error (&local);
  }
  if (refresh_token && *refresh_token && strlen (refresh_token) <= 256) {
    g_autofree char *hash = wr_sha256_hex (refresh_token,
        strlen (refresh_token));
    g_autofree char *family = NULL;
    gint64 user_id = 0;
    WrRefreshResult r = wr_store_refresh_use (self->store, hash, now,
        &user_id, &family, &local);

    if (r != WR_REFRESH_INVALID && family) {
      if (!wr_store_refresh_revoke_family (self->store, family, &local))
        g_warning ("logout: the store failed: %s", local->message);
      revoked = TRUE;
      if (!who) {
        g_autoptr (WrUser) user = wr_store_user_get_by_id (self->store,
            user_id, NULL);
        who = user ? g_strdup (user->name) : NULL;
      }
    }
  }
  /* Signing out is never refused: revoking credentials must not depend
   * on the audit log. A row that cannot be written is logged instead. */
  if (revoked && !audit_auth (self, "logout", WR_AUDIT_OK, who,
          client_address, NULL, &local))
    g_warning ("logout of %s not audited: %s", who ? who : "?",
        local->message);
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
wr_auth_bootstrap_admin (WrStore *store, WrAudit *audit, const char *name,
    GError **error)
{
  g_autoptr (GPtrArray) users = wr_store_user_list (store, error);
  g_autoptr (WrUser) user = NULL;
  g_autoptr (JsonObject) user_detail = NULL;
  g_autoptr (JsonObject) grant_detail = NULL;
  g_autofree char *generated = NULL;
  g_autofree char *hash = NULL;
  const char *password = g_getenv ("WEBREMOTE_ADMIN_PASSWORD");
  WrAuditEvent event = { .outcome = WR_AUDIT_OK, .actor = "system" };
  gint64 grant_id = 0;

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
  /* the account, its grant and their audit rows, all or nothing */
  if (!wr_store_begin (store, error))
    return FALSE;
  user = wr_store_user_create (store, name, "Administrator", hash, error);
  if (!user || !wr_store_grant_create (store, WR_STORE_SUBJECT_USER, name,
          "admin", NULL, &grant_id, error)) {
    wr_store_rollback (store);
    return FALSE;
  }
  user_detail = json_object_new ();
  json_object_set_string_member (user_detail, "user", name);
  json_object_set_string_member (user_detail, "display_name",
      "Administrator");
  grant_detail = json_object_new ();
  json_object_set_int_member (grant_detail, "grant", grant_id);
  json_object_set_string_member (grant_detail, "subject_kind",
      WR_STORE_SUBJECT_USER);
  json_object_set_string_member (grant_detail, "subject", name);
  json_object_set_string_member (grant_detail, "role", "admin");
  if (audit) {
    event.type = "user.create";
    if (!wr_audit_append (audit, &event, user_detail, NULL, error)) {
      wr_store_rollback (store);
      return FALSE;
    }
    event.type = "grant.create";
    if (!wr_audit_append (audit, &event, grant_detail, NULL, error)) {
      wr_store_rollback (store);
      return FALSE;
    }
  }
  if (!wr_store_commit (store, error))
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
