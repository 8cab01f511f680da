/* webremotectl: the admin command line (docs/operations.md). It opens the
 * gateway's store itself, the way the gateway does (gateway/main.c), so it
 * works with no gateway running: the first account, a forgotten password,
 * a locked-out admin. */
#include "config.h"

#include "gateway/ctl.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gateway/gateway-config.h"

struct _WrCtl {
  const WrCtlCommand *command;
  char *location;         /* an SQLite path or a PostgreSQL URL */
  gboolean is_sqlite;
  WrStore *store;
  const WrGatewayConfig *config;
};

static char *opt_config;
static char *opt_state_dir;
static char *opt_store;
static gboolean opt_verbose;
static gboolean opt_version;

/* FILENAME, not STRING: the bytes stay as given whatever the locale, and
 * are checked as UTF-8 where it matters (names), not refused up front. */
static const GOptionEntry global_entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
    "Gateway configuration file (default " WR_GATEWAY_DEFAULT_CONFIG ")",
    "FILE" },
  { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
    "The gateway's state directory (the SQLite store is STATE/webremote.db)",
    "DIR" },
  { "store", 0, 0, G_OPTION_ARG_FILENAME, &opt_store,
    "The store: postgresql://... or an SQLite file (overrides [store] url)",
    "URL" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
    "Print debug messages (database errors in detail)", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { NULL }
};

static const WrCtlCommand *const command_tables[] = {
  wr_ctl_user_commands,
  wr_ctl_access_commands,
  wr_ctl_enroll_commands,
  wr_ctl_audit_commands,
  wr_ctl_recording_commands,
};

/* ------------------------------------------------------------------ */
/* Helpers for the command files */

static void
print_prefixed (WrCtl *ctl, const char *message)
{
  if (ctl && ctl->command)
    fprintf (stderr, "webremotectl: %s %s: %s\n", ctl->command->object,
        ctl->command->verb, message);
  else
    fprintf (stderr, "webremotectl: %s\n", message);
}

int
wr_ctl_usage_error (WrCtl *ctl, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  print_prefixed (ctl, message);
  return WR_CTL_EXIT_USAGE;
}

/* Messages from libpq span lines; an error here is one line. */
static char *
one_line (const char *message)
{
  GString *s = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = message; *p; p++) {
    if (g_ascii_isspace (*p)) {
      space = TRUE;
      continue;
    }
    if (space && s->len)
      g_string_append_c (s, ' ');
    space = FALSE;
    g_string_append_c (s, *p);
  }
  return g_string_free (s, FALSE);
}

int
wr_ctl_fail (WrCtl *ctl, const GError *error)
{
  g_autofree char *message = one_line (error->message);

  /* The store keeps backend details out of its messages (g_debug has
   * them): say where to find them. An open failure says it all. */
  if (g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED)
      && !g_str_has_prefix (message, "cannot open the store")
      && !opt_verbose)
    fprintf (stderr, "webremotectl: %s (run with --verbose for details)\n",
        message);
  else
    fprintf (stderr, "webremotectl: %s\n", message);
  return WR_CTL_EXIT_FAILED;
}

int
wr_ctl_failf (WrCtl *ctl, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "webremotectl: %s\n", message);
  return WR_CTL_EXIT_FAILED;
}

