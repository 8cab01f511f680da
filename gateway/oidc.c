/* webremote: OpenID Connect relying party (authorization code + PKCE). */
#include "config.h"

#include "gateway/oidc.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/evp.h>

#include "common/crypto.h"
#include "gateway/jwk.h"

#define WELL_KNOWN "/.well-known/openid-configuration"
/* Seconds: a provider that does not answer within this is down. */
#define HTTP_TIMEOUT 20
/* Random bytes in state, nonce and the PKCE verifier: 32 bytes make 43
 * base64url characters, the minimum verifier length of RFC 7636 4.1. */
#define RANDOM_BYTES 32
/* Bounds on values that come back from the provider or the browser. */
#define MAX_CODE_LENGTH 4096
#define MAX_SUBJECT_LENGTH 255
#define MAX_USERNAME_LENGTH 256

struct _WrOidcProvider {
  /* Immutable after wr_oidc_provider_new(). */
  char *issuer;
  char *client_id;
  char *client_secret; /* nullable */
  char *redirect_uri;
  char *scopes;
  char *groups_claim;
  char *username_claim;
  gboolean loopback_http; /* the issuer is http://loopback (tests only) */

  /* libsoup allows sending from any thread (3.2+); the lock keeps one
   * request at a time on the session, which is all logins need. */
  GMutex http_lock;
  SoupSession *session;

  /* Guards everything below: discovery results and the cached JWKS. */
  GMutex lock;
  gboolean discovered;
  char *authorization_endpoint;
  char *token_endpoint;
  char *userinfo_endpoint; /* nullable */
  char *jwks_uri;
  char *token_auth_method; /* client_secret_basic | client_secret_post | none */
  WrJwkSet *jwks;
};

/* What one login needs from the discovery results, copied out of the lock. */
typedef struct {
  char *authorization_endpoint;
  char *token_endpoint;
  char *userinfo_endpoint;
  char *token_auth_method;
  WrJwkSet *jwks;
} Endpoints;

G_DEFINE_QUARK (wr-oidc-error-quark, wr_oidc_error)

static void
endpoints_free (Endpoints *e)
{
  g_free (e->authorization_endpoint);
  g_free (e->token_endpoint);
  g_free (e->userinfo_endpoint);
  g_free (e->token_auth_method);
  wr_jwk_set_unref (e->jwks);
  g_free (e);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Endpoints, endpoints_free)

/* --- JSON members from the network, type-checked --- */

static const char *
member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
member_time (JsonObject *object, const char *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (object, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64) {
    *out = json_node_get_int (node);
    return TRUE;
  }
  if (type == G_TYPE_DOUBLE) {
    double d = json_node_get_double (node);

    /* NumericDate (RFC 7519 2) may have a fraction; keep it in range. */
    if (!(d > -1e15 && d < 1e15))
      return FALSE;
    *out = (gint64) d;
    return TRUE;
  }
  return FALSE;
}

static JsonObject *
parse_object (GBytes *bytes, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonNode *root;

  if (len == 0
      || !json_parser_load_from_data (parser, data, (gssize) len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* --- URLs --- */

static gboolean
is_loopback_host (const char *host)
{
  return g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "::1") == 0
      || g_strcmp0 (host, "[::1]") == 0
      || g_ascii_strcasecmp (host ? host : "", "localhost") == 0;
}

/* https, or http to a loopback host when @allow_http. */
static gboolean
url_is_acceptable (const char *url, gboolean allow_http, gboolean *is_http)
{
  g_autoptr (GUri) uri = NULL;
  const char *scheme;

  if (url == NULL)
    return FALSE;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL
      || *g_uri_get_host (uri) == '\0')
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  if (is_http)
    *is_http = FALSE;
  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (scheme, "http") == 0 && allow_http
      && is_loopback_host (g_uri_get_host (uri))) {
    if (is_http)
      *is_http = TRUE;
    return TRUE;
  }
  return FALSE;
}

static gboolean
scopes_have_openid (const char *scopes)
{
  g_auto (GStrv) words = g_strsplit_set (scopes, " ", -1);
  guint i;

  for (i = 0; words[i]; i++)
    if (strcmp (words[i], "openid") == 0)
      return TRUE;
  return FALSE;
}

/* --- provider --- */

