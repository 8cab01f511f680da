/* webremote: the gateway's certificate authority for agents (ca.h). */
#include "config.h"

#include "gateway/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CA_CERT_FILE "ca.crt"
#define CA_KEY_FILE "ca.key.sealed"
#define CA_KEY_AAD "webremote-ca-key"
#define CA_LIFETIME_DAYS 3650

G_DEFINE_QUARK (wr-ca-error-quark, wr_ca_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_REQ, X509_REQ_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GENERAL_NAMES, GENERAL_NAMES_free)

struct _WrCa {
  X509 *cert;
  EVP_PKEY *key;
  char *cert_pem;
};

static gboolean
ssl_fail (GError **error, const char *what)
{
  unsigned long e = ERR_get_error ();
  char buf[256] = "";

  if (e)
    ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_FAILED, "%s%s%s", what,
      *buf ? ": " : "", buf);
  return FALSE;
}

static char *
bio_to_string (BIO *bio)
{
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);

  return g_strndup (data, (gsize) len);
}

static char *
x509_to_pem (X509 *cert)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());

  if (!PEM_write_bio_X509 (bio, cert))
    return NULL;
  return bio_to_string (bio);
}

static gboolean
random_serial (X509 *cert)
{
  guint8 bytes[16];
  g_autoptr (BIGNUM) bn = NULL;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return FALSE;
  bytes[0] &= 0x7f; /* positive */
  bytes[0] |= 0x40; /* and always 16 bytes long */
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  return bn && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert));
}

static char *
serial_hex (X509 *cert)
{
  g_autoptr (BIGNUM) bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert),
      NULL);
  char *hex;
  char *out;

  if (!bn || !(hex = BN_bn2hex (bn)))
    return NULL;
  out = g_ascii_strdown (hex, -1);
  OPENSSL_free (hex);
  return out;
}

static gboolean
add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX v3;
  X509_EXTENSION *ext;
  gboolean ok;

  X509V3_set_ctx (&v3, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &v3, nid, value);
  if (!ext)
    return FALSE;
  ok = X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}

static gboolean
write_private (const char *path, const char *data, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  int fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gsize len = strlen (data);

  if (fd < 0 || write (fd, data, len) != (gssize) len || fsync (fd) < 0) {
    int saved = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_FAILED, "cannot write %s: %s",
        tmp, g_strerror (saved));
    return FALSE;
  }
  close (fd);
  if (g_rename (tmp, path) < 0) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_FAILED, "cannot write %s: %s",
        path, g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static gboolean
seal_key (EVP_PKEY *key, WrKeyring *ring, const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  g_autofree char *pem = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *line = NULL;

  if (!PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
    return ssl_fail (error, "cannot encode the CA key");
  pem = bio_to_string (bio);
  sealed = wr_keyring_seal (ring, (const guint8 *) pem, strlen (pem),
      CA_KEY_AAD);
  memset (pem, 0, strlen (pem));
  line = g_strconcat (sealed, "\n", NULL);
  return write_private (path, line, error);
}

static WrCa *
create (const char *dir, WrKeyring *ring, GError **error)
{
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509) cert = X509_new ();
  g_autofree char *key_path = g_build_filename (dir, CA_KEY_FILE, NULL);
  g_autofree char *cert_path = g_build_filename (dir, CA_CERT_FILE, NULL);
  g_autofree char *cn = NULL;
  g_autofree char *pem = NULL;
  X509_NAME *name;
  WrCa *ca;

  if (!key || !cert)
    return ssl_fail (error, "cannot make the CA key"), NULL;
  cn = g_strdup_printf ("webremote agent CA %s", wr_keyring_current_id (ring));
  X509_set_version (cert, 2);
  if (!random_serial (cert))
    return ssl_fail (error, "cannot make a serial"), NULL;
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert),
      (long) CA_LIFETIME_DAYS * 86400);
  X509_set_pubkey (cert, key);
  name = X509_get_subject_name (cert);
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_ASC,
      (const guint8 *) "webremote", -1, -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const guint8 *) cn,
      -1, -1, 0);
  X509_set_issuer_name (cert, name);
  if (!add_ext (cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
      || !add_ext (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign")
      || !add_ext (cert, cert, NID_subject_key_identifier, "hash")
      || !X509_sign (cert, key, EVP_sha256 ()))
    return ssl_fail (error, "cannot sign the CA certificate"), NULL;

  if (g_mkdir_with_parents (dir, 0700) < 0) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_FAILED,
        "cannot create %s: %s", dir, g_strerror (errno));
    return NULL;
  }
  pem = x509_to_pem (cert);
  /* the key first: a certificate without its key would be a dead CA */
  if (!seal_key (key, ring, key_path, error)
      || !g_file_set_contents (cert_path, pem, -1, error))
    return NULL;

  ca = g_new0 (WrCa, 1);
  ca->cert = g_steal_pointer (&cert);
  ca->key = g_steal_pointer (&key);
  ca->cert_pem = g_steal_pointer (&pem);
  return ca;
}

