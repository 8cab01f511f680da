/* webremote-agent: synthetic input on one X display through XTest. */
#include "config.h"

#include "agent/input-injector.h"

#include <gio/gio.h>
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>

struct _WrInputInjector {
  Display *dpy;
  int screen;
  int min_keycode;
  int max_keycode;
};

WrInputInjector *
wr_input_injector_open (const char *display, GError **error)
{
  g_autoptr (WrInputInjector) self = g_new0 (WrInputInjector, 1);
  int event_base, error_base, major, minor;

  self->dpy = XOpenDisplay (display);
  if (!self->dpy) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot open X display %s", display);
    return NULL;
  }
  if (!XTestQueryExtension (self->dpy, &event_base, &error_base, &major,
          &minor)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "X display %s has no XTEST extension", display);
    return NULL;
  }
  self->screen = DefaultScreen (self->dpy);
  XDisplayKeycodes (self->dpy, &self->min_keycode, &self->max_keycode);
  return g_steal_pointer (&self);
}

void
wr_input_injector_free (WrInputInjector *self)
{
  if (!self)
    return;
  if (self->dpy)
    XCloseDisplay (self->dpy);
  g_free (self);
}

void
wr_input_injector_get_screen_size (WrInputInjector *self, int *width,
    int *height)
{
  *width = DisplayWidth (self->dpy, self->screen);
  *height = DisplayHeight (self->dpy, self->screen);
}

void
wr_input_injector_motion (WrInputInjector *self, int x, int y)
{
  XTestFakeMotionEvent (self->dpy, self->screen, x, y, CurrentTime);
  XFlush (self->dpy);
}

void
wr_input_injector_button (WrInputInjector *self, guint button, gboolean down)
{
  XTestFakeButtonEvent (self->dpy, button, down ? True : False, CurrentTime);
  XFlush (self->dpy);
}

void
wr_input_injector_key (WrInputInjector *self, guint keycode, gboolean down)
{
  XTestFakeKeyEvent (self->dpy, keycode, down ? True : False, CurrentTime);
  XFlush (self->dpy);
}

gboolean
wr_input_injector_has_keycode (WrInputInjector *self, guint keycode)
{
  return (int) keycode >= self->min_keycode
      && (int) keycode <= self->max_keycode;
}