WrOidcProvider *
wr_oidc_provider_new (const WrOidcConfig *config, GTlsDatabase *tls_database,
    GError **error)
{
  g_autoptr (GUri) issuer_uri = NULL;
  WrOidcProvider *provider;
  gboolean is_http = FALSE;
  const char *scopes;

  g_return_val_if_fail (config != NULL, NULL);

  /* OpenID Connect Discovery 1.0 section 3: an https URL without query or
   * fragment. Plain http only for loopback, which tests use. */
  if (config->issuer == NULL
      || !url_is_acceptable (config->issuer, TRUE, &is_http)
      || (issuer_uri = g_uri_parse (config->issuer, G_URI_FLAGS_NONE,
              NULL)) == NULL
      || g_uri_get_query (issuer_uri) != NULL
      || g_uri_get_fragment (issuer_uri) != NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CONFIG,
        "the OIDC issuer must be an https URL without query or fragment "
        "(http only for 127.0.0.1, ::1 or localhost, in tests)");
    return NULL;
  }
  if (config->client_id == NULL || *config->client_id == '\0') {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CONFIG,
        "the OIDC client id is missing");
    return NULL;
  }
  if (config->redirect_uri == NULL
      || !url_is_acceptable (config->redirect_uri, TRUE, NULL)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CONFIG,
        "the OIDC redirect URI must be an https URL "
        "(http only for loopback)");
    return NULL;
  }
  scopes = config->scopes && *config->scopes ? config->scopes
      : WR_OIDC_DEFAULT_SCOPES;
  if (!scopes_have_openid (scopes)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CONFIG,
        "the OIDC scopes must include \"openid\"");
    return NULL;
  }

  provider = g_atomic_rc_box_new0 (WrOidcProvider);
  provider->issuer = g_strdup (config->issuer);
  provider->client_id = g_strdup (config->client_id);
  provider->client_secret = config->client_secret && *config->client_secret
      ? g_strdup (config->client_secret) : NULL;
  provider->redirect_uri = g_strdup (config->redirect_uri);
  provider->scopes = g_strdup (scopes);
  provider->groups_claim = g_strdup (config->groups_claim
      && *config->groups_claim ? config->groups_claim
      : WR_OIDC_DEFAULT_GROUPS_CLAIM);
  provider->username_claim = g_strdup (config->username_claim
      && *config->username_claim ? config->username_claim
      : WR_OIDC_DEFAULT_USERNAME_CLAIM);
  provider->loopback_http = is_http;
  g_mutex_init (&provider->http_lock);
  g_mutex_init (&provider->lock);
  provider->session = soup_session_new_with_options (
      "timeout", HTTP_TIMEOUT,
      "idle-timeout", 60,
      "user-agent", "webremote-gateway/" WR_VERSION,
      NULL);
  if (tls_database)
    soup_session_set_tls_database (provider->session, tls_database);
  return provider;
}

WrOidcProvider *
wr_oidc_provider_ref (WrOidcProvider *provider)
{
  return g_atomic_rc_box_acquire (provider);
}

static void
provider_clear (gpointer data)
{
  WrOidcProvider *provider = data;

  g_free (provider->issuer);
  g_free (provider->client_id);
  if (provider->client_secret)
    memset (provider->client_secret, 0, strlen (provider->client_secret));
  g_free (provider->client_secret);
  g_free (provider->redirect_uri);
  g_free (provider->scopes);
  g_free (provider->groups_claim);
  g_free (provider->username_claim);
  g_clear_object (&provider->session);
  g_mutex_clear (&provider->http_lock);
  g_free (provider->authorization_endpoint);
  g_free (provider->token_endpoint);
  g_free (provider->userinfo_endpoint);
  g_free (provider->jwks_uri);
  g_free (provider->token_auth_method);
  wr_jwk_set_unref (provider->jwks);
  g_mutex_clear (&provider->lock);
}

void
wr_oidc_provider_unref (WrOidcProvider *provider)
{
  if (provider)
    g_atomic_rc_box_release_full (provider, provider_clear);
}

const char *
wr_oidc_provider_get_issuer (WrOidcProvider *provider)
{
  return provider->issuer;
}

/* --- HTTP --- */

static GBytes *
read_bounded (GInputStream *in, GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guchar chunk[16384];

  for (;;) {
    gssize n = g_input_stream_read (in, chunk, sizeof chunk, NULL, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    if (buf->len + (gsize) n > WR_OIDC_MAX_RESPONSE) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
          "the response is larger than %d bytes", WR_OIDC_MAX_RESPONSE);
      return NULL;
    }
    g_byte_array_append (buf, chunk, (guint) n);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

/* Sends @msg and reads its body (at most WR_OIDC_MAX_RESPONSE bytes).
 * Redirects are not followed: OpenID endpoints answer directly, and a
 * redirect could take us from https to somewhere else. Network failures
 * are WR_OIDC_ERROR_PROVIDER; the HTTP status is for the caller to judge. */
static GBytes *
http_send (WrOidcProvider *provider, SoupMessage *msg, const char *what,
    GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GError) local = NULL;
  GBytes *body;

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Accept", "application/json");

  g_mutex_lock (&provider->http_lock);
  in = soup_session_send (provider->session, msg, NULL, &local);
  body = in ? read_bounded (in, &local) : NULL;
  if (in)
    g_input_stream_close (in, NULL, NULL);
  g_mutex_unlock (&provider->http_lock);

  if (body == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER,
        "cannot fetch the %s from the OpenID provider %s: %s", what,
        provider->issuer, local->message);
    return NULL;
  }
  return body;
}

