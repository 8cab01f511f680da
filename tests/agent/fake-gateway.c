/* A fake gateway for agent tests (see fake-gateway.h). */
#include "config.h"

#include "fake-gateway.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/autocleanups.h"
#include "common/crypto.h"
#include "common/grant.h"
#include "common/protocol.h"

static void
on_ws_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes,
    gpointer user_data)
{
  WrFakeGateway *f = user_data;
  g_autoptr (GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonObject *msg;

  msg = wr_message_parse (data, len, WR_CHANNEL_AGENT_TO_GATEWAY, NULL,
      &error);
  if (!msg) {
    g_printerr ("# the agent sent an invalid message: %s: %.*s\n",
        error->message, (int) MIN (len, 200), data);
    f->invalid++;
    return;
  }
  g_queue_push_tail (&f->received, msg);
}

static gboolean
accept_any_client_certificate (SoupServerMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg,
    gpointer user_data)
{
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (accept_any_client_certificate), NULL);
}

static void
ws_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *conn, gpointer user_data)
{
  WrFakeGateway *f = user_data;
  GTlsCertificate *peer = soup_server_message_get_tls_peer_certificate (msg);
  const char *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");

  /* Like the real gateway: the agent is known by its client certificate
   * (issued by our test CA) alone; it has no token to send. */
  if (!peer || g_tls_certificate_verify (peer, NULL, f->client_ca) != 0
      || auth) {
    g_printerr ("# refused the agent: %s\n", !peer ? "no client certificate"
        : auth ? "it sent an Authorization header"
        : "its certificate is not from the test CA");
    f->refused++;
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "unauthorized");
    return;
  }
  g_clear_object (&f->ws);
  f->ws = g_object_ref (conn);
  /* Command output can be large; no limit from libsoup's default. */
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), f);
}

void
wr_fake_gateway_send (WrFakeGateway *f, JsonBuilder *b)
{
  g_autofree char *text = wr_message_builder_finish (b);

  soup_websocket_connection_send_text (f->ws, text);
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
wr_fake_gateway_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

JsonObject *
wr_fake_gateway_take (WrFakeGateway *f, const char *type, const char *sid,
    guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;) {
    for (GList *l = f->received.head; l; l = l->next) {
      JsonObject *m = l->data;
      if (g_str_equal (wr_message_get_type (m), type)
          && (!sid || g_strcmp0 (wr_message_get_string (m, "sid"),
                  sid) == 0)) {
        g_queue_delete_link (&f->received, l);
        return m;
      }
    }
    if (g_get_monotonic_time () >= deadline)
      return NULL;
    wr_fake_gateway_run_for (10);
  }
}

static void
child_setup (gpointer data)
{
  setpgid (0, 0);
  /* Should the test die, its children go with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
start_xvfb (WrFakeGateway *f)
{
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOChannel) ch = NULL;
  g_autofree char *line = NULL;
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_subprocess_launcher_take_fd (l, fds[1], 3);
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  f->xvfb = g_subprocess_launcher_spawn (l, &error, "Xvfb", "-displayfd",
      "3", "-screen", "0", "640x480x24", "-nolisten", "tcp", NULL);
  g_assert_no_error (error);
  ch = g_io_channel_unix_new (fds[0]);
  g_io_channel_set_close_on_unref (ch, TRUE);
  g_io_channel_read_line (ch, &line, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  f->display = g_strdup_printf (":%d", atoi (line));
}

/* A certificate for @cn with @pub, signed by @ca_key (self-signed when
 * @issuer is NULL, then a CA); valid from an hour ago for a day. */
static X509 *
make_cert (const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ca_key)
{
  X509 *x = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  X509V3_CTX ctx;
  X509_EXTENSION *ext;

  g_assert_nonnull (x);
  X509_set_version (x, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (x), (long) g_random_int_range (1,
          G_MAXINT32));
  X509_gmtime_adj (X509_getm_notBefore (x), -3600);
  X509_gmtime_adj (X509_getm_notAfter (x), 24 * 3600);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8,
      (const unsigned char *) cn, -1, -1, 0);
  X509_set_subject_name (x, name);
  X509_set_issuer_name (x, issuer ? X509_get_subject_name (issuer) : name);
  X509_NAME_free (name);
  X509_set_pubkey (x, pub);
  X509V3_set_ctx (&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_basic_constraints,
      issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
  X509_add_ext (x, ext, -1);
  X509_EXTENSION_free (ext);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_key_usage, issuer
      ? "critical,digitalSignature" : "critical,keyCertSign,cRLSign");
  X509_add_ext (x, ext, -1);
  X509_EXTENSION_free (ext);
  if (issuer) {
    ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_ext_key_usage, "clientAuth");
    X509_add_ext (x, ext, -1);
    X509_EXTENSION_free (ext);
  }
  g_assert_cmpint (X509_sign (x, ca_key, EVP_sha256 ()), >, 0);
  return x;
}

