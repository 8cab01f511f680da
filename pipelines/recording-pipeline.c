/* webremote-recorder: one recording: a receive-only webrtcbin whose video
 * is written to disk without re-encoding.
 *
 *   webrtcbin ! rtpXdepay [! h264parse] ! (segmenter) ! mp4mux|webmmux
 *       ! filesink
 *
 * Why not splitmuxsink: it holds every GOP in memory until the next
 * keyframe before the muxer sees it, and the agent sends keyframes only on
 * request (its GOP is infinite), so a crash would lose the whole segment;
 * it also ignores mp4mux's fragment-duration. The segmenter here is a
 * buffer probe on the parser's source pad: it drops everything before the
 * first keyframe, asks the sender for a keyframe (force-key-unit upstream,
 * which webrtcbin's RTP session turns into an RTCP PLI/FIR) shortly before
 * a segment is due, and at the first keyframe after that relinks the pad
 * to a fresh muxer and file, sending EOS to the old one.
 *
 * The probe also repairs timestamps the muxer would refuse (a missing PTS,
 * one that steps back): wr_recording_repair_pts().
 *
 * mp4mux with fragment-duration writes ftyp+moov first and then a moof+mdat
 * pair every second, keyframe or not (checked: fragments do not need
 * keyframes); filesink is unbuffered, so every fragment is in the kernel
 * once written, and a SIGKILL loses at most the fragment being gathered.
 *
 * Threads: webrtcbin signals and promises, the probe and the muxer's EOS
 * run on GStreamer threads; they hand over to the main context with
 * post(). Segment files are hashed on a one-thread pool (in order) so the
 * streaming and main threads never read files.
 */
#include "config.h"

#include "pipelines/recording-pipeline.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <string.h>

#include "pipelines/webrtc-ice.h"

GST_DEBUG_CATEGORY_STATIC (wr_recording_debug);
#define GST_CAT_DEFAULT wr_recording_debug

/* Ask for the cutting keyframe this long before the segment is due, and
 * accept one that comes up to this early. A PLI on loopback is answered
 * within a frame or two, so without a margin a segment is about
 * segment_seconds plus one round trip and an encoder frame. */
#define KEYFRAME_LEAD (0 * GST_MSECOND)
#define KEYFRAME_EARLY (0 * GST_MSECOND)
/* While waiting for a keyframe, ask again this often (a PLI can be lost). */
#define KEYFRAME_RETRY_US (500 * G_TIME_SPAN_MILLISECOND)
/* The last segment must be closed this long after stop, or we give up. */
#define STOP_TIMEOUT_S 10

typedef struct _Segment Segment;

struct _Segment {
  guint index;
  char *file;           /* segment-NNNNN.ext */
  char *path;
  GstElement *mux;      /* owned by the pipeline while linked */
  GstElement *sink;
  GstPad *mux_sink;     /* (owned) request pad */
  gint64 start_ms;
  gint64 end_ms;
  GstClockTime first_pts;
  guint64 buffers;
  gboolean last;        /* the final segment: "stopped" follows it */
  /* filled by the hashing thread */
  guint64 size;
  char *sha256;
  char *error;
};

struct _WrRecordingPipeline {
  GObject parent;

  char *id;
  char *directory;
  GstClockTime segment_duration;
  GMainContext *context;

  GstElement *pipeline;
  GstElement *webrtc;
  guint bus_watch_id;
  GThreadPool *hasher;

  /* main context */
  gboolean offered;
  gboolean have_stream;
  gboolean stop_requested;
  gboolean finished;    /* "stopped" or "failed" emitted */
  char *fail_reason;    /* finishing because of this: "failed", not
                         * "stopped", once the files are closed */
  guint stop_timeout_id;
  gboolean closed;
  gboolean final_reported; /* the last segment was reported, or none */
  gint outstanding;        /* (atomic) closed segments not yet reported */

  /* Set once in pad-added (webrtcbin thread), read by the probe. */
  GstPad *parse_src;    /* (owned) */
  const char *codec;
  const char *container;
  const char *muxer_factory;
  const char *extension;

  /* The segmenter's state: streaming thread and stop (locked). */
  GMutex lock;
  Segment *current;
  guint next_index;
  gboolean finishing;   /* stop: drop everything from now on */
  gboolean sent_final;  /* the final segment was closed (or none) */
  gint64 last_request_us;
  gboolean requested;   /* a keyframe was asked for this segment */
  gint64 last_buffer_ms;
  guint64 frames;
  /* streaming thread only */
  gboolean repushing;
  GstClockTime last_pts;     /* of the last buffer let through */
  GstClockTime pts_offset;   /* added to the PTS since it stepped back */
  guint64 restamped;         /* buffers whose PTS had to be repaired */
};

