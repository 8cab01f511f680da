/* webremote: the gateway's configuration (docs/config.md). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WR_GATEWAY_DEFAULT_CONFIG "/etc/webremote/gateway.conf"

typedef struct {
  char *listen;           /* [gateway] listen */
  gint64 port;            /* [gateway] port */
  char *state_dir;        /* [gateway] state-dir */
  char *web_root;         /* [gateway] web-root */
  char *tls_certificate;  /* [gateway] tls-certificate (nullable) */
  char *tls_key;          /* [gateway] tls-key (nullable) */
  gint64 listen_backlog;  /* [gateway] listen-backlog */
  char *grant_signing_key; /* [gateway] grant-signing-key (nullable:
                            * state-dir/grant-signing.key) */
  char *admin_user;       /* [auth] admin-user */
  gint64 token_lifetime;  /* [auth] token-lifetime (access tokens), s */
  gint64 refresh_lifetime; /* [auth] refresh-lifetime, seconds */
  gint64 lockout_threshold; /* [auth] lockout-threshold */
  gint64 lockout_seconds; /* [auth] lockout-seconds */
  gint64 address_max;     /* [auth] address-max-failures */
  gint64 address_window;  /* [auth] address-window */
  char *store_url;        /* [store] url (nullable: SQLite in state-dir) */
  char *kek_file;         /* [secrets] kek-file (nullable) */
  gint64 agent_cert_days; /* [ca] agent-cert-days */
  gint64 agent_cert_seconds; /* [ca] agent-cert-seconds: tests only; 0 =
                              * agent-cert-days */
  char *oidc_issuer;      /* [oidc] issuer (nullable: SSO off) */
  char *oidc_client_id;   /* [oidc] client-id */
  char *oidc_client_secret_file; /* [oidc] client-secret-file */
  char *oidc_redirect_uri; /* [oidc] redirect-uri */
  char *oidc_scopes;      /* [oidc] scopes */
  char *oidc_groups_claim; /* [oidc] groups-claim */
  char *oidc_username_claim; /* [oidc] username-claim */
  char *oidc_label;       /* [oidc] label */
  char *oidc_ca_file;     /* [oidc] ca-file */
  gint64 audit_checkpoint_rows;    /* [audit] checkpoint-rows */
  gint64 audit_checkpoint_seconds; /* [audit] checkpoint-seconds */
  char *recording_dir;    /* [recording] dir (nullable: state-dir/recordings) */
  gboolean local_recorder; /* [recording] local-recorder: start one */
  char *recorder_binary;  /* [recording] recorder-binary (nullable: found
                           * next to the gateway's own binary, then PATH) */
  gint64 segment_seconds; /* [recording] segment-seconds */
  gint64 recording_start_timeout; /* [recording] start-timeout, seconds */
  gint64 retention_interval; /* [recording] retention-interval, seconds */
  char *recording_ice_addresses; /* [recording] ice-addresses: the local
                                  * recorder's ICE addresses (nullable:
                                  * its default) */
} WrGatewayConfig;

/**
 * wr_gateway_config_load:
 * @path: (nullable): the keyfile; %NULL gives the defaults
 * @must_exist: whether a missing @path is an error (an explicit --config)
 *
 * Returns: (transfer full) (nullable): the configuration, or %NULL with
 * every problem listed as `FILE:LINE: [group] key: reason`.
 */
WrGatewayConfig *wr_gateway_config_load (const char *path,
    gboolean must_exist, GError **error);
void wr_gateway_config_free (WrGatewayConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrGatewayConfig, wr_gateway_config_free)

/* The lifetime of the agent certificates the CA signs, in seconds:
 * `[ca] agent-cert-seconds` when set (tests), else agent-cert-days. */
gint64 wr_gateway_config_agent_cert_lifetime (const WrGatewayConfig *config);

G_END_DECLS
