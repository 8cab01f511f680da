/* kill -9 of a recording mid-segment: the closed segment plays whole, the
 * unfinished one plays up to its last complete fragment, so at most about
 * a second is lost. The recording runs in tests/pipelines/record-child. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <signal.h>
#include <string.h>

#include "recording-check.h"

#define FPS 30
#define KILL_AFTER_MS 3500

typedef struct {
  GDataInputStream *out;
  char *line;
  gboolean done;
} ReadLine;

static void
line_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ReadLine *r = user_data;

  g_autoptr (GError) error = NULL;

  r->line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
      res, NULL, &error);
  if (error)
    g_test_message ("reading the child's output: %s", error->message);
  r->done = TRUE;
}

static char *
read_line (GDataInputStream *out, guint timeout_ms)
{
  ReadLine r = { out, NULL, FALSE };
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();

  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, cancel,
      line_read, &r);
  while (!r.done && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
  g_cancellable_cancel (cancel);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  return r.line;
}

static void
test_kill_mid_segment (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wr-crash-XXXXXX", &error);
  g_autofree char *child_path = g_build_filename (g_getenv ("WR_BUILD_ROOT"),
      "tests", "pipelines", "record-child", NULL);
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *seg0 = NULL;
  g_autofree char *seg1 = NULL;
  g_autofree char *why = NULL;
  g_autofree char *err0 = NULL;
  g_autofree char *err1 = NULL;
  gint64 started;
  WrMp4Info info0, info1;
  guint64 frames0 = 0, frames1 = 0;
  gboolean saw_segment0 = FALSE;

  g_assert_no_error (error);
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
      child_path, dir, "rec-crash", "2", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = read_line (out, 20000);
  if (!line || !g_str_has_prefix (line, "started H264 mp4"))
    g_error ("the child did not start recording: %s", line ? line : "(eof)");
  started = g_get_monotonic_time ();

  /* Keep reading so that the child never blocks on its stdout. */
  while (g_get_monotonic_time () - started < KILL_AFTER_MS * 1000) {
    g_autofree char *l = read_line (out,
        (guint) MAX (1, KILL_AFTER_MS - (g_get_monotonic_time () - started)
            / 1000));
    if (l && g_str_has_prefix (l, "segment 0 "))
      saw_segment0 = TRUE;
  }
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (child));
  g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);
  g_assert_true (saw_segment0);

  seg0 = g_build_filename (dir, "rec-crash", "segment-00000.mp4", NULL);
  seg1 = g_build_filename (dir, "rec-crash", "segment-00001.mp4", NULL);
  g_assert_true (g_file_test (seg1, G_FILE_TEST_EXISTS));
  {
    g_autofree char *seg2 = g_build_filename (dir, "rec-crash",
        "segment-00002.mp4", NULL);
    g_assert_false (g_file_test (seg2, G_FILE_TEST_EXISTS));
  }

  /* The closed segment: whole and cleanly finished. */
  if (!wr_check_mp4 (seg0, &info0, &why))
    g_error ("%s", why);
  g_assert_true (info0.has_mfra);
  if (!wr_check_decode (seg0, &frames0, &err0))
    g_error ("the closed segment does not play: %s", err0);

  /* The unfinished one: no index at the end, but every complete fragment
   * plays. */
  if (!wr_check_mp4 (seg1, &info1, &why))
    g_error ("the unfinished segment is not an MP4: %s", why);
  g_assert_false (info1.has_mfra);
  g_assert_cmpuint (info1.complete_fragments, >=, 1);
  wr_check_decode (seg1, &frames1, &err1);
  g_test_message ("closed segment: %" G_GUINT64_FORMAT " frames; unfinished "
      "segment: %u fragments (%u complete, %" G_GUINT64_FORMAT " samples), "
      "decoded %" G_GUINT64_FORMAT " frames%s%s", frames0, info1.n_fragments,
      info1.complete_fragments, info1.samples, frames1,
      err1 ? ", then: " : ", no error", err1 ? err1 : "");
  g_assert_cmpuint (frames1, >=, info1.samples);
  g_assert_cmpuint (frames1, >=, FPS * 3 / 4);  /* one ~0.9 s fragment */
  /* Killed 3.5 s in: at least 2.5 s survive (at most ~1 s lost). */
  g_assert_cmpuint (frames0 + frames1, >=, (KILL_AFTER_MS - 1000) * FPS
      / 1000 * 9 / 10);

  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recorder/kill-mid-segment", test_kill_mid_segment);
  return g_test_run ();
}
