/* The agent enforces session grants: the real webremote-agent binary
 * against a fake gateway in this process (a libsoup WSS server on
 * loopback) that sends session.start and session.grant with good and bad
 * grants, signed here with a key the agent is told to trust.
 *
 * Needs Xvfb and x264enc: the sessions that are accepted really stream.
 */
#include "config.h"

#include <string.h>

#include "common/autocleanups.h"
#include "common/crypto.h"
#include "common/grant.h"
#include "common/protocol.h"
#include "fake-gateway.h"

#define AGENT_ID "grant-test-agent"

/* The fake gateway is shared with the other agent tests. */
typedef WrFakeGateway Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  wr_fake_gateway_setup (f, AGENT_ID, "");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_fake_gateway_teardown (f);
}

/* ---- grants ---- */

static char *
make_grant (EVP_PKEY *key, const char *sid, const char *agent,
    const char *display, const char *const *scopes, gint64 iat, gint64 exp)
{
  WrGrant g = {
    .sid = (char *) sid, .user = (char *) "alice", .agent = (char *) agent,
    .display = (char *) display, .scopes = (GStrv) scopes,
    .iat = iat, .exp = exp,
  };
  g_autoptr (GError) error = NULL;
  char *token = wr_grant_sign (key, &g, &error);

  g_assert_no_error (error);
  return token;
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static const char *const view[] = { "view", NULL };
static const char *const view_control[] = { "view", "control", NULL };

/* session.start whose own `scopes` field always claims control. */
static void
send_start (Fixture *f, const char *sid, const char *display,
    const char *grant)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.start");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, display);
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
  if (grant) {
    json_builder_set_member_name (b, "grant");
    json_builder_add_string_value (b, grant);
  }
  wr_fake_gateway_send (f, b);
}

static void
send_renewal (Fixture *f, const char *sid, const char *grant)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.grant");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "grant");
  json_builder_add_string_value (b, grant);
  wr_fake_gateway_send (f, b);
}

static char *
flip_payload_byte (const char *token)
{
  const char *dot = strchr (token, '.');
  g_autofree guint8 *payload = NULL;
  g_autofree char *p64 = NULL;
  gsize len = 0;
  char *hit;

  payload = wr_base64url_decode (token, (gsize) (dot - token), &len);
  g_assert_nonnull (payload);
  hit = g_strstr_len ((char *) payload, (gssize) len, "alice");
  g_assert_nonnull (hit);
  hit[0] = 'A';
  p64 = wr_base64url_encode (payload, len);
  return g_strconcat (p64, dot, NULL);
}

static char *
flip_signature_byte (const char *token)
{
  const char *dot = strchr (token, '.');
  g_autofree guint8 *sig = NULL;
  g_autofree char *s64 = NULL;
  g_autofree char *head = g_strndup (token, (gsize) (dot - token));
  gsize len = 0;

  sig = wr_base64url_decode (dot + 1, strlen (dot + 1), &len);
  g_assert_cmpuint (len, ==, 64);
  sig[31] ^= 0x80;
  s64 = wr_base64url_encode (sig, len);
  return g_strconcat (head, ".", s64, NULL);
}

/* No pipeline was ever started: every agent.status so far is empty. */
static void
assert_nothing_streams (Fixture *f)
{
  JsonObject *status;

  g_assert_null (wr_fake_gateway_take (f, "sdp.offer", NULL, 0));
  while ((status = wr_fake_gateway_take (f, "agent.status", NULL, 0))) {
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                status, "pipelines")), ==, 0);
    json_object_unref (status);
  }
}

static void
test_bad_grants_are_refused (Fixture *f, gconstpointer data)
{
  gint64 now = now_s ();
  const char *d = f->first_display;
  g_autofree char *good_view = make_grant (f->key, "s-tamper", AGENT_ID, d,
      view, now, now + 120);
  struct {
    const char *sid;
    char *grant;
    const char *reason;
  } cases[] = {
    { "s-forged", make_grant (f->other, "s-forged", AGENT_ID, d,
          view_control, now, now + 120), "not signed" },
    { "s-expired", make_grant (f->key, "s-expired", AGENT_ID, d,
          view_control, now - 300, now - 180), "expired" },
    { "s-future", make_grant (f->key, "s-future", AGENT_ID, d,
          view_control, now + 600, now + 720), "future" },
    { "s-wrong-agent", make_grant (f->key, "s-wrong-agent", "another-agent",
          d, view_control, now, now + 120), "another agent" },
    { "s-tamper", flip_payload_byte (good_view), "not signed" },
    { "s-tamper-sig", flip_signature_byte (good_view), "not signed" },
    { "s-other-sid", make_grant (f->key, "s-victim", AGENT_ID, d,
          view_control, now, now + 120), "another session" },
    { "s-other-display", make_grant (f->key, "s-other-display", AGENT_ID,
          ":4242", view_control, now, now + 120), "another display" },
    { "s-truncated", g_strndup (good_view, strlen (good_view) - 5),
      "grant refused" },
    { "s-garbage", g_strdup ("not-a.grant!"), "not base64url" },
  };
  g_autofree char *log = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    send_start (f, cases[i].sid, d, cases[i].grant);
  /* No grant at all: the protocol table refuses the message. */
  send_start (f, "s-none", d, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonObject) ended = wr_fake_gateway_take (f, "session.ended",
        cases[i].sid, 5000);
    const char *reason;

    if (!ended)
      g_error ("no session.ended for %s", cases[i].sid);
    reason = wr_message_get_string (ended, "reason");
    g_test_message ("%s: %s", cases[i].sid, reason);
    g_assert_true (g_str_has_prefix (reason, "grant refused: "));
    g_assert_nonnull (strstr (reason, cases[i].reason));
    g_free (cases[i].grant);
  }

  wr_fake_gateway_run_for (500);
  g_assert_null (wr_fake_gateway_take (f, "session.ended", "s-none", 0));
  assert_nothing_streams (f);
  g_assert_cmpuint (f->invalid, ==, 0);
  log = wr_fake_gateway_agent_log (f);
  g_assert_nonnull (strstr (log, "field 'grant' is required"));
  /* The agent is still there and serving. */
  g_assert_nonnull (g_subprocess_get_identifier (f->agent));
}

