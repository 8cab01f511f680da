/* webremote: the gateway's configuration (docs/config.md). */
#include "config.h"

#include "gateway/gateway-config.h"

#include <string.h>

#include "common/config.h"

static const WrConfigKey schema[] = {
  { "gateway", "listen", WR_KEY_STRING, 0, 255 },
  { "gateway", "port", WR_KEY_INT, 0, 65535 },
  { "gateway", "state-dir", WR_KEY_STRING, 0, 4096 },
  { "gateway", "web-root", WR_KEY_STRING, 0, 4096 },
  { "gateway", "tls-certificate", WR_KEY_STRING, 0, 4096 },
  { "gateway", "tls-key", WR_KEY_STRING, 0, 4096 },
  { "gateway", "listen-backlog", WR_KEY_INT, 16, 65535 },
  { "gateway", "grant-signing-key", WR_KEY_STRING, 0, 4096 },
  { "auth", "admin-user", WR_KEY_STRING, 0, 128 },
  { "auth", "token-lifetime", WR_KEY_INT, 60, 600 },
  { "auth", "refresh-lifetime", WR_KEY_INT, 300, 30 * 24 * 3600 },
  { "auth", "lockout-threshold", WR_KEY_INT, 0, 1000 },
  { "auth", "lockout-seconds", WR_KEY_INT, 1, 7 * 24 * 3600 },
  { "auth", "address-max-failures", WR_KEY_INT, 1, 100000 },
  { "auth", "address-window", WR_KEY_INT, 1, 24 * 3600 },
  { "store", "url", WR_KEY_STRING, 0, 4096 },
  { "secrets", "kek-file", WR_KEY_STRING, 0, 4096 },
  { "ca", "agent-cert-days", WR_KEY_INT, 1, 365 },
  { "ca", "agent-cert-seconds", WR_KEY_INT, 0, 365 * 86400 },
  { "oidc", "issuer", WR_KEY_STRING, 0, 2048 },
  { "oidc", "client-id", WR_KEY_STRING, 0, 256 },
  { "oidc", "client-secret-file", WR_KEY_STRING, 0, 4096 },
  { "oidc", "redirect-uri", WR_KEY_STRING, 0, 2048 },
  { "oidc", "scopes", WR_KEY_STRING, 0, 512 },
  { "oidc", "groups-claim", WR_KEY_STRING, 0, 128 },
  { "oidc", "username-claim", WR_KEY_STRING, 0, 128 },
  { "oidc", "label", WR_KEY_STRING, 0, 128 },
  { "oidc", "ca-file", WR_KEY_STRING, 0, 4096 },
  { "audit", "checkpoint-rows", WR_KEY_INT, 1, 1000000 },
  { "audit", "checkpoint-seconds", WR_KEY_INT, 1, 86400 },
  { "recording", "dir", WR_KEY_STRING, 0, 4096 },
  { "recording", "local-recorder", WR_KEY_BOOL, 0, 0 },
  { "recording", "recorder-binary", WR_KEY_STRING, 0, 4096 },
  { "recording", "segment-seconds", WR_KEY_INT, 1, 86400 },
  { "recording", "start-timeout", WR_KEY_INT, 1, 300 },
  { "recording", "retention-interval", WR_KEY_INT, 1, 7 * 86400 },
  { "recording", "ice-addresses", WR_KEY_STRING, 0, 1024 },
  { NULL }
};

