/* webremote integration tests: session grants enforced by the agent.
 *
 * A real Xvfb, gateway and agent on loopback (harness.h) and GStreamer
 * viewers (test-viewer.h). What is asserted is what a user observes: where
 * the X pointer is, what GET /api/v1/sessions says, what the viewer is
 * told.
 */
#include "config.h"

#include <string.h>

#include <gst/gst.h>

#include "common/autocleanups.h"
#include "common/grant.h"
#include "harness.h"
#include "test-viewer.h"

#define WIDTH 1280
#define HEIGHT 720

typedef struct {
  WrHarness *h;
  WrTestViewer *viewer;   /* view only */
  WrTestViewer *control;  /* view and control */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  wr_watchdog_arm (60);
  f->h = wr_harness_new (WIDTH, HEIGHT);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->viewer, wr_test_viewer_free);
  g_clear_pointer (&f->control, wr_test_viewer_free);
  g_clear_pointer (&f->h, wr_harness_free);
  wr_watchdog_disarm ();
}

static WrTestViewer *
start_viewer (Fixture *f, const char *const *scopes)
{
  g_autoptr (GError) error = NULL;
  WrTestViewer *v;

  v = wr_test_viewer_new (f->h->base_url, f->h->fingerprint, f->h->token);
  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session_with_scopes (v, f->h->agent_id, NULL, scopes,
      5000, &error);
  g_assert_no_error (error);
  if (!wr_test_viewer_wait_frames (v, 1, 15000))
    g_error ("no decoded frame within 15 s of session.request: %s",
        wr_test_viewer_describe (v));
  g_assert_true (wr_test_viewer_wait_input_channel (v, 10000));
  return v;
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
move_pointer_and_check (Fixture *f, WrTestViewer *v, int x, int y)
{
  g_autofree char *json = g_strdup_printf (
      "{\"v\":1,\"type\":\"pointer.move\",\"x\":%d,\"y\":%d}", x, y);
  PointerAt at = { f->h, x, y };
  int rx = -1, ry = -1;

  g_assert_true (wr_test_viewer_send_input (v, json));
  if (!wr_wait_until (pointer_is_at, &at, 3000)) {
    wr_harness_query_pointer (f->h, &rx, &ry);
    g_error ("pointer.move to %d,%d: the X pointer is at %d,%d", x, y, rx,
        ry);
  }
}

/* The entry of GET /api/v1/sessions for @sid, or NULL. */
static JsonObject *
get_session (Fixture *f, const char *sid)
{
  g_autoptr (WrHttpResponse) r = wr_harness_http (f->h, "GET",
      "/api/v1/sessions", f->h->token, NULL, NULL);
  JsonArray *sessions;

  if (!r || r->status != 200 || !r->json || !JSON_NODE_HOLDS_OBJECT (r->json))
    return NULL;
  sessions = json_object_get_array_member (json_node_get_object (r->json),
      "sessions");
  for (guint i = 0; sessions && i < json_array_get_length (sessions); i++) {
    JsonObject *s = json_array_get_object_element (sessions, i);
    if (s && g_strcmp0 (json_object_get_string_member_with_default (s,
                "sid", ""), sid) == 0)
      return json_object_ref (s);
  }
  return NULL;
}

typedef struct {
  Fixture *f;
  const char *sid;
  gint64 at_least;
  gint64 seen;
} Refused;

static gboolean
refused_at_least (gpointer data)
{
  Refused *r = data;
  g_autoptr (JsonObject) s = get_session (r->f, r->sid);

  r->seen = s ? json_object_get_int_member_with_default (s, "input_refused",
      -1) : -1;
  return r->seen >= r->at_least;
}

static gboolean
strv_is (JsonArray *a, const char *const *expected)
{
  guint n = g_strv_length ((char **) expected);

  if (!a || json_array_get_length (a) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (json_array_get_string_element (a, i), expected[i]) != 0)
      return FALSE;
  return TRUE;
}

/* A viewer-only session sends raw input on the DataChannel: the agent
 * drops it (the X pointer stays), answers forbidden, and reports the
 * refusals to the gateway, which shows them. A control session on the
 * same agent still moves the pointer. */
static void
test_view_only_input_refused (Fixture *f, gconstpointer data)
{
  static const char *const view[] = { "view", NULL };
  static const char *const view_control[] = { "view", "control", NULL };
  static const int points[][2] = {
    { 640, 360 }, { 10, 20 }, { 1000, 600 }, { 5, 700 }, { 1200, 30 },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (JsonObject) vs = NULL;
  g_autoptr (JsonObject) cs = NULL;
  g_autoptr (WrHttpResponse) anon = NULL;
  g_autofree char *view_sid = NULL;
  Refused r = { f, NULL, G_N_ELEMENTS (points), -1 };
  int x = -1, y = -1;

  wr_harness_start_all (f->h, &error);
  g_assert_no_error (error);

  f->control = start_viewer (f, view_control);
  f->viewer = start_viewer (f, view);
  view_sid = g_strdup (wr_test_viewer_get_sid (f->viewer));
  g_assert_nonnull (view_sid);

  /* A known position, set by the session that may. */
  move_pointer_and_check (f, f->control, 100, 100);

  for (guint i = 0; i < G_N_ELEMENTS (points); i++) {
    g_autofree char *json = g_strdup_printf (
        "{\"v\":1,\"type\":\"pointer.move\",\"x\":%d,\"y\":%d}",
        points[i][0], points[i][1]);
    g_assert_true (wr_test_viewer_send_input (f->viewer, json));
  }
  g_assert_true (wr_test_viewer_send_input (f->viewer,
          "{\"v\":1,\"type\":\"pointer.button\",\"button\":1,\"down\":true,"
          "\"x\":700,\"y\":500}"));
  r.at_least++;

  /* The agent answers on the DataChannel (once per second at most). */
  answer = wr_test_viewer_wait_input_message (f->viewer, 5000);
  g_assert_nonnull (answer);
  g_test_message ("view-only DataChannel answer: %s: %s",
      json_object_get_string_member_with_default (answer, "code", ""),
      json_object_get_string_member_with_default (answer, "message", ""));
  g_assert_cmpstr (json_object_get_string_member_with_default (answer,
          "code", ""), ==, "forbidden");

  /* The refusals reach the gateway, all of them counted. */
  r.sid = view_sid;
  if (!wr_wait_until (refused_at_least, &r, 5000))
    g_error ("GET /api/v1/sessions shows input_refused = %" G_GINT64_FORMAT
        " for the view-only session, expected %" G_GINT64_FORMAT, r.seen,
        r.at_least);
  g_test_message ("gateway: input_refused = %" G_GINT64_FORMAT, r.seen);
  g_assert_cmpint (r.seen, ==, r.at_least);

  /* Nothing moved, nothing is pressed. */
  g_assert_true (wr_harness_query_pointer (f->h, &x, &y));
  g_assert_cmpint (x, ==, 100);
  g_assert_cmpint (y, ==, 100);

  vs = get_session (f, view_sid);
  g_assert_nonnull (vs);
  g_assert_true (strv_is (json_object_get_array_member (vs, "scopes"), view));
  g_assert_cmpstr (json_object_get_string_member (vs, "agent"), ==,
      f->h->agent_id);
  g_assert_cmpint (json_object_get_int_member (vs, "started_at"), >, 0);

  /* The control session still drives the pointer, and was never refused. */
  move_pointer_and_check (f, f->control, 300, 200);
  cs = get_session (f, wr_test_viewer_get_sid (f->control));
  g_assert_nonnull (cs);
  g_assert_true (strv_is (json_object_get_array_member (cs, "scopes"),
          view_control));
  g_assert_cmpint (json_object_get_int_member (cs, "input_refused"), ==, 0);

  /* The session list needs a login like every other endpoint. */
  anon = wr_harness_http (f->h, "GET", "/api/v1/sessions", NULL, NULL,
      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (anon->status, ==, 401);
}

/* An agent that trusts another key than the gateway's refuses every
 * session: the viewer is told why, and no offer is ever made. */
static void
test_agent_with_other_key_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) other = NULL;
  g_autoptr (JsonObject) ended = NULL;
  g_autoptr (JsonObject) offer = NULL;
  g_autoptr (JsonObject) listed = NULL;
  const char *reason;

  g_assert_true (wr_harness_start_xvfb (f->h, &error));
  g_assert_true (wr_harness_start_gateway (f->h, &error));
  other = wr_grant_key_generate (&error);
  g_assert_no_error (error);
  g_free (f->h->grant_key);
  f->h->grant_key = wr_grant_public_key_to_string (other);
  g_assert_true (wr_harness_start_agent (f->h, &error));
  g_assert_true (wr_harness_login (f->h, &error));
  g_assert_true (wr_harness_wait_agent_online (f->h, 15000));

  f->viewer = wr_test_viewer_new (f->h->base_url, f->h->fingerprint,
      f->h->token);
  wr_test_viewer_connect (f->viewer, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session (f->viewer, f->h->agent_id, NULL, 5000,
      &error);
  g_assert_no_error (error);

  ended = wr_test_viewer_wait_message (f->viewer, "session.ended", 5000);
  g_assert_nonnull (ended);
  reason = json_object_get_string_member_with_default (ended, "reason", "");
  g_test_message ("session.ended: %s", reason);
  g_assert_true (g_str_has_prefix (reason, "grant refused"));
  g_assert_nonnull (strstr (reason, "signed"));

  wr_iterate_ms (500);
  offer = wr_test_viewer_wait_message (f->viewer, "sdp.offer", 0);
  g_assert_null (offer);
  g_assert_cmpuint (wr_test_viewer_get_frames (f->viewer), ==, 0);
  listed = get_session (f, json_object_get_string_member (ended, "sid"));
  g_assert_null (listed);
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

  g_test_add ("/integration/grants/view-only-input-is-refused-and-reported",
      Fixture, NULL, setup, test_view_only_input_refused, teardown);
  g_test_add ("/integration/grants/agent-with-another-key-refuses-sessions",
      Fixture, NULL, setup, test_agent_with_other_key_refuses, teardown);

  return g_test_run ();
}
