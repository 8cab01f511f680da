/* Recorder tests: a GStreamer WebRTC sender that plays the agent: live
 * test video, x264 with an (almost) infinite GOP that answers keyframe
 * requests, RTP with the agent's rtcp-fb caps, webrtcbin as the offerer,
 * ICE on 127.0.0.1 only. Callbacks run on the thread-default main context
 * of the creator. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _WrTestSender WrTestSender;

typedef void (*WrTestSenderOfferFunc) (const char *sdp, gpointer user_data);
typedef void (*WrTestSenderCandidateFunc) (guint mline,
    const char *candidate, gpointer user_data);

/**
 * wr_test_sender_new:
 * @codec: "H264" (x264) or "VP8" (vp8enc), both with keyframes only on
 *   request
 * @pattern: a videotestsrc pattern ("ball", "smpte", ...)
 * @moving: when set, the whole picture scrolls sideways every frame
 * Starts the pipeline; the offer comes through @offer_cb once webrtcbin
 * has caps.
 */
WrTestSender *wr_test_sender_new (const char *codec, int width, int height,
    int fps, const char *pattern, gboolean moving, WrTestSenderOfferFunc offer_cb,
    WrTestSenderCandidateFunc candidate_cb, gpointer user_data,
    GError **error);

gboolean wr_test_sender_set_answer (WrTestSender *s, const char *sdp);
void wr_test_sender_add_candidate (WrTestSender *s, guint mline,
    const char *candidate);

/* Keyframe requests that reached the encoder (PLI/FIR from the receiver). */
guint wr_test_sender_get_keyframe_requests (WrTestSender *s);
/* Encoded frames so far. */
guint64 wr_test_sender_get_frames (WrTestSender *s);
gboolean wr_test_sender_had_error (WrTestSender *s);

void wr_test_sender_free (WrTestSender *s);

G_END_DECLS
