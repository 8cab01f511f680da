/* Tests for JWK parsing and JWS verification (gateway/jwk.c), with RSA and
 * P-256 keys generated here. */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/autocleanups.h"
#include "gateway/jwk.h"

static const char payload[] = "{\"sub\":\"alice\",\"iss\":\"https://idp.test\"}";

static EVP_PKEY *
rsa_key (guint bits)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) bits);

  g_assert_nonnull (key);
  return key;
}

static EVP_PKEY *
ec_key (const char *curve)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", curve);

  g_assert_nonnull (key);
  return key;
}

static char *
object_to_string (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_node_set_object (node, object);
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

/* {"keys":[...]} with the public halves of @keys named @kids. */
static char *
jwks_json (EVP_PKEY **keys, const char **kids, guint n)
{
  g_autoptr (JsonObject) root = json_object_new ();
  JsonArray *array = json_array_new ();
  guint i;

  for (i = 0; i < n; i++) {
    g_autoptr (GError) error = NULL;
    JsonObject *jwk = wr_jwk_to_json (keys[i], kids[i], &error);

    g_assert_no_error (error);
    json_array_add_object_element (array, jwk);
  }
  json_object_set_array_member (root, "keys", array);
  return object_to_string (root);
}

static WrJwkSet *
jwks_of (EVP_PKEY *key, const char *kid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = jwks_json (&key, &kid, 1);
  WrJwkSet *set = wr_jwk_set_new_from_json (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (set);
  return set;
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* A compact JWS with this header, the fixed payload and @sig raw bytes. */
static char *
jws_with_header (const char *header, const guchar *sig, gsize sig_len)
{
  g_autofree char *h = wr_base64url_encode ((const guchar *) header,
      strlen (header));
  g_autofree char *p = wr_base64url_encode ((const guchar *) payload,
      strlen (payload));
  g_autofree char *s = wr_base64url_encode (sig, sig_len);

  return g_strconcat (h, ".", p, ".", s, NULL);
}

static gboolean
verify_with (const char *compact, WrJwkSet *set, GError **error)
{
  g_autoptr (WrJws) jws = wr_jws_parse (compact, error);
  const WrJwk *key;

  if (jws == NULL)
    return FALSE;
  key = wr_jwk_set_lookup (set, jws->kid, jws->alg);
  if (key == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_NO_KEY, "no key");
    return FALSE;
  }
  return wr_jws_verify (jws, key, error);
}

static void
test_base64url (void)
{
  guchar data[100];
  gsize len, out_len = 0;
  g_autofree guchar *zero = NULL;

  RAND_bytes (data, sizeof data);
  for (len = 0; len <= sizeof data; len++) {
    g_autofree char *text = wr_base64url_encode (data, len);
    g_autofree guchar *back = wr_base64url_decode (text, strlen (text),
        &out_len);

    g_assert_null (strchr (text, '='));
    g_assert_nonnull (back);
    g_assert_cmpmem (back, out_len, data, len);
  }
  /* Padding, the standard alphabet, an impossible length, dirty bits. */
  g_assert_null (wr_base64url_decode ("QQ==", 4, &out_len));
  g_assert_null (wr_base64url_decode ("a+b/", 4, &out_len));
  g_assert_null (wr_base64url_decode ("abcde", 5, &out_len));
  g_assert_null (wr_base64url_decode ("QR", 2, &out_len));
  g_assert_null (wr_base64url_decode ("ab c", 4, &out_len));
  zero = wr_base64url_decode ("QQ", 2, &out_len);
  g_assert_cmpmem (zero, out_len, "A", 1);
}

static void
check_sign_and_verify (WrJwsAlg alg, EVP_PKEY *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrJwkSet) set = jwks_of (key, "k1");
  g_autofree char *token = wr_jws_sign (alg, key, "k1", payload,
      strlen (payload), &error);
  g_autoptr (WrJws) jws = NULL;
  g_autofree char *tampered = NULL;
  char *dot;
  gsize n;

  g_assert_no_error (error);
  g_assert_true (verify_with (token, set, &error));
  g_assert_no_error (error);

  jws = wr_jws_parse (token, &error);
  g_assert_no_error (error);
  g_assert_cmpint (jws->alg, ==, alg);
  g_assert_cmpstr (jws->kid, ==, "k1");
  g_assert_cmpmem (g_bytes_get_data (jws->payload, &n), n, payload,
      strlen (payload));
  if (alg == WR_JWS_ALG_ES256)
    /* RFC 7518 3.4: raw r || s, not DER. */
    g_assert_cmpuint (g_bytes_get_size (jws->signature), ==, 64);
  else
    g_assert_cmpuint (g_bytes_get_size (jws->signature), ==, 256);

  /* One changed payload character breaks the signature. */
  tampered = g_strdup (token);
  dot = strchr (tampered, '.') + 5;
  *dot = *dot == 'A' ? 'B' : 'A';
  g_assert_false (verify_with (tampered, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE);
  g_clear_error (&error);

  /* So does a changed signature character. */
  g_free (tampered);
  tampered = g_strdup (token);
  dot = strrchr (tampered, '.') + 3;
  *dot = *dot == 'A' ? 'B' : 'A';
  g_assert_false (verify_with (tampered, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE);
}

static void
test_rs256 (void)
{
  g_autoptr (EVP_PKEY) key = rsa_key (2048);

  check_sign_and_verify (WR_JWS_ALG_RS256, key);
}

static void
test_es256 (void)
{
  g_autoptr (EVP_PKEY) key = ec_key ("P-256");

  check_sign_and_verify (WR_JWS_ALG_ES256, key);
}

/* A DER-encoded ECDSA signature (what OpenSSL produces, and what a naive
 * signer would put in the JWS) is not a valid ES256 signature. */
static void
test_es256_der_signature_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = ec_key ("P-256");
  g_autoptr (WrJwkSet) set = jwks_of (key, "k1");
  const char *header = "{\"alg\":\"ES256\",\"kid\":\"k1\"}";
  g_autofree char *h = wr_base64url_encode ((const guchar *) header,
      strlen (header));
  g_autofree char *p = wr_base64url_encode ((const guchar *) payload,
      strlen (payload));
  g_autofree char *input = g_strconcat (h, ".", p, NULL);
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  guchar der[128];
  size_t der_len = sizeof der;
  g_autofree char *token = NULL;

  g_assert_cmpint (EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, key),
      ==, 1);
  g_assert_cmpint (EVP_DigestSign (md, der, &der_len, (guchar *) input,
          strlen (input)), ==, 1);
  token = jws_with_header (header, der, der_len);
  g_assert_false (verify_with (token, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE);
}

/* The forger signs with their own key under the kid of the real one. */
static void
test_forged_signature_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) real = rsa_key (2048);
  g_autoptr (EVP_PKEY) forger = rsa_key (2048);
  g_autoptr (EVP_PKEY) real_ec = ec_key ("P-256");
  g_autoptr (EVP_PKEY) forger_ec = ec_key ("P-256");
  EVP_PKEY *keys[] = { real, real_ec };
  const char *kids[] = { "rsa", "ec" };
  g_autofree char *json = jwks_json (keys, kids, 2);
  g_autoptr (WrJwkSet) set = wr_jwk_set_new_from_json (json, -1, &error);
  g_autofree char *rs = NULL, *es = NULL, *unknown = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (wr_jwk_set_get_n_keys (set), ==, 2);

  rs = wr_jws_sign (WR_JWS_ALG_RS256, forger, "rsa", payload,
      strlen (payload), NULL);
  g_assert_false (verify_with (rs, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE);
  g_clear_error (&error);

  es = wr_jws_sign (WR_JWS_ALG_ES256, forger_ec, "ec", payload,
      strlen (payload), NULL);
  g_assert_false (verify_with (es, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE);
  g_clear_error (&error);

  /* A kid the set does not have finds no key at all. */
  unknown = wr_jws_sign (WR_JWS_ALG_RS256, forger, "forger", payload,
      strlen (payload), NULL);
  g_assert_false (verify_with (unknown, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_NO_KEY);
}

static void
test_unsafe_algorithms_are_refused (void)
{
  const char *headers[] = {
    "{\"alg\":\"none\"}",
    "{\"alg\":\"None\",\"kid\":\"k1\"}",
    "{\"alg\":\"HS256\",\"kid\":\"k1\"}",
    "{\"alg\":\"HS512\"}",
    "{\"alg\":\"PS256\"}",
    "{\"alg\":\"RS256\",\"crit\":[\"b64\"],\"b64\":false}",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (headers); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *token = jws_with_header (headers[i],
        (const guchar *) "x", 1);

    g_assert_null (wr_jws_parse (token, &error));
    g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED);
  }
}

/* An HS256 token keyed with the RSA public key (the classic algorithm
 * confusion attack) never reaches a verifier. */
static void
test_hmac_with_public_key_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = rsa_key (2048);
  g_autoptr (WrJwkSet) set = jwks_of (key, "k1");
  g_autofree char *token = jws_with_header (
      "{\"alg\":\"HS256\",\"kid\":\"k1\"}", (const guchar *) "0123456789", 10);

  g_assert_false (verify_with (token, set, &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED);
}

/* An ES256 header pointing at an RSA key (and the reverse) is refused. */
static void
test_key_type_must_fit_the_algorithm (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) rsa = rsa_key (2048);
  g_autoptr (EVP_PKEY) ec = ec_key ("P-256");
  g_autoptr (WrJwkSet) rsa_set = jwks_of (rsa, "k1");
  g_autoptr (WrJwkSet) ec_set = jwks_of (ec, "k1");
  g_autofree char *es = wr_jws_sign (WR_JWS_ALG_ES256, ec, "k1", payload,
      strlen (payload), NULL);
  g_autoptr (WrJws) jws = wr_jws_parse (es, &error);

  g_assert_no_error (error);
  g_assert_null (wr_jwk_set_lookup (rsa_set, "k1", WR_JWS_ALG_ES256));
  g_assert_null (wr_jwk_set_lookup (ec_set, "k1", WR_JWS_ALG_RS256));
  g_assert_false (wr_jws_verify (jws,
          wr_jwk_set_lookup (rsa_set, "k1", WR_JWS_ALG_RS256), &error));
  g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_NO_KEY);
}

