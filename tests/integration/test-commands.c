/* webremote integration tests: signed, allowlisted commands through the
 * real gateway (docs/security.md, "Commands").
 *
 * A viewer whose session lacks the `command` scope is refused by the
 * gateway; one with it gets the command's output and exit status; a
 * command the agent's own configuration does not allow is refused by the
 * agent, and the refusal reaches the viewer with its ref.
 */
#include "config.h"

#include <string.h>

#include <gst/gst.h>

#include "common/protocol.h"
#include "harness.h"
#include "test-viewer.h"

typedef struct {
  WrHarness *h;
  WrTestViewer *viewer;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  wr_watchdog_arm (60);
  f->h = wr_harness_new (640, 480);
  f->h->agent_extra_config = g_strdup (
      "[command hello]\nprogram=/usr/bin/echo\nargs=[a-z]+\nmax-args=4\n");
  wr_harness_start_all (f->h, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->viewer, wr_test_viewer_free);
  g_clear_pointer (&f->h, wr_harness_free);
  wr_watchdog_disarm ();
}

static void
start_session (Fixture *f, const char *const *scopes)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&f->viewer, wr_test_viewer_free);
  f->viewer = wr_test_viewer_new (f->h->base_url, f->h->fingerprint,
      f->h->token);
  wr_test_viewer_connect (f->viewer, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session_with_scopes (f->viewer, f->h->agent_id, NULL,
      scopes, 5000, &error);
  g_assert_no_error (error);
}

static void
send_run (Fixture *f, const char *id, const char *command,
    const char *const *args)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("command.run");
  g_autofree char *text = NULL;

  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, wr_test_viewer_get_sid (f->viewer));
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "args");
  json_builder_begin_array (b);
  for (; args && *args; args++)
    json_builder_add_string_value (b, *args);
  json_builder_end_array (b);
  text = wr_message_builder_finish (b);
  g_assert_true (wr_test_viewer_send_text (f->viewer, text));
}

static void
test_without_scope_refused (Fixture *f, gconstpointer data)
{
  static const char *const view[] = { "view", NULL };
  static const char *const args[] = { "hello", NULL };
  g_autoptr (JsonObject) err = NULL;
  g_autoptr (JsonObject) output = NULL;

  start_session (f, view);
  send_run (f, "run-1", "hello", args);
  err = wr_test_viewer_wait_message (f->viewer, "error", 5000);
  g_assert_nonnull (err);
  g_test_message ("%s: %s", wr_message_get_string (err, "code"),
      wr_message_get_string (err, "message"));
  g_assert_cmpstr (wr_message_get_string (err, "code"), ==, "forbidden");
  g_assert_cmpstr (wr_message_get_string (err, "ref"), ==, "run-1");
  /* The gateway's refusal: nothing was signed or sent to the agent (which
   * would refuse too: the session's grant lacks the scope). */
  g_assert_nonnull (strstr (wr_message_get_string (err, "message"),
          "not granted the command scope"));
  g_assert_null (wr_test_viewer_wait_message (f->viewer, "command.accepted",
          0));
  output = wr_test_viewer_wait_message (f->viewer, "command.output", 1000);
  g_assert_null (output);
  g_assert_null (wr_test_viewer_wait_message (f->viewer, "command.exit", 0));
}

static void
test_with_scope_output_and_exit (Fixture *f, gconstpointer data)
{
  static const char *const scopes[] = { "view", "command", NULL };
  static const char *const args[] = { "hello", "world", NULL };
  static const char *const bad[] = { "HELLO;", NULL };
  g_autoptr (JsonObject) accepted = NULL;
  g_autoptr (JsonObject) exit = NULL;
  g_autoptr (JsonObject) err = NULL;
  g_autoptr (JsonObject) err2 = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *cid;
  JsonObject *m;

  start_session (f, scopes);
  send_run (f, "run-ok", "hello", args);
  accepted = wr_test_viewer_wait_message (f->viewer, "command.accepted",
      5000);
  g_assert_nonnull (accepted);
  g_assert_cmpstr (wr_message_get_string (accepted, "ref"), ==, "run-ok");
  cid = wr_message_get_string (accepted, "cid");
  while ((m = wr_test_viewer_wait_message (f->viewer, "command.output",
              2000))) {
    g_assert_cmpstr (wr_message_get_string (m, "cid"), ==, cid);
    g_assert_cmpstr (wr_message_get_string (m, "stream"), ==, "stdout");
    g_string_append (out, wr_message_get_string (m, "data"));
    json_object_unref (m);
    if (g_str_has_suffix (out->str, "\n"))
      break;
  }
  g_assert_cmpstr (out->str, ==, "hello world\n");
  exit = wr_test_viewer_wait_message (f->viewer, "command.exit", 5000);
  g_assert_nonnull (exit);
  g_assert_cmpstr (wr_message_get_string (exit, "cid"), ==, cid);
  g_assert_cmpint (wr_message_get_int (exit, "status", -2), ==, 0);
  g_assert_false (wr_message_get_bool (exit, "timed_out", TRUE));
  g_assert_false (wr_message_get_bool (exit, "truncated", TRUE));

  /* Refused by the agent: not in its allowlist, or an argument its
   * pattern does not accept. */
  send_run (f, "run-nope", "reboot", NULL);
  err = wr_test_viewer_wait_message (f->viewer, "error", 5000);
  g_assert_nonnull (err);
  g_test_message ("%s: %s", wr_message_get_string (err, "code"),
      wr_message_get_string (err, "message"));
  g_assert_cmpstr (wr_message_get_string (err, "code"), ==, "forbidden");
  g_assert_cmpstr (wr_message_get_string (err, "ref"), ==, "run-nope");
  g_assert_nonnull (strstr (wr_message_get_string (err, "message"),
          "not a command this agent allows"));
  send_run (f, "run-bad", "hello", bad);
  err2 = wr_test_viewer_wait_message (f->viewer, "error", 5000);
  g_assert_nonnull (err2);
  g_assert_cmpstr (wr_message_get_string (err2, "code"), ==,
      "invalid_field");
  g_assert_cmpstr (wr_message_get_string (err2, "ref"), ==, "run-bad");
  g_assert_null (wr_test_viewer_wait_message (f->viewer, "command.exit",
          500));
}

static GLogFunc previous_log_handler;

static void
quiet_log_handler (const char *domain, GLogLevelFlags level,
    const char *message, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return;
  previous_log_handler (domain, level, message, user_data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!g_getenv ("WR_TEST_DEBUG"))
    previous_log_handler = g_log_set_default_handler (quiet_log_handler,
        NULL);
  gst_init (&argc, &argv);

  g_test_add ("/integration/commands/without-command-scope-refused",
      Fixture, NULL, setup, test_without_scope_refused, teardown);
  g_test_add ("/integration/commands/with-command-scope-output-and-exit",
      Fixture, NULL, setup, test_with_scope_output_and_exit, teardown);
  return g_test_run ();
}
