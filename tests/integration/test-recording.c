/* webremote integration tests: server-side session recording
 * (docs/compliance.md, "Recordings"): a real gateway, agent, Xvfb, the
 * gateway's local webremote-recorder and a GStreamer viewer.
 *
 * - refusals: /ws/recorder without or with a wrong token gets 401 (a right
 *   one 101); the recordings API answers 401 without a token and 403 to a
 *   user without `audit`; a bad media link 403; strict mode with no
 *   recorder refuses the session (nothing streamed); best-effort with no
 *   recorder works and audits recording.unavailable.
 * - recorded: a ~6 s best-effort session yields segments that decode to
 *   about duration x fps frames, whose size and SHA-256 match the store;
 *   the evidence bundle downloaded through the API verifies offline with
 *   `webremotectl recording verify --key`, and one changed byte in a
 *   segment makes it exit 1 naming the segment; HTTP Range on segments;
 *   kill -9 of the recorder mid-session is audited (recording.interrupted),
 *   its partial segment decodes, the restarted recorder resumes
 *   (recording.resumed); retention deletes an old recording but not a held
 *   one; admin DELETE is refused (409) under legal hold and works after
 *   the release, all audited. A normal session yields exactly one
 *   recording, complete; the kill yields exactly two (interrupted, then
 *   the resumed one, complete).
 * - lifecycle: two recorded sessions at once on one recorder (one complete
 *   recording each, the agent's indicator on screen meanwhile and gone
 *   after); a session that ends before record.started (one recording,
 *   complete, or failed when it got no segment; nothing interrupted); the agent killed mid-recording (the
 *   recorder finishes and reports its files, the recording is complete and
 *   signed); the recorder process survives all of it.
 * - partial-scan: after a lost recorder the gateway registers an
 *   unfinished MP4 segment with media as partial, a header-only one not.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <gst/gst.h>

#include "api-test-util.h"
#include "common/crypto.h"
#include "common/protocol.h"
#include "gateway/recording.h"
#include "gateway/store-recording.h"
#include "harness.h"
#include "test-viewer.h"

/* ---- helpers ---- */

static WrHarness *
start_harness (WrBackend backend, const char *extra)
{
  g_autoptr (GError) error = NULL;
  WrHarness *h = wr_harness_new (640, 480);

  h->store_url = wr_api_store_url (backend);
  /* WR_TEST_RECORDER_BINARY: run the local recorder through a wrapper
   * (gdb, valgrind) when debugging. */
  if (g_getenv ("WR_TEST_RECORDER_BINARY"))
    h->gateway_extra_config = g_strdup_printf ("%s%srecorder-binary=%s\n",
        extra, strstr (extra, "[recording]") ? "" : "[recording]\n",
        g_getenv ("WR_TEST_RECORDER_BINARY"));
  else
    h->gateway_extra_config = g_strdup (extra);
  h->agent_extra_config = g_strdup (
      "[command hello]\nprogram=/usr/bin/echo\nargs=[a-z]+\nmax-args=4\n");
  wr_harness_start_all (h, &error);
  g_assert_no_error (error);
  /* Something moving on the screen: the agent's damage capture sends
   * frames only when the picture changes (once a second otherwise), and a
   * recording is checked against the frame rate the viewer sees. */
  {
    const char *const motion[] = { "gst-launch-1.0", "-q", "videotestsrc",
      "is-live=true", "pattern=ball", "!",
      "video/x-raw,width=160,height=120,framerate=30/1", "!",
      "ximagesink", "sync=false", NULL };
    wr_harness_spawn_x_client (h, motion, &error);
    g_assert_no_error (error);
  }
  return h;
}

static WrTestViewer *
viewer_new (WrHarness *h, const char *token)
{
  g_autoptr (GError) error = NULL;
  WrTestViewer *v = wr_test_viewer_new (h->base_url, h->fingerprint, token);

  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  return v;
}

/* The audit rows of @sid of @type (GET /api/v1/audit). */
static guint
audit_count (WrHarness *h, const char *sid, const char *type)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/audit?session=%s"
      "&type=%s&limit=1000", sid, type);
  g_autoptr (WrHttpResponse) r = wr_api (h, "GET", path, h->token, NULL);
  JsonArray *events;

  wr_api_check (r, path, 200, NULL);
  events = json_object_get_array_member (wr_api_object (r), "events");
  return json_array_get_length (events);
}

static JsonObject *
audit_last (WrHarness *h, const char *sid, const char *type)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/audit?session=%s"
      "&type=%s&limit=1", sid, type);
  g_autoptr (WrHttpResponse) r = wr_api (h, "GET", path, h->token, NULL);
  JsonArray *events;

  wr_api_check (r, path, 200, NULL);
  events = json_object_get_array_member (wr_api_object (r), "events");
  if (json_array_get_length (events) == 0)
    return NULL;
  return json_object_ref (json_array_get_object_element (events, 0));
}

static gboolean
wait_audit (WrHarness *h, const char *sid, const char *type, guint n,
    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  do {
    if (audit_count (h, sid, type) >= n)
      return TRUE;
    wr_iterate_ms (200);
  } while (g_get_monotonic_time () < end);
  return FALSE;
}

/* The recordings of @sid, oldest first. */
static JsonArray *
recordings_of (WrHarness *h, const char *sid)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/recordings?session=%s",
      sid);
  g_autoptr (WrHttpResponse) r = wr_api (h, "GET", path, h->token, NULL);
  JsonArray *list, *out = json_array_new ();

  wr_api_check (r, path, 200, NULL);
  list = json_object_get_array_member (wr_api_object (r), "recordings");
  for (gint i = (gint) json_array_get_length (list) - 1; i >= 0; i--)
    json_array_add_object_element (out, json_object_ref (
            json_array_get_object_element (list, (guint) i)));
  return out;
}

/* Waits until every recording of @sid is finished (and there are @n). */
static JsonArray *
wait_finished (WrHarness *h, const char *sid, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  do {
    JsonArray *list = recordings_of (h, sid);
    gboolean done = json_array_get_length (list) >= n;

    for (guint i = 0; done && i < json_array_get_length (list); i++) {
      JsonObject *r = json_array_get_object_element (list, i);
      done = g_strcmp0 (json_object_get_string_member (r, "status"),
          "recording") != 0 && !json_object_get_null_member (r, "ended");
    }
    if (done)
      return list;
    json_array_unref (list);
    wr_iterate_ms (250);
  } while (g_get_monotonic_time () < end);
  return NULL;
}

