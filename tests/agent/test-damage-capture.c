/* webremote-agent tests: the damage-driven X capture source
 * (agent/damage-capture.c) on a real Xvfb, alone and in the agent's real
 * display pipeline with x264enc.
 *
 * What is asserted is what a viewer would see: no frames on a static screen
 * but the 1 s repeats (and little CPU), a change in the next frame within
 * milliseconds with the right pixels, a full frame rate while the screen
 * keeps changing, and a keyframe at once when one is asked for on a static
 * screen. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <X11/Xlib.h>

#include "agent/damage-capture.h"
#include "agent/display-pipeline.h"

#define WIDTH 1920
#define HEIGHT 1080

typedef struct {
  GSubprocess *xvfb;
  char *display;
  Display *dpy;
  Window win;
  GC gc;

  GstElement *pipeline;
  GstElement *src;

  GMutex lock;
  GstVideoInfo info;
  guint frames;
  gint64 last_frame_us;
  int probe_x, probe_y;
  int probe_luma;           /* luma at probe_x/y in the last frame */
} Fixture;

static void
child_setup (gpointer data)
{
  setpgid (0, 0);
  /* Should the test die, Xvfb goes with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
start_xvfb (Fixture *f)
{
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOChannel) ch = NULL;
  g_autofree char *line = NULL;
  g_autofree char *screen = g_strdup_printf ("%dx%dx24", WIDTH, HEIGHT);
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_subprocess_launcher_take_fd (l, fds[1], 3);
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  f->xvfb = g_subprocess_launcher_spawn (l, &error, "Xvfb", "-displayfd",
      "3", "-screen", "0", screen, "-nolisten", "tcp", NULL);
  g_assert_no_error (error);
  ch = g_io_channel_unix_new (fds[0]);
  g_io_channel_set_close_on_unref (ch, TRUE);
  g_io_channel_read_line (ch, &line, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  f->display = g_strdup_printf (":%d", atoi (line));
}

/* A black window over the whole screen to draw on. */
static void
open_canvas (Fixture *f)
{
  XSetWindowAttributes a = { .override_redirect = True,
    .background_pixel = 0 };

  f->dpy = XOpenDisplay (f->display);
  g_assert_nonnull (f->dpy);
  f->win = XCreateWindow (f->dpy, DefaultRootWindow (f->dpy), 0, 0, WIDTH,
      HEIGHT, 0, CopyFromParent, InputOutput, CopyFromParent,
      CWOverrideRedirect | CWBackPixel, &a);
  XMapRaised (f->dpy, f->win);
  f->gc = XCreateGC (f->dpy, f->win, 0, NULL);
  XSync (f->dpy, False);
}

static void
fill (Fixture *f, unsigned long pixel, int x, int y, int w, int h)
{
  XSetForeground (f->dpy, f->gc, pixel);
  XFillRectangle (f->dpy, f->win, f->gc, x, y, w, h);
  XSync (f->dpy, False);
}

static GstPadProbeReturn
frame_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Fixture *f = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  int luma = -1;

  g_mutex_lock (&f->lock);
  if (f->info.width && gst_buffer_map (buf, &map, GST_MAP_READ)) {
    luma = map.data[GST_VIDEO_INFO_PLANE_OFFSET (&f->info, 0)
        + f->probe_y * GST_VIDEO_INFO_PLANE_STRIDE (&f->info, 0)
        + f->probe_x];
    gst_buffer_unmap (buf, &map);
  }
  f->probe_luma = luma;
  f->frames++;
  f->last_frame_us = g_get_monotonic_time ();
  g_mutex_unlock (&f->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
caps_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Fixture *f = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    gst_event_parse_caps (event, &caps);
    g_mutex_lock (&f->lock);
    g_assert_true (gst_video_info_from_caps (&f->info, caps));
    g_mutex_unlock (&f->lock);
  }
  return GST_PAD_PROBE_OK;
}

static guint
frames (Fixture *f)
{
  guint n;

  g_mutex_lock (&f->lock);
  n = f->frames;
  g_mutex_unlock (&f->lock);
  return n;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_mutex_init (&f->lock);
  f->probe_x = 120;
  f->probe_y = 120;
  start_xvfb (f);
  open_canvas (f);
}

