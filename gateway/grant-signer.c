/* webremote: the gateway's session grant signer. */
#include "config.h"

#include "gateway/grant-signer.h"

#include <string.h>

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

/* domain + data in one buffer: Ed25519 signs a message, not a stream. */
static guint8 *
domain_message (const char *domain, const void *data, gsize len,
    gsize *msg_len)
{
  gsize dlen = strlen (domain);
  guint8 *msg = g_malloc (dlen + len + 1);

  memcpy (msg, domain, dlen);
  if (len)
    memcpy (msg + dlen, data, len);
  *msg_len = dlen + len;
  return msg;
}

char *
wr_grant_signer_sign (WrGrantSigner *self, const char *domain,
    const void *data, gsize len, GError **error)
{
  g_autofree guint8 *msg = NULL;
  guint8 sig[64];
  size_t sig_len = sizeof sig;
  gsize msg_len;
  EVP_MD_CTX *ctx;
  gboolean ok;

  g_return_val_if_fail (self != NULL && domain != NULL, NULL);
  g_return_val_if_fail (!g_str_equal (domain, WR_GRANT_SIGNING_CONTEXT)
      && !g_str_equal (domain, WR_COMMAND_SIGNING_CONTEXT), NULL);

  msg = domain_message (domain, data, len, &msg_len);
  ctx = EVP_MD_CTX_new ();
  ok = ctx && EVP_DigestSignInit (ctx, NULL, NULL, NULL, self->key) == 1
      && EVP_DigestSign (ctx, sig, &sig_len, msg, msg_len) == 1;
  EVP_MD_CTX_free (ctx);
  if (!ok) {
    g_set_error_literal (error, WR_GRANT_ERROR, WR_GRANT_ERROR_KEY,
        "signing failed");
    return NULL;
  }
  return g_base64_encode (sig, sig_len);
}

gboolean
wr_grant_signer_verify (const char *public_key, const char *domain,
    const void *data, gsize len, const char *signature, GError **error)
{
  g_autofree guint8 *msg = NULL;
  g_autofree guint8 *sig = NULL;
  gsize msg_len, sig_len = 0;
  EVP_PKEY *key;
  EVP_MD_CTX *ctx;
  gboolean ok;

  g_return_val_if_fail (domain != NULL, FALSE);

  key = wr_grant_public_key_from_string (public_key ? public_key : "",
      error);
  if (!key)
    return FALSE;
  /* Bounded before decoding: a base64 Ed25519 signature is 88 bytes. */
  if (signature && strlen (signature) <= 128) {
    for (const char *p = signature; *p; p++) {
      if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=') {
        signature = NULL;
        break;
      }
    }
    if (signature)
      sig = g_base64_decode (signature, &sig_len);
  }
  msg = domain_message (domain, data, len, &msg_len);
  ctx = EVP_MD_CTX_new ();
  ok = sig && sig_len == 64 && ctx
      && EVP_DigestVerifyInit (ctx, NULL, NULL, NULL, key) == 1
      && EVP_DigestVerify (ctx, sig, sig_len, msg, msg_len) == 1;
  EVP_MD_CTX_free (ctx);
  EVP_PKEY_free (key);
  if (!ok) {
    g_set_error_literal (error, WR_GRANT_ERROR, WR_GRANT_ERROR_BAD_SIGNATURE,
        "bad signature");
    return FALSE;
  }
  return TRUE;
}
