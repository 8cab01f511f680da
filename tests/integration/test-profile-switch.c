/* webremote integration tests: pipeline profiles switched live and codec
 * negotiation (issue #6 points 4 and 5), end to end on loopback.
 *
 * A real Xvfb, gateway and agent (harness.h) with a profiles file written
 * here, and the GStreamer viewer (test-viewer.h) in place of the browser.
 * What is asserted is what a user sees: decoded frames keep coming with no
 * gap of a second or more, the decoded size changes when the new profile
 * says so, the agent reports the new encoder in profile.changed, and the
 * session is never ended.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "harness.h"
#include "test-viewer.h"

#define WIDTH 1280
#define HEIGHT 720

/* The longest a viewer may go without a decoded frame across a switch. */
#define MAX_GAP_MS 1000

static const char profiles_text[] =
    "[profile fast]\n"
    "encoders = x264enc\n"
    "framerate = 30\n"
    "bitrate = 2000\n"
    "\n"
    "[profile small]\n"
    "encoders = openh264enc\n"
    "width = 640\n"
    "height = 360\n"
    "framerate = 30\n"
    "bitrate = 1000\n"
    "\n"
    "[profile vp8]\n"
    "encoders = vp8enc\n"
    "width = 640\n"
    "height = 360\n"
    "framerate = 30\n"
    "bitrate = 1000\n"
    "\n"
    "[profile fallback]\n"
    "encoders = x264enc;vp8enc\n"
    "width = 640\n"
    "height = 360\n"
    "framerate = 30\n"
    "bitrate = 1000\n"
    "\n"
    "[profile h264-only]\n"
    "encoders = x264enc;openh264enc\n"
    "framerate = 30\n"
    "bitrate = 1000\n";

typedef struct {
  WrHarness *h;
  WrTestViewer *viewer;
  char *profiles_file;
} Fixture;

static void
start (Fixture *f, const char *active)
{
  g_autoptr (GError) error = NULL;

  wr_watchdog_arm (80);
  f->h = wr_harness_new (WIDTH, HEIGHT);
  f->profiles_file = g_build_filename (f->h->tmp_dir, "profiles.conf", NULL);
  g_assert_true (g_file_set_contents (f->profiles_file, profiles_text, -1,
          NULL));
  f->h->agent_extra_config = g_strdup_printf (
      "[agent]\nprofiles=%s\nprofile=%s\n", f->profiles_file, active);
  wr_harness_start_all (f->h, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->viewer, wr_test_viewer_free);
  g_clear_pointer (&f->h, wr_harness_free);
  g_free (f->profiles_file);
  wr_watchdog_disarm ();
}

static WrTestViewer *
connect_viewer (Fixture *f, const char *const *scopes,
    const char *refuse_codec)
{
  g_autoptr (GError) error = NULL;
  WrTestViewer *v;

  v = wr_test_viewer_new (f->h->base_url, f->h->fingerprint, f->h->token);
  wr_test_viewer_keep_profile_messages (v, TRUE);
  if (refuse_codec)
    wr_test_viewer_refuse_codec (v, refuse_codec);
  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session_with_scopes (v, f->h->agent_id, NULL, scopes,
      5000, &error);
  g_assert_no_error (error);
  return v;
}

/* A decoding viewer whose input channel is open. */
static WrTestViewer *
start_viewer (Fixture *f, const char *const *scopes)
{
  WrTestViewer *v = connect_viewer (f, scopes, NULL);

  if (!wr_test_viewer_wait_frames (v, 5, 15000))
    g_error ("no decoded frame within 15 s: %s", wr_test_viewer_describe (v));
  g_assert_true (wr_test_viewer_wait_input_channel (v, 10000));
  return v;
}

/* The next message of @type on the input channel (others are dropped). */
static JsonObject *
wait_channel_message (WrTestViewer *v, const char *type, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end) {
    JsonObject *msg = wr_test_viewer_wait_input_message (v, 50);
    if (!msg)
      continue;
    if (g_strcmp0 (json_object_get_string_member_with_default (msg, "type",
                ""), type) == 0)
      return msg;
    g_test_message ("input channel: skipping %s",
        json_object_get_string_member_with_default (msg, "type", "?"));
    json_object_unref (msg);
  }
  return NULL;
}

typedef struct {
  guint64 frames_start;
  guint64 frames_end;
  gint64 max_gap_us;
  gint64 last_change_us;
  guint64 last_frames;
  JsonObject *changed;           /* profile.changed, if one came */
  JsonObject *error;             /* an `error` on the channel, if one came */
} Watch;

static void
watch_init (Watch *w, WrTestViewer *v)
{
  memset (w, 0, sizeof *w);
  w->frames_start = w->last_frames = wr_test_viewer_get_frames (v);
  w->last_change_us = g_get_monotonic_time ();
}

