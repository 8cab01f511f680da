/* webremote: JSON Web Keys and JWS signature verification (RS256, ES256). */
#include "config.h"

#include "gateway/jwk.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "common/autocleanups.h"

/* RSA moduli outside these bounds are either weak or a way to make us
 * spend time on verification. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
/* A key set is a handful of keys; bound what a provider can make us keep. */
#define JWK_SET_MAX_KEYS 64
/* P-256 coordinates and ES256 signature halves (RFC 7518 sections 3.4,
 * 6.2.1.2). */
#define P256_FIELD_BYTES 32

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM, OSSL_PARAM_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ECDSA_SIG, ECDSA_SIG_free)

struct _WrJwk {
  char *kid;      /* nullable */
  char *alg;      /* nullable: the JWK "alg" member */
  gboolean is_rsa;
  EVP_PKEY *pkey;
};

struct _WrJwkSet {
  GPtrArray *keys; /* WrJwk; never modified after construction */
};

G_DEFINE_QUARK (wr-jwk-error-quark, wr_jwk_error)

/* --- base64url (RFC 4648 section 5, unpadded as RFC 7515 section 2) --- */
/* --- JSON members, type-checked (json-glib's getters are critical on a
 * type mismatch, and these documents come from the network) --- */

static const char *
member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Decodes the base64url member @name of @object into a buffer of at most
 * @max bytes. */
static guchar *
member_bytes (JsonObject *object, const char *name, gsize max, gsize *len,
    GError **error)
{
  const char *text = member_string (object, name);
  guchar *bytes;

  if (text == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK has no \"%s\" string", name);
    return NULL;
  }
  bytes = wr_base64url_decode (text, strlen (text), len);
  if (bytes == NULL || *len == 0 || *len > max) {
    g_free (bytes);
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK member \"%s\" is not valid base64url of a sensible size",
        name);
    return NULL;
  }
  return bytes;
}

static const char *
alg_name (WrJwsAlg alg)
{
  switch (alg) {
    case WR_JWS_ALG_RS256:
      return "RS256";
    case WR_JWS_ALG_ES256:
      return "ES256";
    default:
      return "?";
  }
}

/* --- JWK -> EVP_PKEY --- */

static EVP_PKEY *
pkey_from_params (const char *type, OSSL_PARAM_BLD *bld, GError **error)
{
  g_autoptr (OSSL_PARAM) params = OSSL_PARAM_BLD_to_param (bld);
  g_autoptr (EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new_from_name (NULL, type, NULL);
  g_autoptr (EVP_PKEY_CTX) check = NULL;
  EVP_PKEY *pkey = NULL;

  if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init (ctx) != 1
      || EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error ();
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the %s JWK is not a valid public key", type);
    return NULL;
  }
  check = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL);
  if (check == NULL || EVP_PKEY_public_check (check) != 1) {
    ERR_clear_error ();
    EVP_PKEY_free (pkey);
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the %s JWK fails the public key check", type);
    return NULL;
  }
  return pkey;
}

static EVP_PKEY *
rsa_from_json (JsonObject *object, GError **error)
{
  g_autofree guchar *n = NULL, *e = NULL;
  gsize n_len = 0, e_len = 0;
  g_autoptr (BIGNUM) bn_n = NULL, bn_e = NULL;
  g_autoptr (OSSL_PARAM_BLD) bld = NULL;
  g_autoptr (EVP_PKEY) pkey = NULL;
  int bits;

  n = member_bytes (object, "n", RSA_MAX_BITS / 8 + 1, &n_len, error);
  if (n == NULL)
    return NULL;
  e = member_bytes (object, "e", 8, &e_len, error);
  if (e == NULL)
    return NULL;
  bn_n = BN_bin2bn (n, (int) n_len, NULL);
  bn_e = BN_bin2bn (e, (int) e_len, NULL);
  if (bn_n == NULL || bn_e == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID, "out of memory");
    return NULL;
  }
  /* A public exponent must be odd and greater than 1. */
  if (!BN_is_odd (bn_e) || BN_is_one (bn_e)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the RSA JWK has an invalid public exponent");
    return NULL;
  }
  bits = BN_num_bits (bn_n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "the RSA JWK has a %d-bit modulus; %d to %d bits are accepted", bits,
        RSA_MIN_BITS, RSA_MAX_BITS);
    return NULL;
  }
  bld = OSSL_PARAM_BLD_new ();
  if (bld == NULL
      || !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
      || !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID, "out of memory");
    return NULL;
  }
  pkey = pkey_from_params ("RSA", bld, error);
  return g_steal_pointer (&pkey);
}

