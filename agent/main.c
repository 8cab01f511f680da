/* webremote-agent: shares this machine's X displays with the gateway's
 * viewers over WebRTC and injects their input. */
#include "config.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdlib.h>
#include <X11/Xlib.h>

#include "agent/agent-config.h"
#include "agent/display-pipeline.h"
#include "agent/enroll.h"
#include "agent/gateway-link.h"
#include "common/pinned-tls-database.h"
#include "agent/session-manager.h"
#include "common/config.h"
#include "pipelines/encoder-probe.h"
#include "pipelines/profile.h"

/* Exit status for a configuration the agent cannot run with. */
#define WR_EXIT_CONFIG 2

/* Exit status of --check-profiles on a file with problems. */
#define WR_EXIT_PROFILES 1

typedef struct {
  GMainLoop *loop;
  WrSessionManager *manager;
  WrGatewayLink *link;
  gboolean quitting;
  /* What SIGHUP reloads. */
  char *profiles_file;          /* (nullable): built-in profile */
  char *profile_name;
  const WrAgentConfig *config;
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

/* --check-profiles FILE: every problem as FILE:LINE: [profile NAME] key:
 * reason on stderr and exit 1; else one line per profile with the encoder
 * this host would use. */
static int
check_profiles (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) host_error = NULL;
  g_autoptr (WrProfileSet) valid = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load_partial (path, &valid,
      &error);
  g_autoptr (GHashTable) chosen = NULL;
  WrProfileSet *check = set ? set : valid;

  if (error)
    g_printerr ("%s\n", error->message);
  /* The profiles without static problems are still tried on this host,
   * so one run reports everything. */
  if (check && !wr_profile_set_check_host (check, NULL, &chosen,
          &host_error))
    g_printerr ("%s\n", host_error->message);
  if (error || host_error)
    return WR_EXIT_PROFILES;
  for (guint i = 0; i < set->profiles->len; i++) {
    WrProfile *p = g_ptr_array_index (set->profiles, i);
    g_autofree char *summary = wr_profile_summary (p);
    g_print ("%s: %s; %s\n", p->name,
        (const char *) g_hash_table_lookup (chosen, p->name), summary);
  }
  return 0;
}

static char **
probe_displays (const char *config_path, char **opt_displays)
{
  g_autoptr (WrAgentConfig) cfg = NULL;
  g_autoptr (GError) error = NULL;
  const char *env = g_getenv ("DISPLAY");

  if (opt_displays)
    return g_strdupv (opt_displays);
  cfg = wr_agent_config_load (config_path ? config_path
      : WR_AGENT_DEFAULT_CONFIG, config_path != NULL, &error);
  if (!cfg)
    g_printerr ("webremote-agent: %s\n", error->message);
  if (cfg && cfg->displays && cfg->displays[0])
    return g_strdupv (cfg->displays);
  if (env && *env)
    return g_strsplit (env, ";", 2);
  return g_new0 (char *, 1);
}

/* --probe [--json]: the displays, every known encoder (hardware first)
 * with a real test encode, and each profile's choice. */
