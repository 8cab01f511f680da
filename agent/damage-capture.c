/* webremote-agent: an X11 capture source driven by screen damage.
 *
 * The streaming thread (GstPushSrc's create) owns its own X connection. It
 * waits on that connection's socket for XDamage and XFixes cursor events
 * and on a wake-up pipe (flush, keyframe requests), and polls the pointer
 * position once per frame interval. When something changed it fetches the
 * damaged region, grabs it with MIT-SHM into a full-screen shadow copy
 * (BGRx), converts just those rectangles to I420 in the frame it keeps
 * (the pointer blended in) and pushes that frame. */
#define _GNU_SOURCE 1  /* ppoll */
#include "config.h"

#include "agent/damage-capture.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/video/video.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>

GST_DEBUG_CATEGORY_STATIC (wr_damage_src_debug);
#define GST_CAT_DEFAULT wr_damage_src_debug

/* More rectangles than this, or a bounding box above this share of the
 * screen: grab the whole screen in one request instead. */
#define MAX_RECTS 64
#define FULL_GRAB_SHARE 0.4

/* Frames that may go back to back after a quiet spell: a change often
 * comes as two bursts of drawing (a character, then the caret or a status
 * line) and the second should not wait a whole frame interval. The
 * average stays at most the frame rate. */
#define BURST 2.0

typedef struct {
  int x, y, w, h;
} Rect;

struct _WrDamageSrc {
  GstPushSrc parent;

  /* Properties (object lock). */
  char *display_name;
  gboolean show_pointer;
  guint repeat_ms;

  /* X state: the streaming thread only, between start() and stop(). */
  Display *dpy;
  Window root;
  int width;
  int height;
  int damage_event_base;
  int fixes_event_base;
  Damage damage;
  XserverRegion region;
  gboolean have_damage;     /* a DamageNotify came since the last fetch */
  gboolean need_full;       /* grab everything (start, new caps) */
  XShmSegmentInfo shm_full;
  XShmSegmentInfo shm_part;
  XImage *img_full;         /* the shadow copy of the screen, BGRx */
  XImage *img_part;         /* scratch for partial grabs */

  /* Pointer. */
  guint32 *cursor;          /* premultiplied ARGB, cursor_w x cursor_h */
  int cursor_w, cursor_h, cursor_xhot, cursor_yhot;
  int pointer_x, pointer_y;
  gboolean cursor_shape_dirty;
  gboolean cursor_moved;    /* not yet in the frame */
  Rect cursor_drawn;        /* where the frame has it (w = 0: nowhere) */

  /* Output. */
  GstVideoInfo info;
  GstBuffer *frame;         /* the picture, I420; pushed by reference */
  gint64 interval_us;
  gint64 last_push_us;
  double tokens;            /* frames that may go now (at most BURST) */
  gint64 tokens_us;         /* when tokens was last topped up */
  gint64 next_pointer_us;
  guint8 *blend_rows;       /* 2 rows of BGRx for blending the pointer */

  /* Any thread. */
  int wake[2];
  gint flushing;
  gint force;
  gint64 force_us;          /* when it was asked (stats_lock) */
  gint frames;
  gint repeats;
  gint requested;
  gint64 pixels;            /* (atomic via lock below) */
  GMutex stats_lock;
};

enum {
  PROP_0,
  PROP_DISPLAY_NAME,
  PROP_SHOW_POINTER,
  PROP_REPEAT_INTERVAL,
};

G_DEFINE_FINAL_TYPE (WrDamageSrc, wr_damage_src, GST_TYPE_PUSH_SRC)

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format=(string)I420, "
        "width=(int)[1, 32767], height=(int)[1, 32767], "
        "framerate=(fraction)[1/1, 120/1], "
        "pixel-aspect-ratio=(fraction)1/1, colorimetry=(string)bt601"));

/* ---- conversion ---- */

/* BGRx to I420, BT.601 limited range, two rows at a time (b may equal a
 * for an odd last row). @n pixels from column 0 of the given pointers. */
