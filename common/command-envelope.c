/* webremote: command envelopes, Ed25519-signed by the gateway. */
#include "config.h"

#include "common/command-envelope.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/err.h>

#include "common/autocleanups.h"
#include "common/crypto.h"
#include "common/json-builder.h"

G_DEFINE_QUARK (wr-command-envelope-error-quark, wr_command_envelope_error)

#define ED25519_SIG_LEN 64

void
wr_command_envelope_free (WrCommandEnvelope *env)
{
  if (!env)
    return;
  g_free (env->sid);
  g_free (env->agent);
  g_free (env->nonce);
  g_free (env->cid);
  g_free (env->name);
  g_strfreev (env->argv);
  g_free (env);
}

const char *
wr_command_envelope_error_reason (WrCommandEnvelopeError code)
{
  switch (code) {
    case WR_COMMAND_ENVELOPE_ERROR_MALFORMED: return "malformed";
    case WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE: return "bad signature";
    case WR_COMMAND_ENVELOPE_ERROR_EXPIRED: return "expired";
    case WR_COMMAND_ENVELOPE_ERROR_WRONG_AGENT: return "wrong agent";
    case WR_COMMAND_ENVELOPE_ERROR_REPLAYED: return "replayed";
    case WR_COMMAND_ENVELOPE_ERROR_KEY: return "key error";
  }
  return "refused";
}

static gpointer
fail (GError **error, WrCommandEnvelopeError code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static gpointer
fail (GError **error, WrCommandEnvelopeError code, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, WR_COMMAND_ENVELOPE_ERROR, code, msg);
  return NULL;
}

static gboolean
is_ed25519 (EVP_PKEY *key)
{
  return key && EVP_PKEY_is_a (key, "ED25519");
}

static guint8 *
signed_message (const guint8 *payload, gsize len, gsize *out_len)
{
  gsize ctx_len = strlen (WR_COMMAND_SIGNING_CONTEXT);
  guint8 *msg = g_malloc (ctx_len + len);

  memcpy (msg, WR_COMMAND_SIGNING_CONTEXT, ctx_len);
  memcpy (msg + ctx_len, payload, len);
  *out_len = ctx_len + len;
  return msg;
}

static gboolean
string_ok (const char *value, gsize min, gsize max)
{
  gsize len = value ? strlen (value) : 0;

  return value && len >= min && len <= max && g_utf8_validate (value, -1,
      NULL);
}

static gboolean
check_fields (const WrCommandEnvelope *e, GError **error)
{
  guint n = e->argv ? g_strv_length (e->argv) : 0;

  if (!string_ok (e->sid, 1, WR_COMMAND_MAX_SID_LEN)
      || !string_ok (e->agent, 1, WR_COMMAND_MAX_AGENT_LEN)
      || !string_ok (e->nonce, 1, WR_COMMAND_MAX_NONCE_LEN)
      || !string_ok (e->cid, 1, WR_COMMAND_MAX_CID_LEN)
      || !string_ok (e->name, 1, WR_COMMAND_MAX_NAME_LEN)) {
    fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "a command envelope field is empty, too long or not UTF-8");
    return FALSE;
  }
  if (e->seq < 1) {
    fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the command sequence number must be positive");
    return FALSE;
  }
  if (n > WR_COMMAND_MAX_ARGS) {
    fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "a command has at most %d arguments", WR_COMMAND_MAX_ARGS);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    if (!string_ok (e->argv[i], 0, WR_COMMAND_MAX_ARG_LEN)) {
      fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
          "command argument %u must be at most %d bytes of UTF-8", i + 1,
          WR_COMMAND_MAX_ARG_LEN);
      return FALSE;
    }
  }
  return TRUE;
}

