/* webremote: time-based one-time passwords (RFC 6238) and recovery codes. */
#include "config.h"

#include "common/totp.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/crypto.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *
wr_base32_encode (const guint8 *data, gsize len)
{
  GString *out = g_string_sized_new ((len * 8 + 4) / 5);
  guint32 buffer = 0;
  int bits = 0;

  for (gsize i = 0; i < len; i++) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      g_string_append_c (out, b32_alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0)
    g_string_append_c (out, b32_alphabet[(buffer << (5 - bits)) & 31]);
  return g_string_free (out, FALSE);
}

GBytes *
wr_base32_decode (const char *text)
{
  GByteArray *out = g_byte_array_new ();
  guint32 buffer = 0;
  int bits = 0;

  for (const char *p = text; *p; p++) {
    const char *pos;
    char c = g_ascii_toupper (*p);

    if (c == ' ' || c == '=' || c == '-')
      continue;
    pos = strchr (b32_alphabet, c);
    if (!pos || c == '\0') {
      g_byte_array_unref (out);
      return NULL;
    }
    buffer = (buffer << 5) | (guint32) (pos - b32_alphabet);
    bits += 5;
    if (bits >= 8) {
      guint8 byte = (buffer >> (bits - 8)) & 0xff;
      g_byte_array_append (out, &byte, 1);
      bits -= 8;
    }
  }
  return g_byte_array_free_to_bytes (out);
}

char *
wr_totp_generate_secret (void)
{
  guint8 key[20];

  if (RAND_bytes (key, sizeof key) != 1)
    g_error ("the OpenSSL random generator failed");
  return wr_base32_encode (key, sizeof key);
}

/* RFC 4226 section 5.3: HOTP with dynamic truncation. */
static guint32
hotp (const guint8 *key, gsize key_len, guint64 counter)
{
  guint8 msg[8];
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  guint offset;

  for (int i = 7; i >= 0; i--) {
    msg[i] = counter & 0xff;
    counter >>= 8;
  }
  HMAC (EVP_sha1 (), key, (int) key_len, msg, sizeof msg, md, &md_len);
  offset = md[md_len - 1] & 0x0f;
  return ((guint32) (md[offset] & 0x7f) << 24) | ((guint32) md[offset + 1] << 16)
      | ((guint32) md[offset + 2] << 8) | md[offset + 3];
}

static char *
format_code (guint32 value, guint digits)
{
  guint32 mod = 1;

  for (guint i = 0; i < digits; i++)
    mod *= 10;
  return g_strdup_printf ("%0*u", (int) digits, value % mod);
}

char *
wr_totp_code (const char *secret, gint64 unix_time, guint digits)
{
  g_autoptr (GBytes) key = wr_base32_decode (secret);
  gsize len;
  const guint8 *k;

  g_return_val_if_fail (digits >= 6 && digits <= 9, NULL);
  if (!key || g_bytes_get_size (key) == 0)
    return NULL;
  k = g_bytes_get_data (key, &len);
  return format_code (hotp (k, len, (guint64) (unix_time / WR_TOTP_PERIOD)),
      digits);
}

gboolean
wr_totp_verify (const char *secret, const char *code, gint64 now,
    guint window, gint64 last_step, gint64 *matched_step)
{
  g_autoptr (GBytes) key = wr_base32_decode (secret);
  g_autoptr (GString) typed = g_string_new (NULL);
  gint64 step = now / WR_TOTP_PERIOD;
  gboolean ok = FALSE;
  gint64 found = -1;
  const guint8 *k;
  gsize len;

  if (!key || !code || g_bytes_get_size (key) == 0)
    return FALSE;
  for (const char *p = code; *p; p++) {
    if (*p == ' ')
      continue;
    if (!g_ascii_isdigit (*p) || typed->len >= 16)
      return FALSE;
    g_string_append_c (typed, *p);
  }
  if (typed->len != WR_TOTP_DIGITS)
    return FALSE;

  k = g_bytes_get_data (key, &len);
  /* check every step in the window so the time taken does not depend on
   * which one matched */
  for (gint64 s = step - (gint64) window; s <= step + (gint64) window; s++) {
    g_autofree char *expected = format_code (hotp (k, len, (guint64) s),
        WR_TOTP_DIGITS);
    if (CRYPTO_memcmp (expected, typed->str, WR_TOTP_DIGITS) == 0
        && s > last_step && !ok) {
      ok = TRUE;
      found = s;
    }
  }
  if (ok && matched_step)
    *matched_step = found;
  return ok;
}

char *
wr_totp_uri (const char *issuer, const char *account, const char *secret)
{
  g_autofree char *label = g_strdup_printf ("%s:%s", issuer, account);
  g_autofree char *label_esc = g_uri_escape_string (label, ":", FALSE);
  g_autofree char *issuer_esc = g_uri_escape_string (issuer, NULL, FALSE);

  return g_strdup_printf ("otpauth://totp/%s?secret=%s&issuer=%s"
      "&algorithm=SHA1&digits=%d&period=%d", label_esc, secret, issuer_esc,
      WR_TOTP_DIGITS, WR_TOTP_PERIOD);
}

GStrv
wr_recovery_codes_generate (guint n)
{
  /* no 0/o, 1/l/i: easy to read back from paper */
  static const char alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
  GStrv codes = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++) {
    guint8 raw[12];
    char code[15];
    int pos = 0;

    if (RAND_bytes (raw, sizeof raw) != 1)
      g_error ("the OpenSSL random generator failed");
    for (int j = 0; j < 12; j++) {
      if (j == 4 || j == 8)
        code[pos++] = '-';
      /* 31 symbols; 256 % 31 leaves a bias under 1%, irrelevant at 60 bits */
      code[pos++] = alphabet[raw[j] % (sizeof alphabet - 1)];
    }
    code[pos] = '\0';
    codes[i] = g_strdup (code);
    OPENSSL_cleanse (raw, sizeof raw);
  }
  return codes;
}

char *
wr_recovery_code_hash (const char *code)
{
  g_autoptr (GString) norm = g_string_new (NULL);

  for (const char *p = code; *p; p++)
    if (*p != '-' && *p != ' ')
      g_string_append_c (norm, g_ascii_tolower (*p));
  return wr_sha256_hex (norm->str, norm->len);
}
