/* webremote-agent: the commands this machine allows. */
#include "config.h"

#include "agent/command-config.h"

#include <gio/gio.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

struct _WrCommandTable {
  GHashTable *by_name;  /* name -> WrCommandSpec */
};

static void
spec_free (gpointer data)
{
  WrCommandSpec *spec = data;

  g_free (spec->name);
  g_free (spec->program);
  if (spec->patterns)
    g_ptr_array_unref (spec->patterns);
  g_free (spec->run_as);
  g_free (spec);
}

void
wr_command_table_free (WrCommandTable *table)
{
  if (!table)
    return;
  g_hash_table_unref (table->by_name);
  g_free (table);
}

const WrCommandSpec *
wr_command_table_lookup (const WrCommandTable *table, const char *name)
{
  return table && name ? g_hash_table_lookup (table->by_name, name) : NULL;
}

guint
wr_command_table_size (const WrCommandTable *table)
{
  return table ? g_hash_table_size (table->by_name) : 0;
}

static void
problem (GString *out, const char *path, const char *text, const char *group,
    const char *key, const char *fmt, ...) G_GNUC_PRINTF (6, 7);

static void
problem (GString *out, const char *path, const char *text, const char *group,
    const char *key, const char *fmt, ...)
{
  va_list args;

  if (out->len)
    g_string_append_c (out, '\n');
  g_string_append_printf (out, "%s:%d: [%s]%s%s: ", path ? path : "(config)",
      wr_config_find_line (text, group, key), group, key ? " " : "",
      key ? key : "");
  va_start (args, fmt);
  g_string_append_vprintf (out, fmt, args);
  va_end (args);
}

static gboolean
valid_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

/* Who the command runs as: root drops to run-as (default nobody); anyone
 * else runs commands as itself and may only name itself. */
static gboolean
resolve_user (WrCommandSpec *spec, const char *group, const char *path,
    const char *text, GString *out)
{
  struct passwd *pw;
  uid_t euid = geteuid ();

  if (!spec->run_as) {
    if (euid == 0) {
      spec->run_as = g_strdup ("nobody");
    } else {
      pw = getpwuid (euid);
      spec->run_as = g_strdup (pw ? pw->pw_name : "");
      spec->switch_user = FALSE;
      return TRUE;
    }
  }
  pw = getpwnam (spec->run_as);
  if (!pw) {
    problem (out, path, text, group, "run-as", "no user called '%s'",
        spec->run_as);
    return FALSE;
  }
  if (euid != 0) {
    if (pw->pw_uid != euid) {
      problem (out, path, text, group, "run-as", "the agent does not run "
          "as root and cannot run commands as '%s'", spec->run_as);
      return FALSE;
    }
    spec->switch_user = FALSE;
    return TRUE;
  }
  spec->switch_user = TRUE;
  spec->uid = pw->pw_uid;
  spec->gid = pw->pw_gid;
  return TRUE;
}