char *
wr_command_envelope_sign (EVP_PKEY *key, const WrCommandEnvelope *env,
    GError **error)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (EVP_MD_CTX) ctx = NULL;
  g_autofree char *payload = NULL;
  g_autofree guint8 *msg = NULL;
  g_autofree char *p64 = NULL;
  g_autofree char *s64 = NULL;
  guint8 sig[ED25519_SIG_LEN];
  gsize sig_len = sizeof sig;
  gsize msg_len;
  char *token;

  if (!is_ed25519 (key))
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_KEY,
        "the signing key is not an Ed25519 key");
  if (!check_fields (env, error))
    return NULL;

  b = json_builder_new ();
  json_builder_begin_object (b);
  wr_json_add_int (b, "v", 1);
  wr_json_add_string (b, "sid", env->sid);
  wr_json_add_string (b, "agent", env->agent);
  wr_json_add_int (b, "seq", env->seq);
  wr_json_add_string (b, "nonce", env->nonce);
  wr_json_add_int (b, "exp", env->exp);
  wr_json_add_string (b, "cid", env->cid);
  wr_json_add_string (b, "name", env->name);
  json_builder_set_member_name (b, "argv");
  json_builder_begin_array (b);
  for (guint i = 0; env->argv && env->argv[i]; i++)
    json_builder_add_string_value (b, env->argv[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  payload = json_to_string (root, FALSE);

  /* Checked before signing: base64 makes 4 of every 3 bytes. */
  if (strlen (payload) / 3 * 4 + 100 > WR_COMMAND_MAX_TOKEN_SIZE)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the command would be over %d bytes once signed",
        WR_COMMAND_MAX_TOKEN_SIZE);

  msg = signed_message ((const guint8 *) payload, strlen (payload), &msg_len);
  ctx = EVP_MD_CTX_new ();
  if (!ctx || EVP_DigestSignInit (ctx, NULL, NULL, NULL, key) != 1
      || EVP_DigestSign (ctx, sig, &sig_len, msg, msg_len) != 1
      || sig_len != ED25519_SIG_LEN) {
    ERR_clear_error ();
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_KEY,
        "signing the command failed");
  }
  p64 = wr_base64url_encode ((const guint8 *) payload, strlen (payload));
  s64 = wr_base64url_encode (sig, sig_len);
  token = g_strconcat (p64, ".", s64, NULL);
  if (strlen (token) > WR_COMMAND_MAX_TOKEN_SIZE) {
    g_free (token);
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the command would be over %d bytes once signed",
        WR_COMMAND_MAX_TOKEN_SIZE);
  }
  return token;
}

static gboolean
get_string (JsonObject *o, const char *name, gsize min, gsize max,
    char **out)
{
  JsonNode *node = json_object_get_member (o, name);
  const char *value;

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  value = json_node_get_string (node);
  if (!string_ok (value, min, max))
    return FALSE;
  *out = g_strdup (value);
  return TRUE;
}

