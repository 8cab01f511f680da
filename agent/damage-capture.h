/* webremote-agent: an X11 capture source driven by screen damage.
 *
 * WrDamageSrc is a live GstPushSrc that sends a frame only when the screen
 * changed (XDamage), grabs only what changed (MIT-SHM) and converts only
 * that to I420 in a frame it keeps. docs/pipelines.md, "Capture". */
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define WR_TYPE_DAMAGE_SRC (wr_damage_src_get_type ())
G_DECLARE_FINAL_TYPE (WrDamageSrc, wr_damage_src, WR, DAMAGE_SRC, GstPushSrc)

/* Default for the repeat-interval property: the longest time without a
 * frame on an unchanged screen. */
#define WR_DAMAGE_SRC_DEFAULT_REPEAT_MS 1000

/**
 * wr_damage_src_new:
 * @display: (nullable): the X display (":1"); %NULL for $DISPLAY
 * @name: (nullable): the element's name
 *
 * The source. Properties: `display-name` (string), `show-pointer`
 * (boolean, default TRUE: the X pointer is drawn into the picture, as
 * ximagesrc does), `repeat-interval` (milliseconds, 100..60000, default
 * 1000: an unchanged screen still sends its frame this often, so receivers
 * and the recorder's fragments keep moving). Output: `video/x-raw,
 * format=I420, colorimetry=bt601` at the X screen's size and the frame
 * rate downstream asks for (1..120), which is the most it sends.
 *
 * Behaviour: the first change after an idle period goes out at once; more
 * changes within one frame interval are gathered into the next frame;
 * nothing changed, no frame (except the repeat). Buffers carry the
 * pipeline clock's running time at the grab.
 *
 * Returns: (transfer floating): a new element.
 */
GstElement *wr_damage_src_new (const char *display, const char *name);

/**
 * wr_damage_src_request_frame:
 *
 * Any thread: send the current picture at once, changed or not. Used for
 * keyframe requests (a new viewer, PLI/FIR, a recorder segment cut): the
 * encoder's keyframe needs a frame to go out with. An upstream
 * GstForceKeyUnit event that reaches the source does the same.
 */
void wr_damage_src_request_frame (WrDamageSrc *self);

/**
 * wr_damage_src_get_stats:
 * @frames: (out) (optional): frames pushed since start
 * @repeats: (out) (optional): of those, repeats of an unchanged screen
 * @requested: (out) (optional): of those, sent for wr_damage_src_request_frame
 * @pixels: (out) (optional): screen pixels grabbed and converted
 *
 * Counters for tests and logs (any thread).
 */
void wr_damage_src_get_stats (WrDamageSrc *self, guint64 *frames,
    guint64 *repeats, guint64 *requested, guint64 *pixels);

/**
 * wr_damage_src_available:
 * @display: (nullable): the X display
 * @error: why not
 *
 * Whether @display has the XDamage, XFixes and MIT-SHM extensions and a
 * 32-bit true-colour screen, which the source needs.
 */
gboolean wr_damage_src_available (const char *display, GError **error);

G_END_DECLS
