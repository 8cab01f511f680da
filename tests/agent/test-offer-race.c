/* Every session gets its sdp.offer, however sessions come and go: the real
 * webremote-agent binary against a fake gateway in this process (a libsoup
 * WSS server on loopback), with hundreds of rapid session starts in the
 * patterns that used to lose the offer:
 *
 * - two sessions back to back on a display that is not streaming yet (the
 *   first buffers flow while the peers are being linked);
 * - a viewer joining a display that already streams to another one, right
 *   as the previous joiner leaves;
 * - a new session right after the last one ended (a fresh pipeline).
 *
 * What went wrong before:
 * - A peer was linked to the tee before it could take data; a buffer in
 *   that window got FLUSHING, the tee passed it up and the capture thread
 *   stopped for good: that peer and every later one on the display never
 *   saw caps and never made an offer (~2% of starts at 120 fps).
 * - A leaving peer released webrtcbin's sink pad while its queue's thread
 *   was held in webrtcbin's pre-negotiation block; stopping that queue then
 *   hung the agent's main thread, and nothing was handled any more.
 * - Every ended peer's webrtcbin was leaked (a reference too many), with
 *   its ICE thread and sockets.
 *
 * The agent streams at its highest frame rate so that a race window is hit
 * quickly. No viewer answers: every peer stays before negotiation.
 *
 * Needs Xvfb and x264enc.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "common/autocleanups.h"
#include "common/crypto.h"
#include "common/grant.h"
#include "common/protocol.h"
#include "fake-gateway.h"

#define AGENT_ID "offer-race-agent"

/* What a viewer tolerates before it gives up on a session. */
#define OFFER_TIMEOUT_MS 3000

/* How many times each pattern runs: a start costs ~30 ms when all is well,
 * and each one is a chance to hit a race. */
#define COLD_ROUNDS 100
#define JOINERS 200
#define AGAIN_ROUNDS 40

typedef struct {
  WrFakeGateway gw;              /* shared with the other agent tests */
  guint starts;                  /* session.start messages sent */
  gint64 slowest_us;             /* slowest start -> offer */
} Fixture;

/* The end of the agent's log, for a failure message. */
static void
print_agent_log_tail (Fixture *f)
{
  g_autofree char *log = wr_fake_gateway_agent_log (&f->gw);
  gsize len = strlen (log);
  const char *tail = log + (len > 3000 ? len - 3000 : 0);

  g_printerr ("# the agent's log ends with:\n%s", tail);
}

/* How many entries /proc/PID/@what (task, fd) of the agent has. */
static guint
count_agent (Fixture *f, const char *what)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/%s",
      g_subprocess_get_identifier (f->gw.agent), what);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir))
    n++;
  return n;
}

static void
setup (Fixture *f, gconstpointer data)
{
  /* The highest frame rate: a race window is hit sooner. */
  wr_fake_gateway_setup (&f->gw, AGENT_ID, "[video]\nframerate=120\n");
  /* A longer watchdog than the fake gateway's: hundreds of starts. */
  alarm (60);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_fake_gateway_teardown (&f->gw);
}

/* ---- sessions ---- */

static void
send_start (Fixture *f, const char *sid)
{
  static const char *const scopes[] = { "view", "control", NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  WrGrant g = {
    .sid = (char *) sid, .user = (char *) "alice", .agent = (char *) AGENT_ID,
    .display = f->gw.first_display, .scopes = (GStrv) scopes,
    .iat = now, .exp = now + 300,
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *grant = wr_grant_sign (f->gw.key, &g, &error);
  g_autoptr (JsonBuilder) b = wr_message_new ("session.start");

  g_assert_no_error (error);
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, f->gw.first_display);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, "alice");
  json_builder_set_member_name (b, "scopes");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "view");
  json_builder_add_string_value (b, "control");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ice_servers");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "grant");
  json_builder_add_string_value (b, grant);
  wr_fake_gateway_send (&f->gw, b);
  f->starts++;
}

static void
send_end (Fixture *f, const char *sid)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.end");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, "viewer left");
  wr_fake_gateway_send (&f->gw, b);
}

/* @sid was started at @started_us (monotonic): its offer must arrive within
 * OFFER_TIMEOUT_MS of that, offer sendonly H.264 video and the input
 * channel, and the session must not have ended instead. */
static void
expect_offer (Fixture *f, const char *sid, gint64 started_us,
    const char *pattern)
{
  gint64 left_ms = OFFER_TIMEOUT_MS
      - (g_get_monotonic_time () - started_us) / 1000;
  g_autoptr (JsonObject) offer = wr_fake_gateway_take (&f->gw, "sdp.offer",
      sid, (guint) MAX (left_ms, 0));
  g_autoptr (JsonObject) ended = wr_fake_gateway_take (&f->gw,
      "session.ended", sid, 0);
  const char *sdp;

  if (!offer) {
    print_agent_log_tail (f);
    g_error ("%s: session %s (start #%u) got no sdp.offer within %d ms%s%s",
        pattern, sid, f->starts, OFFER_TIMEOUT_MS,
        ended ? "; it ended: " : "",
        ended ? wr_message_get_string (ended, "reason") : "");
  }
  g_assert_null (ended);
  f->slowest_us = MAX (f->slowest_us, g_get_monotonic_time () - started_us);
  sdp = wr_message_get_string (offer, "sdp");
  g_assert_nonnull (strstr (sdp, "m=video "));
  g_assert_nonnull (strstr (sdp, "H264/90000"));
  g_assert_nonnull (strstr (sdp, "a=sendonly"));
  g_assert_nonnull (strstr (sdp, "m=application "));
}

/* Waits until the latest agent.status reports @n peers in all: the
 * previous pattern's sessions are really gone (0: no pipeline left). The
 * offers of the sessions started before have arrived, so have the
 * statuses those starts caused. */
