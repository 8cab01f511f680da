/* webremote: secrets at rest under AES-256-GCM with rotatable KEKs. */
#include "config.h"

#include "common/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/crypto.h"

G_DEFINE_QUARK (wr-keyring-error-quark, wr_keyring_error)

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define SEALED_PREFIX "wr1"
#define MAX_KEY_ID 32

typedef struct {
  char *id;
  guint8 key[KEY_LEN];
} Key;

struct _WrKeyring {
  GArray *keys; /* of Key; [0] is current */
};

static void
key_clear (Key *k)
{
  g_free (k->id);
  OPENSSL_cleanse (k->key, KEY_LEN);
}

void
wr_keyring_free (WrKeyring *ring)
{
  if (!ring)
    return;
  g_array_unref (ring->keys);
  g_free (ring);
}

static gboolean
key_id_is_valid (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > MAX_KEY_ID)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

WrKeyring *
wr_keyring_new_from_data (const char *text, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GArray) keys = g_array_new (FALSE, TRUE, sizeof (Key));
  WrKeyring *ring;

  g_array_set_clear_func (keys, (GDestroyNotify) key_clear);
  for (int i = 0; lines[i]; i++) {
    g_autofree char *line = g_strstrip (g_strdup (lines[i]));
    g_auto (GStrv) parts = NULL;
    g_autofree guint8 *raw = NULL;
    gsize raw_len = 0;
    Key k = { 0 };

    if (!line[0] || line[0] == '#')
      continue;
    parts = g_strsplit_set (line, " \t:", 2);
    if (!parts[0] || !parts[1] || !key_id_is_valid (parts[0])) {
      g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
          "key line %d: expected 'KEY-ID BASE64-KEY'", i + 1);
      return NULL;
    }
    {
      const char *key_text = g_strstrip (parts[1]);
      raw = wr_base64url_decode (key_text, strlen (key_text), &raw_len);
    }
    if (!raw || raw_len != KEY_LEN) {
      if (raw)
        OPENSSL_cleanse (raw, raw_len);
      g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
          "key line %d: the key must be 32 bytes in base64", i + 1);
      return NULL;
    }
    k.id = g_strdup (parts[0]);
    memcpy (k.key, raw, KEY_LEN);
    OPENSSL_cleanse (raw, raw_len);
    g_array_append_val (keys, k);
  }
  if (keys->len == 0) {
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
        "no key found");
    return NULL;
  }
  ring = g_new0 (WrKeyring, 1);
  ring->keys = g_steal_pointer (&keys);
  return ring;
}

WrKeyring *
wr_keyring_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  struct stat st;
  WrKeyring *ring;

  if (!path) {
    const char *env = g_getenv ("WEBREMOTE_KEK");
    if (!env || !*env) {
      g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
          "no key-encryption key: set a key file or WEBREMOTE_KEK");
      return NULL;
    }
    return wr_keyring_new_from_data (env, error);
  }
  if (stat (path, &st) == 0 && (st.st_mode & 077)) {
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
        "%s must not be readable by group or others (chmod 600)", path);
    return NULL;
  }
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  ring = wr_keyring_new_from_data (text, error);
  OPENSSL_cleanse (text, len);
  if (!ring)
    g_prefix_error (error, "%s: ", path);
  return ring;
}

gboolean
wr_keyring_create_file (const char *path, const char *key_id, GError **error)
{
  guint8 key[KEY_LEN];
  g_autofree char *b64 = NULL;
  g_autofree char *line = NULL;
  int fd;
  gsize len;

  if (!key_id_is_valid (key_id)) {
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
        "invalid key id");
    return FALSE;
  }
  if (RAND_bytes (key, sizeof key) != 1)
    g_error ("the OpenSSL random generator failed");
  b64 = wr_base64url_encode (key, sizeof key);
  OPENSSL_cleanse (key, sizeof key);
  line = g_strdup_printf ("# webremote key-encryption keys: the first "
      "encrypts, all decrypt\n%s %s\n", key_id, b64);
  len = strlen (line);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, line, len) != (ssize_t) len || fsync (fd) < 0) {
    int e = errno;
    if (fd >= 0)
      close (fd);
    OPENSSL_cleanse (line, len);
    OPENSSL_cleanse (b64, strlen (b64));
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot write %s: %s", path, g_strerror (e));
    return FALSE;
  }
  close (fd);
  OPENSSL_cleanse (line, len);
  OPENSSL_cleanse (b64, strlen (b64));
  return TRUE;
}

