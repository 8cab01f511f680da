/* Tests for TOTP and recovery codes (common/totp.c). */
#include "config.h"

#include <string.h>

#include "common/totp.h"

/* RFC 6238 appendix B: the SHA-1 secret is "12345678901234567890". */
static const struct {
  gint64 time;
  const char *code;
} vectors[] = {
  { 59, "94287082" },
  { 1111111109, "07081804" },
  { 1111111111, "14050471" },
  { 1234567890, "89005924" },
  { 2000000000, "69279037" },
  { 20000000000, "65353130" },
};

static char *
rfc_secret (void)
{
  return wr_base32_encode ((const guint8 *) "12345678901234567890", 20);
}

static void
test_rfc6238_vectors (void)
{
  g_autofree char *secret = rfc_secret ();

  g_assert_cmpstr (secret, ==, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++) {
    g_autofree char *eight = wr_totp_code (secret, vectors[i].time, 8);
    g_autofree char *six = wr_totp_code (secret, vectors[i].time, 6);
    g_assert_cmpstr (eight, ==, vectors[i].code);
    g_assert_cmpstr (six, ==, vectors[i].code + 2);
  }
}

static void
test_verify_window_and_replay (void)
{
  g_autofree char *secret = rfc_secret ();
  g_autofree char *code = wr_totp_code (secret, 1111111109, 6);
  g_autofree char *spaced = g_strdup_printf ("%.3s %s", code, code + 3);
  gint64 step = 0;

  g_assert_true (wr_totp_verify (secret, code, 1111111109, 1, 0, &step));
  g_assert_cmpint (step, ==, 1111111109 / 30);
  g_assert_true (wr_totp_verify (secret, spaced, 1111111109, 1, 0, NULL));
  /* one step late is within the window, three steps is not */
  g_assert_true (wr_totp_verify (secret, code, 1111111109 + 30, 1, 0, NULL));
  g_assert_false (wr_totp_verify (secret, code, 1111111109 + 90, 1, 0, NULL));
  /* the same step again is a replay */
  g_assert_false (wr_totp_verify (secret, code, 1111111109, 1, step, NULL));
  g_assert_false (wr_totp_verify (secret, "12345", 1111111109, 1, 0, NULL));
  g_assert_false (wr_totp_verify (secret, "12345a", 1111111109, 1, 0, NULL));
  g_assert_false (wr_totp_verify ("!!notbase32", code, 1111111109, 1, 0,
          NULL));
}

static void
test_base32_round_trip (void)
{
  const guint8 data[] = { 0, 1, 2, 250, 251, 255, 7 };
  g_autofree char *text = wr_base32_encode (data, sizeof data);
  g_autoptr (GBytes) back = wr_base32_decode (text);
  g_autofree char *lower = g_ascii_strdown (text, -1);
  g_autoptr (GBytes) back2 = wr_base32_decode (lower);

  g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back),
      data, sizeof data);
  g_assert_true (g_bytes_equal (back, back2));
  g_assert_null (wr_base32_decode ("ABC1"));
}

static void
test_uri (void)
{
  g_autofree char *uri = wr_totp_uri ("webremote", "alice@example", "ABCD");

  g_assert_cmpstr (uri, ==, "otpauth://totp/webremote:alice%40example?"
      "secret=ABCD&issuer=webremote&algorithm=SHA1&digits=6&period=30");
}

static void
test_recovery_codes (void)
{
  g_auto (GStrv) codes = wr_recovery_codes_generate (10);
  g_autofree char *h1 = wr_recovery_code_hash (codes[0]);
  g_autofree char *upper = g_ascii_strup (codes[0], -1);
  g_autofree char *h2 = NULL;
  g_autofree char *h3 = wr_recovery_code_hash (codes[1]);

  g_assert_cmpuint (g_strv_length (codes), ==, 10);
  g_assert_cmpuint (strlen (codes[0]), ==, 14);
  g_assert_cmpstr (codes[0], !=, codes[1]);
  g_strdelimit (upper, "-", ' ');
  h2 = wr_recovery_code_hash (upper);
  g_assert_cmpstr (h1, ==, h2);
  g_assert_cmpstr (h1, !=, h3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/totp/rfc6238-vectors", test_rfc6238_vectors);
  g_test_add_func ("/common/totp/window-and-replay",
      test_verify_window_and_replay);
  g_test_add_func ("/common/totp/base32-round-trip", test_base32_round_trip);
  g_test_add_func ("/common/totp/otpauth-uri", test_uri);
  g_test_add_func ("/common/totp/recovery-codes", test_recovery_codes);
  return g_test_run ();
}
