/* webremote-agent: one capture + encode pipeline per X display, shared by
 * every peer through a tee. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define WR_TYPE_DISPLAY_PIPELINE (wr_display_pipeline_get_type ())
G_DECLARE_FINAL_TYPE (WrDisplayPipeline, wr_display_pipeline, WR,
    DISPLAY_PIPELINE, GObject)

/* x264 treats this as "no periodic keyframes" (X264_KEYINT_MAX_INFINITE):
 * keyframes only come on request (a new peer, PLI/FIR). */
#define WR_KEYINT_INFINITE (1 << 30)

/**
 * wr_display_pipeline_new:
 * @display: the X display to capture, such as ":1"
 * @encoder: an encoder factory name from wr_encoder_choose()
 *
 * Builds `ximagesrc ! videoconvert ! ENCODER ! rtph264pay ! tee` from
 * elements (never from a parsed string) and sets it PLAYING.
 *
 * Signals (main context):
 * - "error" (GstElement *branch, const char *message): a bus error; @branch
 *   is the peer branch it came from, or %NULL when the capture itself
 *   failed (then every peer is affected).
 *
 * Returns: (transfer full) (nullable): the running pipeline.
 */
WrDisplayPipeline *wr_display_pipeline_new (const char *display,
    const char *encoder, int framerate, int bitrate_kbps, GError **error);

const char *wr_display_pipeline_get_display (WrDisplayPipeline *self);
const char *wr_display_pipeline_get_encoder (WrDisplayPipeline *self);
guint wr_display_pipeline_get_n_branches (WrDisplayPipeline *self);

/**
 * wr_display_pipeline_get_video_size:
 * Returns: %FALSE until the raw video caps are known; any thread.
 */
gboolean wr_display_pipeline_get_video_size (WrDisplayPipeline *self,
    int *width, int *height);

/**
 * wr_display_pipeline_add_branch:
 * @branch: (transfer none): an element with an always "sink" pad accepting
 *   the RTP stream (a peer's queue + webrtcbin bin)
 *
 * Adds @branch to the pipeline, links it to a new tee pad and brings it to
 * the pipeline's state.
 */
gboolean wr_display_pipeline_add_branch (WrDisplayPipeline *self,
    GstElement *branch, GError **error);

/**
 * wr_display_pipeline_remove_branch:
 * Unlinks @branch while data flows (an idle probe on its tee pad), then,
 * on the main context, sets it to NULL and removes it. When it was the
 * last branch the whole pipeline stops instead.
 */
void wr_display_pipeline_remove_branch (WrDisplayPipeline *self,
    GstElement *branch);

/**
 * wr_display_pipeline_request_keyframe:
 * Sends an upstream force-key-unit event (all headers) to the encoder.
 */
void wr_display_pipeline_request_keyframe (WrDisplayPipeline *self);

/* Sets everything to NULL; idempotent. */
void wr_display_pipeline_stop (WrDisplayPipeline *self);

/* For tests and diagnostics: how many force-key-unit events reached the
 * encoder's source pad (from us or from downstream PLI/FIR). */
guint wr_display_pipeline_get_keyframe_requests (WrDisplayPipeline *self);

G_END_DECLS