static EVP_PKEY *
ec_from_json (JsonObject *object, GError **error)
{
  const char *crv = member_string (object, "crv");
  g_autofree guchar *x = NULL, *y = NULL;
  gsize x_len = 0, y_len = 0;
  guchar point[1 + 2 * P256_FIELD_BYTES];
  g_autoptr (OSSL_PARAM_BLD) bld = NULL;

  if (g_strcmp0 (crv, "P-256") != 0) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "EC JWKs must be on the P-256 curve");
    return NULL;
  }
  x = member_bytes (object, "x", P256_FIELD_BYTES, &x_len, error);
  if (x == NULL)
    return NULL;
  y = member_bytes (object, "y", P256_FIELD_BYTES, &y_len, error);
  if (y == NULL)
    return NULL;
  /* RFC 7518 6.2.1.2: the coordinates are full length, never shortened. */
  if (x_len != P256_FIELD_BYTES || y_len != P256_FIELD_BYTES) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the P-256 JWK coordinates must be %d bytes", P256_FIELD_BYTES);
    return NULL;
  }
  point[0] = POINT_CONVERSION_UNCOMPRESSED;
  memcpy (point + 1, x, P256_FIELD_BYTES);
  memcpy (point + 1 + P256_FIELD_BYTES, y, P256_FIELD_BYTES);

  bld = OSSL_PARAM_BLD_new ();
  if (bld == NULL
      || !OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
          SN_X9_62_prime256v1, 0)
      || !OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY,
          point, sizeof point)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID, "out of memory");
    return NULL;
  }
  return pkey_from_params ("EC", bld, error);
}

WrJwk *
wr_jwk_new_from_json (JsonObject *object, GError **error)
{
  const char *kty, *use, *kid, *alg;
  JsonNode *ops;
  g_autoptr (EVP_PKEY) pkey = NULL;
  WrJwk *jwk;

  g_return_val_if_fail (object != NULL, NULL);

  kty = member_string (object, "kty");
  use = member_string (object, "use");
  kid = member_string (object, "kid");
  alg = member_string (object, "alg");
  if (kty == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK has no \"kty\"");
    return NULL;
  }
  if (json_object_has_member (object, "kid") && kid == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK \"kid\" is not a string");
    return NULL;
  }
  /* RFC 7517 4.2, 4.3: a key meant for encryption never verifies. */
  if (use != NULL && strcmp (use, "sig") != 0) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "the JWK is not a signature key (use \"%s\")", use);
    return NULL;
  }
  ops = json_object_get_member (object, "key_ops");
  if (ops != NULL) {
    gboolean verify = FALSE;

    if (JSON_NODE_HOLDS_ARRAY (ops)) {
      JsonArray *array = json_node_get_array (ops);
      guint i;

      for (i = 0; i < json_array_get_length (array); i++) {
        JsonNode *op = json_array_get_element (array, i);

        if (JSON_NODE_HOLDS_VALUE (op)
            && json_node_get_value_type (op) == G_TYPE_STRING
            && strcmp (json_node_get_string (op), "verify") == 0)
          verify = TRUE;
      }
    }
    if (!verify) {
      g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
          "the JWK \"key_ops\" do not include \"verify\"");
      return NULL;
    }
  }

  if (strcmp (kty, "RSA") == 0)
    pkey = rsa_from_json (object, error);
  else if (strcmp (kty, "EC") == 0)
    pkey = ec_from_json (object, error);
  else
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "JWKs of type \"%s\" are not supported (only RSA and EC)", kty);
  if (pkey == NULL)
    return NULL;

  jwk = g_new0 (WrJwk, 1);
  jwk->kid = g_strdup (kid);
  jwk->alg = g_strdup (alg);
  jwk->is_rsa = strcmp (kty, "RSA") == 0;
  jwk->pkey = g_steal_pointer (&pkey);
  return jwk;
}

