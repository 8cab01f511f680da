/* Unit tests for agent/pinned-tls-database.c: only the pinned certificate
 * is trusted. */
#include "config.h"

#include "common/pinned-tls-database.h"

#include <glib/gstdio.h>

#include "common/crypto.h"

static GTlsCertificate *
make_cert (const char *dir, const char *name)
{
  g_autofree char *crt = g_strdup_printf ("%s/%s.crt", dir, name);
  g_autofree char *key = g_strdup_printf ("%s/%s.key", dir, name);
  g_autoptr (GError) error = NULL;
  GTlsCertificate *cert;

  g_assert_true (wr_self_signed_certificate_create (crt, key, NULL, &error));
  g_assert_no_error (error);
  cert = g_tls_certificate_new_from_file (crt, &error);
  g_assert_no_error (error);
  g_unlink (crt);
  g_unlink (key);
  return cert;
}

static void
test_only_the_pinned_certificate_verifies (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-pin-XXXXXX", NULL);
  g_autoptr (GTlsCertificate) good = make_cert (dir, "good");
  g_autoptr (GTlsCertificate) other = make_cert (dir, "other");
  g_autofree char *pin = wr_certificate_fingerprint (good);
  g_autoptr (GTlsDatabase) db = wr_pinned_tls_database_new (pin, NULL);
  g_autoptr (GSocketConnectable) identity =
      g_network_address_new ("gateway.invalid", 443);
  GTlsCertificateFlags flags;

  /* The pin alone decides: not the host name, not the issuer. */
  flags = g_tls_database_verify_chain (db, good,
      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
      G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  g_assert_cmpuint (flags, ==, 0);

  flags = g_tls_database_verify_chain (db, other,
      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
      G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  g_assert_cmpuint (flags, ==, G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpstr (wr_pinned_tls_database_get_pin (
          WR_PINNED_TLS_DATABASE (db)), ==, pin);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/tls/only-the-pinned-certificate-verifies",
      test_only_the_pinned_certificate_verifies);
  return g_test_run ();
}