enum {
  SIGNAL_ANSWER,
  SIGNAL_ICE_CANDIDATE,
  SIGNAL_STARTED,
  SIGNAL_SEGMENT,
  SIGNAL_STOPPED,
  SIGNAL_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (WrRecordingPipeline, wr_recording_pipeline,
    G_TYPE_OBJECT)

static void
segment_free (Segment *seg)
{
  if (!seg)
    return;
  g_free (seg->file);
  g_free (seg->path);
  g_clear_object (&seg->mux_sink);
  g_free (seg->sha256);
  g_free (seg->error);
  g_free (seg);
}

gboolean
wr_recording_id_is_valid (const char *id)
{
  gsize len;

  if (!id || !*id || id[0] == '.')
    return FALSE;
  len = strlen (id);
  if (len > WR_RECORDING_ID_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_'
        && id[i] != '.')
      return FALSE;
  return TRUE;
}

/* ---- hand-off to the main context ---- */

typedef enum {
  CALL_ANSWER,
  CALL_ICE_CANDIDATE,
  CALL_STARTED,
  CALL_SEGMENT_CLOSED,   /* EOS reached the file: hash it */
  CALL_SEGMENT_HASHED,   /* report it */
  CALL_FAILED,
  CALL_NO_FINAL,         /* stop found no segment to close */
} CallKind;

typedef struct {
  WrRecordingPipeline *self;  /* ref */
  CallKind kind;
  char *text;
  guint number;
  Segment *segment;           /* owned for SEGMENT_* */
} Call;

static void handle_call (Call *c);

static void
call_free (gpointer data)
{
  Call *c = data;

  g_object_unref (c->self);
  g_free (c->text);
  segment_free (c->segment);
  g_free (c);
}

static gboolean
call_dispatch (gpointer data)
{
  handle_call (data);
  return G_SOURCE_REMOVE;
}

/* Any thread. Copies @text, takes @segment. */
static void
post (WrRecordingPipeline *self, CallKind kind, const char *text,
    guint number, Segment *segment)
{
  Call *c = g_new0 (Call, 1);
  GSource *source = g_idle_source_new ();

  c->self = g_object_ref (self);
  c->kind = kind;
  c->text = g_strdup (text);
  c->number = number;
  c->segment = segment;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, call_dispatch, c, call_free);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

/* ---- hashing thread ---- */

static void
hash_segment (gpointer data, gpointer user_data)
{
  Call *c = data;
  Segment *seg = c->segment;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (seg->path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &error);
  guint8 *buf = g_malloc (256 * 1024);
  guint64 size = 0;

  while (in) {
    gssize n = g_input_stream_read (G_INPUT_STREAM (in), buf, 256 * 1024,
        NULL, &error);
    if (n < 0)
      break;
    if (n == 0) {
      seg->size = size;
      seg->sha256 = g_strdup (g_checksum_get_string (sum));
      break;
    }
    g_checksum_update (sum, buf, (gsize) n);
    size += (guint64) n;
  }
  if (!seg->sha256)
    seg->error = g_strdup_printf ("cannot read %s: %s", seg->file,
        error ? error->message : "unknown error");
  g_free (buf);
  /* Hand the job itself back: its reference on the pipeline must be
   * dropped on the main context, never here (the last one would dispose
   * the pipeline, and with it this pool, from its own thread). */
  {
    GSource *source = g_idle_source_new ();
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, call_dispatch, c, call_free);
    g_source_attach (source, c->self->context);
    g_source_unref (source);
  }
}

/* ---- webrtcbin threads ---- */

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *candidate,
    gpointer user_data)
{
  post (user_data, CALL_ICE_CANDIDATE, candidate, mline, NULL);
}

static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  GST_INFO ("connection state %u", state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    post (user_data, CALL_FAILED, "WebRTC connection failed", 1, NULL);
}

static void
on_answer_created (GstPromise *promise, gpointer user_data)
{
  WrRecordingPipeline *self = user_data;
  const GstStructure *reply = NULL;
  GstWebRTCSessionDescription *answer = NULL;
  g_autofree char *sdp = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    /* interrupted: webrtcbin is shutting down, so are we */
    gst_promise_unref (promise);
    return;
  }
  reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &answer, NULL);
  gst_promise_unref (promise);
  if (!answer) {
    post (self, CALL_FAILED, "creating the WebRTC answer failed", 0, NULL);
    return;
  }
  g_signal_emit_by_name (self->webrtc, "set-local-description", answer,
      NULL);
  sdp = gst_sdp_message_as_text (answer->sdp);
  gst_webrtc_session_description_free (answer);
  post (self, CALL_ANSWER, sdp, 0, NULL);
}

