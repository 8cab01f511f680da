/* webremote: REST handlers for administration (users, roles, groups,
 * grants); api.c lets only holders of the admin permission in. */
#include "config.h"

#include <string.h>

#include "common/json-builder.h"
#include "gateway/api-routes.h"
#include "gateway/auth-store.h"

static void
add_perms (JsonBuilder *b, WrPermission perms)
{
  g_auto (GStrv) names = wr_permissions_to_strv (perms);

  wr_json_add_strv (b, "permissions", (const char *const *) names);
}

static void
build_user (JsonBuilder *b, const WrUser *u)
{
  json_builder_begin_object (b);
  wr_json_add_string (b, "name", u->name);
  wr_json_add_string (b, "display_name", u->display_name);
  wr_json_add_bool (b, "disabled", u->disabled);
  wr_json_add_bool (b, "totp_enabled", u->totp_enabled);
  wr_json_add_bool (b, "sso", u->oidc_subject != NULL);
  wr_json_add_bool (b, "has_password", u->password_hash != NULL);
  wr_json_add_int (b, "locked_until", u->locked_until);
  wr_json_add_int (b, "created_at", u->created_at);
  json_builder_end_object (b);
}

static JsonNode *
user_node (const WrUser *u)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  build_user (b, u);
  return json_builder_get_root (b);
}