static void
watch_clear (Watch *w)
{
  g_clear_pointer (&w->changed, json_object_unref);
  g_clear_pointer (&w->error, json_object_unref);
}

/* Watches the decoded frames for @ms: the longest time without a new one,
 * and what came on the input channel meanwhile. */
static void
watch_for (Watch *w, WrTestViewer *v, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end) {
    JsonObject *msg = wr_test_viewer_wait_input_message (v, 10);
    guint64 frames = wr_test_viewer_get_frames (v);
    gint64 now = g_get_monotonic_time ();

    if (frames != w->last_frames) {
      w->last_frames = frames;
      w->last_change_us = now;
    }
    w->max_gap_us = MAX (w->max_gap_us, now - w->last_change_us);
    if (msg) {
      const char *type = json_object_get_string_member_with_default (msg,
          "type", "");
      if (g_str_equal (type, "profile.changed") && !w->changed)
        w->changed = json_object_ref (msg);
      else if (g_str_equal (type, "error") && !w->error)
        w->error = json_object_ref (msg);
      json_object_unref (msg);
    }
  }
  w->frames_end = wr_test_viewer_get_frames (v);
}

static void
send_profile_set (WrTestViewer *v, const char *name, const char *id)
{
  g_autofree char *text = g_strdup_printf (
      "{\"v\":1,\"type\":\"profile.set\",\"id\":\"%s\",\"profile\":\"%s\"}",
      id, name);

  g_assert_true (wr_test_viewer_send_input (v, text));
}

static void
assert_session_alive (WrTestViewer *v)
{
  g_autoptr (JsonObject) ended = wr_test_viewer_wait_message (v,
      "session.ended", 0);

  if (ended)
    g_error ("the session was ended: %s",
        json_object_get_string_member_with_default (ended, "reason", "?"));
  g_assert_false (wr_test_viewer_is_closed (v, NULL));
  g_assert_false (wr_test_viewer_had_pipeline_error (v));
}

static gboolean
array_has (JsonArray *a, const char *s)
{
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_array_get_string_element (a, i), s) == 0)
      return TRUE;
  return FALSE;
}

/* ---------------------------------------------------------------------- */

/* profile.set mid-session: x264enc at 1280x720 -> openh264enc at 640x360,
 * then to VP8 (a new codec: the agent makes a new offer on the same
 * connection, and a new connection if the viewer refuses the codec change
 * there), while the viewer keeps decoding. */
static void
test_switch_keeps_video (Fixture *f, gconstpointer data)
{
  static const char *const scopes[] = { "view", "control", NULL };
  g_autoptr (JsonObject) profiles = NULL;
  JsonArray *available;
  Watch w;
  int width = 0, height = 0;
  guint offers;

  start (f, "fast");
  f->viewer = start_viewer (f, scopes);

  /* The channel opened with the list and the active profile. */
  profiles = wait_channel_message (f->viewer, "profiles", 5000);
  g_assert_nonnull (profiles);
  available = json_object_get_array_member (profiles, "available");
  g_assert_true (array_has (available, "fast"));
  g_assert_true (array_has (available, "small"));
  g_assert_true (array_has (available, "vp8"));
  g_assert_cmpstr (json_object_get_string_member (profiles, "active"), ==,
      "fast");
  g_assert_cmpstr (json_object_get_string_member (profiles, "encoder"), ==,
      "x264enc");
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_assert_cmpint (width, ==, WIDTH);

  /* Same codec, other encoder and size: no renegotiation. */
  offers = wr_test_viewer_get_offers (f->viewer);
  watch_init (&w, f->viewer);
  watch_for (&w, f->viewer, 500);
  send_profile_set (f->viewer, "small", "p1");
  watch_for (&w, f->viewer, 3000);
  g_test_message ("to small: %" G_GUINT64_FORMAT " frames in 3.5 s, "
      "longest gap %" G_GINT64_FORMAT " ms", w.frames_end - w.frames_start,
      w.max_gap_us / 1000);
  if (w.error)
    g_error ("profile.set small answered with %s",
        json_object_get_string_member (w.error, "code"));
  g_assert_nonnull (w.changed);
  g_assert_cmpstr (json_object_get_string_member (w.changed, "profile"), ==,
      "small");
  g_assert_cmpstr (json_object_get_string_member (w.changed, "encoder"), ==,
      "openh264enc");
  g_assert_cmpstr (json_object_get_string_member (w.changed, "codec"), ==,
      "H264");
  g_assert_cmpint (w.max_gap_us / 1000, <, MAX_GAP_MS);
  g_assert_cmpuint (w.frames_end - w.frames_start, >=, 60);
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_assert_cmpint (width, ==, 640);
  g_assert_cmpint (height, ==, 360);
  g_assert_cmpuint (wr_test_viewer_get_offers (f->viewer), ==, offers);
  assert_session_alive (f->viewer);
  watch_clear (&w);

  /* Another codec: a new offer on the same connection. */
  watch_init (&w, f->viewer);
  send_profile_set (f->viewer, "vp8", "p2");
  watch_for (&w, f->viewer, 4000);
  g_test_message ("to vp8: %" G_GUINT64_FORMAT " frames in 4 s, longest "
      "gap %" G_GINT64_FORMAT " ms, offers %u", w.frames_end - w.frames_start,
      w.max_gap_us / 1000, wr_test_viewer_get_offers (f->viewer));
  if (w.error)
    g_error ("profile.set vp8 answered with %s",
        json_object_get_string_member (w.error, "code"));
  g_assert_nonnull (w.changed);
  g_assert_cmpstr (json_object_get_string_member (w.changed, "encoder"), ==,
      "vp8enc");
  g_assert_cmpstr (json_object_get_string_member (w.changed, "codec"), ==,
      "VP8");
  /* A new offer on the same connection; GStreamer's webrtcbin (this
   * viewer) refuses a codec change there (m=video 0), and the agent then
   * makes a new connection with VP8: one offer more. */
  offers = wr_test_viewer_get_offers (f->viewer) - offers;
  g_assert_cmpuint (offers, >=, 1);
  g_assert_cmpuint (offers, <=, 2);
  g_assert_cmpuint (wr_test_viewer_get_restarts (f->viewer), ==, offers - 1);
  {
    g_autofree char *codec = wr_test_viewer_get_offer_codec (f->viewer);
    g_assert_cmpstr (codec, ==, "VP8");
  }
  g_assert_cmpint (w.max_gap_us / 1000, <, MAX_GAP_MS);
  g_assert_cmpuint (w.frames_end - w.frames_start, >=, 60);
  assert_session_alive (f->viewer);
  watch_clear (&w);
}

