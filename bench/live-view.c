/* webremote-bench-live: live view benchmark on loopback.
 *
 * Starts Xvfb at the given size, the gateway and the agent (as the
 * integration tests do: the agent is enrolled first and connects with its
 * client certificate, mTLS, no token), then measures with the GStreamer
 * test viewer:
 *
 * - cold start: session.request -> first decoded frame, with no other
 *   viewer (the agent builds its capture+encode pipeline), median of --runs;
 * - warm start: the same while another viewer already watches (the agent
 *   adds a peer to the running pipeline and asks for a keyframe);
 * - sustained: decoded frames per second over --duration seconds and the
 *   CPU time of the agent, the gateway, Xvfb and the viewer over the same
 *   window, as % of one core (/proc/PID/stat).
 *
 * Prints one table row (--header prints the header first) and writes JSON.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>

#include "harness.h"
#include "test-viewer.h"

static int opt_width = 1280;
static int opt_height = 720;
static int opt_fps = 30;
static int opt_runs = 5;
static int opt_duration = 10;
static char *opt_json = NULL;
static char *opt_workload = NULL;
static gboolean opt_header = FALSE;

static GOptionEntry entries[] = {
  { "width", 0, 0, G_OPTION_ARG_INT, &opt_width, "Screen width", "W" },
  { "height", 0, 0, G_OPTION_ARG_INT, &opt_height, "Screen height", "H" },
  { "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "Agent frame rate", "N" },
  { "runs", 0, 0, G_OPTION_ARG_INT, &opt_runs,
    "Session starts to time (cold and warm each)", "N" },
  { "duration", 0, 0, G_OPTION_ARG_INT, &opt_duration,
    "Seconds of sustained measurement", "S" },
  { "workload", 0, 0, G_OPTION_ARG_STRING, &opt_workload,
    "What the screen shows: xclock (default, changes once a second), "
    "idle (static root window) or scroll (an xterm printing 20 lines/s)",
    "NAME" },
  { "json", 0, 0, G_OPTION_ARG_FILENAME, &opt_json, "Write results here",
    "FILE" },
  { "header", 0, 0, G_OPTION_ARG_NONE, &opt_header,
    "Print the table header first", NULL },
  { NULL }
};

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr (GArray) sorted = NULL;
  guint n = values->len;

  if (n == 0)
    return -1;
  sorted = g_array_copy (values);
  g_array_sort (sorted, compare_double);
  if (n % 2)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1)
      + g_array_index (sorted, double, n / 2)) / 2;
}

static gboolean
no_pipelines (gpointer data)
{
  WrHarness *h = data;
  g_autoptr (JsonObject) agent = wr_harness_get_agent (h);
  JsonArray *pipelines;

  if (!agent || !json_object_has_member (agent, "pipelines"))
    return FALSE;
  pipelines = json_object_get_array_member (agent, "pipelines");
  return pipelines && json_array_get_length (pipelines) == 0;
}

/* Connects a viewer, starts a session and returns ms from session.request
 * to the first decoded frame, or -1. */
static double
time_session_start (WrHarness *h, WrTestViewer **out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrTestViewer) v =
      wr_test_viewer_new (h->base_url, h->fingerprint, h->token);
  double ms;

  if (!wr_test_viewer_connect (v, 5000, NULL, &error)
      || !wr_test_viewer_start_session (v, h->agent_id, NULL, 5000, &error)) {
    g_printerr ("bench: %s\n", error->message);
    return -1;
  }
  if (!wr_test_viewer_wait_frames (v, 1, 10000)) {
    g_autofree char *state = wr_test_viewer_describe (v);
    g_printerr ("bench: no frame within 10 s: %s\n", state);
    return -1;
  }
  ms = (wr_test_viewer_get_first_frame_time (v)
      - wr_test_viewer_get_request_time (v)) / 1000.0;
  if (out)
    *out = g_steal_pointer (&v);
  return ms;
}

/* For the viewers the measurement needs (not timed): retries a start that
 * shows no frame, which the failure counters already account for. */
static gboolean
start_untimed (WrHarness *h, WrTestViewer **out)
{
  for (int attempt = 0; attempt < 3; attempt++)
    if (time_session_start (h, out) >= 0)
      return TRUE;
  return FALSE;
}

