/* webremotectl role|group|agent|grant ...: who may do what on which
 * machines. */
#include "config.h"

#include "gateway/ctl.h"

#include <stdio.h>
#include <string.h>

#include "common/json-builder.h"

typedef void (*BuildItem) (JsonBuilder *b, gconstpointer item);

/* `{"KEY": [...]}` on standard output, the same shape as the API's lists. */
static void
print_json_list (const char *key, GPtrArray *items, BuildItem build)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++)
    build (b, g_ptr_array_index (items, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  wr_ctl_print_json (root);
}

static GPtrArray *
table_new (const char *header)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_strfreev);

  g_ptr_array_add (rows, g_strsplit (header, "|", -1));
  return rows;
}

/* Joins the PERM... arguments and checks them: a usage error names the
 * first unknown one. */
static char *
permissions_from_args (WrCtl *ctl, int argc, char **argv, int *rc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) joined = g_string_new (NULL);
  WrPermission permissions;

  /* The words may also be comma-separated: "view,control". */
  for (int i = 2; i < argc; i++)
    g_string_append_printf (joined, "%s ", argv[i]);
  if (!wr_permissions_from_string (joined->str, &permissions, &error)) {
    *rc = wr_ctl_usage_error (ctl, "%s", error->message);
    return NULL;
  }
  if (permissions == WR_PERM_NONE) {
    *rc = wr_ctl_usage_error (ctl, "name at least one permission (view "
        "control clipboard file-transfer command record admin audit enroll)");
    return NULL;
  }
  return wr_permissions_to_string (permissions);
}

/* ------------------------------------------------------------------ */
/* Roles */

static void
build_role (JsonBuilder *b, gconstpointer item)
{
  const WrRole *r = item;
  g_auto (GStrv) names = wr_permissions_to_strv (r->permissions);

  json_builder_begin_object (b);
  wr_json_add_string (b, "name", r->name);
  wr_json_add_bool (b, "builtin", r->builtin);
  json_builder_set_member_name (b, "permissions");
  json_builder_begin_array (b);
  for (char **n = names; n && *n; n++)
    json_builder_add_string_value (b, *n);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static int
role_list (WrCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) roles = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!(roles = wr_store_role_list (store, &error)))
    return wr_ctl_fail (ctl, error);
  if (json) {
    print_json_list ("roles", roles, build_role);
    return WR_CTL_EXIT_OK;
  }
  rows = table_new ("NAME|BUILT-IN|PERMISSIONS");
  for (guint i = 0; i < roles->len; i++) {
    const WrRole *r = g_ptr_array_index (roles, i);
    char **row = g_new0 (char *, 4);

    row[0] = g_strdup (r->name);
    row[1] = g_strdup (r->builtin ? "yes" : "no");
    row[2] = wr_permissions_to_string (r->permissions);
    g_ptr_array_add (rows, row);
  }
  wr_ctl_print_table (rows);
  return WR_CTL_EXIT_OK;
}

static int
role_add (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrRole) role = NULL;
  g_autofree char *permissions = NULL;
  g_autofree char *shown = NULL;
  WrStore *store;
  int rc = WR_CTL_EXIT_USAGE;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 2, G_MAXUINT))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "role name", argv[1], TRUE))
    return WR_CTL_EXIT_USAGE;
  if (!(permissions = permissions_from_args (ctl, argc, argv, &rc)))
    return rc;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!(role = wr_store_role_create (store, argv[1], permissions, &error))) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "role.create", NULL, wr_ctl_detail ("role",
              argv[1], "permissions", permissions, NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  shown = wr_permissions_to_string (role->permissions);
  printf ("created the role %s: %s\n", role->name, shown);
  return WR_CTL_EXIT_OK;
}

