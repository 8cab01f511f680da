/* webremote-agent: one viewer: a queue and a webrtcbin fed by the display
 * pipeline's tee, plus its "input" DataChannel. */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "agent/display-pipeline.h"
#include "agent/input-injector.h"

G_BEGIN_DECLS

#define WR_TYPE_PEER (wr_peer_get_type ())
G_DECLARE_FINAL_TYPE (WrPeer, wr_peer, WR, PEER, GObject)

/**
 * wr_peer_new:
 * @sid: the session id
 * @pipeline: (transfer none): the display pipeline the peer will watch
 * @injector: (nullable) (transfer none): input target; must outlive the peer
 * @control: whether the session may send input
 * @ice_addresses: (nullable): the only local addresses ICE may use
 * @ice_servers: (nullable): RTCIceServer objects from session.start
 *
 * Signals, all on the main context:
 * - "offer" (const char *sdp): the local offer, to send as sdp.offer.
 * - "ice-candidate" (guint mline, const char *candidate): a local candidate.
 * - "connected": ICE and DTLS are up; time for a keyframe.
 * - "failed" (const char *reason): the session cannot go on.
 * - "input-refused" (const char *reason): the viewer sent input its
 *   scopes do not allow; it was dropped.
 * - "channel-open": the "input" DataChannel is open (wr_peer_send()).
 * - "profile-request" (const char *profile, const char *ref) -> char *:
 *   a valid profile.set from a viewer allowed to control; the handler
 *   returns an `error` message to send back, or %NULL.
 * - "codec-refused" (const char *reason): the viewer's answer does not
 *   take the offered codec; the answer was not applied and this
 *   connection cannot carry video (restart it with another codec).
 *
 * Returns: (transfer full): the peer; add wr_peer_get_branch() to the
 * pipeline, then call wr_peer_start().
 */
WrPeer *wr_peer_new (const char *sid, WrDisplayPipeline *pipeline,
    WrInputInjector *injector, gboolean control,
    const char *const *ice_addresses, JsonArray *ice_servers,
    GError **error);

const char *wr_peer_get_sid (WrPeer *self);

/**
 * wr_peer_get_branch:
 * Returns: (transfer none): the bin (queue ! webrtcbin) with a "sink" pad.
 */
GstElement *wr_peer_get_branch (WrPeer *self);

/* Creates the "input" DataChannel, then offers once negotiation is needed
 * and the stream's caps have reached webrtcbin. */
void wr_peer_start (WrPeer *self);

gboolean wr_peer_set_answer (WrPeer *self, const char *sdp, GError **error);
void wr_peer_add_ice_candidate (WrPeer *self, guint mline,
    const char *candidate);

/**
 * wr_peer_renegotiate:
 * @codec: the encoding name ("H264", "VP8") the display now sends
 *
 * After a live codec switch: once the last answer is in force and @codec's
 * caps have reached webrtcbin, makes a new offer on the same connection
 * (emitted as "offer"); nothing when the last offer already had @codec.
 */
void wr_peer_renegotiate (WrPeer *self, const char *codec);

/* Sends @text on the "input" DataChannel; %FALSE when it is not open. */
gboolean wr_peer_send (WrPeer *self, const char *text);

/**
 * wr_peer_get_offered_codec:
 * @h264_level: (out) (optional) (transfer none): the offered H.264
 *   profile-level-id, or %NULL
 * Returns: (nullable): the encoding name of the last offer's video.
 */
const char *wr_peer_get_offered_codec (WrPeer *self,
    const char **h264_level);

/* How many offers this peer made (tests, logs). */
guint wr_peer_get_n_offers (WrPeer *self);

/* Whether the viewer may send input (wr_scopes_allow_control() of the
 * current grant); taking it away releases what the peer holds. */
void wr_peer_set_control (WrPeer *self, gboolean control);

/* Releases held input and stops reacting to webrtcbin; idempotent. The
 * branch itself is removed by the display pipeline. */
void wr_peer_close (WrPeer *self);

G_END_DECLS