static void
on_offer_set (GstPromise *promise, gpointer user_data)
{
  WrRecordingPipeline *self = user_data;
  const GstStructure *reply = NULL;
  GstPromise *next;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    /* Interrupted: webrtcbin is shutting down (dispose sets the pipeline
     * to NULL). Asking it for an answer now would call back into an
     * object that is going away. */
    gst_promise_unref (promise);
    return;
  }
  reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_has_field (reply, "error")) {
    g_autoptr (GError) error = NULL;
    g_autofree char *text = NULL;

    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    text = g_strdup_printf ("the offer was refused: %s",
        error ? error->message : "unknown error");
    post (self, CALL_FAILED, text, 0, NULL);
    gst_promise_unref (promise);
    return;
  }
  gst_promise_unref (promise);
  /* No reference in the promise: its last unref happens on webrtcbin's
   * thread, and dispose stops webrtcbin (which interrupts pending
   * promises) before the object goes. */
  next = gst_promise_new_with_change_func (on_answer_created, self, NULL);
  g_signal_emit_by_name (self->webrtc, "create-answer", NULL, next);
}

/* ---- the segmenter (streaming thread) ---- */

static void
request_keyframe (WrRecordingPipeline *self)
{
  GstEvent *event = gst_video_event_new_upstream_force_key_unit (
      GST_CLOCK_TIME_NONE, TRUE, 0);

  self->last_request_us = g_get_monotonic_time ();
  GST_DEBUG ("%s: asking the sender for a keyframe", self->id);
  /* Travels up through the parser and depayloader to the RTP session,
   * which sends a PLI (or FIR) to the sender. */
  gst_pad_send_event (self->parse_src, event);
}

static GstPadProbeReturn
file_eos_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Segment *seg = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  WrRecordingPipeline *self;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  /* The muxer wrote its last fragment and index before its EOS; filesink
   * is unbuffered, so the file is complete now. The owner pointer lives in
   * the pad's qdata. */
  self = g_object_get_data (G_OBJECT (pad), "wr-recording");
  post (self, CALL_SEGMENT_CLOSED, NULL, 0, seg);
  return GST_PAD_PROBE_REMOVE;
}

/* Streaming thread or stop, with the lock held. */
static Segment *
open_segment (WrRecordingPipeline *self, GError **error)
{
  Segment *seg = g_new0 (Segment, 1);
  g_autoptr (GstPad) file_sink = NULL;

  seg->index = self->next_index++;
  seg->file = g_strdup_printf ("segment-%05u.%s", seg->index,
      self->extension);
  seg->path = g_build_filename (self->directory, seg->file, NULL);
  seg->first_pts = GST_CLOCK_TIME_NONE;
  seg->mux = gst_element_factory_make (self->muxer_factory, NULL);
  seg->sink = gst_element_factory_make ("filesink", NULL);
  if (!seg->mux || !seg->sink) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "GStreamer element %s or filesink is missing", self->muxer_factory);
    g_clear_object (&seg->mux);
    g_clear_object (&seg->sink);
    segment_free (seg);
    return NULL;
  }
  /* mp4mux ends a fragment with the first frame past its duration, so
   * ask for 90 %: fragments then stay within WR_RECORDING_FRAGMENT_MS
   * down to 10 fps (the agent sends 30). */
  if (g_str_equal (self->container, "mp4"))
    g_object_set (seg->mux, "fragment-duration",
        (guint) (WR_RECORDING_FRAGMENT_MS * 9 / 10), NULL);
  /* unbuffered: each fragment goes to the kernel when the muxer writes it */
  g_object_set (seg->sink, "location", seg->path, "async", FALSE,
      "sync", FALSE, NULL);
  gst_util_set_object_arg (G_OBJECT (seg->sink), "buffer-mode",
      "unbuffered");
  gst_bin_add_many (GST_BIN (self->pipeline), seg->mux, seg->sink, NULL);
  if (!gst_element_link (seg->mux, seg->sink)
      || !(seg->mux_sink = gst_element_request_pad_simple (seg->mux,
              "video_%u"))) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot set up %s for %s", self->muxer_factory, seg->file);
    goto fail;
  }
  file_sink = gst_element_get_static_pad (seg->sink, "sink");
  g_object_set_data (G_OBJECT (file_sink), "wr-recording", self);
  gst_pad_add_probe (file_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      file_eos_probe, seg, NULL);
  if (!gst_element_sync_state_with_parent (seg->sink)
      || !gst_element_sync_state_with_parent (seg->mux)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "cannot open %s", seg->path);
    goto fail;
  }
  GST_INFO ("%s: opened %s", self->id, seg->file);
  return seg;