static int
probe (const char *config_path, char **opt_displays,
    const char *profiles_path, gboolean json)
{
  g_auto (GStrv) displays = probe_displays (config_path, opt_displays);
  g_autoptr (GPtrArray) encoders = wr_encoder_probe_all (
      WR_ENCODER_TEST_TIMEOUT_MS);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = NULL;
  g_autofree char *default_file = NULL;
  const char *file = profiles_path;

  if (!file)
    file = default_file = wr_profile_set_find_default_file ();
  if (file && !(set = wr_profile_set_load (file, &error)))
    g_printerr ("%s\n", error->message);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "displays");
  json_builder_begin_array (b);
  if (!json)
    g_print ("displays:\n");
  for (int i = 0; displays[i]; i++) {
    Display *dpy = XOpenDisplay (displays[i]);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, displays[i]);
    json_builder_set_member_name (b, "ok");
    json_builder_add_boolean_value (b, dpy != NULL);
    if (dpy) {
      int w = DisplayWidth (dpy, DefaultScreen (dpy));
      int h = DisplayHeight (dpy, DefaultScreen (dpy));
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, w);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, h);
      if (!json)
        g_print ("  %-12s %dx%d\n", displays[i], w, h);
      XCloseDisplay (dpy);
    } else {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, "cannot open the display");
      if (!json)
        g_print ("  %-12s cannot open the display\n", displays[i]);
    }
    json_builder_end_object (b);
  }
  if (!json && !displays[0])
    g_print ("  none (set [agent] displays, --display or DISPLAY)\n");
  json_builder_end_array (b);

  json_builder_set_member_name (b, "encoders");
  json_builder_begin_array (b);
  if (!json)
    g_print ("encoders (hardware first):\n");
  for (guint i = 0; i < encoders->len; i++) {
    WrEncoderProbeResult *r = g_ptr_array_index (encoders, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, r->encoder);
    json_builder_set_member_name (b, "codec");
    json_builder_add_string_value (b, wr_codec_name (r->codec));
    json_builder_set_member_name (b, "hardware");
    json_builder_add_boolean_value (b, r->hardware);
    json_builder_set_member_name (b, "present");
    json_builder_add_boolean_value (b, r->present);
    json_builder_set_member_name (b, "usable");
    json_builder_add_boolean_value (b, r->status == WR_ENCODER_OK);
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, wr_encoder_status_name (r->status));
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, r->reason);
    json_builder_set_member_name (b, "frames");
    json_builder_add_int_value (b, r->frames);
    json_builder_set_member_name (b, "elapsed_ms");
    json_builder_add_int_value (b, r->elapsed_ms);
    json_builder_end_object (b);
    if (json)
      continue;
    if (r->status == WR_ENCODER_OK)
      g_print ("  %-13s %-4s %-8s usable (%u frames in %" G_GINT64_FORMAT
          " ms)\n", r->encoder, wr_codec_name (r->codec),
          r->hardware ? "hardware" : "software", r->frames, r->elapsed_ms);
    else
      g_print ("  %-13s %-4s %-8s skipped: %s\n", r->encoder,
          wr_codec_name (r->codec), r->hardware ? "hardware" : "software",
          r->reason);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "profiles_file");
  if (file)
    json_builder_add_string_value (b, file);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "profiles");
  json_builder_begin_array (b);
  if (!json)
    g_print ("profiles (%s):\n", file ? file : "built in");
  for (guint i = 0; set && i < set->profiles->len; i++) {
    WrProfile *p = g_ptr_array_index (set->profiles, i);
    const char *enc = wr_profile_choose_encoder (p, NULL);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, p->name);
    json_builder_set_member_name (b, "encoder");
    if (enc)
      json_builder_add_string_value (b, enc);
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);
    if (!json)
      g_print ("  %-13s %s\n", p->name, enc ? enc : "no usable encoder");
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  if (json) {
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autofree char *text = NULL;

    json_generator_set_pretty (gen, TRUE);
    json_generator_set_root (gen, root);
    text = json_generator_to_data (gen, NULL);
    g_print ("%s\n", text);
  }
  return 0;
}

/* The active profile: [agent] profiles (or the shipped file, or the
 * built-in profile when there is none), [agent] profile, the [video]
 * overrides; then the first of its encoders that passes a test encode. */
static WrProfile *
load_active_profile (const char *file, const char *name,
    const WrAgentConfig *cfg, char **encoder, GError **error)
{
  g_autoptr (WrProfileSet) set = NULL;
  g_autoptr (WrProfile) profile = NULL;
  g_autoptr (GPtrArray) tried = NULL;
  const char *chosen;

  if (file) {
    WrProfile *found;
    set = wr_profile_set_load (file, error);
    if (!set)
      return NULL;
    found = wr_profile_set_lookup (set, name);
    if (!found) {
      g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
          "%s: no [profile %s] ([agent] profile, --profile)", file, name);
      return NULL;
    }
    profile = wr_profile_copy (found);
  } else if (g_str_equal (name, WR_PROFILE_DEFAULT_NAME)) {
    profile = wr_profile_new_builtin ();
  } else {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        "profile '%s': no profiles file (set [agent] profiles)", name);
    return NULL;
  }
  if (cfg->framerate_set)
    profile->framerate = cfg->framerate;
  if (cfg->bitrate_set) {
    profile->bitrate_kbps = cfg->bitrate_kbps;
    profile->min_bitrate_kbps = MIN (profile->min_bitrate_kbps,
        cfg->bitrate_kbps);
    profile->max_bitrate_kbps = MAX (profile->max_bitrate_kbps,
        cfg->bitrate_kbps);
  }

  chosen = wr_profile_choose_encoder (profile, &tried);
  for (guint i = 0; i < tried->len; i++) {
    WrEncoderProbeResult *r = g_ptr_array_index (tried, i);
    if (r->status != WR_ENCODER_OK)
      g_message ("profile %s: skipping %s: %s", profile->name, r->encoder,
          r->reason);
  }
  if (!chosen) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        "%s:%d: [profile %s] encoders: no usable encoder on this host "
        "(see webremote-agent --probe)", file ? file : "(built in)",
        profile->line, profile->name);
    return NULL;
  }
  *encoder = g_strdup (chosen);
  return g_steal_pointer (&profile);
}

