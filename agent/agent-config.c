/* webremote-agent: configuration (keyfile + command line + environment). */
#include "config.h"

#include "agent/agent-config.h"

#include <gio/gio.h>
#include <string.h>

#include "common/config.h"
#include "common/crypto.h"
#include "common/grant.h"

static const WrConfigKey schema[] = {
  { "agent", "id", WR_KEY_STRING, 0, 64 },
  { "agent", "name", WR_KEY_STRING, 0, 128 },
  { "agent", "gateway-url", WR_KEY_STRING, 0, 2048 },
  { "agent", "gateway-fingerprint", WR_KEY_STRING, 0, 128 },
  { "agent", "gateway-ca-file", WR_KEY_STRING, 0, 4096 },
  { "agent", "gateway-public-key", WR_KEY_STRING, 0, 256 },
  { "agent", "gateway-public-key-file", WR_KEY_STRING, 0, 4096 },
  { "agent", "state-dir", WR_KEY_STRING, 0, 4096 },
  { "agent", "displays", WR_KEY_STRING_LIST },
  { "agent", "reconnect-min-ms", WR_KEY_INT, 10, 600000 },
  { "agent", "reconnect-max-ms", WR_KEY_INT, 10, 3600000 },
  { "agent", "profiles", WR_KEY_STRING, 0, 4096 },
  { "agent", "profile", WR_KEY_STRING, 0, 64 },
  { "webrtc", "ice-addresses", WR_KEY_STRING_LIST },
  { "video", "framerate", WR_KEY_INT, 1, 120 },
  { "video", "bitrate-kbps", WR_KEY_INT, 100, 200000 },
  WR_COMMAND_CONFIG_SCHEMA,
  { NULL }
};

static char *
empty_to_null (char *s)
{
  if (s && !*s) {
    g_free (s);
    return NULL;
  }
  return s;
}

WrAgentConfig *
wr_agent_config_load (const char *path, gboolean must_exist, GError **error)
{
  g_autoptr (WrAgentConfig) cfg = g_new0 (WrAgentConfig, 1);
  g_autoptr (GKeyFile) kf = NULL;

  if (path && (must_exist || g_file_test (path, G_FILE_TEST_EXISTS))) {
    kf = wr_config_load (path, schema, error);
    if (!kf)
      return NULL;
  }

  cfg->id = empty_to_null (wr_config_get_string (kf, "agent", "id", NULL));
  cfg->name = empty_to_null (wr_config_get_string (kf, "agent", "name", NULL));
  cfg->gateway_url = empty_to_null (wr_config_get_string (kf, "agent",
          "gateway-url", NULL));
  cfg->fingerprint = empty_to_null (wr_config_get_string (kf, "agent",
          "gateway-fingerprint", NULL));
  cfg->ca_file = empty_to_null (wr_config_get_string (kf, "agent",
          "gateway-ca-file", NULL));
  cfg->state_dir = empty_to_null (wr_config_get_string (kf, "agent",
      "state-dir", NULL));
  cfg->gateway_public_key = empty_to_null (wr_config_get_string (kf, "agent",
          "gateway-public-key", NULL));
  cfg->gateway_public_key_file = empty_to_null (wr_config_get_string (kf,
          "agent", "gateway-public-key-file", NULL));
  cfg->displays = wr_config_get_string_list (kf, "agent", "displays");
  cfg->reconnect_min_ms = wr_config_get_int (kf, "agent", "reconnect-min-ms",
      500);
  cfg->reconnect_max_ms = wr_config_get_int (kf, "agent", "reconnect-max-ms",
      8000);
  cfg->ice_addresses = wr_config_get_string_list (kf, "webrtc",
      "ice-addresses");
  cfg->framerate = (int) wr_config_get_int (kf, "video", "framerate", 30);
  cfg->bitrate_kbps = (int) wr_config_get_int (kf, "video", "bitrate-kbps",
      6000);
  cfg->framerate_set = kf && g_key_file_has_key (kf, "video", "framerate",
      NULL);
  cfg->bitrate_set = kf && g_key_file_has_key (kf, "video", "bitrate-kbps",
      NULL);
  cfg->profiles_file = empty_to_null (wr_config_get_string (kf, "agent",
          "profiles", NULL));
  cfg->profile = empty_to_null (wr_config_get_string (kf, "agent",
          "profile", NULL));

  cfg->commands = wr_command_table_load (kf, path, error);
  if (!cfg->commands)
    return NULL;

  if (cfg->reconnect_min_ms > cfg->reconnect_max_ms) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        "%s: [agent] reconnect-min-ms (%" G_GINT64_FORMAT ") is larger than "
        "reconnect-max-ms (%" G_GINT64_FORMAT ")",
        path ? path : "(config)", cfg->reconnect_min_ms, cfg->reconnect_max_ms);
    return NULL;
  }

  return g_steal_pointer (&cfg);
}