static char *
cert_pem (X509 *x)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long len;
  char *pem;

  g_assert_cmpint (PEM_write_bio_X509 (bio, x), ==, 1);
  len = BIO_get_mem_data (bio, &data);
  pem = g_strndup (data, (gsize) len);
  BIO_free (bio);
  return pem;
}

static char *
key_pem (EVP_PKEY *key)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long len;
  char *pem;

  g_assert_cmpint (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL,
          NULL), ==, 1);
  len = BIO_get_mem_data (bio, &data);
  pem = g_strndup (data, (gsize) len);
  BIO_free (bio);
  return pem;
}

static void
write_state_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
      0600, &error);
  g_assert_no_error (error);
}

/* What `webremote-agent enroll` leaves behind (agent/agent-config.h): a key,
 * a client certificate for the agent id from a test CA, the CA and the id.
 * The gateway URL, pin and grant key come from the command line. Also
 * writes the CA for the server's client-certificate check. */
static char *
make_agent_state (WrFakeGateway *f)
{
  char *state = g_build_filename (f->dir, "agent-state", NULL);
  g_autofree char *ca_file = g_build_filename (f->dir, "client-ca.crt", NULL);
  EVP_PKEY *ca_key = EVP_EC_gen ("P-256");
  EVP_PKEY *agent_key = EVP_EC_gen ("P-256");
  X509 *ca;
  X509 *cert;
  g_autofree char *ca_text = NULL;
  g_autofree char *cert_text = NULL;
  g_autofree char *key_text = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (ca_key);
  g_assert_nonnull (agent_key);
  g_assert_cmpint (g_mkdir_with_parents (state, 0700), ==, 0);
  ca = make_cert ("fake gateway test CA", ca_key, NULL, ca_key);
  cert = make_cert (f->agent_id, agent_key, ca, ca_key);
  ca_text = cert_pem (ca);
  cert_text = cert_pem (cert);
  key_text = key_pem (agent_key);
  write_state_file (state, "agent.key", key_text);
  write_state_file (state, "agent.crt", cert_text);
  write_state_file (state, "ca.crt", ca_text);
  write_state_file (state, "agent.id", f->agent_id);
  g_assert_true (g_file_set_contents (ca_file, ca_text, -1, NULL));
  f->client_ca = g_tls_certificate_new_from_pem (ca_text, -1, &error);
  g_assert_no_error (error);
  f->client_ca_file = g_steal_pointer (&ca_file);
  X509_free (cert);
  X509_free (ca);
  EVP_PKEY_free (agent_key);
  EVP_PKEY_free (ca_key);
  return state;
}

static void
start_agent (WrFakeGateway *f, const char *conf_text, const char *grant_key)
{
  const char *build = g_getenv ("WR_BUILD_ROOT");
  g_autofree char *bin = g_build_filename (build ? build : ".", "agent",
      "webremote-agent", NULL);
  g_autofree char *conf = g_build_filename (f->dir, "agent.conf", NULL);
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (conf, conf_text, -1, NULL));
  f->agent_log = g_build_filename (f->dir, "agent.log", NULL);
  g_subprocess_launcher_set_stderr_file_path (l, f->agent_log);
  g_subprocess_launcher_set_stdout_file_path (l, "/dev/null");
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  f->agent = g_subprocess_launcher_spawn (l, &error, bin,
      "--config", conf, "--gateway", f->base_url,
      "--fingerprint", f->fingerprint, "--grant-key", grant_key,
      "--state-dir", f->agent_state, "--display", f->display,
      "--ice-address", "127.0.0.1", NULL);
  g_assert_no_error (error);
}