static JsonObject *
http_get_json (WrOidcProvider *provider, const char *url, const char *what,
    GError **error)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  JsonObject *object;
  guint status;

  if (msg == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the %s URL of the OpenID provider %s is invalid", what,
        provider->issuer);
    return NULL;
  }
  body = http_send (provider, msg, what, error);
  if (body == NULL)
    return NULL;
  status = soup_message_get_status (msg);
  if (status != SOUP_STATUS_OK) {
    /* 4xx: nothing there (a wrong issuer URL); otherwise the provider is
     * failing. */
    g_set_error (error, WR_OIDC_ERROR,
        status >= 400 && status < 500 ? WR_OIDC_ERROR_DISCOVERY
        : WR_OIDC_ERROR_PROVIDER,
        "the OpenID provider %s answered %u to the %s request",
        provider->issuer, status, what);
    return NULL;
  }
  object = parse_object (body, NULL);
  if (object == NULL)
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the %s of the OpenID provider %s is not a JSON object", what,
        provider->issuer);
  return object;
}

/* --- discovery and JWKS --- */

static WrJwkSet *
fetch_jwks (WrOidcProvider *provider, const char *jwks_uri, GError **error)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", jwks_uri);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) local = NULL;
  WrJwkSet *set;
  gsize len = 0;
  const char *data;

  if (msg == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the jwks_uri of the OpenID provider %s is invalid", provider->issuer);
    return NULL;
  }
  body = http_send (provider, msg, "JWKS", error);
  if (body == NULL)
    return NULL;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER,
        "the OpenID provider %s answered %u to the JWKS request",
        provider->issuer, soup_message_get_status (msg));
    return NULL;
  }
  data = g_bytes_get_data (body, &len);
  set = wr_jwk_set_new_from_json (data ? data : "", (gssize) len, &local);
  if (set == NULL)
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the JWKS of the OpenID provider %s is unusable: %s",
        provider->issuer, local->message);
  return set;
}

static gboolean
array_has_string (JsonObject *object, const char *name, const char *value,
    gboolean if_absent)
{
  JsonNode *node = json_object_get_member (object, name);
  JsonArray *array;
  guint i;

  if (node == NULL)
    return if_absent;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  array = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (array); i++) {
    JsonNode *e = json_array_get_element (array, i);

    if (JSON_NODE_HOLDS_VALUE (e)
        && json_node_get_value_type (e) == G_TYPE_STRING
        && strcmp (json_node_get_string (e), value) == 0)
      return TRUE;
  }
  return FALSE;
}