/* The scopes in force are the grant's: a session.start claiming control
 * with a view-only grant gets a view-only session. */
static void
test_scopes_come_from_the_grant (Fixture *f, gconstpointer data)
{
  gint64 now = now_s ();
  g_autofree char *grant = make_grant (f->key, "s-view", AGENT_ID,
      f->first_display, view, now, now + 120);
  g_autofree char *grant2 = make_grant (f->key, "s-control", AGENT_ID,
      f->first_display, view_control, now, now + 120);
  g_autoptr (JsonObject) offer = NULL;
  g_autoptr (JsonObject) offer2 = NULL;
  g_autofree char *log = NULL;

  send_start (f, "s-view", f->first_display, grant);
  offer = wr_fake_gateway_take (f, "sdp.offer", "s-view", 10000);
  g_assert_nonnull (offer);
  send_start (f, "s-control", f->first_display, grant2);
  offer2 = wr_fake_gateway_take (f, "sdp.offer", "s-control", 10000);
  g_assert_nonnull (offer2);
  log = wr_fake_gateway_agent_log (f);
  g_assert_nonnull (strstr (log, "session s-view: started for alice on"));
  g_assert_nonnull (strstr (log, "(view only)"));
  g_assert_nonnull (strstr (log, "(view and control)"));
  g_assert_null (strstr (log, grant));
}

/* A grant that runs out without renewal ends its session. */
static void
test_expiry_ends_the_session (Fixture *f, gconstpointer data)
{
  gint64 now = now_s ();
  /* Valid for ~2 more seconds, skew included. */
  gint64 exp = now - WR_GRANT_CLOCK_SKEW + 2;
  g_autofree char *grant = make_grant (f->key, "s-short", AGENT_ID,
      f->first_display, view_control, exp - 60, exp);
  g_autoptr (JsonObject) offer = NULL;
  g_autoptr (JsonObject) ended = NULL;
  gint64 t0;

  send_start (f, "s-short", f->first_display, grant);
  offer = wr_fake_gateway_take (f, "sdp.offer", "s-short", 10000);
  g_assert_nonnull (offer);
  g_assert_null (wr_fake_gateway_take (f, "session.ended", "s-short", 0));
  t0 = g_get_monotonic_time ();
  ended = wr_fake_gateway_take (f, "session.ended", "s-short", 8000);
  g_assert_nonnull (ended);
  g_test_message ("ended %.1f s after the offer: %s",
      (g_get_monotonic_time () - t0) / 1e6,
      wr_message_get_string (ended, "reason"));
  g_assert_cmpstr (wr_message_get_string (ended, "reason"), ==,
      "grant expired");
}

/* session.grant keeps a session alive past its first grant; a bad one
 * ends it at once. */
static void
test_renewal (Fixture *f, gconstpointer data)
{
  gint64 now = now_s ();
  gint64 exp = now - WR_GRANT_CLOCK_SKEW + 2;
  g_autofree char *grant = make_grant (f->key, "s-renew", AGENT_ID,
      f->first_display, view_control, exp - 60, exp);
  g_autofree char *fresh = make_grant (f->key, "s-renew", AGENT_ID,
      f->first_display, view_control, now, now + 120);
  g_autofree char *forged = make_grant (f->other, "s-renew", AGENT_ID,
      f->first_display, view_control, now, now + 120);
  g_autoptr (JsonObject) offer = NULL;
  g_autoptr (JsonObject) ended = NULL;

  send_start (f, "s-renew", f->first_display, grant);
  offer = wr_fake_gateway_take (f, "sdp.offer", "s-renew", 10000);
  g_assert_nonnull (offer);
  send_renewal (f, "s-renew", fresh);
  /* Well past the first grant's end. */
  g_assert_null (wr_fake_gateway_take (f, "session.ended", "s-renew", 5000));

  send_renewal (f, "s-renew", forged);
  ended = wr_fake_gateway_take (f, "session.ended", "s-renew", 3000);
  g_assert_nonnull (ended);
  g_test_message ("after a forged renewal: %s",
      wr_message_get_string (ended, "reason"));
  g_assert_true (g_str_has_prefix (wr_message_get_string (ended, "reason"),
          "grant refused: "));
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

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/agent/grants/forged-expired-wrong-agent-tampered-are-refused",
      test_bad_grants_are_refused);
  ADD ("/agent/grants/scopes-come-from-the-grant",
      test_scopes_come_from_the_grant);
  ADD ("/agent/grants/expiry-without-renewal-ends-the-session",
      test_expiry_ends_the_session);
  ADD ("/agent/grants/renewal-extends-and-a-bad-renewal-ends",
      test_renewal);
#undef ADD

  return g_test_run ();
}