/* A list response `{"KEY": [...]}` built by @each per element. */
static void
respond_list (WrApiCall *call, const char *key, GPtrArray *items,
    void (*each) (JsonBuilder *, gconstpointer))
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++)
    each (b, g_ptr_array_index (items, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

static void
each_user (JsonBuilder *b, gconstpointer item)
{
  build_user (b, item);
}

void
wr_api_users_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = wr_store_user_list (gw->store, &error);

  if (!users)
    wr_api_store_error (call, error);
  else
    respond_list (call, "users", users, each_user);
}

void
wr_api_users_create (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autofree char *hash = NULL;
  const char *name = NULL, *password = NULL, *display = NULL;

  if (!body || !wr_api_get_string (call, body, "name", TRUE, 128, &name)
      || !wr_api_get_string (call, body, "password", TRUE, 1024, &password)
      || !wr_api_get_string (call, body, "display_name", FALSE, 128,
          &display))
    return;
  if (!wr_auth_check_password_policy (password, &error)) {
    wr_api_call_error (call, 400, "weak_password", error->message);
    return;
  }
  hash = wr_auth_hash_password (password, &error);
  if (!hash) {
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  user = wr_store_user_create (gw->store, name, display, hash, &error);
  if (!user) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "user.create", NULL,
          wr_audit_detail ("user", user->name, "display_name",
              user->display_name, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s created the user %s", call->user->name, user->name);
  wr_api_call_respond (call, 201, user_node (user));
}

static WrUser *
named_user (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  WrUser *user = wr_store_user_get_by_name (gw->store, call->arg, &error);

  if (!user)
    wr_api_store_error (call, error);
  return user;
}

void
wr_api_users_update (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autoptr (WrUser) after = NULL;
  g_autofree char *hash = NULL;
  const char *password = NULL, *display = NULL;
  gboolean disabled = FALSE, totp = TRUE;
  gboolean has_disabled, has_totp;

  if (!body)
    return;
  has_disabled = json_object_has_member (body, "disabled")
      && !json_object_get_null_member (body, "disabled");
  has_totp = json_object_has_member (body, "totp_enabled")
      && !json_object_get_null_member (body, "totp_enabled");
  if (!wr_api_get_string (call, body, "password", FALSE, 1024, &password)
      || !wr_api_get_string (call, body, "display_name", FALSE, 128, &display)
      || !wr_api_get_bool (call, body, "disabled", &disabled)
      || !wr_api_get_bool (call, body, "totp_enabled", &totp))
    return;
  if (has_totp && totp) {
    wr_api_call_error (call, 400, "bad_request",
        "only the user can turn two-factor sign-in on; an admin can only "
        "turn it off (totp_enabled: false)");
    return;
  }
  if (password && !wr_auth_check_password_policy (password, &error)) {
    wr_api_call_error (call, 400, "weak_password", error->message);
    return;
  }
  user = named_user (gw, call);
  if (!user)
    return;
  if (has_disabled && disabled && user->id == call->user->user_id) {
    wr_api_call_error (call, 409, "conflict", "you cannot disable yourself");
    return;
  }

  if (password && !(hash = wr_auth_hash_password (password, &error))) {
    wr_api_store_error (call, error);
    return;
  }

  if (!wr_api_tx_begin (gw, call))
    return;
  if ((display && !wr_store_user_set_display_name (gw->store, user->id,
              display, &error))
      || (hash && !wr_store_user_set_password (gw->store, user->id, hash,
              &error))
      || (has_disabled && !wr_store_user_set_disabled (gw->store, user->id,
              disabled, &error))
      || (has_totp && (!wr_store_user_set_totp (gw->store, user->id, NULL,
                  FALSE, &error)
              || !wr_store_recovery_codes_replace (gw->store, user->id, NULL,
                  &error)))) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (display || has_disabled) {
    JsonObject *detail = wr_audit_detail ("user", user->name,
        "display_name", display, NULL);

    if (has_disabled)
      json_object_set_boolean_member (detail, "disabled", disabled);
    if (!wr_api_tx_audit (gw, call, "user.update", NULL, detail))
      return;
  }
  if (hash && !wr_api_tx_audit (gw, call, "user.password", NULL,
          wr_audit_detail ("user", user->name, NULL)))
    return;
  if (has_totp) {
    JsonObject *detail = wr_audit_detail ("user", user->name, NULL);

    json_object_set_boolean_member (detail, "enabled", FALSE);
    if (!wr_api_tx_audit (gw, call, "user.totp", NULL, detail))
      return;
  }
  if (!wr_api_tx_commit (gw, call))
    return;
  g_message ("%s changed the user %s", call->user->name, user->name);
  after = wr_store_user_get_by_id (gw->store, user->id, &error);
  if (!after) {
    wr_api_store_error (call, error);
    return;
  }
  wr_api_call_respond (call, 200, user_node (after));
}

void
wr_api_users_delete (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = named_user (gw, call);

  if (!user)
    return;
  if (user->id == call->user->user_id) {
    wr_api_call_error (call, 409, "conflict", "you cannot delete yourself");
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_user_delete (gw->store, user->id, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "user.delete", NULL,
          wr_audit_detail ("user", user->name, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s deleted the user %s", call->user->name, user->name);
  wr_api_call_respond (call, 204, NULL);
}

/* Main context: a disabled, deleted or re-passworded user loses the
 * sessions and signaling connections they had. */
void
wr_api_users_apply (WrGateway *gw, WrApiCall *call)
{
  wr_signaling_disconnect_user (gw->signaling, call->arg,
      "the account was changed by an administrator");
}

static void
each_role (JsonBuilder *b, gconstpointer item)
{
  const WrRole *r = item;

  json_builder_begin_object (b);
  wr_json_add_string (b, "name", r->name);
  wr_json_add_bool (b, "builtin", r->builtin);
  add_perms (b, r->permissions);
  json_builder_end_object (b);
}

void
wr_api_roles_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) roles = wr_store_role_list (gw->store, &error);

  if (!roles)
    wr_api_store_error (call, error);
  else
    respond_list (call, "roles", roles, each_role);
}

static char *
read_permissions (WrApiCall *call, JsonObject *body)
{
  g_autofree const char **names = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *joined = NULL;
  WrPermission perms = WR_PERM_NONE;

  if (!wr_api_get_string_array (call, body, "permissions", TRUE, 16, &names))
    return NULL;
  joined = g_strjoinv (" ", (char **) names);
  if (!wr_permissions_from_string (joined, &perms, &error)) {
    wr_api_call_error (call, 400, "bad_request", error->message);
    return NULL;
  }
  return wr_permissions_to_string (perms);
}

static void
respond_role (WrGateway *gw, WrApiCall *call, const char *name, guint status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrRole) role = wr_store_role_get_by_name (gw->store, name,
      &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!role) {
    wr_api_store_error (call, error);
    return;
  }
  each_role (b, role);
  wr_api_call_respond (call, status, json_builder_get_root (b));
}

void
wr_api_roles_create (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrRole) role = NULL;
  g_autofree char *perms = NULL;
  const char *name = NULL;

  if (!body || !wr_api_get_string (call, body, "name", TRUE, 128, &name)
      || !(perms = read_permissions (call, body)))
    return;
  if (!wr_api_tx_begin (gw, call))
    return;
  role = wr_store_role_create (gw->store, name, perms, &error);
  if (!role) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "role.create", NULL,
          wr_audit_detail ("role", name, "permissions", perms, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s created the role %s", call->user->name, name);
  respond_role (gw, call, name, 201);
}

void
wr_api_roles_update (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autofree char *perms = NULL;

  if (!body || !(perms = read_permissions (call, body)))
    return;
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_role_update_permissions (gw->store, call->arg, perms,
          &error)) {
    wr_api_tx_rollback (gw);
    if (g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID))
      wr_api_call_error (call, 409, "builtin", error->message);
    else
      wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "role.update", NULL,
          wr_audit_detail ("role", call->arg, "permissions", perms, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s changed the role %s", call->user->name, call->arg);
  respond_role (gw, call, call->arg, 200);
}

void
wr_api_roles_delete (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;

  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_role_delete (gw->store, call->arg, &error)) {
    wr_api_tx_rollback (gw);
    if (g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID))
      wr_api_call_error (call, 409, "builtin", error->message);
    else
      wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "role.delete", NULL,
          wr_audit_detail ("role", call->arg, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s deleted the role %s", call->user->name, call->arg);
  wr_api_call_respond (call, 204, NULL);
}

static void
each_group (JsonBuilder *b, gconstpointer item)
{
  const WrAgentGroup *g = item;

  json_builder_begin_object (b);
  wr_json_add_string (b, "name", g->name);
  wr_json_add_bool (b, "require_reason", g->require_reason);
  wr_json_add_string (b, "recording", g->recording);
  wr_json_add_int (b, "retention_days", g->retention_days);
  json_builder_end_object (b);
}

void
wr_api_groups_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) groups = wr_store_group_list (gw->store, &error);

  if (!groups)
    wr_api_store_error (call, error);
  else
    respond_list (call, "groups", groups, each_group);
}

static void
respond_group (WrGateway *gw, WrApiCall *call, const char *name,
    guint status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = wr_store_group_get_by_name (gw->store,
      name, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!group) {
    wr_api_store_error (call, error);
    return;
  }
  each_group (b, group);
  wr_api_call_respond (call, status, json_builder_get_root (b));
}

/* The optional policy fields of a group request; 400 on bad values. */
static gboolean
read_group_policy (WrApiCall *call, JsonObject *body, const char **recording,
    gint64 *retention_days)
{
  if (!wr_api_get_string (call, body, "recording", FALSE, 32, recording)
      || !wr_api_get_int (call, body, "retention_days", 0,
          WR_STORE_MAX_RETENTION_DAYS, retention_days))
    return FALSE;
  if (*recording && !wr_store_recording_mode_is_valid (*recording)) {
    wr_api_call_error (call, 400, "bad_request", "field 'recording' must be "
        "\"off\", \"best-effort\" or \"strict\"");
    return FALSE;
  }
  return TRUE;
}

/* Applies the policy fields given, inside the caller's transaction. */
static gboolean
set_group_policy (WrGateway *gw, const char *name, const char *recording,
    gint64 retention_days, GError **error)
{
  return (!recording || wr_store_group_set_recording (gw->store, name,
          recording, error))
      && (retention_days < 0 || wr_store_group_set_retention_days (
          gw->store, name, retention_days, error));
}

static JsonObject *
group_detail (const char *name, gboolean has_reason, gboolean require_reason,
    const char *recording, gint64 retention_days)
{
  JsonObject *detail = wr_audit_detail ("group", name, "recording",
      recording, NULL);

  if (has_reason)
    json_object_set_boolean_member (detail, "require_reason",
        require_reason);
  if (retention_days >= 0)
    json_object_set_int_member (detail, "retention_days", retention_days);
  return detail;
}

void
wr_api_groups_create (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = NULL;
  const char *name = NULL, *recording = NULL;
  gboolean require_reason = FALSE;
  gint64 retention_days = -1;

  if (!body || !wr_api_get_string (call, body, "name", TRUE, 128, &name)
      || !wr_api_get_bool (call, body, "require_reason", &require_reason)
      || !read_group_policy (call, body, &recording, &retention_days))
    return;
  if (!wr_api_tx_begin (gw, call))
    return;
  group = wr_store_group_create (gw->store, name, require_reason, &error);
  if (!group || !set_group_policy (gw, name, recording, retention_days,
          &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "group.create", NULL,
          group_detail (name, TRUE, require_reason,
              recording ? recording : WR_STORE_RECORDING_OFF,
              MAX (retention_days, 0)))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s created the agent group %s", call->user->name, name);
  respond_group (gw, call, name, 201);
}

void
wr_api_groups_update (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  const char *recording = NULL;
  gboolean require_reason = FALSE, has_reason;
  gint64 retention_days = -1;

  if (!body)
    return;
  has_reason = json_object_has_member (body, "require_reason")
      && !json_object_get_null_member (body, "require_reason");
  if (!wr_api_get_bool (call, body, "require_reason", &require_reason)
      || !read_group_policy (call, body, &recording, &retention_days))
    return;
  if (!has_reason && !recording && retention_days < 0) {
    wr_api_call_error (call, 400, "bad_request", "give at least one of "
        "'require_reason', 'recording' and 'retention_days'");
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  if ((has_reason && !wr_store_group_set_require_reason (gw->store,
              call->arg, require_reason, &error))
      || !set_group_policy (gw, call->arg, recording, retention_days,
          &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "group.update", NULL,
          group_detail (call->arg, has_reason, require_reason, recording,
              retention_days))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s changed the agent group %s", call->user->name, call->arg);
  respond_group (gw, call, call->arg, 200);
}

void
wr_api_groups_delete (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;

  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_group_delete (gw->store, call->arg, &error)) {
    wr_api_tx_rollback (gw);
    if (g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID))
      wr_api_call_error (call, 409, "builtin", error->message);
    else
      wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "group.delete", NULL,
          wr_audit_detail ("group", call->arg, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s deleted the agent group %s", call->user->name, call->arg);
  wr_api_call_respond (call, 204, NULL);
}

void
wr_api_agent_set_group (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrStoredAgent) agent = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  const char *group = NULL;

  if (!body || !wr_api_get_string (call, body, "group", TRUE, 128, &group))
    return;
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_agent_set_group (gw->store, call->arg, group, &error)
      || !(agent = wr_store_agent_get (gw->store, call->arg, &error))) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_api_tx_audit (gw, call, "agent.group", call->arg,
          wr_audit_detail ("group", group, NULL))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s moved the agent %s to the group %s", call->user->name,
      call->arg, group);
  b = json_builder_new ();
  json_builder_begin_object (b);
  wr_json_add_string (b, "id", agent->id);
  wr_json_add_string (b, "name", agent->name);
  wr_json_add_string (b, "group", agent->group_name);
  wr_json_add_bool (b, "require_reason", agent->require_reason);
  wr_json_add_string (b, "recording", agent->recording);
  wr_json_add_int (b, "retention_days", agent->retention_days);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

static void
build_grant (JsonBuilder *b, const WrStoredGrant *g)
{
  json_builder_begin_object (b);
  wr_json_add_int (b, "id", g->id);
  wr_json_add_string (b, "subject_kind", g->subject_kind);
  wr_json_add_string (b, "subject", g->subject);
  wr_json_add_string (b, "role", g->role_name);
  wr_json_add_string (b, "group", g->group_name);
  json_builder_end_object (b);
}

static void
each_grant (JsonBuilder *b, gconstpointer item)
{
  build_grant (b, item);
}

void
wr_api_grants_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) grants = wr_store_grant_list (gw->store, &error);

  if (!grants)
    wr_api_store_error (call, error);
  else
    respond_list (call, "grants", grants, each_grant);
}