gboolean
wr_oidc_provider_discover (WrOidcProvider *provider, GError **error)
{
  g_autofree char *url = NULL;
  g_autoptr (JsonObject) doc = NULL;
  const char *issuer, *authz, *token, *userinfo, *jwks_uri;
  const char *method;
  WrJwkSet *jwks;
  const char *endpoint_names[] = { "authorization_endpoint",
    "token_endpoint", "jwks_uri" };
  guint i;

  g_return_val_if_fail (provider != NULL, FALSE);

  /* Discovery 1.0 section 4: drop a trailing "/" before the suffix. */
  url = g_str_has_suffix (provider->issuer, "/")
      ? g_strconcat (provider->issuer, WELL_KNOWN + 1, NULL)
      : g_strconcat (provider->issuer, WELL_KNOWN, NULL);
  doc = http_get_json (provider, url, "discovery document", error);
  if (doc == NULL)
    return FALSE;

  /* Discovery 1.0 section 4.3: exactly the issuer we asked, or a provider
   * could pass off another one's tokens. */
  issuer = member_string (doc, "issuer");
  if (g_strcmp0 (issuer, provider->issuer) != 0) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the discovery document of %s names another issuer; the configured "
        "issuer must match the provider's \"issuer\" exactly",
        provider->issuer);
    return FALSE;
  }
  for (i = 0; i < G_N_ELEMENTS (endpoint_names); i++) {
    const char *value = member_string (doc, endpoint_names[i]);

    if (!url_is_acceptable (value, provider->loopback_http, NULL)) {
      g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
          "the discovery document of %s has no usable %s (an https URL)",
          provider->issuer, endpoint_names[i]);
      return FALSE;
    }
  }
  authz = member_string (doc, "authorization_endpoint");
  token = member_string (doc, "token_endpoint");
  jwks_uri = member_string (doc, "jwks_uri");
  userinfo = member_string (doc, "userinfo_endpoint");
  if (userinfo && !url_is_acceptable (userinfo, provider->loopback_http,
          NULL))
    userinfo = NULL;

  if (!array_has_string (doc, "code_challenge_methods_supported", "S256",
          TRUE)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the OpenID provider %s does not support PKCE with S256",
        provider->issuer);
    return FALSE;
  }

  /* Discovery 1.0 section 3: client_secret_basic when the list is absent.
   * Basic is preferred (RFC 6749 2.3.1 makes it mandatory to implement). */
  if (provider->client_secret == NULL) {
    method = "none";
  } else if (array_has_string (doc, "token_endpoint_auth_methods_supported",
          "client_secret_basic", TRUE)) {
    method = "client_secret_basic";
  } else if (array_has_string (doc, "token_endpoint_auth_methods_supported",
          "client_secret_post", FALSE)) {
    method = "client_secret_post";
  } else {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the OpenID provider %s supports neither client_secret_basic nor "
        "client_secret_post", provider->issuer);
    return FALSE;
  }

  jwks = fetch_jwks (provider, jwks_uri, error);
  if (jwks == NULL)
    return FALSE;

  g_mutex_lock (&provider->lock);
  g_free (provider->authorization_endpoint);
  provider->authorization_endpoint = g_strdup (authz);
  g_free (provider->token_endpoint);
  provider->token_endpoint = g_strdup (token);
  g_free (provider->userinfo_endpoint);
  provider->userinfo_endpoint = g_strdup (userinfo);
  g_free (provider->jwks_uri);
  provider->jwks_uri = g_strdup (jwks_uri);
  g_free (provider->token_auth_method);
  provider->token_auth_method = g_strdup (method);
  wr_jwk_set_unref (provider->jwks);
  provider->jwks = jwks;
  provider->discovered = TRUE;
  g_mutex_unlock (&provider->lock);

  g_debug ("OpenID provider %s discovered: token endpoint auth %s, %u keys",
      provider->issuer, method, wr_jwk_set_get_n_keys (jwks));
  return TRUE;
}

/* A copy of the discovery results, discovering first when needed. */
static Endpoints *
get_endpoints (WrOidcProvider *provider, GError **error)
{
  Endpoints *e;

  g_mutex_lock (&provider->lock);
  if (!provider->discovered) {
    g_mutex_unlock (&provider->lock);
    if (!wr_oidc_provider_discover (provider, error))
      return NULL;
    g_mutex_lock (&provider->lock);
  }
  e = g_new0 (Endpoints, 1);
  e->authorization_endpoint = g_strdup (provider->authorization_endpoint);
  e->token_endpoint = g_strdup (provider->token_endpoint);
  e->userinfo_endpoint = g_strdup (provider->userinfo_endpoint);
  e->token_auth_method = g_strdup (provider->token_auth_method);
  e->jwks = wr_jwk_set_ref (provider->jwks);
  g_mutex_unlock (&provider->lock);
  return e;
}

/* The provider rotated its keys: fetch the JWKS again and cache it. */
static WrJwkSet *
refresh_jwks (WrOidcProvider *provider, GError **error)
{
  g_autofree char *uri = NULL;
  WrJwkSet *set;

  g_mutex_lock (&provider->lock);
  uri = g_strdup (provider->jwks_uri);
  g_mutex_unlock (&provider->lock);
  if (uri == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the OpenID provider %s is not discovered", provider->issuer);
    return NULL;
  }
  set = fetch_jwks (provider, uri, error);
  if (set == NULL)
    return NULL;
  g_mutex_lock (&provider->lock);
  wr_jwk_set_unref (provider->jwks);
  provider->jwks = wr_jwk_set_ref (set);
  g_mutex_unlock (&provider->lock);
  g_debug ("OpenID provider %s: JWKS refreshed, %u keys", provider->issuer,
      wr_jwk_set_get_n_keys (set));
  return set;
}

/* --- begin --- */

static char *
pkce_challenge (const char *verifier)
{
  guchar md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  if (EVP_Digest (verifier, strlen (verifier), md, &md_len, EVP_sha256 (),
          NULL) != 1)
    return NULL;
  return wr_base64url_encode (md, md_len);
}