static gboolean
invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID, msg);
  return FALSE;
}

static char *
read_state_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  if (!*text)
    g_clear_pointer (&text, g_free);
  return text;
}

/* What `webremote-agent enroll` wrote in the state directory: the client
 * certificate and key, and, unless given otherwise, the agent id, the
 * gateway URL, its certificate pin and its grant key. */
static gboolean
load_enrollment (WrAgentConfig *cfg, GError **error)
{
  g_autofree char *crt = g_build_filename (cfg->state_dir,
      WR_AGENT_STATE_CERT, NULL);
  g_autofree char *key = g_build_filename (cfg->state_dir,
      WR_AGENT_STATE_KEY, NULL);
  g_autofree char *id = NULL;

  if (!g_file_test (crt, G_FILE_TEST_IS_REGULAR)
      || !g_file_test (key, G_FILE_TEST_IS_REGULAR))
    return invalid (error, "the state directory %s holds no enrollment: run "
        "webremote-agent enroll https://GATEWAY TOKEN --state-dir %s first",
        cfg->state_dir, cfg->state_dir);
  id = read_state_file (cfg->state_dir, WR_AGENT_STATE_ID);
  if (!id)
    return invalid (error, "%s/" WR_AGENT_STATE_ID " is missing",
        cfg->state_dir);
  /* the certificate names the agent: another id would be refused */
  if (cfg->id && !g_str_equal (cfg->id, id))
    return invalid (error, "the agent id '%s' differs from the enrolled id "
        "'%s'", cfg->id, id);
  g_free (cfg->id);
  cfg->id = g_steal_pointer (&id);
  if (!cfg->gateway_url)
    cfg->gateway_url = read_state_file (cfg->state_dir, WR_AGENT_STATE_URL);
  if (!cfg->fingerprint && !cfg->ca_file)
    cfg->fingerprint = read_state_file (cfg->state_dir,
        WR_AGENT_STATE_FINGERPRINT);
  if (!cfg->gateway_public_key && !cfg->gateway_public_key_file)
    cfg->gateway_public_key = read_state_file (cfg->state_dir,
        WR_AGENT_STATE_GRANT_KEY);
  cfg->client_cert_file = g_steal_pointer (&crt);
  cfg->client_key_file = g_steal_pointer (&key);
  return TRUE;
}