static void
convert_rows (const guint8 *a, const guint8 *b, int n, guint8 *ya,
    guint8 *yb, guint8 *u, guint8 *v)
{
  int i;

  for (i = 0; i + 1 < n; i += 2) {
    const guint8 *p0 = a + 4 * i, *p1 = p0 + 4;
    const guint8 *p2 = b + 4 * i, *p3 = p2 + 4;
    int r, g, bl;

    ya[i] = ((66 * p0[2] + 129 * p0[1] + 25 * p0[0] + 128) >> 8) + 16;
    ya[i + 1] = ((66 * p1[2] + 129 * p1[1] + 25 * p1[0] + 128) >> 8) + 16;
    yb[i] = ((66 * p2[2] + 129 * p2[1] + 25 * p2[0] + 128) >> 8) + 16;
    yb[i + 1] = ((66 * p3[2] + 129 * p3[1] + 25 * p3[0] + 128) >> 8) + 16;
    r = p0[2] + p1[2] + p2[2] + p3[2];
    g = p0[1] + p1[1] + p2[1] + p3[1];
    bl = p0[0] + p1[0] + p2[0] + p3[0];
    u[i / 2] = ((-38 * r - 74 * g + 112 * bl + 512) >> 10) + 128;
    v[i / 2] = ((112 * r - 94 * g - 18 * bl + 512) >> 10) + 128;
  }
  if (i < n) {
    const guint8 *p0 = a + 4 * i, *p2 = b + 4 * i;
    int r = 2 * (p0[2] + p2[2]), g = 2 * (p0[1] + p2[1]),
        bl = 2 * (p0[0] + p2[0]);

    ya[i] = ((66 * p0[2] + 129 * p0[1] + 25 * p0[0] + 128) >> 8) + 16;
    yb[i] = ((66 * p2[2] + 129 * p2[1] + 25 * p2[0] + 128) >> 8) + 16;
    u[i / 2] = ((-38 * r - 74 * g + 112 * bl + 512) >> 10) + 128;
    v[i / 2] = ((112 * r - 94 * g - 18 * bl + 512) >> 10) + 128;
  }
}

static inline guint8
blend (guint8 dst, guint8 src, guint a)
{
  return src + (dst * (255 - a) + 127) / 255;
}

/* Copies @n BGRx pixels of @row (screen column @x0, screen row @y) to
 * @out with the pointer blended in. */
static void
blend_row (WrDamageSrc *self, const guint8 *row, int x0, int n, int y,
    guint8 *out)
{
  const Rect *c = &self->cursor_drawn;
  int cx0, cx1;

  memcpy (out, row, 4 * n);
  if (y < c->y || y >= c->y + c->h)
    return;
  cx0 = MAX (x0, c->x);
  cx1 = MIN (x0 + n, c->x + c->w);
  for (int x = cx0; x < cx1; x++) {
    /* The cursor image may be clipped at the screen's left/top edge. */
    int ix = x - (self->pointer_x - self->cursor_xhot);
    int iy = y - (self->pointer_y - self->cursor_yhot);
    guint32 s = self->cursor[iy * self->cursor_w + ix];
    guint a = s >> 24;
    guint8 *d = out + 4 * (x - x0);

    if (a == 0)
      continue;
    d[0] = blend (d[0], s & 0xff, a);
    d[1] = blend (d[1], (s >> 8) & 0xff, a);
    d[2] = blend (d[2], (s >> 16) & 0xff, a);
  }
}

static gboolean
rows_touch_cursor (WrDamageSrc *self, int x0, int x1, int y0, int y1)
{
  const Rect *c = &self->cursor_drawn;

  return c->w > 0 && y1 > c->y && y0 < c->y + c->h && x1 > c->x
      && x0 < c->x + c->w;
}

/* Converts the rectangle (expanded to even edges) from the shadow copy to
 * the frame. */
