/* Unit tests for agent/input-channel.c: what a viewer's input turns into,
 * checked without an X server (the channel's trace records each action). */
#include "config.h"

#include "agent/input-channel.h"

#include <string.h>

#include "common/protocol.h"

typedef struct {
  WrInputChannel *ch;
  GString *trace;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->trace = g_string_new (NULL);
  f->ch = wr_input_channel_new (NULL, GPOINTER_TO_INT (data) == 0);
  wr_input_channel_set_video_size (f->ch, 1280, 720);
  wr_input_channel_set_trace (f->ch, f->trace);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->ch, wr_input_channel_free);
  g_string_free (f->trace, TRUE);
}

/* Sends @json; returns the error code of the reply, or NULL. */
static char *
send (Fixture *f, const char *json)
{
  g_autofree char *reply = wr_input_channel_handle (f->ch, json,
      strlen (json));
  g_autoptr (JsonObject) msg = NULL;
  g_autoptr (GError) error = NULL;

  if (!reply)
    return NULL;
  /* Replies are valid agent -> peer messages. */
  msg = wr_message_parse (reply, strlen (reply), WR_CHANNEL_AGENT_TO_PEER,
      NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_message_get_type (msg), ==, "error");
  return g_strdup (wr_message_get_string (msg, "code"));
}

static void
assert_reply (Fixture *f, const char *json, const char *code)
{
  g_autofree char *got = send (f, json);

  g_assert_cmpstr (got, ==, code);
}

static void
test_move_inside_is_injected (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":640,\"y\":360}",
      NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":0,\"y\":0}",
      NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":1279,"
      "\"y\":719}", NULL);
  g_assert_cmpstr (f->trace->str, ==,
      "move 640 360\nmove 0 0\nmove 1279 719\n");
}

static void
test_out_of_range_is_refused (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":1280,\"y\":0}",
      "out_of_range");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":0,\"y\":720}",
      "out_of_range");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":-1,\"y\":5}",
      "out_of_range");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":99999999999,"
      "\"y\":5}", "invalid_field");
  /* A click at a bad position is not injected at all, not even the
   * button. */
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":1,"
      "\"down\":true,\"x\":5000,\"y\":10}", "out_of_range");
  g_assert_cmpstr (f->trace->str, ==, "");
}

static void
test_scaling_to_screen (void)
{
  g_autoptr (GError) error = NULL;
  int sx = -1, sy = -1;

  g_assert_true (wr_input_scale_point (1280, 720, 1920, 1080, 640, 360, &sx,
          &sy, &error));
  g_assert_cmpint (sx, ==, 960);
  g_assert_cmpint (sy, ==, 540);
  g_assert_true (wr_input_scale_point (1280, 720, 1920, 1080, 1279, 719,
          &sx, &sy, &error));
  g_assert_cmpint (sx, <, 1920);
  g_assert_cmpint (sy, <, 1080);
  g_assert_false (wr_input_scale_point (0, 0, 1920, 1080, 0, 0, &sx, &sy,
          &error));
  g_assert_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_OUT_OF_RANGE);
}

static void
test_button_range (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":0,"
      "\"down\":true}", "invalid_field");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":10,"
      "\"down\":true}", "invalid_field");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":1}",
      "invalid_field");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":3,"
      "\"down\":true,\"x\":10}", "invalid_field");
  g_assert_cmpstr (f->trace->str, ==, "");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":9,"
      "\"down\":true,\"x\":10,\"y\":20}", NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":9,"
      "\"down\":false}", NULL);
  g_assert_cmpstr (f->trace->str, ==,
      "move 10 20\nbutton 9 down\nbutton 9 up\n");
}

static void
test_wheel_clicks_per_notch (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.wheel\",\"dx\":0,\"dy\":-2}",
      NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.wheel\",\"dx\":1,\"dy\":1}",
      NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.wheel\",\"dx\":0,"
      "\"dy\":101}", "invalid_field");
  g_assert_cmpstr (f->trace->str, ==,
      "button 4 down\nbutton 4 up\nbutton 4 down\nbutton 4 up\n"
      "button 5 down\nbutton 5 up\nbutton 7 down\nbutton 7 up\n");
}

static void
test_keys (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"KeyA\","
      "\"down\":true}", NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"KeyA\","
      "\"down\":false}", NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"NoSuchKey\","
      "\"down\":true}", "invalid_field");
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"\","
      "\"down\":true}", "invalid_field");
  g_assert_cmpstr (f->trace->str, ==, "key 38 down\nkey 38 up\n");
}

