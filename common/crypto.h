/* webremote: small cryptographic helpers over OpenSSL. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * wr_random_token:
 * @n_bytes: how many random bytes (at least 16)
 * Returns: (transfer full): @n_bytes from the OpenSSL CSPRNG, base64url
 * encoded without padding.
 */
char *wr_random_token (gsize n_bytes);

/**
 * wr_random_hex:
 * Returns: (transfer full): @n_bytes random bytes as lower-case hex.
 */
char *wr_random_hex (gsize n_bytes);

/**
 * wr_constant_time_equal:
 * Compares two NUL-terminated secrets without leaking where they differ
 * (CRYPTO_memcmp). Strings of different length compare unequal, in time
 * that depends only on the length of @b... (the expected value).
 */
gboolean wr_constant_time_equal (const char *a, const char *b);

/**
 * wr_sha256_hex:
 * Returns: (transfer full): SHA-256 of @data as lower-case hex.
 */
char *wr_sha256_hex (const void *data, gsize len);

/**
 * wr_certificate_fingerprint:
 * @cert: a certificate
 * Returns: (transfer full) (nullable): the SHA-256 fingerprint of its DER
 * encoding as upper-case hex pairs joined by ':' (the form `openssl x509
 * -fingerprint -sha256` prints).
 */
char *wr_certificate_fingerprint (GTlsCertificate *cert);

/**
 * wr_fingerprint_normalize:
 * Returns: (transfer full) (nullable): @text as 64 upper-case hex digits
 * with ':' separators, accepting upper or lower case with or without ':'
 * and an optional "sha256:" prefix; %NULL when it is not a SHA-256
 * fingerprint.
 */
char *wr_fingerprint_normalize (const char *text);

/**
 * wr_self_signed_certificate_create:
 * @cert_path: where to write the PEM certificate
 * @key_path: where to write the PEM private key (mode 0600)
 * @hostnames: (nullable): extra DNS names for subjectAltName
 *
 * Makes a P-256 key and a self-signed certificate valid for ten years for
 * localhost, 127.0.0.1, ::1, this host's name and @hostnames.
 */
gboolean wr_self_signed_certificate_create (const char *cert_path,
    const char *key_path, const char *const *hostnames, GError **error);

/**
 * wr_base64url_decode:
 * @text: base64url text without padding (RFC 7515 section 2)
 * @len: its length in bytes
 * @out_len: (out): the decoded length
 *
 * Strict: refuses padding, whitespace, characters outside the base64url
 * alphabet and non-zero trailing bits.
 *
 * Returns: (transfer full) (nullable): the decoded bytes (NUL-terminated
 * for convenience, the NUL not counted), %NULL when @text is not base64url.
 */
guint8 *wr_base64url_decode (const char *text, gsize len, gsize *out_len);

/**
 * wr_base64url_encode:
 * Returns: (transfer full): @data as base64url without padding.
 */
char *wr_base64url_encode (const guint8 *data, gsize len);

G_END_DECLS