static void
convert_rect (WrDamageSrc *self, GstVideoFrame *vf, const Rect *r)
{
  const guint8 *shadow = (const guint8 *) self->img_full->data;
  int sstride = self->img_full->bytes_per_line;
  int x0 = r->x & ~1, y0 = r->y & ~1;
  int x1 = MIN (self->width, r->x + r->w + (r->x + r->w) % 2);
  int y1 = MIN (self->height, r->y + r->h + (r->y + r->h) % 2);
  guint8 *yp = GST_VIDEO_FRAME_PLANE_DATA (vf, 0);
  guint8 *up = GST_VIDEO_FRAME_PLANE_DATA (vf, 1);
  guint8 *vp = GST_VIDEO_FRAME_PLANE_DATA (vf, 2);
  int ys = GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);
  int us = GST_VIDEO_FRAME_PLANE_STRIDE (vf, 1);
  int vs = GST_VIDEO_FRAME_PLANE_STRIDE (vf, 2);
  int n = x1 - x0;

  if (n <= 0 || y1 <= y0)
    return;
  for (int y = y0; y < y1; y += 2) {
    int yb = MIN (y + 1, self->height - 1);
    const guint8 *a = shadow + (gsize) y * sstride + 4 * x0;
    const guint8 *b = shadow + (gsize) yb * sstride + 4 * x0;
    guint8 *ya = yp + (gsize) y * ys + x0;
    /* An odd last row: its pair's second luma row goes to scratch. */
    guint8 *ybp = y + 1 < self->height ? ya + ys
        : self->blend_rows + 8 * (gsize) self->width;

    if (rows_touch_cursor (self, x0, x1, y, yb + 1)) {
      guint8 *ta = self->blend_rows, *tb = ta + 4 * (gsize) self->width;
      blend_row (self, a, x0, n, y, ta);
      blend_row (self, b, x0, n, yb, tb);
      a = ta;
      b = tb;
    }
    convert_rows (a, b, n, ya, ybp, up + (gsize) (y / 2) * us + x0 / 2,
        vp + (gsize) (y / 2) * vs + x0 / 2);
  }
}

/* ---- X ---- */

static gboolean
shm_image (WrDamageSrc *self, XShmSegmentInfo *shm, XImage **out)
{
  int screen = DefaultScreen (self->dpy);
  XImage *img = XShmCreateImage (self->dpy, DefaultVisual (self->dpy, screen),
      DefaultDepth (self->dpy, screen), ZPixmap, NULL, shm, self->width,
      self->height);

  if (!img)
    return FALSE;
  shm->shmid = shmget (IPC_PRIVATE, (size_t) img->bytes_per_line * img->height,
      IPC_CREAT | 0600);
  if (shm->shmid < 0) {
    XDestroyImage (img);
    return FALSE;
  }
  shm->shmaddr = img->data = shmat (shm->shmid, NULL, 0);
  if (shm->shmaddr == (char *) -1) {
    shmctl (shm->shmid, IPC_RMID, NULL);
    img->data = NULL;
    XDestroyImage (img);
    return FALSE;
  }
  shm->readOnly = False;
  XShmAttach (self->dpy, shm);
  XSync (self->dpy, False);
  /* Gone once both sides detach. */
  shmctl (shm->shmid, IPC_RMID, NULL);
  *out = img;
  return TRUE;
}

static void
shm_image_free (WrDamageSrc *self, XShmSegmentInfo *shm, XImage **img)
{
  if (!*img)
    return;
  XShmDetach (self->dpy, shm);
  XSync (self->dpy, False);
  shmdt (shm->shmaddr);
  (*img)->data = NULL;
  XDestroyImage (*img);
  *img = NULL;
}

/* Checks @dpy; fills @error. */
static gboolean
check_display (Display *dpy, const char *name, int *damage_event_base,
    int *fixes_event_base, GError **error)
{
  int ev, err, screen = DefaultScreen (dpy);
  Visual *vis = DefaultVisual (dpy, screen);
  int major, minor;
  Bool pixmaps;

  if (!XDamageQueryExtension (dpy, &ev, &err)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "X display %s has no DAMAGE extension", name);
    return FALSE;
  }
  if (damage_event_base)
    *damage_event_base = ev;
  if (!XFixesQueryExtension (dpy, &ev, &err)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "X display %s has no XFIXES extension", name);
    return FALSE;
  }
  if (fixes_event_base)
    *fixes_event_base = ev;
  if (!XShmQueryVersion (dpy, &major, &minor, &pixmaps)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "X display %s has no MIT-SHM extension", name);
    return FALSE;
  }
  if (DefaultDepth (dpy, screen) != 24 || vis->class != TrueColor
      || vis->red_mask != 0xff0000 || vis->green_mask != 0xff00
      || vis->blue_mask != 0xff) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "X display %s is not a 24-bit BGRx true-colour screen", name);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr_damage_src_available (const char *display, GError **error)
{
  Display *dpy = XOpenDisplay (display);
  gboolean ok;

  if (!dpy) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "cannot open X display %s", display ? display : "$DISPLAY");
    return FALSE;
  }
  ok = check_display (dpy, display ? display : "$DISPLAY", NULL, NULL,
      error);
  XCloseDisplay (dpy);
  return ok;
}

