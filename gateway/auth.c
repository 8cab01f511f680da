/* webremote: the authentication interface. */
#include "config.h"

#include "gateway/auth.h"

G_DEFINE_QUARK (wr-auth-error-quark, wr_auth_error)

G_DEFINE_INTERFACE (WrAuth, wr_auth, G_TYPE_OBJECT)

static void
wr_auth_default_init (WrAuthInterface *iface)
{
}

WrPrincipal *
wr_principal_new (gint64 user_id, const char *name)
{
  WrPrincipal *p = g_new0 (WrPrincipal, 1);

  p->user_id = user_id;
  p->name = g_strdup (name);
  p->token_scopes = WR_PERM_ALL;
  return p;
}

WrPrincipal *
wr_principal_copy (const WrPrincipal *principal)
{
  WrPrincipal *p = wr_principal_new (principal->user_id, principal->name);

  p->display_name = g_strdup (principal->display_name);
  p->system_permissions = principal->system_permissions;
  p->token_scopes = principal->token_scopes;
  p->oidc_groups = g_strdupv (principal->oidc_groups);
  p->totp_enabled = principal->totp_enabled;
  p->sso = principal->sso;
  return p;
}

void
wr_principal_free (WrPrincipal *principal)
{
  if (!principal)
    return;
  g_free (principal->name);
  g_free (principal->display_name);
  g_strfreev (principal->oidc_groups);
  g_free (principal);
}

gboolean
wr_principal_has (const WrPrincipal *principal, WrPermission perm)
{
  return principal && (principal->system_permissions & perm) == perm
      && (principal->token_scopes & perm) == perm;
}

void
wr_login_free (WrLogin *login)
{
  if (!login)
    return;
  g_free (login->access_token);
  g_free (login->refresh_token);
  wr_principal_free (login->principal);
  g_free (login);
}

WrLogin *
wr_auth_login (WrAuth *self, const WrLoginRequest *request, GError **error)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  return WR_AUTH_GET_IFACE (self)->login (self, request, error);
}

WrLogin *
wr_auth_login_sso (WrAuth *self, const char *issuer, const char *subject,
    const char *username, const char *display_name,
    const char *const *groups, const char *client_address, GError **error)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  return WR_AUTH_GET_IFACE (self)->login_sso (self, issuer, subject, username,
      display_name, groups, client_address, error);
}

WrLogin *
wr_auth_refresh (WrAuth *self, const char *refresh_token,
    const char *client_address, GError **error)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  return WR_AUTH_GET_IFACE (self)->refresh (self, refresh_token,
      client_address, error);
}

WrPrincipal *
wr_auth_authenticate_token (WrAuth *self, const char *token, GError **error)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  if (!token || !*token)
    return NULL;
  return WR_AUTH_GET_IFACE (self)->authenticate_token (self, token, error);
}

void
wr_auth_logout (WrAuth *self, const char *access_token,
    const char *refresh_token, const char *client_address)
{
  g_return_if_fail (WR_IS_AUTH (self));
  WR_AUTH_GET_IFACE (self)->logout (self, access_token, refresh_token,
      client_address);
}

