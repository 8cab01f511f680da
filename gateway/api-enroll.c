/* webremote: POST /api/v1/enroll (an agent trades a single-use token and a
 * CSR for a client certificate) and DELETE /api/v1/agents/ID. */
#include "config.h"

#include <string.h>

#include "common/crypto.h"
#include "common/json-builder.h"
#include "gateway/api-routes.h"
#include "gateway/enroll.h"

#define ENROLL_ADDRESS_PREFIX "enroll:"

/* Failed enrollments count per client address, apart from failed logins
 * (the same window and maximum, [auth] address-*). */
static void
record_failure (WrGateway *gw, const char *key)
{
  g_autoptr (GError) error = NULL;
  guint failures = 0;

  if (!wr_store_address_record_failure (gw->store, key,
          g_get_real_time () / G_USEC_PER_SEC, gw->config->address_window,
          &failures, &error))
    g_warning ("cannot count a failed enrollment: %s", error->message);
}

void
wr_api_enroll (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree char *key = g_strconcat (ENROLL_ADDRESS_PREFIX,
      call->client_address ? call->client_address : "", NULL);
  g_autofree char *agent_id = NULL;
  g_autofree char *token_hash = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *actor = NULL;
  const char *token = NULL;
  const char *csr = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 not_after = 0;
  guint failures = 0;

  if (!gw->ca) {
    wr_api_call_error (call, 503, "unavailable", "enrollment is not set up");
    return;
  }
  if (!wr_store_address_failures (gw->store, key, now,
          gw->config->address_window, &failures, &error)) {
    wr_api_call_error (call, 503, "unavailable",
        "the service is temporarily unavailable");
    return;
  }
  if (failures >= (guint) gw->config->address_max) {
    wr_api_call_error (call, 429, "rate_limited",
        "too many failed enrollments from this address; try again later");
    return;
  }
  body = wr_api_call_read_object (call);
  if (!body
      || !wr_api_get_string (call, body, "token", TRUE, 256, &token)
      || !wr_api_get_string (call, body, "csr", TRUE, WR_CA_MAX_CSR, &csr))
    return;
  if (!(agent_id = wr_ca_csr_agent_id (csr, &error))) {
    wr_api_call_error (call, 400, "bad_request", error->message);
    return;
  }
  cert = wr_ca_sign_csr (gw->ca, csr, agent_id,
      wr_gateway_config_agent_cert_lifetime (gw->config), &serial, &not_after, &error);
  if (!cert) {
    g_warning ("cannot sign a certificate for agent %s: %s", agent_id,
        error->message);
    wr_api_call_error (call, 500, "internal", "internal error");
    return;
  }
  token_hash = wr_sha256_hex (token, strlen (token));
  actor = g_strconcat ("agent:", agent_id, NULL);
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_agent_enroll (gw->store, token_hash, agent_id, serial,
          not_after, now, &error)) {
    wr_api_tx_rollback (gw);
    /* a refused attempt is audited too; the row's failure is a 503 */
    if ((g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND)
            || g_error_matches (error, WR_STORE_ERROR,
                WR_STORE_ERROR_CONFLICT))
        && !wr_api_audit (gw, call, "agent.enroll", WR_AUDIT_DENIED, actor,
            agent_id, wr_audit_detail ("reason", error->message, NULL)))
      return;
    if (g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND)) {
      record_failure (gw, key);
      g_message ("refused an enrollment of agent %s from %s: %s", agent_id,
          call->client_address, error->message);
      wr_api_call_error (call, 401, "unauthorized", error->message);
    } else if (g_error_matches (error, WR_STORE_ERROR,
            WR_STORE_ERROR_CONFLICT)) {
      record_failure (gw, key);
      g_message ("refused an enrollment from %s: %s", call->client_address,
          error->message);
      wr_api_call_error (call, 409, "conflict", error->message);
    } else {
      wr_api_store_error (call, error);
    }
    return;
  }
  {
    g_autoptr (WrStoredAgent) agent = wr_store_agent_get (gw->store,
        agent_id, NULL);
    g_autoptr (GError) audit_error = NULL;
    WrAuditEvent event = {
      .type = "agent.enroll", .outcome = WR_AUDIT_OK, .actor = actor,
      .agent = agent_id, .address = call->client_address,
    };
    g_autoptr (JsonObject) detail = wr_audit_detail ("serial", serial,
        "group", agent ? agent->group_name : NULL, NULL);

    json_object_set_int_member (detail, "not_after", not_after);
    if (gw->audit && !wr_audit_append (gw->audit, &event, detail, NULL,
            &audit_error)) {
      wr_api_tx_rollback (gw);
      g_warning ("enrollment of agent %s refused: the audit log cannot be "
          "written: %s", agent_id, audit_error->message);
      wr_api_call_error (call, 503, "unavailable",
          "the audit log cannot be written; nothing was changed");
      return;
    }
    if (!wr_api_tx_commit (gw, call))
      return;
  }
  g_message ("enrolled agent %s from %s (certificate serial %s)", agent_id,
      call->client_address, serial);

  b = json_builder_new ();
  json_builder_begin_object (b);
  wr_json_add_string (b, "agent_id", agent_id);
  wr_json_add_string (b, "certificate", cert);
  wr_json_add_string (b, "ca_certificate", wr_ca_get_certificate_pem (gw->ca));
  wr_json_add_string (b, "grant_key",
      wr_grant_signer_get_public_key (gw->grant_signer));
  wr_json_add_int (b, "not_after", not_after);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_agent_delete (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;

  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_agent_delete (gw->store, call->arg, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "agent.revoke", call->arg,
          wr_audit_detail ("action", "delete", NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s deleted the agent %s", call->user->name, call->arg);
  wr_api_call_respond (call, 204, NULL);
}

/* Main context: the deleted agent's certificate is refused from now on,
 * and its live connection goes too. */
void
wr_api_agent_delete_apply (WrGateway *gw, WrApiCall *call)
{
  wr_enroll_close_agent (gw, call->arg, "deleted");
}
