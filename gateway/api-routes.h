/* webremote: the handlers behind the REST API route table (api.c).
 *
 * A handler runs in a worker thread on a WrApiCall (api-call.h) and may use
 * the store, the authenticator and the OIDC provider, never the main
 * loop's objects; a route's optional prepare step runs on the main context
 * before it and copies what the handler needs of the live state.
 */
#pragma once

#include "gateway/api-call.h"
#include "gateway/gateway.h"

G_BEGIN_DECLS

typedef void (*WrApiHandler) (WrGateway *gw, WrApiCall *call);

/* api-auth.c: signing in and out, refresh, SSO */
void wr_api_login (WrGateway *gw, WrApiCall *call);
void wr_api_logout (WrGateway *gw, WrApiCall *call);
void wr_api_refresh (WrGateway *gw, WrApiCall *call);
void wr_api_sso_info (WrGateway *gw, WrApiCall *call);
void wr_api_sso_start (WrGateway *gw, WrApiCall *call);
void wr_api_sso_callback (WrGateway *gw, WrApiCall *call);

/* api-account.c: the caller's own account */
void wr_api_me (WrGateway *gw, WrApiCall *call);
void wr_api_me_password (WrGateway *gw, WrApiCall *call);
void wr_api_me_totp_setup (WrGateway *gw, WrApiCall *call);
void wr_api_me_totp_enable (WrGateway *gw, WrApiCall *call);
void wr_api_me_totp_disable (WrGateway *gw, WrApiCall *call);
void wr_api_me_tokens_list (WrGateway *gw, WrApiCall *call);
void wr_api_me_tokens_create (WrGateway *gw, WrApiCall *call);
void wr_api_me_tokens_revoke (WrGateway *gw, WrApiCall *call);

/* api-agents.c: machines and live sessions, filtered by permission */
void wr_api_agents_prepare (WrGateway *gw, WrApiCall *call);
void wr_api_agents_list (WrGateway *gw, WrApiCall *call);
void wr_api_agents_get (WrGateway *gw, WrApiCall *call);
void wr_api_sessions_prepare (WrGateway *gw, WrApiCall *call);
void wr_api_sessions_list (WrGateway *gw, WrApiCall *call);

/* api-admin.c: users, roles, groups, grants (permission admin) */
void wr_api_users_list (WrGateway *gw, WrApiCall *call);
void wr_api_users_create (WrGateway *gw, WrApiCall *call);
void wr_api_users_update (WrGateway *gw, WrApiCall *call);
void wr_api_users_delete (WrGateway *gw, WrApiCall *call);
void wr_api_roles_list (WrGateway *gw, WrApiCall *call);
void wr_api_roles_create (WrGateway *gw, WrApiCall *call);
void wr_api_roles_update (WrGateway *gw, WrApiCall *call);
void wr_api_roles_delete (WrGateway *gw, WrApiCall *call);
void wr_api_groups_list (WrGateway *gw, WrApiCall *call);
void wr_api_groups_create (WrGateway *gw, WrApiCall *call);
void wr_api_groups_update (WrGateway *gw, WrApiCall *call);
void wr_api_groups_delete (WrGateway *gw, WrApiCall *call);
void wr_api_agent_set_group (WrGateway *gw, WrApiCall *call);
void wr_api_grants_list (WrGateway *gw, WrApiCall *call);
void wr_api_grants_create (WrGateway *gw, WrApiCall *call);
void wr_api_grants_delete (WrGateway *gw, WrApiCall *call);
/* main context, after a user was disabled or deleted: ends their sessions */
void wr_api_users_apply (WrGateway *gw, WrApiCall *call);

/* api-enroll.c: agent enrollment and removal */
void wr_api_enroll (WrGateway *gw, WrApiCall *call);
void wr_api_agent_delete (WrGateway *gw, WrApiCall *call);
void wr_api_agent_delete_apply (WrGateway *gw, WrApiCall *call);

/* api-audit.c: the audit log (permission audit; each read is audited) */
void wr_api_audit_list (WrGateway *gw, WrApiCall *call);
void wr_api_audit_export (WrGateway *gw, WrApiCall *call);

/* api-recordings.c: recordings (permission audit; delete: admin) */
void wr_api_recordings_list (WrGateway *gw, WrApiCall *call);
void wr_api_recordings_get (WrGateway *gw, WrApiCall *call);
void wr_api_recordings_hold (WrGateway *gw, WrApiCall *call);
void wr_api_recordings_delete (WrGateway *gw, WrApiCall *call);

/* Shared by the handlers: maps a store or auth failure to a response
 * (404 / 409 / 400 / 500) without internal detail. */
void wr_api_store_error (WrApiCall *call, const GError *error);

/* JSON for a user as /me and the admin API show it. */
JsonNode *wr_api_user_json (const WrPrincipal *principal);

/* Audit of API actions (api-account.c; docs/compliance.md). A mutation
 * and its audit rows are one store transaction, so that when the row
 * cannot be written nothing changes (fail closed):
 *
 *   if (!wr_api_tx_begin (gw, call)) return;
 *   if (!wr_store_... (...)) { wr_api_tx_rollback (gw); error; return; }
 *   if (!wr_api_tx_audit (gw, call, "role.create", NULL, detail)
 *       || !wr_api_tx_commit (gw, call)) return;
 *
 * wr_api_tx_begin() sets a 500 response when it fails. wr_api_tx_audit()
 * appends one row (actor: the caller, address: the caller's) and, when
 * that fails, rolls back and sets 503 `unavailable`; so does
 * wr_api_tx_commit() when the commit fails. @detail: (transfer full)
 * (nullable): flat, never a secret. */
gboolean wr_api_tx_begin (WrGateway *gw, WrApiCall *call);
gboolean wr_api_tx_audit (WrGateway *gw, WrApiCall *call, const char *type,
    const char *agent, JsonObject *detail);
gboolean wr_api_tx_commit (WrGateway *gw, WrApiCall *call);
void wr_api_tx_rollback (WrGateway *gw);

/* One audit row outside a mutation (e.g. a refused attempt): %FALSE with
 * 503 `unavailable` set when it cannot be written. @actor: (nullable):
 * the caller by default. @detail: (transfer full) (nullable). */
gboolean wr_api_audit (WrGateway *gw, WrApiCall *call, const char *type,
    WrAuditOutcome outcome, const char *actor, const char *agent,
    JsonObject *detail);

/* A new detail object of string members: key, value, ..., %NULL (a %NULL
 * value is left out). */
JsonObject *wr_audit_detail (const char *first_key, ...)
    G_GNUC_NULL_TERMINATED;

G_END_DECLS
