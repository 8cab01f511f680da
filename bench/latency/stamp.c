/* webremote-bench-stamp: paints the wall-clock time on an X screen.
 *
 * A window covering the whole screen (override-redirect: no window manager
 * needed) shows a "stamp": the low 32 bits of CLOCK_REALTIME in
 * milliseconds plus a CRC-8 of them, 40 bits in all, as black (0) and
 * white (1) blocks of --block pixels, framed by marker blocks:
 *
 *   [W][B] d31 ... d0 c7 ... c0 [B][W]      44 blocks in one row
 *
 * on a mid-grey quiet zone. The same stamp is painted twice in each frame,
 * at the top-left (x = y = block) and at the bottom-left
 * (y = height - 2 * block) of the screen, both after the frame's workload
 * and in one batch of requests, so a capture (or a viewer's update) that
 * takes the top and the bottom of the screen at different times, across a
 * new frame, shows two different values: a torn frame. bench/latency/
 * reader.js decodes it (sampling the centre of each block, so video
 * compression and scaling do not matter much).
 *
 * Workloads (--workload):
 *   static       the stamp alone changes, every --interval-ms (default 100)
 *   typing       a text area gets a few characters every --interval-ms,
 *                then the stamp
 *   full-motion  the whole screen is repainted every frame at --fps (default
 *                60): a detailed picture (colour plasma, fine grain, text
 *                labels) panning diagonally, and a moving box; then the
 *                stamp. Panning is what a codec's motion search handles
 *                well and what a damage-based VNC server must resend in
 *                full.
 *   video-window the same picture panning in a window covering 42 % of the
 *                screen (60 % x 70 %, centred), like a video playing in a
 *                browser: less than x11vnc's full-screen threshold
 *                (-fs 0.75), so a VNC server updates it tile by tile
 *
 * Each period varies at random by up to --jitter-us either way (default a
 * quarter of the period), so that the stamp's phase against the sender's
 * capture clock and the browser's frame clock is spread evenly over the run
 * instead of locked at one value (which would bias a run by up to a frame
 * interval).
 *
 * The time is read after the workload is painted and just before the
 * stamp's requests are sent; XSync() then waits until the X server has
 * executed them, so the stamp is in the framebuffer at most the XSync
 * round trip (printed at exit) after the time it shows.
 *
 * --fixed VALUE paints VALUE (low 32 bits) once instead of the clock and
 * keeps the window up: the decode check of bench/run-latency.
 *
 * Prints "ready" on stdout after the first frame, and a summary line on
 * SIGINT/SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#define WR_STAMP_DATA_BITS 32
#define WR_STAMP_CRC_BITS 8
#define WR_STAMP_BLOCKS (2 + WR_STAMP_DATA_BITS + WR_STAMP_CRC_BITS + 2)

static char *opt_display = NULL;
static char *opt_workload = NULL;
static int opt_interval_ms = 100;
static int opt_fps = 60;
static int opt_block = 16;
static char *opt_fixed = NULL;
static int opt_jitter_us = -1;

static GOptionEntry entries[] = {
  { "display", 'd', 0, G_OPTION_ARG_STRING, &opt_display,
    "X display (default $DISPLAY)", ":N" },
  { "workload", 'w', 0, G_OPTION_ARG_STRING, &opt_workload,
    "static (default), typing, full-motion or video-window", "NAME" },
  { "interval-ms", 'i', 0, G_OPTION_ARG_INT, &opt_interval_ms,
    "Stamp period for static and typing (default 100)", "MS" },
  { "fps", 'f', 0, G_OPTION_ARG_INT, &opt_fps,
    "Frame rate of full-motion and video-window (default 60)", "N" },
  { "block", 'b', 0, G_OPTION_ARG_INT, &opt_block,
    "Block size in pixels (default 16)", "PX" },
  { "jitter-us", 'j', 0, G_OPTION_ARG_INT, &opt_jitter_us,
    "Each period varies by up to +/- this (default: a quarter of the period)", "US" },
  { "fixed", 0, 0, G_OPTION_ARG_STRING, &opt_fixed,
    "Paint this value once and keep it (decode check)", "VALUE" },
  { NULL }
};

typedef enum {
  WORKLOAD_STATIC,
  WORKLOAD_TYPING,
  WORKLOAD_FULL_MOTION,
  WORKLOAD_VIDEO_WINDOW,
} Workload;

typedef struct {
  Display *dpy;
  Window win;
  GC gc;
  int width, height;
  unsigned long black, white, grey, text_bg;
  Pixmap picture; /* 2w x 2h: the periodic full-motion picture, tiled */
  XFontStruct *font;
  /* typing */
  int text_x, text_y, text_w, text_h, col, row, cols, rows;
  unsigned int text_seed;
} Screen_;