static JsonObject *
wait_session_recording (WrTestViewer *v, const char *state, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    JsonObject *m = wr_test_viewer_wait_message (v, "session.recording",
        200);
    if (m && g_strcmp0 (wr_message_get_string (m, "state"), state) == 0)
      return m;
    if (m) {
      g_test_message ("session.recording %s (%s)",
          wr_message_get_string (m, "state"),
          wr_message_get_string (m, "reason"));
      json_object_unref (m);
    }
  }
  return NULL;
}

typedef struct {
  guint frames;
  gboolean error;
} DecodeResult;

static void
on_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

/* Decodes @path with GStreamer: the frames and whether it ended with an
 * error rather than EOS. */
static DecodeResult
decode_file (const char *path)
{
  g_autofree char *desc = g_strdup_printf (g_str_has_suffix (path, ".webm")
      ? "filesrc location=\"%s\" ! matroskademux ! decodebin ! "
        "fakesink name=sink signal-handoffs=true sync=false"
      : "filesrc location=\"%s\" ! qtdemux ! h264parse ! avdec_h264 ! "
        "fakesink name=sink signal-handoffs=true sync=false", path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  gint frames = 0;
  DecodeResult result = { 0 };

  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), &frames);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (!msg || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    result.error = TRUE;
    if (msg) {
      g_autoptr (GError) e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      g_test_message ("%s: %s", path, e->message);
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  result.frames = (guint) g_atomic_int_get (&frames);
  return result;
}

static char *
ctl_path (WrHarness *h)
{
  g_autofree char *dir = g_path_get_dirname (h->gateway_path);

  return g_build_filename (dir, "webremotectl", NULL);
}

/* Runs `webremotectl recording verify BUNDLE --key KEY`: its exit status,
 * stdout and stderr. */
static int
run_verify (WrHarness *h, const char *bundle, const char *key, char **out,
    char **err)
{
  g_autofree char *ctl = ctl_path (h);
  const char *argv[] = { ctl, "recording", "verify", bundle, "--key", key,
    NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
      err, &status, &error);
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

/* The local recorder: the gateway's child running webremote-recorder. */
static GPid
find_recorder_pid (WrHarness *h)
{
  GPid gw = wr_harness_gateway_pid (h);
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc && (name = g_dir_read_name (proc))) {
    g_autofree char *stat_path = NULL;
    g_autofree char *stat = NULL;
    const char *close_paren;
    int ppid = 0;

    if (!g_ascii_isdigit (*name))
      continue;
    stat_path = g_strdup_printf ("/proc/%s/stat", name);
    if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
      continue;
    close_paren = strrchr (stat, ')');
    if (!close_paren || !strstr (stat, "(webremote-reco"))
      continue;
    if (sscanf (close_paren + 2, "%*c %d", &ppid) != 1)
      continue;
    /* under WR_TEST_RECORDER_BINARY's wrapper: the gateway's grandchild */
    if (ppid != gw && g_getenv ("WR_TEST_RECORDER_BINARY")) {
      g_autofree char *pstat_path = g_strdup_printf ("/proc/%d/stat", ppid);
      g_autofree char *pstat = NULL;
      const char *pp;

      if (g_file_get_contents (pstat_path, &pstat, NULL, NULL)
          && (pp = strrchr (pstat, ')')))
        sscanf (pp + 2, "%*c %d", &ppid);
    }
    if (ppid == gw)
      return (GPid) g_ascii_strtoll (name, NULL, 10);
  }
  return 0;
}

static gboolean
recorder_running (gpointer h)
{
  return find_recorder_pid (h) != 0;
}

static char *
segment_path (WrHarness *h, const char *rec_id, const char *file)
{
  return g_build_filename (h->state_dir, "recordings", rec_id, file, NULL);
}

static JsonArray *
segments_of (JsonObject *rec)
{
  return json_object_get_array_member (rec, "segments");
}

/* ---- refusals, no recorder ---- */

static void
test_refusals (gconstpointer data)
{
  WrBackend backend = GPOINTER_TO_INT (data);
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (WrTestViewer) v = NULL;
  g_autoptr (WrTestViewer) v2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) granted = NULL;
  g_autoptr (JsonObject) state = NULL;
  g_autoptr (JsonObject) denied = NULL;
  g_autofree char *auditor_token = NULL;
  g_autofree char *recorder_token = NULL;
  static const char *const record_scopes[] = { "view", "control", "record",
    "command", NULL };
  static const char *const paths[][2] = {
    { "GET", "/api/v1/recordings" },
    { "GET", "/api/v1/recordings/nope" },
    { "POST", "/api/v1/recordings/nope/hold" },
    { "DELETE", "/api/v1/recordings/nope" },
  };
  g_autofree char *sid = NULL;
  guint status = 0;

  wr_watchdog_arm (150);
  h = start_harness (backend, "[recording]\nlocal-recorder=false\n"
      "ice-addresses=127.0.0.1\n");

  /* /ws/recorder: a plain 401, never a WebSocket, without or with a
   * wrong token; the right one upgrades. */
  {
#define UPGRADE(extra) "GET /ws/recorder HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
        "Upgrade: websocket\r\nConnection: Upgrade\r\n" \
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
        "Sec-WebSocket-Version: 13\r\n" extra "\r\n"
    const char *const ctl_add[] = { "recorder", "add", "remote1", NULL };
    const char *const ctl_revoke[] = { "recorder", "revoke", "remote1",
      NULL };
    const char *none = UPGRADE ("");
    const char *bad = UPGRADE ("Authorization: Bearer 0123456789abcdef\r\n");
    g_autofree char *good = NULL;
    g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL;

    b1 = wr_harness_raw_request (h, none, 5000, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (status, ==, 401);
    b2 = wr_harness_raw_request (h, bad, 5000, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (status, ==, 401);
    recorder_token = wr_harness_ctl (h, ctl_add, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (strlen (recorder_token), ==, 64);
    good = g_strdup_printf ("GET /ws/recorder HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
        recorder_token);
    b3 = wr_harness_raw_request (h, good, 3000, &status, NULL);
    g_assert_cmpuint (status, ==, 101);
    g_free (wr_harness_ctl (h, ctl_revoke, &error));
    g_assert_no_error (error);
    b4 = wr_harness_raw_request (h, good, 5000, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (status, ==, 401);
  }

  /* The recordings API: 401 without a token, 403 without `audit`. */
  wr_api_create_user (h, "viewer1", WR_TEST_PASSWORD);
  auditor_token = wr_api_login (h, "viewer1", WR_TEST_PASSWORD);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_autoptr (WrHttpResponse) r1 = wr_api (h, paths[i][0], paths[i][1],
        NULL, g_str_equal (paths[i][0], "POST") ? "{\"hold\":true}" : NULL);
    g_autoptr (WrHttpResponse) r2 = wr_api (h, paths[i][0], paths[i][1],
        auditor_token, g_str_equal (paths[i][0], "POST")
        ? "{\"hold\":true}" : NULL);
    wr_api_check (r1, paths[i][1], 401, "unauthorized");
    wr_api_check (r2, paths[i][1], 403, "forbidden");
  }
  {
    g_autoptr (WrHttpResponse) r = wr_api (h, "GET",
        "/api/v1/media/bm90LWEtdG9rZW4.AAAA", NULL, NULL);
    g_autoptr (WrHttpResponse) r2 = wr_api (h, "GET",
        "/api/v1/media/garbage", h->token, NULL);
    wr_api_check (r, "bad media token", 403, "forbidden");
    wr_api_check (r2, "bad media token", 403, "forbidden");
  }

  /* Best-effort (the `record` scope) with no recorder: the session works,
   * the gap is audited and the viewer is told. */
  v = viewer_new (h, h->token);
  wr_test_viewer_start_session_with_scopes (v, h->agent_id, NULL,
      record_scopes, 5000, &error);
  g_assert_no_error (error);
  sid = g_strdup (wr_test_viewer_get_sid (v));
  state = wait_session_recording (v, "interrupted", 5000);
  g_assert_nonnull (state);
  g_assert_true (wr_test_viewer_wait_frames (v, 10, 15000));
  g_assert_true (wait_audit (h, sid, "recording.unavailable", 1, 5000));
  g_assert_cmpuint (audit_count (h, sid, "session.granted"), ==, 1);
  g_assert_true (wait_audit (h, sid, "session.started", 1, 5000));
  g_assert_cmpuint (audit_count (h, sid, "control.given"), ==, 1);

  /* A command: audited before it runs, and its exit. */
  {
    g_autofree char *run = g_strdup_printf ("{\"v\":1,\"type\":"
        "\"command.run\",\"id\":\"c1\",\"sid\":\"%s\",\"command\":"
        "\"hello\",\"args\":[\"hello\",\"world\"]}", sid);
    g_autoptr (JsonObject) exit = NULL;
    g_autoptr (JsonObject) ran = NULL;
    g_autoptr (JsonObject) exited = NULL;
    JsonObject *d;

    g_assert_true (wr_test_viewer_send_text (v, run));
    exit = wr_test_viewer_wait_message (v, "command.exit", 10000);
    g_assert_nonnull (exit);
    g_assert_true (wait_audit (h, sid, "command.exit", 1, 5000));
    ran = audit_last (h, sid, "command.run");
    exited = audit_last (h, sid, "command.exit");
    g_assert_nonnull (ran);
    d = json_object_get_object_member (ran, "detail");
    g_assert_cmpstr (json_object_get_string_member (d, "command"), ==,
        "hello");
    g_assert_cmpstr (json_object_get_string_member (d, "args"), ==,
        "hello world");
    g_assert_cmpstr (json_object_get_string_member (ran, "actor"), ==,
        "admin");
    d = json_object_get_object_member (exited, "detail");
    g_assert_cmpint (json_object_get_int_member (d, "status"), ==, 0);
    g_assert_false (json_object_get_boolean_member (d, "timed_out"));
    g_assert_cmpint (json_object_get_int_member (ran, "seq"), <,
        json_object_get_int_member (exited, "seq"));
  }
  wr_test_viewer_end_session (v);
  g_assert_true (wait_audit (h, sid, "session.ended", 1, 5000));

  /* Strict with no recorder: refused, nothing streamed. */
  {
    g_autoptr (WrHttpResponse) r = wr_api (h, "PATCH",
        "/api/v1/groups/default", h->token, "{\"recording\":\"strict\"}");
    wr_api_check (r, "set strict", 200, NULL);
  }
  v2 = viewer_new (h, h->token);
  g_assert_false (wr_test_viewer_start_session (v2, h->agent_id, NULL, 5000,
          &error));
  g_assert_nonnull (error);
  g_test_message ("strict: %s", error->message);
  g_assert_nonnull (strstr (error->message, "recording_unavailable"));
  wr_iterate_ms (1500);
  g_assert_cmpuint (wr_test_viewer_get_frames (v2), ==, 0);
  g_assert_null (wr_test_viewer_wait_message (v2, "sdp.offer", 0));
  g_assert_null (wr_test_viewer_wait_message (v2, "session.granted", 0));
  {
    g_autoptr (WrHttpResponse) r = wr_api (h, "GET",
        "/api/v1/audit?type=session.request&limit=5", h->token, NULL);
    JsonArray *events;
    JsonObject *e;

    wr_api_check (r, "audit", 200, NULL);
    events = json_object_get_array_member (wr_api_object (r), "events");
    g_assert_cmpuint (json_array_get_length (events), >=, 1);
    e = json_array_get_object_element (events, 0);
    g_assert_cmpstr (json_object_get_string_member (e, "outcome"), ==,
        "denied");
    g_assert_cmpstr (json_object_get_string_member (
            json_object_get_object_member (e, "detail"), "code"), ==,
        "recording_unavailable");
  }
  wr_watchdog_disarm ();
}

/* ---- a recorded session ---- */

typedef struct {
  WrHarness *h;
  char *sid;
  char *rec_id;
  double fps;          /* the viewer's decode rate */
  gint64 duration_ms;
} Recorded;

static void
record_session (WrHarness *h, guint seconds, Recorded *out)
{
  g_autoptr (WrTestViewer) v = viewer_new (h, h->token);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) on = NULL;
  g_autoptr (JsonArray) list = NULL;
  guint64 f0, f1;
  gint64 t0, t1;

  wr_test_viewer_start_session (v, h->agent_id, NULL, 5000, &error);
  g_assert_no_error (error);
  out->sid = g_strdup (wr_test_viewer_get_sid (v));
  on = wait_session_recording (v, "on", 20000);
  g_assert_nonnull (on);
  g_assert_true (wr_test_viewer_wait_frames (v, 5, 15000));
  f0 = wr_test_viewer_get_frames (v);
  t0 = g_get_monotonic_time ();
  wr_iterate_ms (seconds * 1000);
  f1 = wr_test_viewer_get_frames (v);
  t1 = g_get_monotonic_time ();
  out->fps = (double) (f1 - f0) * G_USEC_PER_SEC / (double) (t1 - t0);
  g_test_message ("viewer: %.1f fps", out->fps);
  wr_test_viewer_end_session (v);
  list = wait_finished (h, out->sid, 1, 20000);
  g_assert_nonnull (list);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *r = json_array_get_object_element (list, i);
    g_test_message ("recording %s: %s", json_object_get_string_member (r,
            "id"), json_object_get_string_member (r, "status"));
  }
  /* A normal session yields exactly one recording, complete, and nothing
   * was interrupted on the way (a recorder failure and resume would show
   * as a second recording). */
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (
          json_array_get_object_element (list, 0), "status"), ==,
      "complete");
  g_assert_cmpuint (audit_count (h, out->sid, "recording.interrupted"), ==,
      0);
  out->rec_id = g_strdup (json_object_get_string_member (
          json_array_get_object_element (list, 0), "id"));
}