fail:
  gst_element_set_state (seg->sink, GST_STATE_NULL);
  gst_element_set_state (seg->mux, GST_STATE_NULL);
  gst_bin_remove_many (GST_BIN (self->pipeline), seg->mux, seg->sink, NULL);
  seg->mux = seg->sink = NULL;
  segment_free (seg);
  return NULL;
}

/* With the lock held: unlinks @seg and finishes its file; the EOS probe
 * takes it from here. */
static void
close_segment (WrRecordingPipeline *self, Segment *seg, gint64 end_ms)
{
  GstPad *mux_sink = gst_object_ref (seg->mux_sink);

  seg->end_ms = end_ms;
  g_atomic_int_inc (&self->outstanding);
  GST_INFO ("%s: closing %s (%" G_GUINT64_FORMAT " frames)", self->id,
      seg->file, seg->buffers);
  gst_pad_unlink (self->parse_src, mux_sink);
  /* The muxer handles EOS on its own thread. */
  gst_pad_send_event (mux_sink, gst_event_new_eos ());
  gst_object_unref (mux_sink);
}

static gboolean repair_timestamps (WrRecordingPipeline *self,
    GstPadProbeInfo *info);

static GstPadProbeReturn
segmenter_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrRecordingPipeline *self = user_data;
  GstBuffer *buf;
  gboolean key;
  GstClockTime pts;
  gint64 now_ms = g_get_real_time () / 1000;
  gint64 now_us = g_get_monotonic_time ();
  Segment *seg;
  Segment *old = NULL;
  gboolean first = FALSE;
  g_autoptr (GError) error = NULL;

  if (self->repushing)
    return GST_PAD_PROBE_OK;
  if (!repair_timestamps (self, info)) {
    GST_DEBUG ("%s: dropping a buffer without timestamps", self->id);
    return GST_PAD_PROBE_DROP;
  }
  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  pts = GST_BUFFER_PTS (buf);
  GST_LOG ("%s: buffer pts %" GST_TIME_FORMAT " dts %" GST_TIME_FORMAT
      "%s%s", self->id, GST_TIME_ARGS (GST_BUFFER_PTS (buf)),
      GST_TIME_ARGS (GST_BUFFER_DTS (buf)), key ? " key" : "",
      GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT) ? " discont" : "");

  g_mutex_lock (&self->lock);
  if (self->finishing) {
    g_mutex_unlock (&self->lock);
    return GST_PAD_PROBE_DROP;
  }
  seg = self->current;
  if (seg) {
    GstClockTime elapsed = GST_CLOCK_TIME_IS_VALID (pts)
        && GST_CLOCK_TIME_IS_VALID (seg->first_pts) && pts > seg->first_pts
        ? pts - seg->first_pts : 0;

    if (key && elapsed + KEYFRAME_EARLY >= self->segment_duration) {
      old = seg;
    } else {
      if (elapsed + KEYFRAME_LEAD >= self->segment_duration
          && (!self->requested
              || now_us - self->last_request_us >= KEYFRAME_RETRY_US)) {
        self->requested = TRUE;
        request_keyframe (self);
      }
      seg->buffers++;
      self->frames++;
      self->last_buffer_ms = now_ms;
      g_mutex_unlock (&self->lock);
      return GST_PAD_PROBE_OK;
    }
  } else if (!key) {
    /* Nothing before the first keyframe: it could not be decoded. */
    if (now_us - self->last_request_us >= KEYFRAME_RETRY_US)
      request_keyframe (self);
    g_mutex_unlock (&self->lock);
    return GST_PAD_PROBE_DROP;
  } else {
    first = TRUE;
  }

  /* A keyframe that starts a new segment. */
  if (old) {
    close_segment (self, old, now_ms);
    self->current = NULL;
  }
  seg = open_segment (self, &error);
  if (!seg) {
    self->finishing = TRUE;
    g_mutex_unlock (&self->lock);
    post (self, CALL_FAILED, error->message, 0, NULL);
    return GST_PAD_PROBE_DROP;
  }
  seg->start_ms = now_ms;
  seg->first_pts = pts;
  seg->buffers = 1;
  self->frames++;
  self->last_buffer_ms = now_ms;
  self->requested = FALSE;
  self->current = seg;
  if (gst_pad_link (self->parse_src, seg->mux_sink) != GST_PAD_LINK_OK) {
    self->finishing = TRUE;
    g_mutex_unlock (&self->lock);
    post (self, CALL_FAILED, "cannot link the muxer", 0, NULL);
    return GST_PAD_PROBE_DROP;
  }
  g_mutex_unlock (&self->lock);

  if (first)
    post (self, CALL_STARTED, NULL, 0, NULL);

  /* Push the keyframe again so that the new link first carries the
   * stream's sticky events (stream-start, caps, segment). */
  self->repushing = TRUE;
  gst_pad_push (pad, gst_buffer_ref (buf));
  self->repushing = FALSE;
  return GST_PAD_PROBE_DROP;
}

