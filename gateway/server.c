/* webremote: the HTTPS server: routes, WebSocket upgrades, listening. */
#include "config.h"

#include "gateway/server.h"

#include <string.h>
#include <netinet/in.h>

#include "common/crypto.h"
#include "common/protocol.h"
#include "gateway/api.h"
#include "gateway/api-recordings.h"
#include "gateway/connection.h"
#include "gateway/enroll.h"
#include "gateway/http-response.h"
#include "gateway/static-files.h"
#include "gateway/store-recording.h"

#define PRINCIPAL_KEY "wr-principal"
#define AGENT_ID_KEY "wr-agent-id"
#define RECORDER_KEY "wr-recorder"
#define BEARER_PROTOCOL_PREFIX "bearer."

static const char *const client_protocols[] = { "webremote.v1", NULL };

/* Browsers cannot set headers on a WebSocket, so they offer the token as a
 * second subprotocol, `bearer.TOKEN` (docs/protocol.md). */
static char *
token_from_protocols (SoupServerMessage *msg)
{
  const char *header = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Sec-WebSocket-Protocol");
  g_auto (GStrv) items = NULL;

  if (!header)
    return NULL;
  items = g_strsplit (header, ",", 32);
  for (int i = 0; items[i]; i++) {
    const char *item = g_strstrip (items[i]);
    if (g_str_has_prefix (item, BEARER_PROTOCOL_PREFIX)
        && item[strlen (BEARER_PROTOCOL_PREFIX)])
      return g_strdup (item + strlen (BEARER_PROTOCOL_PREFIX));
  }
  return NULL;
}

static void
refuse (SoupServerMessage *msg, guint status, const char *code,
    const char *message)
{
  if (status == SOUP_STATUS_UNAUTHORIZED)
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "WWW-Authenticate",
        "Bearer realm=\"webremote\"");
  wr_http_respond_error (msg, status, code, message);
}

/* Runs after the headers, before any body is read or any handler runs:
 * bounds request bodies, and authenticates WebSocket upgrades so that an
 * unauthenticated caller gets a plain 401 and never a WebSocket. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  WrGateway *gw = user_data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (h);

  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CHUNKED
      || length > WR_HTTP_MAX_BODY)
    soup_message_body_set_accumulate (
        soup_server_message_get_request_body (msg), FALSE);
  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CHUNKED) {
    refuse (msg, SOUP_STATUS_LENGTH_REQUIRED, "length_required",
        "send a Content-Length");
    return;
  }
  if (length > WR_HTTP_MAX_BODY) {
    refuse (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
        "the request body is too large");
    return;
  }

  if (g_str_equal (path, "/ws/client")) {
    g_autofree char *proto_token = token_from_protocols (msg);
    const char *token = wr_http_get_bearer (msg);
    g_autoptr (GError) error = NULL;
    /* One indexed store lookup on the main loop, at upgrade time only;
     * API calls authenticate in worker threads (api.c). */
    WrPrincipal *user = wr_auth_authenticate_token (gw->auth,
        token ? token : proto_token, &error);
    if (error) {
      refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
          "the service is temporarily unavailable");
      return;
    }
    if (!user) {
      refuse (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", "log in first");
      return;
    }
    g_object_set_data_full (G_OBJECT (msg), PRINCIPAL_KEY, user,
        (GDestroyNotify) wr_principal_free);
  } else if (g_str_equal (path, "/ws/agent")) {
    g_autoptr (GError) error = NULL;
    GTlsCertificate *peer = soup_server_message_get_tls_peer_certificate (msg);
    g_autofree char *serial = NULL;
    char *agent_id;

    /* An agent is known by the client certificate it got at enrollment,
     * which names it; there is no other agent credential. */
    if (peer) {
      agent_id = wr_enroll_authenticate_peer (gw, peer, &serial, &error);
      if (agent_id)
        wr_enroll_remember (agent_id, serial);
    } else {
      agent_id = NULL;
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
          "no client certificate: agents connect with the certificate "
          "they got from webremote-agent enroll");
    }
    if (!agent_id) {
      g_message ("refused an agent from %s: %s",
          soup_server_message_get_remote_host (msg), error->message);
      refuse (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", error->message);
      return;
    }
    g_object_set_data_full (G_OBJECT (msg), AGENT_ID_KEY, agent_id, g_free);
  } else if (g_str_equal (path, "/ws/recorder")) {
    /* A recorder shows its bearer token (webremotectl recorder add, or
     * the local recorder's per-start token); never a WebSocket without. */
    const char *token = wr_http_get_bearer (msg);
    g_autoptr (WrStoredRecorder) rec = NULL;
    g_autoptr (GError) error = NULL;
    char *name = NULL;

    if (token && gw->recorders
        && wr_recorder_hub_is_local_token (gw->recorders, token)) {
      name = g_strdup (WR_RECORDER_LOCAL_NAME);
    } else if (token && gw->recorders) {
      g_autofree char *hash = wr_sha256_hex (token, strlen (token));
      rec = wr_store_recorder_authenticate (gw->store, hash, &error);
      if (!rec && !g_error_matches (error, WR_STORE_ERROR,
              WR_STORE_ERROR_NOT_FOUND)) {
        refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
            "the service is temporarily unavailable");
        return;
      }
      if (rec)
        name = g_strdup (rec->name);
    }
    if (!name) {
      g_message ("refused a recorder from %s: %s",
          soup_server_message_get_remote_host (msg),
          token ? "unknown or revoked token" : "no token");
      refuse (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
          "a recorder needs its token");
      return;
    }
    g_object_set_data_full (G_OBJECT (msg), RECORDER_KEY, name, g_free);
  }
}