/* Every segment exists, matches its size and SHA-256, and decodes; the
 * frames add up to about duration x fps. */
static void
check_segments (WrHarness *h, JsonObject *rec, double fps,
    gboolean allow_partial)
{
  JsonArray *segs = segments_of (rec);
  guint total = 0;
  gint64 duration = 0;

  g_assert_cmpuint (json_array_get_length (segs), >=, 1);
  for (guint i = 0; i < json_array_get_length (segs); i++) {
    JsonObject *s = json_array_get_object_element (segs, i);
    g_autofree char *path = segment_path (h, json_object_get_string_member (
            rec, "id"), json_object_get_string_member (s, "file"));
    g_autofree char *data = NULL;
    g_autofree char *sha = NULL;
    gsize len = 0;
    DecodeResult d;

    g_assert_true (g_file_get_contents (path, &data, &len, NULL));
    sha = wr_sha256_hex (data, len);
    g_assert_cmpint ((gint64) len, ==, json_object_get_int_member (s,
            "size"));
    g_assert_cmpstr (sha, ==, json_object_get_string_member (s, "sha256"));
    d = decode_file (path);
    g_test_message ("%s: %u frames over %" G_GINT64_FORMAT " ms%s%s",
        json_object_get_string_member (s, "file"), d.frames,
        json_object_get_int_member (s, "end_ms")
        - json_object_get_int_member (s, "start_ms"),
        json_object_get_boolean_member (s, "partial") ? " (partial)" : "",
        d.error ? " (ended with an error)" : "");
    if (!json_object_get_boolean_member (s, "partial") || !allow_partial)
      g_assert_false (d.error);
    g_assert_cmpuint (d.frames, >, 0);
    total += d.frames;
    duration += json_object_get_int_member (s, "end_ms")
        - json_object_get_int_member (s, "start_ms");
  }
  if (!allow_partial) {
    double expected = (double) duration / 1000.0 * fps;
    g_test_message ("recording: %u frames, %.0f expected (%" G_GINT64_FORMAT
        " ms at %.1f fps)", total, expected, duration, fps);
    g_assert_cmpfloat (total, >=, 0.7 * expected);
    g_assert_cmpfloat (total, <=, 1.3 * expected + 5);
  }
}

