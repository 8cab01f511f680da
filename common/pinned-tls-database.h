/* webremote: a GTlsDatabase that trusts one pinned certificate. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WR_TYPE_PINNED_TLS_DATABASE (wr_pinned_tls_database_get_type ())
G_DECLARE_FINAL_TYPE (WrPinnedTlsDatabase, wr_pinned_tls_database, WR,
    PINNED_TLS_DATABASE, GTlsDatabase)

/**
 * wr_pinned_tls_database_new:
 * @fingerprint: the SHA-256 fingerprint of the only acceptable leaf
 *   certificate, normalised (wr_fingerprint_normalize())
 * @ca: (nullable): when set, the chain must also verify against it
 *
 * Certificate pinning as a TLS database: verify_chain accepts a chain only
 * when its leaf has the pinned fingerprint (compared in constant time),
 * whatever the host name or issuer, and answers
 * %G_TLS_CERTIFICATE_UNKNOWN_CA otherwise. The handshake then fails before
 * any HTTP request, so the agent token never reaches an impostor.
 *
 * Returns: (transfer full): the database.
 */
GTlsDatabase *wr_pinned_tls_database_new (const char *fingerprint,
    GTlsDatabase *ca);

/**
 * wr_pinned_tls_database_get_pin:
 * Returns: (transfer none): the pinned fingerprint.
 */
const char *wr_pinned_tls_database_get_pin (WrPinnedTlsDatabase *self);

G_END_DECLS
