/* webremote-gateway: HTTPS/WSS front door, REST API, signaling relay. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "common/crypto.h"
#include "gateway/auth-store.h"
#include "gateway/enroll.h"
#include "gateway/sso.h"
#include "gateway/gateway.h"
#include "gateway/server.h"
#include "gateway/tls-identity.h"
#include "gateway/recorder-spawn.h"
#include "gateway/retention.h"

/* Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage. */
#define EXIT_CONFIG 2

static char *opt_config;
static char *opt_listen;
static int opt_port = -1;
static char *opt_state_dir;
static char *opt_web_root;
static char *opt_tls_certificate;
static char *opt_tls_key;
static gboolean opt_print_fingerprint;
static gboolean opt_print_grant_key;
static gboolean opt_version;

static const GOptionEntry entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
    "Configuration file (default " WR_GATEWAY_DEFAULT_CONFIG ")", "FILE" },
  { "listen", 0, 0, G_OPTION_ARG_STRING, &opt_listen,
    "Address to listen on", "ADDR" },
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
    "Port to listen on (0 picks one)", "PORT" },
  { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
    "Directory for the certificate and other state", "DIR" },
  { "web-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_web_root,
    "Directory of the built web client", "DIR" },
  { "tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_certificate,
    "TLS certificate (PEM)", "FILE" },
  { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_key,
    "TLS private key (PEM)", "FILE" },
  { "print-fingerprint", 0, 0, G_OPTION_ARG_NONE, &opt_print_fingerprint,
    "Print the TLS certificate's SHA-256 fingerprint and exit", NULL },
  { "print-grant-key", 0, 0, G_OPTION_ARG_NONE, &opt_print_grant_key,
    "Print the public key agents verify session grants with "
    "(ed25519:BASE64) and exit", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { NULL }
};

static void
override (char **field, const char *value)
{
  if (value) {
    g_free (*field);
    *field = g_strdup (value);
  }
}

/* The store: PostgreSQL when [store] url says so, else SQLite in the state
 * directory. */
static WrStore *
open_store (const WrGatewayConfig *config, GError **error)
{
  g_autofree char *path = NULL;

  if (config->store_url && *config->store_url)
    return wr_store_open (config->store_url, error);
  path = g_build_filename (config->state_dir, "webremote.db", NULL);
  return wr_store_open (path, error);
}

/* The key-encryption keys for secrets at rest: [secrets] kek-file, else
 * WEBREMOTE_KEK, else a key file made in the state directory (fine for one
 * box; a fleet points kek-file at a secret mounted from elsewhere). */
static WrKeyring *
open_keyring (const WrGatewayConfig *config, GError **error)
{
  g_autofree char *path = NULL;

  if (config->kek_file && *config->kek_file)
    return wr_keyring_load (config->kek_file, error);
  if (g_getenv ("WEBREMOTE_KEK"))
    return wr_keyring_load (NULL, error);
  path = g_build_filename (config->state_dir, "kek", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS)
      && !wr_keyring_create_file (path, "k1", error))
    return NULL;
  return wr_keyring_load (path, error);
}

static WrSso *
open_sso (const WrGatewayConfig *config, GError **error)
{
  g_autoptr (GTlsDatabase) ca = NULL;
  g_autofree char *secret = NULL;
  WrOidcProvider *provider;
  WrOidcConfig oc = { 0 };
  WrSso *sso;

  if (!config->oidc_issuer || !*config->oidc_issuer)
    return NULL;
  if (!config->oidc_client_id || !config->oidc_redirect_uri) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "[oidc] needs client-id and redirect-uri with issuer");
    return NULL;
  }
  if (config->oidc_client_secret_file) {
    if (!g_file_get_contents (config->oidc_client_secret_file, &secret, NULL,
            error))
      return NULL;
    g_strstrip (secret);
  }
  if (config->oidc_ca_file
      && !(ca = g_tls_file_database_new (config->oidc_ca_file, error)))
    return NULL;
  oc.issuer = config->oidc_issuer;
  oc.client_id = config->oidc_client_id;
  oc.client_secret = secret;
  oc.redirect_uri = config->oidc_redirect_uri;
  oc.scopes = config->oidc_scopes;
  oc.groups_claim = config->oidc_groups_claim;
  oc.username_claim = config->oidc_username_claim;
  provider = wr_oidc_provider_new (&oc, ca, error);
  if (!provider)
    return NULL;
  sso = wr_sso_new (provider, config->oidc_label);
  wr_oidc_provider_unref (provider);
  return sso;
}

