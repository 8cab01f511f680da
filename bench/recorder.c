/* Recorder benchmark: CPU and disk throughput of the webremote-recorder
 * process for one H.264 stream (bench/run-recorder, docs/benchmarks.md).
 *
 * The real webremote-recorder binary runs as its own process against the
 * fake gateway of tests/pipelines (WSS on loopback, the recorder protocol);
 * this process plays the agent with a GStreamer sender (videotestsrc
 * scrolling every frame, x264 ultrafast/zerolatency, infinite GOP,
 * keyframes on PLI). Only the recorder's process is measured, from
 * /proc/PID/stat (utime + stime) and /proc/PID/io (wchar) and the files.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/protocol.h"
#include "tests/pipelines/fake-recorder-gateway.h"
#include "tests/pipelines/recording-check.h"
#include "tests/pipelines/test-sender.h"

#define TOKEN "bench-recorder-token-0123456789abcdef"
#define SID "bench-rec"

static int opt_width = 1920;
static int opt_height = 1080;
static int opt_fps = 30;
static int opt_duration = 20;
static int opt_segment = 10;
static gboolean opt_decode = TRUE;

static const GOptionEntry entries[] = {
  { "width", 0, 0, G_OPTION_ARG_INT, &opt_width, "Video width", "W" },
  { "height", 0, 0, G_OPTION_ARG_INT, &opt_height, "Video height", "H" },
  { "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "Frame rate", "N" },
  { "duration", 0, 0, G_OPTION_ARG_INT, &opt_duration,
    "Seconds measured", "S" },
  { "segment-seconds", 0, 0, G_OPTION_ARG_INT, &opt_segment,
    "Segment length", "S" },
  { "no-decode", 0, G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, &opt_decode,
    "Skip decoding the segments afterwards", NULL },
  { NULL }
};

typedef struct {
  WrFakeRecorderGateway *f;
  WrTestSender *sender;
  GPtrArray *segments;   /* record.segment messages (JsonObject) */
} Relay;

static void
sender_offer (const char *sdp, gpointer user_data)
{
  Relay *r = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("sdp.offer");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, SID);
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  wr_fake_recorder_gateway_send (r->f, b);
}

static void
sender_candidate (guint mline, const char *candidate, gpointer user_data)
{
  Relay *r = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("ice.candidate");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, SID);
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate);
  json_builder_set_member_name (b, "sdp_mline_index");
  json_builder_add_int_value (b, mline);
  wr_fake_recorder_gateway_send (r->f, b);
}

/* Handles what the recorder sends; returns record.started when it comes. */
static JsonObject *
pump (Relay *r, const char *until, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end) {
    g_autoptr (JsonObject) m = wr_fake_recorder_gateway_take (r->f, NULL,
        NULL, 20);
    const char *type;

    if (!m)
      continue;
    type = wr_message_get_type (m);
    if (g_str_equal (type, "sdp.answer"))
      wr_test_sender_set_answer (r->sender, wr_message_get_string (m, "sdp"));
    else if (g_str_equal (type, "ice.candidate"))
      wr_test_sender_add_candidate (r->sender,
          (guint) wr_message_get_int (m, "sdp_mline_index", 0),
          wr_message_get_string (m, "candidate"));
    else if (g_str_equal (type, "record.segment"))
      g_ptr_array_add (r->segments, json_object_ref (m));
    else if (g_str_equal (type, "record.failed"))
      g_error ("record.failed: %s", wr_message_get_string (m, "reason"));
    if (until && g_str_equal (type, until))
      return g_steal_pointer (&m);
  }
  return NULL;
}

static gboolean
read_cpu_ticks (const char *pid, guint64 *ticks)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || !(after = strrchr (text, ')')))
    return FALSE;
  /* after ") ": state is field 3; utime and stime are fields 14 and 15 */
  fields = g_strsplit (after + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return FALSE;
  *ticks = g_ascii_strtoull (fields[11], NULL, 10)
      + g_ascii_strtoull (fields[12], NULL, 10);
  return TRUE;
}

static guint64
read_wchar (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/io", pid);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || !(p = strstr (text, "wchar: ")))
    return 0;
  return g_ascii_strtoull (p + 7, NULL, 10);
}

