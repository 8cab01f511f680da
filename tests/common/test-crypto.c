/* Tests for the crypto helpers (common/crypto.c). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "common/crypto.h"

static void
test_tokens_are_random_and_url_safe (void)
{
  g_autofree char *a = wr_random_token (32);
  g_autofree char *b = wr_random_token (32);

  g_assert_cmpuint (strlen (a), ==, 43);
  g_assert_cmpstr (a, !=, b);
  g_assert_null (strpbrk (a, "+/="));
}

static void
test_constant_time_equal (void)
{
  g_assert_true (wr_constant_time_equal ("secret", "secret"));
  g_assert_false (wr_constant_time_equal ("secret", "secreT"));
  g_assert_false (wr_constant_time_equal ("secret", "secrets"));
  g_assert_false (wr_constant_time_equal ("", "x"));
  g_assert_false (wr_constant_time_equal (NULL, "x"));
}

static void
test_fingerprint_normalize (void)
{
  const char *hex = "12f96afe89fa5422b8f8e56b8dc3a97519b2ff184821790f64c3a23eeac47f16";
  g_autofree char *a = wr_fingerprint_normalize (hex);
  g_autofree char *b = wr_fingerprint_normalize ("sha256:12:F9:6A:FE:89:FA:54:"
      "22:B8:F8:E5:6B:8D:C3:A9:75:19:B2:FF:18:48:21:79:0F:64:C3:A2:3E:EA:C4:"
      "7F:16");

  g_assert_cmpstr (a, ==, b);
  g_assert_true (g_str_has_prefix (a, "12:F9:6A"));
  g_assert_null (wr_fingerprint_normalize ("12:F9"));
  g_assert_null (wr_fingerprint_normalize ("zz"));
}

static void
test_self_signed_certificate (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-cert-XXXXXX", NULL);
  g_autofree char *cert_path = g_build_filename (dir, "c.pem", NULL);
  g_autofree char *key_path = g_build_filename (dir, "k.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) cert = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *norm = NULL;
  GStatBuf st;

  g_assert_true (wr_self_signed_certificate_create (cert_path, key_path, NULL,
          &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (key_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  cert = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  fp = wr_certificate_fingerprint (cert);
  norm = wr_fingerprint_normalize (fp);
  g_assert_cmpstr (fp, ==, norm);
  g_unlink (cert_path);
  g_unlink (key_path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/crypto/tokens-are-random-and-url-safe",
      test_tokens_are_random_and_url_safe);
  g_test_add_func ("/common/crypto/constant-time-equal",
      test_constant_time_equal);
  g_test_add_func ("/common/crypto/fingerprint-normalize",
      test_fingerprint_normalize);
  g_test_add_func ("/common/crypto/self-signed-certificate-loads",
      test_self_signed_certificate);
  return g_test_run ();
}