/* The source alone: wrdamagesrc ! capsfilter(30 fps) ! fakesink. */
static void
start_source (Fixture *f)
{
  GstElement *filter, *sink;
  g_autoptr (GstCaps) caps = gst_caps_from_string ("video/x-raw,"
      "framerate=30/1");
  g_autoptr (GstPad) pad = NULL;

  f->pipeline = gst_pipeline_new (NULL);
  f->src = wr_damage_src_new (f->display, "capture");
  filter = gst_element_factory_make ("capsfilter", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (f->pipeline), f->src, filter, sink, NULL);
  g_assert_true (gst_element_link_many (f->src, filter, sink, NULL));
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, caps_probe, f,
      NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, frame_probe, f, NULL);
  g_assert_cmpint (gst_element_set_state (f->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->pipeline) {
    gst_element_set_state (f->pipeline, GST_STATE_NULL);
    gst_object_unref (f->pipeline);
  }
  if (f->dpy)
    XCloseDisplay (f->dpy);
  if (f->xvfb) {
    g_subprocess_force_exit (f->xvfb);
    g_subprocess_wait (f->xvfb, NULL, NULL);
    g_object_unref (f->xvfb);
  }
  g_free (f->display);
  g_mutex_clear (&f->lock);
}

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
      + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static gboolean
wait_frames (Fixture *f, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  while (frames (f) < n && g_get_monotonic_time () < end)
    g_usleep (1000);
  return frames (f) >= n;
}

/* Static screen: only the repeats, every second, and almost no CPU. */
static void
test_static (Fixture *f, gconstpointer data)
{
  guint64 n0, n1, repeats0, repeats1;
  double cpu0, cpu1;
  gint64 t0, t1;

  start_source (f);
  g_assert_true (wait_frames (f, 1, 5000));
  g_usleep (1200 * 1000);
  t0 = g_get_monotonic_time ();
  cpu0 = cpu_seconds ();
  wr_damage_src_get_stats (WR_DAMAGE_SRC (f->src), &n0, &repeats0, NULL,
      NULL);
  g_usleep (3 * G_USEC_PER_SEC);
  wr_damage_src_get_stats (WR_DAMAGE_SRC (f->src), &n1, &repeats1, NULL,
      NULL);
  cpu1 = cpu_seconds ();
  t1 = g_get_monotonic_time ();
  g_test_message ("static 3 s: %" G_GUINT64_FORMAT " frames (%"
      G_GUINT64_FORMAT " repeats), CPU %.1f %% of a core", n1 - n0,
      repeats1 - repeats0, 100.0 * (cpu1 - cpu0) * G_USEC_PER_SEC / (t1 - t0));
  /* One repeat a second: 3, give or take one at the window's edges. */
  g_assert_cmpuint (n1 - n0, >=, 2);
  g_assert_cmpuint (n1 - n0, <=, 4);
  g_assert_cmpuint (repeats1 - repeats0, ==, n1 - n0);
  g_assert_cmpfloat (100.0 * (cpu1 - cpu0) * G_USEC_PER_SEC / (t1 - t0), <,
      5.0);
}

/* One change after an idle second is in the very next frame, with its
 * pixels right (white 235, black 16 in BT.601 luma). */
static void
test_change (Fixture *f, gconstpointer data)
{
  guint n;
  gint64 t0, latency = -1;
  int luma = -1;

  start_source (f);
  g_assert_true (wait_frames (f, 1, 5000));
  g_usleep (400 * 1000);
  g_mutex_lock (&f->lock);
  luma = f->probe_luma;
  g_mutex_unlock (&f->lock);
  g_assert_cmpint (luma, ==, 16);

  n = frames (f);
  t0 = g_get_monotonic_time ();
  fill (f, 0xffffff, 100, 100, 50, 50);
  while (g_get_monotonic_time () - t0 < 500 * 1000) {
    g_mutex_lock (&f->lock);
    if (f->frames > n && f->probe_luma == 235)
      latency = f->last_frame_us - t0;
    g_mutex_unlock (&f->lock);
    if (latency >= 0)
      break;
    g_usleep (500);
  }
  g_test_message ("change to frame: %.1f ms", latency / 1000.0);
  g_assert_cmpint (latency, >=, 0);
  g_assert_cmpint (latency, <, 100 * 1000);
}

typedef struct {
  Fixture *f;
  gint stop;
} Painter;

/* Changes part of the screen every 5 ms, like a video playing. */
static gpointer
paint_thread (gpointer data)
{
  Painter *p = data;
  Display *dpy = XOpenDisplay (p->f->display);
  GC gc = XCreateGC (dpy, p->f->win, 0, NULL);
  guint i = 0;

  while (!g_atomic_int_get (&p->stop)) {
    XSetForeground (dpy, gc, (i++ * 0x010305) & 0xffffff);
    XFillRectangle (dpy, p->f->win, gc, 400, 300, 800, 450);
    XSync (dpy, False);
    g_usleep (5000);
  }
  XFreeGC (dpy, gc);
  XCloseDisplay (dpy);
  return NULL;
}