void
wr_jwk_free (WrJwk *jwk)
{
  if (jwk == NULL)
    return;
  g_free (jwk->kid);
  g_free (jwk->alg);
  EVP_PKEY_free (jwk->pkey);
  g_free (jwk);
}

const char *
wr_jwk_get_kid (const WrJwk *jwk)
{
  return jwk->kid;
}

EVP_PKEY *
wr_jwk_get_pkey (const WrJwk *jwk)
{
  return jwk->pkey;
}

gboolean
wr_jwk_supports (const WrJwk *jwk, WrJwsAlg alg)
{
  if (jwk->alg != NULL && strcmp (jwk->alg, alg_name (alg)) != 0)
    return FALSE;
  switch (alg) {
    case WR_JWS_ALG_RS256:
      return jwk->is_rsa;
    case WR_JWS_ALG_ES256:
      return !jwk->is_rsa;
    default:
      return FALSE;
  }
}

/* --- JWK sets --- */

static void
jwk_set_clear (gpointer data)
{
  WrJwkSet *set = data;

  g_ptr_array_unref (set->keys);
}

WrJwkSet *
wr_jwk_set_new_from_json (const char *json, gssize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = NULL;
  JsonNode *root, *keys_node;
  JsonArray *keys;
  g_autoptr (GPtrArray) usable = NULL;
  WrJwkSet *set;
  guint i;

  g_return_val_if_fail (json != NULL, NULL);

  if (!json_parser_load_from_data (parser, json, len, &parse_error)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK set is not JSON: %s", parse_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  keys_node = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
      ? json_object_get_member (json_node_get_object (root), "keys") : NULL;
  if (keys_node == NULL || !JSON_NODE_HOLDS_ARRAY (keys_node)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK set has no \"keys\" array");
    return NULL;
  }
  keys = json_node_get_array (keys_node);
  if (json_array_get_length (keys) > JWK_SET_MAX_KEYS) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWK set has more than %d keys", JWK_SET_MAX_KEYS);
    return NULL;
  }

  usable = g_ptr_array_new_with_free_func ((GDestroyNotify) wr_jwk_free);
  for (i = 0; i < json_array_get_length (keys); i++) {
    JsonNode *node = json_array_get_element (keys, i);
    g_autoptr (GError) key_error = NULL;
    WrJwk *jwk;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    jwk = wr_jwk_new_from_json (json_node_get_object (node), &key_error);
    if (jwk == NULL) {
      g_debug ("skipping JWK %u: %s", i, key_error->message);
      continue;
    }
    g_ptr_array_add (usable, jwk);
  }
  if (usable->len == 0) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_NO_KEY,
        "the JWK set has no usable RSA or P-256 signature key");
    return NULL;
  }

  set = g_atomic_rc_box_new0 (WrJwkSet);
  set->keys = g_steal_pointer (&usable);
  return set;
}

WrJwkSet *
wr_jwk_set_ref (WrJwkSet *set)
{
  return g_atomic_rc_box_acquire (set);
}

void
wr_jwk_set_unref (WrJwkSet *set)
{
  if (set != NULL)
    g_atomic_rc_box_release_full (set, jwk_set_clear);
}

guint
wr_jwk_set_get_n_keys (const WrJwkSet *set)
{
  return set->keys->len;
}