static void
test_held_input_is_released (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"ShiftLeft\","
      "\"down\":true}", NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"KeyA\","
      "\"down\":true}", NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.button\",\"button\":1,"
      "\"down\":true}", NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"KeyA\","
      "\"down\":false}", NULL);
  g_string_truncate (f->trace, 0);

  /* input.reset releases what is still held, and only that. */
  assert_reply (f, "{\"v\":1,\"type\":\"input.reset\"}", NULL);
  g_assert_cmpstr (f->trace->str, ==, "key 50 up\nbutton 1 up\n");
  g_string_truncate (f->trace, 0);
  wr_input_channel_release_all (f->ch);
  g_assert_cmpstr (f->trace->str, ==, "");

  /* So does closing the channel (DataChannel closed, session ended). */
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"ControlRight\","
      "\"down\":true}", NULL);
  g_string_truncate (f->trace, 0);
  g_clear_pointer (&f->ch, wr_input_channel_free);
  g_assert_cmpstr (f->trace->str, ==, "key 105 up\n");
}

static void
test_bad_messages_get_typed_errors (Fixture *f, gconstpointer data)
{
  assert_reply (f, "not json", "bad_json");
  assert_reply (f, "{\"v\":2,\"type\":\"pointer.move\",\"x\":1,\"y\":1}",
      "bad_version");
  assert_reply (f, "{\"v\":1,\"type\":\"session.start\"}", "unknown_type");
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":\"1\","
      "\"y\":1}", "invalid_field");
  g_assert_cmpstr (f->trace->str, ==, "");
}

static void
test_view_only_drops_input (Fixture *f, gconstpointer data)
{
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":1,\"y\":1}",
      "forbidden");
  /* At most one answer per second. */
  assert_reply (f, "{\"v\":1,\"type\":\"pointer.move\",\"x\":1,\"y\":1}",
      NULL);
  assert_reply (f, "{\"v\":1,\"type\":\"key\",\"code\":\"KeyA\","
      "\"down\":true}", NULL);
  g_assert_cmpstr (f->trace->str, ==, "");
}

static void
test_scopes (void)
{
  const char *const view[] = { "view", NULL };
  const char *const both[] = { "view", "control", NULL };

  g_assert_false (wr_scopes_allow_control (view));
  g_assert_false (wr_scopes_allow_control (NULL));
  g_assert_true (wr_scopes_allow_control (both));
}

static void
test_flood_is_rate_limited (Fixture *f, gconstpointer data)
{
  const char *move = "{\"v\":1,\"type\":\"pointer.move\",\"x\":1,\"y\":1}";
  guint limited = 0, injected = 0;
  const char *p;

  for (int i = 0; i < 5000; i++) {
    g_autofree char *code = send (f, move);
    if (code && g_str_equal (code, "rate_limited"))
      limited++;
  }
  for (p = f->trace->str; (p = strstr (p, "move ")); p++)
    injected++;
  /* The burst of 2000 (plus what refills meanwhile) is injected, the rest
   * dropped, with one rate_limited answer per second at most. */
  g_assert_cmpuint (injected, >=, 2000);
  g_assert_cmpuint (injected, <, 4000);
  g_assert_cmpuint (limited, >=, 1);
  g_assert_cmpuint (limited, <=, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, GINT_TO_POINTER (0), setup, fn, teardown)
  ADD ("/agent/input/move-inside-the-video-is-injected",
      test_move_inside_is_injected);
  ADD ("/agent/input/out-of-range-coordinates-are-refused",
      test_out_of_range_is_refused);
  ADD ("/agent/input/buttons-outside-1-to-9-are-refused", test_button_range);
  ADD ("/agent/input/wheel-clicks-once-per-notch",
      test_wheel_clicks_per_notch);
  ADD ("/agent/input/keys-map-and-unknown-codes-are-refused", test_keys);
  ADD ("/agent/input/held-keys-and-buttons-are-released",
      test_held_input_is_released);
  ADD ("/agent/input/bad-messages-get-typed-errors",
      test_bad_messages_get_typed_errors);
  ADD ("/agent/input/flood-is-rate-limited", test_flood_is_rate_limited);
#undef ADD
  g_test_add ("/agent/input/view-only-session-drops-input", Fixture,
      GINT_TO_POINTER (1), setup, test_view_only_drops_input, teardown);
  g_test_add_func ("/agent/input/video-points-scale-to-the-screen",
      test_scaling_to_screen);
  g_test_add_func ("/agent/input/control-needs-the-control-scope",
      test_scopes);

  return g_test_run ();
}