/* SIGHUP: read the profiles file again. A file that does not check keeps
 * the profile in use; new pipelines use the new profile, and running ones
 * switch to their profile's new settings live (session-manager.c). */
static gboolean
on_reload (gpointer user_data)
{
  WrAgent *agent = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *encoder = NULL;
  g_autoptr (WrProfile) profile = NULL;

  g_message ("SIGHUP: reloading profiles from %s",
      agent->profiles_file ? agent->profiles_file : "(built in)");
  profile = load_active_profile (agent->profiles_file, agent->profile_name,
      agent->config, &encoder, &error);
  if (!profile) {
    g_warning ("profiles not reloaded, keeping the old ones:\n%s",
        error->message);
    return G_SOURCE_CONTINUE;
  }
  wr_display_pipeline_set_default_profile (profile, encoder);
  g_message ("profile %s: %s (new capture pipelines; running ones switch "
      "live)", profile->name, encoder);
  if (agent->manager)
    wr_session_manager_reload_profiles (agent->manager);
  return G_SOURCE_CONTINUE;
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
  g_autofree char *opt_check_profiles = NULL;
  g_autofree char *opt_profiles = NULL;
  g_autofree char *opt_profile = NULL;
  gboolean opt_probe = FALSE;
  gboolean opt_json = FALSE;
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
    { "profiles", 0, 0, G_OPTION_ARG_FILENAME, &opt_profiles,
      "Pipeline profiles file (default: the shipped profiles.conf)",
      "FILE" },
    { "profile", 0, 0, G_OPTION_ARG_STRING, &opt_profile,
      "Profile to stream with (default " WR_PROFILE_DEFAULT_NAME ")",
      "NAME" },
    { "check-profiles", 0, 0, G_OPTION_ARG_FILENAME, &opt_check_profiles,
      "Check a profiles file on this host and exit (1 on problems)",
      "FILE" },
    { "probe", 0, 0, G_OPTION_ARG_NONE, &opt_probe,
      "List displays and usable encoders (test encodes) and exit", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
      "With --probe: print JSON", NULL },
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
  if (opt_check_profiles)
    return check_profiles (opt_check_profiles);
  if (opt_probe)
    return probe (opt_config, opt_displays, opt_profiles, opt_json);

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
  override (&cfg->profiles_file, opt_profiles);
  override (&cfg->profile, opt_profile);
  agent.profiles_file = cfg->profiles_file ? g_strdup (cfg->profiles_file)
      : wr_profile_set_find_default_file ();
  agent.profile_name = g_strdup (cfg->profile ? cfg->profile
      : WR_PROFILE_DEFAULT_NAME);
  agent.config = cfg;
  {
    g_autofree char *encoder = NULL;
    g_autoptr (WrProfile) profile = load_active_profile (agent.profiles_file,
        agent.profile_name, cfg, &encoder, &error);
    if (!profile)
      die_config (error->message);
    /* The profile's display stands in when nothing else names one. */
    if (profile->display && (!cfg->displays || !cfg->displays[0])
        && !g_getenv ("DISPLAY")) {
      g_strfreev (cfg->displays);
      cfg->displays = g_strsplit (profile->display, ";", 2);
    }
    wr_display_pipeline_set_default_profile (profile, encoder);
    g_message ("profile %s from %s: %s", profile->name,
        agent.profiles_file ? agent.profiles_file : "(built in)", encoder);
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
  g_unix_signal_add (SIGHUP, on_reload, &agent);

  g_message ("agent %s (%s) for %s, trusting %s", cfg->id, cfg->name,
      cfg->gateway_url, cfg->fingerprint ? "the pinned certificate"
      : "the CA file");
  wr_gateway_link_start (agent.link);
  g_main_loop_run (agent.loop);

  wr_session_manager_end_all (agent.manager, FALSE, "agent shutting down");
  g_clear_object (&agent.manager);
  g_clear_object (&agent.link);
  g_main_loop_unref (agent.loop);
  wr_display_pipeline_set_default_profile (NULL, NULL);
  g_free (agent.profiles_file);
  g_free (agent.profile_name);
  gst_deinit ();
  return 0;
}