const WrJwk *
wr_jwk_set_lookup (const WrJwkSet *set, const char *kid, WrJwsAlg alg)
{
  const WrJwk *found = NULL;
  guint i;

  for (i = 0; i < set->keys->len; i++) {
    const WrJwk *jwk = g_ptr_array_index (set->keys, i);

    if (!wr_jwk_supports (jwk, alg))
      continue;
    if (kid != NULL) {
      if (g_strcmp0 (jwk->kid, kid) == 0)
        return jwk;
    } else {
      /* Without a kid the choice must not be ambiguous. */
      if (found != NULL)
        return NULL;
      found = jwk;
    }
  }
  return found;
}

/* --- JWS --- */

void
wr_jws_free (WrJws *jws)
{
  if (jws == NULL)
    return;
  g_free (jws->kid);
  if (jws->header)
    json_object_unref (jws->header);
  g_clear_pointer (&jws->payload, g_bytes_unref);
  g_free (jws->signing_input);
  g_clear_pointer (&jws->signature, g_bytes_unref);
  g_free (jws);
}

static GBytes *
decode_part (const char *text, gsize len, const char *what, GError **error)
{
  gsize out_len = 0;
  guchar *out = wr_base64url_decode (text, len, &out_len);

  if (out == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWS %s is not base64url", what);
    return NULL;
  }
  return g_bytes_new_take (out, out_len);
}

WrJws *
wr_jws_parse (const char *compact, GError **error)
{
  const char *dot1, *dot2;
  gsize len;
  g_autoptr (GBytes) header_bytes = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (WrJws) jws = NULL;
  JsonNode *root, *kid_node;
  const char *alg;
  gsize header_len;
  const char *header_text;

  g_return_val_if_fail (compact != NULL, NULL);

  len = strlen (compact);
  if (len > WR_JWS_MAX_LENGTH) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWS is longer than %d bytes", WR_JWS_MAX_LENGTH);
    return NULL;
  }
  dot1 = strchr (compact, '.');
  dot2 = dot1 ? strchr (dot1 + 1, '.') : NULL;
  if (dot1 == NULL || dot2 == NULL || strchr (dot2 + 1, '.') != NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "not a JWS in compact serialization (three dot-separated parts)");
    return NULL;
  }

  header_bytes = decode_part (compact, (gsize) (dot1 - compact), "header",
      error);
  if (header_bytes == NULL)
    return NULL;
  header_text = g_bytes_get_data (header_bytes, &header_len);
  parser = json_parser_new ();
  if (header_len == 0
      || !json_parser_load_from_data (parser, header_text,
          (gssize) header_len, NULL)
      || (root = json_parser_get_root (parser)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWS header is not a JSON object");
    return NULL;
  }

  jws = g_new0 (WrJws, 1);
  jws->header = json_object_ref (json_node_get_object (root));
  alg = member_string (jws->header, "alg");
  if (alg == NULL) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "the JWS header has no \"alg\"");
    return NULL;
  }
  if (strcmp (alg, "RS256") == 0) {
    jws->alg = WR_JWS_ALG_RS256;
  } else if (strcmp (alg, "ES256") == 0) {
    jws->alg = WR_JWS_ALG_ES256;
  } else if (g_ascii_strcasecmp (alg, "none") == 0) {
    /* RFC 7518 3.6: an unsecured JWS proves nothing. */
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "unsigned JWS (\"alg\":\"none\") refused");
    return NULL;
  } else if (g_str_has_prefix (alg, "HS")) {
    /* An HMAC would be keyed with a public key anyone can fetch. */
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "HMAC-signed JWS refused; only RS256 and ES256 are accepted");
    return NULL;
  } else {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "JWS algorithm not accepted; only RS256 and ES256 are");
    return NULL;
  }
  /* RFC 7515 4.1.11: we implement no extension, so any "crit" is fatal. */
  if (json_object_has_member (jws->header, "crit")) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "the JWS header has critical extensions we do not support");
    return NULL;
  }
  kid_node = json_object_get_member (jws->header, "kid");
  if (kid_node != NULL) {
    const char *kid = member_string (jws->header, "kid");

    if (kid == NULL) {
      g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
          "the JWS header \"kid\" is not a string");
      return NULL;
    }
    jws->kid = g_strdup (kid);
  }

  jws->payload = decode_part (dot1 + 1, (gsize) (dot2 - dot1 - 1), "payload",
      error);
  if (jws->payload == NULL)
    return NULL;
  jws->signature = decode_part (dot2 + 1, strlen (dot2 + 1), "signature",
      error);
  if (jws->signature == NULL)
    return NULL;
  jws->signing_input = g_strndup (compact, (gsize) (dot2 - compact));
  return g_steal_pointer (&jws);
}