/* Streaming thread. The muxers refuse a buffer without a PTS ("Could not
 * multiplex stream": the whole recording fails) and take a PTS that goes
 * back as a decreasing DTS. Both happen on the wire: rtpbasedepayload
 * stamps only the first access unit it completes from one RTP packet, so
 * when two keyframes come back to back (two peers asked for one at the
 * same moment, e.g. the recorder and the viewer joining together) the
 * second has no PTS; and the jitter buffer's clock recovery can step back
 * on a resync. Without a DTS (always, from RTP) the muxer uses the PTS as
 * DTS, so a missing or non-increasing PTS is set to just after the
 * previous one: the frame is kept (dropping a keyframe that later frames
 * reference would garble the picture up to the next keyframe) and keeps
 * its order. FALSE: drop the buffer (no timestamp to go by yet). */
GstClockTime
wr_recording_repair_pts (GstClockTime pts, GstClockTime dts,
    GstClockTime *last_pts, GstClockTime *offset)
{
  GstClockTime fixed = pts;

  if (GST_CLOCK_TIME_IS_VALID (dts)) {
    /* decode order is known: the muxer sorts it out */
    if (!GST_CLOCK_TIME_IS_VALID (pts))
      fixed = dts;
  } else if (GST_CLOCK_TIME_IS_VALID (*last_pts)) {
    if (!GST_CLOCK_TIME_IS_VALID (pts)) {
      fixed = *last_pts + GST_MSECOND;
    } else {
      /* After a step back, later frames keep their spacing: the step is
       * taken up by an offset rather than squeezing each frame to 1 ms
       * after the one before. */
      fixed = pts + *offset;
      if (fixed <= *last_pts) {
        *offset += *last_pts + GST_MSECOND - fixed;
        fixed = *last_pts + GST_MSECOND;
      }
    }
  }
  if (GST_CLOCK_TIME_IS_VALID (fixed))
    *last_pts = fixed;
  return fixed;
}

static gboolean
repair_timestamps (WrRecordingPipeline *self, GstPadProbeInfo *info)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime fixed = wr_recording_repair_pts (pts, GST_BUFFER_DTS (buf),
      &self->last_pts, &self->pts_offset);

  if (!GST_CLOCK_TIME_IS_VALID (fixed))
    return FALSE;
  if (fixed != pts) {
    self->restamped++;
    GST_DEBUG ("%s: PTS %" GST_TIME_FORMAT " -> %" GST_TIME_FORMAT " (%"
        G_GUINT64_FORMAT " repaired)", self->id, GST_TIME_ARGS (pts),
        GST_TIME_ARGS (fixed), self->restamped);
    buf = gst_buffer_make_writable (buf);
    GST_BUFFER_PTS (buf) = fixed;
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return TRUE;
}

/* Stop: runs when the parser's pad is idle (here or on its thread). */
static GstPadProbeReturn
stop_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrRecordingPipeline *self = user_data;

  g_mutex_lock (&self->lock);
  if (!self->sent_final) {
    self->sent_final = TRUE;
    self->finishing = TRUE;
    if (self->current) {
      self->current->last = TRUE;
      close_segment (self, self->current, self->last_buffer_ms);
      self->current = NULL;
    } else {
      post (self, CALL_NO_FINAL, NULL, 0, NULL);
    }
  }
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_REMOVE;
}