static void
load_cursor (WrDamageSrc *self)
{
  XFixesCursorImage *ci = XFixesGetCursorImage (self->dpy);

  self->cursor_shape_dirty = FALSE;
  if (!ci)
    return;
  g_free (self->cursor);
  self->cursor_w = ci->width;
  self->cursor_h = ci->height;
  self->cursor_xhot = ci->xhot;
  self->cursor_yhot = ci->yhot;
  self->cursor = g_new (guint32, (gsize) ci->width * ci->height);
  /* XFixes hands out longs (64 bits here) of premultiplied ARGB. */
  for (gsize i = 0; i < (gsize) ci->width * ci->height; i++)
    self->cursor[i] = (guint32) ci->pixels[i];
  self->cursor_moved = TRUE;
  XFree (ci);
}

/* Polls the pointer; notes whether the frame needs redrawing there. */
static void
poll_pointer (WrDamageSrc *self)
{
  Window r, c;
  int rx, ry, wx, wy;
  unsigned int mask;

  if (self->cursor_shape_dirty || !self->cursor)
    load_cursor (self);
  if (XQueryPointer (self->dpy, self->root, &r, &c, &rx, &ry, &wx, &wy,
          &mask) && (rx != self->pointer_x || ry != self->pointer_y)) {
    self->pointer_x = rx;
    self->pointer_y = ry;
    self->cursor_moved = TRUE;
  }
}

static Rect
cursor_rect (WrDamageSrc *self)
{
  Rect r = { self->pointer_x - self->cursor_xhot,
    self->pointer_y - self->cursor_yhot, self->cursor_w, self->cursor_h };
  int x1 = MIN (self->width, r.x + r.w), y1 = MIN (self->height, r.y + r.h);

  r.x = MAX (0, r.x);
  r.y = MAX (0, r.y);
  r.w = MAX (0, x1 - r.x);
  r.h = MAX (0, y1 - r.y);
  if (r.w == 0 || r.h == 0)
    r.w = r.h = 0;
  return r;
}

static void
drain_events (WrDamageSrc *self)
{
  while (XPending (self->dpy)) {
    XEvent ev;

    XNextEvent (self->dpy, &ev);
    if (ev.type == self->damage_event_base + XDamageNotify)
      self->have_damage = TRUE;
    else if (ev.type == self->fixes_event_base + XFixesCursorNotify)
      self->cursor_shape_dirty = TRUE;
  }
}

/* Grabs what changed into the shadow copy and returns the rectangles to
 * convert (the damage plus where the pointer was and is). */