static char *
cpu_model (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "model name")) {
      const char *colon = strchr (lines[i], ':');
      if (colon)
        return g_strstrip (g_strdup (colon + 1));
    }
  }
  return g_strdup ("unknown");
}

static void
add_array (JsonBuilder *b, const char *name, GArray *values)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < values->len; i++)
    json_builder_add_double_value (b, g_array_index (values, double, i));
  json_builder_end_array (b);
}

static void
add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

static gboolean
start_workload (WrHarness *h, GError **error)
{
  const char *name = opt_workload ? opt_workload : "xclock";

  if (strcmp (name, "idle") == 0)
    return TRUE;
  if (strcmp (name, "xclock") == 0) {
    const char *argv[] = { "xclock", "-update", "1", "-geometry",
      "300x300+50+50", NULL };
    return wr_harness_spawn_x_client (h, argv, error);
  }
  if (strcmp (name, "scroll") == 0) {
    const char *argv[] = { "xterm", "-geometry", "120x50+0+0", "-e", "sh",
      "-c", "while :; do date; ls -l /usr/bin | head -c 200; sleep 0.05; "
      "done", NULL };
    return wr_harness_spawn_x_client (h, argv, error);
  }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "unknown workload %s", name);
  return FALSE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (GArray) cold = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) warm = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (WrTestViewer) resident = NULL;
  g_autoptr (WrTestViewer) viewer = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonObject) agent = NULL;
  g_autofree char *json = NULL;
  g_autofree char *cpu = cpu_model ();
  g_autofree char *encoder = NULL;
  g_autofree char *size = NULL;
  g_autofree char *failed = NULL;
  guint64 a0 = 0, a1 = 0, g0 = 0, g1 = 0, x0 = 0, x1 = 0, s0 = 0, s1 = 0;
  guint64 f0, f1;
  gint64 t0, t1;
  double secs, fps, ticks = (double) sysconf (_SC_CLK_TCK);
  double cpu_agent, cpu_gateway, cpu_xvfb, cpu_viewer;
  int vw = 0, vh = 0;
  guint failed_cold = 0, failed_warm = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }

  h = wr_harness_new (opt_width, opt_height);
  /* The workload is all that moves (no harness motion square). */
  h->static_screen = TRUE;
  h->agent_extra_config = g_strdup_printf ("[video]\nframerate=%d\n",
      opt_fps);
  if (!wr_harness_start_all (h, &error) || !start_workload (h, &error)) {
    g_printerr ("bench: %s\n", error->message);
    return 1;
  }
  wr_iterate_ms (500);

  /* Cold starts: each session builds the pipeline. */
  for (int i = 0; i < opt_runs; i++) {
    WrTestViewer *v = NULL;
    double ms = time_session_start (h, &v);

    /* A start that never shows a frame is counted, not fatal: how often
     * that happens is part of the result. */
    if (ms < 0) {
      failed_cold++;
      continue;
    }
    g_array_append_val (cold, ms);
    wr_test_viewer_free (v);
    if (!wr_wait_until (no_pipelines, h, 5000))
      g_printerr ("bench: the agent still runs a pipeline 5 s after the "
          "last viewer left; the next start is not cold\n");
  }

  /* Warm starts: one viewer stays. */
  if (!start_untimed (h, &resident))
    return 1;
  for (int i = 0; i < opt_runs; i++) {
    WrTestViewer *v = NULL;
    double ms = time_session_start (h, &v);

    if (ms < 0) {
      failed_warm++;
      continue;
    }
    g_array_append_val (warm, ms);
    wr_test_viewer_free (v);
    wr_iterate_ms (300);
  }
  g_clear_pointer (&resident, wr_test_viewer_free);
  wr_wait_until (no_pipelines, h, 5000);

  /* Sustained: one viewer. */
  if (!start_untimed (h, &viewer))
    return 1;
  wr_iterate_ms (2000);
  t0 = g_get_monotonic_time ();
  f0 = wr_test_viewer_get_frames (viewer);
  wr_process_cpu_ticks (wr_harness_agent_pid (h), &a0);
  wr_process_cpu_ticks (wr_harness_gateway_pid (h), &g0);
  wr_process_cpu_ticks (wr_harness_xvfb_pid (h), &x0);
  wr_process_cpu_ticks (getpid (), &s0);
  wr_iterate_ms ((guint) opt_duration * 1000);
  t1 = g_get_monotonic_time ();
  f1 = wr_test_viewer_get_frames (viewer);
  wr_process_cpu_ticks (wr_harness_agent_pid (h), &a1);
  wr_process_cpu_ticks (wr_harness_gateway_pid (h), &g1);
  wr_process_cpu_ticks (wr_harness_xvfb_pid (h), &x1);
  wr_process_cpu_ticks (getpid (), &s1);
  wr_test_viewer_get_video_size (viewer, &vw, &vh);

  secs = (t1 - t0) / 1e6;
  fps = (double) (f1 - f0) / secs;
  cpu_agent = 100.0 * (double) (a1 - a0) / ticks / secs;
  cpu_gateway = 100.0 * (double) (g1 - g0) / ticks / secs;
  cpu_xvfb = 100.0 * (double) (x1 - x0) / ticks / secs;
  cpu_viewer = 100.0 * (double) (s1 - s0) / ticks / secs;

  agent = wr_harness_get_agent (h);
  if (agent && json_object_has_member (agent, "pipelines")) {
    JsonArray *p = json_object_get_array_member (agent, "pipelines");
    if (p && json_array_get_length (p) > 0)
      encoder = g_strdup (json_object_get_string_member_with_default (
              json_array_get_object_element (p, 0), "encoder", "?"));
  }

  size = g_strdup_printf ("%dx%d", opt_width, opt_height);
  if (opt_header) {
    printf ("%-10s %-4s %-9s %-8s %13s %13s %7s %8s %10s %12s %9s %10s\n",
        "size", "fps", "encoder", "workload", "cold start ms",
        "warm start ms", "failed", "fps got", "agent CPU", "gateway CPU",
        "Xvfb CPU", "viewer CPU");
  }
  failed = g_strdup_printf ("%u/%u", failed_cold + failed_warm,
      2 * opt_runs);
  printf ("%-10s %-4d %-9s %-8s %13.0f %13.0f %7s %8.1f %9.1f%% %11.1f%% "
      "%8.1f%% %9.1f%%\n",
      size, opt_fps,
      encoder ? encoder : "?", opt_workload ? opt_workload : "xclock",
      median (cold), median (warm), failed, fps, cpu_agent, cpu_gateway,
      cpu_xvfb, cpu_viewer);
  fflush (stdout);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, opt_width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, opt_height);
  json_builder_set_member_name (b, "decoded_width");
  json_builder_add_int_value (b, vw);
  json_builder_set_member_name (b, "decoded_height");
  json_builder_add_int_value (b, vh);
  json_builder_set_member_name (b, "framerate");
  json_builder_add_int_value (b, opt_fps);
  json_builder_set_member_name (b, "encoder");
  json_builder_add_string_value (b, encoder ? encoder : "");
  json_builder_set_member_name (b, "workload");
  json_builder_add_string_value (b, opt_workload ? opt_workload : "xclock");
  add_array (b, "cold_start_ms", cold);
  add_double (b, "cold_start_median_ms", median (cold));
  add_array (b, "warm_start_ms", warm);
  add_double (b, "warm_start_median_ms", median (warm));
  json_builder_set_member_name (b, "failed_cold_starts");
  json_builder_add_int_value (b, failed_cold);
  json_builder_set_member_name (b, "failed_warm_starts");
  json_builder_add_int_value (b, failed_warm);
  add_double (b, "duration_s", secs);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, (gint64) (f1 - f0));
  add_double (b, "fps", fps);
  json_builder_set_member_name (b, "cpu_percent_of_one_core");
  json_builder_begin_object (b);
  add_double (b, "agent", cpu_agent);
  add_double (b, "gateway", cpu_gateway);
  add_double (b, "xvfb", cpu_xvfb);
  add_double (b, "viewer", cpu_viewer);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "machine");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nproc");
  json_builder_add_int_value (b, (gint64) g_get_num_processors ());
  json_builder_set_member_name (b, "cpu");
  json_builder_add_string_value (b, cpu);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = json_to_string (root, TRUE);
  if (opt_json) {
    if (!g_file_set_contents (opt_json, json, -1, &error)) {
      g_printerr ("bench: %s\n", error->message);
      return 1;
    }
  } else {
    g_printerr ("%s\n", json);
  }
  return 0;
}