static int
role_set (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *permissions = NULL;
  WrStore *store;
  int rc = WR_CTL_EXIT_USAGE;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 2, G_MAXUINT))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "role name", argv[1], FALSE))
    return WR_CTL_EXIT_USAGE;
  if (!(permissions = permissions_from_args (ctl, argc, argv, &rc)))
    return rc;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_role_update_permissions (store, argv[1], permissions,
          &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "role.update", NULL, wr_ctl_detail ("role",
              argv[1], "permissions", permissions, NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("changed the role %s: %s\n", argv[1], permissions);
  return WR_CTL_EXIT_OK;
}

static int
role_delete (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "role name", argv[1], FALSE))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_role_delete (store, argv[1], &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "role.delete", NULL, wr_ctl_detail ("role",
              argv[1], NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("deleted the role %s\n", argv[1]);
  return WR_CTL_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Agent groups */

typedef struct {
  const WrAgentGroup *group;
  guint agents;
} GroupRow;

static void
build_group (JsonBuilder *b, gconstpointer item)
{
  const GroupRow *g = item;

  json_builder_begin_object (b);
  wr_json_add_string (b, "name", g->group->name);
  wr_json_add_bool (b, "require_reason", g->group->require_reason);
  wr_json_add_string (b, "recording", g->group->recording);
  wr_json_add_int (b, "retention_days", g->group->retention_days);
  wr_json_add_int (b, "agents", g->agents);
  json_builder_end_object (b);
}

static int
group_list (WrCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) groups = NULL;
  g_autoptr (GPtrArray) agents = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) rows = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!(groups = wr_store_group_list (store, &error))
      || !(agents = wr_store_agent_list (store, &error)))
    return wr_ctl_fail (ctl, error);
  for (guint i = 0; i < groups->len; i++) {
    GroupRow *row = g_new0 (GroupRow, 1);

    row->group = g_ptr_array_index (groups, i);
    for (guint a = 0; a < agents->len; a++) {
      const WrStoredAgent *agent = g_ptr_array_index (agents, a);

      if (g_strcmp0 (agent->group_name, row->group->name) == 0)
        row->agents++;
    }
    g_ptr_array_add (items, row);
  }
  if (json) {
    print_json_list ("groups", items, build_group);
    return WR_CTL_EXIT_OK;
  }
  rows = table_new ("NAME|REQUIRE REASON|RECORDING|RETENTION|AGENTS");
  for (guint i = 0; i < items->len; i++) {
    const GroupRow *g = g_ptr_array_index (items, i);
    char **row = g_new0 (char *, 6);

    row[0] = g_strdup (g->group->name);
    row[1] = g_strdup (g->group->require_reason ? "yes" : "no");
    row[2] = g_strdup (g->group->recording);
    row[3] = g->group->retention_days ? g_strdup_printf ("%" G_GINT64_FORMAT
        " days", g->group->retention_days) : g_strdup ("forever");
    row[4] = g_strdup_printf ("%u", g->agents);
    g_ptr_array_add (rows, row);
  }
  wr_ctl_print_table (rows);
  return WR_CTL_EXIT_OK;
}

/* --recording MODE and --retention-days N, checked; @days stays -1 when
 * not given. */
static gboolean
check_group_policy (WrCtl *ctl, const char *recording, const char *days_arg,
    gint64 *days)
{
  if (recording && !wr_store_recording_mode_is_valid (recording)) {
    wr_ctl_usage_error (ctl, "--recording must be off, best-effort or "
        "strict");
    return FALSE;
  }
  if (days_arg && !g_ascii_string_to_signed (days_arg, 10, 0,
          WR_STORE_MAX_RETENTION_DAYS, days, NULL)) {
    wr_ctl_usage_error (ctl, "--retention-days must be a number of days "
        "from 0 (keep forever) to %d", WR_STORE_MAX_RETENTION_DAYS);
    return FALSE;
  }
  return TRUE;
}

static JsonObject *
group_detail (const char *name, gboolean has_reason, gboolean require_reason,
    const char *recording, gint64 days)
{
  JsonObject *detail = wr_ctl_detail ("group", name, "recording", recording,
      NULL);

  if (has_reason)
    json_object_set_boolean_member (detail, "require_reason",
        require_reason);
  if (days >= 0)
    json_object_set_int_member (detail, "retention_days", days);
  return detail;
}

/* Inside the command's transaction. */
static gboolean
set_group_policy (WrStore *store, const char *name, const char *recording,
    gint64 days, GError **error)
{
  return (!recording || wr_store_group_set_recording (store, name, recording,
          error))
      && (days < 0 || wr_store_group_set_retention_days (store, name, days,
          error));
}

