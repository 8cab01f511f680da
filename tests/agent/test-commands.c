/* Signed, allowlisted commands (docs/security.md, "Commands"): the real
 * webremote-agent binary against a fake gateway in this process that
 * signs command envelopes with the key the agent trusts, or tampers with
 * them, replays them, lets them expire, or names what the agent's own
 * configuration does not allow. Needs Xvfb and x264enc (a command needs a
 * live session, and a session streams).
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "common/autocleanups.h"
#include "common/command-envelope.h"
#include "common/crypto.h"
#include "common/protocol.h"
#include "fake-gateway.h"

#define AGENT_ID "command-test-agent"

typedef struct {
  WrFakeGateway gw;
  char *marks;    /* a directory every user may write to */
  gint64 seq;     /* the last seq signed for "s-cmd" */
} Fixture;

static const char *const view_command[] = { "view", "command", NULL };
static const char *const view_only[] = { "view", NULL };

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *script = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *grant = NULL;
  g_autofree char *grant2 = NULL;
  g_autoptr (JsonObject) offer = NULL;

  f->gw.dir = g_dir_make_tmp ("wr-commands-XXXXXX", NULL);
  /* Commands run as nobody when the agent is root. */
  g_assert_cmpint (g_chmod (f->gw.dir, 0755), ==, 0);
  f->marks = g_build_filename (f->gw.dir, "marks", NULL);
  g_assert_cmpint (g_mkdir (f->marks, 0777), ==, 0);
  g_assert_cmpint (g_chmod (f->marks, 0777), ==, 0);
  script = g_build_filename (f->gw.dir, "show-args", NULL);
  g_assert_true (g_file_set_contents (script,
          "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n",
          -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);

  conf = g_strdup_printf (
      "[command show-args]\nprogram=%s\nargs=.*\nmax-args=4\n\n"
      "[command touch]\nprogram=/usr/bin/touch\nargs=%s/[a-z-]+\n\n"
      "[command sleep]\nprogram=/usr/bin/sleep\nargs=[0-9]+\n"
      "timeout-ms=500\n\n"
      "[command yes]\nprogram=/usr/bin/yes\nmax-output=1000\n\n"
      "[command id]\nprogram=/usr/bin/id\nargs=-[ug]\n\n"
      "[command env]\nprogram=/usr/bin/env\n\n"
      "[command pwd]\nprogram=/usr/bin/pwd\n\n",
      script, f->marks);
  wr_fake_gateway_setup (&f->gw, AGENT_ID, conf);

  grant = wr_fake_gateway_grant (&f->gw, f->gw.key, "s-cmd", view_command);
  wr_fake_gateway_start_session (&f->gw, "s-cmd", grant);
  grant2 = wr_fake_gateway_grant (&f->gw, f->gw.key, "s-view", view_only);
  wr_fake_gateway_start_session (&f->gw, "s-view", grant2);
  offer = wr_fake_gateway_take (&f->gw, "sdp.offer", "s-cmd", 10000);
  if (!offer) {
    g_autofree char *log = wr_fake_gateway_agent_log (&f->gw);
    g_error ("the command session did not start; agent log:\n%s", log);
  }
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_fake_gateway_teardown (&f->gw);
  g_free (f->marks);
}

typedef struct {
  const char *sid;
  const char *agent;
  gint64 seq;
  const char *nonce;
  gint64 exp;
  const char *name;
  const char *const *argv;
} Cmd;

static char *
sign (EVP_PKEY *key, const Cmd *c, const char *cid)
{
  g_autoptr (GError) error = NULL;
  WrCommandEnvelope e = {
    .sid = (char *) c->sid, .agent = (char *) c->agent, .seq = c->seq,
    .nonce = (char *) c->nonce, .exp = c->exp, .cid = (char *) cid,
    .name = (char *) c->name, .argv = (GStrv) c->argv,
  };
  char *token = wr_command_envelope_sign (key, &e, &error);

  g_assert_no_error (error);
  return token;
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* A good command for s-cmd: the next seq, a fresh nonce. */
static Cmd
good (Fixture *f, const char *name, const char *const *argv)
{
  g_autofree char *n = wr_random_token (16);
  /* Interned: lives as long as the test, and stays unique. */
  Cmd c = { "s-cmd", AGENT_ID, ++f->seq, g_intern_string (n),
    now_s () + 30, name, argv };

  return c;
}

static void
send_exec (Fixture *f, const char *sid, const char *envelope,
    const char *id)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("command.exec");

  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "envelope");
  json_builder_add_string_value (b, envelope);
  wr_fake_gateway_send (&f->gw, b);
}

