/* webremote-agent: configuration (keyfile + command line + environment). */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "agent/command-config.h"

G_BEGIN_DECLS

#define WR_AGENT_DEFAULT_CONFIG WR_SYSCONFDIR "/webremote/agent.conf"

/* Files in the agent's state directory (webremote-agent enroll). */
#define WR_AGENT_STATE_KEY "agent.key"
#define WR_AGENT_STATE_CERT "agent.crt"
#define WR_AGENT_STATE_CA "ca.crt"
#define WR_AGENT_STATE_ID "agent.id"
#define WR_AGENT_STATE_URL "gateway.url"
#define WR_AGENT_STATE_FINGERPRINT "gateway.fingerprint"
#define WR_AGENT_STATE_GRANT_KEY "grant.key"

typedef struct {
  char *id;                 /* agent id, 1..64 bytes */
  char *name;               /* display name, 1..128 bytes */
  char *gateway_url;        /* https://HOST:PORT */
  char *fingerprint;        /* normalised SHA-256 pin, or NULL */
  char *ca_file;            /* PEM bundle of trusted CAs, or NULL */
  char *gateway_public_key; /* `ed25519:BASE64`, or NULL */
  char *gateway_public_key_file; /* or a file holding it (or PEM) */
  EVP_PKEY *grant_key;      /* loaded from one of the two by finish */
  char *state_dir;          /* [agent] state-dir: enrollment credentials */
  char *client_cert_file;   /* STATE/agent.crt once enrolled, or NULL */
  char *client_key_file;    /* STATE/agent.key */
  char **displays;          /* X displays, at least one after finish */
  char **ice_addresses;     /* local addresses ICE may use; NULL = all */
  gint64 reconnect_min_ms;
  gint64 reconnect_max_ms;
  int framerate;            /* [video] framerate: overrides the profile's */
  int bitrate_kbps;         /* [video] bitrate-kbps: likewise */
  gboolean framerate_set;   /* whether the file set them */
  gboolean bitrate_set;
  char *profiles_file;      /* [agent] profiles, or NULL: the shipped file */
  char *profile;            /* [agent] profile, or NULL: low-latency */
  WrCommandTable *commands; /* [command NAME] sections; never NULL after
                             * load */
} WrAgentConfig;

/**
 * wr_agent_config_load:
 * @path: (nullable): the keyfile; %NULL means no file
 * @must_exist: when %FALSE a missing @path is not an error (the default
 *   config file is optional)
 * @error: a WR_CONFIG_ERROR whose message has one `FILE:LINE: ...` line
 *   per problem
 *
 * Reads @path into a new config with defaults for absent keys. Call
 * wr_agent_config_finish() after applying command line overrides.
 *
 * Returns: (transfer full) (nullable): the config or %NULL.
 */
WrAgentConfig *wr_agent_config_load (const char *path, gboolean must_exist,
    GError **error);

/**
 * wr_agent_config_finish:
 * Fills in derived defaults ($DISPLAY, the host name), loads the
 * enrollment from the state directory and checks that the agent can start:
 * an enrollment (client certificate and key; there is no other agent
 * credential), a gateway URL over TLS, a certificate pin or CA file, the
 * gateway's grant key.
 */
gboolean wr_agent_config_finish (WrAgentConfig *cfg, GError **error);

/**
 * wr_agent_config_websocket_url:
 * Returns: (transfer full): the wss:// URL of the gateway's /ws/agent.
 */
char *wr_agent_config_websocket_url (const WrAgentConfig *cfg);

void wr_agent_config_free (WrAgentConfig *cfg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAgentConfig, wr_agent_config_free)

G_END_DECLS
