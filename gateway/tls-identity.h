/* webremote: the gateway's TLS certificate, from config or self-signed. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * wr_tls_identity_load:
 * @cert_path: (nullable): configured certificate (PEM)
 * @key_path: (nullable): configured private key (PEM)
 * @state_dir: where a self-signed pair is kept when none is configured
 *   (tls/gateway.crt and tls/gateway.key, created on first start)
 * @created: (out) (optional): set when a new certificate was made
 *
 * Returns: (transfer full) (nullable): the certificate with its key.
 */
GTlsCertificate *wr_tls_identity_load (const char *cert_path,
    const char *key_path, const char *state_dir, gboolean *created,
    GError **error);

G_END_DECLS
