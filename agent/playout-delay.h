/* webremote-agent: the RTP playout-delay header extension.
 *
 * http://www.webrtc.org/experiments/rtp-hdrext/playout-delay (libwebrtc's
 * "Playout Delay" extension): three bytes, the least and the most delay the
 * receiver should add before showing a frame, in 10 ms units. The agent
 * sends 0/0: show each frame as soon as it is decoded, no smoothing
 * buffer (Chromium then renders in its low-latency mode). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define WR_PLAYOUT_DELAY_URI \
  "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

/* The extension id the agent offers (a=extmap) for it. */
#define WR_PLAYOUT_DELAY_EXT_ID 6

/**
 * wr_playout_delay_register:
 *
 * Registers the `wrrtphdrextplayoutdelay` element (once; any thread), so
 * that a payloader whose downstream caps carry `extmap-6 =
 * WR_PLAYOUT_DELAY_URI` writes the extension on every packet
 * (auto-header-extension) and webrtcbin offers it.
 */
void wr_playout_delay_register (void);

G_END_DECLS
