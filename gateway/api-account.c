/* webremote: REST handlers for the caller's own account: password, TOTP,
 * API tokens. */
#include "config.h"

#include <string.h>

#include "common/crypto.h"
#include "common/totp.h"
#include "gateway/api-routes.h"
#include "gateway/auth-store.h"

#define RECOVERY_CODES 10
#define API_TOKEN_MAX_LIFETIME (366 * 24 * 3600)

JsonNode *
wr_api_user_json (const WrPrincipal *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_auto (GStrv) perms = wr_permissions_to_strv (p->system_permissions);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, p->name);
  json_builder_set_member_name (b, "display_name");
  json_builder_add_string_value (b, p->display_name ? p->display_name
      : p->name);
  json_builder_set_member_name (b, "permissions");
  json_builder_begin_array (b);
  for (char **s = perms; s && *s; s++)
    json_builder_add_string_value (b, *s);
  json_builder_end_array (b);
  /* kept for the first web client, which looked only at this */
  json_builder_set_member_name (b, "admin");
  json_builder_add_boolean_value (b, (p->system_permissions & WR_PERM_ADMIN)
      != 0);
  json_builder_set_member_name (b, "totp_enabled");
  json_builder_add_boolean_value (b, p->totp_enabled);
  json_builder_set_member_name (b, "sso");
  json_builder_add_boolean_value (b, p->sso);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
wr_api_store_error (WrApiCall *call, const GError *error)
{
  if (error && error->domain == WR_STORE_ERROR) {
    switch ((WrStoreError) error->code) {
      case WR_STORE_ERROR_NOT_FOUND:
        wr_api_call_error (call, 404, "not_found", error->message);
        return;
      case WR_STORE_ERROR_CONFLICT:
        wr_api_call_error (call, 409, "conflict", error->message);
        return;
      case WR_STORE_ERROR_INVALID:
        wr_api_call_error (call, 400, "bad_request", error->message);
        return;
      default:
        break;
    }
  }
  if (error)
    g_warning ("API %s %s: %s", call->method, call->path, error->message);
  wr_api_call_error (call, 500, "internal", "internal error");
}

JsonObject *
wr_audit_detail (const char *first_key, ...)
{
  JsonObject *detail = json_object_new ();
  va_list args;

  va_start (args, first_key);
  for (const char *key = first_key; key; key = va_arg (args, const char *)) {
    const char *value = va_arg (args, const char *);

    if (value)
      json_object_set_string_member (detail, key, value);
  }
  va_end (args);
  return detail;
}

static void
audit_unavailable (WrApiCall *call, const GError *error)
{
  g_warning ("API %s %s: the audit log cannot be written: %s", call->method,
      call->path, error ? error->message : "?");
  wr_api_call_error (call, 503, "unavailable",
      "the audit log cannot be written; nothing was changed");
}

gboolean
wr_api_tx_begin (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;

  if (wr_store_begin (gw->store, &error))
    return TRUE;
  wr_api_store_error (call, error);
  return FALSE;
}

gboolean
wr_api_tx_audit (WrGateway *gw, WrApiCall *call, const char *type,
    const char *agent, JsonObject *detail)
{
  g_autoptr (JsonObject) owned = detail;
  g_autoptr (GError) error = NULL;
  WrAuditEvent event = {
    .type = type,
    .outcome = WR_AUDIT_OK,
    .actor = call->user ? call->user->name : NULL,
    .agent = agent,
    .address = call->client_address,
  };

  if (!gw->audit
      || wr_audit_append (gw->audit, &event, owned, NULL, &error))
    return TRUE;
  wr_store_rollback (gw->store);
  audit_unavailable (call, error);
  return FALSE;
}

gboolean
wr_api_tx_commit (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;

  if (wr_store_commit (gw->store, &error))
    return TRUE;
  audit_unavailable (call, error);
  return FALSE;
}

void
wr_api_tx_rollback (WrGateway *gw)
{
  wr_store_rollback (gw->store);
}

gboolean
wr_api_audit (WrGateway *gw, WrApiCall *call, const char *type,
    WrAuditOutcome outcome, const char *actor, const char *agent,
    JsonObject *detail)
{
  g_autoptr (JsonObject) owned = detail;
  g_autoptr (GError) error = NULL;
  WrAuditEvent event = {
    .type = type,
    .outcome = outcome,
    .actor = actor ? actor : call->user ? call->user->name : NULL,
    .agent = agent,
    .address = call->client_address,
  };

  if (!gw->audit
      || wr_audit_append (gw->audit, &event, owned, NULL, &error))
    return TRUE;
  audit_unavailable (call, error);
  return FALSE;
}

void
wr_api_me (WrGateway *gw, WrApiCall *call)
{
  wr_api_call_respond (call, 200, wr_api_user_json (call->user));
}