static void
on_client_ws (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer user_data)
{
  WrGateway *gw = user_data;
  const WrPrincipal *user = g_object_get_data (G_OBJECT (msg), PRINCIPAL_KEY);
  g_autoptr (WrConnection) conn = NULL;

  if (!user) {
    /* the early handler always sets it; refuse rather than trust */
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "unauthorized");
    return;
  }
  conn = wr_connection_new (ws, WR_CHANNEL_CLIENT_TO_GATEWAY,
      soup_server_message_get_remote_host (msg));
  wr_connection_set_principal (conn, user);
  wr_signaling_add_client (gw->signaling, conn);
}

static void
on_agent_ws (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer user_data)
{
  WrGateway *gw = user_data;
  const char *bound = g_object_get_data (G_OBJECT (msg), AGENT_ID_KEY);
  g_autoptr (WrConnection) conn = NULL;

  if (!bound) {
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "unauthorized");
    return;
  }
  conn = wr_connection_new (ws, WR_CHANNEL_AGENT_TO_GATEWAY,
      soup_server_message_get_remote_host (msg));
  wr_signaling_add_agent (gw->signaling, conn, bound);
}

static void
on_recorder_ws (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer user_data)
{
  WrGateway *gw = user_data;
  const char *name = g_object_get_data (G_OBJECT (msg), RECORDER_KEY);
  g_autoptr (WrConnection) conn = NULL;

  if (!name || !gw->recorders) {
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "unauthorized");
    return;
  }
  conn = wr_connection_new (ws, WR_CHANNEL_RECORDER_TO_GATEWAY,
      soup_server_message_get_remote_host (msg));
  wr_signaling_add_recorder (gw->signaling, conn, name);
}

/* A non-upgrade request to a WebSocket path, or a failed handshake. */
static void
ws_plain_handler (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  wr_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
      "this endpoint only accepts WebSocket upgrades");
}

static void
healthz_handler (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  wr_http_set_security_headers (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC,
      "ok\n", 3);
}

/* The TLS layer would refuse any client certificate its (empty) database
 * cannot verify and drop the connection without a word; it takes them all
 * instead, and the early handler checks the one that matters, against our
 * CA, with a clear 401 when it is refused. */
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

SoupServer *
wr_server_new (WrGateway *gw, GTlsCertificate *cert)
{
  static const char *const paths[] = {
    NULL, "/api/v1", "/api/v1/agent/renew", "/healthz", "/ws", "/ws/client",
    "/ws/agent", "/ws/recorder", "/api/v1/media"
  };
  /* Client certificates are asked for, never required: browsers have
   * none. Whoever shows one is checked against
   * our agent CA in the early handler (enroll.c); the TLS layer accepts
   * any, so a bad one gets a clear 401 rather than a failed handshake. */
  SoupServer *server = soup_server_new ("tls-certificate", cert,
      "tls-auth-mode", G_TLS_AUTHENTICATION_REQUESTED,
      "server-header", "webremote", "raw-paths", TRUE, NULL);

  /* libsoup keeps one handler record per path and runs the early callback
   * of the most specific one only, so each path needs it. */
  g_signal_connect (server, "request-started",
      G_CALLBACK (on_request_started), NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    soup_server_add_early_handler (server, paths[i], early_handler, gw, NULL);
  soup_server_add_handler (server, "/api/v1", wr_api_handle, gw, NULL);
  soup_server_add_handler (server, "/api/v1/agent/renew",
      wr_enroll_renew_handler, gw, NULL);
  soup_server_add_handler (server, "/healthz", healthz_handler, gw, NULL);
  soup_server_add_handler (server, "/ws", ws_plain_handler, gw, NULL);
  soup_server_add_websocket_handler (server, "/ws/client", NULL,
      (char **) client_protocols, on_client_ws, gw, NULL);
  soup_server_add_websocket_handler (server, "/ws/agent", NULL, NULL,
      on_agent_ws, gw, NULL);
  soup_server_add_websocket_handler (server, "/ws/recorder", NULL, NULL,
      on_recorder_ws, gw, NULL);
  /* Signed media links: streamed with HTTP Range (api-recordings.c). */
  soup_server_add_handler (server, "/api/v1/media", wr_api_media_handle, gw,
      NULL);
  soup_server_add_handler (server, NULL, wr_static_files_handle,
      gw->config->web_root, NULL);
  return server;
}

gboolean
wr_server_listen (SoupServer *server, const char *address, guint16 port,
    int backlog, guint16 *bound_port, GError **error)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr (GSocketAddress) sockaddr = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) socket = NULL;

  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "listen address '%s' is not an IP address", address);
    return FALSE;
  }
  sockaddr = g_inet_socket_address_new (inet, port);
  socket = g_socket_new (g_inet_address_get_family (inet),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!socket)
    return FALSE;
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);
  if (!g_socket_bind (socket, sockaddr, TRUE, error))
    return FALSE;
  g_socket_set_listen_backlog (socket, backlog);
  if (!g_socket_listen (socket, error))
    return FALSE;
  if (!soup_server_listen_socket (server, socket, SOUP_SERVER_LISTEN_HTTPS,
          error))
    return FALSE;

  local = g_socket_get_local_address (socket, error);
  if (!local)
    return FALSE;
  *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  return TRUE;
}