static void
append_param (GString *url, const char *name, const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);

  g_string_append_printf (url, "&%s=%s", name, escaped);
}

WrOidcLogin *
wr_oidc_begin (WrOidcProvider *provider, GError **error)
{
  g_autoptr (Endpoints) e = NULL;
  g_autoptr (WrOidcLogin) login = NULL;
  g_autofree char *challenge = NULL;
  GString *url;

  g_return_val_if_fail (provider != NULL, NULL);

  e = get_endpoints (provider, error);
  if (e == NULL)
    return NULL;

  login = g_new0 (WrOidcLogin, 1);
  login->state = wr_random_token (RANDOM_BYTES);
  login->nonce = wr_random_token (RANDOM_BYTES);
  login->code_verifier = wr_random_token (RANDOM_BYTES);
  login->created_at = g_get_real_time () / G_USEC_PER_SEC;
  challenge = pkce_challenge (login->code_verifier);
  if (login->state == NULL || login->nonce == NULL
      || login->code_verifier == NULL || challenge == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER,
        "the random generator failed");
    return NULL;
  }

  /* OpenID Connect Core 1.0 section 3.1.2.1, RFC 7636 section 4.3. */
  url = g_string_new (e->authorization_endpoint);
  g_string_append_printf (url, "%sresponse_type=code",
      strchr (e->authorization_endpoint, '?') ? "&" : "?");
  append_param (url, "client_id", provider->client_id);
  append_param (url, "redirect_uri", provider->redirect_uri);
  append_param (url, "scope", provider->scopes);
  append_param (url, "state", login->state);
  append_param (url, "nonce", login->nonce);
  append_param (url, "code_challenge", challenge);
  append_param (url, "code_challenge_method", "S256");
  login->authorize_url = g_string_free (url, FALSE);
  return g_steal_pointer (&login);
}

static void
clear_secret (char **s)
{
  if (*s) {
    memset (*s, 0, strlen (*s));
    g_clear_pointer (s, g_free);
  }
}

void
wr_oidc_login_free (WrOidcLogin *login)
{
  if (login == NULL)
    return;
  clear_secret (&login->state);
  clear_secret (&login->nonce);
  clear_secret (&login->code_verifier);
  g_free (login->authorize_url);
  g_free (login);
}

void
wr_oidc_identity_free (WrOidcIdentity *identity)
{
  if (identity == NULL)
    return;
  g_free (identity->issuer);
  g_free (identity->subject);
  g_free (identity->username);
  g_free (identity->email);
  g_free (identity->name);
  g_strfreev (identity->groups);
  g_free (identity);
}

/* --- ID token --- */

/* RFC 7519 7.2 step 10-ish: what a JWS with an unknown kid needs is the
 * current key set; one refetch covers a key rotation. */
static WrJwkSet *
key_for (WrOidcProvider *provider, WrJwkSet *jwks, const WrJws *jws,
    const WrJwk **key, GError **error)
{
  g_autoptr (WrJwkSet) fresh = NULL;
  g_autoptr (GError) local = NULL;

  *key = wr_jwk_set_lookup (jwks, jws->kid, jws->alg);
  if (*key)
    return wr_jwk_set_ref (jwks);
  fresh = refresh_jwks (provider, &local);
  if (fresh)
    *key = wr_jwk_set_lookup (fresh, jws->kid, jws->alg);
  if (*key == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE,
        "ID token refused: no key in the JWKS of %s verifies it%s%s",
        provider->issuer, local ? ": " : "", local ? local->message : "");
    return NULL;
  }
  return g_steal_pointer (&fresh);
}

static gboolean
check_audience (WrOidcProvider *provider, JsonObject *claims, GError **error)
{
  JsonNode *aud = json_object_get_member (claims, "aud");
  const char *azp = member_string (claims, "azp");
  gboolean ours = FALSE;
  guint n = 0;

  if (aud && JSON_NODE_HOLDS_VALUE (aud)
      && json_node_get_value_type (aud) == G_TYPE_STRING) {
    ours = strcmp (json_node_get_string (aud), provider->client_id) == 0;
    n = 1;
  } else if (aud && JSON_NODE_HOLDS_ARRAY (aud)) {
    JsonArray *array = json_node_get_array (aud);
    guint i;

    n = json_array_get_length (array);
    for (i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (e)
          && json_node_get_value_type (e) == G_TYPE_STRING
          && strcmp (json_node_get_string (e), provider->client_id) == 0)
        ours = TRUE;
    }
  }
  if (!ours) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: it is not for this client (\"aud\" does not "
        "contain the client id)");
    return FALSE;
  }
  /* Core 1.0 3.1.3.7 steps 4-5: with several audiences the token must say
   * it was issued to us. */
  if ((n > 1 && azp == NULL)
      || (azp != NULL && strcmp (azp, provider->client_id) != 0)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: it was issued to another party (\"azp\")");
    return FALSE;
  }
  return TRUE;
}