static WrCommandSpec *
load_one (GKeyFile *kf, const char *group, const char *path,
    const char *text, GString *out)
{
  g_autoptr (GPtrArray) patterns = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_regex_unref);
  g_auto (GStrv) sources = wr_config_get_string_list (kf, group, "args");
  const char *name = group + strlen (WR_COMMAND_GROUP_PREFIX);
  WrCommandSpec *spec;
  gboolean ok = TRUE;
  gint64 max_args;

  if (!valid_name (name)) {
    problem (out, path, text, group, NULL, "a command name is 1 to 64 "
        "letters, digits, '-', '_' or '.'");
    return NULL;
  }
  spec = g_new0 (WrCommandSpec, 1);
  spec->name = g_strdup (name);
  spec->program = wr_config_get_string (kf, group, "program", NULL);
  if (!spec->program || !g_path_is_absolute (spec->program)) {
    problem (out, path, text, group, "program",
        "required, and an absolute path (commands run without a shell or "
        "a search path)");
    ok = FALSE;
  } else if (!g_file_test (spec->program, G_FILE_TEST_IS_EXECUTABLE)
      || g_file_test (spec->program, G_FILE_TEST_IS_DIR)) {
    problem (out, path, text, group, "program", "'%s' is not an "
        "executable file", spec->program);
    ok = FALSE;
  }

  for (guint i = 0; sources && sources[i]; i++) {
    g_autoptr (GError) local = NULL;
    g_autoptr (GRegex) alone = NULL;
    g_autofree char *anchored = NULL;
    GRegex *re = NULL;

    /* On its own first: a pattern with unbalanced parentheses such as
     * "a)|(.*" would otherwise escape the anchors added around it. */
    alone = g_regex_new (sources[i], 0, 0, &local);
    if (alone) {
      /* Anchored at both ends: a pattern describes the whole argument. */
      anchored = g_strconcat ("\\A(?:", sources[i], ")\\z", NULL);
      re = g_regex_new (anchored, G_REGEX_ANCHORED, 0, &local);
    }
    if (!re) {
      problem (out, path, text, group, "args", "pattern %u is not a valid "
          "regular expression: %s", i + 1, local->message);
      ok = FALSE;
      continue;
    }
    g_ptr_array_add (patterns, re);
  }
  if (sources && g_strv_length (sources) > 32) {
    problem (out, path, text, group, "args", "at most 32 patterns");
    ok = FALSE;
  }
  max_args = wr_config_get_int (kf, group, "max-args",
      sources ? g_strv_length (sources) : 0);
  if (max_args > 0 && (!sources || !sources[0])) {
    problem (out, path, text, group, "max-args",
        "arguments need patterns in args=");
    ok = FALSE;
  }
  spec->max_args = (guint) CLAMP (max_args, 0, 32);
  spec->patterns = g_steal_pointer (&patterns);
  spec->timeout_ms = (guint) wr_config_get_int (kf, group, "timeout-ms",
      WR_COMMAND_DEFAULT_TIMEOUT_MS);
  spec->max_output = (gsize) wr_config_get_int (kf, group, "max-output",
      WR_COMMAND_DEFAULT_MAX_OUTPUT);
  spec->run_as = wr_config_get_string (kf, group, "run-as", NULL);
  if (spec->run_as && !*spec->run_as)
    g_clear_pointer (&spec->run_as, g_free);
  if (!resolve_user (spec, group, path, text, out))
    ok = FALSE;

  if (!ok) {
    spec_free (spec);
    return NULL;
  }
  return spec;
}

WrCommandTable *
wr_command_table_load (GKeyFile *kf, const char *path, GError **error)
{
  g_autoptr (WrCommandTable) table = g_new0 (WrCommandTable, 1);
  g_autoptr (GString) out = g_string_new (NULL);
  g_auto (GStrv) groups = NULL;
  g_autofree char *text = NULL;

  table->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      spec_free);
  if (!kf)
    return g_steal_pointer (&table);
  /* Only for line numbers in messages. */
  if (path)
    g_file_get_contents (path, &text, NULL, NULL);
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g]; g++) {
    WrCommandSpec *spec;
    if (!g_str_has_prefix (groups[g], WR_COMMAND_GROUP_PREFIX))
      continue;
    spec = load_one (kf, groups[g], path, text, out);
    if (spec)
      g_hash_table_insert (table->by_name, spec->name, spec);
  }
  if (out->len) {
    g_set_error_literal (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        out->str);
    return NULL;
  }
  return g_steal_pointer (&table);
}

gboolean
wr_command_spec_check_args (const WrCommandSpec *spec,
    const char *const *argv, GError **error)
{
  guint n = argv ? g_strv_length ((GStrv) argv) : 0;

  if (n > spec->max_args) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "command '%s' takes at most %u arguments", spec->name,
        spec->max_args);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    GRegex *re = g_ptr_array_index (spec->patterns,
        MIN (i, spec->patterns->len - 1));
    if (!g_regex_match (re, argv[i], 0, NULL)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
          "argument %u of command '%s' does not match its allowed pattern",
          i + 1, spec->name);
      return FALSE;
    }
  }
  return TRUE;
}