static void
test_malformed_jws (void)
{
  const char *inputs[] = {
    "", "abc", "a.b", "a.b.c.d", "a.b.c.d.e", "...", "!!.e30.AA",
    "e30.e30.AA",          /* {} : no alg */
    "W10.e30.AA",          /* [] : not an object */
    "bm90IGpzb24.e30.AA",  /* not json */
  };
  guint i;
  g_autofree char *huge = g_strnfill (WR_JWS_MAX_LENGTH + 1, 'A');

  for (i = 0; i < G_N_ELEMENTS (inputs); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_null (wr_jws_parse (inputs[i], &error));
    g_assert_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID);
  }
  g_assert_null (wr_jws_parse (huge, NULL));
}

/* Random bytes as a JWS: refused, never a crash. */
static void
test_garbage_never_crashes (void)
{
  guint i;

  for (i = 0; i < 2000; i++) {
    guchar raw[96];
    g_autofree char *a = NULL, *b = NULL, *c = NULL, *token = NULL;

    RAND_bytes (raw, sizeof raw);
    a = wr_base64url_encode (raw, raw[0] % 40);
    b = wr_base64url_encode (raw + 40, raw[1] % 40);
    c = wr_base64url_encode (raw + 80, raw[2] % 16);
    token = g_strconcat (a, ".", b, ".", c, NULL);
    g_assert_null (wr_jws_parse (token, NULL));
  }
}