static volatile sig_atomic_t stop_requested = 0;

static void
on_signal (int sig)
{
  (void) sig;
  stop_requested = 1;
}

/* CRC-8, polynomial 0x07 (ATM), over the 4 bytes of the value, MSB first.
 * reader.js computes the same. */
static guint8
stamp_crc8 (guint32 v)
{
  guint8 crc = 0;
  for (int byte = 3; byte >= 0; byte--) {
    crc ^= (guint8) (v >> (8 * byte));
    for (int i = 0; i < 8; i++)
      crc = (crc & 0x80) ? (guint8) ((crc << 1) ^ 0x07) : (guint8) (crc << 1);
  }
  return crc;
}

static gint64
realtime_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (gint64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static gint64
monotonic_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static unsigned long
alloc_colour (Screen_ *s, unsigned short r, unsigned short g, unsigned short b)
{
  XColor c = { 0 };
  c.red = r;
  c.green = g;
  c.blue = b;
  c.flags = DoRed | DoGreen | DoBlue;
  if (!XAllocColor (s->dpy, DefaultColormap (s->dpy, DefaultScreen (s->dpy)), &c))
    return BlackPixel (s->dpy, DefaultScreen (s->dpy));
  return c.pixel;
}

/* Queues the requests that paint one stamp at (x, y); no flush. */
static void
paint_stamp (Screen_ *s, int x, int y, guint32 value)
{
  const int b = opt_block;
  XRectangle white[WR_STAMP_BLOCKS], black[WR_STAMP_BLOCKS];
  int nw = 0, nb = 0;
  guint8 crc = stamp_crc8 (value);

  for (int i = 0; i < WR_STAMP_BLOCKS; i++) {
    gboolean bit;
    XRectangle r = { (short) (x + i * b), (short) y, (unsigned short) b, (unsigned short) b };

    if (i == 0 || i == WR_STAMP_BLOCKS - 1)
      bit = TRUE;
    else if (i == 1 || i == WR_STAMP_BLOCKS - 2)
      bit = FALSE;
    else if (i - 2 < WR_STAMP_DATA_BITS)
      bit = (value >> (WR_STAMP_DATA_BITS - 1 - (i - 2))) & 1;
    else
      bit = (crc >> (WR_STAMP_CRC_BITS - 1 - (i - 2 - WR_STAMP_DATA_BITS))) & 1;
    if (bit)
      white[nw++] = r;
    else
      black[nb++] = r;
  }
  XSetForeground (s->dpy, s->gc, s->white);
  XFillRectangles (s->dpy, s->win, s->gc, white, nw);
  XSetForeground (s->dpy, s->gc, s->black);
  XFillRectangles (s->dpy, s->win, s->gc, black, nb);
}

static int
stamp_top_y (void)
{
  return opt_block;
}

static int
stamp_bottom_y (Screen_ *s)
{
  return s->height - 2 * opt_block;
}

/* The grey background and the quiet zones around both stamps. */
static void
paint_background (Screen_ *s)
{
  XSetForeground (s->dpy, s->gc, s->grey);
  XFillRectangle (s->dpy, s->win, s->gc, 0, 0, (unsigned) s->width, (unsigned) s->height);
}

static void
paint_quiet_zones (Screen_ *s)
{
  const int b = opt_block;
  XSetForeground (s->dpy, s->gc, s->grey);
  XFillRectangle (s->dpy, s->win, s->gc, 0, 0,
                  (unsigned) ((WR_STAMP_BLOCKS + 2) * b), (unsigned) (3 * b));
  XFillRectangle (s->dpy, s->win, s->gc, 0, s->height - 3 * b,
                  (unsigned) ((WR_STAMP_BLOCKS + 2) * b), (unsigned) (3 * b));
}

static void
typing_init (Screen_ *s)
{
  const int b = opt_block;
  s->text_x = b;
  s->text_y = 4 * b;
  s->text_w = MIN (640, s->width - 2 * b);
  s->text_h = MIN (320, s->height - 8 * b);
  s->cols = s->text_w / s->font->max_bounds.width;
  s->rows = s->text_h / (s->font->ascent + s->font->descent);
  s->col = s->row = 0;
  s->text_seed = 1;
  XSetForeground (s->dpy, s->gc, s->text_bg);
  XFillRectangle (s->dpy, s->win, s->gc, s->text_x, s->text_y,
                  (unsigned) s->text_w, (unsigned) s->text_h);
}

/* A few characters more, like someone typing; a full area starts over. */
static void
typing_step (Screen_ *s)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz      ";
  int n = 2 + (int) (s->text_seed % 3);
  char chars[8];
  const int lh = s->font->ascent + s->font->descent;
  const int cw = s->font->max_bounds.width;

  if (s->row >= s->rows) {
    XSetForeground (s->dpy, s->gc, s->text_bg);
    XFillRectangle (s->dpy, s->win, s->gc, s->text_x, s->text_y,
                    (unsigned) s->text_w, (unsigned) s->text_h);
    s->row = s->col = 0;
  }
  for (int i = 0; i < n; i++) {
    s->text_seed = s->text_seed * 1103515245u + 12345u;
    chars[i] = alphabet[(s->text_seed >> 16) % (sizeof alphabet - 1)];
  }
  n = MIN (n, s->cols - s->col);
  XSetForeground (s->dpy, s->gc, s->black);
  XSetBackground (s->dpy, s->gc, s->text_bg);
  XDrawImageString (s->dpy, s->win, s->gc, s->text_x + s->col * cw,
                    s->text_y + s->row * lh + s->font->ascent, chars, n);
  s->col += n;
  if (s->col >= s->cols) {
    s->col = 0;
    s->row++;
  }
}

