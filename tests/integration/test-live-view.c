/* webremote integration tests: live view, input, restart and bad input,
 * end to end on loopback.
 *
 * Each test starts its own Xvfb, gateway and agent (see harness.h) and uses
 * a GStreamer viewer (test-viewer.h) in place of the browser. Assertions
 * are on what a user observes: decoded frames and their size, where the X
 * pointer is, what an xterm received, HTTP statuses and error codes.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "harness.h"
#include "test-viewer.h"

#define WIDTH 1280
#define HEIGHT 720

typedef struct {
  WrHarness *h;
  WrTestViewer *viewer;
  WrTestViewer *witness;   /* a second session that must keep decoding */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  wr_watchdog_arm (60);
  f->h = wr_harness_new (WIDTH, HEIGHT);
  wr_harness_start_all (f->h, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->viewer, wr_test_viewer_free);
  g_clear_pointer (&f->witness, wr_test_viewer_free);
  g_clear_pointer (&f->h, wr_harness_free);
  wr_watchdog_disarm ();
}

/* A connected viewer with a session on the test agent that decodes. */
static WrTestViewer *
start_viewer (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  WrTestViewer *v;

  v = wr_test_viewer_new (f->h->base_url, f->h->fingerprint, f->h->token);
  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session (v, f->h->agent_id, NULL, 5000, &error);
  g_assert_no_error (error);
  if (!wr_test_viewer_wait_frames (v, 1, 15000))
    g_error ("no decoded frame within 15 s of session.request: %s",
        wr_test_viewer_describe (v));
  return v;
}

static void
setup_with_witness (Fixture *f, gconstpointer data)
{
  setup (f, data);
  f->witness = start_viewer (f);
  g_assert_true (wr_test_viewer_wait_input_channel (f->witness, 10000));
}

/* The witness session still gets frames: the gateway and the agent keep
 * serving other sessions whatever the test threw at them. */
static void
assert_witness_decodes (Fixture *f)
{
  guint64 before = wr_test_viewer_get_frames (f->witness);
  guint64 after;

  wr_iterate_ms (1000);
  after = wr_test_viewer_get_frames (f->witness);
  g_test_message ("witness decoded %" G_GUINT64_FORMAT " frames in 1 s",
      after - before);
  g_assert_cmpuint (after - before, >=, 10);
  g_assert_false (wr_test_viewer_had_pipeline_error (f->witness));
}

static char *
first_display_name (Fixture *f)
{
  g_autoptr (JsonObject) agent = wr_harness_get_agent (f->h);
  JsonArray *displays;
  JsonObject *d;

  g_assert_nonnull (agent);
  displays = json_object_get_array_member (agent, "displays");
  g_assert_nonnull (displays);
  g_assert_cmpuint (json_array_get_length (displays), >=, 1);
  d = json_array_get_object_element (displays, 0);
  return g_strdup (json_object_get_string_member (d, "name"));
}

/* ---------------------------------------------------------------------- */

static void
test_decodes_720p (Fixture *f, gconstpointer data)
{
  gint64 t0, t1;
  guint64 f0, f1;
  double fps;
  int width = 0, height = 0;

  f->viewer = start_viewer (f);
  g_test_message ("first frame %.0f ms after session.request",
      (wr_test_viewer_get_first_frame_time (f->viewer)
          - wr_test_viewer_get_request_time (f->viewer)) / 1000.0);

  /* Skip the start-up burst, then count over 3.5 s. */
  wr_iterate_ms (500);
  t0 = g_get_monotonic_time ();
  f0 = wr_test_viewer_get_frames (f->viewer);
  wr_iterate_ms (3500);
  t1 = g_get_monotonic_time ();
  f1 = wr_test_viewer_get_frames (f->viewer);
  fps = (double) (f1 - f0) * G_USEC_PER_SEC / (double) (t1 - t0);
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_test_message ("decoded %" G_GUINT64_FORMAT " frames in %.2f s: %.1f fps, "
      "%dx%d", f1 - f0, (t1 - t0) / 1e6, fps, width, height);

  g_assert_cmpint (width, ==, WIDTH);
  g_assert_cmpint (height, ==, HEIGHT);
  g_assert_cmpfloat (fps, >=, 25.0);
  g_assert_false (wr_test_viewer_had_pipeline_error (f->viewer));
}

