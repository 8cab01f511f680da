/* webremote: agents authenticated by their enrolled client certificate. */
#include "config.h"

#include "gateway/enroll.h"

#include "common/crypto.h"
#include "gateway/http-response.h"

char *
wr_enroll_authenticate_peer (WrGateway *gw, GTlsCertificate *peer,
    char **serial_out, GError **error)
{
  g_autofree char *pem = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *id = NULL;
  g_autoptr (WrAgentCert) current = NULL;
  g_autoptr (GError) local = NULL;

  if (!gw->ca) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
        "client certificates are not accepted");
    return NULL;
  }
  g_object_get (peer, "certificate-pem", &pem, NULL);
  if (!pem || !(id = wr_ca_verify_client (gw->ca, pem, &serial, error)))
    return NULL;
  current = wr_store_agent_get_cert (gw->store, id, &local);
  if (!current) {
    if (g_error_matches (local, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND))
      g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
          "agent '%s' was deleted", id);
    else
      g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }
  if (current->revoked) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
        "agent '%s' is revoked", id);
    return NULL;
  }
  if (!current->serial || g_strcmp0 (current->serial, serial) != 0) {
    g_set_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED,
        "the certificate of agent '%s' is not its current one", id);
    return NULL;
  }
  if (serial_out)
    *serial_out = g_steal_pointer (&serial);
  return g_steal_pointer (&id);
}

void
wr_enroll_close_agent (WrGateway *gw, const char *id, const char *reason)
{
  WrAgentRecord *record = wr_agent_registry_lookup (gw->registry, id);

  if (record && record->conn) {
    g_message ("closing the connection of agent %s: %s", id, reason);
    wr_connection_close (record->conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        reason);
  }
}

/* The online agents that came in with a certificate, id -> serial. */
static GHashTable *
cert_agents (void)
{
  static GHashTable *table;

  if (!table)
    table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return table;
}

void
wr_enroll_remember (const char *id, const char *serial)
{
  g_hash_table_replace (cert_agents (), g_strdup (id), g_strdup (serial));
}

static gboolean
check_revocations (gpointer data)
{
  WrGateway *gw = data;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, cert_agents ());
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    const char *id = key;
    WrAgentRecord *record = wr_agent_registry_lookup (gw->registry, id);
    g_autoptr (WrAgentCert) current = NULL;
    g_autoptr (GError) error = NULL;

    /* kept while offline too (one entry per enrolled agent at most): it may
     * be between its upgrade and its agent.hello */
    if (!record || !record->conn)
      continue;
    current = wr_store_agent_get_cert (gw->store, id, &error);
    if (!current && !g_error_matches (error, WR_STORE_ERROR,
            WR_STORE_ERROR_NOT_FOUND))
      continue; /* the store is down: decide next time */
    if (!current || current->revoked) {
      wr_enroll_close_agent (gw, id, current ? "revoked" : "deleted");
      g_hash_table_iter_remove (&iter);
    }
  }
  return G_SOURCE_CONTINUE;
}

void
wr_enroll_watch_revocations (WrGateway *gw, guint interval_seconds)
{
  g_timeout_add_seconds (interval_seconds, check_revocations, gw);
}

/* Inside the renewal's transaction: its audit row, then the commit; on
 * failure nothing is renewed. */
static gboolean
audit_renewal (WrGateway *gw, SoupServerMessage *msg, const char *id,
    const char *old_serial, const char *new_serial, gint64 not_after)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *actor = g_strconcat ("agent:", id, NULL);
  g_autoptr (JsonObject) detail = json_object_new ();
  WrAuditEvent event = {
    .type = "agent.renew", .outcome = WR_AUDIT_OK, .actor = actor,
    .agent = id, .address = soup_server_message_get_remote_host (msg),
  };

  json_object_set_string_member (detail, "serial", new_serial);
  json_object_set_string_member (detail, "old_serial", old_serial);
  json_object_set_int_member (detail, "not_after", not_after);
  if (gw->audit && !wr_audit_append (gw->audit, &event, detail, NULL,
          &error)) {
    g_debug ("audit: %s", error->message);
    wr_store_rollback (gw->store);
    return FALSE;
  }
  if (!wr_store_commit (gw->store, &error)) {
    g_debug ("audit: %s", error->message);
    return FALSE;
  }
  return TRUE;
}

