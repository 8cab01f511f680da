/* Command envelopes: what the gateway signs, only the gateway's key can
 * make, for one agent, for a short while (common/command-envelope.h). */
#include "config.h"

#include <string.h>

#include "common/autocleanups.h"
#include "common/command-envelope.h"
#include "common/crypto.h"
#include "common/grant.h"

#define NOW ((gint64) 1700000000)

static const char *const args[] = { "-l", "; rm -rf /tmp/x", "", NULL };

static WrCommandEnvelope
make (void)
{
  WrCommandEnvelope e = {
    .sid = (char *) "s-1", .agent = (char *) "agent-1", .seq = 7,
    .nonce = (char *) "n0nce", .exp = NOW + WR_COMMAND_LIFETIME_S,
    .cid = (char *) "c-1", .name = (char *) "uptime",
    .argv = (GStrv) args,
  };
  return e;
}

static char *
sign (EVP_PKEY *key, const WrCommandEnvelope *e)
{
  g_autoptr (GError) error = NULL;
  char *token = wr_command_envelope_sign (key, e, &error);

  g_assert_no_error (error);
  g_assert_nonnull (token);
  return token;
}

static void
assert_refused (EVP_PKEY *pub, const char *token, const char *agent,
    gint64 now, WrCommandEnvelopeError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrCommandEnvelope) got = wr_command_envelope_verify (pub,
      token, agent, now, &error);

  g_assert_null (got);
  g_assert_error (error, WR_COMMAND_ENVELOPE_ERROR, (gint) code);
  /* The message never quotes the token. */
  if (token && strlen (token) > 20)
    g_assert_null (strstr (error->message, token));
}

static void
test_round_trip (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (key, &e);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrCommandEnvelope) got = wr_command_envelope_verify (key,
      token, "agent-1", NOW, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (got->sid, ==, "s-1");
  g_assert_cmpstr (got->agent, ==, "agent-1");
  g_assert_cmpint (got->seq, ==, 7);
  g_assert_cmpstr (got->nonce, ==, "n0nce");
  g_assert_cmpint (got->exp, ==, NOW + WR_COMMAND_LIFETIME_S);
  g_assert_cmpstr (got->cid, ==, "c-1");
  g_assert_cmpstr (got->name, ==, "uptime");
  g_assert_cmpuint (g_strv_length (got->argv), ==, 3);
  g_assert_cmpstr (got->argv[1], ==, "; rm -rf /tmp/x");
  g_assert_cmpstr (got->argv[2], ==, "");
}

static char *
tamper_payload (const char *token, const char *from, const char *to)
{
  const char *dot = strchr (token, '.');
  g_autofree guint8 *payload = NULL;
  g_autofree char *text = NULL;
  g_autofree char *p64 = NULL;
  gsize len = 0;
  GString *s;

  payload = wr_base64url_decode (token, (gsize) (dot - token), &len);
  text = g_strndup ((char *) payload, len);
  g_assert_nonnull (strstr (text, from));
  s = g_string_new (text);
  g_string_replace (s, from, to, 1);
  p64 = wr_base64url_encode ((guint8 *) s->str, s->len);
  g_string_free (s, TRUE);
  return g_strconcat (p64, dot, NULL);
}

static void
test_tampered (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (key, &e);
  g_autofree char *other_name = tamper_payload (token, "uptime", "reboot");
  g_autofree char *other_arg = tamper_payload (token, "-l", "-r");
  g_autofree char *other_seq = tamper_payload (token, "\"seq\":7",
      "\"seq\":8");
  g_autofree char *sig_flip = g_strdup (token);
  char *last = sig_flip + strlen (sig_flip) - 3;

  *last = *last == 'A' ? 'B' : 'A';
  assert_refused (key, other_name, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE);
  assert_refused (key, other_arg, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE);
  assert_refused (key, other_seq, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE);
  assert_refused (key, sig_flip, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE);
}

static void
test_wrong_key (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  g_autoptr (EVP_PKEY) other = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (other, &e);

  assert_refused (key, token, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE);
}

/* A session grant signed by the same key is no command, and the other way
 * round: the domain-separation prefixes differ. */
static void
test_grant_is_not_a_command (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (key, &e);
  const char *const scopes[] = { "view", NULL };
  WrGrant g = { .sid = (char *) "s-1", .user = (char *) "u",
    .agent = (char *) "agent-1", .display = (char *) ":0",
    .scopes = (GStrv) scopes, .iat = NOW, .exp = NOW + 60 };
  g_autofree char *grant = wr_grant_sign (key, &g, NULL);
  g_autoptr (GError) error = NULL;

  assert_refused (key, grant, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE);
  g_assert_null (wr_grant_verify (key, token, "agent-1", NOW, &error));
  g_assert_error (error, WR_GRANT_ERROR, WR_GRANT_ERROR_BAD_SIGNATURE);
}