static int
group_add (WrCtl *ctl, int argc, char **argv)
{
  gboolean require_reason = FALSE;
  g_autofree char *recording = NULL;
  g_autofree char *days_arg = NULL;
  const GOptionEntry entries[] = {
    { "require-reason", 0, 0, G_OPTION_ARG_NONE, &require_reason,
      "Sessions on this group's machines need a reason or ticket", NULL },
    { "recording", 0, 0, G_OPTION_ARG_STRING, &recording,
      "Record sessions: off (default), best-effort or strict", "MODE" },
    { "retention-days", 0, 0, G_OPTION_ARG_STRING, &days_arg,
      "Delete recordings after this many days (0, the default: keep)", "N" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = NULL;
  WrStore *store;
  gint64 days = -1;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "group name", argv[1], TRUE)
      || !check_group_policy (ctl, recording, days_arg, &days))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!(group = wr_store_group_create (store, argv[1], require_reason,
              &error))
      || !set_group_policy (store, argv[1], recording, days, &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "group.create", NULL, group_detail (argv[1], TRUE,
              require_reason, recording ? recording
              : WR_STORE_RECORDING_OFF, MAX (days, 0)))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  {
    g_autofree char *kept = days > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT
        " days", days) : g_strdup ("forever");

    printf ("created the agent group %s%s; recording %s, recordings kept "
        "%s\n", group->name, group->require_reason
        ? " (sessions need a reason)" : "",
        recording ? recording : WR_STORE_RECORDING_OFF, kept);
  }
  return WR_CTL_EXIT_OK;
}

static int
group_set (WrCtl *ctl, int argc, char **argv)
{
  gboolean require = FALSE, no_require = FALSE;
  g_autofree char *recording = NULL;
  g_autofree char *days_arg = NULL;
  const GOptionEntry entries[] = {
    { "require-reason", 0, 0, G_OPTION_ARG_NONE, &require,
      "Sessions on this group's machines need a reason or ticket", NULL },
    { "no-require-reason", 0, 0, G_OPTION_ARG_NONE, &no_require,
      "Sessions need no reason", NULL },
    { "recording", 0, 0, G_OPTION_ARG_STRING, &recording,
      "Record sessions: off, best-effort or strict", "MODE" },
    { "retention-days", 0, 0, G_OPTION_ARG_STRING, &days_arg,
      "Delete recordings after this many days (0: keep)", "N" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  WrStore *store;
  gint64 days = -1;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (require && no_require)
    return wr_ctl_usage_error (ctl, "give only one of --require-reason and "
        "--no-require-reason");
  if (!require && !no_require && !recording && !days_arg)
    return wr_ctl_usage_error (ctl, "give --require-reason, "
        "--no-require-reason, --recording or --retention-days");
  if (!wr_ctl_check_name (ctl, "group name", argv[1], FALSE)
      || !check_group_policy (ctl, recording, days_arg, &days))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (((require || no_require) && !wr_store_group_set_require_reason (store,
              argv[1], require, &error))
      || !set_group_policy (store, argv[1], recording, days, &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "group.update", NULL, group_detail (argv[1],
              require || no_require, require, recording, days))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("changed the agent group %s:", argv[1]);
  if (require || no_require)
    printf (" sessions need %s;", require ? "a reason" : "no reason");
  if (recording)
    printf (" recording %s;", recording);
  if (days == 0)
    printf (" recordings kept forever;");
  else if (days > 0)
    printf (" recordings kept %" G_GINT64_FORMAT " days;", days);
  printf ("\n");
  return WR_CTL_EXIT_OK;
}

static int
group_delete (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "group name", argv[1], FALSE))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_group_delete (store, argv[1], &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "group.delete", NULL, wr_ctl_detail ("group",
              argv[1], NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("deleted the agent group %s and the grants on it\n", argv[1]);
  return WR_CTL_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Agents */

static void
build_agent (JsonBuilder *b, gconstpointer item)
{
  const WrStoredAgent *a = item;

  json_builder_begin_object (b);
  wr_json_add_string (b, "id", a->id);
  wr_json_add_string (b, "name", a->name);
  wr_json_add_string (b, "group", a->group_name);
  wr_json_add_bool (b, "require_reason", a->require_reason);
  wr_json_add_string (b, "recording", a->recording);
  wr_json_add_int (b, "retention_days", a->retention_days);
  wr_json_add_int (b, "created_at", a->created_at);
  wr_json_add_int (b, "last_seen", a->last_seen);
  json_builder_end_object (b);
}

static int
agent_list (WrCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) agents = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!(agents = wr_store_agent_list (store, &error)))
    return wr_ctl_fail (ctl, error);
  if (json) {
    print_json_list ("agents", agents, build_agent);
    return WR_CTL_EXIT_OK;
  }
  rows = table_new ("ID|NAME|GROUP|LAST SEEN");
  for (guint i = 0; i < agents->len; i++) {
    const WrStoredAgent *a = g_ptr_array_index (agents, i);
    char **row = g_new0 (char *, 5);

    row[0] = g_strdup (a->id);
    row[1] = g_strdup (a->name ? a->name : "");
    row[2] = g_strdup (a->group_name ? a->group_name : "");
    row[3] = wr_ctl_format_time (a->last_seen, "never");
    g_ptr_array_add (rows, row);
  }
  wr_ctl_print_table (rows);
  return WR_CTL_EXIT_OK;
}

static int
agent_set_group (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 2, 2))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "agent id", argv[1], FALSE)
      || !wr_ctl_check_name (ctl, "group name", argv[2], FALSE))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_agent_set_group (store, argv[1], argv[2], &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "agent.group", argv[1], wr_ctl_detail ("group",
              argv[2], NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("moved the agent %s to the group %s\n", argv[1], argv[2]);
  return WR_CTL_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Grants */

static void
build_grant (JsonBuilder *b, gconstpointer item)
{
  const WrStoredGrant *g = item;

  json_builder_begin_object (b);
  wr_json_add_int (b, "id", g->id);
  wr_json_add_string (b, "subject_kind", g->subject_kind);
  wr_json_add_string (b, "subject", g->subject);
  wr_json_add_string (b, "role", g->role_name);
  wr_json_add_string (b, "group", g->group_name);
  json_builder_end_object (b);
}

static int
grant_list (WrCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) grants = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!(grants = wr_store_grant_list (store, &error)))
    return wr_ctl_fail (ctl, error);
  if (json) {
    print_json_list ("grants", grants, build_grant);
    return WR_CTL_EXIT_OK;
  }
  rows = table_new ("ID|SUBJECT|ROLE|GROUP");
  for (guint i = 0; i < grants->len; i++) {
    const WrStoredGrant *g = g_ptr_array_index (grants, i);
    char **row = g_new0 (char *, 5);

    row[0] = g_strdup_printf ("%" G_GINT64_FORMAT, g->id);
    row[1] = g_strdup_printf ("%s:%s", g->subject_kind, g->subject);
    row[2] = g_strdup (g->role_name);
    row[3] = g_strdup (g->group_name ? g->group_name : "(every group)");
    g_ptr_array_add (rows, row);
  }
  wr_ctl_print_table (rows);
  return WR_CTL_EXIT_OK;
}

