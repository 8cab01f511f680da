/* webremote: REST handlers for signing in and out, refresh and SSO. */
#include "config.h"

#include <string.h>

#include "common/crypto.h"
#include "gateway/api-routes.h"
#include "gateway/sso.h"

#define REFRESH_COOKIE "wr_refresh"
#define REFRESH_COOKIE_PATH "/api/v1/auth"

/* The refresh token lives in an HttpOnly, Secure, SameSite=Strict cookie
 * that only the /api/v1/auth endpoints receive. */
static void
set_refresh_cookie (WrApiCall *call, const char *token, gint64 max_age)
{
  g_autofree char *value = g_strdup_printf ("%s=%s; Path=%s; Max-Age=%"
      G_GINT64_FORMAT "; HttpOnly; Secure; SameSite=Strict", REFRESH_COOKIE,
      token ? token : "", REFRESH_COOKIE_PATH, token ? max_age : 0);

  wr_api_call_add_cookie (call, value);
}

static void
respond_login (WrApiCall *call, WrLogin *login)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  set_refresh_cookie (call, login->refresh_token, login->refresh_expires_in);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, login->access_token);
  json_builder_set_member_name (b, "token_type");
  json_builder_add_string_value (b, "Bearer");
  json_builder_set_member_name (b, "expires_in");
  json_builder_add_int_value (b, login->expires_in);
  json_builder_set_member_name (b, "user");
  json_builder_add_value (b, wr_api_user_json (login->principal));
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

/* Maps a WrAuth error to its documented status and code. */
static void
auth_error (WrApiCall *call, const GError *error)
{
  if (error->domain != WR_AUTH_ERROR) {
    wr_api_call_error (call, 500, "internal", "internal error");
    return;
  }
  switch ((WrAuthError) error->code) {
    case WR_AUTH_ERROR_INVALID_CREDENTIALS:
      wr_api_call_error (call, 401, "unauthorized", error->message);
      return;
    case WR_AUTH_ERROR_RATE_LIMITED:
      wr_api_call_error (call, 429, "rate_limited", error->message);
      return;
    case WR_AUTH_ERROR_TOTP_REQUIRED:
      wr_api_call_error (call, 401, "totp_required", error->message);
      return;
    case WR_AUTH_ERROR_TOTP_INVALID:
      wr_api_call_error (call, 401, "totp_invalid", error->message);
      return;
    case WR_AUTH_ERROR_LOCKED:
      wr_api_call_error (call, 423, "locked", error->message);
      return;
    case WR_AUTH_ERROR_UNAVAILABLE:
      wr_api_call_error (call, 503, "unavailable", error->message);
      return;
    case WR_AUTH_ERROR_FAILED:
      break;
  }
  wr_api_call_error (call, 500, "internal", "internal error");
}

void
wr_api_login (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrLogin) login = NULL;
  WrLoginRequest req = { 0 };

  if (!body
      || !wr_api_get_string (call, body, "username", TRUE, 128, &req.username)
      || !wr_api_get_string (call, body, "password", TRUE, 1024,
          &req.password)
      || !wr_api_get_string (call, body, "totp_code", FALSE, 16,
          &req.totp_code)
      || !wr_api_get_string (call, body, "recovery_code", FALSE, 64,
          &req.recovery_code))
    return;
  req.client_address = call->client_address;

  login = wr_auth_login (gw->auth, &req, &error);
  if (!login) {
    if (g_error_matches (error, WR_AUTH_ERROR,
            WR_AUTH_ERROR_INVALID_CREDENTIALS))
      g_message ("failed sign-in from %s", call->client_address);
    auth_error (call, error);
    return;
  }
  g_message ("%s signed in from %s", login->principal->name,
      call->client_address);
  respond_login (call, login);
}

void
wr_api_refresh (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrLogin) login = NULL;

  login = wr_auth_refresh (gw->auth, call->refresh_cookie,
      call->client_address, &error);
  if (!login) {
    set_refresh_cookie (call, NULL, 0);
    auth_error (call, error);
    return;
  }
  respond_login (call, login);
}

void
wr_api_logout (WrGateway *gw, WrApiCall *call)
{
  wr_auth_logout (gw->auth, call->bearer, call->refresh_cookie,
      call->client_address);
  set_refresh_cookie (call, NULL, 0);
  wr_api_call_respond (call, 204, NULL);
}

void
wr_api_sso_info (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, gw->sso != NULL);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, gw->sso ? wr_sso_get_label (gw->sso)
      : "Sign in with SSO");
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_sso_start (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;

  if (!gw->sso) {
    wr_api_call_error (call, 404, "not_found", "single sign-on is not set up");
    return;
  }
  url = wr_sso_start (gw->sso, &error);
  if (!url) {
    g_warning ("SSO: %s", error->message);
    wr_api_call_redirect (call, "/#/login?error=sso");
    return;
  }
  wr_api_call_redirect (call, url);
}

void
wr_api_sso_callback (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrLogin) login = NULL;
  const char *state = call->query ? g_hash_table_lookup (call->query,
      "state") : NULL;
  const char *code = call->query ? g_hash_table_lookup (call->query, "code")
      : NULL;

  if (!gw->sso) {
    wr_api_call_error (call, 404, "not_found", "single sign-on is not set up");
    return;
  }
  login = wr_sso_finish (gw->sso, gw->auth, state, code, call->client_address,
      &error);
  if (!login) {
    g_message ("SSO sign-in from %s refused: %s", call->client_address,
        error->message);
    /* A sign-in refused here is audited with the reason (the provider's
     * answer, a disabled account); a failed row only logs: the browser
     * goes back to the sign-in page either way. */
    if (!g_error_matches (error, WR_AUTH_ERROR, WR_AUTH_ERROR_UNAVAILABLE)) {
      g_autoptr (JsonObject) detail = wr_audit_detail ("method", "sso",
          "reason", error->message, NULL);
      g_autoptr (GError) audit_error = NULL;
      WrAuditEvent event = {
        .type = "login", .outcome = WR_AUDIT_FAILED,
        .address = call->client_address,
      };

      if (gw->audit && !wr_audit_append (gw->audit, &event, detail, NULL,
              &audit_error))
        g_warning ("a refused SSO sign-in was not audited: %s",
            audit_error->message);
    }
    wr_api_call_redirect (call, "/#/login?error=sso");
    return;
  }
  g_message ("%s signed in by SSO from %s", login->principal->name,
      call->client_address);
  set_refresh_cookie (call, login->refresh_token, login->refresh_expires_in);
  /* The page asks /auth/refresh for its access token; the token never
   * travels in a URL. The access token made here is not used. */
  {
    g_autofree char *hash = wr_sha256_hex (login->access_token,
        strlen (login->access_token));

    if (!wr_store_access_token_revoke (gw->store, hash, &error))
      g_warning ("SSO: cannot revoke an unused token: %s", error->message);
  }
  wr_api_call_redirect (call, "/#/sso");
}
