/* webremote-agent enroll, and certificate renewal (docs/security.md). */
#pragma once

#include <gio/gio.h>

#include "agent/agent-config.h"
#include "agent/gateway-link.h"

G_BEGIN_DECLS

#define WR_AGENT_DEFAULT_STATE_DIR "/var/lib/webremote-agent"

/**
 * wr_agent_enroll_main:
 * `webremote-agent enroll https://GATEWAY TOKEN [--ca-fingerprint SHA256]
 * [--state-dir DIR] [--id ID]`: makes a key pair and a CSR, trades them
 * and the single-use token for a client certificate, and writes the
 * credentials (mode 0600) into the state directory.
 * Returns: the exit status.
 */
int wr_agent_enroll_main (int argc, char **argv);

/**
 * wr_agent_renewal_start:
 * Renews the client certificate at two thirds of its lifetime over HTTPS
 * with the current one (POST /api/v1/agent/renew), writes the new files,
 * and gives @link the new certificate for its next connection.
 */
void wr_agent_renewal_start (const WrAgentConfig *cfg, WrGatewayLink *link,
    GTlsDatabase *database);

G_END_DECLS
