/* webremote-agent: shares this machine's X displays with the gateway's
 * viewers over WebRTC and injects their input. */
#include "config.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <locale.h>
#include <stdlib.h>
#include <X11/Xlib.h>

#include "agent/agent-config.h"
#include "agent/enroll.h"
#include "agent/gateway-link.h"
#include "agent/pinned-tls-database.h"
#include "agent/session-manager.h"
#include "common/config.h"

/* Exit status for a configuration the agent cannot run with. */
#define WR_EXIT_CONFIG 2

typedef struct {
  GMainLoop *loop;
  WrSessionManager *manager;
  WrGatewayLink *link;
  gboolean quitting;
} WrAgent;

static gboolean
quit_loop (gpointer user_data)
{
  WrAgent *agent = user_data;

  g_main_loop_quit (agent->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer user_data)
{
  WrAgent *agent = user_data;

  if (agent->quitting) {
    /* A second signal: stop waiting for the close handshake. */
    g_main_loop_quit (agent->loop);
    return G_SOURCE_CONTINUE;
  }
  agent->quitting = TRUE;
  g_message ("shutting down");
  /* Release input and tell the gateway before the WebSocket closes. */
  wr_session_manager_end_all (agent->manager, TRUE, "agent shutting down");
  wr_gateway_link_stop (agent->link, quit_loop, agent);
  return G_SOURCE_CONTINUE;
}

static void
die_config (const char *message)
{
  g_printerr ("webremote-agent: invalid configuration:\n%s\n", message);
  exit (WR_EXIT_CONFIG);
}

static void
override (char **field, const char *value)
{
  if (!value)
    return;
  g_free (*field);
  *field = g_strdup (value);
}

int
main (int argc, char **argv)
{
  g_autofree char *opt_config = NULL;
  g_autofree char *opt_gateway = NULL;
  g_autofree char *opt_fingerprint = NULL;
  g_autofree char *opt_ca_file = NULL;
  g_autofree char *opt_id = NULL;
  g_autofree char *opt_name = NULL;
  g_autofree char *opt_grant_key = NULL;
  g_autofree char *opt_state_dir = NULL;
  g_auto (GStrv) opt_displays = NULL;
  g_auto (GStrv) opt_ice = NULL;
  gboolean opt_version = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Configuration file (default " WR_AGENT_DEFAULT_CONFIG ")", "FILE" },
    { "gateway", 0, 0, G_OPTION_ARG_STRING, &opt_gateway,
      "Gateway URL", "https://HOST:PORT" },
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &opt_fingerprint,
      "Pinned SHA-256 fingerprint of the gateway certificate", "SHA256" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_file,
      "CA certificates that sign the gateway certificate", "FILE" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &opt_id, "Agent id", "ID" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, "Agent name", "NAME" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
      "Enrollment credentials (webremote-agent enroll): the agent "
      "connects with its client certificate (required)", "DIR" },
    { "grant-key", 0, 0, G_OPTION_ARG_STRING, &opt_grant_key,
      "The gateway's session grant key (webremote-gateway "
      "--print-grant-key)", "ed25519:BASE64" },
    { "display", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_displays,
      "X display to share (repeatable; default $DISPLAY)", ":N" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_ice,
      "Local address ICE may use (repeatable)", "ADDR" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = NULL;
  g_autoptr (GTlsDatabase) ca_db = NULL;
  g_autoptr (GTlsDatabase) db = NULL;
  g_autofree char *ws_url = NULL;
  WrAgent agent = { 0 };

  setlocale (LC_ALL, "");
  if (argc > 1 && g_str_equal (argv[1], "enroll"))
    return wr_agent_enroll_main (argc - 1, argv + 1);
  /* ximagesrc opens its own X connections on streaming threads. */
  XInitThreads ();

  ctx = g_option_context_new ("- share X displays with webremote viewers");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("webremote-agent: %s\n", error->message);
    return WR_EXIT_CONFIG;
  }
  if (opt_version) {
    g_print ("webremote-agent %s\n", WR_VERSION);
    return 0;
  }

  cfg = wr_agent_config_load (opt_config ? opt_config
      : WR_AGENT_DEFAULT_CONFIG, opt_config != NULL, &error);
  if (!cfg)
    die_config (error->message);
  override (&cfg->gateway_url, opt_gateway);
  override (&cfg->fingerprint, opt_fingerprint);
  override (&cfg->ca_file, opt_ca_file);
  override (&cfg->id, opt_id);
  override (&cfg->name, opt_name);
  override (&cfg->state_dir, opt_state_dir);
  if (opt_grant_key) {
    /* The flag wins over either config key. */
    override (&cfg->gateway_public_key, opt_grant_key);
    g_clear_pointer (&cfg->gateway_public_key_file, g_free);
  }
  if (opt_displays) {
    g_strfreev (cfg->displays);
    cfg->displays = g_strdupv (opt_displays);
  }
  if (opt_ice) {
    g_strfreev (cfg->ice_addresses);
    cfg->ice_addresses = g_strdupv (opt_ice);
  }
  if (!wr_agent_config_finish (cfg, &error))
    die_config (error->message);

  if (cfg->ca_file) {
    ca_db = g_tls_file_database_new (cfg->ca_file, &error);
    if (!ca_db) {
      g_autofree char *msg = g_strdup_printf ("gateway CA file %s: %s",
          cfg->ca_file, error->message);
      die_config (msg);
    }
  }
  if (cfg->fingerprint)
    db = wr_pinned_tls_database_new (cfg->fingerprint, ca_db);
  else
    db = g_object_ref (ca_db);

  ws_url = wr_agent_config_websocket_url (cfg);
  agent.loop = g_main_loop_new (NULL, FALSE);
  agent.link = wr_gateway_link_new (cfg->gateway_url, ws_url, db,
      (guint) cfg->reconnect_min_ms, (guint) cfg->reconnect_max_ms);
  agent.manager = wr_session_manager_new (cfg, agent.link);
  if (cfg->client_cert_file) {
    g_autoptr (GTlsCertificate) client = g_tls_certificate_new_from_files (
        cfg->client_cert_file, cfg->client_key_file, &error);

    if (!client) {
      g_autofree char *msg = g_strdup_printf ("client certificate %s: %s",
          cfg->client_cert_file, error->message);
      die_config (msg);
    }
    wr_gateway_link_set_client_certificate (agent.link, client);
    wr_agent_renewal_start (cfg, agent.link, db);
  }

  g_unix_signal_add (SIGINT, on_signal, &agent);
  g_unix_signal_add (SIGTERM, on_signal, &agent);

  g_message ("agent %s (%s) for %s, trusting %s", cfg->id, cfg->name,
      cfg->gateway_url, cfg->fingerprint ? "the pinned certificate"
      : "the CA file");
  wr_gateway_link_start (agent.link);
  g_main_loop_run (agent.loop);

  wr_session_manager_end_all (agent.manager, FALSE, "agent shutting down");
  g_clear_object (&agent.manager);
  g_clear_object (&agent.link);
  g_main_loop_unref (agent.loop);
  gst_deinit ();
  return 0;
}
