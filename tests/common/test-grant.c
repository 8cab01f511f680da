/* Tests for Ed25519 session grants (common/grant.c). */
#include "config.h"

#include "common/grant.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <openssl/pem.h>

#include "common/autocleanups.h"

#define NOW 1790000000

typedef struct {
  EVP_PKEY *key;      /* the gateway's */
  EVP_PKEY *other;    /* someone else's */
  EVP_PKEY *pub;      /* the gateway's public half, as the agent loads it */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  f->key = wr_grant_key_generate (&error);
  g_assert_no_error (error);
  f->other = wr_grant_key_generate (&error);
  g_assert_no_error (error);
  line = wr_grant_public_key_to_string (f->key);
  f->pub = wr_grant_public_key_from_string (line, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  EVP_PKEY_free (f->key);
  EVP_PKEY_free (f->other);
  EVP_PKEY_free (f->pub);
}

static const char *const view_control[] = { "view", "control", NULL };

static WrGrant
sample (void)
{
  WrGrant g = {
    .sid = (char *) "0123456789abcdef",
    .user = (char *) "alice",
    .agent = (char *) "lab-1",
    .display = (char *) ":0",
    .scopes = (GStrv) view_control,
    .iat = NOW,
    .exp = NOW + 120,
  };
  return g;
}

static char *
sign_sample (EVP_PKEY *key)
{
  WrGrant g = sample ();
  g_autoptr (GError) error = NULL;
  char *token = wr_grant_sign (key, &g, &error);

  g_assert_no_error (error);
  g_assert_nonnull (token);
  return token;
}

/* Signs arbitrary payload bytes the way the gateway does, to test what the
 * verifier makes of well-signed nonsense. */
static char *
sign_raw (EVP_PKEY *key, const char *payload)
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  g_autofree char *msg = g_strconcat (WR_GRANT_SIGNING_CONTEXT, payload,
      NULL);
  g_autofree char *p64 = NULL;
  g_autofree char *s64 = NULL;
  guint8 sig[64];
  size_t len = sizeof sig;

  g_assert_cmpint (EVP_DigestSignInit (ctx, NULL, NULL, NULL, key), ==, 1);
  g_assert_cmpint (EVP_DigestSign (ctx, sig, &len, (guint8 *) msg,
          strlen (msg)), ==, 1);
  p64 = wr_base64url_encode ((const guint8 *) payload, strlen (payload));
  s64 = wr_base64url_encode (sig, len);
  return g_strconcat (p64, ".", s64, NULL);
}

static void
assert_refused (Fixture *f, const char *token, const char *agent,
    gint64 now, WrGrantError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGrant) g = wr_grant_verify (f->pub, token, agent, now,
      &error);

  g_assert_null (g);
  g_assert_error (error, WR_GRANT_ERROR, (gint) code);
  g_test_message ("refused (%s): %s", wr_grant_error_reason (code),
      error->message);
}

static void
test_valid_verifies (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->key);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGrant) g = NULL;

  g_assert_nonnull (strchr (token, '.'));
  g_assert_null (strchr (token, '='));
  g = wr_grant_verify (f->pub, token, "lab-1", NOW + 10, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g);
  g_assert_cmpstr (g->sid, ==, "0123456789abcdef");
  g_assert_cmpstr (g->user, ==, "alice");
  g_assert_cmpstr (g->agent, ==, "lab-1");
  g_assert_cmpstr (g->display, ==, ":0");
  g_assert_cmpuint (g_strv_length (g->scopes), ==, 2);
  g_assert_cmpstr (g->scopes[0], ==, "view");
  g_assert_cmpstr (g->scopes[1], ==, "control");
  g_assert_cmpint (g->iat, ==, NOW);
  g_assert_cmpint (g->exp, ==, NOW + 120);

  /* The private key verifies too (it holds the public half). */
  g_clear_pointer (&g, wr_grant_free);
  g = wr_grant_verify (f->key, token, NULL, NOW, &error);
  g_assert_no_error (error);
}

static void
test_forged_is_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->other);

  assert_refused (f, token, "lab-1", NOW, WR_GRANT_ERROR_BAD_SIGNATURE);
}

static void
test_expired_is_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->key);
  g_autoptr (WrGrant) within = NULL;
  g_autoptr (GError) error = NULL;

  /* exp is NOW + 120; the skew allows 30 s more, not 31. */
  within = wr_grant_verify (f->pub, token, "lab-1",
      NOW + 120 + WR_GRANT_CLOCK_SKEW, &error);
  g_assert_no_error (error);
  assert_refused (f, token, "lab-1", NOW + 120 + WR_GRANT_CLOCK_SKEW + 1,
      WR_GRANT_ERROR_EXPIRED);
  assert_refused (f, token, "lab-1", NOW + 100000, WR_GRANT_ERROR_EXPIRED);
  /* Issued more than the skew in the future: a clock problem or a grant
   * made for later; refused either way. */
  assert_refused (f, token, "lab-1", NOW - WR_GRANT_CLOCK_SKEW - 1,
      WR_GRANT_ERROR_EXPIRED);
}