gboolean
wr_agent_config_finish (WrAgentConfig *cfg, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  const char *scheme;

  if (cfg->state_dir && !load_enrollment (cfg, error))
    return FALSE;
  if (!cfg->id)
    cfg->id = g_strdup (g_get_host_name ());
  if (strlen (cfg->id) == 0 || strlen (cfg->id) > 64)
    return invalid (error, "the agent id must be 1 to 64 bytes long");
  if (!cfg->name)
    cfg->name = g_strdup (cfg->id);
  if (strlen (cfg->name) == 0 || strlen (cfg->name) > 128)
    return invalid (error, "the agent name must be 1 to 128 bytes long");

  if (!cfg->gateway_url)
    return invalid (error, "no gateway: set [agent] gateway-url or "
        "--gateway https://HOST:PORT");
  uri = g_uri_parse (cfg->gateway_url, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (!uri || !g_uri_get_host (uri)
      || !(g_ascii_strcasecmp (scheme, "https") == 0
          || g_ascii_strcasecmp (scheme, "wss") == 0))
    return invalid (error, "gateway URL '%s' is not an https:// URL "
        "(the agent only talks to the gateway over TLS)", cfg->gateway_url);

  if (cfg->fingerprint) {
    char *norm = wr_fingerprint_normalize (cfg->fingerprint);
    if (!norm)
      return invalid (error, "gateway fingerprint '%s' is not a SHA-256 "
          "fingerprint (64 hex digits, optionally ':'-separated)",
          cfg->fingerprint);
    g_free (cfg->fingerprint);
    cfg->fingerprint = norm;
  }
  if (cfg->ca_file) {
    /* GTlsFileDatabase wants an absolute path. */
    char *abs = g_canonicalize_filename (cfg->ca_file, NULL);
    g_free (cfg->ca_file);
    cfg->ca_file = abs;
  }
  if (cfg->ca_file && !g_file_test (cfg->ca_file, G_FILE_TEST_IS_REGULAR))
    return invalid (error, "gateway CA file '%s' does not exist",
        cfg->ca_file);
  if (!cfg->fingerprint && !cfg->ca_file)
    return invalid (error, "refusing to connect without a way to check the "
        "gateway's certificate: set [agent] gateway-fingerprint "
        "(--fingerprint, see webremote-gateway --print-fingerprint) or "
        "gateway-ca-file (--ca-file)");

  /* Sessions are authorised by grants the gateway signs; without its key
   * the agent could check nothing, so it does not start at all. */
  if (cfg->gateway_public_key && cfg->gateway_public_key_file)
    return invalid (error, "set only one of [agent] gateway-public-key "
        "(--grant-key) and gateway-public-key-file");
  if (!cfg->gateway_public_key && !cfg->gateway_public_key_file)
    return invalid (error, "refusing to start without the gateway's "
        "session grant key: set [agent] gateway-public-key (--grant-key, "
        "see webremote-gateway --print-grant-key) or "
        "gateway-public-key-file");
  {
    g_autoptr (GError) local = NULL;
    EVP_PKEY *key = cfg->gateway_public_key
        ? wr_grant_public_key_from_string (cfg->gateway_public_key, &local)
        : wr_grant_public_key_load_file (cfg->gateway_public_key_file,
            &local);
    if (!key)
      return invalid (error, "gateway grant key: %s", local->message);
    if (cfg->grant_key)
      EVP_PKEY_free (cfg->grant_key);
    cfg->grant_key = key;
  }

  if (!cfg->displays || !cfg->displays[0]) {
    const char *env = g_getenv ("DISPLAY");
    g_strfreev (cfg->displays);
    cfg->displays = NULL;
    if (!env || !*env)
      return invalid (error, "no X display: set [agent] displays, --display "
          "or DISPLAY");
    cfg->displays = g_new0 (char *, 2);
    cfg->displays[0] = g_strdup (env);
  }
  for (int i = 0; cfg->displays[i]; i++)
    if (!*cfg->displays[i] || strlen (cfg->displays[i]) > 32)
      return invalid (error, "display name '%s' must be 1 to 32 bytes long",
          cfg->displays[i]);
  if (g_strv_length (cfg->displays) > 16)
    return invalid (error, "at most 16 displays are supported");

  for (int i = 0; cfg->ice_addresses && cfg->ice_addresses[i]; i++) {
    g_autoptr (GInetAddress) addr =
        g_inet_address_new_from_string (cfg->ice_addresses[i]);
    if (!addr)
      return invalid (error, "ICE address '%s' is not an IP address",
          cfg->ice_addresses[i]);
  }

  /* The client certificate from enrollment is the agent's only credential
   * (mTLS); there is no pre-shared token. */
  if (!cfg->client_cert_file)
    return invalid (error, "the agent is not enrolled: run webremote-agent "
        "enroll https://GATEWAY TOKEN --state-dir DIR, then start it with "
        "--state-dir DIR (or [agent] state-dir)");
  return TRUE;
}

char *
wr_agent_config_websocket_url (const WrAgentConfig *cfg)
{
  g_autoptr (GUri) uri = g_uri_parse (cfg->gateway_url, G_URI_FLAGS_NONE,
      NULL);
  g_autoptr (GUri) ws = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (uri != NULL, NULL);
  /* Keep any path prefix the gateway is mounted under. */
  prefix = g_strdup (g_uri_get_path (uri));
  while (g_str_has_suffix (prefix, "/"))
    prefix[strlen (prefix) - 1] = '\0';
  path = g_strconcat (prefix, "/ws/agent", NULL);
  ws = g_uri_build (G_URI_FLAGS_NONE, "wss", NULL, g_uri_get_host (uri),
      g_uri_get_port (uri), path, NULL, NULL);
  return g_uri_to_string (ws);
}

void
wr_agent_config_free (WrAgentConfig *cfg)
{
  if (!cfg)
    return;
  g_free (cfg->id);
  g_free (cfg->name);
  g_free (cfg->gateway_url);
  g_free (cfg->fingerprint);
  g_free (cfg->ca_file);
  g_free (cfg->gateway_public_key);
  g_free (cfg->gateway_public_key_file);
  if (cfg->grant_key)
    EVP_PKEY_free (cfg->grant_key);
  g_free (cfg->state_dir);
  g_free (cfg->client_cert_file);
  g_free (cfg->client_key_file);
  g_strfreev (cfg->displays);
  g_strfreev (cfg->ice_addresses);
  g_free (cfg->profiles_file);
  g_free (cfg->profile);
  g_clear_pointer (&cfg->commands, wr_command_table_free);
  g_free (cfg);
}
