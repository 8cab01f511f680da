/* webremote: small cryptographic helpers over OpenSSL. */
#include "config.h"

#include "common/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/autocleanups.h"

char *
wr_random_token (gsize n_bytes)
{
  g_autofree guchar *buf = g_malloc (n_bytes);
  char *b64;

  if (RAND_bytes (buf, (int) n_bytes) != 1)
    g_error ("the OpenSSL random generator failed");
  b64 = g_base64_encode (buf, n_bytes);
  OPENSSL_cleanse (buf, n_bytes);
  g_strdelimit (b64, "+", '-');
  g_strdelimit (b64, "/", '_');
  g_strdelimit (b64, "=", '\0');
  return b64;
}

char *
wr_random_hex (gsize n_bytes)
{
  g_autofree guchar *buf = g_malloc (n_bytes);
  GString *s = g_string_sized_new (n_bytes * 2);

  if (RAND_bytes (buf, (int) n_bytes) != 1)
    g_error ("the OpenSSL random generator failed");
  for (gsize i = 0; i < n_bytes; i++)
    g_string_append_printf (s, "%02x", buf[i]);
  return g_string_free (s, FALSE);
}

gboolean
wr_constant_time_equal (const char *a, const char *b)
{
  gsize la, lb;

  if (!a || !b)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  if (la != lb) {
    /* still touch @b so the time depends on the expected length only */
    (void) CRYPTO_memcmp (b, b, lb);
    return FALSE;
  }
  return CRYPTO_memcmp (a, b, la) == 0;
}

char *
wr_sha256_hex (const void *data, gsize len)
{
  guchar md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  GString *s;

  if (EVP_Digest (data, len, md, &md_len, EVP_sha256 (), NULL) != 1)
    g_error ("SHA-256 failed");
  s = g_string_sized_new (md_len * 2);
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (s, "%02x", md[i]);
  return g_string_free (s, FALSE);
}

char *
wr_certificate_fingerprint (GTlsCertificate *cert)
{
  g_autoptr (GByteArray) der = NULL;
  guchar md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  GString *s;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (cert), NULL);

  g_object_get (cert, "certificate", &der, NULL);
  if (!der)
    return NULL;
  if (EVP_Digest (der->data, der->len, md, &md_len, EVP_sha256 (), NULL) != 1)
    return NULL;
  s = g_string_sized_new (md_len * 3);
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (s, "%s%02X", i ? ":" : "", md[i]);
  return g_string_free (s, FALSE);
}

char *
wr_fingerprint_normalize (const char *text)
{
  GString *hex;
  GString *out;

  if (!text)
    return NULL;
  if (g_ascii_strncasecmp (text, "sha256:", 7) == 0)
    text += 7;
  hex = g_string_new (NULL);
  for (const char *p = text; *p; p++) {
    if (*p == ':' || *p == ' ')
      continue;
    if (!g_ascii_isxdigit (*p)) {
      g_string_free (hex, TRUE);
      return NULL;
    }
    g_string_append_c (hex, g_ascii_toupper (*p));
  }
  if (hex->len != 64) {
    g_string_free (hex, TRUE);
    return NULL;
  }
  out = g_string_sized_new (96);
  for (gsize i = 0; i < 64; i += 2) {
    if (i)
      g_string_append_c (out, ':');
    g_string_append_len (out, hex->str + i, 2);
  }
  g_string_free (hex, TRUE);
  return g_string_free (out, FALSE);
}

static gboolean
openssl_failed (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "could not create the TLS certificate: %s failed", what);
  return FALSE;
}