gboolean
wr_ctl_parse (WrCtl *ctl, const GOptionEntry *entries, int *argc,
    char ***argv, guint min_args, guint max_args)
{
  g_autoptr (GOptionContext) oc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *params = NULL;
  guint n;

  params = g_strdup_printf ("%s %s %s", ctl->command->object,
      ctl->command->verb, ctl->command->synopsis);
  oc = g_option_context_new (params);
  g_option_context_set_summary (oc, ctl->command->summary);
  if (entries)
    g_option_context_add_main_entries (oc, entries, NULL);
  if (!g_option_context_parse (oc, argc, argv, &error)) {
    wr_ctl_usage_error (ctl, "%s", error->message);
    return FALSE;
  }
  /* GOption leaves "--" in place when it ends the options. */
  if (*argc > 1 && g_str_equal ((*argv)[1], "--")) {
    memmove (&(*argv)[1], &(*argv)[2], sizeof (char *) * (gsize) (*argc - 2));
    (*argc)--;
    (*argv)[*argc] = NULL;
  }
  n = (guint) (*argc - 1);
  if (n < min_args) {
    wr_ctl_usage_error (ctl, "missing argument (usage: webremotectl %s %s "
        "%s)", ctl->command->object, ctl->command->verb,
        ctl->command->synopsis);
    return FALSE;
  }
  if (n > max_args) {
    const char *extra = (*argv)[1 + max_args];

    if (g_utf8_validate (extra, -1, NULL) && strlen (extra) <= 64)
      wr_ctl_usage_error (ctl, "unexpected argument '%s' (usage: webremotectl "
          "%s %s %s)", extra, ctl->command->object, ctl->command->verb,
          ctl->command->synopsis);
    else
      wr_ctl_usage_error (ctl, "too many arguments (usage: webremotectl %s %s "
          "%s)", ctl->command->object, ctl->command->verb,
          ctl->command->synopsis);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr_ctl_check_name (WrCtl *ctl, const char *what, const char *value,
    gboolean is_new)
{
  gsize len = strlen (value);

  if (len == 0) {
    wr_ctl_usage_error (ctl, "the %s must not be empty", what);
    return FALSE;
  }
  if (len > WR_STORE_MAX_NAME) {
    wr_ctl_usage_error (ctl, "the %s is longer than %d bytes", what,
        WR_STORE_MAX_NAME);
    return FALSE;
  }
  if (!g_utf8_validate (value, (gssize) len, NULL)) {
    wr_ctl_usage_error (ctl, "the %s is not valid UTF-8", what);
    return FALSE;
  }
  for (const char *p = value; *p; p = g_utf8_next_char (p)) {
    if (g_unichar_iscntrl (g_utf8_get_char (p))) {
      wr_ctl_usage_error (ctl, "the %s must not contain control characters",
          what);
      return FALSE;
    }
  }
  if (!is_new)
    return TRUE;
  if (strpbrk (value, "'\"`\\")) {
    wr_ctl_usage_error (ctl, "the %s must not contain quotes or backslashes",
        what);
    return FALSE;
  }
  if (g_unichar_isspace (g_utf8_get_char (value))
      || g_unichar_isspace (g_utf8_get_char (g_utf8_prev_char (value + len)))) {
    wr_ctl_usage_error (ctl, "the %s must not begin or end with white space",
        what);
    return FALSE;
  }
  return TRUE;
}

const WrGatewayConfig *
wr_ctl_get_config (WrCtl *ctl)
{
  return ctl->config;
}

WrStore *
wr_ctl_get_store (WrCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  gboolean created = FALSE;

  if (ctl->store)
    return ctl->store;

  if (ctl->is_sqlite && !g_file_test (ctl->location, G_FILE_TEST_EXISTS)) {
    g_autofree char *dir = g_path_get_dirname (ctl->location);

    /* A mistyped --state-dir must not quietly start an empty store; only
     * commands that create something may (bootstrap before the gateway
     * ever ran). */
    if (!ctl->command->may_create) {
      wr_ctl_failf (ctl, "no store at %s (check --state-dir, --store, or "
          "[gateway] state-dir and [store] url in the configuration)",
          ctl->location);
      return NULL;
    }
    if (g_mkdir_with_parents (dir, 0700) < 0) {
      wr_ctl_failf (ctl, "cannot create the state directory %s: %s", dir,
          g_strerror (errno));
      return NULL;
    }
    created = TRUE;
  }

  ctl->store = wr_store_open (ctl->location, &error);
  if (!ctl->store) {
    wr_ctl_fail (ctl, error);
    return NULL;
  }
  if (created)
    fprintf (stderr, "webremotectl: created a new store at %s\n",
        ctl->location);
  g_debug ("store: %s, schema version %d",
      wr_store_get_backend_name (ctl->store),
      wr_store_get_schema_version (ctl->store));
  return ctl->store;
}

void
wr_ctl_print_json (JsonNode *root)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

void
wr_ctl_print_table (GPtrArray *rows)
{
  g_autoptr (GArray) widths = g_array_new (FALSE, TRUE, sizeof (glong));

  for (guint r = 0; r < rows->len; r++) {
    char **row = g_ptr_array_index (rows, r);

    for (guint c = 0; row[c]; c++) {
      glong w = g_utf8_strlen (row[c], -1);

      if (c >= widths->len)
        g_array_set_size (widths, c + 1);
      if (w > g_array_index (widths, glong, c))
        g_array_index (widths, glong, c) = w;
    }
  }
  for (guint r = 0; r < rows->len; r++) {
    char **row = g_ptr_array_index (rows, r);
    g_autoptr (GString) line = g_string_new (NULL);

    for (guint c = 0; row[c]; c++) {
      g_string_append (line, row[c]);
      if (row[c + 1]) {
        glong pad = g_array_index (widths, glong, c)
            - g_utf8_strlen (row[c], -1) + 2;

        for (glong i = 0; i < pad; i++)
          g_string_append_c (line, ' ');
      }
    }
    printf ("%s\n", line->str);
  }
}

char *
wr_ctl_format_time (gint64 unix_seconds, const char *none)
{
  g_autoptr (GDateTime) t = NULL;

  if (unix_seconds <= 0)
    return g_strdup (none);
  t = g_date_time_new_from_unix_local (unix_seconds);
  if (!t)
    return g_strdup_printf ("%" G_GINT64_FORMAT, unix_seconds);
  return g_date_time_format (t, "%Y-%m-%d %H:%M");
}

gint64
wr_ctl_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* ------------------------------------------------------------------ */
/* Dispatcher */

static char *
describe_commands (void)
{
  GString *s = g_string_new ("Commands:\n");

  for (guint t = 0; t < G_N_ELEMENTS (command_tables); t++) {
    for (const WrCtlCommand *c = command_tables[t]; c->object; c++) {
      g_autofree char *head = g_strdup_printf ("%s %s %s", c->object,
          c->verb, c->synopsis);

      g_string_append_printf (s, "  %s\n      %s\n", head, c->summary);
    }
  }
  g_string_append (s, "\nExit status: 0 done, 1 the operation failed, "
      "2 bad usage or configuration.\nSee docs/operations.md.");
  return g_string_free (s, FALSE);
}

static gboolean
object_exists (const char *object)
{
  for (guint t = 0; t < G_N_ELEMENTS (command_tables); t++)
    for (const WrCtlCommand *c = command_tables[t]; c->object; c++)
      if (g_str_equal (c->object, object))
        return TRUE;
  return FALSE;
}

static const WrCtlCommand *
find_command (const char *object, const char *verb)
{
  for (guint t = 0; t < G_N_ELEMENTS (command_tables); t++)
    for (const WrCtlCommand *c = command_tables[t]; c->object; c++)
      if (g_str_equal (c->object, object) && g_str_equal (c->verb, verb))
        return c;
  return NULL;
}

static char *
verbs_of (const char *object)
{
  GString *s = g_string_new (NULL);

  for (guint t = 0; t < G_N_ELEMENTS (command_tables); t++)
    for (const WrCtlCommand *c = command_tables[t]; c->object; c++)
      if (g_str_equal (c->object, object))
        g_string_append_printf (s, "%s%s", s->len ? ", " : "", c->verb);
  return g_string_free (s, FALSE);
}

/* An argument echoed in an error message: only when it is harmless. */
static const char *
shown (const char *arg)
{
  if (!g_utf8_validate (arg, -1, NULL) || strlen (arg) > 64)
    return "?";
  for (const char *p = arg; *p; p++)
    if (g_ascii_iscntrl (*p))
      return "?";
  return arg;
}

static char *
store_location (const WrGatewayConfig *config, gboolean *is_sqlite)
{
  const char *url = opt_store ? opt_store : config->store_url;

  if (url && *url) {
    *is_sqlite = !g_str_has_prefix (url, "postgresql://")
        && !g_str_has_prefix (url, "postgres://");
    return g_strdup (url);
  }
  *is_sqlite = TRUE;
  return g_build_filename (config->state_dir, "webremote.db", NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) oc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGatewayConfig) config = NULL;
  g_autoptr (GPtrArray) sub_argv = NULL;
  g_autofree char *description = NULL;
  g_autofree char *sub_name = NULL;
  const WrCtlCommand *command;
  WrCtl ctl = { 0 };
  int sub_argc;
  int rc;

  setlocale (LC_ALL, "");
  g_set_prgname ("webremotectl");

  oc = g_option_context_new ("COMMAND [ARGS...] - webremote administration");
  g_option_context_add_main_entries (oc, global_entries, NULL);
  /* Stop at the command: its options belong to it. */
  g_option_context_set_strict_posix (oc, TRUE);
  description = describe_commands ();
  g_option_context_set_description (oc, description);
  if (!g_option_context_parse (oc, &argc, &argv, &error)) {
    fprintf (stderr, "webremotectl: %s\n", error->message);
    return WR_CTL_EXIT_USAGE;
  }
  if (opt_version) {
    printf ("webremotectl %s\n", WR_VERSION);
    return WR_CTL_EXIT_OK;
  }
  if (opt_verbose)
    g_log_set_debug_enabled (TRUE);

  if (argc > 1 && g_str_equal (argv[1], "--")) {
    argv++;
    argc--;
  }
  if (argc < 2) {
    fprintf (stderr, "webremotectl: missing command (see webremotectl "
        "--help)\n");
    return WR_CTL_EXIT_USAGE;
  }
  if (g_str_equal (argv[1], "help")) {
    g_autofree char *help = g_option_context_get_help (oc, TRUE, NULL);

    printf ("%s", help);
    return WR_CTL_EXIT_OK;
  }
  if (!object_exists (argv[1])) {
    fprintf (stderr, "webremotectl: unknown command '%s' (see webremotectl "
        "--help)\n", shown (argv[1]));
    return WR_CTL_EXIT_USAGE;
  }
  if (argc < 3) {
    g_autofree char *verbs = verbs_of (argv[1]);

    fprintf (stderr, "webremotectl: %s: missing command (one of: %s)\n",
        argv[1], verbs);
    return WR_CTL_EXIT_USAGE;
  }
  command = find_command (argv[1], argv[2]);
  if (!command) {
    g_autofree char *verbs = verbs_of (argv[1]);

    fprintf (stderr, "webremotectl: %s: unknown command '%s' (one of: %s)\n",
        argv[1], shown (argv[2]), verbs);
    return WR_CTL_EXIT_USAGE;
  }

  config = wr_gateway_config_load (opt_config ? opt_config
      : WR_GATEWAY_DEFAULT_CONFIG, opt_config != NULL, &error);
  if (!config) {
    fprintf (stderr, "webremotectl: invalid configuration:\n%s\n",
        error->message);
    return WR_CTL_EXIT_USAGE;
  }
  if (opt_state_dir) {
    g_free (config->state_dir);
    config->state_dir = g_strdup (opt_state_dir);
  }

  ctl.command = command;
  ctl.config = config;
  ctl.location = store_location (config, &ctl.is_sqlite);

  /* The command sees "webremotectl OBJECT VERB" as its argv[0]. */
  sub_name = g_strdup_printf ("webremotectl %s %s", command->object,
      command->verb);
  sub_argv = g_ptr_array_new ();
  g_ptr_array_add (sub_argv, sub_name);
  for (int i = 3; i < argc; i++)
    g_ptr_array_add (sub_argv, argv[i]);
  sub_argc = (int) sub_argv->len;
  g_ptr_array_add (sub_argv, NULL);

  rc = command->handler (&ctl, sub_argc, (char **) sub_argv->pdata);

  if (ctl.store)
    wr_store_close (ctl.store);
  g_free (ctl.location);
  g_free (opt_config);
  g_free (opt_state_dir);
  g_free (opt_store);
  return rc;
}