static void
check_bad_jwk (const char *json, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) object = parse_object (json);

  g_assert_null (wr_jwk_new_from_json (object, &error));
  g_assert_error (error, WR_JWK_ERROR, code);
}

static JsonObject *
jwk_of (EVP_PKEY *key)
{
  g_autoptr (GError) error = NULL;
  JsonObject *object = wr_jwk_to_json (key, "k", &error);

  g_assert_no_error (error);
  return object;
}

static void
test_bad_keys_are_refused (void)
{
  g_autoptr (EVP_PKEY) small = rsa_key (1024);
  g_autoptr (EVP_PKEY) p384 = ec_key ("P-384");
  g_autoptr (EVP_PKEY) ec = ec_key ("P-256");
  g_autoptr (JsonObject) small_jwk = jwk_of (small);
  g_autoptr (JsonObject) p384_jwk = jwk_of (p384);
  g_autoptr (JsonObject) ec_jwk = jwk_of (ec);
  g_autofree char *small_json = object_to_string (small_jwk);
  g_autofree char *p384_json = NULL;
  g_autofree char *off_curve = NULL, *short_x = NULL, *enc = NULL;
  g_autofree guchar *y = NULL;
  g_autofree char *y64 = NULL;
  gsize y_len = 0;
  const char *y_text;

  check_bad_jwk (small_json, WR_JWK_ERROR_UNSUPPORTED);

  json_object_set_string_member (p384_jwk, "crv", "P-384");
  p384_json = object_to_string (p384_jwk);
  check_bad_jwk (p384_json, WR_JWK_ERROR_UNSUPPORTED);

  /* A point off the curve (invalid-curve attacks start there). */
  y_text = json_object_get_string_member (ec_jwk, "y");
  y = wr_base64url_decode (y_text, strlen (y_text), &y_len);
  y[y_len - 1] ^= 1;
  y64 = wr_base64url_encode (y, y_len);
  json_object_set_string_member (ec_jwk, "y", y64);
  off_curve = object_to_string (ec_jwk);
  check_bad_jwk (off_curve, WR_JWK_ERROR_INVALID);

  /* Shortened coordinate. */
  json_object_set_string_member (ec_jwk, "x", "AAAA");
  short_x = object_to_string (ec_jwk);
  check_bad_jwk (short_x, WR_JWK_ERROR_INVALID);

  check_bad_jwk ("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
      WR_JWK_ERROR_UNSUPPORTED);
  check_bad_jwk ("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
      WR_JWK_ERROR_UNSUPPORTED);
  check_bad_jwk ("{\"n\":\"AQAB\",\"e\":\"AQAB\"}", WR_JWK_ERROR_INVALID);
  check_bad_jwk ("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", WR_JWK_ERROR_INVALID);
  check_bad_jwk ("{\"kty\":\"RSA\",\"n\":12,\"e\":\"AQAB\"}",
      WR_JWK_ERROR_INVALID);
  check_bad_jwk ("{\"kty\":\"RSA\",\"kid\":[],\"n\":\"AQAB\",\"e\":\"AQAB\"}",
      WR_JWK_ERROR_INVALID);
  check_bad_jwk ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"!\",\"y\":\"A\"}",
      WR_JWK_ERROR_INVALID);

  /* An encryption key never verifies a signature. */
  json_object_set_string_member (small_jwk, "use", "enc");
  enc = object_to_string (small_jwk);
  check_bad_jwk (enc, WR_JWK_ERROR_UNSUPPORTED);
  check_bad_jwk ("{\"kty\":\"RSA\",\"key_ops\":[\"encrypt\"],\"n\":\"AQAB\","
      "\"e\":\"AQAB\"}", WR_JWK_ERROR_UNSUPPORTED);
}

