/* webremote: the gateway's session grant signer. */
#include "config.h"

#include "gateway/grant-signer.h"

#include "common/grant.h"

struct _WrGrantSigner {
  EVP_PKEY *key;
  char *public_key;
};

WrGrantSigner *
wr_grant_signer_new (const char *path, gboolean *created, GError **error)
{
  WrGrantSigner *self;
  EVP_PKEY *key;

  key = wr_grant_key_load_or_create (path, created, error);
  if (!key) {
    g_prefix_error (error, "grant signing key: ");
    return NULL;
  }
  self = g_new0 (WrGrantSigner, 1);
  self->key = key;
  self->public_key = wr_grant_public_key_to_string (key);
  return self;
}

void
wr_grant_signer_free (WrGrantSigner *self)
{
  if (!self)
    return;
  EVP_PKEY_free (self->key);
  g_free (self->public_key);
  g_free (self);
}

const char *
wr_grant_signer_get_public_key (WrGrantSigner *self)
{
  return self->public_key;
}

char *
wr_grant_signer_issue (WrGrantSigner *self, const char *sid,
    const char *user, const char *agent, const char *display,
    const char *const *scopes, gint64 now, gint64 *expires, GError **error)
{
  /* EVP_DigestSign on a shared const key is thread-safe in OpenSSL 3. */
  WrGrant grant = {
    .sid = (char *) sid,
    .user = (char *) user,
    .agent = (char *) agent,
    .display = (char *) display,
    .scopes = (GStrv) scopes,
    .iat = now,
    .exp = now + WR_GRANT_LIFETIME_S,
  };

  if (expires)
    *expires = grant.exp;
  return wr_grant_sign (self->key, &grant, error);
}

char *
wr_grant_signer_sign_command (WrGrantSigner *self,
    const WrCommandEnvelope *env, GError **error)
{
  return wr_command_envelope_sign (self->key, env, error);
}
