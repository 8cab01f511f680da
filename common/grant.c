/* webremote: session grants, Ed25519-signed by the gateway, checked by the
 * agent. */
#include "config.h"

#include "common/grant.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/autocleanups.h"

G_DEFINE_QUARK (wr-grant-error-quark, wr_grant_error)

#define ED25519_KEY_LEN 32
#define ED25519_SIG_LEN 64
#define KEY_PREFIX "ed25519:"
/* A key file is a few hundred bytes; refuse to slurp anything big. */
#define MAX_KEY_FILE_SIZE (64 * 1024)

void
wr_grant_free (WrGrant *grant)
{
  if (!grant)
    return;
  g_free (grant->sid);
  g_free (grant->user);
  g_free (grant->agent);
  g_free (grant->display);
  g_strfreev (grant->scopes);
  g_free (grant);
}

const char *
wr_grant_error_reason (WrGrantError code)
{
  switch (code) {
    case WR_GRANT_ERROR_MALFORMED: return "malformed";
    case WR_GRANT_ERROR_BAD_SIGNATURE: return "bad signature";
    case WR_GRANT_ERROR_EXPIRED: return "expired";
    case WR_GRANT_ERROR_WRONG_AGENT: return "wrong agent";
    case WR_GRANT_ERROR_KEY: return "key error";
  }
  return "refused";
}

static gboolean
fail (GError **error, WrGrantError code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, WrGrantError code, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, WR_GRANT_ERROR, code, msg);
  return FALSE;
}


/* ---- signing ---- */

static gboolean
check_string (const char *value, gsize max, const char *name, GError **error)
{
  gsize len = value ? strlen (value) : 0;

  if (len == 0 || len > max || !g_utf8_validate (value, -1, NULL))
    return fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field '%s' must be 1 to %" G_GSIZE_FORMAT " bytes of UTF-8",
        name, max);
  return TRUE;
}

static gboolean
check_fields (const WrGrant *g, GError **error)
{
  guint n = g->scopes ? g_strv_length (g->scopes) : 0;

  if (!check_string (g->sid, WR_GRANT_MAX_SID_LEN, "sid", error)
      || !check_string (g->user, WR_GRANT_MAX_USER_LEN, "user", error)
      || !check_string (g->agent, WR_GRANT_MAX_AGENT_LEN, "agent", error)
      || !check_string (g->display, WR_GRANT_MAX_DISPLAY_LEN, "display",
          error))
    return FALSE;
  if (n > WR_GRANT_MAX_SCOPES)
    return fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field 'scopes' must have at most %d items",
        WR_GRANT_MAX_SCOPES);
  for (guint i = 0; i < n; i++)
    if (!check_string (g->scopes[i], WR_GRANT_MAX_SCOPE_LEN, "scopes", error))
      return FALSE;
  if (g->exp <= g->iat || g->exp - g->iat > WR_GRANT_MAX_LIFETIME)
    return fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant lifetime must be 1 to %d seconds", WR_GRANT_MAX_LIFETIME);
  return TRUE;
}

static guint8 *
signed_message (const guint8 *payload, gsize len, gsize *out_len)
{
  gsize ctx_len = strlen (WR_GRANT_SIGNING_CONTEXT);
  guint8 *msg = g_malloc (ctx_len + len);

  memcpy (msg, WR_GRANT_SIGNING_CONTEXT, ctx_len);
  memcpy (msg + ctx_len, payload, len);
  *out_len = ctx_len + len;
  return msg;
}

static gboolean
is_ed25519 (EVP_PKEY *key)
{
  return key && EVP_PKEY_is_a (key, "ED25519");
}

char *
wr_grant_sign (EVP_PKEY *key, const WrGrant *grant, GError **error)
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

  if (!is_ed25519 (key)) {
    fail (error, WR_GRANT_ERROR_KEY, "the grant key is not an Ed25519 key");
    return NULL;
  }
  if (!check_fields (grant, error))
    return NULL;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, grant->sid);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, grant->user);
  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, grant->agent);
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, grant->display);
  json_builder_set_member_name (b, "scopes");
  json_builder_begin_array (b);
  for (guint i = 0; grant->scopes && grant->scopes[i]; i++)
    json_builder_add_string_value (b, grant->scopes[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "iat");
  json_builder_add_int_value (b, grant->iat);
  json_builder_set_member_name (b, "exp");
  json_builder_add_int_value (b, grant->exp);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  payload = json_to_string (root, FALSE);

  msg = signed_message ((const guint8 *) payload, strlen (payload), &msg_len);
  ctx = EVP_MD_CTX_new ();
  /* Ed25519 hashes internally: no digest, one-shot only. */
  if (!ctx || EVP_DigestSignInit (ctx, NULL, NULL, NULL, key) != 1
      || EVP_DigestSign (ctx, sig, &sig_len, msg, msg_len) != 1
      || sig_len != ED25519_SIG_LEN) {
    ERR_clear_error ();
    fail (error, WR_GRANT_ERROR_KEY, "signing the grant failed");
    return NULL;
  }

  p64 = wr_base64url_encode ((const guint8 *) payload, strlen (payload));
  s64 = wr_base64url_encode (sig, sig_len);
  token = g_strconcat (p64, ".", s64, NULL);
  if (strlen (token) > WR_GRANT_MAX_TOKEN_SIZE) {
    g_free (token);
    fail (error, WR_GRANT_ERROR_MALFORMED, "the grant would be over %d bytes",
        WR_GRANT_MAX_TOKEN_SIZE);
    return NULL;
  }
  return token;
}