/* Unusable keys in a set are skipped; a set with none is an error. */
static void
test_key_sets (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) a = rsa_key (2048);
  g_autoptr (EVP_PKEY) b = rsa_key (2048);
  g_autoptr (JsonObject) a_jwk = jwk_of (a);
  g_autofree char *a_json = NULL, *mixed = NULL, *two = NULL;
  g_autoptr (WrJwkSet) set = NULL;
  g_autoptr (WrJwkSet) pair = NULL;
  EVP_PKEY *keys[] = { a, b };
  const char *no_kids[] = { NULL, NULL };
  const char *bad[] = {
    "", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[]}",
    "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}, 1, \"x\"]}",
  };
  guint i;

  json_object_remove_member (a_jwk, "kid");
  a_json = object_to_string (a_jwk);
  mixed = g_strdup_printf ("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"},7,%s,"
      "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
      a_json);
  set = wr_jwk_set_new_from_json (mixed, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wr_jwk_set_get_n_keys (set), ==, 1);
  /* No kid in the header: the only RS256 key is used, no ES256 key. */
  g_assert_nonnull (wr_jwk_set_lookup (set, NULL, WR_JWS_ALG_RS256));
  g_assert_null (wr_jwk_set_lookup (set, NULL, WR_JWS_ALG_ES256));
  g_assert_null (wr_jwk_set_lookup (set, "k", WR_JWS_ALG_RS256));

  /* Two keys without kids: a header without kid is ambiguous. */
  two = jwks_json (keys, no_kids, 2);
  pair = wr_jwk_set_new_from_json (two, -1, &error);
  g_assert_no_error (error);
  g_assert_null (wr_jwk_set_lookup (pair, NULL, WR_JWS_ALG_RS256));

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) e = NULL;

    g_assert_null (wr_jwk_set_new_from_json (bad[i], -1, &e));
    g_assert_nonnull (e);
    g_assert_true (e->domain == WR_JWK_ERROR);
  }
}