typedef struct {
  WrHarness *h;
  int x;
  int y;
} PointerAt;

static gboolean
pointer_is_at (gpointer data)
{
  PointerAt *p = data;
  int x = -1, y = -1;

  return wr_harness_query_pointer (p->h, &x, &y) && x == p->x && y == p->y;
}

static void
send_input (Fixture *f, WrTestViewer *v, const char *json)
{
  g_assert_true (wr_test_viewer_send_input (v, json));
}

static void
move_pointer_and_check (Fixture *f, WrTestViewer *v, int x, int y)
{
  g_autofree char *json = g_strdup_printf (
      "{\"v\":1,\"type\":\"pointer.move\",\"x\":%d,\"y\":%d}", x, y);
  PointerAt at = { f->h, x, y };
  int rx = -1, ry = -1;

  send_input (f, v, json);
  if (!wr_wait_until (pointer_is_at, &at, 3000)) {
    wr_harness_query_pointer (f->h, &rx, &ry);
    g_error ("pointer.move to %d,%d: the X pointer is at %d,%d", x, y, rx,
        ry);
  }
}

static void
test_pointer_move_lands (Fixture *f, gconstpointer data)
{
  static const int points[][2] = {
    { 640, 360 }, { 10, 20 }, { WIDTH - 1, HEIGHT - 1 }, { 0, 0 },
    { 1000, 123 },
  };

  f->viewer = start_viewer (f);
  g_assert_true (wr_test_viewer_wait_input_channel (f->viewer, 10000));
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    move_pointer_and_check (f, f->viewer, points[i][0], points[i][1]);
}

static gboolean
file_holds_hi (gpointer data)
{
  g_autofree char *text = NULL;

  return g_file_get_contents (data, &text, NULL, NULL)
      && strcmp (text, "hi\n") == 0;
}

static void
send_key (Fixture *f, const char *code)
{
  g_autofree char *down = g_strdup_printf (
      "{\"v\":1,\"type\":\"key\",\"code\":\"%s\",\"down\":true}", code);
  g_autofree char *up = g_strdup_printf (
      "{\"v\":1,\"type\":\"key\",\"code\":\"%s\",\"down\":false}", code);

  send_input (f, f->viewer, down);
  send_input (f, f->viewer, up);
}

static void
test_keys_type_into_xterm (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_build_filename (f->h->tmp_dir, "typed", NULL);
  g_autofree char *cmd = g_strdup_printf ("cat > '%s'", file);
  g_autofree char *found = NULL;
  g_autofree char *text = NULL;
  const char *xterm[] = { "xterm", "-geometry", "80x24+0+0", "-e", "sh", "-c",
    cmd, NULL };
  const char *search[] = { "xdotool", "search", "--sync", "--onlyvisible",
    "--class", "xterm", NULL };

  wr_harness_spawn_x_client (f->h, xterm, &error);
  g_assert_no_error (error);
  found = wr_harness_run_x_command (f->h, search, &error);
  g_assert_no_error (error);

  f->viewer = start_viewer (f);
  g_assert_true (wr_test_viewer_wait_input_channel (f->viewer, 10000));
  /* No window manager: the focus follows the pointer (PointerRoot). */
  move_pointer_and_check (f, f->viewer, 100, 100);
  send_key (f, "KeyH");
  send_key (f, "KeyI");
  send_key (f, "Enter");
  if (!wr_wait_until (file_holds_hi, file, 5000)) {
    g_file_get_contents (file, &text, NULL, NULL);
    g_error ("the xterm received \"%s\", expected \"hi\\n\"",
        text ? g_strescape (text, NULL) : "(no file)");
  }
}