static void
wait_for_peers (Fixture *f, gint64 n)
{
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  gint64 peers = -1;

  for (;;) {
    JsonObject *status;

    while ((status = wr_fake_gateway_take (&f->gw, "agent.status", NULL,
                0))) {
      JsonArray *pipelines = json_object_get_array_member (status,
          "pipelines");
      peers = 0;
      for (guint i = 0; i < json_array_get_length (pipelines); i++)
        peers += json_object_get_int_member (
            json_array_get_object_element (pipelines, i), "peers");
      json_object_unref (status);
    }
    if (peers == n)
      return;
    if (g_get_monotonic_time () >= deadline) {
      print_agent_log_tail (f);
      g_error ("3 s after the sessions ended the agent still reports %"
          G_GINT64_FORMAT " peer(s), not %" G_GINT64_FORMAT " (is it stuck?)",
          peers, n);
    }
    wr_fake_gateway_run_for (5);
  }
}

static void
test_rapid_sessions_all_get_offers (Fixture *f, gconstpointer data)
{
  g_autofree char *log = NULL;
  guint joiner = 0, threads, fds;
  gint64 t_cold = g_get_monotonic_time (), t_joins, t_again;

  /* 1. Two at once on a display that is not streaming yet; then both
   * leave, which stops the pipeline. */
  for (guint round = 0; round < COLD_ROUNDS; round++) {
    g_autofree char *a = g_strdup_printf ("cold-%u-a", round);
    g_autofree char *b = g_strdup_printf ("cold-%u-b", round);
    gint64 t0 = g_get_monotonic_time ();

    send_start (f, a);
    send_start (f, b);
    expect_offer (f, a, t0, "two back to back on a fresh pipeline");
    expect_offer (f, b, t0, "two back to back on a fresh pipeline");
    send_end (f, a);
    send_end (f, b);
    wait_for_peers (f, 0);
  }

  /* 2. A viewer stays; others join one after the other, each right as the
   * previous joiner leaves (the leave just before or just after the
   * join). */
  t_joins = g_get_monotonic_time ();
  {
    gint64 t0 = g_get_monotonic_time ();
    send_start (f, "anchor");
    expect_offer (f, "anchor", t0, "first viewer");
  }
  for (; joiner < JOINERS; joiner++) {
    g_autofree char *sid = g_strdup_printf ("join-%u", joiner);
    g_autofree char *prev = joiner > 0
        ? g_strdup_printf ("join-%u", joiner - 1) : NULL;
    gint64 t0;

    if (joiner > 0 && joiner % 2 == 0)
      send_end (f, prev);
    t0 = g_get_monotonic_time ();
    send_start (f, sid);
    if (joiner > 0 && joiner % 2 == 1)
      send_end (f, prev);
    expect_offer (f, sid, t0, "joining a streaming display as one leaves");
  }

  /* 3. Everyone leaves; a new viewer comes right away (a fresh pipeline
   * each time); at last two at once again. */
  t_again = g_get_monotonic_time ();
  {
    g_autofree char *prev = g_strdup_printf ("join-%u", joiner - 1);
    send_end (f, prev);
    send_end (f, "anchor");
  }
  for (guint round = 0; round < AGAIN_ROUNDS; round++) {
    g_autofree char *sid = g_strdup_printf ("again-%u", round);
    gint64 t0 = g_get_monotonic_time ();

    wait_for_peers (f, 0);
    send_start (f, sid);
    expect_offer (f, sid, t0, "a new viewer right after the last left");
    send_end (f, sid);
  }
  {
    gint64 t0 = g_get_monotonic_time ();
    wait_for_peers (f, 0);
    send_start (f, "last-a");
    send_start (f, "last-b");
    expect_offer (f, "last-a", t0, "two at once after the last left");
    expect_offer (f, "last-b", t0, "two at once after the last left");
  }

  g_test_message ("phases took %.1f %.1f %.1f s", (t_joins - t_cold) / 1e6,
      (t_again - t_joins) / 1e6, (g_get_monotonic_time () - t_again) / 1e6);
  g_test_message ("%u session starts, the slowest offer took %" G_GINT64_FORMAT
      " ms", f->starts, f->slowest_us / 1000);
  g_assert_cmpuint (f->starts, ==,
      2 * COLD_ROUNDS + 1 + JOINERS + AGAIN_ROUNDS + 2);
  g_assert_cmpuint (f->gw.invalid, ==, 0);
  log = wr_fake_gateway_agent_log (&f->gw);
  g_assert_null (strstr (log, "no offer after"));
  g_assert_nonnull (g_subprocess_get_identifier (f->gw.agent));

  /* Hundreds of ended peers left nothing behind: two sessions stream now
   * (about 15 threads and 20 descriptors; a leaked peer costs ~2 threads
   * and ~4 descriptors). */
  threads = count_agent (f, "task");
  fds = count_agent (f, "fd");
  g_test_message ("the agent has %u threads and %u descriptors", threads,
      fds);
  g_assert_cmpuint (threads, <, 60);
  g_assert_cmpuint (fds, <, 80);
}

static GLogFunc previous_log_handler;

/* GTest prints every g_debug() as a TAP comment; libsoup's drown the log. */
static void
quiet_log_handler (const char *domain, GLogLevelFlags level,
    const char *message, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return;
  previous_log_handler (domain, level, message, user_data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  previous_log_handler = g_log_set_default_handler (quiet_log_handler, NULL);

  g_test_add ("/agent/sessions/rapid-starts-and-leaves-all-get-offers",
      Fixture, NULL, setup, test_rapid_sessions_all_get_offers, teardown);

  return g_test_run ();
}