static EVP_PKEY *
open_key (const char *path, WrKeyring *ring, GError **error)
{
  g_autofree char *sealed = NULL;
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (BIO) bio = NULL;
  EVP_PKEY *key;
  gsize len;
  const void *data;

  if (!g_file_get_contents (path, &sealed, NULL, error))
    return NULL;
  g_strstrip (sealed);
  plain = wr_keyring_open (ring, sealed, CA_KEY_AAD, error);
  if (!plain) {
    g_prefix_error (error, "cannot open the CA key %s: ", path);
    return NULL;
  }
  data = g_bytes_get_data (plain, &len);
  bio = BIO_new_mem_buf (data, (int) len);
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  if (!key)
    ssl_fail (error, "cannot read the CA key");
  return key;
}

WrCa *
wr_ca_open (const char *dir, WrKeyring *ring, gboolean *created,
    GError **error)
{
  g_autofree char *key_path = g_build_filename (dir, CA_KEY_FILE, NULL);
  g_autofree char *cert_path = g_build_filename (dir, CA_CERT_FILE, NULL);
  g_autofree char *pem = NULL;
  g_autoptr (BIO) bio = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  WrCa *ca;

  if (created)
    *created = FALSE;
  if (!g_file_test (key_path, G_FILE_TEST_EXISTS)
      && !g_file_test (cert_path, G_FILE_TEST_EXISTS)) {
    ca = create (dir, ring, error);
    if (ca && created)
      *created = TRUE;
    return ca;
  }
  if (!g_file_get_contents (cert_path, &pem, NULL, error))
    return NULL;
  bio = BIO_new_mem_buf (pem, -1);
  cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (!cert)
    return ssl_fail (error, "cannot read the CA certificate"), NULL;
  if (!(key = open_key (key_path, ring, error)))
    return NULL;
  if (X509_check_private_key (cert, key) != 1) {
    ERR_clear_error ();
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_FAILED,
        "the CA key %s does not belong to %s", key_path, cert_path);
    return NULL;
  }
  ca = g_new0 (WrCa, 1);
  ca->cert = g_steal_pointer (&cert);
  ca->key = g_steal_pointer (&key);
  ca->cert_pem = g_steal_pointer (&pem);
  return ca;
}

gboolean
wr_ca_reseal (const char *dir, WrKeyring *ring, char **old_key_id,
    GError **error)
{
  g_autofree char *key_path = g_build_filename (dir, CA_KEY_FILE, NULL);
  g_autofree char *sealed = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_auto (GStrv) parts = NULL;

  if (!g_file_get_contents (key_path, &sealed, NULL, error))
    return FALSE;
  g_strstrip (sealed);
  parts = g_strsplit (sealed, ".", 3);
  if (old_key_id)
    *old_key_id = g_strdup (parts[0] && parts[1] ? parts[1] : "?");
  if (!(key = open_key (key_path, ring, error)))
    return FALSE;
  return seal_key (key, ring, key_path, error);
}

void
wr_ca_free (WrCa *ca)
{
  if (!ca)
    return;
  X509_free (ca->cert);
  EVP_PKEY_free (ca->key);
  g_free (ca->cert_pem);
  g_free (ca);
}