/* A view-only session cannot switch (forbidden, nothing changes); an
 * unknown profile is not_found. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  static const char *const view_only[] = { "view", NULL };
  static const char *const control[] = { "view", "control", NULL };
  g_autoptr (JsonObject) profiles = NULL;
  g_autoptr (WrTestViewer) controller = NULL;
  Watch w;
  int width = 0, height = 0;

  start (f, "fast");
  f->viewer = start_viewer (f, view_only);
  profiles = wait_channel_message (f->viewer, "profiles", 5000);
  g_assert_nonnull (profiles);

  watch_init (&w, f->viewer);
  send_profile_set (f->viewer, "small", "ro1");
  watch_for (&w, f->viewer, 2000);
  g_assert_nonnull (w.error);
  g_assert_cmpstr (json_object_get_string_member (w.error, "code"), ==,
      "forbidden");
  g_assert_cmpstr (json_object_get_string_member (w.error, "ref"), ==,
      "ro1");
  g_assert_null (w.changed);
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_assert_cmpint (width, ==, WIDTH);
  g_assert_cmpint (height, ==, HEIGHT);
  g_assert_cmpuint (w.frames_end - w.frames_start, >=, 30);
  assert_session_alive (f->viewer);
  watch_clear (&w);

  /* With control: an unknown name is not_found and changes nothing. */
  controller = start_viewer (f, control);
  watch_init (&w, controller);
  send_profile_set (controller, "no-such-profile", "u1");
  watch_for (&w, controller, 1500);
  g_assert_nonnull (w.error);
  g_assert_cmpstr (json_object_get_string_member (w.error, "code"), ==,
      "not_found");
  g_assert_cmpstr (json_object_get_string_member (w.error, "ref"), ==, "u1");
  g_assert_null (w.changed);
  wr_test_viewer_get_video_size (controller, &width, &height);
  g_assert_cmpint (width, ==, WIDTH);
  assert_session_alive (controller);
  watch_clear (&w);
}

/* A viewer that refuses H.264 (m=video 0, as Chromium does for High): the
 * agent falls back to the profile's next codec, VP8, restarts the
 * connection with a new offer, and the viewer decodes. */
