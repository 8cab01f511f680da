/* Recorder tests: a test sender negotiated directly (in process) with a
 * WrRecordingPipeline; the signals are collected for the test to check. */
#pragma once

#include "pipelines/recording-pipeline.h"
#include "test-sender.h"

G_BEGIN_DECLS

typedef struct {
  guint index;
  char *file;
  guint64 size;
  char *sha256;
  gint64 start_ms;
  gint64 end_ms;
} WrRecordedSegment;

typedef struct {
  WrTestSender *sender;
  WrRecordingPipeline *rec;
  char *codec;
  char *container;
  gint64 started_ms;       /* wall clock of "started" */
  gboolean stopped;
  char *failed;
  GPtrArray *segments;     /* WrRecordedSegment, in arrival order */
} WrRecordSession;

/* @codec: the sender's, "H264" or "VP8" */
WrRecordSession *wr_record_session_new (const char *codec, const char *dir,
    const char *id, guint segment_seconds, int width, int height, int fps, gboolean moving,
    GError **error);

/* Iterates the default main context until @done or @timeout_ms passed. */
gboolean wr_record_session_wait (gboolean (*done) (WrRecordSession *),
    WrRecordSession *s, guint timeout_ms);
gboolean wr_record_session_is_started (WrRecordSession *s);
gboolean wr_record_session_is_stopped (WrRecordSession *s);
void wr_record_session_run_ms (guint ms);

void wr_record_session_free (WrRecordSession *s);

G_END_DECLS