/* Continuous change: the full frame rate, and no more. */
static void
test_motion (Fixture *f, gconstpointer data)
{
  Painter p = { f, 0 };
  GThread *t;
  guint n0, n1;
  gint64 t0, t1;
  double fps;

  start_source (f);
  g_assert_true (wait_frames (f, 1, 5000));
  t = g_thread_new ("painter", paint_thread, &p);
  g_usleep (300 * 1000);
  n0 = frames (f);
  t0 = g_get_monotonic_time ();
  g_usleep (2 * G_USEC_PER_SEC);
  n1 = frames (f);
  t1 = g_get_monotonic_time ();
  g_atomic_int_set (&p.stop, 1);
  g_thread_join (t);
  fps = (n1 - n0) * (double) G_USEC_PER_SEC / (t1 - t0);
  g_test_message ("motion: %.1f frames/s", fps);
  g_assert_cmpfloat (fps, >=, 25.0);
  g_assert_cmpfloat (fps, <=, 31.0);
}

/* ---- the agent's display pipeline ---- */

typedef struct {
  GMutex lock;
  gint64 keyframe_us;       /* the last RTP packet that starts a keyframe */
  guint packets;
  guint playout_delay;      /* packets with playout delay 0/0 */
} RtpWatch;

/* H.264 RTP: a packet that carries an SPS (alone, or first in a STAP-A),
 * or starts an IDR slice (alone or as a FU-A). */
static gboolean
starts_keyframe (const guint8 *d, gsize n)
{
  gsize off = 12;
  int nal;

  if (n < 14)
    return FALSE;
  off += 4 * (d[0] & 0x0f);
  if (d[0] & 0x10) {
    if (n < off + 4)
      return FALSE;
    off += 4 + 4 * ((d[off + 2] << 8) | d[off + 3]);
  }
  if (n < off + 2)
    return FALSE;
  nal = d[off] & 0x1f;
  if (nal == 24 && n >= off + 4)
    nal = d[off + 3] & 0x1f;
  else if (nal == 28)
    nal = (d[off + 1] & 0x80) ? (d[off + 1] & 0x1f) : 0;
  return nal == 7 || nal == 5;
}

/* The one-byte header extension block holds playout-delay (id 6) = 0/0. */
static gboolean
has_playout_delay_zero (const guint8 *d, gsize n)
{
  gsize off = 12 + 4 * (d[0] & 0x0f), len, end;

  if (n < off + 4 || !(d[0] & 0x10) || d[off] != 0xbe || d[off + 1] != 0xde)
    return FALSE;
  len = 4 * ((d[off + 2] << 8) | d[off + 3]);
  off += 4;
  end = MIN (n, off + len);
  while (off < end) {
    int id = d[off] >> 4, l = (d[off] & 0x0f) + 1;
    if (d[off] == 0) {
      off++;
      continue;
    }
    if (id == 6)
      return l == 3 && off + 3 < end && !d[off + 1] && !d[off + 2]
          && !d[off + 3];
    off += 1 + l;
  }
  return FALSE;
}