/* Verifies @id_token and returns its claims. */
static JsonObject *
verify_id_token (WrOidcProvider *provider, WrJwkSet *jwks,
    const char *id_token, const char *nonce, gint64 now, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (WrJws) jws = NULL;
  g_autoptr (WrJwkSet) set = NULL;
  g_autoptr (JsonObject) claims = NULL;
  const WrJwk *key = NULL;
  const char *iss, *sub, *token_nonce;
  gint64 exp = 0, iat = 0, nbf = 0;

  jws = wr_jws_parse (id_token, &local);
  if (jws == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE,
        "ID token refused: %s", local->message);
    return NULL;
  }
  set = key_for (provider, jwks, jws, &key, error);
  if (set == NULL)
    return NULL;
  if (!wr_jws_verify (jws, key, &local)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE,
        "ID token refused: %s", local->message);
    return NULL;
  }

  claims = parse_object (jws->payload, NULL);
  if (claims == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: its payload is not a JSON object");
    return NULL;
  }

  /* OpenID Connect Core 1.0 section 3.1.3.7. */
  iss = member_string (claims, "iss");
  if (g_strcmp0 (iss, provider->issuer) != 0) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: it was not issued by %s", provider->issuer);
    return NULL;
  }
  if (!check_audience (provider, claims, error))
    return NULL;
  if (!member_time (claims, "exp", &exp) || !member_time (claims, "iat", &iat)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: \"exp\" or \"iat\" is missing");
    return NULL;
  }
  if (now > exp + WR_OIDC_CLOCK_SKEW) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: it expired %" G_GINT64_FORMAT " seconds ago",
        now - exp);
    return NULL;
  }
  if (iat > now + WR_OIDC_CLOCK_SKEW
      || (member_time (claims, "nbf", &nbf) && nbf > now + WR_OIDC_CLOCK_SKEW)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: it is not valid yet (issued in the future; check "
        "the clocks)");
    return NULL;
  }
  sub = member_string (claims, "sub");
  if (sub == NULL || *sub == '\0' || strlen (sub) > MAX_SUBJECT_LENGTH) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: \"sub\" is missing or longer than %d bytes",
        MAX_SUBJECT_LENGTH);
    return NULL;
  }
  token_nonce = member_string (claims, "nonce");
  if (nonce == NULL || token_nonce == NULL
      || !wr_constant_time_equal (token_nonce, nonce)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_NONCE,
        "ID token refused: its nonce is not this login's (replayed or "
        "injected token)");
    return NULL;
  }
  return g_steal_pointer (&claims);
}

/* Core 1.0 3.1.3.8: at_hash is the left half of SHA-256 (RS256, ES256) of
 * the access token. Optional in the code flow, checked when present. */
static gboolean
check_at_hash (JsonObject *claims, const char *access_token, GError **error)
{
  const char *at_hash = member_string (claims, "at_hash");
  guchar md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  g_autofree char *expected = NULL;

  if (at_hash == NULL || access_token == NULL)
    return TRUE;
  if (EVP_Digest (access_token, strlen (access_token), md, &md_len,
          EVP_sha256 (), NULL) != 1)
    return FALSE;
  expected = wr_base64url_encode (md, md_len / 2);
  if (strcmp (expected, at_hash) != 0) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "ID token refused: \"at_hash\" does not match the access token");
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_groups (WrOidcProvider *provider, JsonNode *node, GStrv *out,
    GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    /* No claim: no groups. */
  } else if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    /* Some providers send a lone group as a plain string. */
    const char *g = json_node_get_string (node);

    if (strlen (g) > WR_OIDC_MAX_GROUP_LENGTH)
      goto bad;
    if (*g)
      g_strv_builder_add (builder, g);
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    guint i, n = json_array_get_length (array);

    if (n > WR_OIDC_MAX_GROUPS) {
      /* Dropping some would silently change permissions: refuse. */
      g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
          "the \"%s\" claim lists more than %d groups", provider->groups_claim,
          WR_OIDC_MAX_GROUPS);
      return FALSE;
    }
    for (i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element (array, i);
      const char *g;

      if (!JSON_NODE_HOLDS_VALUE (e)
          || json_node_get_value_type (e) != G_TYPE_STRING)
        goto bad;
      g = json_node_get_string (e);
      if (*g == '\0' || strlen (g) > WR_OIDC_MAX_GROUP_LENGTH)
        goto bad;
      g_strv_builder_add (builder, g);
    }
  } else {
    goto bad;
  }
  *out = g_strv_builder_end (builder);
  return TRUE;