static JsonObject *
get_recording (WrHarness *h, const char *id)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/recordings/%s", id);
  g_autoptr (WrHttpResponse) r = wr_api (h, "GET", path, h->token, NULL);

  wr_api_check (r, path, 200, NULL);
  return json_object_ref (wr_api_object (r));
}

static void
check_bundle (WrHarness *h, JsonObject *rec)
{
  g_autoptr (WrHttpResponse) r = NULL;
  g_autofree char *bundle = g_build_filename (h->tmp_dir, "evidence.tar",
      NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *out2 = NULL, *err2 = NULL;
  g_autofree char *seg_data = NULL;
  JsonObject *first = json_array_get_object_element (segments_of (rec), 0);
  const char *file = json_object_get_string_member (first, "file");
  g_autofree char *seg_path = segment_path (h, json_object_get_string_member (
          rec, "id"), file);
  gsize seg_len = 0, len = 0;
  guint8 *tar;
  guint8 *at;
  int code;

  g_assert_nonnull (json_object_get_object_member (rec, "manifest"));
  g_assert_nonnull (json_object_get_string_member (rec, "signature"));
  r = wr_api (h, "GET", json_object_get_string_member (rec, "bundle_url"),
      NULL, NULL);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_cmpstr (r->content_type, ==, "application/x-tar");
  tar = g_bytes_unref_to_data (g_bytes_ref (r->raw), &len);
  g_assert_true (g_file_set_contents (bundle, (char *) tar, (gssize) len,
          NULL));
  code = run_verify (h, bundle, h->grant_key, &out, &err);
  g_test_message ("verify: %d\n%s%s", code, out, err);
  g_assert_cmpint (code, ==, 0);
  g_assert_nonnull (strstr (out, "OK"));
  g_assert_nonnull (strstr (out, h->grant_key));

  /* Another key: the signature does not verify. */
  {
    g_autofree char *o = NULL, *e = NULL;
    code = run_verify (h, bundle,
        "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", &o, &e);
    g_assert_cmpint (code, ==, 1);
    g_assert_nonnull (strstr (e, "manifest.sig"));
  }

  /* One changed byte in a segment inside the bundle. */
  g_assert_true (g_file_get_contents (seg_path, &seg_data, &seg_len, NULL));
  g_assert_cmpuint (seg_len, >, 1024);
  at = memmem (tar, len, seg_data, 1024);
  g_assert_nonnull (at);
  at[seg_len / 2] ^= 0x01;
  g_assert_true (g_file_set_contents (bundle, (char *) tar, (gssize) len,
          NULL));
  code = run_verify (h, bundle, h->grant_key, &out2, &err2);
  g_test_message ("tampered: %d\n%s%s", code, out2, err2);
  g_assert_cmpint (code, ==, 1);
  g_assert_nonnull (strstr (err2, file));
  g_free (tar);
}

static void
check_range (WrHarness *h, JsonObject *rec)
{
  JsonObject *s = json_array_get_object_element (segments_of (rec), 0);
  const char *url = json_object_get_string_member (s, "url");
  gint64 size = json_object_get_int_member (s, "size");
  g_autofree char *path = segment_path (h, json_object_get_string_member (
          rec, "id"), json_object_get_string_member (s, "file"));
  g_autofree char *data = NULL;
  g_autofree char *beyond = g_strdup_printf ("bytes=%" G_GINT64_FORMAT "-",
      size);
  g_autofree char *want_cr = g_strdup_printf ("bytes 0-99/%" G_GINT64_FORMAT,
      size);
  const char *const first[] = { "Range", "bytes=0-99", NULL };
  const char *const last[] = { "Range", "bytes=-10", NULL };
  const char *const bad[] = { "Range", beyond, NULL };
  g_autoptr (WrHttpResponse) r0 = NULL, r1 = NULL, r2 = NULL, r3 = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0, n = 0;
  const guint8 *got;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  r0 = wr_harness_request (h, "GET", url, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r0->status, ==, 200);
  g_assert_cmpstr (r0->content_type, ==, "video/mp4");
  g_assert_cmpuint (g_bytes_get_size (r0->raw), ==, len);
  r1 = wr_harness_request (h, "GET", url, NULL, NULL, NULL, first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r1->status, ==, 206);
  g_assert_cmpstr (r1->content_range, ==, want_cr);
  got = g_bytes_get_data (r1->raw, &n);
  g_assert_cmpuint (n, ==, 100);
  g_assert_cmpmem (got, n, data, 100);
  r2 = wr_harness_request (h, "GET", url, NULL, NULL, NULL, last, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->status, ==, 206);
  got = g_bytes_get_data (r2->raw, &n);
  g_assert_cmpmem (got, n, data + len - 10, 10);
  r3 = wr_harness_request (h, "GET", url, NULL, NULL, NULL, bad, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r3->status, ==, 416);
  {
    /* the same link with one character of its MAC changed */
    g_autofree char *altered = g_strdup (url);
    g_autoptr (WrHttpResponse) r4 = NULL;
    char *last_char = altered + strlen (altered) - 1;

    *last_char = *last_char == 'A' ? 'B' : 'A';
    r4 = wr_harness_request (h, "GET", altered, NULL, NULL, NULL, NULL,
        &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r4->status, ==, 403);
  }
}

static void
backdate (WrHarness *h, const char *rec_id, gint64 days)
{
  g_autofree char *db = h->store_url ? g_strdup (h->store_url)
      : g_build_filename (h->state_dir, "webremote.db", NULL);
  g_autoptr (GError) error = NULL;
  WrStore *store = wr_store_open (db, &error);

  g_assert_no_error (error);
  g_assert_true (wr_store_recording_set_started (store, rec_id,
          g_get_real_time () / 1000 - days * 86400000, &error));
  g_assert_no_error (error);
  wr_store_close (store);
}

static void
hold (WrHarness *h, const char *rec_id, gboolean on, guint status)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/recordings/%s/hold",
      rec_id);
  g_autoptr (WrHttpResponse) r = wr_api (h, "POST", path, h->token,
      on ? "{\"hold\":true}" : "{\"hold\":false}");

  wr_api_check (r, path, status, NULL);
}

