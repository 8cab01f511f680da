/* SIGHUP reloads the agent's profiles file: the real webremote-agent
 * binary against the fake gateway of tests/agent. An invalid file keeps
 * the profile in use and says why in the log; a valid one changes what
 * the next capture pipeline streams, which a viewer sees in the offer (the
 * codec changes from H.264 to VP8). Needs Xvfb, x264enc and vp8enc. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "common/protocol.h"
#include "tests/agent/fake-gateway.h"

#define AGENT_ID "reload-agent"

static const char h264_profile[] =
    "[profile live]\n"
    "framerate = 15\n"
    "encoders = x264enc\n";

static const char broken_profile[] =
    "[profile live]\n"
    "encoders = x264enc\n"
    "framerate = 0\n";

static const char vp8_profile[] =
    "[profile live]\n"
    "framerate = 15\n"
    "encoders = vp8enc\n";

/* Waits up to @ms for @text in the agent's log. */
static gboolean
log_has (WrFakeGateway *gw, const char *text, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;

  do {
    g_autofree char *log = wr_fake_gateway_agent_log (gw);
    if (strstr (log, text))
      return TRUE;
    wr_fake_gateway_run_for (50);
  } while (g_get_monotonic_time () < deadline);
  return FALSE;
}

static guint
count_in_log (WrFakeGateway *gw, const char *text)
{
  g_autofree char *log = wr_fake_gateway_agent_log (gw);
  guint n = 0;

  for (const char *p = strstr (log, text); p; p = strstr (p + 1, text))
    n++;
  return n;
}

static char *
session_offer (WrFakeGateway *gw, const char *sid)
{
  static const char *const scopes[] = { "view", NULL };
  g_autofree char *grant = wr_fake_gateway_grant (gw, gw->key, sid, scopes);
  g_autoptr (JsonObject) offer = NULL;

  wr_fake_gateway_start_session (gw, sid, grant);
  offer = wr_fake_gateway_take (gw, "sdp.offer", sid, 10000);
  if (!offer) {
    g_autofree char *log = wr_fake_gateway_agent_log (gw);
    g_printerr ("# agent log:\n%s", log);
  }
  g_assert_nonnull (offer);
  return g_strdup (json_object_get_string_member (offer, "sdp"));
}

static void
end_session (WrFakeGateway *gw, const char *sid)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.end");
  guint stopped = count_in_log (gw, "capture stopped");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  wr_fake_gateway_send (gw, b);
  /* The last viewer left: the pipeline stops, the next one is new. */
  for (int i = 0; i < 100 && count_in_log (gw, "capture stopped") == stopped;
      i++)
    wr_fake_gateway_run_for (50);
  g_assert_cmpuint (count_in_log (gw, "capture stopped"), >, stopped);
}

static void
test_sighup_reloads_profiles (void)
{
  WrFakeGateway gw = { 0 };
  g_autofree char *profiles = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *sdp = NULL;
  g_autofree char *why = NULL;

  gw.dir = g_dir_make_tmp ("wr-reload-XXXXXX", NULL);
  profiles = g_build_filename (gw.dir, "profiles.conf", NULL);
  g_assert_true (g_file_set_contents (profiles, h264_profile, -1, NULL));
  conf = g_strdup_printf ("[agent]\nprofiles = %s\nprofile = live\n",
      profiles);
  wr_fake_gateway_setup (&gw, AGENT_ID, conf);

  sdp = session_offer (&gw, "s1");
  g_assert_nonnull (strstr (sdp, "H264/90000"));
  g_clear_pointer (&sdp, g_free);
  end_session (&gw, "s1");

  /* A broken file: refused, with the reason, and the old profile stays. */
  g_assert_true (g_file_set_contents (profiles, broken_profile, -1, NULL));
  g_subprocess_send_signal (gw.agent, SIGHUP);
  why = g_strdup_printf ("%s:3: [profile live] framerate: 0 is out of "
      "range 1..120", profiles);
  g_assert_true (log_has (&gw, "profiles not reloaded, keeping the old ones",
          5000));
  g_assert_true (log_has (&gw, why, 100));
  sdp = session_offer (&gw, "s2");
  g_assert_nonnull (strstr (sdp, "H264/90000"));
  g_clear_pointer (&sdp, g_free);
  end_session (&gw, "s2");

  /* A valid file: the next pipeline streams VP8. */
  g_assert_true (g_file_set_contents (profiles, vp8_profile, -1, NULL));
  g_subprocess_send_signal (gw.agent, SIGHUP);
  g_assert_true (log_has (&gw, "profile live: vp8enc (new capture "
          "pipelines", 5000));
  sdp = session_offer (&gw, "s3");
  g_assert_nonnull (strstr (sdp, "VP8/90000"));
  g_assert_null (strstr (sdp, "H264"));
  /* Still the same agent process. */
  g_assert_nonnull (g_subprocess_get_identifier (gw.agent));

  wr_fake_gateway_teardown (&gw);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pipelines/reload/sighup-keeps-old-on-error-then-applies",
      test_sighup_reloads_profiles);
  return g_test_run ();
}
