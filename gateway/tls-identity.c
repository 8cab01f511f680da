/* webremote: the gateway's TLS certificate, from config or self-signed. */
#include "config.h"

#include "gateway/tls-identity.h"

#include <glib/gstdio.h>

#include "common/crypto.h"

GTlsCertificate *
wr_tls_identity_load (const char *cert_path, const char *key_path,
    const char *state_dir, gboolean *created, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *own_cert = NULL;
  g_autofree char *own_key = NULL;
  GTlsCertificate *cert;

  if (created)
    *created = FALSE;

  if ((cert_path && *cert_path) != (key_path && *key_path)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "tls-certificate and tls-key must be given together");
    return NULL;
  }

  if (!cert_path || !*cert_path) {
    dir = g_build_filename (state_dir, "tls", NULL);
    own_cert = g_build_filename (dir, "gateway.crt", NULL);
    own_key = g_build_filename (dir, "gateway.key", NULL);
    if (!g_file_test (own_cert, G_FILE_TEST_EXISTS)
        || !g_file_test (own_key, G_FILE_TEST_EXISTS)) {
      if (g_mkdir_with_parents (dir, 0700) < 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "cannot create %s: %s", dir, g_strerror (errno));
        return NULL;
      }
      if (!wr_self_signed_certificate_create (own_cert, own_key, NULL, error))
        return NULL;
      if (created)
        *created = TRUE;
    }
    cert_path = own_cert;
    key_path = own_key;
  }

  cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (!cert)
    g_prefix_error (error, "cannot load the TLS certificate %s: ", cert_path);
  return cert;
}