/* webrtcbin's thread: the sender's video arrived. */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  WrRecordingPipeline *self = user_data;
  g_autoptr (GstCaps) caps = NULL;
  const char *encoding = NULL;
  GstElement *depay = NULL, *parse = NULL, *filter = NULL;
  g_autoptr (GstPad) sink = NULL;
  const char *depay_name;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && gst_caps_get_size (caps) > 0)
    encoding = gst_structure_get_string (gst_caps_get_structure (caps, 0),
        "encoding-name");

  g_mutex_lock (&self->lock);
  if (self->parse_src) {
    g_mutex_unlock (&self->lock);
    GST_WARNING ("%s: ignoring a second stream", self->id);
    return;
  }
  if (g_strcmp0 (encoding, "H264") == 0) {
    self->codec = "H264";
    self->container = "mp4";
    self->muxer_factory = "mp4mux";
    self->extension = "mp4";
    depay_name = "rtph264depay";
  } else if (g_strcmp0 (encoding, "VP8") == 0
      || g_strcmp0 (encoding, "VP9") == 0) {
    gboolean vp8 = g_str_equal (encoding, "VP8");
    self->codec = vp8 ? "VP8" : "VP9";
    self->container = "webm";
    self->muxer_factory = "webmmux";
    self->extension = "webm";
    depay_name = vp8 ? "rtpvp8depay" : "rtpvp9depay";
  } else {
    g_autofree char *text = g_strdup_printf ("cannot record a %s stream",
        encoding ? encoding : "non-video");
    g_mutex_unlock (&self->lock);
    post (self, CALL_FAILED, text, 0, NULL);
    return;
  }

  depay = gst_element_factory_make (depay_name, NULL);
  parse = g_str_equal (self->codec, "H264")
      ? gst_element_factory_make ("h264parse", NULL)
      : gst_element_factory_make ("identity", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  if (!depay || !parse || !filter) {
    g_mutex_unlock (&self->lock);
    g_clear_object (&depay);
    g_clear_object (&parse);
    g_clear_object (&filter);
    post (self, CALL_FAILED, "a depayloader or parser is missing", 0, NULL);
    return;
  }
  if (g_str_equal (self->codec, "H264")) {
    /* mp4mux takes AVC (codec data in the caps) in access units; the
     * parser must settle on that before the muxer is linked. */
    g_autoptr (GstCaps) avc = gst_caps_new_simple ("video/x-h264",
        "stream-format", G_TYPE_STRING, "avc",
        "alignment", G_TYPE_STRING, "au", NULL);
    g_object_set (filter, "caps", avc, NULL);
  }
  gst_bin_add_many (GST_BIN (self->pipeline), depay, parse, filter, NULL);
  gst_element_link_many (depay, parse, filter, NULL);
  self->parse_src = gst_element_get_static_pad (filter, "src");
  gst_pad_add_probe (self->parse_src, GST_PAD_PROBE_TYPE_BUFFER,
      segmenter_probe, self, NULL);
  g_mutex_unlock (&self->lock);

  gst_element_sync_state_with_parent (filter);
  gst_element_sync_state_with_parent (parse);
  gst_element_sync_state_with_parent (depay);
  sink = gst_element_get_static_pad (depay, "sink");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    post (self, CALL_FAILED, "cannot link the incoming stream", 0, NULL);
  else
    GST_INFO ("%s: recording a %s stream", self->id, self->codec);
}

/* ---- main context ---- */

static void
finish (WrRecordingPipeline *self, gboolean ok, const char *reason)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  if (ok && self->fail_reason)
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, self->fail_reason);
  else if (ok)
    g_signal_emit (self, signals[SIGNAL_STOPPED], 0);
  else
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, reason);
}

static void
handle_call (Call *c)
{
  WrRecordingPipeline *self = c->self;

  if (self->closed)
    return;
  switch (c->kind) {
    case CALL_ANSWER:
      g_signal_emit (self, signals[SIGNAL_ANSWER], 0, c->text);
      break;
    case CALL_ICE_CANDIDATE:
      g_signal_emit (self, signals[SIGNAL_ICE_CANDIDATE], 0, c->number,
          c->text ? c->text : "");
      break;
    case CALL_STARTED:
      g_message ("recording %s: %s in %s started", self->id, self->codec,
          self->container);
      g_signal_emit (self, signals[SIGNAL_STARTED], 0, self->codec,
          self->container);
      break;
    case CALL_SEGMENT_CLOSED: {
      Segment *seg = g_steal_pointer (&c->segment);
      Call *job;

      /* The muxer and file are done: free them here, not on their
       * streaming thread. */
      gst_element_set_state (seg->sink, GST_STATE_NULL);
      gst_element_set_state (seg->mux, GST_STATE_NULL);
      gst_element_release_request_pad (seg->mux, seg->mux_sink);
      gst_bin_remove_many (GST_BIN (self->pipeline), seg->mux, seg->sink,
          NULL);
      seg->mux = seg->sink = NULL;
      job = g_new0 (Call, 1);
      job->self = g_object_ref (self);
      job->kind = CALL_SEGMENT_HASHED;
      job->segment = seg;
      g_thread_pool_push (self->hasher, job, NULL);
      break;
    }
    case CALL_SEGMENT_HASHED: {
      Segment *seg = c->segment;

      g_atomic_int_add (&self->outstanding, -1);
      if (seg->last)
        self->final_reported = TRUE;
      if (seg->error) {
        g_warning ("recording %s: %s", self->id, seg->error);
        finish (self, FALSE, seg->error);
        break;
      }
      g_message ("recording %s: segment %u closed: %s, %" G_GUINT64_FORMAT
          " bytes, %" G_GUINT64_FORMAT " frames, sha256 %s", self->id,
          seg->index, seg->file, seg->size, seg->buffers, seg->sha256);
      g_signal_emit (self, signals[SIGNAL_SEGMENT], 0, seg->index, seg->file,
          seg->size, seg->sha256, seg->start_ms, seg->end_ms);
      break;
    }
    case CALL_NO_FINAL:
      self->final_reported = TRUE;
      break;
    case CALL_FAILED:
      if (c->number == 1 && self->stop_requested) {
        /* The sender went away while we finish (the agent disconnected:
         * the gateway stopped us): the last segment is closed anyway. */
        g_message ("recording %s: %s while finishing", self->id, c->text);
        break;
      }
      if (c->number == 1) {
        /* Nothing more will come: close the files cleanly (the last
         * segment is reported), then report the failure. */
        g_warning ("recording %s: %s; finishing its files", self->id,
            c->text);
        self->fail_reason = g_strdup (c->text);
        wr_recording_pipeline_stop (self);
        break;
      }
      g_warning ("recording %s failed: %s", self->id, c->text);
      finish (self, FALSE, c->text);
      break;
  }
  /* "stopped" follows the last segment, and any cut still in flight. */
  if (self->stop_requested && self->final_reported
      && g_atomic_int_get (&self->outstanding) == 0)
    finish (self, TRUE, NULL);
}