/* An OIDC group claim value comes from the identity provider, so any
 * text the store keeps is fine (no name rules of ours). */
static gboolean
check_claim (WrCtl *ctl, const char *value)
{
  gsize len = strlen (value);

  if (len == 0 || len > WR_STORE_MAX_SUBJECT
      || !g_utf8_validate (value, (gssize) len, NULL)) {
    wr_ctl_usage_error (ctl, "the OIDC group must be UTF-8 text of 1 to %d "
        "bytes", WR_STORE_MAX_SUBJECT);
    return FALSE;
  }
  for (const char *p = value; *p; p = g_utf8_next_char (p)) {
    if (g_unichar_iscntrl (g_utf8_get_char (p))) {
      wr_ctl_usage_error (ctl, "the OIDC group must not contain control "
          "characters");
      return FALSE;
    }
  }
  return TRUE;
}

static int
grant_add (WrCtl *ctl, int argc, char **argv)
{
  g_autofree char *user = NULL;
  g_autofree char *oidc_group = NULL;
  g_autofree char *role = NULL;
  g_autofree char *group = NULL;
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_FILENAME, &user,
      "The user to grant the role to", "NAME" },
    { "oidc-group", 0, 0, G_OPTION_ARG_FILENAME, &oidc_group,
      "Or: everyone whose SSO groups claim holds this value", "GROUP" },
    { "role", 0, 0, G_OPTION_ARG_FILENAME, &role, "The role (required)",
      "ROLE" },
    { "group", 0, 0, G_OPTION_ARG_FILENAME, &group,
      "The agent group (default: every group, and system permissions)",
      "GROUP" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  const char *kind, *subject;
  WrStore *store;
  gint64 id = 0;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!user == !oidc_group)
    return wr_ctl_usage_error (ctl, "give one of --user NAME and "
        "--oidc-group GROUP");
  if (!role)
    return wr_ctl_usage_error (ctl, "--role ROLE is required");
  if (user) {
    if (!wr_ctl_check_name (ctl, "user name", user, FALSE))
      return WR_CTL_EXIT_USAGE;
    kind = WR_STORE_SUBJECT_USER;
    subject = user;
  } else {
    if (!check_claim (ctl, oidc_group))
      return WR_CTL_EXIT_USAGE;
    kind = WR_STORE_SUBJECT_OIDC_GROUP;
    subject = oidc_group;
  }
  if (!wr_ctl_check_name (ctl, "role name", role, FALSE)
      || (group && !wr_ctl_check_name (ctl, "group name", group, FALSE)))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_grant_create (store, kind, subject, role, group, &id,
          &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  {
    JsonObject *detail = wr_ctl_detail ("subject_kind", kind, "subject",
        subject, "role", role, "group", group, NULL);

    json_object_set_int_member (detail, "grant", id);
    if (!wr_ctl_audit (ctl, "grant.create", NULL, detail)
        || !wr_ctl_commit (ctl))
      return WR_CTL_EXIT_FAILED;
  }
  if (group)
    printf ("created grant %" G_GINT64_FORMAT ": role %s for %s %s on the "
        "agent group %s\n", id, role, kind, subject, group);
  else
    printf ("created grant %" G_GINT64_FORMAT ": role %s for %s %s on every "
        "agent group\n", id, role, kind, subject);
  return WR_CTL_EXIT_OK;
}

