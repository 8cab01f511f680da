/* webremote pipelines: an encoder element configured from a profile. */
#pragma once

#include <gst/gst.h>

#include "pipelines/profile.h"

G_BEGIN_DECLS

/**
 * wr_encoder_element_new:
 * @profile: the profile whose bitrate, keyframe policy and knobs apply
 * @encoder: a factory name from the encoder table
 * @name: (nullable): the element's name
 *
 * Makes @encoder with gst_element_factory_make() and sets, in order: the
 * encoder's live-streaming defaults (encoder-knobs.c), the profile's
 * bitrate (and max-bitrate where the encoder has one), its keyframe
 * policy, then the profile's knobs for @encoder, each as a typed value
 * checked against the element's property.
 *
 * Returns: (transfer floating) (nullable): the element, or %NULL when it
 * is not installed or a value does not fit the installed version.
 */
GstElement *wr_encoder_element_new (const WrProfile *profile,
    const char *encoder, const char *name, GError **error);

/**
 * wr_encoder_output_caps:
 * The caps to put after the encoder: H.264 byte-stream AUs in the
 * profile's h264-profile (constrained-baseline or main: browsers refuse
 * High), or VP8/VP9.
 *
 * Returns: (transfer full): caps.
 */
GstCaps *wr_encoder_output_caps (const WrProfile *profile,
    const char *encoder);

/**
 * wr_encoder_payloader:
 * Returns: (transfer none): the RTP payloader factory for @encoder's codec
 * (rtph264pay, rtpvp8pay, rtpvp9pay).
 */
const char *wr_encoder_payloader (const char *encoder);

G_END_DECLS