/* Re-reads the caller, for checks that need the password hash or TOTP. */
static WrUser *
current_user (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  WrUser *user = wr_store_user_get_by_id (gw->store, call->user->user_id,
      &error);

  if (!user)
    wr_api_store_error (call, error);
  return user;
}

void
wr_api_me_password (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autofree char *hash = NULL;
  const char *current = NULL, *next = NULL;

  if (!body
      || !wr_api_get_string (call, body, "current_password", TRUE, 1024,
          &current)
      || !wr_api_get_string (call, body, "new_password", TRUE, 1024, &next))
    return;
  user = current_user (gw, call);
  if (!user)
    return;
  if (!wr_auth_verify_password (user->password_hash, current)) {
    wr_api_call_error (call, 403, "wrong_password",
        "the current password is wrong");
    return;
  }
  if (!wr_auth_check_password_policy (next, &error)) {
    wr_api_call_error (call, 400, "weak_password", error->message);
    return;
  }
  hash = wr_auth_hash_password (next, &error);
  if (!hash) {
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  /* also revokes every sign-in of the user, this one included */
  if (!wr_store_user_set_password (gw->store, user->id, hash, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "user.password", NULL,
          wr_audit_detail ("user", user->name, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s changed their password", user->name);
  wr_api_call_respond (call, 204, NULL);
}

static char *
totp_aad (gint64 user_id)
{
  return g_strdup_printf ("totp:%" G_GINT64_FORMAT, user_id);
}

void
wr_api_me_totp_setup (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = current_user (gw, call);
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *aad = NULL;
  g_autofree char *uri = NULL;

  if (!user)
    return;
  if (user->totp_enabled) {
    wr_api_call_error (call, 409, "conflict",
        "two-factor sign-in is already on; turn it off first");
    return;
  }
  secret = wr_totp_generate_secret ();
  aad = totp_aad (user->id);
  sealed = wr_keyring_seal (gw->keyring, (const guint8 *) secret,
      strlen (secret), aad);
  /* pending until a code proves the app has it */
  if (!wr_store_user_set_totp (gw->store, user->id, sealed, FALSE, &error)) {
    wr_api_store_error (call, error);
    return;
  }
  uri = wr_totp_uri ("webremote", user->name, secret);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "secret");
  json_builder_add_string_value (b, secret);
  json_builder_set_member_name (b, "otpauth_uri");
  json_builder_add_string_value (b, uri);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_me_totp_enable (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GPtrArray) hashes = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_auto (GStrv) codes = NULL;
  g_autofree char *aad = NULL;
  g_autofree char *secret_text = NULL;
  const char *code = NULL;
  gint64 step = 0;
  gboolean ok;

  if (!body || !wr_api_get_string (call, body, "code", TRUE, 16, &code))
    return;
  user = current_user (gw, call);
  if (!user)
    return;
  if (user->totp_enabled || !user->totp_secret) {
    wr_api_call_error (call, 409, "conflict", user->totp_enabled
        ? "two-factor sign-in is already on" : "set it up first");
    return;
  }
  aad = totp_aad (user->id);
  secret = wr_keyring_open (gw->keyring, user->totp_secret, aad, &error);
  if (!secret) {
    wr_api_store_error (call, NULL);
    return;
  }
  secret_text = g_strndup (g_bytes_get_data (secret, NULL),
      g_bytes_get_size (secret));
  ok = wr_totp_verify (secret_text, code, g_get_real_time () / G_USEC_PER_SEC,
      1, user->totp_last_step, &step);
  memset (secret_text, 0, strlen (secret_text));
  if (!ok) {
    wr_api_call_error (call, 400, "totp_invalid", "the code is not valid");
    return;
  }

  codes = wr_recovery_codes_generate (RECOVERY_CODES);
  hashes = g_ptr_array_new_with_free_func (g_free);
  for (char **c = codes; *c; c++)
    g_ptr_array_add (hashes, wr_recovery_code_hash (*c));
  g_ptr_array_add (hashes, NULL);
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_recovery_codes_replace (gw->store, user->id,
          (const char *const *) hashes->pdata, &error)
      || !wr_store_user_claim_totp_step (gw->store, user->id, step, &ok,
          &error)
      || !wr_store_user_set_totp (gw->store, user->id, user->totp_secret,
          TRUE, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  {
    JsonObject *detail = wr_audit_detail ("user", user->name, NULL);

    json_object_set_boolean_member (detail, "enabled", TRUE);
    if (!wr_api_tx_audit (gw, call, "user.totp", NULL, detail)
        || !wr_api_tx_commit (gw, call))
      return;
  }
  g_message ("%s turned on two-factor sign-in", user->name);

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recovery_codes");
  json_builder_begin_array (b);
  for (char **c = codes; *c; c++)
    json_builder_add_string_value (b, *c);
  json_builder_end_array (b);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_me_totp_disable (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  const char *password = NULL;

  if (!body
      || !wr_api_get_string (call, body, "password", TRUE, 1024, &password))
    return;
  user = current_user (gw, call);
  if (!user)
    return;
  if (!wr_auth_verify_password (user->password_hash, password)) {
    wr_api_call_error (call, 403, "wrong_password", "the password is wrong");
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_user_set_totp (gw->store, user->id, NULL, FALSE, &error)
      || !wr_store_recovery_codes_replace (gw->store, user->id, NULL,
          &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  {
    JsonObject *detail = wr_audit_detail ("user", user->name, NULL);

    json_object_set_boolean_member (detail, "enabled", FALSE);
    if (!wr_api_tx_audit (gw, call, "user.totp", NULL, detail)
        || !wr_api_tx_commit (gw, call))
      return;
  }
  g_message ("%s turned off two-factor sign-in", user->name);
  wr_api_call_respond (call, 204, NULL);
}

static void
add_scopes (JsonBuilder *b, const char *scopes)
{
  g_auto (GStrv) items = g_strsplit (scopes ? scopes : "", " ", -1);

  json_builder_set_member_name (b, "scopes");
  json_builder_begin_array (b);
  for (char **s = items; *s; s++)
    if (**s)
      json_builder_add_string_value (b, *s);
  json_builder_end_array (b);
}

void
wr_api_me_tokens_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) tokens = wr_store_access_token_list_api (gw->store,
      call->user->user_id, &error);
  g_autoptr (JsonBuilder) b = NULL;

  if (!tokens) {
    wr_api_store_error (call, error);
    return;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  for (guint i = 0; i < tokens->len; i++) {
    WrApiToken *t = g_ptr_array_index (tokens, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, t->name);
    add_scopes (b, t->scopes);
    json_builder_set_member_name (b, "expires_at");
    json_builder_add_int_value (b, t->expires_at);
    json_builder_set_member_name (b, "created_at");
    json_builder_add_int_value (b, t->created_at);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_me_tokens_create (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree const char **scopes = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *token = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *canonical = NULL;
  const char *name = NULL;
  gint64 expires_in = 30 * 24 * 3600;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  WrPermission wanted = WR_PERM_NONE, allowed = WR_PERM_NONE;

  if (!body || !wr_api_get_string (call, body, "name", TRUE, 64, &name)
      || !wr_api_get_string_array (call, body, "scopes", TRUE, 16, &scopes)
      || !wr_api_get_int (call, body, "expires_in", 60,
          API_TOKEN_MAX_LIFETIME, &expires_in))
    return;
  joined = g_strjoinv (" ", (char **) scopes);
  if (!wr_permissions_from_string (joined, &wanted, &error)) {
    wr_api_call_error (call, 400, "bad_request", error->message);
    return;
  }
  /* A token can only narrow what its owner may do, never widen it: its
   * scopes must be permissions the owner holds somewhere. */
  if (!wr_store_permissions_for (gw->store, call->user->user_id,
          (const char *const *) call->user->oidc_groups, NULL, &allowed,
          &error)) {
    wr_api_store_error (call, error);
    return;
  }
  if ((wanted & WR_PERM_SYSTEM_MASK) & ~allowed) {
    wr_api_call_error (call, 403, "forbidden",
        "a token cannot have permissions you do not have");
    return;
  }
  if (call->user->token_scopes != WR_PERM_ALL) {
    wr_api_call_error (call, 403, "forbidden",
        "API tokens cannot make other API tokens");
    return;
  }

  token = wr_random_token (32);
  hash = wr_sha256_hex (token, strlen (token));
  canonical = wr_permissions_to_string (wanted);
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_access_token_insert (gw->store, hash, call->user->user_id,
          WR_TOKEN_API, name, canonical, now + expires_in, now, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  {
    JsonObject *detail = wr_audit_detail ("name", name, "scopes", canonical,
        NULL);

    json_object_set_int_member (detail, "expires_at", now + expires_in);
    if (!wr_api_tx_audit (gw, call, "api_token.create", NULL, detail)
        || !wr_api_tx_commit (gw, call))
      return;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, token);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  add_scopes (b, canonical);
  json_builder_set_member_name (b, "expires_at");
  json_builder_add_int_value (b, now + expires_in);
  json_builder_end_object (b);
  wr_api_call_respond (call, 201, json_builder_get_root (b));
}

void
wr_api_me_tokens_revoke (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;

  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_access_token_revoke_api (gw->store, call->user->user_id,
          call->arg, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "api_token.revoke", NULL,
          wr_audit_detail ("name", call->arg, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  wr_api_call_respond (call, 204, NULL);
}