static guint
delete_recording (WrHarness *h, const char *rec_id)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/recordings/%s", rec_id);
  g_autoptr (WrHttpResponse) r = wr_api (h, "DELETE", path, h->token, NULL);

  return r->status;
}

static void
test_recorded (gconstpointer data)
{
  WrBackend backend = GPOINTER_TO_INT (data);
  gboolean full = TRUE;  /* every part on both backends */
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (JsonObject) rec = NULL;
  g_autoptr (JsonObject) granted = NULL;
  g_autoptr (WrTestViewer) v = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) list = NULL;
  Recorded a = { 0 };
  g_autofree char *b_sid = NULL;
  GPid pid;

  wr_watchdog_arm (full ? 240 : 150);
  h = start_harness (backend, "[recording]\nice-addresses=127.0.0.1\n"
      "segment-seconds=2\nretention-interval=1\n");
  {
    g_autoptr (WrHttpResponse) r = wr_api (h, "PATCH",
        "/api/v1/groups/default", h->token,
        "{\"recording\":\"best-effort\"}");
    wr_api_check (r, "set best-effort", 200, NULL);
  }
  g_assert_true (wr_wait_until (recorder_running, h, 15000));

  /* A recorded session of ~6 s. */
  record_session (h, 6, &a);
  rec = get_recording (h, a.rec_id);
  g_assert_cmpstr (json_object_get_string_member (rec, "status"), ==,
      "complete");
  g_assert_cmpstr (json_object_get_string_member (rec, "user"), ==, "admin");
  g_assert_cmpuint (json_array_get_length (segments_of (rec)), >=, 2);
  check_segments (h, rec, a.fps, FALSE);
  check_range (h, rec);
  check_bundle (h, rec);
  /* the recording is in the audit log: started, each segment, ended */
  g_assert_cmpuint (audit_count (h, a.sid, "recording.started"), ==, 1);
  g_assert_cmpuint (audit_count (h, a.sid, "recording.segment"), ==,
      json_array_get_length (segments_of (rec)));
  g_assert_cmpuint (audit_count (h, a.sid, "recording.ended"), ==, 1);
  g_assert_cmpuint (audit_count (h, a.sid, "recording.unavailable"), ==, 0);
  g_assert_cmpuint (audit_count (h, a.sid, "recording.viewed"), >=, 1);
  g_assert_true (wait_audit (h, a.sid, "recording.downloaded", 1, 2000));
  if (!full) {
    wr_watchdog_disarm ();
    return;
  }

  /* kill -9 of the recorder mid-session. */
  v = viewer_new (h, h->token);
  wr_test_viewer_start_session (v, h->agent_id, NULL, 5000, &error);
  g_assert_no_error (error);
  b_sid = g_strdup (wr_test_viewer_get_sid (v));
  g_clear_pointer (&granted, json_object_unref);
  granted = wait_session_recording (v, "on", 20000);
  g_assert_nonnull (granted);
  wr_iterate_ms (3500);
  pid = find_recorder_pid (h);
  g_assert_cmpint (pid, >, 0);
  g_test_message ("kill -9 the recorder (pid %d)", (int) pid);
  kill (pid, SIGKILL);
  g_clear_pointer (&granted, json_object_unref);
  granted = wait_session_recording (v, "interrupted", 10000);
  g_assert_nonnull (granted);
  g_assert_true (wait_audit (h, b_sid, "recording.interrupted", 1, 10000));
  /* the gateway restarts it; it resumes recording the session */
  g_clear_pointer (&granted, json_object_unref);
  granted = wait_session_recording (v, "on", 20000);
  g_assert_nonnull (granted);
  g_assert_true (wait_audit (h, b_sid, "recording.resumed", 1, 5000));
  wr_iterate_ms (2500);
  wr_test_viewer_end_session (v);
  list = wait_finished (h, b_sid, 2, 20000);
  g_assert_nonnull (list);
  {
    /* Exactly two: r1, the recording the kill interrupted (a whole
     * segment, then the partial one); r2, the one the restarted recorder
     * resumed with, which the session's end completed. */
    JsonObject *r1, *r2;
    JsonArray *segs;
    JsonObject *lastseg;

    g_assert_cmpuint (json_array_get_length (list), ==, 2);
    r1 = json_array_get_object_element (list, 0);
    r2 = json_array_get_object_element (list, 1);
    segs = segments_of (r1);
    g_assert_cmpuint (json_array_get_length (segs), >=, 2);
    g_assert_false (json_object_get_boolean_member (
            json_array_get_object_element (segs, 0), "partial"));
    lastseg = json_array_get_object_element (segs,
        json_array_get_length (segs) - 1);
    g_assert_cmpuint (audit_count (h, b_sid, "recording.interrupted"), ==,
        1);
    g_assert_cmpuint (audit_count (h, b_sid, "recording.resumed"), ==, 1);

    g_assert_cmpstr (json_object_get_string_member (r1, "status"), ==,
        "interrupted");
    g_assert_true (json_object_get_boolean_member (lastseg, "partial"));
    check_segments (h, r1, 0, TRUE);
    g_assert_cmpstr (json_object_get_string_member (r2, "status"), ==,
        "complete");
    check_segments (h, r2, 0, TRUE);

    /* Retention: one day; the old recording of session A goes, the held
     * old one of session B stays. */
    hold (h, json_object_get_string_member (r1, "id"), TRUE, 200);
    g_assert_cmpuint (audit_count (h, b_sid, "recording.hold"), ==, 1);
    backdate (h, a.rec_id, 2);
    backdate (h, json_object_get_string_member (r1, "id"), 2);
    {
      g_autoptr (WrHttpResponse) r = wr_api (h, "PATCH",
          "/api/v1/groups/default", h->token, "{\"retention_days\":1}");
      wr_api_check (r, "retention", 200, NULL);
    }
    g_assert_true (wait_audit (h, a.sid, "recording.deleted", 1, 10000));
    {
      g_autofree char *p = g_strdup_printf ("/api/v1/recordings/%s",
          a.rec_id);
      g_autofree char *dir = g_build_filename (h->state_dir, "recordings",
          a.rec_id, NULL);
      g_autoptr (WrHttpResponse) r = wr_api (h, "GET", p, h->token, NULL);
      g_autoptr (JsonObject) del = audit_last (h, a.sid,
          "recording.deleted");
      wr_api_check (r, p, 404, NULL);
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
      g_assert_cmpstr (json_object_get_string_member (
              json_object_get_object_member (del, "detail"), "reason"), ==,
          "retention");
      g_assert_cmpstr (json_object_get_string_member (del, "actor"), ==,
          "system");
    }
    wr_iterate_ms (2500);
    g_assert_cmpuint (audit_count (h, b_sid, "recording.deleted"), ==, 0);

    /* Legal hold (on the session: both its recordings): admin DELETE of
     * the fresh one is refused, then allowed after the release. */
    g_assert_cmpuint (delete_recording (h, json_object_get_string_member (r2,
                "id")), ==, 409);
    g_assert_cmpuint (audit_count (h, b_sid, "recording.deleted"), ==, 0);
    hold (h, json_object_get_string_member (r2, "id"), FALSE, 200);
    g_assert_cmpuint (audit_count (h, b_sid, "recording.release"), ==, 1);
    g_assert_cmpuint (delete_recording (h, json_object_get_string_member (r2,
                "id")), ==, 204);
    {
      g_autofree char *dir = g_build_filename (h->state_dir, "recordings",
          json_object_get_string_member (r2, "id"), NULL);
      g_autoptr (WrHttpResponse) r = NULL;
      g_autofree char *p = g_strdup_printf ("/api/v1/recordings/%s",
          json_object_get_string_member (r2, "id"));

      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
      r = wr_api (h, "GET", p, h->token, NULL);
      wr_api_check (r, p, 404, NULL);
    }
    /* and the old one, no longer held, goes by retention */
    g_assert_true (wait_audit (h, b_sid, "recording.deleted", 2, 10000));
  }

  /* Strict with a recorder: the session starts only once the recording
   * runs, and ends when the recorder is lost. */
  {
    g_autoptr (WrHttpResponse) r = wr_api (h, "PATCH",
        "/api/v1/groups/default", h->token, "{\"recording\":\"strict\"}");
    g_autoptr (WrTestViewer) sv = NULL;
    g_autoptr (JsonObject) started = NULL;
    g_autoptr (JsonObject) rec_started = NULL;
    g_autoptr (JsonObject) ended = NULL;
    g_autofree char *s_sid = NULL;

    wr_api_check (r, "set strict", 200, NULL);
    g_assert_true (wr_wait_until (recorder_running, h, 30000));
    wr_iterate_ms (1000);
    sv = viewer_new (h, h->token);
    wr_test_viewer_start_session (sv, h->agent_id, NULL, 15000, &error);
    g_assert_no_error (error);
    s_sid = g_strdup (wr_test_viewer_get_sid (sv));
    g_assert_true (wr_test_viewer_wait_frames (sv, 5, 15000));
    g_assert_true (wait_audit (h, s_sid, "session.started", 1, 5000));
    rec_started = audit_last (h, s_sid, "recording.started");
    started = audit_last (h, s_sid, "session.started");
    g_assert_nonnull (rec_started);
    g_assert_cmpint (json_object_get_int_member (rec_started, "seq"), <,
        json_object_get_int_member (started, "seq"));
    wr_iterate_ms (1000);
    pid = find_recorder_pid (h);
    g_assert_cmpint (pid, >, 0);
    kill (pid, SIGKILL);
    ended = wr_test_viewer_wait_message (sv, "session.ended", 10000);
    g_assert_nonnull (ended);
    g_assert_cmpstr (wr_message_get_string (ended, "reason"), ==,
        "recording lost");
    g_assert_true (wait_audit (h, s_sid, "recording.interrupted", 1, 5000));
  }
  wr_watchdog_disarm ();
}