/* The error the agent answered @id with, within 5 s. */
static JsonObject *
take_error (Fixture *f, const char *id)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    for (GList *l = f->gw.received.head; l; l = l->next) {
      JsonObject *m = l->data;
      if (g_str_equal (wr_message_get_type (m), "error")
          && g_strcmp0 (wr_message_get_string (m, "ref"), id) == 0) {
        g_queue_delete_link (&f->gw.received, l);
        return m;
      }
    }
    wr_fake_gateway_run_for (10);
  }
  return NULL;
}

/* Collects the output of @cid until its command.exit (within @ms). */
static JsonObject *
collect (Fixture *f, const char *cid, GString *out, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    for (GList *l = f->gw.received.head; l; l = l->next) {
      JsonObject *m = l->data;
      const char *type = wr_message_get_type (m);
      if (g_strcmp0 (wr_message_get_string (m, "cid"), cid) != 0)
        continue;
      if (g_str_equal (type, "command.output")) {
        if (out)
          g_string_append (out, wr_message_get_string (m, "data"));
        json_object_unref (m);
        g_queue_delete_link (&f->gw.received, l);
        break;
      }
      if (g_str_equal (type, "command.exit")) {
        g_queue_delete_link (&f->gw.received, l);
        return m;
      }
    }
    wr_fake_gateway_run_for (5);
  }
  return NULL;
}

static char *
mark (Fixture *f, const char *name)
{
  return g_build_filename (f->marks, name, NULL);
}

static void
assert_refused (Fixture *f, const char *sid, const char *envelope,
    const char *id, const char *reason)
{
  g_autoptr (JsonObject) err = NULL;

  send_exec (f, sid, envelope, id);
  err = take_error (f, id);
  if (!err)
    g_error ("no error for %s", id);
  g_test_message ("%s: %s: %s", id, wr_message_get_string (err, "code"),
      wr_message_get_string (err, "message"));
  g_assert_true (g_str_has_prefix (wr_message_get_string (err, "message"),
          "command refused: "));
  g_assert_nonnull (strstr (wr_message_get_string (err, "message"),
          reason));
}

static char *
flip_signature (const char *token)
{
  char *copy = g_strdup (token);
  char *c = copy + strlen (copy) - 5;

  *c = *c == 'A' ? 'B' : 'A';
  return copy;
}

/* Tampered, forged, replayed, expired, for another agent or session,
 * without the command scope, not allowed, arguments not matching: each
 * refused with an error that refers to the message, and nothing runs. */
