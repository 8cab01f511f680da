/* webremote pipelines: which video encoders this machine can use, each
 * confirmed by a short real encode. */
#pragma once

#include <glib.h>

#include "pipelines/profile.h"

G_BEGIN_DECLS

/* How long one test encode may take before the encoder counts as hung. */
#define WR_ENCODER_TEST_TIMEOUT_MS 5000

typedef enum {
  WR_ENCODER_OK,
  WR_ENCODER_NOT_INSTALLED,  /* not in the GStreamer registry */
  WR_ENCODER_FAILED,         /* could not be configured, start or encode */
  WR_ENCODER_TIMED_OUT,      /* no result within the timeout */
} WrEncoderStatus;

typedef struct {
  char *encoder;             /* factory name */
  WrCodec codec;
  gboolean hardware;
  gboolean present;          /* in the registry */
  WrEncoderStatus status;
  char *reason;              /* "ok", "not installed", "failed to start:
                              * MESSAGE", "timed out after N ms" */
  guint frames;              /* encoded frames that reached the sink */
  gint64 elapsed_ms;
} WrEncoderProbeResult;

void wr_encoder_probe_result_free (WrEncoderProbeResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrEncoderProbeResult,
    wr_encoder_probe_result_free)

/**
 * wr_encoder_test:
 * @encoder: a factory name from the encoder table
 * @profile: (nullable): whose knobs, bitrate, keyframe policy, framerate
 *   and h264-profile to use; %NULL for the built-in profile
 * @timeout_ms: give up after this long
 *
 * Encodes 10 frames of videotestsrc at 320x240 through @encoder, built
 * exactly as the display pipeline builds it, into a fakesink behind the
 * same output caps, and reports what happened.
 *
 * Returns: (transfer full): the result.
 */
WrEncoderProbeResult *wr_encoder_test (const char *encoder,
    const WrProfile *profile, guint timeout_ms);

/**
 * wr_encoder_probe_all:
 * Tests every known encoder (hardware first) with the built-in settings.
 *
 * Returns: (transfer full) (element-type WrEncoderProbeResult): results.
 */
GPtrArray *wr_encoder_probe_all (guint timeout_ms);

/**
 * wr_profile_choose_encoder:
 * @results: (out) (optional) (transfer full) (element-type
 *   WrEncoderProbeResult): the result of each encoder tried, in order:
 *   the skipped ones with their reasons, then the chosen one
 *
 * Returns: (transfer none) (nullable): the first encoder of @profile's
 * list that passes its test encode (a string of profile->encoders), or
 * %NULL when none does.
 */
const char *wr_profile_choose_encoder (const WrProfile *profile,
    GPtrArray **results);

/**
 * wr_encoder_probe:
 * Looks the known encoders up in the GStreamer registry (no test encode).
 *
 * Returns: (transfer full): the factory names present, hardware first.
 */
char **wr_encoder_probe (void);

/**
 * wr_encoder_choose:
 * @available: (nullable): factory names as from wr_encoder_probe()
 *
 * The built-in profile's choice by registry presence alone: x264enc, then
 * openh264enc (H.264 constrained baseline, no B-frames, no periodic
 * keyframes).
 *
 * Returns: (transfer none) (nullable): a factory name, or %NULL when none
 * of @available fits.
 */
const char *wr_encoder_choose (const char *const *available);

const char *wr_encoder_status_name (WrEncoderStatus status);

G_END_DECLS
