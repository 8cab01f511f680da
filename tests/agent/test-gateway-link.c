/* Unit tests for agent/gateway-link.c against a TLS WebSocket server on
 * loopback: certificate pinning before any request, ping/pong, reconnect. */
#include "config.h"

#include "agent/gateway-link.h"

#include <glib/gstdio.h>
#include <string.h>
#include <libsoup/soup.h>

#include "common/pinned-tls-database.h"
#include "common/crypto.h"
#include "common/protocol.h"


typedef struct {
  char *dir;
  GTlsCertificate *cert;
  char *fingerprint;
  SoupServer *server;
  char *base_url;
  char *ws_url;

  guint requests;               /* HTTP requests the server read */
  char *last_auth;              /* its Authorization header */
  GTlsCertificate *client;      /* the agent's client certificate */
  GTlsCertificate *last_peer;   /* what the last connection showed */
  GPtrArray *connections;       /* server-side SoupWebsocketConnection */
  GPtrArray *received;          /* texts the server received */

  WrGatewayLink *link;
  guint connected;
  guint disconnected;
  GString *warnings;
} Fixture;

/* The fixture of the running test, for the log writer (which can only be
 * installed once per process). */
static Fixture *current;

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
    gpointer user_data)
{
  Fixture *f = current;

  if (f && (level & G_LOG_LEVEL_WARNING)) {
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE")) {
        g_string_append (f->warnings, fields[i].value);
        g_string_append_c (f->warnings, '\n');
      }
    return G_LOG_WRITER_HANDLED;
  }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
on_request_read (SoupServer *server, SoupServerMessage *msg,
    gpointer user_data)
{
  Fixture *f = user_data;

  f->requests++;
}

static void
on_ws_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes,
    gpointer user_data)
{
  Fixture *f = user_data;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_ptr_array_add (f->received, g_strndup (data, len));
}

static void
ws_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *conn, gpointer user_data)
{
  Fixture *f = user_data;

  g_free (f->last_auth);
  f->last_auth = g_strdup (soup_message_headers_get_one (
          soup_server_message_get_request_headers (msg), "Authorization"));
  g_clear_object (&f->last_peer);
  if (soup_server_message_get_tls_peer_certificate (msg))
    f->last_peer = g_object_ref (
        soup_server_message_get_tls_peer_certificate (msg));
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), f);
  g_ptr_array_add (f->connections, g_object_ref (conn));
}

/* Like the gateway: a client certificate is asked for, and any is taken
 * here (the test checks it is the agent's). */