static GArray *
grab (WrDamageSrc *self, GError **error)
{
  GArray *rects = g_array_new (FALSE, FALSE, sizeof (Rect));
  gboolean full = self->need_full;
  XRectangle *xr = NULL;
  int n = 0;
  gint64 area = 0;
  int bx0 = G_MAXINT, by0 = G_MAXINT, bx1 = 0, by1 = 0;

  if (self->have_damage) {
    XDamageSubtract (self->dpy, self->damage, None, self->region);
    xr = XFixesFetchRegion (self->dpy, self->region, &n);
    self->have_damage = FALSE;
  }
  for (int i = 0; i < n && !full; i++) {
    Rect r = { MAX (0, xr[i].x), MAX (0, xr[i].y), 0, 0 };
    r.w = MIN (self->width, xr[i].x + xr[i].width) - r.x;
    r.h = MIN (self->height, xr[i].y + xr[i].height) - r.y;
    if (r.w <= 0 || r.h <= 0)
      continue;
    g_array_append_val (rects, r);
    area += (gint64) r.w * r.h;
    bx0 = MIN (bx0, r.x);
    by0 = MIN (by0, r.y);
    bx1 = MAX (bx1, r.x + r.w);
    by1 = MAX (by1, r.y + r.h);
  }
  if (xr)
    XFree (xr);
  if (!full && rects->len > MAX_RECTS) {
    Rect bbox = { bx0, by0, bx1 - bx0, by1 - by0 };
    g_array_set_size (rects, 0);
    g_array_append_val (rects, bbox);
    area = (gint64) bbox.w * bbox.h;
  }
  if (area > FULL_GRAB_SHARE * self->width * self->height)
    full = TRUE;

  if (full) {
    Rect all = { 0, 0, self->width, self->height };
    g_array_set_size (rects, 0);
    g_array_append_val (rects, all);
    if (!XShmGetImage (self->dpy, self->root, self->img_full, 0, 0,
            AllPlanes))
      goto failed;
    area = (gint64) self->width * self->height;
  } else {
    for (guint i = 0; i < rects->len; i++) {
      const Rect *r = &g_array_index (rects, Rect, i);
      XImage *p = self->img_part;
      guint8 *dst;

      p->width = r->w;
      p->height = r->h;
      p->bytes_per_line = 4 * r->w;
      if (!XShmGetImage (self->dpy, self->root, p, r->x, r->y, AllPlanes))
        goto failed;
      dst = (guint8 *) self->img_full->data
          + (gsize) r->y * self->img_full->bytes_per_line + 4 * r->x;
      for (int y = 0; y < r->h; y++)
        memcpy (dst + (gsize) y * self->img_full->bytes_per_line,
            p->data + (gsize) y * p->bytes_per_line, 4 * r->w);
    }
  }
  self->need_full = FALSE;

  g_mutex_lock (&self->stats_lock);
  self->pixels += area;
  g_mutex_unlock (&self->stats_lock);

  if (self->show_pointer && self->cursor) {
    Rect now = cursor_rect (self);
    if (self->cursor_moved || full) {
      if (self->cursor_drawn.w)
        g_array_append_val (rects, self->cursor_drawn);
      if (now.w)
        g_array_append_val (rects, now);
    }
    self->cursor_drawn = now;
    self->cursor_moved = FALSE;
  }
  return rects;

failed:
  self->img_part->width = self->width;
  self->img_part->height = self->height;
  g_array_unref (rects);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "cannot read the screen of X display %s", self->display_name
      ? self->display_name : "$DISPLAY");
  return NULL;
}

/* ---- the element ---- */

static void
wake (WrDamageSrc *self)
{
  char c = 1;

  if (write (self->wake[1], &c, 1) < 0 && errno != EAGAIN)
    GST_WARNING_OBJECT (self, "wake-up write failed: %s", g_strerror (errno));
}

static void
drain_wake (WrDamageSrc *self)
{
  char buf[64];

  while (read (self->wake[0], buf, sizeof buf) > 0)
    ;
}

void
wr_damage_src_request_frame (WrDamageSrc *self)
{
  g_return_if_fail (WR_IS_DAMAGE_SRC (self));
  g_mutex_lock (&self->stats_lock);
  self->force_us = g_get_monotonic_time ();
  g_mutex_unlock (&self->stats_lock);
  g_atomic_int_set (&self->force, 1);
  wake (self);
}

void
wr_damage_src_get_stats (WrDamageSrc *self, guint64 *frames,
    guint64 *repeats, guint64 *requested, guint64 *pixels)
{
  g_return_if_fail (WR_IS_DAMAGE_SRC (self));
  if (frames)
    *frames = (guint) g_atomic_int_get (&self->frames);
  if (repeats)
    *repeats = (guint) g_atomic_int_get (&self->repeats);
  if (requested)
    *requested = (guint) g_atomic_int_get (&self->requested);
  if (pixels) {
    g_mutex_lock (&self->stats_lock);
    *pixels = self->pixels;
    g_mutex_unlock (&self->stats_lock);
  }
}