const char *
wr_ca_get_certificate_pem (WrCa *ca)
{
  return ca->cert_pem;
}

/* An agent id as the store takes it, and no more: printable ASCII without
 * spaces or quotes, so it reads the same in a CN, a URI and a log line. */
static gboolean
agent_id_ok (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > 128)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-_.:@", *p))
      return FALSE;
  return TRUE;
}

static char *
name_cn (const X509_NAME *name)
{
  int idx = X509_NAME_get_index_by_NID (name, NID_commonName, -1);
  const ASN1_STRING *data;
  unsigned char *utf8 = NULL;
  char *out;
  int len;

  if (idx < 0 || X509_NAME_get_index_by_NID (name, NID_commonName, idx) >= 0)
    return NULL; /* none, or more than one */
  data = X509_NAME_ENTRY_get_data (X509_NAME_get_entry (name, idx));
  len = ASN1_STRING_to_UTF8 (&utf8, data);
  if (len < 0)
    return NULL;
  out = g_strndup ((const char *) utf8, (gsize) len);
  OPENSSL_free (utf8);
  if (strlen (out) != (gsize) len) {
    g_free (out);
    return NULL;
  }
  return out;
}

static X509_REQ *
parse_csr (const char *csr_pem, GError **error)
{
  g_autoptr (BIO) bio = NULL;
  g_autoptr (EVP_PKEY) pub = NULL;
  X509_REQ *req;

  if (!csr_pem || strlen (csr_pem) > WR_CA_MAX_CSR) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID,
        "csr must be a PEM certificate request of at most %d bytes",
        WR_CA_MAX_CSR);
    return NULL;
  }
  bio = BIO_new_mem_buf (csr_pem, -1);
  req = PEM_read_bio_X509_REQ (bio, NULL, NULL, NULL);
  if (!req) {
    ERR_clear_error ();
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID,
        "csr is not a PEM certificate request");
    return NULL;
  }
  pub = X509_REQ_get_pubkey (req);
  if (!pub || X509_REQ_verify (req, pub) != 1) {
    ERR_clear_error ();
    X509_REQ_free (req);
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID,
        "the csr's signature does not verify");
    return NULL;
  }
  {
    int type = EVP_PKEY_get_base_id (pub);
    int bits = EVP_PKEY_get_bits (pub);

    if (!((type == EVP_PKEY_EC && bits >= 256)
            || (type == EVP_PKEY_RSA && bits >= 2048)
            || type == EVP_PKEY_ED25519)) {
      X509_REQ_free (req);
      g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID,
          "the csr's key must be EC P-256 or larger, Ed25519, or RSA of "
          "2048 bits or more");
      return NULL;
    }
  }
  return req;
}

char *
wr_ca_csr_agent_id (const char *csr_pem, GError **error)
{
  g_autoptr (X509_REQ) req = parse_csr (csr_pem, error);
  char *cn;

  if (!req)
    return NULL;
  cn = name_cn (X509_REQ_get_subject_name (req));
  if (!cn || !agent_id_ok (cn)) {
    g_free (cn);
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID,
        "the csr's subject must have one CN, the agent id (letters, digits "
        "and -_.:@, at most 128)");
    return NULL;
  }
  return cn;
}