/* A w x h picture, periodic in x and y (so its 2 x 2 tiling pans without
 * seams), rendered once into a server-side pixmap. */
static gboolean
full_motion_init (Screen_ *s, GError **error)
{
  const int w = s->width, h = s->height;
  int scr = DefaultScreen (s->dpy);
  Visual *visual = DefaultVisual (s->dpy, scr);
  int depth = DefaultDepth (s->dpy, scr);
  XImage *img;
  char *data;
  guint32 seed = 12345;

  if (depth < 24) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "full-motion needs depth 24");
    return FALSE;
  }
  data = g_malloc ((gsize) w * (gsize) h * 4);
  img = XCreateImage (s->dpy, visual, (unsigned) depth, ZPixmap, 0, data, (unsigned) w,
                      (unsigned) h, 32, 0);
  for (int y = 0; y < h; y++) {
    double fy = (double) y / h;
    for (int x = 0; x < w; x++) {
      double fx = (double) x / w;
      int grain, r, g, b;
      seed = seed * 1664525u + 1013904223u;
      grain = (int) (seed >> 27) * 3 - 24; /* -24 .. +69, fine texture */
      r = 128 + (int) (100 * sin (2 * G_PI * (3 * fx + 2 * fy))) + grain / 2;
      g = 128 + (int) (100 * sin (2 * G_PI * 5 * fx) * cos (2 * G_PI * 3 * fy)) + grain / 2;
      b = 128 + (int) (100 * cos (2 * G_PI * (2 * fx - 4 * fy))) + grain / 2;
      XPutPixel (img, x, y,
                 ((unsigned long) CLAMP (r, 0, 255) << 16) |
                 ((unsigned long) CLAMP (g, 0, 255) << 8) |
                 (unsigned long) CLAMP (b, 0, 255));
    }
  }
  s->picture = XCreatePixmap (s->dpy, s->win, (unsigned) (2 * w), (unsigned) (2 * h),
                              (unsigned) depth);
  for (int i = 0; i < 4; i++)
    XPutImage (s->dpy, s->picture, s->gc, img, 0, 0, (i % 2) * w, (i / 2) * h,
               (unsigned) w, (unsigned) h);
  XDestroyImage (img); /* frees data */
  /* Text labels on a grid, like a page of a document. */
  for (int y = 40; y < 2 * h; y += 64) {
    for (int x = 8; x < 2 * w; x += 160) {
      char label[32];
      int n = g_snprintf (label, sizeof label, "frame %d.%d", x % w, y % h);
      XSetForeground (s->dpy, s->gc, ((x / 160 + y / 64) % 2) ? s->black : s->white);
      XDrawString (s->dpy, s->picture, s->gc, x, y, label, n);
    }
  }
  XSync (s->dpy, False);
  return TRUE;
}

