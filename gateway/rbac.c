/* webremote: what a user may do on an agent. */
#include "config.h"

#include "gateway/rbac.h"

#include <string.h>

gboolean
wr_rbac_agent_permissions (WrStore *store, const WrPrincipal *user,
    const char *agent_id, WrPermission *permissions, WrStoredAgent **agent,
    GError **error)
{
  g_autoptr (WrStoredAgent) a = NULL;
  WrPermission perms = WR_PERM_NONE;

  *permissions = WR_PERM_NONE;
  a = wr_store_agent_get (store, agent_id, error);
  if (!a)
    return FALSE;
  if (!wr_store_permissions_for (store, user->user_id,
          (const char *const *) user->oidc_groups, a->group_name, &perms,
          error))
    return FALSE;
  *permissions = perms & WR_PERM_AGENT_MASK & user->token_scopes;
  if (agent)
    *agent = g_steal_pointer (&a);
  return TRUE;
}

WrPermission
wr_rbac_grant_scopes (const char *const *requested, WrPermission allowed,
    const char **unknown)
{
  WrPermission wanted = WR_PERM_NONE;

  if (unknown)
    *unknown = NULL;
  if (!requested)
    return (WR_PERM_VIEW | WR_PERM_CONTROL) & allowed;
  for (const char *const *r = requested; *r; r++) {
    WrPermission p = WR_PERM_NONE;
    if (!**r || strpbrk (*r, " \t,") || !wr_permissions_from_string (*r, &p,
            NULL)
        || (p & ~WR_PERM_AGENT_MASK)) {
      if (unknown)
        *unknown = *r;
      return WR_PERM_NONE;
    }
    wanted |= p;
  }
  return wanted & allowed;
}