/* ---- verification ---- */

static const char *
get_string (JsonObject *o, const char *name, gsize max, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);
  const char *value;
  gsize len;

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field '%s' is missing or not a string", name);
    return NULL;
  }
  value = json_node_get_string (node);
  len = strlen (value);
  if (len == 0 || len > max) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field '%s' must be 1 to %" G_GSIZE_FORMAT " bytes", name, max);
    return NULL;
  }
  return value;
}

static gboolean
get_int (JsonObject *o, const char *name, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field '%s' is missing or not an integer", name);
  *out = json_node_get_int (node);
  return TRUE;
}

/* The payload after its signature checked out: still bounded and typed. */
static WrGrant *
parse_payload (const guint8 *payload, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (WrGrant) g = g_new0 (WrGrant, 1);
  g_autoptr (GPtrArray) scopes = NULL;
  JsonNode *root, *node;
  JsonObject *o;
  JsonArray *array;
  const char *s;
  gint64 v;
  guint n;

  if (memchr (payload, '\0', len)
      || !json_parser_load_from_data (parser, (const char *) payload,
          (gssize) len, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "the grant payload is not a JSON object");
    return NULL;
  }
  o = json_node_get_object (root);

  if (!get_int (o, "v", &v, error))
    return NULL;
  if (v != 1) {
    fail (error, WR_GRANT_ERROR_MALFORMED, "grant version %" G_GINT64_FORMAT
        " is not supported", v);
    return NULL;
  }
  if (!(s = get_string (o, "sid", WR_GRANT_MAX_SID_LEN, error)))
    return NULL;
  g->sid = g_strdup (s);
  if (!(s = get_string (o, "user", WR_GRANT_MAX_USER_LEN, error)))
    return NULL;
  g->user = g_strdup (s);
  if (!(s = get_string (o, "agent", WR_GRANT_MAX_AGENT_LEN, error)))
    return NULL;
  g->agent = g_strdup (s);
  if (!(s = get_string (o, "display", WR_GRANT_MAX_DISPLAY_LEN, error)))
    return NULL;
  g->display = g_strdup (s);

  node = json_object_get_member (o, "scopes");
  if (!node || !JSON_NODE_HOLDS_ARRAY (node)) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field 'scopes' is missing or not an array");
    return NULL;
  }
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > WR_GRANT_MAX_SCOPES) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant field 'scopes' has more than %d items", WR_GRANT_MAX_SCOPES);
    return NULL;
  }
  scopes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++) {
    JsonNode *item = json_array_get_element (array, i);
    const char *scope;
    if (!JSON_NODE_HOLDS_VALUE (item)
        || json_node_get_value_type (item) != G_TYPE_STRING
        || !*(scope = json_node_get_string (item))
        || strlen (scope) > WR_GRANT_MAX_SCOPE_LEN) {
      fail (error, WR_GRANT_ERROR_MALFORMED,
          "grant field 'scopes' holds something other than a scope name");
      return NULL;
    }
    g_ptr_array_add (scopes, g_strdup (scope));
  }
  g_ptr_array_add (scopes, NULL);
  g->scopes = (GStrv) g_ptr_array_free (g_steal_pointer (&scopes), FALSE);

  if (!get_int (o, "iat", &g->iat, error) || !get_int (o, "exp", &g->exp,
          error))
    return NULL;
  if (g->exp <= g->iat || g->exp - g->iat > WR_GRANT_MAX_LIFETIME) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "grant lifetime must be 1 to %d seconds", WR_GRANT_MAX_LIFETIME);
    return NULL;
  }
  return g_steal_pointer (&g);
}

