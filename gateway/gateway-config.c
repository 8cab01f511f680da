/* webremote: the gateway's configuration (docs/config.md). */
#include "config.h"

#include "gateway/gateway-config.h"

#include <string.h>

#include "common/config.h"

/* Shorter tokens are guessable; the demo makes 32 random bytes. */
#define MIN_AGENT_TOKEN_LEN 16

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
  { "auth", "agent-token-file", WR_KEY_STRING, 0, 4096 },
  { "auth", "token-lifetime", WR_KEY_INT, 60, 600 },
  { "auth", "refresh-lifetime", WR_KEY_INT, 300, 30 * 24 * 3600 },
  { "auth", "lockout-threshold", WR_KEY_INT, 0, 1000 },
  { "auth", "lockout-seconds", WR_KEY_INT, 1, 7 * 24 * 3600 },
  { "auth", "address-max-failures", WR_KEY_INT, 1, 100000 },
  { "auth", "address-window", WR_KEY_INT, 1, 24 * 3600 },
  { "store", "url", WR_KEY_STRING, 0, 4096 },
  { "secrets", "kek-file", WR_KEY_STRING, 0, 4096 },
  { "ca", "agent-cert-days", WR_KEY_INT, 1, 365 },
  { "oidc", "issuer", WR_KEY_STRING, 0, 2048 },
  { "oidc", "client-id", WR_KEY_STRING, 0, 256 },
  { "oidc", "client-secret-file", WR_KEY_STRING, 0, 4096 },
  { "oidc", "redirect-uri", WR_KEY_STRING, 0, 2048 },
  { "oidc", "scopes", WR_KEY_STRING, 0, 512 },
  { "oidc", "groups-claim", WR_KEY_STRING, 0, 128 },
  { "oidc", "username-claim", WR_KEY_STRING, 0, 128 },
  { "oidc", "label", WR_KEY_STRING, 0, 128 },
  { "oidc", "ca-file", WR_KEY_STRING, 0, 4096 },
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
  c->agent_token_file = wr_config_get_string (kf, "auth", "agent-token-file",
      NULL);
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
  g_free (c->agent_token_file);
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
  g_free (c);
}

char *
wr_gateway_config_read_agent_token (const WrGatewayConfig *config,
    GError **error)
{
  g_autofree char *token = NULL;
  g_autoptr (GError) local = NULL;

  if (config->agent_token_file && *config->agent_token_file) {
    if (!g_file_get_contents (config->agent_token_file, &token, NULL,
            &local)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "cannot read the agent token file: %s", local->message);
      return NULL;
    }
  } else if (g_getenv ("WEBREMOTE_AGENT_TOKEN")) {
    token = g_strdup (g_getenv ("WEBREMOTE_AGENT_TOKEN"));
  } else {
    return NULL;
  }
  g_strstrip (token);
  if (strlen (token) < MIN_AGENT_TOKEN_LEN) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the agent token must be at least %d characters long",
        MIN_AGENT_TOKEN_LEN);
    return NULL;
  }
  return g_steal_pointer (&token);
}
