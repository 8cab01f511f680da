/* webremote integration tests: a GStreamer viewer playing the browser.
 *
 * It speaks the client channel of docs/protocol.md over a libsoup
 * WebSocket, answers the agent's offer with a receive-only webrtcbin whose
 * ICE is restricted to 127.0.0.1, decodes the video into a fakesink (counting
 * frames and recording their size) and talks on the "input" DataChannel.
 *
 * All functions are called from the thread whose thread-default main context
 * was current at wr_test_viewer_new(); webrtcbin's callbacks hop there.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _WrTestViewer WrTestViewer;

/**
 * wr_test_viewer_new:
 * @base_url: the gateway, https://127.0.0.1:PORT
 * @fingerprint: the gateway certificate's SHA-256 fingerprint (pinned)
 * @token: (nullable): user access token, sent as a Bearer header
 * Returns: (transfer full): a viewer; nothing is connected yet.
 */
WrTestViewer *wr_test_viewer_new (const char *base_url,
    const char *fingerprint, const char *token);

/* Ends the session, closes the WebSocket, stops the pipeline and drops the
 * reference. */
void wr_test_viewer_free (WrTestViewer *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrTestViewer, wr_test_viewer_free)

/**
 * wr_test_viewer_connect:
 * @http_status: (out) (optional): the HTTP status of the upgrade request
 * Opens /ws/client and waits for `welcome`.
 * Returns: FALSE when the upgrade failed, no welcome came in time, ...
 */
gboolean wr_test_viewer_connect (WrTestViewer *v, guint timeout_ms,
    guint *http_status, GError **error);

/* Sends one text frame; FALSE when the WebSocket is not open. */
gboolean wr_test_viewer_send_text (WrTestViewer *v, const char *text);

/* Sends session.request and waits for session.granted; an `error` answer
 * becomes a GError whose message holds its code. Records the request time. */
gboolean wr_test_viewer_start_session (WrTestViewer *v, const char *agent,
    const char *display, guint timeout_ms, GError **error);

/* The same with a `scopes` list (%NULL: the gateway's default). */
gboolean wr_test_viewer_start_session_with_scopes (WrTestViewer *v,
    const char *agent, const char *display, const char *const *scopes,
    guint timeout_ms, GError **error);

/* The sid of the last session.granted, or %NULL. */
const char *wr_test_viewer_get_sid (WrTestViewer *v);

/* Sends session.end for the current session. */
void wr_test_viewer_end_session (WrTestViewer *v);

/**
 * wr_test_viewer_wait_message:
 * @type: (nullable): the message type to wait for, %NULL for any
 * Waits for a message from the gateway not yet taken, removes it from the
 * queue and returns it.
 * Returns: (transfer full) (nullable): the message, %NULL on timeout.
 */
JsonObject *wr_test_viewer_wait_message (WrTestViewer *v, const char *type,
    guint timeout_ms);

/* Drops every received message not yet taken. */
void wr_test_viewer_clear_messages (WrTestViewer *v);

/* TRUE once the WebSocket is closed; @code gets its close code. */
gboolean wr_test_viewer_is_closed (WrTestViewer *v, gushort *code);

/* Frames decoded so far (thread-safe). */
guint64 wr_test_viewer_get_frames (WrTestViewer *v);

/* Waits until at least @n frames are decoded. */
gboolean wr_test_viewer_wait_frames (WrTestViewer *v, guint64 n,
    guint timeout_ms);

/* Size of the decoded video (0 before the first frame). */
void wr_test_viewer_get_video_size (WrTestViewer *v, int *width,
    int *height);

/* Monotonic times (g_get_monotonic_time) of the last session.request and of
 * the first decoded frame after it (0 when none yet). */
gint64 wr_test_viewer_get_request_time (WrTestViewer *v);
gint64 wr_test_viewer_get_first_frame_time (WrTestViewer *v);

/* TRUE when the pipeline posted an ERROR on its bus. */
gboolean wr_test_viewer_had_pipeline_error (WrTestViewer *v);

/* Waits until the agent's "input" DataChannel is open. */
gboolean wr_test_viewer_wait_input_channel (WrTestViewer *v,
    guint timeout_ms);

/* Sends one string on the input DataChannel; FALSE when it is not open. */
gboolean wr_test_viewer_send_input (WrTestViewer *v, const char *json);

/**
 * wr_test_viewer_wait_input_message:
 * Returns: (transfer full) (nullable): the oldest message the agent sent on
 * the input DataChannel, parsed (a non-JSON message becomes %NULL with a
 * warning), or %NULL on timeout.
 */
JsonObject *wr_test_viewer_wait_input_message (WrTestViewer *v,
    guint timeout_ms);

/**
 * wr_test_viewer_refuse_codec:
 * @codec: (nullable): an encoding name ("H264"); offers whose video has it
 *   are answered with `m=video 0`, as Chromium answers a codec it cannot
 *   decode. An offer with a new ICE ufrag (the agent restarting the
 *   connection) is answered by a new webrtcbin, as the web client does.
 */
void wr_test_viewer_refuse_codec (WrTestViewer *v, const char *codec);

/* Whether wr_test_viewer_wait_input_message() also returns the agent's
 * `profiles` and `profile.changed` messages (default: dropped). */
void wr_test_viewer_keep_profile_messages (WrTestViewer *v, gboolean keep);

/* Offers received, answers rewritten to refuse, connections restarted. */
guint wr_test_viewer_get_offers (WrTestViewer *v);
guint wr_test_viewer_get_refused_answers (WrTestViewer *v);
guint wr_test_viewer_get_restarts (WrTestViewer *v);

/* (transfer full) (nullable): the video codec of the last offer. */
char *wr_test_viewer_get_offer_codec (WrTestViewer *v);

/**
 * wr_test_viewer_describe:
 * Returns: (transfer full): one line on the session's progress (offer,
 * answer, candidates, ICE and connection state, frames) for failure
 * messages.
 */
char *wr_test_viewer_describe (WrTestViewer *v);

G_END_DECLS