void
wr_api_grants_create (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  const char *kind = NULL, *subject = NULL, *role = NULL, *group = NULL;
  WrStoredGrant g = { 0 };
  gint64 id = 0;

  if (!body
      || !wr_api_get_string (call, body, "subject_kind", TRUE, 32, &kind)
      || !wr_api_get_string (call, body, "subject", TRUE, 256, &subject)
      || !wr_api_get_string (call, body, "role", TRUE, 128, &role)
      || !wr_api_get_string (call, body, "group", FALSE, 128, &group))
    return;
  if (!g_str_equal (kind, WR_STORE_SUBJECT_USER)
      && !g_str_equal (kind, WR_STORE_SUBJECT_OIDC_GROUP)) {
    wr_api_call_error (call, 400, "bad_request",
        "field 'subject_kind' must be \"user\" or \"oidc-group\"");
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  if (!wr_store_grant_create (gw->store, kind, subject, role, group, &id,
          &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  {
    JsonObject *detail = wr_audit_detail ("subject_kind", kind, "subject",
        subject, "role", role, "group", group, NULL);

    json_object_set_int_member (detail, "grant", id);
    if (!wr_api_tx_audit (gw, call, "grant.create", NULL, detail)
        || !wr_api_tx_commit (gw, call))
      return;
  }
  g_message ("%s granted the role %s to %s %s on %s", call->user->name, role,
      kind, subject, group ? group : "every group");
  g.id = id;
  g.subject_kind = (char *) kind;
  g.subject = (char *) subject;
  g.role_name = (char *) role;
  g.group_name = (char *) group;
  b = json_builder_new ();
  build_grant (b, &g);
  wr_api_call_respond (call, 201, json_builder_get_root (b));
}

void
wr_api_grants_delete (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) grants = NULL;
  g_autoptr (JsonObject) detail = NULL;
  gint64 id = 0;

  if (!g_ascii_string_to_signed (call->arg, 10, 1, G_MAXINT64, &id, NULL)) {
    wr_api_call_error (call, 404, "not_found", "no such grant");
    return;
  }
  if (!wr_api_tx_begin (gw, call))
    return;
  /* what the grant was, for the audit row */
  grants = wr_store_grant_list (gw->store, &error);
  for (guint i = 0; grants && i < grants->len; i++) {
    const WrStoredGrant *g = g_ptr_array_index (grants, i);

    if (g->id == id) {
      detail = wr_audit_detail ("subject_kind", g->subject_kind, "subject",
          g->subject, "role", g->role_name, "group", g->group_name, NULL);
      break;
    }
  }
  if (!grants || !wr_store_grant_delete (gw->store, id, &error)) {
    wr_api_tx_rollback (gw);
    wr_api_store_error (call, error);
    return;
  }
  if (!detail)
    detail = json_object_new ();
  json_object_set_int_member (detail, "grant", id);
  if (!wr_api_tx_audit (gw, call, "grant.delete", NULL,
          g_steal_pointer (&detail))
      || !wr_api_tx_commit (gw, call))
    return;
  g_message ("%s deleted the grant %" G_GINT64_FORMAT, call->user->name, id);
  wr_api_call_respond (call, 204, NULL);
}