const char *
wr_keyring_current_id (WrKeyring *ring)
{
  return g_array_index (ring->keys, Key, 0).id;
}

static const Key *
find_key (WrKeyring *ring, const char *id)
{
  for (guint i = 0; i < ring->keys->len; i++) {
    const Key *k = &g_array_index (ring->keys, Key, i);
    if (g_str_equal (k->id, id))
      return k;
  }
  return NULL;
}

char *
wr_keyring_seal (WrKeyring *ring, const guint8 *data, gsize len,
    const char *aad)
{
  const Key *k = &g_array_index (ring->keys, Key, 0);
  g_autofree guint8 *out = g_malloc (len + TAG_LEN);
  g_autofree char *nonce_b64 = NULL;
  g_autofree char *ct_b64 = NULL;
  guint8 nonce[NONCE_LEN];
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0, fin = 0;

  if (RAND_bytes (nonce, sizeof nonce) != 1)
    g_error ("the OpenSSL random generator failed");
  if (!ctx || EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, k->key,
          nonce) != 1
      || (aad && EVP_EncryptUpdate (ctx, NULL, &n, (const guint8 *) aad,
              (int) strlen (aad)) != 1)
      || EVP_EncryptUpdate (ctx, out, &n, data, (int) len) != 1
      || EVP_EncryptFinal_ex (ctx, out + n, &fin) != 1
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
          out + len) != 1)
    g_error ("AES-256-GCM encryption failed");
  EVP_CIPHER_CTX_free (ctx);
  nonce_b64 = wr_base64url_encode (nonce, sizeof nonce);
  ct_b64 = wr_base64url_encode (out, len + TAG_LEN);
  return g_strdup_printf ("%s.%s.%s.%s", SEALED_PREFIX, k->id, nonce_b64,
      ct_b64);
}

GBytes *
wr_keyring_open (WrKeyring *ring, const char *sealed, const char *aad,
    GError **error)
{
  g_auto (GStrv) parts = g_strsplit (sealed ? sealed : "", ".", 5);
  g_autofree guint8 *nonce = NULL;
  g_autofree guint8 *ct = NULL;
  g_autofree guint8 *plain = NULL;
  gsize nonce_len = 0, ct_len = 0;
  EVP_CIPHER_CTX *ctx;
  const Key *k;
  int n = 0, fin = 0;
  gboolean ok;

  if (g_strv_length (parts) != 4 || !g_str_equal (parts[0], SEALED_PREFIX)) {
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
        "not a sealed value");
    return NULL;
  }
  k = find_key (ring, parts[1]);
  if (!k) {
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_UNKNOWN_KEY,
        "sealed under key '%s', which is not in the key ring", parts[1]);
    return NULL;
  }
  nonce = wr_base64url_decode (parts[2], strlen (parts[2]), &nonce_len);
  ct = wr_base64url_decode (parts[3], strlen (parts[3]), &ct_len);
  if (!nonce || nonce_len != NONCE_LEN || !ct || ct_len < TAG_LEN) {
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID,
        "not a sealed value");
    return NULL;
  }
  plain = g_malloc (ct_len - TAG_LEN + 1);
  ctx = EVP_CIPHER_CTX_new ();
  ok = ctx && EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, k->key,
      nonce) == 1
      && (!aad || EVP_DecryptUpdate (ctx, NULL, &n, (const guint8 *) aad,
              (int) strlen (aad)) == 1)
      && EVP_DecryptUpdate (ctx, plain, &n, ct, (int) (ct_len - TAG_LEN)) == 1
      && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
          ct + ct_len - TAG_LEN) == 1
      && EVP_DecryptFinal_ex (ctx, plain + n, &fin) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok) {
    OPENSSL_cleanse (plain, ct_len - TAG_LEN);
    g_set_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_TAMPERED,
        "the sealed value does not authenticate");
    return NULL;
  }
  return g_bytes_new_take (g_steal_pointer (&plain), ct_len - TAG_LEN);
}