/* RFC 7518 3.4: r || s, each 32 bytes, to the DER ECDSA-Sig-Value. */
static guchar *
es256_raw_to_der (const guchar *raw, gsize raw_len, gsize *der_len)
{
  g_autoptr (ECDSA_SIG) sig = NULL;
  BIGNUM *r, *s;
  guchar *der = NULL;
  int len;

  if (raw_len != 2 * P256_FIELD_BYTES)
    return NULL;
  sig = ECDSA_SIG_new ();
  r = BN_bin2bn (raw, P256_FIELD_BYTES, NULL);
  s = BN_bin2bn (raw + P256_FIELD_BYTES, P256_FIELD_BYTES, NULL);
  if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0 (sig, r, s)) {
    BN_free (r);
    BN_free (s);
    return NULL;
  }
  len = i2d_ECDSA_SIG (sig, &der);
  if (len <= 0)
    return NULL;
  *der_len = (gsize) len;
  return der;
}

gboolean
wr_jws_verify (const WrJws *jws, const WrJwk *jwk, GError **error)
{
  g_autoptr (EVP_MD_CTX) md = NULL;
  const guchar *sig;
  gsize sig_len;
  guchar *der = NULL;
  gsize der_len = 0;
  int rc;

  g_return_val_if_fail (jws != NULL && jwk != NULL, FALSE);

  if (!wr_jwk_supports (jwk, jws->alg)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_NO_KEY,
        "the key cannot verify %s signatures", alg_name (jws->alg));
    return FALSE;
  }
  sig = g_bytes_get_data (jws->signature, &sig_len);
  if (jws->alg == WR_JWS_ALG_ES256) {
    der = es256_raw_to_der (sig, sig_len, &der_len);
    if (der == NULL) {
      g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE,
          "the ES256 signature is not 64 bytes of r || s");
      return FALSE;
    }
    sig = der;
    sig_len = der_len;
  } else if (sig_len != (gsize) EVP_PKEY_get_size (jwk->pkey)) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE,
        "the RS256 signature does not match the key size");
    return FALSE;
  }

  md = EVP_MD_CTX_new ();
  rc = md != NULL
      && EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, jwk->pkey) == 1
      && EVP_DigestVerify (md, sig, sig_len,
          (const guchar *) jws->signing_input,
          strlen (jws->signing_input)) == 1;
  OPENSSL_free (der);
  ERR_clear_error ();
  if (!rc) {
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_SIGNATURE,
        "the %s signature does not verify with key \"%s\"",
        alg_name (jws->alg), jwk->kid ? jwk->kid : "(no kid)");
    return FALSE;
  }
  return TRUE;
}

/* --- signing and export, for tests and tools --- */