/* Expired tokens and finished rate-limit windows, every ten minutes. */
static gboolean
purge_expired (gpointer data)
{
  WrGateway *gw = data;
  g_autoptr (GError) error = NULL;

  if (!wr_store_purge_expired (gw->store, g_get_real_time () / G_USEC_PER_SEC,
          gw->config->address_window, &error))
    g_warning ("cannot purge expired tokens: %s", error->message);
  return G_SOURCE_CONTINUE;
}

/* Audit checkpoints: every 5 s a worker thread signs the chain's head
 * when rows are older than [audit] checkpoint-seconds (a short store write,
 * kept off the main loop because another gateway may hold the lock). */
static gint audit_tick_running;

static void
audit_checkpoint_thread (GTask *task, gpointer source, gpointer data,
    GCancellable *cancellable)
{
  WrGateway *gw = data;
  g_autoptr (GError) error = NULL;

  if (!wr_audit_checkpoint_if_due (gw->audit, FALSE, &error))
    g_warning ("audit checkpoint: %s", error->message);
  g_atomic_int_set (&audit_tick_running, 0);
  g_task_return_boolean (task, TRUE);
}

static gboolean
audit_checkpoint_tick (gpointer data)
{
  g_autoptr (GTask) task = NULL;

  if (!g_atomic_int_compare_and_exchange (&audit_tick_running, 0, 1))
    return G_SOURCE_CONTINUE;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, data, NULL);
  g_task_run_in_thread (task, audit_checkpoint_thread);
  return G_SOURCE_CONTINUE;
}

/* Recording retention (retention.h): a worker thread every [recording]
 * retention-interval seconds. */
static gint retention_running;

static void
retention_thread (GTask *task, gpointer source, gpointer data,
    GCancellable *cancellable)
{
  WrGateway *gw = data;
  g_autoptr (GError) error = NULL;
  gint n = wr_retention_run (gw->store, gw->audit, gw->recording_dir,
      g_get_real_time () / 1000, &error);

  if (n < 0)
    g_warning ("retention: %s", error->message);
  else if (n > 0)
    g_message ("retention: deleted %d recording(s)", n);
  g_atomic_int_set (&retention_running, 0);
  g_task_return_boolean (task, TRUE);
}

