/* webremote-agent: the on-screen sign that a session is being recorded. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The indicator window's WM_NAME, for tests and for people who look. */
#define WR_RECORDING_INDICATOR_NAME "webremote-recording-indicator"

typedef struct _WrRecordingIndicator WrRecordingIndicator;

/**
 * wr_recording_indicator_new:
 * @display: the X display (":1")
 *
 * Shows an always-on-top, override-redirect window at the top centre of
 * @display: red, "REC  This session is being recorded". It is raised
 * again every second so that no window covers it, and it is part of the
 * captured picture, so viewers see it too. Runs on the thread-default main
 * context; uses its own X connection.
 *
 * Returns: (transfer full) (nullable): the shown indicator, or %NULL when
 *   the display cannot be opened.
 */
WrRecordingIndicator *wr_recording_indicator_new (const char *display,
    GError **error);

/* Removes the window and closes the connection. */
void wr_recording_indicator_free (WrRecordingIndicator *indicator);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrRecordingIndicator,
    wr_recording_indicator_free)

G_END_DECLS
