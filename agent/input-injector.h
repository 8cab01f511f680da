/* webremote-agent: synthetic input on one X display through XTest. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One X connection per display, opened and used on the main thread only
 * (Xlib connections are not shared across threads here). */
typedef struct _WrInputInjector WrInputInjector;

/**
 * wr_input_injector_open:
 * @display: an X display name such as ":1"
 * Returns: (transfer full) (nullable): the injector, or %NULL when the
 * display cannot be opened or lacks the XTEST extension.
 */
WrInputInjector *wr_input_injector_open (const char *display, GError **error);

void wr_input_injector_free (WrInputInjector *self);

/* The size of the X screen, read at open and on each call. */
void wr_input_injector_get_screen_size (WrInputInjector *self, int *width,
    int *height);

/* Injectors queue requests; each ends with an XFlush. */
void wr_input_injector_motion (WrInputInjector *self, int x, int y);
void wr_input_injector_button (WrInputInjector *self, guint button,
    gboolean down);
void wr_input_injector_key (WrInputInjector *self, guint keycode,
    gboolean down);

/* Whether @keycode exists on this X server (xmodmap -pke range). */
gboolean wr_input_injector_has_keycode (WrInputInjector *self,
    guint keycode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrInputInjector, wr_input_injector_free)

G_END_DECLS
