/* webremote-agent: one peer's "input" DataChannel: checks, then injects. */
#pragma once

#include <glib.h>

#include "agent/input-injector.h"

G_BEGIN_DECLS

/* docs/protocol.md: the input channel allows 1000 messages per second with
 * bursts of 2000. */
#define WR_INPUT_RATE 1000.0
#define WR_INPUT_BURST 2000.0

typedef struct _WrInputChannel WrInputChannel;

/* Called for every valid input message the session's scopes do not allow;
 * @reason is static text such as "no control scope". */
typedef void (*WrInputRefusedFunc) (WrInputChannel *channel,
    const char *reason, gpointer user_data);

/* The reason given for input dropped without the `control` scope. */
#define WR_INPUT_REFUSED_NO_CONTROL "no control scope"

/**
 * wr_scopes_allow_control:
 * The one place that decides whether a session's scopes let it drive the
 * remote mouse and keyboard.
 */
gboolean wr_scopes_allow_control (const char *const *scopes);

/**
 * wr_input_channel_new:
 * @injector: (nullable) (transfer none): where input goes; must outlive
 *   the channel. %NULL checks messages without injecting (tests).
 * @control: whether the session may send input (wr_scopes_allow_control())
 *
 * Returns: (transfer full): the per-peer input state.
 */
WrInputChannel *wr_input_channel_new (WrInputInjector *injector,
    gboolean control);

/* Releases everything still held, then frees. */
void wr_input_channel_free (WrInputChannel *self);

/**
 * wr_input_channel_set_control:
 * Changes whether input is allowed, as a renewed grant says; taking
 * control away releases everything this peer holds.
 */
void wr_input_channel_set_control (WrInputChannel *self, gboolean control);

/**
 * wr_input_channel_set_refused_func:
 * @func: (nullable): told about each input message dropped for its scope
 */
void wr_input_channel_set_refused_func (WrInputChannel *self,
    WrInputRefusedFunc func, gpointer user_data);

/* Called for a valid profile.set from a session that may control the
 * display; returns the reply to send on the channel (an `error`), or %NULL
 * when the switch was started (profile.changed follows). */
typedef char *(*WrProfileRequestFunc) (WrInputChannel *channel,
    const char *profile, const char *ref, gpointer user_data);

/**
 * wr_input_channel_set_profile_func:
 * @func: (nullable): handles profile.set; without one the agent answers
 *   not_found
 */
void wr_input_channel_set_profile_func (WrInputChannel *self,
    WrProfileRequestFunc func, gpointer user_data);

/**
 * wr_input_channel_set_video_size:
 * The size of the video the peer sees (the negotiated caps); input
 * coordinates are in these pixels and are scaled to the screen.
 */
void wr_input_channel_set_video_size (WrInputChannel *self, int width,
    int height);

/**
 * wr_input_channel_set_trace:
 * @trace: (nullable) (transfer none): when set, every injected action is
 *   appended as a line ("move X Y", "button B down", "key K up"), in screen
 *   coordinates. For tests.
 */
void wr_input_channel_set_trace (WrInputChannel *self, GString *trace);

/**
 * wr_input_channel_handle:
 * @data: (array length=len): one DataChannel string message
 *
 * Validates the message (wr_message_parse() on the peer -> agent channel),
 * checks the rate limit, the session's scopes and the coordinates, then
 * injects it.
 *
 * Returns: (transfer full) (nullable): an `error` message to send back on
 * the DataChannel, or %NULL.
 */
char *wr_input_channel_handle (WrInputChannel *self, const char *data,
    gsize len);

/**
 * wr_input_channel_release_all:
 * Releases every key and button this peer holds (input.reset, DataChannel
 * closed, session ended): nothing stays stuck.
 */
void wr_input_channel_release_all (WrInputChannel *self);

/**
 * wr_input_scale_point:
 * Maps (@x, @y) in a @video_w x @video_h video to a @screen_w x @screen_h
 * screen.
 *
 * Returns: %FALSE with an out_of_range WR_PROTOCOL_ERROR when the point is
 * outside the video.
 */
gboolean wr_input_scale_point (int video_w, int video_h, int screen_w,
    int screen_h, gint64 x, gint64 y, int *sx, int *sy, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrInputChannel, wr_input_channel_free)

G_END_DECLS