static guint64
dir_bytes (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint64 total = 0;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    GStatBuf st;
    if (g_stat (path, &st) == 0)
      total += (guint64) st.st_size;
  }
  return total;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (
      "- measure webremote-recorder");
  g_autoptr (GError) error = NULL;
  WrFakeRecorderGateway f = { 0 };
  Relay r = { &f, NULL, g_ptr_array_new_with_free_func (
      (GDestroyNotify) json_object_unref) };
  g_autoptr (JsonBuilder) start = NULL;
  g_autoptr (JsonBuilder) stop = NULL;
  g_autoptr (JsonObject) started = NULL;
  g_autofree char *rec_dir = NULL;
  const char *pid;
  guint64 t0_ticks, t1_ticks, w0, w1, b0, b1, s0, s1, s_stop;
  gint64 t0, t1;
  double wall, cpu, fps_sent;
  long hz = sysconf (_SC_CLK_TCK);
  guint segments = 0;
  guint64 decoded = 0, total_bytes = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  gst_init (NULL, NULL);
  if (!g_getenv ("WR_BUILD_ROOT")) {
    g_printerr ("set WR_BUILD_ROOT (bench/run-recorder does)\n");
    return 2;
  }

  wr_fake_recorder_gateway_start (&f, TOKEN);
  wr_fake_recorder_gateway_spawn (&f, TOKEN, "--name", "bench", NULL);
  wr_fake_recorder_gateway_handshake (&f);
  pid = g_subprocess_get_identifier (f.recorder);

  start = wr_message_new ("record.start");
  json_builder_set_member_name (start, "sid");
  json_builder_add_string_value (start, SID);
  json_builder_set_member_name (start, "session");
  json_builder_add_string_value (start, "bench-session");
  json_builder_set_member_name (start, "agent");
  json_builder_add_string_value (start, "bench-agent");
  json_builder_set_member_name (start, "display");
  json_builder_add_string_value (start, ":0");
  json_builder_set_member_name (start, "segment_seconds");
  json_builder_add_int_value (start, opt_segment);
  json_builder_set_member_name (start, "ice_servers");
  json_builder_begin_array (start);
  json_builder_end_array (start);
  wr_fake_recorder_gateway_send (&f, start);

  r.sender = wr_test_sender_new ("H264", opt_width, opt_height, opt_fps,
      "smpte", TRUE, sender_offer, sender_candidate, &r, &error);
  if (!r.sender)
    g_error ("sender: %s", error->message);
  started = pump (&r, "record.started", 30000);
  if (!started) {
    g_autofree char *log = wr_fake_recorder_gateway_log (&f);
    g_error ("no record.started within 30 s; recorder log:\n%s", log);
  }
  /* Settle: ICE, DTLS and the first keyframe are not the steady state. */
  pump (&r, NULL, 2000);

  rec_dir = g_build_filename (f.rec_dir, SID, NULL);
  if (!read_cpu_ticks (pid, &t0_ticks))
    g_error ("cannot read /proc/%s/stat", pid);
  w0 = read_wchar (pid);
  b0 = dir_bytes (rec_dir);
  s0 = wr_test_sender_get_frames (r.sender);
  t0 = g_get_monotonic_time ();
  pump (&r, NULL, (guint) opt_duration * 1000);
  t1 = g_get_monotonic_time ();
  read_cpu_ticks (pid, &t1_ticks);
  w1 = read_wchar (pid);
  b1 = dir_bytes (rec_dir);
  s1 = wr_test_sender_get_frames (r.sender);

  wall = (double) (t1 - t0) / G_USEC_PER_SEC;
  cpu = (double) (t1_ticks - t0_ticks) / (double) hz / wall * 100.0;
  fps_sent = (double) (s1 - s0) / wall;

  stop = wr_message_new ("record.stop");
  json_builder_set_member_name (stop, "sid");
  json_builder_add_string_value (stop, SID);
  wr_fake_recorder_gateway_send (&f, stop);
  s_stop = wr_test_sender_get_frames (r.sender);
  if (!pump (&r, "record.stopped", 20000))
    g_error ("no record.stopped within 20 s");
  for (guint i = 0; i < r.segments->len; i++) {
    JsonObject *m = r.segments->pdata[i];
    {
      g_autofree char *path = g_build_filename (rec_dir,
          wr_message_get_string (m, "file"), NULL);
      segments++;
      total_bytes += (guint64) wr_message_get_int (m, "size", 0);
      if (opt_decode) {
        guint64 n = 0;
        g_autofree char *err = NULL;
        if (!wr_check_decode (path, &n, &err))
          g_printerr ("%s: %s\n", path, err);
        decoded += n;
      }
    }
  }

  printf ("recorder benchmark: %dx%d at %d fps (sent %.1f fps), %d s "
      "measured, %d s segments\n", opt_width, opt_height, opt_fps, fps_sent,
      opt_duration, opt_segment);
  printf ("  recorder CPU:        %.2f %% of one core (%" G_GUINT64_FORMAT
      " ticks at %ld Hz over %.1f s)\n", cpu, t1_ticks - t0_ticks, hz, wall);
  printf ("  written to files:    %.0f bytes/s (%.2f Mbit/s)\n",
      (double) (b1 - b0) / wall, (double) (b1 - b0) * 8 / wall / 1e6);
  printf ("  write() calls:       %.0f bytes/s (/proc/PID/io wchar)\n",
      (double) (w1 - w0) / wall);
  printf ("  segments:            %u, %" G_GUINT64_FORMAT " bytes in all\n",
      segments, total_bytes);
  if (opt_decode)
    printf ("  frames decoded:      %" G_GUINT64_FORMAT " (the sender "
        "encoded %" G_GUINT64_FORMAT " in all, some before the WebRTC "
        "connection was up)\n", decoded, s_stop);
  printf ("JSON {\"width\":%d,\"height\":%d,\"fps\":%d,\"sent_fps\":%.2f,"
      "\"seconds\":%.2f,\"cpu_percent\":%.3f,\"file_bytes_per_s\":%.0f,"
      "\"wchar_bytes_per_s\":%.0f,\"segments\":%u,\"decoded_frames\":%"
      G_GUINT64_FORMAT "}\n", opt_width, opt_height, opt_fps, fps_sent, wall,
      cpu, (double) (b1 - b0) / wall, (double) (w1 - w0) / wall, segments,
      decoded);
  wr_test_sender_free (g_steal_pointer (&r.sender));
  wr_fake_recorder_gateway_stop (&f);
  g_ptr_array_unref (r.segments);
  return 0;
}