typedef struct {
  Fixture *f;
  const char *display;
  char *last;           /* the last agent JSON seen, for the failure text */
} SharedPipeline;

static gboolean
one_pipeline_two_peers (gpointer data)
{
  SharedPipeline *s = data;
  g_autoptr (JsonObject) agent = wr_harness_get_agent (s->f->h);
  g_autoptr (JsonNode) node = NULL;
  JsonArray *pipelines;
  JsonObject *p;

  if (!agent)
    return FALSE;
  node = json_node_init_object (json_node_alloc (), agent);
  g_free (s->last);
  s->last = json_to_string (node, FALSE);
  if (!json_object_has_member (agent, "pipelines"))
    return FALSE;
  pipelines = json_object_get_array_member (agent, "pipelines");
  /* One capture+encode for the whole agent, fanned out to both peers. */
  if (!pipelines || json_array_get_length (pipelines) != 1)
    return FALSE;
  p = json_array_get_object_element (pipelines, 0);
  return p && g_strcmp0 (json_object_get_string_member_with_default (p,
          "display", ""), s->display) == 0
      && json_object_get_int_member_with_default (p, "peers", 0) == 2;
}

static void
test_second_viewer_shares_encoder (Fixture *f, gconstpointer data)
{
  g_autofree char *display = first_display_name (f);
  SharedPipeline s = { f, display, NULL };
  guint64 a0, b0;

  f->viewer = start_viewer (f);
  f->witness = start_viewer (f);

  a0 = wr_test_viewer_get_frames (f->viewer);
  b0 = wr_test_viewer_get_frames (f->witness);
  wr_iterate_ms (1500);
  g_test_message ("in 1.5 s: viewer 1 decoded %" G_GUINT64_FORMAT
      ", viewer 2 %" G_GUINT64_FORMAT " frames",
      wr_test_viewer_get_frames (f->viewer) - a0,
      wr_test_viewer_get_frames (f->witness) - b0);
  g_assert_cmpuint (wr_test_viewer_get_frames (f->viewer) - a0, >=, 20);
  g_assert_cmpuint (wr_test_viewer_get_frames (f->witness) - b0, >=, 20);

  if (!wr_wait_until (one_pipeline_two_peers, &s, 5000))
    g_error ("expected exactly one pipeline for %s with 2 peers, "
        "GET /api/v1/agents says %s", display, s.last);
  g_test_message ("agent: %s", s.last);
  g_free (s.last);
}

static void
test_gateway_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 t_kill, t_listening, t_online;
  gboolean online = FALSE;

  g_assert_true (wr_harness_agent_online (f->h));

  t_kill = g_get_monotonic_time ();
  wr_harness_kill_gateway (f->h);
  wr_harness_start_gateway (f->h, &error);
  g_assert_no_error (error);
  t_listening = g_get_monotonic_time ();
  /* Tokens need not survive a restart: log in again. */
  wr_harness_login (f->h, &error);
  g_assert_no_error (error);

  while (g_get_monotonic_time () - t_kill < 10 * G_USEC_PER_SEC) {
    if ((online = wr_harness_agent_online (f->h)))
      break;
    wr_iterate_ms (50);
  }
  t_online = g_get_monotonic_time ();
  g_test_message ("gateway killed and restarted: listening after %.0f ms, "
      "agent online after %.0f ms (from the kill)",
      (t_listening - t_kill) / 1000.0, (t_online - t_kill) / 1000.0);
  g_assert_true (online);
  g_assert_cmpint (t_online - t_kill, <, 5 * G_USEC_PER_SEC);

  /* And it serves again: a new viewer decodes. */
  f->viewer = start_viewer (f);
}

/* ---------------------------------------------------------------------- */
/* Bad input                                                              */
/* ---------------------------------------------------------------------- */