/* POST /api/v1/agent/renew {"csr"} with the current client certificate:
 * a new certificate for the same agent, the old one stops being current.
 * The agent's WebSocket stays up (it was authenticated at upgrade). */
void
wr_enroll_renew_handler (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  WrGateway *gw = user_data;
  GTlsCertificate *peer = soup_server_message_get_tls_peer_certificate (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *id = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *csr_id = NULL;
  g_autofree char *new_serial = NULL;
  g_autofree char *cert = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  JsonObject *obj;
  const char *csr;
  gint64 not_after = 0;
  gconstpointer data;
  gsize len;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST")) {
    wr_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "method_not_allowed", "method not allowed");
    return;
  }
  if (!peer || !(id = wr_enroll_authenticate_peer (gw, peer, &serial,
              &error))) {
    g_message ("refused a certificate renewal from %s: %s",
        soup_server_message_get_remote_host (msg),
        error ? error->message : "no client certificate");
    wr_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
        error ? error->message : "present the agent's client certificate");
    return;
  }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &len);
  if (len == 0 || len > WR_CA_MAX_CSR + 1024
      || !json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    wr_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
        "send a JSON object {\"csr\": PEM}");
    return;
  }
  obj = json_node_get_object (json_parser_get_root (parser));
  csr = json_object_has_member (obj, "csr")
      && json_node_get_value_type (json_object_get_member (obj, "csr"))
      == G_TYPE_STRING
      ? json_object_get_string_member (obj, "csr") : NULL;
  if (!csr || !(csr_id = wr_ca_csr_agent_id (csr, &error))) {
    wr_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
        error ? error->message : "csr is required");
    return;
  }
  if (!g_str_equal (csr_id, id)) {
    wr_http_respond_error (msg, SOUP_STATUS_CONFLICT, "conflict",
        "the csr must name the agent of the client certificate");
    return;
  }
  cert = wr_ca_sign_csr (gw->ca, csr, id,
      wr_gateway_config_agent_cert_lifetime (gw->config), &new_serial, &not_after, &error);
  if (cert && !wr_store_begin (gw->store, &error))
    g_clear_pointer (&cert, g_free);
  else if (cert && !wr_store_agent_renew_cert (gw->store, id, serial,
          new_serial, not_after, &error)) {
    wr_store_rollback (gw->store);
    g_clear_pointer (&cert, g_free);
  }
  if (cert && !audit_renewal (gw, msg, id, serial, new_serial, not_after)) {
    g_warning ("refused to renew the certificate of agent %s: the audit log "
        "cannot be written", id);
    wr_http_respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", "the audit log cannot be written; nothing was "
        "changed");
    return;
  }
  if (!cert) {
    g_warning ("cannot renew the certificate of agent %s: %s", id,
        error->message);
    wr_http_respond_error (msg, g_error_matches (error, WR_STORE_ERROR,
            WR_STORE_ERROR_CONFLICT) ? SOUP_STATUS_CONFLICT
        : SOUP_STATUS_INTERNAL_SERVER_ERROR, g_error_matches (error,
            WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT) ? "conflict" : "internal",
        g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT)
        ? error->message : "internal error");
    return;
  }
  wr_enroll_remember (id, new_serial);
  g_message ("renewed the certificate of agent %s (serial %s)", id,
      new_serial);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "agent_id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "certificate");
  json_builder_add_string_value (b, cert);
  json_builder_set_member_name (b, "ca_certificate");
  json_builder_add_string_value (b, wr_ca_get_certificate_pem (gw->ca));
  json_builder_set_member_name (b, "not_after");
  json_builder_add_int_value (b, not_after);
  json_builder_end_object (b);
  wr_http_respond_json (msg, SOUP_STATUS_OK, json_builder_get_root (b));
}
