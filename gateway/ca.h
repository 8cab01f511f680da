/* webremote: the gateway's certificate authority for agents.
 *
 * An EC P-256 CA made on first start in STATE/ca: ca.crt (public) and
 * ca.key.sealed, the private key sealed with the keyring (AES-256-GCM
 * under the current key-encryption key, whose id the sealed value names).
 * It signs the agents' client certificates (CN = agent id, SAN URI
 * urn:webremote:agent:ID) and checks the ones they present. */
#pragma once

#include <glib.h>

#include "common/keyring.h"

G_BEGIN_DECLS

#define WR_CA_ERROR (wr_ca_error_quark ())
GQuark wr_ca_error_quark (void);

typedef enum {
  WR_CA_ERROR_FAILED,   /* files, OpenSSL */
  WR_CA_ERROR_INVALID,  /* a malformed or badly signed CSR */
  WR_CA_ERROR_REFUSED,  /* a certificate that is not ours or not valid now */
} WrCaError;

#define WR_CA_MAX_CSR 16384
#define WR_CA_AGENT_URI_PREFIX "urn:webremote:agent:"

typedef struct _WrCa WrCa;

/**
 * wr_ca_open:
 * Loads the CA from @dir (STATE/ca), or creates it there when @dir has
 * none (then *@created is set).
 */
WrCa *wr_ca_open (const char *dir, WrKeyring *ring, gboolean *created,
    GError **error);
void wr_ca_free (WrCa *ca);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrCa, wr_ca_free)

/**
 * wr_ca_reseal:
 * Seals the CA key in @dir again under @ring's current key (after a new
 * key was put first in the key file). *@old_key_id gets the id it was
 * sealed under.
 */
gboolean wr_ca_reseal (const char *dir, WrKeyring *ring, char **old_key_id,
    GError **error);

/** Returns: (transfer none): the CA certificate, PEM. */
const char *wr_ca_get_certificate_pem (WrCa *ca);

/**
 * wr_ca_csr_agent_id:
 * Checks @csr_pem's signature and returns the agent id in its CN (a
 * non-empty printable id of at most 128 bytes).
 */
char *wr_ca_csr_agent_id (const char *csr_pem, GError **error);

/**
 * wr_ca_sign_csr:
 * Signs a client certificate for the key of @csr_pem, valid @days days
 * from now, for @agent_id.
 * Returns: (transfer full): the certificate PEM; *@serial (hex) and
 * *@not_after (unix seconds) describe it.
 */
char *wr_ca_sign_csr (WrCa *ca, const char *csr_pem, const char *agent_id,
    gint64 lifetime_seconds, char **serial, gint64 *not_after,
    GError **error);

/**
 * wr_ca_verify_client:
 * Checks that @cert_pem was signed by this CA, is valid now, is a client
 * certificate, and names its agent in both the CN and the SAN URI.
 * Returns: (transfer full): the agent id; *@serial gets the serial (hex).
 */
char *wr_ca_verify_client (WrCa *ca, const char *cert_pem, char **serial,
    GError **error);

G_END_DECLS