static gboolean
accept_any (SoupServerMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg,
    gpointer user_data)
{
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any),
      NULL);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *crt = NULL, *key = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSList) uris = NULL;
  g_autofree char *uri = NULL;

  f->warnings = g_string_new (NULL);
  current = f;
  f->dir = g_dir_make_tmp ("wr-link-XXXXXX", NULL);
  crt = g_build_filename (f->dir, "gw.crt", NULL);
  key = g_build_filename (f->dir, "gw.key", NULL);
  g_assert_true (wr_self_signed_certificate_create (crt, key, NULL, &error));
  f->cert = g_tls_certificate_new_from_files (crt, key, &error);
  g_assert_no_error (error);
  g_assert_true (wr_self_signed_certificate_create (crt, key, NULL, &error));
  f->client = g_tls_certificate_new_from_files (crt, key, &error);
  g_assert_no_error (error);
  g_unlink (crt);
  g_unlink (key);
  g_rmdir (f->dir);
  f->fingerprint = wr_certificate_fingerprint (f->cert);

  f->connections = g_ptr_array_new_with_free_func (g_object_unref);
  f->received = g_ptr_array_new_with_free_func (g_free);
  f->server = soup_server_new ("tls-certificate", f->cert,
      "tls-auth-mode", G_TLS_AUTHENTICATION_REQUESTED, NULL);
  g_signal_connect (f->server, "request-started",
      G_CALLBACK (on_request_started), NULL);
  g_signal_connect (f->server, "request-read",
      G_CALLBACK (on_request_read), f);
  soup_server_add_websocket_handler (f->server, "/ws/agent", NULL, NULL,
      ws_handler, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_HTTPS
      | SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->base_url = g_strdup_printf ("https://127.0.0.1:%d",
      g_uri_get_port (uris->data));
  f->ws_url = g_strdup_printf ("wss://127.0.0.1:%d/ws/agent",
      g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  gint64 until;

  g_clear_object (&f->link);
  /* Let the link's cancelled connection attempts finish first: the server
   * closes its TLS connections synchronously, and one still waiting for
   * this (same-thread) client would wait for ever. */
  until = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_ptr_array_unref (f->connections);
  g_ptr_array_unref (f->received);
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_clear_object (&f->cert);
  g_clear_object (&f->client);
  g_clear_object (&f->last_peer);
  g_free (f->fingerprint);
  g_free (f->last_auth);
  g_free (f->base_url);
  g_free (f->ws_url);
  g_free (f->dir);
  g_string_free (f->warnings, TRUE);
  current = NULL;
}

static void
on_connected (WrGatewayLink *link, gpointer user_data)
{
  ((Fixture *) user_data)->connected++;
}

static void
on_disconnected (WrGatewayLink *link, gpointer user_data)
{
  ((Fixture *) user_data)->disconnected++;
}

static void
start_link (Fixture *f, const char *pin)
{
  g_autoptr (GTlsDatabase) db = wr_pinned_tls_database_new (pin, NULL);

  f->link = wr_gateway_link_new (f->base_url, f->ws_url, db, 50, 100);
  wr_gateway_link_set_client_certificate (f->link, f->client);
  g_signal_connect (f->link, "connected", G_CALLBACK (on_connected), f);
  g_signal_connect (f->link, "disconnected", G_CALLBACK (on_disconnected),
      f);
  wr_gateway_link_start (f->link);
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until *counter >= n or @ms pass. */
static gboolean
wait_for (guint *counter, guint n, guint ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  while (*counter < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *counter >= n;
}

static void
run_for (guint ms)
{
  guint never = 0;

  wait_for (&never, 1, ms);
}

static void
test_wrong_pin_sends_nothing (Fixture *f, gconstpointer data)
{
  g_autofree char *wrong = g_strdup (f->fingerprint);
  g_autofree char *expected = NULL;

  /* Same length, one digit off. */
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  start_link (f, wrong);
  run_for (1000);

  /* It kept trying (backoff 50..100 ms) but never got as far as HTTP: the
   * agent never showed its certificate. */
  g_assert_cmpuint (f->requests, ==, 0);
  g_assert_null (f->last_peer);
  g_assert_cmpuint (f->connected, ==, 0);
  expected = g_strdup_printf ("gateway certificate fingerprint %s does not "
      "match the pinned %s", f->fingerprint, wrong);
  g_assert_nonnull (strstr (f->warnings->str, expected));
}

static void
test_pinned_gateway_gets_the_certificate (Fixture *f, gconstpointer data)
{
  guint n;

  start_link (f, f->fingerprint);
  g_assert_true (wait_for (&f->connected, 1, 5000));
  g_assert_true (wr_gateway_link_is_connected (f->link));
  /* mTLS: the enrolled certificate is the credential, no bearer token */
  g_assert_nonnull (f->last_peer);
  g_assert_true (g_tls_certificate_is_same (f->last_peer, f->client));
  g_assert_null (f->last_auth);

  /* A ping is answered with a pong. */
  n = f->received->len;
  soup_websocket_connection_send_text (f->connections->pdata[0],
      "{\"v\":1,\"type\":\"ping\"}");
  g_assert_true (wait_for (&f->received->len, n + 1, 5000));
  g_assert_nonnull (strstr (f->received->pdata[n], "\"pong\""));

  /* Invalid messages are logged and ignored; the link stays up. */
  soup_websocket_connection_send_text (f->connections->pdata[0],
      "{\"v\":1,\"type\":\"session.start\"}");
  run_for (200);
  g_assert_true (wr_gateway_link_is_connected (f->link));
  g_assert_nonnull (strstr (f->warnings->str, "field 'sid' is required"));
}

static void
test_reconnects_when_the_gateway_goes_away (Fixture *f, gconstpointer data)
{
  start_link (f, f->fingerprint);
  g_assert_true (wait_for (&f->connected, 1, 5000));

  soup_websocket_connection_close (f->connections->pdata[0],
      SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "restart");
  g_assert_true (wait_for (&f->disconnected, 1, 5000));
  /* Backoff 50..100 ms: back well within a second. */
  g_assert_true (wait_for (&f->connected, 2, 2000));
  g_assert_cmpuint (f->connections->len, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The link logs refusals as warnings; the tests assert on them. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (log_writer, NULL, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/agent/gateway-link/wrong-pin-is-refused-before-the-token-is-sent",
      test_wrong_pin_sends_nothing);
  ADD ("/agent/gateway-link/pinned-gateway-gets-the-certificate-and-pongs",
      test_pinned_gateway_gets_the_certificate);
  ADD ("/agent/gateway-link/reconnects-when-the-gateway-goes-away",
      test_reconnects_when_the_gateway_goes_away);
#undef ADD

  return g_test_run ();
}