char *
wr_jws_sign (WrJwsAlg alg, EVP_PKEY *key, const char *kid,
    const char *payload, gsize payload_len, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *header = NULL, *header64 = NULL, *payload64 = NULL;
  g_autofree char *input = NULL, *sig64 = NULL;
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  g_autofree guchar *sig = NULL;
  gsize sig_len = 0;

  g_return_val_if_fail (key != NULL, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "alg");
  json_builder_add_string_value (builder, alg_name (alg));
  json_builder_set_member_name (builder, "typ");
  json_builder_add_string_value (builder, "JWT");
  if (kid) {
    json_builder_set_member_name (builder, "kid");
    json_builder_add_string_value (builder, kid);
  }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  header = json_generator_to_data (gen, NULL);
  header64 = wr_base64url_encode ((const guchar *) header, strlen (header));
  payload64 = wr_base64url_encode ((const guchar *) payload, payload_len);
  input = g_strconcat (header64, ".", payload64, NULL);

  if (md == NULL
      || EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, key) != 1
      || EVP_DigestSign (md, NULL, &sig_len, (const guchar *) input,
          strlen (input)) != 1) {
    ERR_clear_error ();
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
        "cannot sign with this key");
    return NULL;
  }
  sig = g_malloc (sig_len);
  if (EVP_DigestSign (md, sig, &sig_len, (const guchar *) input,
          strlen (input)) != 1) {
    ERR_clear_error ();
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID, "signing failed");
    return NULL;
  }
  if (alg == WR_JWS_ALG_ES256) {
    const guchar *p = sig;
    g_autoptr (ECDSA_SIG) ecdsa = d2i_ECDSA_SIG (NULL, &p, (long) sig_len);
    guchar raw[2 * P256_FIELD_BYTES];

    if (ecdsa == NULL
        || BN_bn2binpad (ECDSA_SIG_get0_r (ecdsa), raw, P256_FIELD_BYTES) < 0
        || BN_bn2binpad (ECDSA_SIG_get0_s (ecdsa), raw + P256_FIELD_BYTES,
            P256_FIELD_BYTES) < 0) {
      g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_INVALID,
          "the ECDSA signature is not P-256");
      return NULL;
    }
    sig64 = wr_base64url_encode (raw, sizeof raw);
  } else {
    sig64 = wr_base64url_encode (sig, sig_len);
  }
  return g_strconcat (input, ".", sig64, NULL);
}

static char *
bn_param_base64url (EVP_PKEY *key, const char *name, int pad)
{
  BIGNUM *bn = NULL;
  g_autofree guchar *buf = NULL;
  int len;
  char *out;

  if (EVP_PKEY_get_bn_param (key, name, &bn) != 1)
    return NULL;
  len = pad > 0 ? pad : BN_num_bytes (bn);
  buf = g_malloc0 ((gsize) len + 1);
  if (BN_bn2binpad (bn, buf, len) < 0) {
    BN_free (bn);
    return NULL;
  }
  BN_free (bn);
  out = wr_base64url_encode (buf, (gsize) len);
  return out;
}

JsonObject *
wr_jwk_to_json (EVP_PKEY *key, const char *kid, GError **error)
{
  JsonObject *object = json_object_new ();

  if (EVP_PKEY_is_a (key, "RSA")) {
    char *n = bn_param_base64url (key, OSSL_PKEY_PARAM_RSA_N, 0);
    char *e = bn_param_base64url (key, OSSL_PKEY_PARAM_RSA_E, 0);

    json_object_set_string_member (object, "kty", "RSA");
    if (n)
      json_object_set_string_member (object, "n", n);
    if (e)
      json_object_set_string_member (object, "e", e);
    g_free (n);
    g_free (e);
  } else if (EVP_PKEY_is_a (key, "EC")) {
    char *x = bn_param_base64url (key, OSSL_PKEY_PARAM_EC_PUB_X,
        P256_FIELD_BYTES);
    char *y = bn_param_base64url (key, OSSL_PKEY_PARAM_EC_PUB_Y,
        P256_FIELD_BYTES);

    json_object_set_string_member (object, "kty", "EC");
    json_object_set_string_member (object, "crv", "P-256");
    if (x)
      json_object_set_string_member (object, "x", x);
    if (y)
      json_object_set_string_member (object, "y", y);
    g_free (x);
    g_free (y);
  } else {
    json_object_unref (object);
    g_set_error (error, WR_JWK_ERROR, WR_JWK_ERROR_UNSUPPORTED,
        "only RSA and EC keys can be exported as JWK");
    return NULL;
  }
  ERR_clear_error ();
  json_object_set_string_member (object, "use", "sig");
  if (kid)
    json_object_set_string_member (object, "kid", kid);
  return object;
}
