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
wr_principal_new (const char *name, gboolean admin)
{
  WrPrincipal *p = g_new0 (WrPrincipal, 1);

  p->name = g_strdup (name);
  p->admin = admin;
  return p;
}

WrPrincipal *
wr_principal_copy (const WrPrincipal *principal)
{
  return wr_principal_new (principal->name, principal->admin);
}

void
wr_principal_free (WrPrincipal *principal)
{
  if (!principal)
    return;
  g_free (principal->name);
  g_free (principal);
}

char *
wr_auth_login (WrAuth *self, const char *username, const char *password,
    const char *client_address, gint64 *expires_in, WrPrincipal **principal,
    GError **error)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  return WR_AUTH_GET_IFACE (self)->login (self, username, password,
      client_address, expires_in, principal, error);
}

WrPrincipal *
wr_auth_authenticate_token (WrAuth *self, const char *token)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  if (!token || !*token)
    return NULL;
  return WR_AUTH_GET_IFACE (self)->authenticate_token (self, token);
}

void
wr_auth_logout (WrAuth *self, const char *token)
{
  g_return_if_fail (WR_IS_AUTH (self));
  if (token && *token)
    WR_AUTH_GET_IFACE (self)->logout (self, token);
}

char *
wr_auth_authenticate_agent (WrAuth *self, const char *credential,
    GError **error)
{
  g_return_val_if_fail (WR_IS_AUTH (self), NULL);
  if (!credential || !*credential) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "no agent credential");
    return NULL;
  }
  return WR_AUTH_GET_IFACE (self)->authenticate_agent (self, credential,
      error);
}