WrGatewayConfig *
wr_gateway_config_load (const char *path, gboolean must_exist,
    GError **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  WrGatewayConfig *c;

  if (path && (must_exist || g_file_test (path, G_FILE_TEST_EXISTS))) {
    kf = wr_config_load (path, schema, error);
    if (!kf)
      return NULL;
  }

  c = g_new0 (WrGatewayConfig, 1);
  c->listen = wr_config_get_string (kf, "gateway", "listen", "0.0.0.0");
  c->port = wr_config_get_int (kf, "gateway", "port", 8443);
  c->state_dir = wr_config_get_string (kf, "gateway", "state-dir",
      "/var/lib/webremote");
  c->web_root = wr_config_get_string (kf, "gateway", "web-root",
      WR_DATADIR "/web");
  c->tls_certificate = wr_config_get_string (kf, "gateway",
      "tls-certificate", NULL);
  c->tls_key = wr_config_get_string (kf, "gateway", "tls-key", NULL);
  c->listen_backlog = wr_config_get_int (kf, "gateway", "listen-backlog",
      1024);
  c->grant_signing_key = wr_config_get_string (kf, "gateway",
      "grant-signing-key", NULL);
  c->admin_user = wr_config_get_string (kf, "auth", "admin-user", "admin");
  c->token_lifetime = wr_config_get_int (kf, "auth", "token-lifetime", 600);
  c->refresh_lifetime = wr_config_get_int (kf, "auth", "refresh-lifetime",
      12 * 3600);
  c->lockout_threshold = wr_config_get_int (kf, "auth", "lockout-threshold",
      5);
  c->lockout_seconds = wr_config_get_int (kf, "auth", "lockout-seconds", 900);
  c->address_max = wr_config_get_int (kf, "auth", "address-max-failures",
      20);
  c->address_window = wr_config_get_int (kf, "auth", "address-window", 300);
  c->store_url = wr_config_get_string (kf, "store", "url", NULL);
  c->kek_file = wr_config_get_string (kf, "secrets", "kek-file", NULL);
  c->agent_cert_days = wr_config_get_int (kf, "ca", "agent-cert-days", 7);
  c->agent_cert_seconds = wr_config_get_int (kf, "ca", "agent-cert-seconds",
      0);
  c->oidc_issuer = wr_config_get_string (kf, "oidc", "issuer", NULL);
  c->oidc_client_id = wr_config_get_string (kf, "oidc", "client-id", NULL);
  c->oidc_client_secret_file = wr_config_get_string (kf, "oidc",
      "client-secret-file", NULL);
  c->oidc_redirect_uri = wr_config_get_string (kf, "oidc", "redirect-uri",
      NULL);
  c->oidc_scopes = wr_config_get_string (kf, "oidc", "scopes", NULL);
  c->oidc_groups_claim = wr_config_get_string (kf, "oidc", "groups-claim",
      NULL);
  c->oidc_username_claim = wr_config_get_string (kf, "oidc",
      "username-claim", NULL);
  c->oidc_label = wr_config_get_string (kf, "oidc", "label", NULL);
  c->oidc_ca_file = wr_config_get_string (kf, "oidc", "ca-file", NULL);
  c->audit_checkpoint_rows = wr_config_get_int (kf, "audit",
      "checkpoint-rows", 100);
  c->audit_checkpoint_seconds = wr_config_get_int (kf, "audit",
      "checkpoint-seconds", 60);
  c->recording_dir = wr_config_get_string (kf, "recording", "dir", NULL);
  c->local_recorder = wr_config_get_bool (kf, "recording", "local-recorder",
      TRUE);
  c->recorder_binary = wr_config_get_string (kf, "recording",
      "recorder-binary", NULL);
  c->segment_seconds = wr_config_get_int (kf, "recording", "segment-seconds",
      300);
  c->recording_start_timeout = wr_config_get_int (kf, "recording",
      "start-timeout", 10);
  c->retention_interval = wr_config_get_int (kf, "recording",
      "retention-interval", 3600);
  c->recording_ice_addresses = wr_config_get_string (kf, "recording",
      "ice-addresses", NULL);
  return c;
}

void
wr_gateway_config_free (WrGatewayConfig *c)
{
  if (!c)
    return;
  g_free (c->listen);
  g_free (c->state_dir);
  g_free (c->web_root);
  g_free (c->tls_certificate);
  g_free (c->tls_key);
  g_free (c->grant_signing_key);
  g_free (c->admin_user);
  g_free (c->store_url);
  g_free (c->kek_file);
  g_free (c->oidc_issuer);
  g_free (c->oidc_client_id);
  g_free (c->oidc_client_secret_file);
  g_free (c->oidc_redirect_uri);
  g_free (c->oidc_scopes);
  g_free (c->oidc_groups_claim);
  g_free (c->oidc_username_claim);
  g_free (c->oidc_label);
  g_free (c->oidc_ca_file);
  g_free (c->recording_dir);
  g_free (c->recorder_binary);
  g_free (c->recording_ice_addresses);
  g_free (c);
}

gint64
wr_gateway_config_agent_cert_lifetime (const WrGatewayConfig *config)
{
  if (config->agent_cert_seconds > 0)
    return config->agent_cert_seconds;
  return config->agent_cert_days * 86400;
}
