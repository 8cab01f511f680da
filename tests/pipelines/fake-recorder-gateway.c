/* Recorder tests: a fake gateway for the real webremote-recorder binary. */
#include "config.h"

#include "fake-recorder-gateway.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "common/crypto.h"
#include "common/protocol.h"

static void
on_ws_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes,
    gpointer user_data)
{
  WrFakeRecorderGateway *f = user_data;
  g_autoptr (GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonObject *msg;

  msg = wr_message_parse (data, len, WR_CHANNEL_RECORDER_TO_GATEWAY, NULL,
      &error);
  if (!msg) {
    g_printerr ("# the recorder sent an invalid message: %s: %.*s\n",
        error->message, (int) MIN (len, 200), data);
    f->invalid++;
    return;
  }
  g_queue_push_tail (&f->received, msg);
}

static void
on_ws_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  WrFakeRecorderGateway *f = user_data;

  if (conn == f->ws)
    f->ws_closed = TRUE;
}

static void
ws_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *conn, gpointer user_data)
{
  WrFakeRecorderGateway *f = user_data;

  f->upgrades++;
  if (f->ws) {
    g_signal_handlers_disconnect_by_data (f->ws, f);
    g_clear_object (&f->ws);
  }
  f->ws = g_object_ref (conn);
  f->ws_closed = FALSE;
  soup_websocket_connection_set_max_incoming_payload_size (conn, 1 << 20);
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), f);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), f);
}

