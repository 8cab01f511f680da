/* The recording pipeline against a real WebRTC sender on loopback: the
 * segments it writes decode to about duration x fps frames, are fragmented
 * MP4 with fragments of at most a second (H.264) or WebM (VP8), and carry
 * the SHA-256 reported. Also: the sender is asked for the keyframes that
 * cut the segments. */
#include "config.h"

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "pipelines/recording-pipeline.h"
#include "record-session.h"
#include "recording-check.h"

#define FPS 30
#define SEGMENT_S 2
#define RECORD_MS 6000

typedef struct {
  const char *codec;      /* the sender's */
  const char *container;  /* what the recorder must write */
  const char *extension;
  guint record_ms;
} Case;

static const Case h264 = { "H264", "mp4", "mp4", RECORD_MS };
static const Case vp8 = { "VP8", "webm", "webm", 4000 };

static void
test_record (gconstpointer data)
{
  const Case *c = data;
  gboolean mp4 = g_str_equal (c->container, "mp4");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wr-rec-XXXXXX", &error);
  WrRecordSession *s;
  guint64 total = 0, expected;
  double duration_s;
  guint requests, min_segments = c->record_ms / 1000 / SEGMENT_S;
  WrRecordedSegment *first, *last;

  g_assert_no_error (error);
  s = wr_record_session_new (c->codec, dir, "rec-test-1", SEGMENT_S, 640,
      360, FPS, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);

  if (!wr_record_session_wait (wr_record_session_is_started, s, 20000))
    g_error ("the recording did not start within 20 s (%s)",
        s->failed ? s->failed : "no failure reported");
  g_assert_cmpstr (s->codec, ==, c->codec);
  g_assert_cmpstr (s->container, ==, c->container);

  wr_record_session_run_ms (c->record_ms);
  g_assert_null (s->failed);
  wr_recording_pipeline_stop (s->rec);
  if (!wr_record_session_wait (wr_record_session_is_stopped, s, 15000))
    g_error ("no \"stopped\" within 15 s after stop (%s)",
        s->failed ? s->failed : "no failure reported");
  g_assert_null (s->failed);
  requests = wr_test_sender_get_keyframe_requests (s->sender);

  /* 6 s in 2 s segments: 3, or 4 when the last cut came just before the
   * stop. */
  g_test_message ("%u segments, %u keyframe requests at the sender",
      s->segments->len, requests);
  g_assert_cmpuint (s->segments->len, >=, min_segments);
  g_assert_cmpuint (s->segments->len, <=, min_segments + 1);
  /* Every cut was asked for: the sender's GOP is infinite. */
  g_assert_cmpuint (requests, >=, s->segments->len - 1);

  for (guint i = 0; i < s->segments->len; i++) {
    WrRecordedSegment *seg = s->segments->pdata[i];
    g_autofree char *path = g_build_filename (dir, "rec-test-1", seg->file,
        NULL);
    g_autofree char *name = g_strdup_printf ("segment-%05u.%s", i,
        c->extension);
    g_autofree char *sha = NULL;
    g_autofree char *why = NULL;
    g_autofree char *decode_error = NULL;
    GStatBuf st;
    WrMp4Info info;
    guint64 frames = 0;

    g_assert_cmpuint (seg->index, ==, i);
    g_assert_cmpstr (seg->file, ==, name);
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpuint (seg->size, ==, (guint64) st.st_size);
    sha = wr_check_sha256_file (path);
    g_assert_cmpstr (seg->sha256, ==, sha);
    g_assert_cmpint (seg->start_ms, <, seg->end_ms);
    if (i > 0) {
      WrRecordedSegment *prev = s->segments->pdata[i - 1];
      g_assert_cmpint (seg->start_ms, ==, prev->end_ms);
    }

    if (!wr_check_decode (path, &frames, &decode_error))
      g_error ("%s does not play: %s", seg->file, decode_error);
    total += frames;
    g_test_message ("%s: %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
        " frames decoded", seg->file, seg->size, frames);
    if (!mp4)
      continue;

    if (!wr_check_mp4 (path, &info, &why))
      g_error ("%s", why);
    g_test_message ("%s: %u fragments, longest %.3f s, %" G_GUINT64_FORMAT
        " samples, %s", seg->file, info.n_fragments, info.max_fragment_s,
        info.samples, info.has_mfra ? "closed cleanly" : "no mfra");
    /* Fragmented: a moof at least every second, all complete. */
    g_assert_cmpuint (info.n_fragments, >=, 1);
    g_assert_cmpuint (info.complete_fragments, ==, info.n_fragments);
    g_assert_cmpfloat (info.max_fragment_s, <=, 1.0 + 1e-6);
    g_assert_true (info.has_mfra);
    if (seg->end_ms - seg->start_ms >= 1500)
      g_assert_cmpuint (info.n_fragments, >=, 2);
    g_assert_cmpuint (frames, ==, info.samples);
  }

  first = s->segments->pdata[0];
  last = s->segments->pdata[s->segments->len - 1];
  duration_s = (double) (last->end_ms - first->start_ms) / 1000.0;
  expected = (guint64) (duration_s * FPS + 0.5);
  g_test_message ("decoded %" G_GUINT64_FORMAT " frames over %.2f s "
      "(expected about %" G_GUINT64_FORMAT " at %d fps); the pipeline "
      "wrote %" G_GUINT64_FORMAT, total, duration_s, expected, FPS,
      wr_recording_pipeline_get_frames (s->rec));
  g_assert_cmpfloat (duration_s, >=, c->record_ms / 1000.0 - 0.5);
  g_assert_cmpuint (total, >=, (guint64) (expected * 0.85));
  g_assert_cmpuint (total, <=, (guint64) (expected * 1.15));
  g_assert_cmpuint (total, ==, wr_recording_pipeline_get_frames (s->rec));

  wr_record_session_free (s);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

static void
test_bad_id (void)
{
  g_autoptr (GError) error = NULL;
  WrRecordingPipeline *rec;

  g_assert_false (wr_recording_id_is_valid ("../etc"));
  g_assert_false (wr_recording_id_is_valid (".hidden"));
  g_assert_false (wr_recording_id_is_valid ("a/b"));
  g_assert_false (wr_recording_id_is_valid (""));
  g_assert_true (wr_recording_id_is_valid ("rec_1-2.x"));
  rec = wr_recording_pipeline_new ("../escape", "/tmp", 2, NULL, NULL,
      &error);
  g_assert_null (rec);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* The timestamps the muxer gets: a frame without a PTS (the second of two
 * access units the depayloader completed from one RTP packet) and a step
 * back (the jitter buffer's resync) must not reach mp4mux as they are. */
static void
test_repair_pts (void)
{
  const GstClockTime ms = GST_MSECOND, none = GST_CLOCK_TIME_NONE;
  GstClockTime last = none, offset = 0;

  /* nothing to go by yet: dropped */
  g_assert_cmpuint (wr_recording_repair_pts (none, none, &last, &offset),
      ==, none);
  g_assert_cmpuint (last, ==, none);
  /* normal frames pass unchanged */
  g_assert_cmpuint (wr_recording_repair_pts (1000 * ms, none, &last,
          &offset), ==, 1000 * ms);
  g_assert_cmpuint (wr_recording_repair_pts (1033 * ms, none, &last,
          &offset), ==, 1033 * ms);
  /* no PTS: just after the last one */
  g_assert_cmpuint (wr_recording_repair_pts (none, none, &last, &offset),
      ==, 1034 * ms);
  g_assert_cmpuint (wr_recording_repair_pts (1066 * ms, none, &last,
          &offset), ==, 1066 * ms);
  /* the same PTS again */
  g_assert_cmpuint (wr_recording_repair_pts (1066 * ms, none, &last,
          &offset), ==, 1067 * ms);
  /* a step back of about half a second: the frames after it keep their
   * 33 ms spacing, shifted to follow on */
  g_assert_cmpuint (wr_recording_repair_pts (600 * ms, none, &last,
          &offset), ==, 1068 * ms);
  g_assert_cmpuint (wr_recording_repair_pts (633 * ms, none, &last,
          &offset), ==, 1101 * ms);
  g_assert_cmpuint (wr_recording_repair_pts (666 * ms, none, &last,
          &offset), ==, 1134 * ms);
  /* with a DTS the muxer knows the order: PTS kept, or taken from it */
  g_assert_cmpuint (wr_recording_repair_pts (900 * ms, 1200 * ms, &last,
          &offset), ==, 900 * ms);
  g_assert_cmpuint (wr_recording_repair_pts (none, 1233 * ms, &last,
          &offset), ==, 1233 * ms);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/recording-pipeline/h264", &h264, test_record);
  g_test_add_data_func ("/recording-pipeline/vp8", &vp8, test_record);
  g_test_add_func ("/recording-pipeline/bad-id", test_bad_id);
  g_test_add_func ("/recording-pipeline/repair-pts", test_repair_pts);
  return g_test_run ();
}
