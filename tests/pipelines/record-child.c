/* Recorder tests: sender + recording pipeline in one process that the crash
 * test kills with SIGKILL. Usage: record-child DIR ID SEGMENT_SECONDS.
 * Prints "started" when the first keyframe reached the muxer, then
 * "segment N" for every closed segment, and records until killed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "record-session.h"

static void
on_segment (WrRecordingPipeline *rec, guint index, const char *file,
    guint64 size, const char *sha256, gint64 start_ms, gint64 end_ms,
    gpointer user_data)
{
  printf ("segment %u %s %" G_GUINT64_FORMAT " %s\n", index, file, size,
      sha256);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  WrRecordSession *s;
  gboolean announced = FALSE;

  gst_init (&argc, &argv);
  if (argc != 4) {
    fprintf (stderr, "usage: %s DIR ID SEGMENT_SECONDS\n", argv[0]);
    return 2;
  }
  s = wr_record_session_new ("H264", argv[1], argv[2],
      (guint) atoi (argv[3]), 640, 360, 30, FALSE, &error);
  if (!s) {
    fprintf (stderr, "record-child: %s\n", error->message);
    return 1;
  }
  g_signal_connect (s->rec, "segment", G_CALLBACK (on_segment), NULL);
  for (;;) {
    g_main_context_iteration (NULL, TRUE);
    if (!announced && s->codec) {
      announced = TRUE;
      printf ("started %s %s\n", s->codec, s->container);
      fflush (stdout);
    }
    if (s->failed) {
      fprintf (stderr, "record-child: %s\n", s->failed);
      return 1;
    }
  }
}