static void
test_refused_envelopes_run_nothing (Fixture *f, gconstpointer data)
{
  g_autofree char *m_good = mark (f, "good");
  const char *a_good[] = { m_good, NULL };
  Cmd first = good (f, "touch", a_good);
  g_autofree char *t_good = sign (f->gw.key, &first, "c-good");
  g_autoptr (JsonObject) exit = NULL;
  struct {
    const char *id;
    const char *sid;
    char *envelope;
    const char *reason;
    char *marker;
  } cases[12];
  guint n = 0;
  g_autofree char *log = NULL;

  /* The good one runs, once. */
  send_exec (f, "s-cmd", t_good, "c-good");
  exit = collect (f, "c-good", NULL, 5000);
  g_assert_nonnull (exit);
  g_assert_cmpint (wr_message_get_int (exit, "status", -2), ==, 0);
  g_assert_true (g_file_test (m_good, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_unlink (m_good), ==, 0);

#define CASE(ID, SID, ENV, REASON) \
  do { \
    cases[n].id = ID; cases[n].sid = SID; cases[n].envelope = ENV; \
    cases[n].reason = REASON; n++; \
  } while (0)
  {
    /* Each would touch marks/<id> if it ran. */
    static const char *const names[] = { "tampered", "forged", "expired",
      "wrong-agent", "other-session", "view-only", "not-allowed",
      "bad-argument", "same-nonce", "old-seq" };
    char *paths[G_N_ELEMENTS (names)];
    const char *argv[G_N_ELEMENTS (names)][2];
    Cmd c;

    for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
      paths[i] = mark (f, names[i]);
      argv[i][0] = paths[i];
      argv[i][1] = NULL;
    }
    c = good (f, "touch", argv[0]);
    {
      g_autofree char *t = sign (f->gw.key, &c, "c-tampered");
      CASE ("c-tampered", "s-cmd", flip_signature (t), "not signed");
    }
    c = good (f, "touch", argv[1]);
    CASE ("c-forged", "s-cmd", sign (f->gw.other, &c, "c-forged"),
        "not signed");
    c = good (f, "touch", argv[2]);
    c.exp = now_s () - 120;
    CASE ("c-expired", "s-cmd", sign (f->gw.key, &c, "c-expired"),
        "expired");
    c = good (f, "touch", argv[3]);
    c.agent = "another-agent";
    CASE ("c-wrong-agent", "s-cmd", sign (f->gw.key, &c, "c-wrong-agent"),
        "another agent");
    c = good (f, "touch", argv[4]);
    CASE ("c-other-session", "s-view", sign (f->gw.key, &c,
            "c-other-session"), "another session");
    c = good (f, "touch", argv[5]);
    c.sid = "s-view";
    CASE ("c-view-only", "s-view", sign (f->gw.key, &c, "c-view-only"),
        "no command scope");
    c = good (f, "rm", argv[6]);
    CASE ("c-not-allowed", "s-cmd", sign (f->gw.key, &c, "c-not-allowed"),
        "not a command this agent allows");
    {
      g_autofree char *outside = g_strdup ("/tmp/wr-outside-marks");
      const char *bad[] = { outside, NULL };
      c = good (f, "touch", bad);
      CASE ("c-bad-argument", "s-cmd", sign (f->gw.key, &c,
              "c-bad-argument"), "does not match");
    }
    /* Replays: the good envelope again, its nonce with a new seq, and an
     * old seq with a new nonce. */
    CASE ("c-replay", "s-cmd", g_strdup (t_good), "replayed");
    c = good (f, "touch", argv[8]);
    c.nonce = first.nonce;
    CASE ("c-same-nonce", "s-cmd", sign (f->gw.key, &c, "c-same-nonce"),
        "replayed");
    c = good (f, "touch", argv[9]);
    c.seq = 1;
    CASE ("c-old-seq", "s-cmd", sign (f->gw.key, &c, "c-old-seq"),
        "replayed");

    for (guint i = 0; i < n; i++)
      assert_refused (f, cases[i].sid, cases[i].envelope, cases[i].id,
          cases[i].reason);
    /* Anything that ran would have had time to touch its file. */
    wr_fake_gateway_run_for (500);
    g_assert_false (g_file_test (m_good, G_FILE_TEST_EXISTS));
    for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
      if (g_file_test (paths[i], G_FILE_TEST_EXISTS))
        g_error ("the %s command ran", names[i]);
      g_free (paths[i]);
    }
    for (guint i = 0; i < n; i++)
      g_free (cases[i].envelope);
  }
#undef CASE

  g_assert_null (wr_fake_gateway_take (&f->gw, "command.exit", NULL, 0));
  g_assert_null (wr_fake_gateway_take (&f->gw, "command.output", NULL, 0));
  g_assert_cmpuint (f->gw.invalid, ==, 0);
  log = wr_fake_gateway_agent_log (&f->gw);
  g_assert_null (strstr (log, t_good));
}

