/* webremote-agent: the on-screen sign that a session is being recorded. */
#include "config.h"

#include "agent/recording-indicator.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>

#define WIDTH 440
#define HEIGHT 34
#define TOP 6
#define RAISE_INTERVAL_MS 1000
#define TEXT "REC   This session is being recorded"

struct _WrRecordingIndicator {
  char *display_name;
  Display *dpy;
  Window win;
  GC gc;
  XFontStruct *font;
  unsigned long red;
  unsigned long white;
  guint fd_watch;
  guint raise_id;
};

static unsigned long
color (Display *dpy, const char *name, unsigned long fallback)
{
  XColor exact, screen;

  if (XAllocNamedColor (dpy, DefaultColormap (dpy, DefaultScreen (dpy)),
          name, &screen, &exact))
    return screen.pixel;
  return fallback;
}

static void
draw (WrRecordingIndicator *ind)
{
  int text_y = HEIGHT / 2 + 5;
  int text_x = 40;

  XSetForeground (ind->dpy, ind->gc, ind->red);
  XFillRectangle (ind->dpy, ind->win, ind->gc, 0, 0, WIDTH, HEIGHT);
  XSetForeground (ind->dpy, ind->gc, ind->white);
  /* the "recording" dot */
  XFillArc (ind->dpy, ind->win, ind->gc, 14, HEIGHT / 2 - 8, 16, 16, 0,
      360 * 64);
  if (ind->font)
    text_y = (HEIGHT + ind->font->ascent - ind->font->descent) / 2;
  XDrawString (ind->dpy, ind->win, ind->gc, text_x, text_y, TEXT,
      (int) strlen (TEXT));
  XFlush (ind->dpy);
}

static gboolean
on_x_events (gint fd, GIOCondition condition, gpointer user_data)
{
  WrRecordingIndicator *ind = user_data;

  while (XPending (ind->dpy)) {
    XEvent ev;
    XNextEvent (ind->dpy, &ev);
    if (ev.type == Expose && ev.xexpose.count == 0)
      draw (ind);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
raise_cb (gpointer user_data)
{
  WrRecordingIndicator *ind = user_data;

  XRaiseWindow (ind->dpy, ind->win);
  XFlush (ind->dpy);
  return G_SOURCE_CONTINUE;
}

WrRecordingIndicator *
wr_recording_indicator_new (const char *display, GError **error)
{
  WrRecordingIndicator *ind;
  XSetWindowAttributes attrs = { 0 };
  XClassHint class_hint = { (char *) "webremote", (char *) "webremote" };
  int screen, x;

  ind = g_new0 (WrRecordingIndicator, 1);
  ind->display_name = g_strdup (display);
  ind->dpy = XOpenDisplay (display);
  if (!ind->dpy) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot open X display %s", display);
    wr_recording_indicator_free (ind);
    return NULL;
  }
  screen = DefaultScreen (ind->dpy);
  ind->red = color (ind->dpy, "#c8102e", BlackPixel (ind->dpy, screen));
  ind->white = WhitePixel (ind->dpy, screen);
  x = MAX (0, (DisplayWidth (ind->dpy, screen) - WIDTH) / 2);

  /* Override-redirect: no window manager moves, decorates or hides it. */
  attrs.override_redirect = True;
  attrs.background_pixel = ind->red;
  attrs.border_pixel = ind->white;
  attrs.event_mask = ExposureMask;
  ind->win = XCreateWindow (ind->dpy, RootWindow (ind->dpy, screen), x, TOP,
      WIDTH, HEIGHT, 1, CopyFromParent, InputOutput, CopyFromParent,
      CWOverrideRedirect | CWBackPixel | CWBorderPixel | CWEventMask,
      &attrs);
  XStoreName (ind->dpy, ind->win, WR_RECORDING_INDICATOR_NAME);
  XSetClassHint (ind->dpy, ind->win, &class_hint);
  ind->gc = XCreateGC (ind->dpy, ind->win, 0, NULL);
  /* A bold font when the server has one; the server's default otherwise
   * (XLoadQueryFont reports a missing font with NULL, not an X error). */
  ind->font = XLoadQueryFont (ind->dpy,
      "-*-helvetica-bold-r-normal--18-*-*-*-*-*-iso8859-1");
  if (!ind->font)
    ind->font = XLoadQueryFont (ind->dpy, "9x15bold");
  if (!ind->font)
    ind->font = XLoadQueryFont (ind->dpy, "fixed");
  if (ind->font)
    XSetFont (ind->dpy, ind->gc, ind->font->fid);
  XMapRaised (ind->dpy, ind->win);
  XFlush (ind->dpy);

  ind->fd_watch = g_unix_fd_add (ConnectionNumber (ind->dpy), G_IO_IN,
      on_x_events, ind);
  ind->raise_id = g_timeout_add (RAISE_INTERVAL_MS, raise_cb, ind);
  on_x_events (ConnectionNumber (ind->dpy), G_IO_IN, ind);
  g_message ("display %s: showing the recording indicator", display);
  return ind;
}

void
wr_recording_indicator_free (WrRecordingIndicator *ind)
{
  if (!ind)
    return;
  g_clear_handle_id (&ind->fd_watch, g_source_remove);
  g_clear_handle_id (&ind->raise_id, g_source_remove);
  if (ind->dpy) {
    if (ind->font)
      XFreeFont (ind->dpy, ind->font);
    if (ind->gc)
      XFreeGC (ind->dpy, ind->gc);
    if (ind->win) {
      XDestroyWindow (ind->dpy, ind->win);
      g_message ("display %s: recording indicator removed",
          ind->display_name);
    }
    XCloseDisplay (ind->dpy);
  }
  g_free (ind->display_name);
  g_free (ind);
}
