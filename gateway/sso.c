/* webremote: single sign-on with an OpenID provider. */
#include "config.h"

#include "gateway/sso.h"

#include <string.h>

struct _WrSso {
  WrOidcProvider *provider;
  char *label;
  GMutex lock;           /* guards pending */
  GHashTable *pending;   /* state -> WrOidcLogin */
};

WrSso *
wr_sso_new (WrOidcProvider *provider, const char *label)
{
  WrSso *sso = g_new0 (WrSso, 1);

  sso->provider = wr_oidc_provider_ref (provider);
  sso->label = g_strdup (label && *label ? label : "Sign in with SSO");
  g_mutex_init (&sso->lock);
  sso->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) wr_oidc_login_free);
  return sso;
}

void
wr_sso_free (WrSso *sso)
{
  if (!sso)
    return;
  wr_oidc_provider_unref (sso->provider);
  g_free (sso->label);
  g_hash_table_unref (sso->pending);
  g_mutex_clear (&sso->lock);
  g_free (sso);
}

const char *
wr_sso_get_label (WrSso *sso)
{
  return sso->label;
}

static void
prune_locked (WrSso *sso, gint64 now)
{
  GHashTableIter iter;
  WrOidcLogin *login;

  g_hash_table_iter_init (&iter, sso->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &login))
    if (now - login->created_at > WR_SSO_PENDING_SECONDS)
      g_hash_table_iter_remove (&iter);
}

char *
wr_sso_start (WrSso *sso, GError **error)
{
  WrOidcLogin *login = wr_oidc_begin (sso->provider, error);
  char *url;

  if (!login)
    return NULL;
  url = g_strdup (login->authorize_url);
  g_mutex_lock (&sso->lock);
  prune_locked (sso, g_get_real_time () / G_USEC_PER_SEC);
  if (g_hash_table_size (sso->pending) >= WR_SSO_PENDING_MAX) {
    g_mutex_unlock (&sso->lock);
    wr_oidc_login_free (login);
    g_free (url);
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_RATE_LIMITED,
        "too many unfinished single sign-ons; try again later");
    return NULL;
  }
  g_hash_table_insert (sso->pending, g_strdup (login->state), login);
  g_mutex_unlock (&sso->lock);
  return url;
}

WrLogin *
wr_sso_finish (WrSso *sso, WrAuth *auth, const char *state,
    const char *code, const char *client_address, GError **error)
{
  g_autoptr (WrOidcLogin) login = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  gpointer key = NULL, value = NULL;

  if (!state || !code || strlen (state) > 256 || strlen (code) > 4096) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "the provider's answer is incomplete");
    return NULL;
  }
  g_mutex_lock (&sso->lock);
  if (g_hash_table_steal_extended (sso->pending, state, &key, &value)) {
    g_free (key);
    login = value;
  }
  g_mutex_unlock (&sso->lock);
  if (!login || g_get_real_time () / G_USEC_PER_SEC - login->created_at
      > WR_SSO_PENDING_SECONDS) {
    g_set_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS,
        "no such sign-in is pending (expired, or used already)");
    return NULL;
  }
  id = wr_oidc_finish (sso->provider, login, state, code, error);
  if (!id)
    return NULL;
  return wr_auth_login_sso (auth, id->issuer, id->subject, id->username,
      id->name, (const char *const *) id->groups, client_address, error);
}