/* ---- lifecycle edge cases ---- */

/* Whether the agent's recording indicator is on the screen (its WM_NAME). */
static gboolean
indicator_shown (WrHarness *h)
{
  const char *const search[] = { "xdotool", "search", "--name",
    "webremote-recording-indicator", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = wr_harness_run_x_command (h, search, &error);

  return out && *out;
}

/* Waits until @sid has exactly one finished recording and returns it. */
static JsonObject *
only_recording (WrHarness *h, const char *sid)
{
  g_autoptr (JsonArray) list = wait_finished (h, sid, 1, 20000);

  g_assert_nonnull (list);
  /* nothing else turns up a moment later either */
  wr_iterate_ms (500);
  json_array_unref (list);
  list = recordings_of (h, sid);
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  return json_object_ref (json_array_get_object_element (list, 0));
}

static void
check_complete (WrHarness *h, JsonObject *rec, gboolean with_media)
{
  g_autoptr (JsonObject) full = get_recording (h,
      json_object_get_string_member (rec, "id"));
  JsonArray *segs = segments_of (full);

  /* A recording that got no segment at all is not complete: failed. */
  g_assert_cmpstr (json_object_get_string_member (full, "status"), ==,
      json_array_get_length (segs) > 0 ? "complete" : "failed");
  g_assert_nonnull (json_object_get_object_member (full, "manifest"));
  g_assert_nonnull (json_object_get_string_member (full, "signature"));
  if (with_media) {
    g_assert_cmpuint (json_array_get_length (segs), >=, 1);
    for (guint i = 0; i < json_array_get_length (segs); i++)
      g_assert_false (json_object_get_boolean_member (
              json_array_get_object_element (segs, i), "partial"));
    check_segments (h, full, 0, TRUE);
  }
}

static void
test_lifecycle (gconstpointer data)
{
  WrBackend backend = GPOINTER_TO_INT (data);
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (GError) error = NULL;
  GPid recorder;

  wr_watchdog_arm (200);
  h = start_harness (backend, "[recording]\nice-addresses=127.0.0.1\n"
      "segment-seconds=2\n");
  {
    g_autoptr (WrHttpResponse) r = wr_api (h, "PATCH",
        "/api/v1/groups/default", h->token,
        "{\"recording\":\"best-effort\"}");
    wr_api_check (r, "set best-effort", 200, NULL);
  }
  g_assert_true (wr_wait_until (recorder_running, h, 15000));
  recorder = find_recorder_pid (h);

  /* Two recorded sessions at once on the one recorder: one complete
   * recording each; the indicator is on the screen meanwhile. */
  {
    g_autoptr (WrTestViewer) v1 = viewer_new (h, h->token);
    g_autoptr (WrTestViewer) v2 = viewer_new (h, h->token);
    g_autoptr (JsonObject) on1 = NULL, on2 = NULL, r1 = NULL, r2 = NULL;
    g_autofree char *sid1 = NULL, *sid2 = NULL;

    g_assert_true (wr_test_viewer_start_session (v1, h->agent_id, NULL,
            5000, &error));
    g_assert_no_error (error);
    g_assert_true (wr_test_viewer_start_session (v2, h->agent_id, NULL,
            5000, &error));
    g_assert_no_error (error);
    sid1 = g_strdup (wr_test_viewer_get_sid (v1));
    sid2 = g_strdup (wr_test_viewer_get_sid (v2));
    on1 = wait_session_recording (v1, "on", 20000);
    on2 = wait_session_recording (v2, "on", 20000);
    g_assert_nonnull (on1);
    g_assert_nonnull (on2);
    g_assert_true (wr_test_viewer_wait_frames (v1, 10, 15000));
    g_assert_true (wr_test_viewer_wait_frames (v2, 10, 15000));
    g_assert_true (indicator_shown (h));
    wr_iterate_ms (3000);
    wr_test_viewer_end_session (v1);
    wr_test_viewer_end_session (v2);
    r1 = only_recording (h, sid1);
    r2 = only_recording (h, sid2);
    check_complete (h, r1, TRUE);
    check_complete (h, r2, TRUE);
    g_assert_cmpuint (audit_count (h, sid1, "recording.interrupted"), ==, 0);
    g_assert_cmpuint (audit_count (h, sid2, "recording.interrupted"), ==, 0);
    /* the recorder's sessions ended with the recordings: no indicator */
    g_assert_false (indicator_shown (h));
  }
  g_assert_cmpint (find_recorder_pid (h), ==, recorder);

  /* The session ends before the recorder got its first keyframe: one
   * recording, finished as complete when it holds a segment and failed
   * when it holds none, nothing interrupted, and the recorder carries
   * on. */
  {
    g_autoptr (WrTestViewer) v = viewer_new (h, h->token);
    g_autoptr (JsonObject) r = NULL;
    g_autofree char *sid = NULL;

    g_assert_true (wr_test_viewer_start_session (v, h->agent_id, NULL, 5000,
            &error));
    g_assert_no_error (error);
    sid = g_strdup (wr_test_viewer_get_sid (v));
    wr_test_viewer_end_session (v);
    r = only_recording (h, sid);
    g_test_message ("ended at once: %u segment(s)", json_array_get_length (
            segments_of (r)));
    check_complete (h, r, FALSE);
    g_assert_cmpuint (audit_count (h, sid, "recording.interrupted"), ==, 0);
    g_assert_cmpuint (audit_count (h, sid, "recording.ended"), ==, 1);
  }
  wr_iterate_ms (1000);
  g_assert_cmpint (find_recorder_pid (h), ==, recorder);

  /* The agent disconnects mid-recording: the session ends, the recorder
   * finishes its files and reports them, the gateway finishes and signs
   * the recording. */
  {
    g_autoptr (WrTestViewer) v = viewer_new (h, h->token);
    g_autoptr (JsonObject) on = NULL, ended = NULL, r = NULL;
    g_autofree char *sid = NULL;

    g_assert_true (wr_test_viewer_start_session (v, h->agent_id, NULL, 5000,
            &error));
    g_assert_no_error (error);
    sid = g_strdup (wr_test_viewer_get_sid (v));
    on = wait_session_recording (v, "on", 20000);
    g_assert_nonnull (on);
    wr_iterate_ms (3000);
    g_assert_cmpint (kill (wr_harness_agent_pid (h), SIGKILL), ==, 0);
    ended = wr_test_viewer_wait_message (v, "session.ended", 10000);
    g_assert_nonnull (ended);
    g_assert_cmpstr (wr_message_get_string (ended, "reason"), ==,
        "agent disconnected");
    r = only_recording (h, sid);
    check_complete (h, r, TRUE);
    g_assert_cmpuint (audit_count (h, sid, "recording.interrupted"), ==, 0);
    g_assert_cmpuint (audit_count (h, sid, "recording.ended"), ==, 1);
  }
  g_assert_cmpint (find_recorder_pid (h), ==, recorder);
  wr_watchdog_disarm ();
}

/* ---- the gateway's scan of a lost recorder's files ---- */

/* An unfinished segment is registered as partial when it holds a media
 * fragment; one with only its ftyp/moov header (the recorder died within a
 * second of opening it) is not: nothing in it plays. */
static void
test_partial_scan (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("wr-partial-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (tmp, "store.db", NULL);
  g_autofree char *dir = g_build_filename (tmp, "recordings", NULL);
  g_autofree char *rec_dir = g_build_filename (dir, "rec1", NULL);
  g_autofree char *whole = g_build_filename (rec_dir, "segment-00000.mp4",
      NULL);
  g_autofree char *header = g_build_filename (rec_dir, "segment-00001.mp4",
      NULL);
  g_autofree char *desc = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (WrStoredRecording) rec = NULL;
  WrStoredSegment *seg;
  WrStore *store;
  gsize len = 0;
  const char *moof;

  g_assert_nonnull (tmp);
  g_assert_cmpint (g_mkdir_with_parents (rec_dir, 0700), ==, 0);
  /* a fragmented MP4 as the recorder writes it */
  desc = g_strdup_printf ("videotestsrc num-buffers=30 pattern=ball ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! x264enc "
      "tune=zerolatency ! h264parse ! mp4mux fragment-duration=300 ! "
      "filesink location=\"%s\"", whole);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* and its header alone */
  g_assert_true (g_file_get_contents (whole, &data, &len, NULL));
  moof = memmem (data, len, "moof", 4);
  g_assert_nonnull (moof);
  g_assert_true (g_file_set_contents (header, data,
          (gssize) (moof - 4 - data), NULL));

  store = wr_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_true (wr_store_recording_insert (store, "rec1", "s1", "a1",
          "default", "u1", "local", g_get_real_time () / 1000 - 5000,
          &error));
  g_assert_no_error (error);
  g_assert_true (wr_recording_finish (store, NULL, NULL, dir, "rec1",
          "interrupted", TRUE, &error));
  g_assert_no_error (error);
  rec = wr_store_recording_get (store, "rec1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rec->status, ==, "interrupted");
  g_assert_cmpuint (rec->segments->len, ==, 1);
  seg = g_ptr_array_index (rec->segments, 0);
  g_assert_cmpstr (seg->file, ==, "segment-00000.mp4");
  g_assert_true (seg->partial);
  g_assert_cmpint (seg->size, ==, (gint64) len);
  wr_store_close (store);
  {
    const char *const rm[] = { "rm", "-rf", tmp, NULL };
    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
        NULL, NULL, NULL, NULL);
  }
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
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!g_getenv ("WR_TEST_DEBUG"))
    previous_log_handler = g_log_set_default_handler (quiet_log_handler,
        NULL);
  gst_init (&argc, &argv);

  g_test_add_data_func ("/integration/recording/refusals/sqlite",
      GINT_TO_POINTER (WR_BACKEND_SQLITE), test_refusals);
  g_test_add_data_func ("/integration/recording/recorded/sqlite",
      GINT_TO_POINTER (WR_BACKEND_SQLITE), test_recorded);
  g_test_add_data_func ("/integration/recording/recorded/postgresql",
      GINT_TO_POINTER (WR_BACKEND_POSTGRESQL), test_recorded);
  g_test_add_data_func ("/integration/recording/lifecycle/sqlite",
      GINT_TO_POINTER (WR_BACKEND_SQLITE), test_lifecycle);
  g_test_add_func ("/integration/recording/partial-scan", test_partial_scan);
  status = g_test_run ();
  wr_api_cleanup ();
  return status;
}