static gboolean
write_private (const char *path, const char *data, gsize len, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gsize done = 0;

  if (fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "could not write %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  while (done < len) {
    ssize_t n = write (fd, data + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
          "could not write %s: %s", path, g_strerror (e));
      return FALSE;
    }
    done += (gsize) n;
  }
  if (fsync (fd) < 0 || close (fd) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "could not write %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static char *
bio_to_string (BIO *bio, gsize *len)
{
  char *ptr = NULL;
  long n = BIO_get_mem_data (bio, &ptr);

  *len = (gsize) n;
  return g_strndup (ptr, (gsize) n);
}

gboolean
wr_self_signed_certificate_create (const char *cert_path, const char *key_path,
    const char *const *hostnames, GError **error)
{
  g_autoptr (EVP_PKEY) pkey = NULL;
  g_autoptr (X509) x509 = NULL;
  g_autoptr (GString) san = g_string_new ("DNS:localhost,IP:127.0.0.1,IP:::1");
  g_autofree char *key_pem = NULL;
  g_autofree char *cert_pem = NULL;
  gsize key_len, cert_len;
  X509_NAME *name;
  X509_EXTENSION *ext;
  X509V3_CTX ctx;
  BIO *bio;
  char host[256];
  guchar serial[16];
  BIGNUM *bn;

  pkey = EVP_EC_gen ("P-256");
  if (!pkey)
    return openssl_failed (error, "key generation");

  x509 = X509_new ();
  X509_set_version (x509, 2);
  if (RAND_bytes (serial, sizeof serial) != 1)
    return openssl_failed (error, "serial number");
  serial[0] &= 0x7f;
  bn = BN_bin2bn (serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x509));
  BN_free (bn);
  X509_gmtime_adj (X509_getm_notBefore (x509), -3600);
  X509_gmtime_adj (X509_getm_notAfter (x509), 10L * 365 * 24 * 3600);
  X509_set_pubkey (x509, pkey);

  name = X509_get_subject_name (x509);
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_ASC,
      (const guchar *) "webremote", -1, -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
      (const guchar *) "webremote-gateway", -1, -1, 0);
  X509_set_issuer_name (x509, name);

  if (gethostname (host, sizeof host) == 0) {
    host[sizeof host - 1] = '\0';
    if (host[0] && g_hostname_is_non_ascii (host) == FALSE
        && !g_str_equal (host, "localhost"))
      g_string_append_printf (san, ",DNS:%s", host);
  }
  for (const char *const *h = hostnames; h && *h; h++) {
    if (g_hostname_is_ip_address (*h))
      g_string_append_printf (san, ",IP:%s", *h);
    else
      g_string_append_printf (san, ",DNS:%s", *h);
  }

  X509V3_set_ctx (&ctx, x509, x509, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_subject_alt_name, san->str);
  if (!ext)
    return openssl_failed (error, "subjectAltName");
  X509_add_ext (x509, ext, -1);
  X509_EXTENSION_free (ext);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE");
  X509_add_ext (x509, ext, -1);
  X509_EXTENSION_free (ext);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_ext_key_usage, "serverAuth");
  X509_add_ext (x509, ext, -1);
  X509_EXTENSION_free (ext);

  if (X509_sign (x509, pkey, EVP_sha256 ()) <= 0)
    return openssl_failed (error, "signing");

  bio = BIO_new (BIO_s_mem ());
  if (!PEM_write_bio_PrivateKey (bio, pkey, NULL, NULL, 0, NULL, NULL)) {
    BIO_free (bio);
    return openssl_failed (error, "key encoding");
  }
  key_pem = bio_to_string (bio, &key_len);
  BIO_free (bio);

  bio = BIO_new (BIO_s_mem ());
  if (!PEM_write_bio_X509 (bio, x509)) {
    BIO_free (bio);
    return openssl_failed (error, "certificate encoding");
  }
  cert_pem = bio_to_string (bio, &cert_len);
  BIO_free (bio);

  if (!write_private (key_path, key_pem, key_len, error)) {
    OPENSSL_cleanse (key_pem, key_len);
    return FALSE;
  }
  OPENSSL_cleanse (key_pem, key_len);
  return g_file_set_contents (cert_path, cert_pem, (gssize) cert_len, error);
}

/* ---- base64url (RFC 4648 section 5), strict ---- */

static int
b64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

guint8 *
wr_base64url_decode (const char *text, gsize len, gsize *out_len)
{
  g_autofree guint8 *out = NULL;
  gsize o = 0, i;
  guint32 acc = 0;
  guint bits = 0;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (out_len != NULL, NULL);

  /* A single leftover character cannot encode a byte. */
  if (len % 4 == 1)
    return NULL;
  out = g_malloc (len / 4 * 3 + 3);
  for (i = 0; i < len; i++) {
    int v = b64url_value (text[i]);

    if (v < 0)
      return NULL;
    acc = (acc << 6) | (guint32) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (guint8) (acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* Leftover bits must be zero, or two texts would decode alike. */
  if (acc != 0)
    return NULL;
  out[o] = 0;
  *out_len = o;
  return g_steal_pointer (&out);
}

char *
wr_base64url_encode (const guint8 *data, gsize len)
{
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  GString *out = g_string_sized_new (len / 3 * 4 + 4);
  guint32 acc = 0;
  guint bits = 0;
  gsize i;

  for (i = 0; i < len; i++) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      g_string_append_c (out, alphabet[(acc >> bits) & 0x3f]);
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0)
    g_string_append_c (out, alphabet[(acc << (6 - bits)) & 0x3f]);
  return g_string_free (out, FALSE);
}