static gboolean
bus_cb (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  g_autoptr (WrRecordingPipeline) self = g_object_ref (user_data);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree char *dbg = NULL;
    g_autofree char *text = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    GST_WARNING ("%s: error from %s: %s (%s)", self->id,
        GST_MESSAGE_SRC_NAME (msg), err->message, dbg ? dbg : "");
    text = g_strdup_printf ("%s: %s", GST_MESSAGE_SRC_NAME (msg),
        err->message);
    if (!self->closed)
      finish (self, FALSE, text);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    g_message ("recording %s: warning from %s: %s", self->id,
        GST_MESSAGE_SRC_NAME (msg), err->message);
  }
  return G_SOURCE_CONTINUE;
}

/* Without a reference: the owner's last unref disposes us, and dispose
 * stops webrtcbin (joining its threads) before anything else. */
static void
connect_plain (gpointer instance, const char *signal, GCallback callback,
    WrRecordingPipeline *self)
{
  g_signal_connect (instance, signal, callback, self);
}

WrRecordingPipeline *
wr_recording_pipeline_new (const char *id, const char *dir,
    guint segment_seconds, const char *const *ice_addresses,
    JsonArray *ice_servers, GError **error)
{
  g_autoptr (WrRecordingPipeline) self = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autofree char *name = NULL;

  if (!wr_recording_id_is_valid (id)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the recording id is not a valid file name");
    return NULL;
  }
  if (segment_seconds == 0 || segment_seconds > 86400) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "segment length %u s is out of range", segment_seconds);
    return NULL;
  }
  self = g_object_new (WR_TYPE_RECORDING_PIPELINE, NULL);
  self->id = g_strdup (id);
  self->directory = g_build_filename (dir, id, NULL);
  self->segment_duration = (GstClockTime) segment_seconds * GST_SECOND;
  self->context = g_main_context_ref_thread_default ();
  if (g_mkdir_with_parents (self->directory, 0750) != 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
        "cannot create %s: %s", self->directory, g_strerror (e));
    return NULL;
  }
  self->hasher = g_thread_pool_new (hash_segment, NULL, 1, FALSE, NULL);

  name = g_strdup_printf ("recording-%s", id);
  self->pipeline = gst_pipeline_new (name);
  gst_object_ref_sink (self->pipeline);
  self->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (!self->webrtc) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "GStreamer element webrtcbin is missing");
    return NULL;
  }
  gst_util_set_object_arg (G_OBJECT (self->webrtc), "bundle-policy",
      "max-bundle");
  gst_bin_add (GST_BIN (self->pipeline), self->webrtc);
  {
    g_autofree char *log_name = g_strdup_printf ("recording %s", self->id);
    wr_webrtc_configure_ice (self->webrtc, ice_addresses, ice_servers,
        log_name);
  }
  connect_plain (self->webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), self);
  connect_plain (self->webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), self);
  connect_plain (self->webrtc, "pad-added", G_CALLBACK (on_pad_added), self);

  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  {
    GSource *source = gst_bus_create_watch (bus);
    g_source_set_callback (source, (GSourceFunc) (void (*) (void)) bus_cb,
        self, NULL);
    self->bus_watch_id = g_source_attach (source, self->context);
    g_source_unref (source);
  }
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "cannot start the recording pipeline");
    return NULL;
  }
  return g_steal_pointer (&self);
}

const char *
wr_recording_pipeline_get_id (WrRecordingPipeline *self)
{
  return self->id;
}

const char *
wr_recording_pipeline_get_directory (WrRecordingPipeline *self)
{
  return self->directory;
}

