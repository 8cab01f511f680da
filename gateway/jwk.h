/* webremote: JSON Web Keys (RFC 7517) and JWS signature verification
 * (RFC 7515, compact serialization) for the algorithms an OpenID provider
 * signs ID tokens with: RS256 and ES256. Plain C over OpenSSL 3, no global
 * state: callable from any thread. */
#pragma once

#include "common/crypto.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

#define WR_JWK_ERROR (wr_jwk_error_quark ())
GQuark wr_jwk_error_quark (void);

typedef enum {
  WR_JWK_ERROR_INVALID,     /* malformed key, key set or JWS */
  WR_JWK_ERROR_UNSUPPORTED, /* an algorithm or key type we refuse */
  WR_JWK_ERROR_NO_KEY,      /* no key in the set matches the JWS header */
  WR_JWK_ERROR_SIGNATURE,   /* the signature does not verify */
} WrJwkError;

/* Upper bound on anything we decode: keys, headers, payloads, signatures. */
#define WR_JWS_MAX_LENGTH (64 * 1024)

typedef enum {
  WR_JWS_ALG_RS256 = 1,
  WR_JWS_ALG_ES256,
} WrJwsAlg;

/* One public key from a JWK set. */
typedef struct _WrJwk WrJwk;

/**
 * wr_jwk_new_from_json:
 * @object: one JWK
 *
 * Accepts "kty":"RSA" keys (n, e; modulus of 2048 bits or more) and
 * "kty":"EC" keys on "crv":"P-256" (x, y; the point must be on the curve).
 * Keys marked "use":"enc", or with "key_ops" that lack "verify", are refused.
 *
 * Returns: (transfer full) (nullable): the key.
 */
WrJwk *wr_jwk_new_from_json (JsonObject *object, GError **error);
void wr_jwk_free (WrJwk *jwk);

/** wr_jwk_get_kid: Returns: (nullable): the key id. */
const char *wr_jwk_get_kid (const WrJwk *jwk);

/** wr_jwk_get_pkey: Returns: (transfer none): the OpenSSL public key. */
EVP_PKEY *wr_jwk_get_pkey (const WrJwk *jwk);

/**
 * wr_jwk_supports:
 * Returns: whether @jwk can verify @alg: its type fits and its "alg"
 * member, when present, names @alg.
 */
gboolean wr_jwk_supports (const WrJwk *jwk, WrJwsAlg alg);

/* A JWK set as a provider publishes it at its jwks_uri. Immutable once
 * built, reference counted: a cache can hand it to several threads. */
typedef struct _WrJwkSet WrJwkSet;

/**
 * wr_jwk_set_new_from_json:
 * @json: a JWK set document `{"keys":[...]}`
 * @len: its length, or -1 when NUL-terminated
 *
 * Keys we cannot use (other key types, encryption keys, malformed
 * members) are skipped rather than failing the whole set, as RFC 7517
 * section 5 asks; a set without any usable key is an error.
 *
 * Returns: (transfer full) (nullable): the key set.
 */
WrJwkSet *wr_jwk_set_new_from_json (const char *json, gssize len,
    GError **error);
WrJwkSet *wr_jwk_set_ref (WrJwkSet *set);
void wr_jwk_set_unref (WrJwkSet *set);
guint wr_jwk_set_get_n_keys (const WrJwkSet *set);

/**
 * wr_jwk_set_lookup:
 * @kid: (nullable): the "kid" of a JWS header
 *
 * With a @kid: the key with that id, if it can verify @alg. Without one:
 * the only key that can verify @alg, or %NULL when there are several.
 *
 * Returns: (transfer none) (nullable): the key.
 */
const WrJwk *wr_jwk_set_lookup (const WrJwkSet *set, const char *kid,
    WrJwsAlg alg);

/* A parsed JWS in compact serialization, not yet verified. */
typedef struct {
  WrJwsAlg alg;
  char *kid;              /* nullable */
  JsonObject *header;     /* the protected header */
  GBytes *payload;        /* the decoded payload */
  char *signing_input;    /* BASE64URL(header) "." BASE64URL(payload) */
  GBytes *signature;      /* the decoded signature */
} WrJws;

/**
 * wr_jws_parse:
 * @compact: HEADER.PAYLOAD.SIGNATURE
 *
 * Refuses "alg":"none", the HMAC algorithms (a public key must never be
 * usable as an HMAC secret) and everything except RS256 and ES256, and
 * headers with "crit" members we do not understand (RFC 7515 4.1.11).
 *
 * Returns: (transfer full) (nullable): the parsed JWS.
 */
WrJws *wr_jws_parse (const char *compact, GError **error);
void wr_jws_free (WrJws *jws);

/**
 * wr_jws_verify:
 * @jws: a parsed JWS
 * @jwk: the key to check it against
 *
 * RS256: RSASSA-PKCS1-v1_5 with SHA-256. ES256: ECDSA P-256 with SHA-256;
 * the JWS carries the raw r || s (RFC 7518 section 3.4), which is turned
 * into the DER form OpenSSL verifies.
 *
 * Returns: %TRUE when the signature is valid.
 */
gboolean wr_jws_verify (const WrJws *jws, const WrJwk *jwk, GError **error);

/**
 * wr_jws_sign:
 * @alg: RS256 or ES256
 * @key: a private key of the matching type
 * @kid: (nullable): the "kid" to put in the header
 * @payload: the payload bytes (usually JSON claims)
 *
 * The counterpart of wr_jws_verify(), for tests and tools.
 *
 * Returns: (transfer full) (nullable): the compact JWS.
 */
char *wr_jws_sign (WrJwsAlg alg, EVP_PKEY *key, const char *kid,
    const char *payload, gsize payload_len, GError **error);

/**
 * wr_jwk_to_json:
 * @key: an RSA or P-256 key (private or public)
 * @kid: (nullable): the key id
 *
 * Returns: (transfer full) (nullable): the public half of @key as a JWK
 * object, for tests and tools.
 */
JsonObject *wr_jwk_to_json (EVP_PKEY *key, const char *kid, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrJwk, wr_jwk_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrJwkSet, wr_jwk_set_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrJws, wr_jws_free)

G_END_DECLS