static int
grant_delete (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) grants = NULL;
  g_autoptr (JsonObject) detail = NULL;
  WrStore *store;
  gint64 id = 0;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!g_ascii_string_to_signed (argv[1], 10, 1, G_MAXINT64, &id, NULL))
    return wr_ctl_usage_error (ctl, "the grant id must be a positive number "
        "(see webremotectl grant list)");
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  grants = wr_store_grant_list (store, &error);
  for (guint i = 0; grants && i < grants->len; i++) {
    const WrStoredGrant *g = g_ptr_array_index (grants, i);

    if (g->id == id) {
      detail = wr_ctl_detail ("subject_kind", g->subject_kind, "subject",
          g->subject, "role", g->role_name, "group", g->group_name, NULL);
      break;
    }
  }
  if (!grants || !wr_store_grant_delete (store, id, &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!detail)
    detail = json_object_new ();
  json_object_set_int_member (detail, "grant", id);
  if (!wr_ctl_audit (ctl, "grant.delete", NULL, g_steal_pointer (&detail))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("deleted grant %" G_GINT64_FORMAT "\n", id);
  return WR_CTL_EXIT_OK;
}

const WrCtlCommand wr_ctl_access_commands[] = {
  { "role", "list", "[--json]", "List roles and their permissions",
    role_list, FALSE },
  { "role", "add", "NAME PERM...",
    "Create a custom role (permissions: view control clipboard "
    "file-transfer command record admin audit enroll)", role_add, TRUE },
  { "role", "set", "NAME PERM...",
    "Replace a custom role's permissions", role_set, FALSE },
  { "role", "delete", "NAME", "Delete a custom role no grant uses",
    role_delete, FALSE },
  { "group", "list", "[--json]", "List agent groups", group_list, FALSE },
  { "group", "add", "NAME [--require-reason] [--recording MODE] "
    "[--retention-days N]", "Create an agent group (recording: off, "
    "best-effort or strict; retention 0 = keep)", group_add, TRUE },
  { "group", "create", "NAME [--require-reason] [--recording MODE] "
    "[--retention-days N]", "The same as group add", group_add, TRUE },
  { "group", "set", "NAME [--require-reason|--no-require-reason] "
    "[--recording MODE] [--retention-days N]",
    "Change a group's policy: reason, recording, retention", group_set,
    FALSE },
  { "group", "delete", "NAME",
    "Delete an empty agent group and the grants on it", group_delete,
    FALSE },
  { "agent", "list", "[--json]", "List the agents the gateway has seen",
    agent_list, FALSE },
  { "agent", "set-group", "AGENT GROUP", "Move an agent to a group",
    agent_set_group, FALSE },
  { "grant", "list", "[--json]", "List grants", grant_list, FALSE },
  { "grant", "add", "(--user NAME | --oidc-group GROUP) --role ROLE "
    "[--group GROUP]",
    "Grant a role to a user or an SSO group, on one agent group or all",
    grant_add, FALSE },
  { "grant", "delete", "ID", "Delete a grant", grant_delete, FALSE },
  { NULL }
};