static void
test_wrong_agent_is_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->key);

  assert_refused (f, token, "lab-2", NOW, WR_GRANT_ERROR_WRONG_AGENT);
  assert_refused (f, token, "lab-", NOW, WR_GRANT_ERROR_WRONG_AGENT);
  assert_refused (f, token, "lab-10", NOW, WR_GRANT_ERROR_WRONG_AGENT);
}

static void
test_tampered_payload_is_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->key);
  const char *dot = strchr (token, '.');
  gsize plen = (gsize) (dot - token);
  g_autofree guint8 *payload = NULL;
  g_autofree char *p64 = NULL;
  g_autofree char *forged = NULL;
  char *hit;
  gsize len = 0;

  /* One byte of the JSON changed ("lab-1" becomes "lab-2"), signature
   * kept: the grant now names the verifier, but the signature does not
   * cover it. */
  payload = wr_base64url_decode (token, plen, &len);
  g_assert_nonnull (payload);
  hit = g_strstr_len ((char *) payload, (gssize) len, "lab-1");
  g_assert_nonnull (hit);
  hit[4] = '2';
  p64 = wr_base64url_encode (payload, len);
  forged = g_strconcat (p64, dot, NULL);
  assert_refused (f, forged, "lab-2", NOW, WR_GRANT_ERROR_BAD_SIGNATURE);

  /* Any one character of the encoded payload changed: never valid. */
  for (gsize i = 0; i < plen; i++) {
    g_autofree char *t = g_strdup (token);
    g_autoptr (GError) error = NULL;
    g_autoptr (WrGrant) g = NULL;

    t[i] = t[i] == 'A' ? 'B' : 'A';
    g = wr_grant_verify (f->pub, t, NULL, NOW, &error);
    g_assert_null (g);
    g_assert_true (g_error_matches (error, WR_GRANT_ERROR,
            WR_GRANT_ERROR_BAD_SIGNATURE)
        || g_error_matches (error, WR_GRANT_ERROR,
            WR_GRANT_ERROR_MALFORMED));
  }
}

static void
test_tampered_signature_is_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->key);
  char *dot = strchr (token, '.');
  g_autofree guint8 *sig = NULL;
  g_autofree char *s64 = NULL;
  g_autofree char *forged = NULL;
  gsize len = 0;

  sig = wr_base64url_decode (dot + 1, strlen (dot + 1), &len);
  g_assert_cmpuint (len, ==, 64);
  sig[10] ^= 0x01;
  s64 = wr_base64url_encode (sig, len);
  *dot = '\0';
  forged = g_strconcat (token, ".", s64, NULL);
  *dot = '.';
  assert_refused (f, forged, "lab-1", NOW, WR_GRANT_ERROR_BAD_SIGNATURE);

  for (gsize i = (gsize) (dot - token) + 1; token[i]; i++) {
    g_autofree char *t = g_strdup (token);
    g_autoptr (GError) error = NULL;
    g_autoptr (WrGrant) g = NULL;

    t[i] = t[i] == 'A' ? 'B' : 'A';
    g = wr_grant_verify (f->pub, t, NULL, NOW, &error);
    g_assert_null (g);
    g_assert_true (g_error_matches (error, WR_GRANT_ERROR,
            WR_GRANT_ERROR_BAD_SIGNATURE)
        || g_error_matches (error, WR_GRANT_ERROR,
            WR_GRANT_ERROR_MALFORMED));
  }
}