gboolean
wr_recording_pipeline_set_offer (WrRecordingPipeline *self, const char *sdp,
    GError **error)
{
  GstSDPMessage *msg = NULL;
  GstWebRTCSessionDescription *offer;
  GstPromise *promise;

  if (self->offered || self->stop_requested || self->finished) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "this recording already has an offer");
    return FALSE;
  }
  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK
      || gst_sdp_message_medias_len (msg) == 0) {
    if (msg)
      gst_sdp_message_free (msg);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the offer is not a usable SDP");
    return FALSE;
  }
  self->offered = TRUE;
  offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, msg);
  promise = gst_promise_new_with_change_func (on_offer_set, self, NULL);
  g_signal_emit_by_name (self->webrtc, "set-remote-description", offer,
      promise);
  gst_webrtc_session_description_free (offer);
  return TRUE;
}

void
wr_recording_pipeline_add_ice_candidate (WrRecordingPipeline *self,
    guint mline, const char *candidate)
{
  if (self->finished || !candidate || !*candidate)
    return;
  g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline,
      candidate);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  WrRecordingPipeline *self = user_data;

  self->stop_timeout_id = 0;
  g_warning ("recording %s: the last segment did not close within %d s",
      self->id, STOP_TIMEOUT_S);
  finish (self, FALSE, "the last segment did not close");
  return G_SOURCE_REMOVE;
}

void
wr_recording_pipeline_stop (WrRecordingPipeline *self)
{
  GstPad *pad;

  if (self->stop_requested || self->finished)
    return;
  self->stop_requested = TRUE;
  self->stop_timeout_id = g_timeout_add_seconds (STOP_TIMEOUT_S,
      stop_timeout_cb, self);
  g_mutex_lock (&self->lock);
  pad = self->parse_src ? gst_object_ref (self->parse_src) : NULL;
  if (!pad) {
    self->sent_final = TRUE;
    self->finishing = TRUE;
    g_mutex_unlock (&self->lock);
    post (self, CALL_NO_FINAL, NULL, 0, NULL);
    return;
  }
  g_mutex_unlock (&self->lock);
  /* No reference: the probe's notify may run on the streaming thread. */
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_IDLE, stop_probe, self, NULL);
  gst_object_unref (pad);
}

guint64
wr_recording_pipeline_get_frames (WrRecordingPipeline *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->frames;
  g_mutex_unlock (&self->lock);
  return n;
}

static void
wr_recording_pipeline_dispose (GObject *object)
{
  WrRecordingPipeline *self = WR_RECORDING_PIPELINE (object);

  self->closed = TRUE;
  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  if (self->bus_watch_id) {
    GSource *s = g_main_context_find_source_by_id (self->context,
        self->bus_watch_id);
    if (s)
      g_source_destroy (s);
    self->bus_watch_id = 0;
  }
  if (self->pipeline) {
    /* Joins webrtcbin's and the muxers' threads. */
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
  }
  if (self->hasher) {
    /* waits for a hash in progress; its result is dropped (closed) */
    g_thread_pool_free (self->hasher, FALSE, TRUE);
    self->hasher = NULL;
  }
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->current, segment_free);
  g_mutex_unlock (&self->lock);
  g_clear_object (&self->parse_src);
  self->webrtc = NULL;
  g_clear_object (&self->pipeline);
  G_OBJECT_CLASS (wr_recording_pipeline_parent_class)->dispose (object);
}

static void
wr_recording_pipeline_finalize (GObject *object)
{
  WrRecordingPipeline *self = WR_RECORDING_PIPELINE (object);

  g_free (self->id);
  g_free (self->directory);
  g_free (self->fail_reason);
  if (self->context)
    g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (wr_recording_pipeline_parent_class)->finalize (object);
}

static void
wr_recording_pipeline_class_init (WrRecordingPipelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_recording_pipeline_dispose;
  object_class->finalize = wr_recording_pipeline_finalize;

  signals[SIGNAL_ANSWER] = g_signal_new ("answer", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ICE_CANDIDATE] = g_signal_new ("ice-candidate",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  signals[SIGNAL_STARTED] = g_signal_new ("started",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_SEGMENT] = g_signal_new ("segment",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 6, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_UINT64,
      G_TYPE_STRING, G_TYPE_INT64, G_TYPE_INT64);
  signals[SIGNAL_STOPPED] = g_signal_new ("stopped",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  signals[SIGNAL_FAILED] = g_signal_new ("failed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);

  GST_DEBUG_CATEGORY_INIT (wr_recording_debug, "wr-recording", 0,
      "webremote recording pipeline");
}

static void
wr_recording_pipeline_init (WrRecordingPipeline *self)
{
  g_mutex_init (&self->lock);
  self->last_pts = GST_CLOCK_TIME_NONE;
}
