/* Recorder tests: a test sender negotiated directly with a recording. */
#include "config.h"

#include "record-session.h"

static void
segment_free (gpointer data)
{
  WrRecordedSegment *seg = data;

  g_free (seg->file);
  g_free (seg->sha256);
  g_free (seg);
}

static void
on_offer (const char *sdp, gpointer user_data)
{
  WrRecordSession *s = user_data;
  g_autoptr (GError) error = NULL;

  if (!wr_recording_pipeline_set_offer (s->rec, sdp, &error))
    g_printerr ("record-session: offer refused: %s\n", error->message);
}

static void
on_sender_candidate (guint mline, const char *candidate, gpointer user_data)
{
  WrRecordSession *s = user_data;

  wr_recording_pipeline_add_ice_candidate (s->rec, mline, candidate);
}

static void
on_answer (WrRecordingPipeline *rec, const char *sdp, gpointer user_data)
{
  WrRecordSession *s = user_data;

  wr_test_sender_set_answer (s->sender, sdp);
}

static void
on_rec_candidate (WrRecordingPipeline *rec, guint mline,
    const char *candidate, gpointer user_data)
{
  WrRecordSession *s = user_data;

  wr_test_sender_add_candidate (s->sender, mline, candidate);
}

static void
on_started (WrRecordingPipeline *rec, const char *codec,
    const char *container, gpointer user_data)
{
  WrRecordSession *s = user_data;

  s->codec = g_strdup (codec);
  s->container = g_strdup (container);
  s->started_ms = g_get_real_time () / 1000;
}

static void
on_segment (WrRecordingPipeline *rec, guint index, const char *file,
    guint64 size, const char *sha256, gint64 start_ms, gint64 end_ms,
    gpointer user_data)
{
  WrRecordSession *s = user_data;
  WrRecordedSegment *seg = g_new0 (WrRecordedSegment, 1);

  seg->index = index;
  seg->file = g_strdup (file);
  seg->size = size;
  seg->sha256 = g_strdup (sha256);
  seg->start_ms = start_ms;
  seg->end_ms = end_ms;
  g_ptr_array_add (s->segments, seg);
}

static void
on_stopped (WrRecordingPipeline *rec, gpointer user_data)
{
  WrRecordSession *s = user_data;

  s->stopped = TRUE;
}

static void
on_failed (WrRecordingPipeline *rec, const char *reason, gpointer user_data)
{
  WrRecordSession *s = user_data;

  g_printerr ("record-session: recording failed: %s\n", reason);
  if (!s->failed)
    s->failed = g_strdup (reason);
}

WrRecordSession *
wr_record_session_new (const char *codec, const char *dir, const char *id,
    guint segment_seconds, int width, int height, int fps, gboolean moving,
    GError **error)
{
  const char *ice[] = { "127.0.0.1", NULL };
  WrRecordSession *s = g_new0 (WrRecordSession, 1);

  s->segments = g_ptr_array_new_with_free_func (segment_free);
  s->rec = wr_recording_pipeline_new (id, dir, segment_seconds, ice, NULL,
      error);
  if (!s->rec) {
    wr_record_session_free (s);
    return NULL;
  }
  g_signal_connect (s->rec, "answer", G_CALLBACK (on_answer), s);
  g_signal_connect (s->rec, "ice-candidate", G_CALLBACK (on_rec_candidate),
      s);
  g_signal_connect (s->rec, "started", G_CALLBACK (on_started), s);
  g_signal_connect (s->rec, "segment", G_CALLBACK (on_segment), s);
  g_signal_connect (s->rec, "stopped", G_CALLBACK (on_stopped), s);
  g_signal_connect (s->rec, "failed", G_CALLBACK (on_failed), s);
  s->sender = wr_test_sender_new (codec, width, height, fps, "ball", moving,
      on_offer, on_sender_candidate, s, error);
  if (!s->sender) {
    wr_record_session_free (s);
    return NULL;
  }
  return s;
}

void
wr_record_session_run_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (2000), TRUE);
}

gboolean
wr_record_session_wait (gboolean (*done) (WrRecordSession *),
    WrRecordSession *s, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done (s)) {
    if (g_get_monotonic_time () >= end || s->failed)
      return done (s);
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
  }
  return TRUE;
}

gboolean
wr_record_session_is_started (WrRecordSession *s)
{
  return s->codec != NULL;
}

gboolean
wr_record_session_is_stopped (WrRecordSession *s)
{
  return s->stopped;
}

void
wr_record_session_free (WrRecordSession *s)
{
  if (!s)
    return;
  if (s->rec)
    g_signal_handlers_disconnect_by_data (s->rec, s);
  g_clear_pointer (&s->sender, wr_test_sender_free);
  g_clear_object (&s->rec);
  g_ptr_array_unref (s->segments);
  g_free (s->codec);
  g_free (s->container);
  g_free (s->failed);
  g_free (s);
}