static const char *
error_code (JsonObject *msg)
{
  return json_object_get_string_member_with_default (msg, "code", "");
}

static void
assert_http_error (WrHttpResponse *r, guint status, const char *code)
{
  g_assert_nonnull (r);
  g_test_message ("HTTP %u %s", r->status, r->body);
  g_assert_cmpuint (r->status, ==, status);
  g_assert_nonnull (r->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r->json));
  g_assert_cmpstr (error_code (json_node_get_object (r->json)), ==, code);
}

static void
test_bad_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrHttpResponse) wrong = NULL;
  g_autoptr (WrHttpResponse) none = NULL;
  g_autoptr (WrHttpResponse) bogus = NULL;
  g_autoptr (WrTestViewer) anon = NULL;
  g_autoptr (WrTestViewer) forged = NULL;
  guint status = 0;

  wrong = wr_harness_http (f->h, "POST", "/api/v1/login", NULL,
      "{\"username\":\"admin\",\"password\":\"not-the-password\"}", &error);
  g_assert_no_error (error);
  assert_http_error (wrong, 401, "unauthorized");
  g_assert_null (strstr (wrong->body, "token"));

  none = wr_harness_http (f->h, "GET", "/api/v1/agents", NULL, NULL, &error);
  g_assert_no_error (error);
  assert_http_error (none, 401, "unauthorized");
  bogus = wr_harness_http (f->h, "GET", "/api/v1/agents", "bogus-token",
      NULL, &error);
  g_assert_no_error (error);
  assert_http_error (bogus, 401, "unauthorized");

  /* The upgrade is refused with 401 and never becomes a WebSocket. */
  anon = wr_test_viewer_new (f->h->base_url, f->h->fingerprint, NULL);
  g_assert_false (wr_test_viewer_connect (anon, 5000, &status, &error));
  g_test_message ("/ws/client without a token: HTTP %u, %s", status,
      error ? error->message : "");
  g_assert_cmpuint (status, ==, 401);
  g_clear_error (&error);
  forged = wr_test_viewer_new (f->h->base_url, f->h->fingerprint, "bogus");
  g_assert_false (wr_test_viewer_connect (forged, 5000, &status, &error));
  g_assert_cmpuint (status, ==, 401);
  g_clear_error (&error);

  assert_witness_decodes (f);
}

/* Sends @text on the witness' WebSocket and returns the `error` answer. */
static JsonObject *
send_expecting_error (Fixture *f, const char *text)
{
  JsonObject *e;

  g_assert_true (wr_test_viewer_send_text (f->witness, text));
  e = wr_test_viewer_wait_message (f->witness, "error", 5000);
  g_assert_nonnull (e);
  g_test_message ("error %s: %s", error_code (e),
      json_object_get_string_member_with_default (e, "message", ""));
  return e;
}

static void
assert_ws_alive (WrTestViewer *v)
{
  g_autoptr (JsonObject) pong = NULL;

  g_assert_true (wr_test_viewer_send_text (v,
          "{\"v\":1,\"type\":\"ping\",\"id\":\"alive\"}"));
  pong = wr_test_viewer_wait_message (v, "pong", 5000);
  g_assert_nonnull (pong);
  g_assert_false (wr_test_viewer_is_closed (v, NULL));
}

static void
test_malformed_json (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) e1 = NULL;
  g_autoptr (JsonObject) e2 = NULL;

  wr_test_viewer_clear_messages (f->witness);
  e1 = send_expecting_error (f, "{\"v\":1,\"type\":\"ping\"");
  g_assert_cmpstr (error_code (e1), ==, "bad_json");
  e2 = send_expecting_error (f, "[1,2,3]");
  g_assert_cmpstr (error_code (e2), ==, "bad_json");
  assert_ws_alive (f->witness);
  assert_witness_decodes (f);
}

