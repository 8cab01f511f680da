/* The agent's on-screen recording indicator: while a session's signed
 * grant carries the `record` scope, an override-redirect window named
 * "webremote-recording-indicator" is mapped on that display; it goes when
 * no recorded session is left. The real agent binary against the fake
 * gateway, on Xvfb; the test looks at the X server as a user would. */
#include "config.h"

#include <X11/Xlib.h>
#include <string.h>

#include "common/protocol.h"
#include "fake-gateway.h"

#define AGENT_ID "indicator-test-agent"
#define INDICATOR "webremote-recording-indicator"

static const char *const view_only[] = { "view", NULL };
static const char *const view_record[] = { "view", "record", NULL };

typedef struct {
  gboolean found;
  gboolean viewable;
  gboolean override_redirect;
  int x, y, width;
} Seen;

static void
find_window (Display *dpy, Window w, Seen *seen)
{
  Window root, parent, *children = NULL;
  unsigned int n = 0;
  char *name = NULL;

  if (XFetchName (dpy, w, &name) && name) {
    if (strcmp (name, INDICATOR) == 0) {
      XWindowAttributes a;
      seen->found = TRUE;
      if (XGetWindowAttributes (dpy, w, &a)) {
        seen->viewable = a.map_state == IsViewable;
        seen->override_redirect = a.override_redirect;
        seen->x = a.x;
        seen->y = a.y;
        seen->width = a.width;
      }
    }
    XFree (name);
  }
  if (XQueryTree (dpy, w, &root, &parent, &children, &n)) {
    for (unsigned int i = 0; i < n; i++)
      find_window (dpy, children[i], seen);
    if (children)
      XFree (children);
  }
}

static Seen
look (WrFakeGateway *f)
{
  Seen seen = { 0 };
  Display *dpy = XOpenDisplay (f->display);

  g_assert_nonnull (dpy);
  find_window (dpy, DefaultRootWindow (dpy), &seen);
  XCloseDisplay (dpy);
  return seen;
}

static gboolean
wait_for (WrFakeGateway *f, gboolean shown, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;) {
    Seen s = look (f);
    if (shown ? (s.found && s.viewable) : !s.found)
      return TRUE;
    if (g_get_monotonic_time () >= end)
      return FALSE;
    wr_fake_gateway_run_for (100);
  }
}

static void
start (WrFakeGateway *f, const char *sid, const char *const *scopes)
{
  g_autofree char *grant = wr_fake_gateway_grant (f, f->key, sid, scopes);
  g_autoptr (JsonObject) offer = NULL;

  wr_fake_gateway_start_session (f, sid, grant);
  offer = wr_fake_gateway_take (f, "sdp.offer", sid, 10000);
  if (!offer) {
    g_autofree char *log = wr_fake_gateway_agent_log (f);
    g_error ("session %s did not start; agent log:\n%s", sid, log);
  }
}

static void
end (WrFakeGateway *f, const char *sid)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.end");
  g_autoptr (JsonObject) ended = NULL;

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  wr_fake_gateway_send (f, b);
  ended = wr_fake_gateway_take (f, "session.ended", sid, 5000);
}

static void
test_indicator (void)
{
  WrFakeGateway f = { 0 };
  Seen s;

  wr_fake_gateway_setup (&f, AGENT_ID, "[video]\nframerate=15\n");
  g_assert_false (look (&f).found);

  /* A session without the record scope: no indicator. */
  start (&f, "s-view", view_only);
  wr_fake_gateway_run_for (1000);
  g_assert_false (look (&f).found);

  /* A recorded one: shown, mapped, on top at the top centre. */
  start (&f, "s-rec", view_record);
  if (!wait_for (&f, TRUE, 5000)) {
    g_autofree char *log = wr_fake_gateway_agent_log (&f);
    g_error ("no mapped indicator window within 5 s; agent log:\n%s", log);
  }
  s = look (&f);
  g_assert_true (s.override_redirect);
  g_assert_cmpint (s.y, <, 50);
  g_assert_cmpint (ABS (s.x + s.width / 2 - 320), <=, 2);  /* 640 wide */

  /* Ending the unrecorded session changes nothing. */
  end (&f, "s-view");
  wr_fake_gateway_run_for (500);
  g_assert_true (look (&f).viewable);

  /* The last recorded session ends: gone. */
  end (&f, "s-rec");
  g_assert_true (wait_for (&f, FALSE, 5000));

  /* Two recorded sessions: it stays until both ended. */
  start (&f, "s-rec2", view_record);
  start (&f, "s-rec3", view_record);
  g_assert_true (wait_for (&f, TRUE, 5000));
  end (&f, "s-rec2");
  wr_fake_gateway_run_for (500);
  g_assert_true (look (&f).viewable);
  end (&f, "s-rec3");
  g_assert_true (wait_for (&f, FALSE, 5000));

  wr_fake_gateway_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/recording-indicator", test_indicator);
  return g_test_run ();
}