static gboolean
wr_damage_src_start (GstBaseSrc *bsrc)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (bsrc);
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->display_name);
  GST_OBJECT_UNLOCK (self);

  self->dpy = XOpenDisplay (name);
  if (!self->dpy) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("cannot open X display %s", name ? name : "$DISPLAY"), (NULL));
    return FALSE;
  }
  if (!check_display (self->dpy, name ? name : "$DISPLAY",
          &self->damage_event_base, &self->fixes_event_base, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
        (NULL));
    XCloseDisplay (self->dpy);
    self->dpy = NULL;
    return FALSE;
  }
  self->root = DefaultRootWindow (self->dpy);
  self->width = DisplayWidth (self->dpy, DefaultScreen (self->dpy));
  self->height = DisplayHeight (self->dpy, DefaultScreen (self->dpy));
  if (!shm_image (self, &self->shm_full, &self->img_full)
      || !shm_image (self, &self->shm_part, &self->img_part)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("cannot share memory with X display %s", name ? name : "$DISPLAY"),
        (NULL));
    shm_image_free (self, &self->shm_full, &self->img_full);
    XCloseDisplay (self->dpy);
    self->dpy = NULL;
    return FALSE;
  }
  self->damage = XDamageCreate (self->dpy, self->root,
      XDamageReportNonEmpty);
  self->region = XFixesCreateRegion (self->dpy, NULL, 0);
  XFixesSelectCursorInput (self->dpy, self->root,
      XFixesDisplayCursorNotifyMask);
  XSync (self->dpy, False);
  /* Two BGRx rows for blending the pointer, one luma row of scratch. */
  self->blend_rows = g_malloc (9 * (gsize) self->width);
  self->need_full = TRUE;
  self->have_damage = FALSE;
  self->cursor_shape_dirty = TRUE;
  self->cursor_drawn.w = 0;
  self->pointer_x = self->pointer_y = -1;
  self->last_push_us = 0;
  self->tokens = BURST;
  self->tokens_us = g_get_monotonic_time ();
  self->next_pointer_us = 0;
  drain_wake (self);
  GST_INFO_OBJECT (self, "capturing %s, %dx%d", name ? name : "$DISPLAY",
      self->width, self->height);
  return TRUE;
}

static gboolean
wr_damage_src_stop (GstBaseSrc *bsrc)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (bsrc);

  if (self->dpy) {
    XDamageDestroy (self->dpy, self->damage);
    XFixesDestroyRegion (self->dpy, self->region);
    shm_image_free (self, &self->shm_full, &self->img_full);
    shm_image_free (self, &self->shm_part, &self->img_part);
    XCloseDisplay (self->dpy);
    self->dpy = NULL;
  }
  g_clear_pointer (&self->frame, gst_buffer_unref);
  g_clear_pointer (&self->cursor, g_free);
  g_clear_pointer (&self->blend_rows, g_free);
  return TRUE;
}

static GstCaps *
wr_damage_src_get_caps (GstBaseSrc *bsrc, GstCaps *filter)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (bsrc);
  GstCaps *caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));

  if (self->dpy) {
    caps = gst_caps_make_writable (caps);
    gst_caps_set_simple (caps, "width", G_TYPE_INT, self->width,
        "height", G_TYPE_INT, self->height, NULL);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

static GstCaps *
wr_damage_src_fixate (GstBaseSrc *bsrc, GstCaps *caps)
{
  GstStructure *s;

  caps = gst_caps_make_writable (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_fixate_field_nearest_fraction (s, "framerate", 30, 1);
  return GST_BASE_SRC_CLASS (wr_damage_src_parent_class)->fixate (bsrc, caps);
}

static gboolean
wr_damage_src_set_caps (GstBaseSrc *bsrc, GstCaps *caps)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (bsrc);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps)
      || info.width != self->width || info.height != self->height
      || info.fps_n <= 0)
    return FALSE;
  self->info = info;
  self->interval_us = gst_util_uint64_scale_int (G_USEC_PER_SEC, info.fps_d,
      info.fps_n);
  g_clear_pointer (&self->frame, gst_buffer_unref);
  self->frame = gst_buffer_new_allocate (NULL, info.size, NULL);
  self->need_full = TRUE;
  GST_INFO_OBJECT (self, "%dx%d, at most %d/%d fps", info.width,
      info.height, info.fps_n, info.fps_d);
  return TRUE;
}

static gboolean
wr_damage_src_event (GstBaseSrc *bsrc, GstEvent *event)
{
  /* An encoder that passes keyframe requests on: the keyframe needs a
   * frame. */
  if (gst_video_event_is_force_key_unit (event))
    wr_damage_src_request_frame (WR_DAMAGE_SRC (bsrc));
  return GST_BASE_SRC_CLASS (wr_damage_src_parent_class)->event (bsrc,
      event);
}

static gboolean
wr_damage_src_unlock (GstBaseSrc *bsrc)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (bsrc);

  g_atomic_int_set (&self->flushing, 1);
  wake (self);
  return TRUE;
}

static gboolean
wr_damage_src_unlock_stop (GstBaseSrc *bsrc)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (bsrc);

  g_atomic_int_set (&self->flushing, 0);
  return TRUE;
}