/* No shell: an argument with shell syntax is one literal argv entry. */
static void
test_argument_is_literal (Fixture *f, gconstpointer data)
{
  g_autofree char *victim = mark (f, "x");
  g_autofree char *sub = mark (f, "y");
  g_autofree char *a1 = g_strdup_printf ("; rm -rf %s", victim);
  g_autofree char *a2 = g_strdup_printf ("$(touch %s) `touch %s` | && >",
      sub, sub);
  const char *argv[] = { a1, a2, "*", NULL };
  Cmd c = good (f, "show-args", argv);
  g_autofree char *token = sign (f->gw.key, &c, "c-literal");
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (JsonObject) exit = NULL;
  g_autofree char *expected = NULL;

  g_assert_cmpint (g_mkdir (victim, 0755), ==, 0);
  send_exec (f, "s-cmd", token, "c-literal");
  exit = collect (f, "c-literal", out, 5000);
  g_assert_nonnull (exit);
  expected = g_strdup_printf ("[%s]\n[%s]\n[*]\n", a1, a2);
  g_assert_cmpstr (out->str, ==, expected);
  g_assert_cmpint (wr_message_get_int (exit, "status", -2), ==, 0);
  g_assert_true (g_file_test (victim, G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (sub, G_FILE_TEST_EXISTS));
}

static void
test_time_limit_kills (Fixture *f, gconstpointer data)
{
  const char *argv[] = { "30", NULL };
  Cmd c = good (f, "sleep", argv);
  g_autofree char *token = sign (f->gw.key, &c, "c-sleep");
  g_autoptr (JsonObject) exit = NULL;
  gint64 t0 = g_get_monotonic_time ();
  double took;

  send_exec (f, "s-cmd", token, "c-sleep");
  exit = collect (f, "c-sleep", NULL, 5000);
  took = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_nonnull (exit);
  g_test_message ("sleep 30 with a 500 ms limit ended after %.2f s", took);
  g_assert_true (wr_message_get_bool (exit, "timed_out", FALSE));
  g_assert_false (wr_message_get_bool (exit, "truncated", TRUE));
  g_assert_cmpint (wr_message_get_int (exit, "status", 0), ==, -1);
  g_assert_cmpint (wr_message_get_int (exit, "signal", 0), ==, 9);
  g_assert_cmpfloat (took, <, 1.5);
}

static void
test_output_limit_cuts (Fixture *f, gconstpointer data)
{
  Cmd c = good (f, "yes", NULL);
  g_autofree char *token = sign (f->gw.key, &c, "c-yes");
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (JsonObject) exit = NULL;

  send_exec (f, "s-cmd", token, "c-yes");
  exit = collect (f, "c-yes", out, 5000);
  g_assert_nonnull (exit);
  g_assert_cmpuint (out->len, ==, 1000);
  g_assert_true (g_str_has_prefix (out->str, "y\ny\ny\n"));
  g_assert_true (wr_message_get_bool (exit, "truncated", FALSE));
  g_assert_false (wr_message_get_bool (exit, "timed_out", TRUE));
  g_assert_cmpint (wr_message_get_int (exit, "signal", 0), ==, 9);
}

static char *
run_simple (Fixture *f, const char *name, const char *arg)
{
  const char *argv[] = { arg, NULL };
  Cmd c = good (f, name, arg ? argv : NULL);
  g_autofree char *cid = g_strdup_printf ("c-%s-%" G_GINT64_FORMAT, name,
      c.seq);
  g_autofree char *token = sign (f->gw.key, &c, cid);
  GString *out = g_string_new (NULL);
  g_autoptr (JsonObject) exit = NULL;

  send_exec (f, "s-cmd", token, cid);
  exit = collect (f, cid, out, 5000);
  g_assert_nonnull (exit);
  g_assert_cmpint (wr_message_get_int (exit, "status", -2), ==, 0);
  return g_string_free (out, FALSE);
}

/* As nobody when the agent is root (else as the agent's user), with only
 * PATH in the environment, in /. */
static void
test_unprivileged_clean_env (Fixture *f, gconstpointer data)
{
  g_autofree char *uid = run_simple (f, "id", "-u");
  g_autofree char *env = run_simple (f, "env", NULL);
  g_autofree char *pwd = run_simple (f, "pwd", NULL);
  g_autofree char *expected = NULL;

  if (geteuid () == 0)
    expected = g_strdup ("65534\n");   /* nobody on Debian */
  else
    expected = g_strdup_printf ("%u\n", (guint) geteuid ());
  g_assert_cmpstr (uid, ==, expected);
  g_assert_cmpstr (env, ==, "PATH=/usr/bin:/bin\n");
  g_assert_cmpstr (pwd, ==, "/\n");
}

static GLogFunc previous_log_handler;

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
  ADD ("/agent/commands/refused-envelopes-run-nothing",
      test_refused_envelopes_run_nothing);
  ADD ("/agent/commands/argument-is-one-literal-argv-entry",
      test_argument_is_literal);
  ADD ("/agent/commands/time-limit-kills", test_time_limit_kills);
  ADD ("/agent/commands/output-limit-cuts-and-says-so",
      test_output_limit_cuts);
  ADD ("/agent/commands/unprivileged-clean-environment",
      test_unprivileged_clean_env);
#undef ADD
  return g_test_run ();
}
