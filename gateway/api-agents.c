/* webremote: REST handlers for machines and live sessions; each user sees
 * only what their grants let them see. */
#include "config.h"

#include <string.h>

#include "gateway/api-routes.h"
#include "gateway/rbac.h"

/* The registry's JSON shares arrays with the registry, whose reference
 * counts are not atomic: hand the worker a copy that shares nothing. */
static JsonNode *
unshared (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr (JsonParser) parser = json_parser_new ();

  json_node_unref (node);
  if (!json_parser_load_from_data (parser, text, -1, NULL))
    g_error ("cannot re-read JSON the gateway wrote");
  return json_node_ref (json_parser_get_root (parser));
}

/* Main context: the registry's view of every agent. */
void
wr_api_agents_prepare (WrGateway *gw, WrApiCall *call)
{
  call->live = unshared (wr_agent_registry_to_json (gw->registry));
}

/* Adds group, policy and the caller's permissions to a copy of @agent, or
 * returns NULL when the caller may not view it. */
static JsonNode *
annotate (WrGateway *gw, WrApiCall *call, JsonObject *agent, GError **error)
{
  const char *id = json_object_get_string_member (agent, "id");
  g_autoptr (WrStoredAgent) stored = NULL;
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) names = NULL;
  WrPermission perms = WR_PERM_NONE;
  JsonObject *copy;
  JsonArray *list;
  JsonNode *node;
  GList *members;

  if (!wr_rbac_agent_permissions (gw->store, call->user, id, &perms, &stored,
          &local)) {
    if (g_error_matches (local, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND))
      return NULL;
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }
  if (!(perms & WR_PERM_VIEW))
    return NULL;

  copy = json_object_new ();
  members = json_object_get_members (agent);
  for (GList *m = members; m; m = m->next)
    json_object_set_member (copy, m->data,
        json_node_copy (json_object_get_member (agent, m->data)));
  g_list_free (members);
  json_object_set_string_member (copy, "group", stored->group_name);
  json_object_set_boolean_member (copy, "require_reason",
      stored->require_reason);
  json_object_set_string_member (copy, "recording", stored->recording);
  names = wr_permissions_to_strv (perms);
  list = json_array_new ();
  for (char **n = names; n && *n; n++)
    json_array_add_string_element (list, *n);
  json_object_set_array_member (copy, "permissions", list);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, copy);
  return node;
}

static JsonArray *
live_agents (WrApiCall *call)
{
  return json_object_get_array_member (json_node_get_object (call->live),
      "agents");
}

void
wr_api_agents_list (WrGateway *gw, WrApiCall *call)
{
  JsonArray *all = live_agents (call);
  JsonArray *visible = json_array_new ();
  JsonObject *root = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_array_member (root, "agents", visible);
  json_node_take_object (node, root);
  for (guint i = 0; i < json_array_get_length (all); i++) {
    g_autoptr (GError) error = NULL;
    JsonNode *a = annotate (gw, call,
        json_array_get_object_element (all, i), &error);
    if (error) {
      json_node_unref (node);
      wr_api_store_error (call, error);
      return;
    }
    if (a)
      json_array_add_element (visible, a);
  }
  wr_api_call_respond (call, 200, node);
}

void
wr_api_agents_get (WrGateway *gw, WrApiCall *call)
{
  JsonArray *all = live_agents (call);

  for (guint i = 0; i < json_array_get_length (all); i++) {
    JsonObject *agent = json_array_get_object_element (all, i);
    if (g_strcmp0 (json_object_get_string_member (agent, "id"), call->arg)
        == 0) {
      g_autoptr (GError) error = NULL;
      JsonNode *a = annotate (gw, call, agent, &error);
      if (error) {
        wr_api_store_error (call, error);
        return;
      }
      if (a) {
        wr_api_call_respond (call, 200, a);
        return;
      }
      break;
    }
  }
  /* unknown and not allowed look alike */
  wr_api_call_error (call, 404, "not_found", "no such agent");
}

void
wr_api_sessions_prepare (WrGateway *gw, WrApiCall *call)
{
  call->live = unshared (wr_signaling_sessions_to_json (gw->signaling,
          NULL));
}

void
wr_api_sessions_list (WrGateway *gw, WrApiCall *call)
{
  JsonArray *all = json_object_get_array_member (
      json_node_get_object (call->live), "sessions");
  gboolean admin = wr_principal_has (call->user, WR_PERM_ADMIN);
  JsonArray *visible = json_array_new ();
  JsonObject *root = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; i < json_array_get_length (all); i++) {
    JsonObject *s = json_array_get_object_element (all, i);
    if (admin || g_strcmp0 (json_object_get_string_member (s, "user"),
            call->user->name) == 0)
      json_array_add_element (visible,
          json_node_copy (json_array_get_element (all, i)));
  }
  json_object_set_array_member (root, "sessions", visible);
  json_node_take_object (node, root);
  wr_api_call_respond (call, 200, node);
}