WrGrant *
wr_grant_verify (EVP_PKEY *pubkey, const char *token,
    const char *expected_agent, gint64 now, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = NULL;
  g_autoptr (WrGrant) grant = NULL;
  g_autofree guint8 *payload = NULL;
  g_autofree guint8 *sig = NULL;
  g_autofree guint8 *msg = NULL;
  const char *dot;
  gsize token_len, payload_len = 0, sig_len = 0, msg_len;
  int ok;

  if (!is_ed25519 (pubkey)) {
    fail (error, WR_GRANT_ERROR_KEY, "the grant key is not an Ed25519 key");
    return NULL;
  }
  if (!token) {
    fail (error, WR_GRANT_ERROR_MALFORMED, "no grant");
    return NULL;
  }
  token_len = strnlen (token, WR_GRANT_MAX_TOKEN_SIZE + 1);
  if (token_len > WR_GRANT_MAX_TOKEN_SIZE) {
    fail (error, WR_GRANT_ERROR_MALFORMED, "the grant is over %d bytes",
        WR_GRANT_MAX_TOKEN_SIZE);
    return NULL;
  }
  dot = memchr (token, '.', token_len);
  if (!dot || memchr (dot + 1, '.', token_len - (gsize) (dot + 1 - token))) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "a grant is two base64url parts joined by one '.'");
    return NULL;
  }
  payload = wr_base64url_decode (token, (gsize) (dot - token), &payload_len);
  sig = wr_base64url_decode (dot + 1, token_len - (gsize) (dot + 1 - token),
      &sig_len);
  if (!payload || !sig) {
    fail (error, WR_GRANT_ERROR_MALFORMED, "the grant is not base64url");
    return NULL;
  }
  if (sig_len != ED25519_SIG_LEN) {
    fail (error, WR_GRANT_ERROR_MALFORMED,
        "the grant signature is not %d bytes", ED25519_SIG_LEN);
    return NULL;
  }

  /* The signature first: nothing of the payload is read before. */
  msg = signed_message (payload, payload_len, &msg_len);
  ctx = EVP_MD_CTX_new ();
  ok = ctx && EVP_DigestVerifyInit (ctx, NULL, NULL, NULL, pubkey) == 1
      && EVP_DigestVerify (ctx, sig, sig_len, msg, msg_len) == 1;
  ERR_clear_error ();
  if (!ok) {
    fail (error, WR_GRANT_ERROR_BAD_SIGNATURE,
        "the grant is not signed by the gateway's key");
    return NULL;
  }

  grant = parse_payload (payload, payload_len, error);
  if (!grant)
    return NULL;

  if (now > grant->exp + WR_GRANT_CLOCK_SKEW) {
    fail (error, WR_GRANT_ERROR_EXPIRED, "the grant expired %" G_GINT64_FORMAT
        " s ago", now - grant->exp);
    return NULL;
  }
  if (grant->iat > now + WR_GRANT_CLOCK_SKEW) {
    fail (error, WR_GRANT_ERROR_EXPIRED, "the grant is issued %"
        G_GINT64_FORMAT " s in the future (check the clocks)",
        grant->iat - now);
    return NULL;
  }
  if (expected_agent && g_strcmp0 (grant->agent, expected_agent) != 0) {
    fail (error, WR_GRANT_ERROR_WRONG_AGENT,
        "the grant is for another agent");
    return NULL;
  }
  return g_steal_pointer (&grant);
}

/* ---- keys ---- */

EVP_PKEY *
wr_grant_key_generate (GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");

  if (!key) {
    ERR_clear_error ();
    fail (error, WR_GRANT_ERROR_KEY, "cannot make an Ed25519 key");
  }
  return key;
}

/* PEM callbacks would prompt on the terminal for an encrypted key; a
 * service never should. */
static int
no_passphrase (char *buf, int size, int rwflag, void *u)
{
  return 0;
}

static char *
read_small_file (const char *path, gsize *len, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *data = NULL;

  if (!g_file_get_contents (path, &data, len, &local)) {
    fail (error, WR_GRANT_ERROR_KEY, "cannot read %s: %s", path,
        local->message);
    return NULL;
  }
  if (*len > MAX_KEY_FILE_SIZE) {
    OPENSSL_cleanse (data, *len);
    g_free (data);
    fail (error, WR_GRANT_ERROR_KEY, "%s is too large for a key file", path);
    return NULL;
  }
  return data;
}