char *
wr_fake_gateway_agent_log (WrFakeGateway *f)
{
  char *text = NULL;

  if (!g_file_get_contents (f->agent_log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

void
wr_fake_gateway_setup (WrFakeGateway *f, const char *agent_id,
    const char *conf)
{
  g_autofree char *crt = NULL, *key = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSList) uris = NULL;
  g_autoptr (JsonObject) hello = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  JsonArray *displays;

  /* A watchdog: fail rather than hang (children die with us). */
  alarm (50);
  g_queue_init (&f->received);
  f->agent_id = g_strdup (agent_id);
  if (!f->dir)
    f->dir = g_dir_make_tmp ("wr-fake-gw-XXXXXX", NULL);
  crt = g_build_filename (f->dir, "gw.crt", NULL);
  key = g_build_filename (f->dir, "gw.key", NULL);
  g_assert_true (wr_self_signed_certificate_create (crt, key, NULL, &error));
  f->cert = g_tls_certificate_new_from_files (crt, key, &error);
  g_assert_no_error (error);
  f->fingerprint = wr_certificate_fingerprint (f->cert);

  f->agent_state = make_agent_state (f);
  /* mTLS as the real gateway (server.c): a client certificate is asked
   * for, the TLS layer takes any, and ws_handler accepts only one from the
   * test CA */
  f->server = soup_server_new ("tls-certificate", f->cert,
      "tls-auth-mode", G_TLS_AUTHENTICATION_REQUESTED, NULL);
  g_signal_connect (f->server, "request-started",
      G_CALLBACK (on_request_started), NULL);
  soup_server_add_websocket_handler (f->server, "/ws/agent", NULL, NULL,
      ws_handler, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_HTTPS
      | SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->base_url = g_strdup_printf ("https://127.0.0.1:%d",
      g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  f->key = wr_grant_key_generate (&error);
  g_assert_no_error (error);
  f->other = wr_grant_key_generate (&error);
  g_assert_no_error (error);
  line = wr_grant_public_key_to_string (f->key);

  start_xvfb (f);
  start_agent (f, conf, line);

  hello = wr_fake_gateway_take (f, "agent.hello", NULL, 15000);
  if (!hello) {
    g_autofree char *log = wr_fake_gateway_agent_log (f);
    g_error ("no agent.hello within 15 s; agent log:\n%s", log);
  }
  displays = json_object_get_array_member (hello, "displays");
  g_assert_cmpuint (json_array_get_length (displays), ==, 1);
  f->first_display = g_strdup (json_object_get_string_member (
          json_array_get_object_element (displays, 0), "name"));
  b = wr_message_new ("agent.welcome");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, "test");
  wr_fake_gateway_send (f, b);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR)
          && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  }
  g_rmdir (path);
}

void
wr_fake_gateway_teardown (WrFakeGateway *f)
{
  if (f->agent) {
    g_subprocess_send_signal (f->agent, SIGKILL);
    g_subprocess_wait (f->agent, NULL, NULL);
  }
  if (f->xvfb) {
    g_subprocess_send_signal (f->xvfb, SIGKILL);
    g_subprocess_wait (f->xvfb, NULL, NULL);
  }
  g_clear_object (&f->agent);
  g_clear_object (&f->xvfb);
  g_clear_object (&f->ws);
  if (f->server)
    soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_clear_object (&f->cert);
  g_clear_object (&f->client_ca);
  g_queue_clear_full (&f->received, (GDestroyNotify) json_object_unref);
  EVP_PKEY_free (f->key);
  EVP_PKEY_free (f->other);
  if (f->dir && !g_getenv ("WR_KEEP_TMP"))
    remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->fingerprint);
  g_free (f->client_ca_file);
  g_free (f->agent_state);
  g_free (f->base_url);
  g_free (f->display);
  g_free (f->agent_id);
  g_free (f->agent_log);
  g_free (f->first_display);
  memset (f, 0, sizeof *f);
  alarm (0);
}

char *
wr_fake_gateway_grant (WrFakeGateway *f, EVP_PKEY *key, const char *sid,
    const char *const *scopes)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  WrGrant g = {
    .sid = (char *) sid, .user = (char *) "alice",
    .agent = f->agent_id, .display = f->first_display,
    .scopes = (GStrv) scopes, .iat = now, .exp = now + 120,
  };
  g_autoptr (GError) error = NULL;
  char *token = wr_grant_sign (key, &g, &error);

  g_assert_no_error (error);
  return token;
}

void
wr_fake_gateway_start_session (WrFakeGateway *f, const char *sid,
    const char *grant)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.start");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, f->first_display);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, "alice");
  json_builder_set_member_name (b, "scopes");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "view");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ice_servers");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "grant");
  json_builder_add_string_value (b, grant);
  wr_fake_gateway_send (f, b);
}