static GstPadProbeReturn
rtp_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RtpWatch *w = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_mutex_lock (&w->lock);
    w->packets++;
    if (map.size > 16 && has_playout_delay_zero (map.data, map.size))
      w->playout_delay++;
    if (starts_keyframe (map.data, map.size))
      w->keyframe_us = g_get_monotonic_time ();
    g_mutex_unlock (&w->lock);
    gst_buffer_unmap (buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

static gint64
keyframe_time (RtpWatch *w)
{
  gint64 t;

  g_mutex_lock (&w->lock);
  t = w->keyframe_us;
  g_mutex_unlock (&w->lock);
  return t;
}

/* A keyframe request on a static screen (a viewer joins, PLI, a recorder
 * cuts a segment) gets its keyframe at once, not at the next repeat. */
static void
test_keyframe (Fixture *f, gconstpointer data)
{
  g_autoptr (WrProfile) profile = wr_profile_new_builtin ();
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDisplayPipeline) dp = NULL;
  g_autoptr (GstElement) capture = NULL;
  g_autoptr (GstPad) pad = NULL;
  RtpWatch w = { 0 };
  GstElement *branch, *sink;
  gint64 t0, first;
  GstObject *pipeline;

  g_mutex_init (&w.lock);
  g_strfreev (profile->encoders);
  profile->encoders = g_strsplit ("x264enc", ";", -1);
  dp = wr_display_pipeline_new_for_profile (f->display, profile, "x264enc",
      &error);
  g_assert_no_error (error);

  branch = gst_bin_new ("viewer");
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (branch), sink);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_element_add_pad (branch, gst_ghost_pad_new ("sink", pad));
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, rtp_probe, &w, NULL);
  g_assert_true (wr_display_pipeline_add_branch (dp, branch, &error));
  g_assert_no_error (error);

  /* The source is the damage source. */
  pipeline = GST_OBJECT_PARENT (branch);
  capture = gst_bin_get_by_name (GST_BIN (pipeline), "capture");
  g_assert_true (WR_IS_DAMAGE_SRC (capture));

  /* The first frame is a keyframe. */
  t0 = g_get_monotonic_time ();
  while (!keyframe_time (&w) && g_get_monotonic_time () - t0 < 5000000)
    g_usleep (1000);
  g_assert_cmpint (keyframe_time (&w), >, 0);

  /* Idle, just after a repeat: the next one is ~1 s away. */
  g_usleep (1300 * 1000);
  {
    guint64 n;
    wr_damage_src_get_stats (WR_DAMAGE_SRC (capture), &n, NULL, NULL, NULL);
    g_assert_cmpuint (n, <=, 4);
  }
  first = keyframe_time (&w);
  t0 = g_get_monotonic_time ();
  wr_display_pipeline_request_keyframe (dp);
  while (keyframe_time (&w) == first
      && g_get_monotonic_time () - t0 < 2000000)
    g_usleep (500);
  g_test_message ("keyframe request to keyframe packet: %.1f ms",
      (keyframe_time (&w) - t0) / 1000.0);
  g_assert_cmpint (keyframe_time (&w), >, first);
  g_assert_cmpint (keyframe_time (&w) - t0, <, 100 * 1000);

  /* Every packet asks the receiver for no playout delay. */
  g_mutex_lock (&w.lock);
  g_test_message ("%u packets, %u with playout delay 0/0", w.packets,
      w.playout_delay);
  g_assert_cmpuint (w.packets, >, 0);
  g_assert_cmpuint (w.playout_delay, ==, w.packets);
  g_mutex_unlock (&w.lock);

  wr_display_pipeline_remove_branch (dp, branch);
  g_mutex_clear (&w.lock);
}

/* The profile key that picks the capture: damage by default, tick on
 * request, anything else refused with its line. */
static void
test_capture_key (void)
{
  g_autoptr (WrProfileSet) set = NULL;
  g_autoptr (GError) error = NULL;

  set = wr_profile_set_parse ("p.conf",
      "[profile a]\n"
      "encoders = x264enc\n"
      "\n"
      "[profile b]\n"
      "capture = tick\n"
      "\n"
      "[profile c]\n"
      "capture = damage\n", &error);
  g_assert_no_error (error);
  g_assert_cmpint (wr_profile_set_lookup (set, "a")->capture, ==,
      WR_CAPTURE_DAMAGE);
  g_assert_cmpint (wr_profile_set_lookup (set, "b")->capture, ==,
      WR_CAPTURE_TICK);
  g_assert_cmpint (wr_profile_set_lookup (set, "c")->capture, ==,
      WR_CAPTURE_DAMAGE);
  g_clear_pointer (&set, wr_profile_set_free);

  set = wr_profile_set_parse ("p.conf",
      "[profile a]\n"
      "capture = sometimes\n"
      "\n"
      "[profile b]\n"
      "source = test\n"
      "capture = tick\n", &error);
  g_assert_null (set);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "p.conf:2: [profile a] capture: "
          "'sometimes' is not one of damage, tick"));
  g_assert_nonnull (strstr (error->message, "p.conf:6: [profile b] capture: "
          "applies to source ximage only"));
}

int
main (int argc, char **argv)
{
  XInitThreads ();
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/damage-capture/profile-capture-key", test_capture_key);
  g_test_add ("/damage-capture/static-screen-sends-only-repeats", Fixture,
      NULL, setup, test_static, teardown);
  g_test_add ("/damage-capture/change-is-in-the-next-frame", Fixture, NULL,
      setup, test_change, teardown);
  g_test_add ("/damage-capture/motion-at-full-frame-rate", Fixture, NULL,
      setup, test_motion, teardown);
  g_test_add ("/damage-capture/keyframe-at-once-on-static-screen", Fixture,
      NULL, setup, test_keyframe, teardown);
  return g_test_run ();
}