static void
test_too_large (Fixture *f, gconstpointer data)
{
  const gsize size = 1024 * 1024;
  const char *head = "{\"v\":1,\"type\":\"ping\",\"id\":\"big\",\"pad\":\"";
  g_autofree char *text = g_malloc (size + 1);
  g_autoptr (JsonObject) e = NULL;

  /* Exactly 1 MiB of valid JSON: refused for its size alone. */
  memset (text, 'x', size);
  memcpy (text, head, strlen (head));
  memcpy (text + size - 2, "\"}", 2);
  text[size] = '\0';

  wr_test_viewer_clear_messages (f->witness);
  e = send_expecting_error (f, text);
  g_assert_cmpstr (error_code (e), ==, "too_large");
  assert_ws_alive (f->witness);
  assert_witness_decodes (f);
}

static void
test_unknown_type_and_missing_field (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) e1 = NULL;
  g_autoptr (JsonObject) e2 = NULL;
  g_autoptr (JsonObject) e3 = NULL;
  g_autoptr (JsonObject) e4 = NULL;

  wr_test_viewer_clear_messages (f->witness);
  e1 = send_expecting_error (f,
      "{\"v\":1,\"type\":\"no.such.type\",\"id\":\"u1\"}");
  g_assert_cmpstr (error_code (e1), ==, "unknown_type");
  g_assert_cmpstr (json_object_get_string_member_with_default (e1, "ref",
          ""), ==, "u1");

  e2 = send_expecting_error (f,
      "{\"v\":1,\"type\":\"session.request\",\"id\":\"m1\"}");
  g_assert_cmpstr (error_code (e2), ==, "invalid_field");
  g_assert_cmpstr (json_object_get_string_member_with_default (e2, "ref",
          ""), ==, "m1");
  g_assert_nonnull (strstr (json_object_get_string_member_with_default (e2,
              "message", ""), "agent"));

  e4 = send_expecting_error (f, "{\"v\":2,\"type\":\"ping\",\"id\":\"b1\"}");
  g_assert_cmpstr (error_code (e4), ==, "bad_version");

  /* A type the client may not send (agent channel only). */
  e3 = send_expecting_error (f,
      "{\"v\":1,\"type\":\"agent.hello\",\"id\":\"h1\",\"agent\":\"x\","
      "\"name\":\"x\",\"version\":\"1\",\"displays\":[],\"encoders\":[]}");
  g_assert_cmpstr (error_code (e3), ==, "unknown_type");

  assert_ws_alive (f->witness);
  assert_witness_decodes (f);
}

static void
test_out_of_range_input (Fixture *f, gconstpointer data)
{
  static const char *bad[] = {
    "{\"v\":1,\"type\":\"pointer.move\",\"id\":\"o1\",\"x\":1280,\"y\":10}",
    "{\"v\":1,\"type\":\"pointer.move\",\"id\":\"o2\",\"x\":5000,\"y\":5000}",
    "{\"v\":1,\"type\":\"pointer.button\",\"id\":\"o3\",\"button\":1,"
        "\"down\":true,\"x\":10,\"y\":720}",
  };
  int x = -1, y = -1;

  move_pointer_and_check (f, f->witness, 100, 100);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonObject) e = NULL;

    send_input (f, f->witness, bad[i]);
    e = wr_test_viewer_wait_input_message (f->witness, 5000);
    g_assert_nonnull (e);
    g_test_message ("DataChannel answer: %s %s", error_code (e),
        json_object_get_string_member_with_default (e, "message", ""));
    g_assert_cmpstr (json_object_get_string_member_with_default (e, "type",
            ""), ==, "error");
    g_assert_cmpstr (error_code (e), ==, "out_of_range");
  }
  /* Nothing was injected. */
  wr_iterate_ms (300);
  g_assert_true (wr_harness_query_pointer (f->h, &x, &y));
  g_assert_cmpint (x, ==, 100);
  g_assert_cmpint (y, ==, 100);

  /* The channel still works. */
  move_pointer_and_check (f, f->witness, 200, 150);
  assert_witness_decodes (f);
}

