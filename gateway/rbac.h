/* webremote: what a user may do on an agent (role-based access control).
 *
 * Permissions come from grants (user or SSO group -> role, on one agent
 * group or on all), narrowed by the scopes of the token in use. The
 * gateway asks here before listing an agent, before granting a session
 * and before every administrative call; the agent then enforces the
 * session's scopes itself from its signed grant.
 */
#pragma once

#include "gateway/auth.h"
#include "gateway/store.h"

G_BEGIN_DECLS

/**
 * wr_rbac_agent_permissions:
 * @agent: (out) (optional) (transfer full): the agent's stored record
 *
 * Returns: %FALSE with @error when the store failed or the agent is not
 * known (WR_STORE_ERROR_NOT_FOUND); the caller fails closed.
 */
gboolean wr_rbac_agent_permissions (WrStore *store,
    const WrPrincipal *user, const char *agent_id, WrPermission *permissions,
    WrStoredAgent **agent, GError **error);

/**
 * wr_rbac_grant_scopes:
 * @requested: (nullable): the scopes a session asks for; %NULL means view
 *   and control
 * @unknown: (out) (optional) (transfer none): the first unknown scope name
 *
 * Returns: the intersection of @requested with @allowed; with an unknown
 * scope name in @requested, WR_PERM_NONE and @unknown set.
 */
WrPermission wr_rbac_grant_scopes (const char *const *requested,
    WrPermission allowed, const char **unknown);

G_END_DECLS
