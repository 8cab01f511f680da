/* webremote-recorder: one recording: a receive-only webrtcbin whose video
 * is written to disk, without re-encoding, in segments of fragmented MP4
 * (H.264) or WebM (VP8, VP9). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Fragment length of the MP4 files: what a crash can lose at most. */
#define WR_RECORDING_FRAGMENT_MS 1000

/* Largest accepted recording id: a path component of the directory. */
#define WR_RECORDING_ID_MAX 64

/**
 * wr_recording_repair_pts:
 * @pts: a buffer's PTS (may be GST_CLOCK_TIME_NONE)
 * @dts: its DTS (may be GST_CLOCK_TIME_NONE)
 * @last_pts: (inout): the PTS of the last buffer let through; start with
 *   GST_CLOCK_TIME_NONE
 * @offset: (inout): what later PTS are shifted by; start with 0
 *
 * The PTS the muxer gets (docs/recorder.md, "Timestamps"): without a DTS
 * a missing PTS becomes the last one plus 1 ms, and one that does not
 * move forward is shifted to 1 ms after the last, the frames after it by
 * as much. Used by the segmenter; public for its tests.
 *
 * Returns: the PTS to use, or GST_CLOCK_TIME_NONE: drop the buffer (no
 * timestamp to go by yet).
 */
guint64 wr_recording_repair_pts (guint64 pts, guint64 dts,
    guint64 *last_pts, guint64 *offset);

#define WR_TYPE_RECORDING_PIPELINE (wr_recording_pipeline_get_type ())
G_DECLARE_FINAL_TYPE (WrRecordingPipeline, wr_recording_pipeline, WR,
    RECORDING_PIPELINE, GObject)

/**
 * wr_recording_id_is_valid:
 * Returns: whether @id can name the recording's directory: 1 to
 * %WR_RECORDING_ID_MAX bytes of [A-Za-z0-9_-.], not starting with a dot.
 */
gboolean wr_recording_id_is_valid (const char *id);

/**
 * wr_recording_pipeline_new:
 * @id: the recording id (the `sid` of record.start); the files go to
 *   @dir/@id/segment-NNNNN.mp4 (or .webm)
 * @segment_seconds: length of a segment; a segment is cut at the first
 *   keyframe after it (the pipeline asks the sender for one in time)
 * @ice_addresses: (nullable): the only local addresses ICE may use
 * @ice_servers: (nullable): RTCIceServer objects (stun:, turn:, turns:)
 *
 * All signals are emitted on the thread-default main context of the caller:
 * - "answer" (const char *sdp): send it as sdp.answer.
 * - "ice-candidate" (guint mline, const char *candidate).
 * - "started" (const char *codec, const char *container): the first media
 *   (a keyframe) reached the muxer. codec is "H264", "VP8" or "VP9",
 *   container "mp4" or "webm".
 * - "segment" (guint index, const char *file, guint64 size,
 *   const char *sha256, gint64 start_ms, gint64 end_ms): a segment file is
 *   closed and hashed; @file is its name inside the recording directory;
 *   times are unix milliseconds (wall clock). Emitted in index order.
 * - "stopped": after wr_recording_pipeline_stop(), once the last segment
 *   was reported.
 * - "failed" (const char *reason): the recording cannot go on; stop it.
 *
 * Returns: (transfer full) (nullable): the pipeline, waiting for an offer.
 */
WrRecordingPipeline *wr_recording_pipeline_new (const char *id,
    const char *dir, guint segment_seconds, const char *const *ice_addresses,
    JsonArray *ice_servers, GError **error);

const char *wr_recording_pipeline_get_id (WrRecordingPipeline *self);

/* The directory the segments are written to (dir/id). */
const char *wr_recording_pipeline_get_directory (WrRecordingPipeline *self);

/**
 * wr_recording_pipeline_set_offer:
 * Applies the sender's SDP offer; the answer comes as "answer".
 * Returns: %FALSE when @sdp is not usable or an offer was already taken.
 */
gboolean wr_recording_pipeline_set_offer (WrRecordingPipeline *self,
    const char *sdp, GError **error);

/* An empty @candidate (end of candidates) is ignored. */
void wr_recording_pipeline_add_ice_candidate (WrRecordingPipeline *self,
    guint mline, const char *candidate);

/**
 * wr_recording_pipeline_stop:
 * Finishes the current segment (its last fragment and index are written),
 * reports it and then emits "stopped". Also when nothing was recorded.
 */
void wr_recording_pipeline_stop (WrRecordingPipeline *self);

/* Frames (buffers) written so far, for tests and benchmarks. */
guint64 wr_recording_pipeline_get_frames (WrRecordingPipeline *self);

G_END_DECLS
