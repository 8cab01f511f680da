/* webremote: secrets at rest, encrypted with AES-256-GCM under a
 * key-encryption key (KEK) that has an id, so keys can be rotated: the
 * first key encrypts, every key in the ring can decrypt. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WR_KEYRING_ERROR (wr_keyring_error_quark ())
GQuark wr_keyring_error_quark (void);

typedef enum {
  WR_KEYRING_ERROR_INVALID,     /* a malformed key file or sealed value */
  WR_KEYRING_ERROR_UNKNOWN_KEY, /* sealed under a key id not in the ring */
  WR_KEYRING_ERROR_TAMPERED,    /* authentication failed */
} WrKeyringError;

typedef struct _WrKeyring WrKeyring;

/**
 * wr_keyring_new_from_data:
 * @text: one key per line, `KEY-ID BASE64-OF-32-BYTES`; the first line is
 *   the current key; `#` starts a comment
 * Returns: (transfer full) (nullable): the ring.
 */
WrKeyring *wr_keyring_new_from_data (const char *text, GError **error);

/**
 * wr_keyring_load:
 * Reads @path (which must not be readable by group or others), or the
 * environment variable WEBREMOTE_KEK when @path is %NULL.
 * Returns: (transfer full) (nullable): the ring.
 */
WrKeyring *wr_keyring_load (const char *path, GError **error);

/**
 * wr_keyring_create_file:
 * Writes a new key file (mode 0600) with one random key named @key_id.
 */
gboolean wr_keyring_create_file (const char *path, const char *key_id,
    GError **error);

void wr_keyring_free (WrKeyring *ring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrKeyring, wr_keyring_free)

/** Returns: (transfer none): the id of the key that encrypts. */
const char *wr_keyring_current_id (WrKeyring *ring);

/**
 * wr_keyring_seal:
 * @aad: (nullable): context bound to the value (such as "totp:42"), which
 *   must be given again to open it
 * Returns: (transfer full): `wr1.KEY-ID.NONCE.CIPHERTEXT` in base64url.
 */
char *wr_keyring_seal (WrKeyring *ring, const guint8 *data, gsize len,
    const char *aad);

/**
 * wr_keyring_open:
 * Returns: (transfer full) (nullable): the plaintext.
 */
GBytes *wr_keyring_open (WrKeyring *ring, const char *sealed,
    const char *aad, GError **error);

G_END_DECLS