/* Waits until @deadline_us (monotonic), X input or a wake-up. */
static void
wait_until (WrDamageSrc *self, gint64 deadline_us)
{
  struct pollfd fds[2] = {
    { .fd = ConnectionNumber (self->dpy), .events = POLLIN },
    { .fd = self->wake[0], .events = POLLIN },
  };
  gint64 left = deadline_us - g_get_monotonic_time ();
  struct timespec ts;

  if (left <= 0)
    return;
  ts.tv_sec = left / G_USEC_PER_SEC;
  ts.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
  if (ppoll (fds, 2, &ts, NULL) > 0 && (fds[1].revents & POLLIN))
    drain_wake (self);
}

static GstFlowReturn
wr_damage_src_create (GstPushSrc *psrc, GstBuffer **out)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (psrc);
  gint64 repeat_us, now;
  gboolean forced = FALSE, repeat = FALSE;
  GstClock *clock;
  GstClockTime pts = GST_CLOCK_TIME_NONE;

  if (!self->frame)
    return GST_FLOW_NOT_NEGOTIATED;
  GST_OBJECT_LOCK (self);
  repeat_us = (gint64) self->repeat_ms * 1000;
  GST_OBJECT_UNLOCK (self);

  for (;;) {
    gboolean dirty;
    gint64 deadline;

    if (g_atomic_int_get (&self->flushing))
      return GST_FLOW_FLUSHING;
    drain_events (self);
    now = g_get_monotonic_time ();
    if (self->show_pointer && now >= self->next_pointer_us) {
      poll_pointer (self);
      self->next_pointer_us = now + self->interval_us;
    }
    dirty = self->need_full || self->have_damage
        || (self->show_pointer && self->cursor_moved);
    self->tokens = MIN (BURST, self->tokens
        + (double) (now - self->tokens_us) / self->interval_us);
    self->tokens_us = now;
    if (g_atomic_int_and (&self->force, 0)) {
      /* The request comes from a probe in front of the encoder, which
       * takes note of it just after: give it a moment to. */
      gint64 asked;

      g_mutex_lock (&self->stats_lock);
      asked = self->force_us;
      g_mutex_unlock (&self->stats_lock);
      if (now - asked < 1000)
        g_usleep (1000 - (now - asked));
      forced = TRUE;
      break;
    }
    /* The first change after a quiet spell goes at once; in a stream of
     * changes they gather until the next frame is due (a token bucket:
     * the frame rate on average, BURST frames back to back). */
    if (dirty && self->tokens >= 1.0)
      break;
    if (!dirty && now >= self->last_push_us + repeat_us) {
      repeat = TRUE;
      break;
    }
    deadline = dirty
        ? now + (gint64) ((1.0 - self->tokens) * self->interval_us) + 1
        : self->last_push_us + repeat_us;
    if (self->show_pointer)
      deadline = MIN (deadline, self->next_pointer_us);
    wait_until (self, deadline);
  }

  if (self->need_full || self->have_damage || self->cursor_moved) {
    g_autoptr (GError) error = NULL;
    GArray *rects;
    GstVideoFrame vf;
    gint64 t0 = g_get_monotonic_time (), t1;

    repeat = FALSE;
    rects = grab (self, &error);
    t1 = g_get_monotonic_time ();
    if (!rects) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", error->message),
          (NULL));
      return GST_FLOW_ERROR;
    }
    /* A frame still held downstream stays as it is: draw on a copy. */
    if (!gst_buffer_is_writable (self->frame)) {
      GstBuffer *copy = gst_buffer_copy_deep (self->frame);
      gst_buffer_unref (self->frame);
      self->frame = copy;
    }
    if (!gst_video_frame_map (&vf, &self->info, self->frame, GST_MAP_WRITE)) {
      g_array_unref (rects);
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("cannot map a frame"),
          (NULL));
      return GST_FLOW_ERROR;
    }
    for (guint i = 0; i < rects->len; i++)
      convert_rect (self, &vf, &g_array_index (rects, Rect, i));
    gst_video_frame_unmap (&vf);
    GST_DEBUG_OBJECT (self, "%u rectangles: grab %" G_GINT64_FORMAT
        " us, convert %" G_GINT64_FORMAT " us", rects->len, t1 - t0,
        g_get_monotonic_time () - t1);
    g_array_unref (rects);
  } else if (!gst_buffer_is_writable (self->frame)) {
    GstBuffer *copy = gst_buffer_copy (self->frame);
    gst_buffer_unref (self->frame);
    self->frame = copy;
  }

  self->last_push_us = g_get_monotonic_time ();
  self->tokens = MAX (0.0, self->tokens - 1.0);
  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock) {
    GstClockTime t = gst_clock_get_time (clock);
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
    pts = t > base ? t - base : 0;
    gst_object_unref (clock);
  }
  GST_BUFFER_PTS (self->frame) = pts;
  GST_BUFFER_DTS (self->frame) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (self->frame) = self->interval_us * GST_USECOND;
  g_atomic_int_inc (&self->frames);
  if (repeat)
    g_atomic_int_inc (&self->repeats);
  if (forced)
    g_atomic_int_inc (&self->requested);
  *out = gst_buffer_ref (self->frame);
  return GST_FLOW_OK;
}