/* Before the upgrade: only the right bearer token gets through. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  WrFakeRecorderGateway *f = user_data;
  const char *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  g_autofree char *want = g_strdup_printf ("Bearer %s", f->token);

  if (!auth || !wr_constant_time_equal (auth, want)) {
    f->refused++;
    soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
  }
}

void
wr_fake_recorder_gateway_start (WrFakeRecorderGateway *f, const char *token)
{
  g_autofree char *crt = NULL, *key = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSList) uris = NULL;

  g_queue_init (&f->received);
  f->token = g_strdup (token);
  f->dir = g_dir_make_tmp ("wr-fake-rgw-XXXXXX", NULL);
  f->rec_dir = g_build_filename (f->dir, "rec", NULL);
  crt = g_build_filename (f->dir, "gw.crt", NULL);
  key = g_build_filename (f->dir, "gw.key", NULL);
  g_assert_true (wr_self_signed_certificate_create (crt, key, NULL, &error));
  f->cert = g_tls_certificate_new_from_files (crt, key, &error);
  g_assert_no_error (error);
  f->fingerprint = wr_certificate_fingerprint (f->cert);
  f->server = soup_server_new ("tls-certificate", f->cert, NULL);
  soup_server_add_early_handler (f->server, "/ws/recorder", early_handler,
      f, NULL);
  soup_server_add_websocket_handler (f->server, "/ws/recorder", NULL, NULL,
      ws_handler, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_HTTPS
      | SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->base_url = g_strdup_printf ("https://127.0.0.1:%d",
      g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
}

static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
wr_fake_recorder_gateway_spawn (WrFakeRecorderGateway *f, const char *token,
    ...)
{
  g_autoptr (GSubprocessLauncher) l = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *bin = g_build_filename (g_getenv ("WR_BUILD_ROOT"),
      "pipelines", "webremote-recorder", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *input = g_strdup_printf ("%s\n", token);
  GOutputStream *in;
  va_list ap;
  const char *arg;

  f->recorder_log = g_build_filename (f->dir, "recorder.log", NULL);
  g_ptr_array_add (argv, bin);
  g_ptr_array_add (argv, (gpointer) "--gateway");
  g_ptr_array_add (argv, f->base_url);
  g_ptr_array_add (argv, (gpointer) "--ca-fingerprint");
  g_ptr_array_add (argv, f->fingerprint);
  g_ptr_array_add (argv, (gpointer) "--token-stdin");
  g_ptr_array_add (argv, (gpointer) "--dir");
  g_ptr_array_add (argv, f->rec_dir);
  g_ptr_array_add (argv, (gpointer) "--ice-address");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1");
  g_ptr_array_add (argv, (gpointer) "--reconnect-min-ms");
  g_ptr_array_add (argv, (gpointer) "100");
  g_ptr_array_add (argv, (gpointer) "--reconnect-max-ms");
  g_ptr_array_add (argv, (gpointer) "400");
  va_start (ap, token);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_stderr_file_path (l, f->recorder_log);
  g_subprocess_launcher_set_stdout_file_path (l, "/dev/null");
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  g_subprocess_launcher_setenv (l, "G_MESSAGES_DEBUG", "", TRUE);
  f->recorder = g_subprocess_launcher_spawnv (l,
      (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  in = g_subprocess_get_stdin_pipe (f->recorder);
  g_assert_true (g_output_stream_write_all (in, input, strlen (input), NULL,
          NULL, &error));
  g_output_stream_close (in, NULL, NULL);
}

void
wr_fake_recorder_gateway_handshake (WrFakeRecorderGateway *f)
{
  g_autoptr (JsonObject) hello = wr_fake_recorder_gateway_take (f,
      "recorder.hello", NULL, 15000);
  g_autoptr (JsonBuilder) b = NULL;

  if (!hello) {
    g_autofree char *log = wr_fake_recorder_gateway_log (f);
    g_error ("no recorder.hello within 15 s; recorder log:\n%s", log);
  }
  b = wr_message_new ("recorder.welcome");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, json_object_get_string_member (hello,
          "name"));
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, WR_VERSION);
  wr_fake_recorder_gateway_send (f, b);
}

void
wr_fake_recorder_gateway_send_text (WrFakeRecorderGateway *f,
    const char *text)
{
  g_assert_nonnull (f->ws);
  soup_websocket_connection_send_text (f->ws, text);
}

void
wr_fake_recorder_gateway_send (WrFakeRecorderGateway *f, JsonBuilder *b)
{
  g_autofree char *text = wr_message_builder_finish (b);

  wr_fake_recorder_gateway_send_text (f, text);
}

void
wr_fake_recorder_gateway_run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
}

JsonObject *
wr_fake_recorder_gateway_take (WrFakeRecorderGateway *f, const char *type,
    const char *sid, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;) {
    for (GList *l = f->received.head; l; l = l->next) {
      JsonObject *m = l->data;
      if (type && g_strcmp0 (wr_message_get_type (m), type) != 0)
        continue;
      if (sid && g_strcmp0 (json_object_get_string_member_with_default (m,
                  "sid", NULL), sid) != 0)
        continue;
      g_queue_delete_link (&f->received, l);
      return m;
    }
    if (g_get_monotonic_time () >= end)
      return NULL;
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
  }
}

char *
wr_fake_recorder_gateway_log (WrFakeRecorderGateway *f)
{
  char *text = NULL;

  if (!f->recorder_log
      || !g_file_get_contents (f->recorder_log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

void
wr_fake_recorder_gateway_stop (WrFakeRecorderGateway *f)
{
  if (f->recorder) {
    g_subprocess_force_exit (f->recorder);
    g_subprocess_wait (f->recorder, NULL, NULL);
    g_clear_object (&f->recorder);
  }
  if (f->ws) {
    g_signal_handlers_disconnect_by_data (f->ws, f);
    g_clear_object (&f->ws);
  }
  if (f->server) {
    soup_server_disconnect (f->server);
    g_clear_object (&f->server);
  }
  g_queue_clear_full (&f->received, (GDestroyNotify) json_object_unref);
  g_clear_object (&f->cert);
  if (f->dir) {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);
    if (system (cmd) != 0)
      g_printerr ("# cannot remove %s\n", f->dir);
  }
  g_free (f->dir);
  g_free (f->rec_dir);
  g_free (f->fingerprint);
  g_free (f->base_url);
  g_free (f->token);
  g_free (f->recorder_log);
  memset (f, 0, sizeof *f);
}
