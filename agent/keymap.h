/* webremote-agent: browser KeyboardEvent.code to X keycode. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * wr_keymap_lookup:
 * @code: a KeyboardEvent.code value such as "KeyA" or "ShiftLeft"
 *
 * Maps a physical key, as the browser names it (W3C UI Events KeyboardEvent
 * code values), to the X keycode of the same physical key on an X server
 * that uses evdev keycodes (Xorg with libinput/evdev, Xvfb, Xwayland).
 *
 * Returns: the X keycode (8..255), or 0 when @code is not a known key.
 */
guint wr_keymap_lookup (const char *code);

/* For the unit test: %TRUE when the table is sorted for bsearch(). */
gboolean wr_keymap_check_sorted (void);

G_END_DECLS
