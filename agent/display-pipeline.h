/* webremote-agent: one capture + encode pipeline per X display, shared by
 * every peer through a tee. */
#pragma once

#include <gst/gst.h>

#include "pipelines/profile.h"

G_BEGIN_DECLS

#define WR_TYPE_DISPLAY_PIPELINE (wr_display_pipeline_get_type ())
G_DECLARE_FINAL_TYPE (WrDisplayPipeline, wr_display_pipeline, WR,
    DISPLAY_PIPELINE, GObject)

/* x264 treats this as "no periodic keyframes" (X264_KEYINT_MAX_INFINITE):
 * keyframes only come on request (a new peer, PLI/FIR). */
#define WR_KEYINT_INFINITE (1 << 30)

/**
 * wr_display_pipeline_set_default_profile:
 * @profile: (nullable): the agent's active profile (copied)
 * @encoder: the encoder chosen for it (wr_profile_choose_encoder())
 *
 * From then on wr_display_pipeline_new() builds every pipeline from
 * @profile with @encoder, whatever it is passed. Main thread, before any
 * pipeline exists.
 */
void wr_display_pipeline_set_default_profile (const WrProfile *profile,
    const char *encoder);

/**
 * wr_display_pipeline_get_default_profile:
 * @encoder: (out) (optional) (transfer none): its encoder
 * Returns: (transfer none) (nullable): the profile set above.
 */
const WrProfile *wr_display_pipeline_get_default_profile (
    const char **encoder);

/**
 * wr_display_pipeline_new_for_profile:
 * @display: the X display to capture, such as ":1" (ximage source)
 * @profile: source, size, framerate, bitrate, keyframes, knobs
 * @encoder: one of @profile's encoders, as wr_profile_choose_encoder()
 *   picked it
 *
 * Builds `SOURCE ! capsfilter(framerate) [! videoscale] ! videoconvert !
 * capsfilter(I420[, size]) ! ENCODER ! capsfilter(codec caps) ! RTP
 * payloader ! capsfilter(rtp) ! tee` from elements (never from a parsed
 * string) and sets it PLAYING. H.264 is pinned to the profile's
 * constrained-baseline or main.
 *
 * Signals (main context):
 * - "error" (GstElement *branch, const char *message): a bus error; @branch
 *   is the peer branch it came from, or %NULL when the capture itself
 *   failed (then every peer is affected).
 * - "switched": a live switch (wr_display_pipeline_switch()) is done.
 *
 * Returns: (transfer full) (nullable): the running pipeline.
 */
WrDisplayPipeline *wr_display_pipeline_new_for_profile (const char *display,
    const WrProfile *profile, const char *encoder, GError **error);

/**
 * wr_display_pipeline_new:
 * @display: the X display to capture, such as ":1"
 * @encoder: an encoder factory name from wr_encoder_choose()
 *
 * With a default profile set (the agent always sets one), the same as
 * wr_display_pipeline_new_for_profile() with that profile and its encoder:
 * @encoder, @framerate and @bitrate_kbps are then ignored. Without one,
 * the built-in low-latency profile with @framerate and @bitrate_kbps.
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
const char *wr_display_pipeline_get_profile_name (WrDisplayPipeline *self);
/* The profile it streams with now (after live switches). */
const WrProfile *wr_display_pipeline_get_profile (WrDisplayPipeline *self);
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

/**
 * wr_display_pipeline_switch:
 * @profile: the profile to stream with from now on (copied; the running
 *   source stays whatever @profile says)
 * @encoder: one of @profile's encoders that passed its test encode
 *
 * Live switch: builds the new chain (caps, scaler, converter, encoder,
 * codec caps, payloader, RTP caps), then, while the source's pad is idle
 * (between two frames), unlinks the old chain, links the new one between
 * the source and the tee and brings it up. The tee and every viewer's
 * branch stay; the RTP stream keeps its SSRC, timestamp base and sequence
 * numbers. Emits "switched" (main context) once the new chain runs; a
 * codec change then needs a new offer to each viewer.
 *
 * Returns: %FALSE when the new elements cannot be made, the pipeline has
 * stopped or a switch is already in progress.
 */
gboolean wr_display_pipeline_switch (WrDisplayPipeline *self,
    const WrProfile *profile, const char *encoder, GError **error);

/* Whether a live switch waits for its moment. */
gboolean wr_display_pipeline_is_switching (WrDisplayPipeline *self);

/* The codec of the current encoder. */
WrCodec wr_display_pipeline_get_codec (WrDisplayPipeline *self);

/* The RTP payload type used for @codec (H.264 96, VP8 97, VP9 98). */
guint wr_codec_payload_type (WrCodec codec);

/* Sets everything to NULL; idempotent. */
void wr_display_pipeline_stop (WrDisplayPipeline *self);

/* For tests and diagnostics: how many force-key-unit events reached the
 * encoder's source pad (from us or from downstream PLI/FIR). */
guint wr_display_pipeline_get_keyframe_requests (WrDisplayPipeline *self);

G_END_DECLS