char *
wr_ca_sign_csr (WrCa *ca, const char *csr_pem, const char *agent_id,
    gint64 lifetime_seconds, char **serial, gint64 *not_after,
    GError **error)
{
  g_autoptr (X509_REQ) req = parse_csr (csr_pem, error);
  g_autoptr (X509) cert = NULL;
  g_autoptr (EVP_PKEY) pub = NULL;
  g_autofree char *san = NULL;
  X509_NAME *name;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!req)
    return NULL;
  if (!agent_id_ok (agent_id)) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID, "bad agent id");
    return NULL;
  }
  pub = X509_REQ_get_pubkey (req);
  cert = X509_new ();
  X509_set_version (cert, 2);
  if (!random_serial (cert))
    return ssl_fail (error, "cannot make a serial"), NULL;
  /* a little slack for clocks that run behind, small beside the lifetime:
   * the agent renews at two thirds of notBefore..notAfter, so 5 minutes
   * of slack on a test certificate of seconds would make it renew at once
   * (a lifetime <= 0, an already expired test certificate, keeps 5 min) */
  ASN1_TIME_set (X509_getm_notBefore (cert), (time_t) (now
          - (lifetime_seconds > 0 ? MIN (300, lifetime_seconds / 10) : 300)));
  ASN1_TIME_set (X509_getm_notAfter (cert), (time_t) (now + lifetime_seconds));
  X509_set_pubkey (cert, pub);
  name = X509_get_subject_name (cert);
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_ASC,
      (const guint8 *) "webremote agents", -1, -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
      (const guint8 *) agent_id, -1, -1, 0);
  X509_set_issuer_name (cert, X509_get_subject_name (ca->cert));
  san = g_strconcat ("URI:" WR_CA_AGENT_URI_PREFIX, agent_id, NULL);
  if (!add_ext (cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE")
      || !add_ext (cert, ca->cert, NID_key_usage,
          "critical,digitalSignature,keyEncipherment")
      || !add_ext (cert, ca->cert, NID_ext_key_usage, "clientAuth")
      || !add_ext (cert, ca->cert, NID_authority_key_identifier, "keyid")
      || !add_ext (cert, ca->cert, NID_subject_alt_name, san)
      || !X509_sign (cert, ca->key, EVP_sha256 ()))
    return ssl_fail (error, "cannot sign the certificate"), NULL;
  if (serial)
    *serial = serial_hex (cert);
  if (not_after)
    *not_after = now + lifetime_seconds;
  return x509_to_pem (cert);
}

static char *
san_agent_id (X509 *cert)
{
  g_autoptr (GENERAL_NAMES) names = X509_get_ext_d2i (cert,
      NID_subject_alt_name, NULL, NULL);
  char *found = NULL;

  for (int i = 0; names && i < sk_GENERAL_NAME_num (names); i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value (names, i);
    const char *uri;
    int len;

    if (gn->type != GEN_URI)
      continue;
    uri = (const char *) ASN1_STRING_get0_data (gn->d.uniformResourceIdentifier);
    len = ASN1_STRING_length (gn->d.uniformResourceIdentifier);
    if ((gsize) len != strlen (uri)
        || !g_str_has_prefix (uri, WR_CA_AGENT_URI_PREFIX))
      continue;
    if (found) { /* two agent ids: neither */
      g_free (found);
      return NULL;
    }
    found = g_strdup (uri + strlen (WR_CA_AGENT_URI_PREFIX));
  }
  return found;
}

char *
wr_ca_verify_client (WrCa *ca, const char *cert_pem, char **serial,
    GError **error)
{
  g_autoptr (BIO) bio = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (X509_STORE) store = NULL;
  g_autoptr (X509_STORE_CTX) ctx = NULL;
  g_autofree char *cn = NULL;
  g_autofree char *san = NULL;

  bio = BIO_new_mem_buf (cert_pem, -1);
  cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (!cert) {
    ERR_clear_error ();
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
        "the client certificate cannot be read");
    return NULL;
  }
  store = X509_STORE_new ();
  ctx = X509_STORE_CTX_new ();
  if (!store || !ctx || X509_STORE_add_cert (store, ca->cert) != 1
      || X509_STORE_CTX_init (ctx, store, cert, NULL) != 1)
    return ssl_fail (error, "cannot check the certificate"), NULL;
  X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert (ctx) != 1) {
    int err = X509_STORE_CTX_get_error (ctx);

    ERR_clear_error ();
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
        "the client certificate is refused: %s",
        X509_verify_cert_error_string (err));
    return NULL;
  }
  cn = name_cn (X509_get_subject_name (cert));
  san = san_agent_id (cert);
  if (!cn || !san || !g_str_equal (cn, san) || !agent_id_ok (cn)) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
        "the client certificate does not name one agent");
    return NULL;
  }
  if (serial)
    *serial = serial_hex (cert);
  return g_steal_pointer (&cn);
}