static gboolean
retention_tick (gpointer data)
{
  g_autoptr (GTask) task = NULL;

  if (!g_atomic_int_compare_and_exchange (&retention_running, 0, 1))
    return G_SOURCE_CONTINUE;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, data, NULL);
  g_task_run_in_thread (task, retention_thread);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer loop)
{
  g_message ("shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGatewayConfig) config = NULL;
  g_autoptr (GTlsCertificate) cert = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *grant_key_path = NULL;
  g_autoptr (WrGrantSigner) signer = NULL;
  gboolean grant_key_created = FALSE;
  WrGateway gw = { 0 };
  WrRecorderSpawn *local_recorder = NULL;
  gboolean created = FALSE;
  guint16 port = 0;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- webremote gateway");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "webremote-gateway: %s\n", error->message);
    return EXIT_CONFIG;
  }
  if (opt_version) {
    printf ("webremote-gateway %s\n", WR_VERSION);
    return 0;
  }
  if (opt_port > 65535) {
    fprintf (stderr, "webremote-gateway: --port must be 0..65535\n");
    return EXIT_CONFIG;
  }

  config = wr_gateway_config_load (opt_config ? opt_config
      : WR_GATEWAY_DEFAULT_CONFIG, opt_config != NULL, &error);
  if (!config) {
    fprintf (stderr, "webremote-gateway: invalid configuration:\n%s\n",
        error->message);
    return EXIT_CONFIG;
  }
  override (&config->listen, opt_listen);
  override (&config->state_dir, opt_state_dir);
  override (&config->web_root, opt_web_root);
  override (&config->tls_certificate, opt_tls_certificate);
  override (&config->tls_key, opt_tls_key);
  if (opt_port >= 0)
    config->port = opt_port;

  if (g_mkdir_with_parents (config->state_dir, 0700) < 0) {
    fprintf (stderr, "webremote-gateway: cannot create the state directory "
        "%s: %s\n", config->state_dir, g_strerror (errno));
    return EXIT_FAILURE;
  }

  cert = wr_tls_identity_load (config->tls_certificate, config->tls_key,
      config->state_dir, &created, &error);
  if (!cert) {
    fprintf (stderr, "webremote-gateway: %s\n", error->message);
    return EXIT_CONFIG;
  }
  gw.fingerprint = wr_certificate_fingerprint (cert);

  grant_key_path = config->grant_signing_key && *config->grant_signing_key
      ? g_strdup (config->grant_signing_key)
      : g_build_filename (config->state_dir, WR_GRANT_KEY_FILE_NAME, NULL);
  signer = wr_grant_signer_new (grant_key_path, &grant_key_created, &error);
  if (!signer) {
    fprintf (stderr, "webremote-gateway: %s\n", error->message);
    g_free (gw.fingerprint);
    return EXIT_CONFIG;
  }

  if (opt_print_fingerprint || opt_print_grant_key) {
    if (opt_print_fingerprint)
      printf ("%s\n", gw.fingerprint);
    if (opt_print_grant_key)
      printf ("%s\n", wr_grant_signer_get_public_key (signer));
    g_free (gw.fingerprint);
    return 0;
  }
  if (created)
    g_message ("created a self-signed TLS certificate in %s/tls",
        config->state_dir);
  g_message ("TLS certificate fingerprint (SHA-256): %s", gw.fingerprint);
  if (grant_key_created)
    g_message ("created the session grant signing key %s", grant_key_path);
  /* The public half: agents need it (--grant-key); it is no secret. */
  g_message ("session grant key: %s",
      wr_grant_signer_get_public_key (signer));

  gw.config = config;
  gw.store = open_store (config, &error);
  if (!gw.store) {
    fprintf (stderr, "webremote-gateway: %s\n", error->message);
    return EXIT_FAILURE;
  }
  g_message ("store: %s, schema version %d",
      wr_store_get_backend_name (gw.store),
      wr_store_get_schema_version (gw.store));
  gw.audit = wr_audit_new (gw.store, signer,
      (guint) config->audit_checkpoint_rows,
      (guint) config->audit_checkpoint_seconds);
  gw.keyring = open_keyring (config, &error);
  if (!gw.keyring) {
    fprintf (stderr, "webremote-gateway: %s\n", error->message);
    return EXIT_CONFIG;
  }
  {
    g_autofree char *ca_dir = g_build_filename (config->state_dir, "ca", NULL);
    gboolean ca_created = FALSE;

    gw.ca = wr_ca_open (ca_dir, gw.keyring, &ca_created, &error);
    if (!gw.ca) {
      fprintf (stderr, "webremote-gateway: agent CA: %s\n", error->message);
      return EXIT_CONFIG;
    }
    if (ca_created)
      g_message ("created the agent CA in %s (key sealed under key %s)",
          ca_dir, wr_keyring_current_id (gw.keyring));
  }
  if (!wr_auth_bootstrap_admin (gw.store, gw.audit, config->admin_user,
          &error)) {
    fprintf (stderr, "webremote-gateway: cannot create the first account: "
        "%s\n", error->message);
    return EXIT_FAILURE;
  }
  gw.sso = open_sso (config, &error);
  if (!gw.sso && error) {
    fprintf (stderr, "webremote-gateway: single sign-on: %s\n",
        error->message);
    return EXIT_CONFIG;
  }
  {
    WrAuthPolicy policy;

    wr_auth_policy_init_defaults (&policy);
    policy.access_lifetime = config->token_lifetime;
    policy.refresh_lifetime = config->refresh_lifetime;
    policy.lockout_threshold = (guint) config->lockout_threshold;
    policy.lockout_seconds = config->lockout_seconds;
    policy.address_max = (guint) config->address_max;
    policy.address_window = config->address_window;
    gw.auth = WR_AUTH (wr_auth_store_new (gw.store, gw.keyring, &policy));
    wr_auth_store_set_audit (WR_AUTH_STORE (gw.auth), gw.audit);
  }
  g_timeout_add_seconds (600, purge_expired, &gw);
  g_timeout_add_seconds (5, audit_checkpoint_tick, &gw);
  gw.registry = wr_agent_registry_new ();
  gw.signaling = wr_signaling_new (gw.registry, gw.auth, gw.store);
  gw.grant_signer = signer;
  wr_signaling_set_grant_signer (gw.signaling, gw.grant_signer);
  wr_signaling_set_audit (gw.signaling, gw.audit);
  /* Recording (docs/compliance.md): recorders connect on /ws/recorder and
   * write under [recording] dir. */
  gw.recorders = wr_recorder_hub_new ();
  gw.recording_dir = config->recording_dir && *config->recording_dir
      ? g_strdup (config->recording_dir)
      : g_build_filename (config->state_dir, "recordings", NULL);
  if (g_mkdir_with_parents (gw.recording_dir, 0700) < 0)
    g_warning ("cannot create the recording directory %s: %s",
        gw.recording_dir, g_strerror (errno));
  wr_signaling_set_recording (gw.signaling, gw.recorders, gw.recording_dir,
      config->segment_seconds, config->recording_start_timeout);
  g_timeout_add_seconds ((guint) config->retention_interval, retention_tick,
      &gw);
  gw.server = wr_server_new (&gw, cert);
  wr_enroll_watch_revocations (&gw, 5);

  if (!wr_server_listen (gw.server, config->listen, (guint16) config->port,
          (int) config->listen_backlog, &port, &error)) {
    fprintf (stderr, "webremote-gateway: cannot listen on %s:%" G_GINT64_FORMAT
        ": %s\n", config->listen, config->port, error->message);
    return EXIT_FAILURE;
  }
  if (config->local_recorder) {
    g_autofree char *binary = wr_recorder_spawn_find_binary (
        config->recorder_binary);
    const char *host = g_str_equal (config->listen, "0.0.0.0")
        ? "127.0.0.1" : g_str_equal (config->listen, "::") ? "::1"
        : config->listen;
    g_autofree char *url = strchr (host, ':')
        ? g_strdup_printf ("https://[%s]:%u", host, port)
        : g_strdup_printf ("https://%s:%u", host, port);

    local_recorder = wr_recorder_spawn_start (binary, url, gw.fingerprint,
        gw.recording_dir, config->recording_ice_addresses,
        config->segment_seconds, gw.recorders);
  }
  printf ("webremote-gateway: listening on https://%s:%u\n",
      config->listen, port);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);

  soup_server_disconnect (gw.server);
  g_clear_pointer (&local_recorder, wr_recorder_spawn_free);
  g_clear_pointer (&gw.signaling, wr_signaling_free);
  g_clear_pointer (&gw.recorders, wr_recorder_hub_free);
  g_free (gw.recording_dir);
  g_clear_object (&gw.server);
  g_clear_pointer (&gw.registry, wr_agent_registry_free);
  g_clear_object (&gw.auth);
  g_clear_pointer (&gw.sso, wr_sso_free);
  g_clear_pointer (&gw.ca, wr_ca_free);
  g_clear_pointer (&gw.keyring, wr_keyring_free);
  {
    g_autoptr (GError) cp_error = NULL;

    while (g_atomic_int_get (&audit_tick_running))
      g_usleep (10000);
    /* Sign what this gateway wrote, so a clean stop leaves nothing
     * unanchored. */
    if (!wr_audit_checkpoint_if_due (gw.audit, TRUE, &cp_error))
      g_warning ("audit checkpoint: %s", cp_error->message);
  }
  g_clear_pointer (&gw.audit, wr_audit_free);
  g_clear_pointer (&gw.store, wr_store_close);
  g_free (gw.fingerprint);
  return 0;
}