static void
test_refused_codec_falls_back (Fixture *f, gconstpointer data)
{
  static const char *const scopes[] = { "view", "control", NULL };
  g_autofree char *codec = NULL;
  g_autoptr (JsonObject) changed = NULL;
  int width = 0, height = 0;

  start (f, "fallback");
  f->viewer = connect_viewer (f, scopes, "H264");
  if (!wr_test_viewer_wait_frames (f->viewer, 10, 20000))
    g_error ("no decoded frame after the fallback: %s",
        wr_test_viewer_describe (f->viewer));
  codec = wr_test_viewer_get_offer_codec (f->viewer);
  g_test_message ("offers %u, refused answers %u, restarts %u, codec %s",
      wr_test_viewer_get_offers (f->viewer),
      wr_test_viewer_get_refused_answers (f->viewer),
      wr_test_viewer_get_restarts (f->viewer), codec);
  g_assert_cmpuint (wr_test_viewer_get_refused_answers (f->viewer), ==, 1);
  g_assert_cmpuint (wr_test_viewer_get_offers (f->viewer), ==, 2);
  g_assert_cmpuint (wr_test_viewer_get_restarts (f->viewer), ==, 1);
  g_assert_cmpstr (codec, ==, "VP8");
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_assert_cmpint (width, ==, 640);
  /* The channel of the new connection tells the viewer what it gets. */
  g_assert_true (wr_test_viewer_wait_input_channel (f->viewer, 10000));
  assert_session_alive (f->viewer);
}

/* A viewer that refuses every codec of the profile: the session ends with
 * a reason that says so. */
static void
test_refused_everything_ends (Fixture *f, gconstpointer data)
{
  static const char *const scopes[] = { "view", "control", NULL };
  g_autoptr (JsonObject) ended = NULL;
  const char *reason;

  start (f, "h264-only");
  f->viewer = connect_viewer (f, scopes, "H264");
  ended = wr_test_viewer_wait_message (f->viewer, "session.ended", 15000);
  g_assert_nonnull (ended);
  reason = json_object_get_string_member_with_default (ended, "reason", "");
  g_test_message ("ended: %s", reason);
  g_assert_nonnull (strstr (reason, "accepts none of the codecs"));
  g_assert_nonnull (strstr (reason, "H264"));
  g_assert_cmpuint (wr_test_viewer_get_frames (f->viewer), ==, 0);
}

/* SIGHUP with the active profile changed in the file: the running
 * pipeline takes the new settings live and the viewer keeps its video. */
static void
test_sighup_keeps_video (Fixture *f, gconstpointer data)
{
  static const char *const scopes[] = { "view", "control", NULL };
  g_autofree char *changed_text = NULL;
  Watch w;
  int width = 0, height = 0;

  start (f, "fast");
  f->viewer = start_viewer (f, scopes);
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_assert_cmpint (width, ==, WIDTH);

  /* "fast" now scales to 640x360 with openh264enc. */
  {
    g_autoptr (GString) text = g_string_new (profiles_text);
    g_string_replace (text, "[profile fast]\nencoders = x264enc\n",
        "[profile fast]\nencoders = openh264enc\nwidth = 640\n"
        "height = 360\n", 1);
    changed_text = g_string_free (g_steal_pointer (&text), FALSE);
  }
  g_assert_nonnull (strstr (changed_text, "encoders = openh264enc\nwidth"));
  g_assert_true (g_file_set_contents (f->profiles_file, changed_text, -1,
          NULL));

  watch_init (&w, f->viewer);
  watch_for (&w, f->viewer, 300);
  g_assert_cmpint (kill (wr_harness_agent_pid (f->h), SIGHUP), ==, 0);
  watch_for (&w, f->viewer, 4000);
  g_test_message ("SIGHUP: %" G_GUINT64_FORMAT " frames in 4.3 s, longest "
      "gap %" G_GINT64_FORMAT " ms", w.frames_end - w.frames_start,
      w.max_gap_us / 1000);
  g_assert_nonnull (w.changed);
  g_assert_cmpstr (json_object_get_string_member (w.changed, "profile"), ==,
      "fast");
  g_assert_cmpstr (json_object_get_string_member (w.changed, "encoder"), ==,
      "openh264enc");
  wr_test_viewer_get_video_size (f->viewer, &width, &height);
  g_assert_cmpint (width, ==, 640);
  g_assert_cmpint (height, ==, 360);
  g_assert_cmpint (w.max_gap_us / 1000, <, MAX_GAP_MS);
  g_assert_cmpuint (w.frames_end - w.frames_start, >=, 60);
  assert_session_alive (f->viewer);
  watch_clear (&w);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/integration/profile-switch/live-switch-keeps-video",
      Fixture, NULL, NULL, test_switch_keeps_video, teardown);
  g_test_add ("/integration/profile-switch/view-only-and-unknown-refused",
      Fixture, NULL, NULL, test_refusals, teardown);
  g_test_add ("/integration/profile-switch/refused-codec-falls-back",
      Fixture, NULL, NULL, test_refused_codec_falls_back, teardown);
  g_test_add ("/integration/profile-switch/refused-everything-ends",
      Fixture, NULL, NULL, test_refused_everything_ends, teardown);
  g_test_add ("/integration/profile-switch/sighup-keeps-video",
      Fixture, NULL, NULL, test_sighup_keeps_video, teardown);
  return g_test_run ();
}