static void
test_expired (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (key, &e);
  g_autofree char *far = NULL;
  g_autoptr (WrCommandEnvelope) ok = NULL;

  /* Within the skew: fine; one second past it: expired. */
  ok = wr_command_envelope_verify (key, token, "agent-1",
      e.exp + WR_COMMAND_CLOCK_SKEW, NULL);
  g_assert_nonnull (ok);
  assert_refused (key, token, "agent-1", e.exp + WR_COMMAND_CLOCK_SKEW + 1,
      WR_COMMAND_ENVELOPE_ERROR_EXPIRED);
  /* Valid for a day: refused too, whoever signed it. */
  e.exp = NOW + 86400;
  far = sign (key, &e);
  assert_refused (key, far, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_EXPIRED);
}

static void
test_wrong_agent (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (key, &e);

  assert_refused (key, token, "agent-2", NOW,
      WR_COMMAND_ENVELOPE_ERROR_WRONG_AGENT);
}

static void
test_truncated_and_garbage (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  WrCommandEnvelope e = make ();
  g_autofree char *token = sign (key, &e);
  g_autofree char *cut = g_strndup (token, strlen (token) - 4);
  g_autofree char *head = g_strndup (token, (gsize) (strchr (token, '.')
          - token));
  g_autofree char *two_dots = g_strconcat (token, ".x", NULL);

  assert_refused (key, cut, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  assert_refused (key, head, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  assert_refused (key, two_dots, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  assert_refused (key, "", "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  assert_refused (key, "!!.??", "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  assert_refused (key, NULL, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
}

static void
test_oversized (void)
{
  g_autoptr (EVP_PKEY) key = wr_grant_key_generate (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_strnfill (WR_COMMAND_MAX_TOKEN_SIZE + 10, 'A');
  g_autofree char *long_arg = g_strnfill (WR_COMMAND_MAX_ARG_LEN + 1, 'a');
  g_autofree char *arg = g_strnfill (WR_COMMAND_MAX_ARG_LEN, '"');
  const char *too_long[] = { long_arg, NULL };
  const char *many[WR_COMMAND_MAX_ARGS + 2] = { NULL };
  const char *quotes[WR_COMMAND_MAX_ARGS + 1] = { NULL };
  WrCommandEnvelope e = make ();
  char *token;

  /* Not even parsed. */
  big[100] = '.';
  assert_refused (key, big, "agent-1", NOW,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);

  e.argv = (GStrv) too_long;
  token = wr_command_envelope_sign (key, &e, &error);
  g_assert_null (token);
  g_assert_error (error, WR_COMMAND_ENVELOPE_ERROR,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  g_clear_error (&error);

  for (int i = 0; i < WR_COMMAND_MAX_ARGS + 1; i++)
    many[i] = "x";
  e.argv = (GStrv) many;
  token = wr_command_envelope_sign (key, &e, &error);
  g_assert_null (token);
  g_assert_error (error, WR_COMMAND_ENVELOPE_ERROR,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Every argument within bounds, but escaped JSON too large to fit in a
   * message: refused at signing, not sent. */
  for (int i = 0; i < WR_COMMAND_MAX_ARGS; i++)
    quotes[i] = arg;
  e.argv = (GStrv) quotes;
  token = wr_command_envelope_sign (key, &e, &error);
  g_assert_null (token);
  g_assert_error (error, WR_COMMAND_ENVELOPE_ERROR,
      WR_COMMAND_ENVELOPE_ERROR_MALFORMED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/command-envelope/round-trip", test_round_trip);
  g_test_add_func ("/common/command-envelope/tampered", test_tampered);
  g_test_add_func ("/common/command-envelope/wrong-key", test_wrong_key);
  g_test_add_func ("/common/command-envelope/grant-is-not-a-command",
      test_grant_is_not_a_command);
  g_test_add_func ("/common/command-envelope/expired", test_expired);
  g_test_add_func ("/common/command-envelope/wrong-agent", test_wrong_agent);
  g_test_add_func ("/common/command-envelope/truncated-and-garbage",
      test_truncated_and_garbage);
  g_test_add_func ("/common/command-envelope/oversized", test_oversized);
  return g_test_run ();
}