/* A JWK "alg" pins the key to that algorithm. */
static void
test_jwk_alg_member (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = rsa_key (2048);
  g_autoptr (JsonObject) object = jwk_of (key);
  g_autoptr (WrJwk) jwk = NULL;

  json_object_set_string_member (object, "alg", "RS512");
  jwk = wr_jwk_new_from_json (object, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_jwk_get_kid (jwk), ==, "k");
  g_assert_false (wr_jwk_supports (jwk, WR_JWS_ALG_RS256));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gateway/jwk/base64url-is-strict", test_base64url);
  g_test_add_func ("/gateway/jwk/rs256-signature-verifies", test_rs256);
  g_test_add_func ("/gateway/jwk/es256-signature-verifies", test_es256);
  g_test_add_func ("/gateway/jwk/es256-der-signature-is-refused",
      test_es256_der_signature_is_refused);
  g_test_add_func ("/gateway/jwk/forged-signature-is-refused",
      test_forged_signature_is_refused);
  g_test_add_func ("/gateway/jwk/alg-none-and-hmac-are-refused",
      test_unsafe_algorithms_are_refused);
  g_test_add_func ("/gateway/jwk/hmac-with-public-key-is-refused",
      test_hmac_with_public_key_is_refused);
  g_test_add_func ("/gateway/jwk/key-type-must-fit-the-algorithm",
      test_key_type_must_fit_the_algorithm);
  g_test_add_func ("/gateway/jwk/malformed-jws-is-refused",
      test_malformed_jws);
  g_test_add_func ("/gateway/jwk/garbage-never-crashes",
      test_garbage_never_crashes);
  g_test_add_func ("/gateway/jwk/bad-keys-are-refused",
      test_bad_keys_are_refused);
  g_test_add_func ("/gateway/jwk/unusable-keys-are-skipped-in-sets",
      test_key_sets);
  g_test_add_func ("/gateway/jwk/jwk-alg-pins-the-algorithm",
      test_jwk_alg_member);
  return g_test_run ();
}