/* The picture pans diagonally and a box bounces, over the whole screen
 * or (video-window) in the window (x, y, w, h). */
static void
full_motion_step (Screen_ *s, guint64 frame, int x, int y, int w, int h)
{
  const int ox = (int) ((frame * 7) % (guint64) s->width);
  const int oy = (int) ((frame * 3) % (guint64) s->height);
  const int box = h / 4;
  const int bx = x + (int) ((frame * 11) % (guint64) MAX (1, w - box));
  const int by = y + (int) ((frame * 5) % (guint64) MAX (1, h - box));

  XCopyArea (s->dpy, s->picture, s->win, s->gc, ox, oy, (unsigned) w, (unsigned) h, x, y);
  XSetForeground (s->dpy, s->gc, s->white);
  XFillRectangle (s->dpy, s->win, s->gc, bx, by, (unsigned) box, (unsigned) box);
  paint_quiet_zones (s);
}

static gboolean
screen_open (Screen_ *s, GError **error)
{
  XSetWindowAttributes attrs = { 0 };
  int scr;

  s->dpy = XOpenDisplay (opt_display);
  if (!s->dpy) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open display %s",
                 opt_display ? opt_display : g_getenv ("DISPLAY"));
    return FALSE;
  }
  scr = DefaultScreen (s->dpy);
  s->width = DisplayWidth (s->dpy, scr);
  s->height = DisplayHeight (s->dpy, scr);
  if (s->width < (WR_STAMP_BLOCKS + 2) * opt_block || s->height < 8 * opt_block) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "screen %dx%d too small for %d px blocks", s->width, s->height, opt_block);
    return FALSE;
  }
  s->black = BlackPixel (s->dpy, scr);
  s->white = WhitePixel (s->dpy, scr);
  s->grey = alloc_colour (s, 0x8000, 0x8000, 0x8000);
  s->text_bg = alloc_colour (s, 0xf000, 0xf000, 0xe000);
  s->font = XLoadQueryFont (s->dpy, "-misc-fixed-medium-r-normal--20-*-*-*-*-*-iso8859-1");
  if (!s->font)
    s->font = XLoadQueryFont (s->dpy, "fixed");
  if (!s->font) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no X font 'fixed'");
    return FALSE;
  }

  attrs.override_redirect = True;
  attrs.background_pixel = s->grey;
  s->win = XCreateWindow (s->dpy, RootWindow (s->dpy, scr), 0, 0, (unsigned) s->width,
                          (unsigned) s->height, 0, CopyFromParent, InputOutput,
                          CopyFromParent, CWOverrideRedirect | CWBackPixel, &attrs);
  XStoreName (s->dpy, s->win, "webremote-bench-stamp");
  s->gc = XCreateGC (s->dpy, s->win, 0, NULL);
  XSetFont (s->dpy, s->gc, s->font->fid);
  XSetGraphicsExposures (s->dpy, s->gc, False);
  XMapRaised (s->dpy, s->win);
  XSync (s->dpy, False);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- paint the time on an X screen");
  g_autoptr (GError) error = NULL;
  Screen_ s = { 0 };
  Workload workload = WORKLOAD_STATIC;
  struct sigaction sa = { 0 };
  gint64 period_ns, next, sync_max_ns = 0, sync_sum_ns = 0;
  guint64 frame = 0, late = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("webremote-bench-stamp: %s\n", error->message);
    return 2;
  }
  if (!opt_workload || g_str_equal (opt_workload, "static"))
    workload = WORKLOAD_STATIC;
  else if (g_str_equal (opt_workload, "typing"))
    workload = WORKLOAD_TYPING;
  else if (g_str_equal (opt_workload, "full-motion"))
    workload = WORKLOAD_FULL_MOTION;
  else if (g_str_equal (opt_workload, "video-window"))
    workload = WORKLOAD_VIDEO_WINDOW;
  else {
    g_printerr ("webremote-bench-stamp: unknown workload %s\n", opt_workload);
    return 2;
  }
  if (opt_interval_ms < 1 || opt_interval_ms > 10000 || opt_fps < 1 || opt_fps > 240 ||
      opt_block < 2 || opt_block > 256) {
    g_printerr ("webremote-bench-stamp: --interval-ms, --fps or --block out of range\n");
    return 2;
  }
  if (!screen_open (&s, &error)) {
    g_printerr ("webremote-bench-stamp: %s\n", error->message);
    return 1;
  }

  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  paint_background (&s);
  if (opt_fixed) {
    guint64 v = g_ascii_strtoull (opt_fixed, NULL, 0);
    paint_stamp (&s, opt_block, stamp_top_y (), (guint32) v);
    paint_stamp (&s, opt_block, stamp_bottom_y (&s), (guint32) v);
    XSync (s.dpy, False);
    printf ("ready fixed %u\n", (guint32) v);
    fflush (stdout);
    while (!stop_requested)
      pause ();
    XCloseDisplay (s.dpy);
    return 0;
  }
  if (workload == WORKLOAD_TYPING)
    typing_init (&s);
  if ((workload == WORKLOAD_FULL_MOTION || workload == WORKLOAD_VIDEO_WINDOW) &&
      !full_motion_init (&s, &error)) {
    g_printerr ("webremote-bench-stamp: %s\n", error->message);
    return 1;
  }

  period_ns = workload == WORKLOAD_FULL_MOTION || workload == WORKLOAD_VIDEO_WINDOW
      ? G_GINT64_CONSTANT (1000000000) / opt_fps
      : (gint64) opt_interval_ms * 1000000;
  if (opt_jitter_us < 0)
    opt_jitter_us = (int) (period_ns / 4000);
  next = monotonic_ns ();

  while (!stop_requested) {
    guint32 now;
    gint64 t0, dt, now_ns;
    struct timespec ts;

    if (workload == WORKLOAD_TYPING)
      typing_step (&s);
    else if (workload == WORKLOAD_FULL_MOTION)
      full_motion_step (&s, frame, 0, 0, s.width, s.height);
    else if (workload == WORKLOAD_VIDEO_WINDOW)
      full_motion_step (&s, frame, s.width / 5, s.height * 3 / 20,
                        s.width * 3 / 5, s.height * 7 / 10);
    /* The workload's requests are executed before the stamp's: the X
     * server handles one client's requests in order. */
    XSync (s.dpy, False);
    now = (guint32) realtime_ms ();
    t0 = monotonic_ns ();
    paint_stamp (&s, opt_block, stamp_top_y (), now);
    paint_stamp (&s, opt_block, stamp_bottom_y (&s), now);
    XSync (s.dpy, False);
    dt = monotonic_ns () - t0;
    sync_sum_ns += dt;
    sync_max_ns = MAX (sync_max_ns, dt);
    if (frame == 0) {
      printf ("ready\n");
      fflush (stdout);
    }
    frame++;

    next += period_ns;
    if (opt_jitter_us > 0)
      next += (gint64) g_random_int_range (-opt_jitter_us, opt_jitter_us + 1) * 1000;
    now_ns = monotonic_ns ();
    if (next < now_ns) {
      /* Fell behind (a busy machine): skip, do not burst. */
      late++;
      next = now_ns + period_ns;
    }
    ts.tv_sec = (time_t) (next / 1000000000);
    ts.tv_nsec = (long) (next % 1000000000);
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
           !stop_requested)
      ;
  }
  printf ("frames %" G_GUINT64_FORMAT " late %" G_GUINT64_FORMAT
          " stamp_sync_avg_us %.0f stamp_sync_max_us %.0f\n",
          frame, late, frame ? sync_sum_ns / 1e3 / frame : 0.0, sync_max_ns / 1e3);
  fflush (stdout);
  XCloseDisplay (s.dpy);
  return 0;
}