static void
test_truncated_is_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *token = sign_sample (f->key);
  gsize len = strlen (token);
  gsize dot = (gsize) (strchr (token, '.') - token);

  /* Without the last character the signature is short. */
  {
    g_autofree char *t = g_strndup (token, len - 1);
    assert_refused (f, t, "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);
  }
  /* Up to and including the dot: no signature at all. */
  {
    g_autofree char *t = g_strndup (token, dot + 1);
    assert_refused (f, t, "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);
  }
  {
    g_autofree char *t = g_strndup (token, dot);
    assert_refused (f, t, "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);
  }
  /* Every prefix is refused. */
  for (gsize i = 0; i < len; i++) {
    g_autofree char *t = g_strndup (token, i);
    g_autoptr (GError) error = NULL;
    g_autoptr (WrGrant) g = wr_grant_verify (f->pub, t, NULL, NOW, &error);

    g_assert_null (g);
    g_assert_nonnull (error);
  }
}

static void
test_oversized_is_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) big = g_string_new ("{\"v\":1,\"pad\":\"");
  g_autofree char *token = NULL;
  WrGrant g = sample ();
  g_autofree char *scope = g_strnfill (33, 's');
  const char *scopes[] = { scope, NULL };
  g_autofree char *long_user = g_strnfill (129, 'u');
  g_autoptr (GError) error = NULL;

  /* A well-signed token over 4 KiB is refused for its size alone. */
  while (big->len < 5000)
    g_string_append_c (big, 'x');
  g_string_append (big, "\"}");
  token = sign_raw (f->key, big->str);
  g_assert_cmpuint (strlen (token), >, WR_GRANT_MAX_TOKEN_SIZE);
  assert_refused (f, token, "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);

  /* Fields over their bounds are neither signed nor accepted. */
  g.scopes = (GStrv) scopes;
  g_assert_null (wr_grant_sign (f->key, &g, &error));
  g_assert_error (error, WR_GRANT_ERROR, WR_GRANT_ERROR_MALFORMED);
  g_clear_error (&error);
  g = sample ();
  g.user = long_user;
  g_assert_null (wr_grant_sign (f->key, &g, &error));
  g_assert_error (error, WR_GRANT_ERROR, WR_GRANT_ERROR_MALFORMED);
}

static void
test_garbage_is_refused (Fixture *f, gconstpointer data)
{
  static const char *garbage[] = {
    "", ".", "..", "abc", "a.b.c", "!!!!.????", "eyJ2IjoxfQ==.AAAA",
    "eyJ2IjoxfQ.AA AA", "eyJ2Ijox fQ.AAAA", "eyJ2IjoxfQ+.AAAA",
    "\xff\xfe.\x01\x02", "eyJ2IjoxfQ.A",
  };

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    assert_refused (f, garbage[i], "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);
  assert_refused (f, NULL, "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);
}

/* The signature is checked first, the payload second: a well-signed
 * payload that is not a grant is still refused, by its fields. */
static void
test_signed_nonsense_is_malformed (Fixture *f, gconstpointer data)
{
  static const char *payloads[] = {
    "not json",
    "[1,2]",
    "{\"v\":2,\"sid\":\"s\",\"user\":\"u\",\"agent\":\"lab-1\","
        "\"display\":\":0\",\"scopes\":[],\"iat\":1790000000,"
        "\"exp\":1790000100}",
    "{\"v\":1,\"user\":\"u\",\"agent\":\"lab-1\",\"display\":\":0\","
        "\"scopes\":[],\"iat\":1790000000,\"exp\":1790000100}",
    "{\"v\":1,\"sid\":\"s\",\"user\":\"u\",\"agent\":\"lab-1\","
        "\"display\":\":0\",\"scopes\":[1],\"iat\":1790000000,"
        "\"exp\":1790000100}",
    "{\"v\":1,\"sid\":\"s\",\"user\":\"u\",\"agent\":\"lab-1\","
        "\"display\":\":0\",\"scopes\":\"control\",\"iat\":1790000000,"
        "\"exp\":1790000100}",
    "{\"v\":1,\"sid\":\"s\",\"user\":\"u\",\"agent\":\"lab-1\","
        "\"display\":\":0\",\"scopes\":[],\"iat\":\"1790000000\","
        "\"exp\":1790000100}",
    /* a lifetime of a year */
    "{\"v\":1,\"sid\":\"s\",\"user\":\"u\",\"agent\":\"lab-1\","
        "\"display\":\":0\",\"scopes\":[],\"iat\":1790000000,"
        "\"exp\":1821536000}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (payloads); i++) {
    g_autofree char *token = sign_raw (f->key, payloads[i]);
    assert_refused (f, token, "lab-1", NOW, WR_GRANT_ERROR_MALFORMED);
  }
}

static void
test_public_key_strings (Fixture *f, gconstpointer data)
{
  g_autofree char *line = wr_grant_public_key_to_string (f->key);
  g_autofree char *again = NULL;
  g_autofree char *spaced = NULL;
  g_autoptr (EVP_PKEY) pub = NULL;
  g_autoptr (GError) error = NULL;
  static const char *bad[] = {
    "", "ed25519:", "rsa:AAAA", "ed25519:AAAA",
    "ed25519:!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  };

  g_assert_true (g_str_has_prefix (line, "ed25519:"));
  g_assert_cmpuint (strlen (line), ==, strlen ("ed25519:") + 44);
  spaced = g_strdup_printf ("  %s\n", line);
  pub = wr_grant_public_key_from_string (spaced, &error);
  g_assert_no_error (error);
  again = wr_grant_public_key_to_string (pub);
  g_assert_cmpstr (again, ==, line);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (EVP_PKEY) k = wr_grant_public_key_from_string (bad[i],
        &error);
    g_assert_null (k);
    g_assert_error (error, WR_GRANT_ERROR, WR_GRANT_ERROR_KEY);
    g_clear_error (&error);
  }
}

static void
test_key_files (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-grant-XXXXXX", NULL);
  g_autofree char *priv = g_build_filename (dir, "grant-signing.key", NULL);
  g_autofree char *line_file = g_build_filename (dir, "grant.pub", NULL);
  g_autofree char *pem_file = g_build_filename (dir, "grant.pem", NULL);
  g_autoptr (EVP_PKEY) k1 = NULL;
  g_autoptr (EVP_PKEY) k2 = NULL;
  g_autoptr (EVP_PKEY) p1 = NULL;
  g_autoptr (EVP_PKEY) p2 = NULL;
  g_autoptr (EVP_PKEY) p3 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
  g_autoptr (BIO) bio = NULL;
  gboolean created = FALSE;
  GStatBuf st;
  char *pem = NULL;
  long pem_len;

  k1 = wr_grant_key_load_or_create (priv, &created, &error);
  g_assert_no_error (error);
  g_assert_true (created);
  g_assert_cmpint (g_stat (priv, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  k2 = wr_grant_key_load_or_create (priv, &created, &error);
  g_assert_no_error (error);
  g_assert_false (created);
  s1 = wr_grant_public_key_to_string (k1);
  s2 = wr_grant_public_key_to_string (k2);
  g_assert_cmpstr (s1, ==, s2);

  /* The agent side: the line in a file, or a PEM public key. */
  g_assert_true (g_file_set_contents (line_file, s1, -1, NULL));
  p1 = wr_grant_public_key_load_file (line_file, &error);
  g_assert_no_error (error);
  s3 = wr_grant_public_key_to_string (p1);
  g_assert_cmpstr (s3, ==, s1);

  bio = BIO_new (BIO_s_mem ());
  g_assert_cmpint (PEM_write_bio_PUBKEY (bio, k1), ==, 1);
  pem_len = BIO_get_mem_data (bio, &pem);
  g_assert_true (g_file_set_contents (pem_file, pem, pem_len, NULL));
  p2 = wr_grant_public_key_load_file (pem_file, &error);
  g_assert_no_error (error);
  s4 = wr_grant_public_key_to_string (p2);
  g_assert_cmpstr (s4, ==, s1);

  /* The private key file is no public key file: refused with a hint. */
  p3 = wr_grant_public_key_load_file (priv, &error);
  g_assert_null (p3);
  g_assert_error (error, WR_GRANT_ERROR, WR_GRANT_ERROR_KEY);
  g_assert_nonnull (strstr (error->message, "--print-grant-key"));

  g_unlink (priv);
  g_unlink (line_file);
  g_unlink (pem_file);
  g_rmdir (dir);
}

static void
test_base64url_is_strict (void)
{
  static const guint8 data[] = { 0xfb, 0xff, 0xbf };
  g_autofree char *enc = wr_base64url_encode (data, sizeof data);
  g_autofree guint8 *dec = NULL;
  gsize len = 0;

  g_assert_cmpstr (enc, ==, "-_-_");
  dec = wr_base64url_decode (enc, strlen (enc), &len);
  g_assert_cmpuint (len, ==, 3);
  g_assert_cmpmem (dec, len, data, sizeof data);
  /* standard alphabet, padding, non-canonical trailing bits */
  g_assert_null (wr_base64url_decode ("+/+/", 4, &len));
  g_assert_null (wr_base64url_decode ("QQ==", 4, &len));
  g_assert_null (wr_base64url_decode ("QR", 2, &len));
  g_free (dec);
  dec = wr_base64url_decode ("QQ", 2, &len);
  g_assert_nonnull (dec);
  g_assert_cmpuint (len, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/common/grant/valid-grant-verifies", test_valid_verifies);
  ADD ("/common/grant/forged-is-bad-signature", test_forged_is_refused);
  ADD ("/common/grant/expired-is-expired", test_expired_is_refused);
  ADD ("/common/grant/wrong-agent-is-wrong-agent",
      test_wrong_agent_is_refused);
  ADD ("/common/grant/tampered-payload-is-refused",
      test_tampered_payload_is_refused);
  ADD ("/common/grant/tampered-signature-is-refused",
      test_tampered_signature_is_refused);
  ADD ("/common/grant/truncated-is-malformed", test_truncated_is_refused);
  ADD ("/common/grant/oversized-is-malformed", test_oversized_is_refused);
  ADD ("/common/grant/garbage-is-malformed", test_garbage_is_refused);
  ADD ("/common/grant/signed-nonsense-is-malformed",
      test_signed_nonsense_is_malformed);
  ADD ("/common/grant/public-key-strings", test_public_key_strings);
  ADD ("/common/grant/key-files", test_key_files);
#undef ADD
  g_test_add_func ("/common/grant/base64url-is-strict",
      test_base64url_is_strict);

  return g_test_run ();
}
