/* Unit tests for agent/command-config.c: [command NAME] sections, their
 * FILE:LINE errors, and argument matching. */
#include "config.h"

#include "agent/agent-config.h"
#include "agent/command-config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *
write_conf (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("wr-command-config-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static WrAgentConfig *
load (const char *text, GError **error)
{
  g_autofree char *path = write_conf (text);
  WrAgentConfig *cfg = wr_agent_config_load (path, TRUE, error);

  g_unlink (path);
  return cfg;
}

static void
test_parses_and_defaults (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = load (
      "[agent]\nid = a\n\n"
      "[command uptime]\nprogram = /usr/bin/uptime\n\n"
      "[command ping]\nprogram=/usr/bin/echo\n"
      "args=-c;[0-9]{1,2};[a-z0-9.-]+\ntimeout-ms=2000\nmax-output=100\n",
      &error);
  const WrCommandSpec *uptime, *ping;

  g_assert_no_error (error);
  g_assert_cmpuint (wr_command_table_size (cfg->commands), ==, 2);
  uptime = wr_command_table_lookup (cfg->commands, "uptime");
  g_assert_nonnull (uptime);
  g_assert_cmpstr (uptime->program, ==, "/usr/bin/uptime");
  g_assert_cmpuint (uptime->max_args, ==, 0);
  g_assert_cmpuint (uptime->timeout_ms, ==, WR_COMMAND_DEFAULT_TIMEOUT_MS);
  g_assert_cmpuint (uptime->max_output, ==, WR_COMMAND_DEFAULT_MAX_OUTPUT);
  if (geteuid () == 0) {
    g_assert_cmpstr (uptime->run_as, ==, "nobody");
    g_assert_true (uptime->switch_user);
  } else {
    g_assert_false (uptime->switch_user);
  }
  ping = wr_command_table_lookup (cfg->commands, "ping");
  g_assert_nonnull (ping);
  g_assert_cmpuint (ping->max_args, ==, 3);
  g_assert_cmpuint (ping->timeout_ms, ==, 2000);
  g_assert_cmpuint (ping->max_output, ==, 100);
  g_assert_null (wr_command_table_lookup (cfg->commands, "rm"));
}

static void
test_arguments_match_anchored_patterns (void)
{
  g_autoptr (WrAgentConfig) cfg = load (
      "[command ping]\nprogram=/usr/bin/echo\n"
      "args=-c;[0-9]{1,2};[a-z0-9.-]+\n", NULL);
  const WrCommandSpec *ping = wr_command_table_lookup (cfg->commands,
      "ping");
  const char *ok[] = { "-c", "3", "example.org", NULL };
  const char *fewer[] = { "-c", NULL };
  const char *suffix[] = { "-c", "3; rm -rf /", NULL };
  const char *prefix[] = { "x-c", NULL };
  const char *newline[] = { "-c", "3\n", NULL };
  const char *many[] = { "-c", "3", "a", "b", NULL };
  g_autoptr (GError) error = NULL;

  g_assert_true (wr_command_spec_check_args (ping, ok, NULL));
  g_assert_true (wr_command_spec_check_args (ping, fewer, NULL));
  g_assert_true (wr_command_spec_check_args (ping, NULL, NULL));
  g_assert_false (wr_command_spec_check_args (ping, suffix, &error));
  g_assert_nonnull (strstr (error->message, "argument 2"));
  g_assert_null (strstr (error->message, "rm -rf"));
  g_assert_false (wr_command_spec_check_args (ping, prefix, NULL));
  g_assert_false (wr_command_spec_check_args (ping, newline, NULL));
  g_assert_false (wr_command_spec_check_args (ping, many, NULL));
}

/* A pattern cannot escape its anchors with unbalanced parentheses. */
static void
test_pattern_cannot_escape_anchors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = load (
      "[command e]\nprogram=/usr/bin/echo\nargs=a)|(.*\n", &error);

  g_assert_null (cfg);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "[command e] args: pattern 1"));
}

static void
test_errors_name_file_and_line (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_conf (
      "[command rel]\n"
      "program = uptime\n"
      "\n"
      "[command badre]\n"
      "program = /usr/bin/echo\n"
      "args = ([a-z]+\n"
      "\n"
      "[command who]\n"
      "program = /usr/bin/id\n"
      "run-as = no-such-user-here\n"
      "\n"
      "[command bad name!]\n"
      "program = /usr/bin/id\n"
      "\n"
      "[command t]\n"
      "program = /usr/bin/id\n"
      "timeout-ms = 5\n"
      "shell = /bin/sh\n");
  g_autoptr (WrAgentConfig) cfg = wr_agent_config_load (path, TRUE, &error);
  g_autofree char *l2 = g_strdup_printf ("%s:2: [command rel] program",
      path);
  g_autofree char *l6 = g_strdup_printf ("%s:6: [command badre] args",
      path);
  g_autofree char *l10 = g_strdup_printf ("%s:10: [command who] run-as",
      path);
  g_autofree char *l12 = g_strdup_printf ("%s:12: [command bad name!]",
      path);
  g_autofree char *l17 = g_strdup_printf ("%s:17: [command t] timeout-ms",
      path);
  g_autofree char *l18 = g_strdup_printf ("%s:18: [command t] shell", path);

  g_assert_null (cfg);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID);
  g_test_message ("%s", error->message);
  /* The schema's own checks come first and stop the load. */
  g_assert_nonnull (strstr (error->message, l17));
  g_assert_nonnull (strstr (error->message, l18));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (path,
          "[command rel]\n"
          "program = uptime\n"
          "\n"
          "[command badre]\n"
          "program = /usr/bin/echo\n"
          "args = ([a-z]+\n"
          "\n"
          "[command who]\n"
          "program = /usr/bin/id\n"
          "run-as = no-such-user-here\n"
          "\n"
          "[command bad name!]\n"
          "program = /usr/bin/id\n", -1, NULL));
  cfg = wr_agent_config_load (path, TRUE, &error);
  g_assert_null (cfg);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, l2));
  g_assert_nonnull (strstr (error->message, l6));
  g_assert_nonnull (strstr (error->message, l10));
  g_assert_nonnull (strstr (error->message, l12));
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/command-config/parses-with-defaults",
      test_parses_and_defaults);
  g_test_add_func ("/agent/command-config/arguments-match-anchored-patterns",
      test_arguments_match_anchored_patterns);
  g_test_add_func ("/agent/command-config/pattern-cannot-escape-anchors",
      test_pattern_cannot_escape_anchors);
  g_test_add_func ("/agent/command-config/errors-name-file-and-line",
      test_errors_name_file_and_line);
  return g_test_run ();
}