static void
wr_damage_src_set_property (GObject *object, guint id, const GValue *value,
    GParamSpec *pspec)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_DISPLAY_NAME:
      g_free (self->display_name);
      self->display_name = g_value_dup_string (value);
      break;
    case PROP_SHOW_POINTER:
      self->show_pointer = g_value_get_boolean (value);
      break;
    case PROP_REPEAT_INTERVAL:
      self->repeat_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
wr_damage_src_get_property (GObject *object, guint id, GValue *value,
    GParamSpec *pspec)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_SHOW_POINTER:
      g_value_set_boolean (value, self->show_pointer);
      break;
    case PROP_REPEAT_INTERVAL:
      g_value_set_uint (value, self->repeat_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
wr_damage_src_finalize (GObject *object)
{
  WrDamageSrc *self = WR_DAMAGE_SRC (object);

  g_free (self->display_name);
  close (self->wake[0]);
  close (self->wake[1]);
  g_mutex_clear (&self->stats_lock);
  G_OBJECT_CLASS (wr_damage_src_parent_class)->finalize (object);
}

static void
wr_damage_src_class_init (WrDamageSrcClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS (klass);

  object_class->set_property = wr_damage_src_set_property;
  object_class->get_property = wr_damage_src_get_property;
  object_class->finalize = wr_damage_src_finalize;

  g_object_class_install_property (object_class, PROP_DISPLAY_NAME,
      g_param_spec_string ("display-name", "Display", "X display name",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_SHOW_POINTER,
      g_param_spec_boolean ("show-pointer", "Show pointer",
          "Draw the X pointer into the picture", TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_REPEAT_INTERVAL,
      g_param_spec_uint ("repeat-interval", "Repeat interval",
          "Milliseconds after which an unchanged screen is sent again",
          100, 60000, WR_DAMAGE_SRC_DEFAULT_REPEAT_MS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "webremote X damage source", "Source/Video",
      "Captures an X screen when it changes (XDamage, MIT-SHM)",
      "webremote");
  gst_element_class_add_static_pad_template (element_class, &src_template);

  base_class->start = wr_damage_src_start;
  base_class->stop = wr_damage_src_stop;
  base_class->get_caps = wr_damage_src_get_caps;
  base_class->fixate = wr_damage_src_fixate;
  base_class->set_caps = wr_damage_src_set_caps;
  base_class->event = wr_damage_src_event;
  base_class->unlock = wr_damage_src_unlock;
  base_class->unlock_stop = wr_damage_src_unlock_stop;
  push_class->create = wr_damage_src_create;

  GST_DEBUG_CATEGORY_INIT (wr_damage_src_debug, "wr-damage-src", 0,
      "webremote X damage capture");
}

static void
wr_damage_src_init (WrDamageSrc *self)
{
  g_autoptr (GError) error = NULL;

  self->show_pointer = TRUE;
  self->repeat_ms = WR_DAMAGE_SRC_DEFAULT_REPEAT_MS;
  g_mutex_init (&self->stats_lock);
  if (!g_unix_open_pipe (self->wake, FD_CLOEXEC, &error)
      || !g_unix_set_fd_nonblocking (self->wake[0], TRUE, &error)
      || !g_unix_set_fd_nonblocking (self->wake[1], TRUE, &error))
    g_error ("wr-damage-src: no wake-up pipe: %s", error->message);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

GstElement *
wr_damage_src_new (const char *display, const char *name)
{
  return g_object_new (WR_TYPE_DAMAGE_SRC, "name", name,
      "display-name", display, NULL);
}