bad:
  g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
      "the \"%s\" claim must be an array of non-empty strings of at most %d "
      "bytes", provider->groups_claim, WR_OIDC_MAX_GROUP_LENGTH);
  return FALSE;
}

static const char *
short_string (JsonObject *object, const char *name)
{
  const char *s = object ? member_string (object, name) : NULL;

  return s && *s && strlen (s) <= MAX_USERNAME_LENGTH ? s : NULL;
}

/* Builds the identity from the ID token claims, with the UserInfo claims
 * (already checked to be about the same "sub") filling what it lacks. */
static WrOidcIdentity *
identity_from_claims (WrOidcProvider *provider, JsonObject *claims,
    JsonObject *userinfo, GError **error)
{
  g_autoptr (WrOidcIdentity) id = g_new0 (WrOidcIdentity, 1);
  JsonObject *sources[] = { claims, userinfo };
  JsonNode *groups = NULL;
  const char *username = NULL, *email = NULL, *name = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sources); i++) {
    if (sources[i] == NULL)
      continue;
    if (username == NULL)
      username = short_string (sources[i], provider->username_claim);
    if (email == NULL)
      email = short_string (sources[i], "email");
    if (name == NULL)
      name = short_string (sources[i], "name");
    if (groups == NULL)
      groups = json_object_get_member (sources[i], provider->groups_claim);
  }
  if (!read_groups (provider, groups, &id->groups, error))
    return NULL;

  id->issuer = g_strdup (provider->issuer);
  id->subject = g_strdup (member_string (claims, "sub"));
  id->email = g_strdup (email);
  id->name = g_strdup (name);
  id->username = g_strdup (username ? username : email ? email : id->subject);
  return g_steal_pointer (&id);
}

WrOidcIdentity *
wr_oidc_verify_id_token (WrOidcProvider *provider, const char *id_token,
    const char *nonce, gint64 now, GError **error)
{
  g_autoptr (Endpoints) e = NULL;
  g_autoptr (JsonObject) claims = NULL;

  g_return_val_if_fail (provider != NULL && id_token != NULL, NULL);

  e = get_endpoints (provider, error);
  if (e == NULL)
    return NULL;
  claims = verify_id_token (provider, e->jwks, id_token, nonce, now, error);
  if (claims == NULL)
    return NULL;
  return identity_from_claims (provider, claims, NULL, error);
}

/* --- finish --- */

/* A provider's OAuth error code (RFC 6749 5.2) is a short ASCII token; keep
 * only that, never its free text, in our messages. */
static char *
oauth_error_code (GBytes *body)
{
  g_autoptr (JsonObject) object = parse_object (body, NULL);
  const char *code = object ? member_string (object, "error") : NULL;
  const char *p;

  if (code == NULL || strlen (code) > 64)
    return NULL;
  for (p = code; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return NULL;
  return g_strdup (code);
}

static char *
form_escape (const char *s)
{
  return g_uri_escape_string (s, NULL, FALSE);
}

static JsonObject *
exchange_code (WrOidcProvider *provider, const Endpoints *e,
    const WrOidcLogin *login, const char *code, GError **error)
{
  g_autoptr (GHashTable) form = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonObject) response = NULL;
  guint status;

  /* RFC 6749 4.1.3 and RFC 7636 4.5. */
  g_hash_table_insert (form, "grant_type", "authorization_code");
  g_hash_table_insert (form, "code", (gpointer) code);
  g_hash_table_insert (form, "redirect_uri", provider->redirect_uri);
  g_hash_table_insert (form, "code_verifier", login->code_verifier);
  if (strcmp (e->token_auth_method, "client_secret_basic") != 0)
    g_hash_table_insert (form, "client_id", provider->client_id);
  if (strcmp (e->token_auth_method, "client_secret_post") == 0)
    g_hash_table_insert (form, "client_secret", provider->client_secret);

  msg = soup_message_new_from_encoded_form ("POST", e->token_endpoint,
      soup_form_encode_hash (form));
  if (msg == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the token endpoint of %s is not a valid URL", provider->issuer);
    return NULL;
  }
  if (strcmp (e->token_auth_method, "client_secret_basic") == 0) {
    /* RFC 6749 2.3.1: both parts form-encoded before base64. */
    g_autofree char *id = form_escape (provider->client_id);
    g_autofree char *secret = form_escape (provider->client_secret);
    g_autofree char *pair = g_strconcat (id, ":", secret, NULL);
    g_autofree char *b64 = g_base64_encode ((const guchar *) pair,
        strlen (pair));
    g_autofree char *header = g_strconcat ("Basic ", b64, NULL);

    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", header);
    memset (pair, 0, strlen (pair));
    memset (b64, 0, strlen (b64));
    memset (header, 0, strlen (header));
  }

  body = http_send (provider, msg, "token", error);
  if (body == NULL)
    return NULL;
  status = soup_message_get_status (msg);
  if (status != SOUP_STATUS_OK) {
    g_autofree char *oauth_error = oauth_error_code (body);

    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_TOKEN_EXCHANGE,
        "the OpenID provider %s refused the authorization code (HTTP %u%s%s)",
        provider->issuer, status, oauth_error ? ", " : "",
        oauth_error ? oauth_error : "");
    return NULL;
  }
  response = parse_object (body, NULL);
  if (response == NULL || member_string (response, "id_token") == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_TOKEN_EXCHANGE,
        "the token response of %s has no ID token", provider->issuer);
    return NULL;
  }
  return g_steal_pointer (&response);
}

