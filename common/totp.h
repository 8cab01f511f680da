/* webremote: time-based one-time passwords (RFC 6238, HMAC-SHA1, 30 s,
 * 6 digits, the parameters every authenticator app supports) and one-time
 * recovery codes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WR_TOTP_PERIOD 30
#define WR_TOTP_DIGITS 6

/**
 * wr_base32_encode:
 * Returns: (transfer full): RFC 4648 base32 of @data without padding.
 */
char *wr_base32_encode (const guint8 *data, gsize len);

/**
 * wr_base32_decode:
 * Accepts upper or lower case, spaces and '=' padding.
 * Returns: (transfer full) (nullable): the bytes, or %NULL if @text is not
 * base32.
 */
GBytes *wr_base32_decode (const char *text);

/** Returns: (transfer full): a new 160-bit secret, base32. */
char *wr_totp_generate_secret (void);

/**
 * wr_totp_code:
 * @secret: base32 secret
 * @unix_time: the time to compute the code for
 * Returns: (transfer full) (nullable): the @digits-digit code, or %NULL if
 * the secret is not base32.
 */
char *wr_totp_code (const char *secret, gint64 unix_time, guint digits);

/**
 * wr_totp_verify:
 * @code: what the user typed (spaces are ignored)
 * @window: how many 30 s steps either side of now are accepted
 * @last_step: the step of the last code accepted for this user; a code for
 *   that step or an earlier one is a replay and refused
 * @matched_step: (out) (optional): the step the code matched, to store as
 *   the new last step
 *
 * Compares in constant time.
 */
gboolean wr_totp_verify (const char *secret, const char *code, gint64 now,
    guint window, gint64 last_step, gint64 *matched_step);

/**
 * wr_totp_uri:
 * Returns: (transfer full): the otpauth:// URI authenticator apps scan.
 */
char *wr_totp_uri (const char *issuer, const char *account,
    const char *secret);

/**
 * wr_recovery_codes_generate:
 * Returns: (transfer full): @n codes like "k7fq-2mxd-9vbt" (60 bits each).
 */
GStrv wr_recovery_codes_generate (guint n);

/**
 * wr_recovery_code_hash:
 * Normalises (case, spaces and dashes) and hashes a recovery code for
 * storage. The codes are random enough that a plain SHA-256 suffices.
 * Returns: (transfer full): hex SHA-256.
 */
char *wr_recovery_code_hash (const char *code);

G_END_DECLS