static EVP_PKEY *
load_private_key (const char *path, GError **error)
{
  g_autoptr (BIO) bio = NULL;
  EVP_PKEY *key;
  char *data;
  gsize len = 0;

  data = read_small_file (path, &len, error);
  if (!data)
    return NULL;
  bio = BIO_new_mem_buf (data, (int) len);
  key = bio ? PEM_read_bio_PrivateKey (bio, NULL, no_passphrase, NULL)
      : NULL;
  ERR_clear_error ();
  OPENSSL_cleanse (data, len);
  g_free (data);
  if (!key) {
    fail (error, WR_GRANT_ERROR_KEY, "%s holds no unencrypted PEM private "
        "key", path);
    return NULL;
  }
  if (!is_ed25519 (key)) {
    EVP_PKEY_free (key);
    fail (error, WR_GRANT_ERROR_KEY, "%s is not an Ed25519 key", path);
    return NULL;
  }
  return key;
}

static gboolean
write_private_key (EVP_PKEY *key, const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_secmem ());
  char *data = NULL;
  long len;

  if (!bio || PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL,
          NULL) != 1) {
    ERR_clear_error ();
    return fail (error, WR_GRANT_ERROR_KEY, "cannot encode the grant key");
  }
  len = BIO_get_mem_data (bio, &data);
  /* Written to a temporary file created 0600, then renamed: the key is
   * never readable by others, not even for a moment. */
  return g_file_set_contents_full (path, data, len,
      G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

EVP_PKEY *
wr_grant_key_load_or_create (const char *path, gboolean *created,
    GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;

  if (created)
    *created = FALSE;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return load_private_key (path, error);

  key = wr_grant_key_generate (error);
  if (!key || !write_private_key (key, path, error))
    return NULL;
  if (created)
    *created = TRUE;
  return g_steal_pointer (&key);
}

char *
wr_grant_public_key_to_string (EVP_PKEY *key)
{
  guint8 raw[ED25519_KEY_LEN];
  size_t len = sizeof raw;
  g_autofree char *b64 = NULL;

  g_return_val_if_fail (is_ed25519 (key), NULL);
  if (EVP_PKEY_get_raw_public_key (key, raw, &len) != 1
      || len != ED25519_KEY_LEN) {
    ERR_clear_error ();
    return NULL;
  }
  b64 = g_base64_encode (raw, len);
  return g_strconcat (KEY_PREFIX, b64, NULL);
}

EVP_PKEY *
wr_grant_public_key_from_string (const char *text, GError **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text ? text : ""));
  g_autofree guint8 *raw = NULL;
  g_autofree char *again = NULL;
  const char *b64;
  gsize len = 0;
  EVP_PKEY *key;

  if (!g_str_has_prefix (copy, KEY_PREFIX)) {
    fail (error, WR_GRANT_ERROR_KEY, "a grant key looks like "
        "'ed25519:BASE64' (webremote-gateway --print-grant-key)");
    return NULL;
  }
  b64 = copy + strlen (KEY_PREFIX);
  for (const char *p = b64; *p; p++) {
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=') {
      fail (error, WR_GRANT_ERROR_KEY, "the grant key is not base64");
      return NULL;
    }
  }
  raw = g_base64_decode (b64, &len);
  again = raw ? g_base64_encode (raw, len) : NULL;
  if (len != ED25519_KEY_LEN || g_strcmp0 (again, b64) != 0) {
    fail (error, WR_GRANT_ERROR_KEY,
        "the grant key is not the base64 of a 32-byte Ed25519 public key");
    return NULL;
  }
  key = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, raw, len);
  if (!key) {
    ERR_clear_error ();
    fail (error, WR_GRANT_ERROR_KEY, "the grant key is not an Ed25519 "
        "public key");
  }
  return key;
}

EVP_PKEY *
wr_grant_public_key_load_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  EVP_PKEY *key;

  data = read_small_file (path, &len, error);
  if (!data)
    return NULL;
  if (strstr (data, "PRIVATE KEY-----")) {
    OPENSSL_cleanse (data, len);
    fail (error, WR_GRANT_ERROR_KEY, "%s holds a private key; the agent "
        "needs only the gateway's public key (webremote-gateway "
        "--print-grant-key)", path);
    return NULL;
  }
  if (strstr (data, "-----BEGIN PUBLIC KEY-----")) {
    g_autoptr (BIO) bio = BIO_new_mem_buf (data, (int) len);
    key = bio ? PEM_read_bio_PUBKEY (bio, NULL, no_passphrase, NULL) : NULL;
    ERR_clear_error ();
    if (!key) {
      fail (error, WR_GRANT_ERROR_KEY, "%s: unreadable PEM public key", path);
      return NULL;
    }
    if (!is_ed25519 (key)) {
      EVP_PKEY_free (key);
      fail (error, WR_GRANT_ERROR_KEY, "%s is not an Ed25519 key", path);
      return NULL;
    }
    return key;
  }
  key = wr_grant_public_key_from_string (data, error);
  if (!key)
    g_prefix_error (error, "%s: ", path);
  return key;
}