/* Core 1.0 section 5.3: the UserInfo claims, which must be about the same
 * subject as the ID token (5.3.2). */
static JsonObject *
fetch_userinfo (WrOidcProvider *provider, const Endpoints *e,
    const char *access_token, const char *subject, GError **error)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET",
      e->userinfo_endpoint);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonObject) info = NULL;
  g_autofree char *header = NULL;

  if (msg == NULL) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY,
        "the userinfo endpoint of %s is not a valid URL", provider->issuer);
    return NULL;
  }
  header = g_strconcat ("Bearer ", access_token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", header);
  memset (header, 0, strlen (header));
  body = http_send (provider, msg, "UserInfo", error);
  if (body == NULL)
    return NULL;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER,
        "the OpenID provider %s answered %u to the UserInfo request",
        provider->issuer, soup_message_get_status (msg));
    return NULL;
  }
  info = parse_object (body, NULL);
  if (info == NULL) {
    /* Signed UserInfo (application/jwt) is not supported. */
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER,
        "the UserInfo response of %s is not a JSON object", provider->issuer);
    return NULL;
  }
  if (g_strcmp0 (member_string (info, "sub"), subject) != 0) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CLAIMS,
        "the UserInfo response of %s is about another user",
        provider->issuer);
    return NULL;
  }
  return g_steal_pointer (&info);
}

WrOidcIdentity *
wr_oidc_finish (WrOidcProvider *provider, const WrOidcLogin *login,
    const char *returned_state, const char *code, GError **error)
{
  g_autoptr (Endpoints) e = NULL;
  g_autoptr (JsonObject) tokens = NULL;
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (JsonObject) userinfo = NULL;
  const char *access_token;
  gint64 now;

  g_return_val_if_fail (provider != NULL && login != NULL, NULL);

  /* RFC 6749 10.12: the callback must answer this browser's request. */
  if (returned_state == NULL || login->state == NULL
      || !wr_constant_time_equal (returned_state, login->state)) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_STATE,
        "the login state does not match (a stale, replayed or forged "
        "callback)");
    return NULL;
  }
  if (code == NULL || *code == '\0' || strlen (code) > MAX_CODE_LENGTH) {
    g_set_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_TOKEN_EXCHANGE,
        "the callback carries no usable authorization code");
    return NULL;
  }

  e = get_endpoints (provider, error);
  if (e == NULL)
    return NULL;
  tokens = exchange_code (provider, e, login, code, error);
  if (tokens == NULL)
    return NULL;

  now = g_get_real_time () / G_USEC_PER_SEC;
  claims = verify_id_token (provider, e->jwks,
      member_string (tokens, "id_token"), login->nonce, now, error);
  if (claims == NULL)
    return NULL;
  access_token = member_string (tokens, "access_token");
  if (!check_at_hash (claims, access_token, error))
    return NULL;

  /* Providers that follow Core 1.0 5.4 strictly put the scope claims in
   * UserInfo only: ask it when the ID token lacks what we map. */
  if (e->userinfo_endpoint && access_token
      && (!json_object_has_member (claims, provider->username_claim)
          || !json_object_has_member (claims, provider->groups_claim))) {
    userinfo = fetch_userinfo (provider, e, access_token,
        member_string (claims, "sub"), error);
    if (userinfo == NULL)
      return NULL;
  }
  return identity_from_claims (provider, claims, userinfo, error);
}