static gboolean
viewer_closed (gpointer data)
{
  return wr_test_viewer_is_closed (data, NULL);
}

static void
test_flood_is_rate_limited (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrTestViewer) flooder = NULL;
  g_autoptr (WrTestViewer) after = NULL;
  g_autoptr (JsonObject) limited = NULL;
  gushort code = 0;
  guint pongs = 0;
  JsonObject *m;

  flooder = wr_test_viewer_new (f->h->base_url, f->h->fingerprint,
      f->h->token);
  wr_test_viewer_connect (flooder, 5000, NULL, &error);
  g_assert_no_error (error);
  /* Budget: bursts of 200, then 200 dropped messages close the socket. */
  for (int i = 0; i < 1000; i++)
    if (!wr_test_viewer_send_text (flooder, "{\"v\":1,\"type\":\"ping\"}"))
      break;
  if (!wr_wait_until (viewer_closed, flooder, 10000))
    g_error ("the gateway did not close a WebSocket that sent 1000 "
        "messages at once");
  wr_test_viewer_is_closed (flooder, &code);
  limited = wr_test_viewer_wait_message (flooder, "error", 100);
  while ((m = wr_test_viewer_wait_message (flooder, "pong", 0))) {
    pongs++;
    json_object_unref (m);
  }
  g_test_message ("flood: %u pongs, error %s, close code %u", pongs,
      limited ? error_code (limited) : "(none)", code);
  g_assert_nonnull (limited);
  g_assert_cmpstr (error_code (limited), ==, "rate_limited");
  g_assert_cmpuint (code, ==, 1008);
  g_assert_cmpuint (pongs, >=, 100);

  /* Only the flooder was cut off. */
  assert_ws_alive (f->witness);
  after = wr_test_viewer_new (f->h->base_url, f->h->fingerprint, f->h->token);
  wr_test_viewer_connect (after, 5000, NULL, &error);
  g_assert_no_error (error);
  assert_witness_decodes (f);
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
  /* GTest prints every g_debug() as a TAP comment; libsoup's WebSocket
   * debug drowns the log. WR_TEST_DEBUG=1 brings it back. */
  if (!g_getenv ("WR_TEST_DEBUG"))
    previous_log_handler = g_log_set_default_handler (quiet_log_handler,
        NULL);
  gst_init (&argc, &argv);

#define ADD(path, setup_fn, fn) \
  g_test_add (path, Fixture, NULL, setup_fn, fn, teardown)

  ADD ("/integration/live-view/decodes-720p-at-25fps", setup,
      test_decodes_720p);
  ADD ("/integration/input/pointer-move-lands", setup,
      test_pointer_move_lands);
  ADD ("/integration/input/keys-type-into-xterm", setup,
      test_keys_type_into_xterm);
  ADD ("/integration/live-view/second-viewer-shares-encoder", setup,
      test_second_viewer_shares_encoder);
  ADD ("/integration/gateway/restart-agent-back-within-5s", setup,
      test_gateway_restart);
  ADD ("/integration/bad-input/wrong-or-missing-credentials-get-401",
      setup_with_witness, test_bad_credentials);
  ADD ("/integration/bad-input/malformed-json-gets-bad-json-and-lives",
      setup_with_witness, test_malformed_json);
  ADD ("/integration/bad-input/1mib-message-gets-too-large-and-lives",
      setup_with_witness, test_too_large);
  ADD ("/integration/bad-input/unknown-type-bad-version-missing-field-get-typed-errors",
      setup_with_witness, test_unknown_type_and_missing_field);
  ADD ("/integration/bad-input/out-of-range-input-is-refused-and-not-injected",
      setup_with_witness, test_out_of_range_input);
  ADD ("/integration/bad-input/flood-is-rate-limited-then-closed",
      setup_with_witness, test_flood_is_rate_limited);
#undef ADD

  return g_test_run ();
}