static gboolean
get_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (o, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static WrCommandEnvelope *
parse_payload (const guint8 *payload, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (WrCommandEnvelope) e = g_new0 (WrCommandEnvelope, 1);
  g_autoptr (GPtrArray) argv = NULL;
  JsonNode *root, *node;
  JsonObject *o;
  JsonArray *array;
  gint64 v = 0;
  guint n;

  if (memchr (payload, '\0', len)
      || !json_parser_load_from_data (parser, (const char *) payload,
          (gssize) len, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the command payload is not a JSON object");
  o = json_node_get_object (root);
  if (!get_int (o, "v", &v) || v != 1)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "unsupported command envelope version");
  if (!get_string (o, "sid", 1, WR_COMMAND_MAX_SID_LEN, &e->sid)
      || !get_string (o, "agent", 1, WR_COMMAND_MAX_AGENT_LEN, &e->agent)
      || !get_int (o, "seq", &e->seq) || e->seq < 1
      || !get_string (o, "nonce", 1, WR_COMMAND_MAX_NONCE_LEN, &e->nonce)
      || !get_int (o, "exp", &e->exp)
      || !get_string (o, "cid", 1, WR_COMMAND_MAX_CID_LEN, &e->cid)
      || !get_string (o, "name", 1, WR_COMMAND_MAX_NAME_LEN, &e->name))
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "a command envelope field is missing or out of bounds");

  node = json_object_get_member (o, "argv");
  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the command arguments are missing");
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > WR_COMMAND_MAX_ARGS)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "a command has at most %d arguments", WR_COMMAND_MAX_ARGS);
  argv = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++) {
    JsonNode *item = json_array_get_element (array, i);
    const char *arg;
    if (!JSON_NODE_HOLDS_VALUE (item)
        || json_node_get_value_type (item) != G_TYPE_STRING
        || !string_ok ((arg = json_node_get_string (item)), 0,
            WR_COMMAND_MAX_ARG_LEN))
      return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
          "command argument %u is not a string of at most %d bytes", i + 1,
          WR_COMMAND_MAX_ARG_LEN);
    g_ptr_array_add (argv, g_strdup (arg));
  }
  g_ptr_array_add (argv, NULL);
  e->argv = (GStrv) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  return g_steal_pointer (&e);
}

WrCommandEnvelope *
wr_command_envelope_verify (EVP_PKEY *pubkey, const char *token,
    const char *expected_agent, gint64 now, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = NULL;
  g_autoptr (WrCommandEnvelope) env = NULL;
  g_autofree guint8 *payload = NULL;
  g_autofree guint8 *sig = NULL;
  g_autofree guint8 *msg = NULL;
  const char *dot;
  gsize token_len, payload_len = 0, sig_len = 0, msg_len;
  int ok;

  if (!is_ed25519 (pubkey))
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_KEY,
        "the verifying key is not an Ed25519 key");
  if (!token)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED, "no envelope");
  token_len = strnlen (token, WR_COMMAND_MAX_TOKEN_SIZE + 1);
  if (token_len > WR_COMMAND_MAX_TOKEN_SIZE)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the envelope is over %d bytes", WR_COMMAND_MAX_TOKEN_SIZE);
  dot = memchr (token, '.', token_len);
  if (!dot || memchr (dot + 1, '.', token_len - (gsize) (dot + 1 - token)))
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "an envelope is two base64url parts joined by one '.'");
  payload = wr_base64url_decode (token, (gsize) (dot - token), &payload_len);
  sig = wr_base64url_decode (dot + 1, token_len - (gsize) (dot + 1 - token),
      &sig_len);
  if (!payload || !sig || sig_len != ED25519_SIG_LEN)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_MALFORMED,
        "the envelope is not base64url with a %d-byte signature",
        ED25519_SIG_LEN);

  /* The signature first: nothing of the payload is read before. */
  msg = signed_message (payload, payload_len, &msg_len);
  ctx = EVP_MD_CTX_new ();
  ok = ctx && EVP_DigestVerifyInit (ctx, NULL, NULL, NULL, pubkey) == 1
      && EVP_DigestVerify (ctx, sig, sig_len, msg, msg_len) == 1;
  ERR_clear_error ();
  if (!ok)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE,
        "the command is not signed by the gateway's key");

  env = parse_payload (payload, payload_len, error);
  if (!env)
    return NULL;
  if (now > env->exp + WR_COMMAND_CLOCK_SKEW)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_EXPIRED,
        "the command expired %" G_GINT64_FORMAT " s ago", now - env->exp);
  if (env->exp > now + WR_COMMAND_MAX_LIFETIME_S + WR_COMMAND_CLOCK_SKEW)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_EXPIRED,
        "the command is valid for too long (check the clocks)");
  if (expected_agent && g_strcmp0 (env->agent, expected_agent) != 0)
    return fail (error, WR_COMMAND_ENVELOPE_ERROR_WRONG_AGENT,
        "the command is for another agent");
  return g_steal_pointer (&env);
}
