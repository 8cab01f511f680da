/* webremote-agent: which video encoders this machine can use. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * wr_encoder_probe:
 * Looks the known encoders up in the GStreamer registry. Hardware encoders
 * (nvh264enc, vah264enc, ...) only register when their device exists, so
 * presence in the registry means usable.
 *
 * Returns: (transfer full): the factory names, best first.
 */
char **wr_encoder_probe (void);

/**
 * wr_encoder_choose:
 * @available: (nullable): factory names as from wr_encoder_probe()
 *
 * Picks the encoder for the capture pipeline among those it knows how to
 * configure for WebRTC (H.264 constrained baseline, no B-frames, no
 * periodic keyframes).
 *
 * Returns: (transfer none) (nullable): a factory name, or %NULL when none
 * of @available fits.
 */
const char *wr_encoder_choose (const char *const *available);

G_END_DECLS
