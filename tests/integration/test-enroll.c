/* Agent enrollment and mTLS (docs/security.md): a real gateway, the
 * webremote-agent enroll command, webremotectl, and client certificates
 * presented on /ws/agent. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/crypto.h"
#include "common/keyring.h"
#include "gateway/ca.h"
#include "harness.h"
#include "test-viewer.h"

#define WIDTH 640
#define HEIGHT 480

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

static char *
bio_string (BIO *bio)
{
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);

  return g_strndup (data, (gsize) len);
}

/* A P-256 key and a CSR with CN @cn, as PEM. */
static void
make_csr (const char *cn, char **key_pem, char **csr_pem)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509_REQ *req = X509_REQ_new ();
  g_autoptr (BIO) kb = BIO_new (BIO_s_mem ());
  g_autoptr (BIO) cb = BIO_new (BIO_s_mem ());

  g_assert_nonnull (key);
  X509_NAME_add_entry_by_txt (X509_REQ_get_subject_name (req), "CN",
      MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_REQ_set_pubkey (req, key);
  g_assert_cmpint (X509_REQ_sign (req, key, EVP_sha256 ()), >, 0);
  PEM_write_bio_PrivateKey (kb, key, NULL, NULL, 0, NULL, NULL);
  PEM_write_bio_X509_REQ (cb, req);
  *key_pem = bio_string (kb);
  *csr_pem = bio_string (cb);
  EVP_PKEY_free (key);
  X509_REQ_free (req);
}

/* A self-signed certificate for @cn with the agent SAN: right shape, wrong
 * CA. */
static void
make_foreign_cert (const char *cn, char **key_pem, char **cert_pem)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *cert = X509_new ();
  g_autoptr (BIO) kb = BIO_new (BIO_s_mem ());
  g_autoptr (BIO) cb = BIO_new (BIO_s_mem ());
  g_autofree char *san = g_strconcat ("URI:urn:webremote:agent:", cn, NULL);
  X509V3_CTX v3;
  X509_EXTENSION *ext;

  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 7);
  X509_gmtime_adj (X509_getm_notBefore (cert), -60);
  X509_gmtime_adj (X509_getm_notAfter (cert), 86400);
  X509_set_pubkey (cert, key);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (cert), "CN",
      MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_set_issuer_name (cert, X509_get_subject_name (cert));
  X509V3_set_ctx (&v3, cert, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &v3, NID_subject_alt_name, san);
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  PEM_write_bio_PrivateKey (kb, key, NULL, NULL, 0, NULL, NULL);
  PEM_write_bio_X509 (cb, cert);
  *key_pem = bio_string (kb);
  *cert_pem = bio_string (cb);
  EVP_PKEY_free (key);
  X509_free (cert);
}

static char *
json_quote (const char *s)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, s);
  return json_to_string (node, FALSE);
}

static char *
enroll_body (const char *token, const char *csr)
{
  g_autofree char *t = json_quote (token);
  g_autofree char *c = json_quote (csr);

  return g_strdup_printf ("{\"token\":%s,\"csr\":%s}", t, c);
}

static char *
new_token (WrHarness *h, const char *ttl)
{
  const char *args[] = { "enroll", "create", "--ttl", ttl, NULL };
  g_autoptr (GError) error = NULL;
  char *token = wr_harness_ctl (h, args, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (token), >=, 40);
  return token;
}

static const char *
member (WrHttpResponse *r, const char *name)
{
  g_assert_nonnull (r->json);
  return json_object_get_string_member_with_default (
      json_node_get_object (r->json), name, NULL);
}

/* POST /api/v1/enroll; asserts @status and returns the response. */
static WrHttpResponse *
enroll (WrHarness *h, const char *token, const char *csr, guint status)
{
  g_autofree char *body = enroll_body (token, csr);
  g_autoptr (GError) error = NULL;
  WrHttpResponse *r = wr_harness_http (h, "POST", "/api/v1/enroll", NULL,
      body, &error);

  g_assert_no_error (error);
  if (r->status != status)
    g_error ("enroll: HTTP %u, expected %u: %s", r->status, status, r->body);
  return r;
}

/* GET /ws/agent (no upgrade) with a client certificate: 400 "only
 * WebSocket upgrades" means the certificate was accepted (the early
 * handler authenticates first), 401 that it was refused; *message gets the
 * error message. */
static guint
probe_agent_endpoint (WrHarness *h, const char *cert_pem,
    const char *key_pem, const char *path, const char *json_body,
    char **message)
{
  g_autofree char *pem = g_strconcat (cert_pem, "\n", key_pem, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_pem (pem, -1,
      &error);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (h->base_url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (json_body ? "POST" : "GET",
      url);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_no_error (error);
  wr_message_pin_certificate (msg, h->fingerprint);
  soup_message_set_tls_client_certificate (msg, cert);
  if (json_body) {
    g_autoptr (GBytes) req = g_bytes_new (json_body, strlen (json_body));
    soup_message_set_request_body_from_bytes (msg, "application/json", req);
  }
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  if (message) {
    gsize len;
    const char *data = g_bytes_get_data (body, &len);

    *message = NULL;
    if (len && json_parser_load_from_data (parser, data, (gssize) len, NULL)
        && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      *message = g_strdup (o && json_object_has_member (o, "certificate")
          ? json_object_get_string_member (o, "certificate")
          : json_object_get_string_member_with_default (o, "message", ""));
    }
  }
  return soup_message_get_status (msg);
}

static guint
probe (WrHarness *h, const char *cert_pem, const char *key_pem,
    char **message)
{
  return probe_agent_endpoint (h, cert_pem, key_pem, "/ws/agent", NULL,
      message);
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (!haystack || !strstr (haystack, needle))
    g_error ("expected \"%s\" in \"%s\"", needle,
        haystack ? haystack : "(null)");
}

/* ------------------------------------------------------------------ */

/* The agent enrolls with the CLI (pinning the gateway), connects with its
 * certificate only, and serves a live session; deleting it closes its
 * connection and it stays out. */
static void
test_full_enrollment_live_session (void)
{
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrTestViewer) v = NULL;
  g_autoptr (WrHttpResponse) r = NULL;
  g_autofree char *state = NULL;
  g_autofree char *key = NULL;
  g_autofree char *cmd_out = NULL;
  struct stat st;

  wr_watchdog_arm (80);
  h = wr_harness_new (WIDTH, HEIGHT);
  g_assert_true (wr_harness_start_xvfb (h, &error));
  g_assert_true (wr_harness_start_gateway (h, &error));
  g_assert_true (wr_harness_login (h, &error));
  g_assert_no_error (error);

  state = g_build_filename (h->tmp_dir, "agent-state", NULL);
  g_assert_true (wr_harness_enroll_agent (h, "enrolled-1", state, &error));
  g_assert_no_error (error);
  key = g_build_filename (state, "agent.key", NULL);
  g_assert_cmpint (stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* no token anywhere: the agent has only its state directory */
  g_free (h->agent_id);
  h->agent_id = g_strdup ("enrolled-1");
  h->agent_state_dir = g_strdup (state);
  g_assert_true (wr_harness_start_agent (h, &error));
  g_assert_no_error (error);
  if (!wr_harness_wait_agent_online (h, 15000))
    g_error ("the enrolled agent is not online within 15 s");

  v = wr_test_viewer_new (h->base_url, h->fingerprint, h->token);
  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session (v, "enrolled-1", NULL, 5000, &error);
  g_assert_no_error (error);
  if (!wr_test_viewer_wait_frames (v, 10, 15000))
    g_error ("no frames over the mTLS agent: %s", wr_test_viewer_describe (v));

  /* deleting the agent ends its connection, and it cannot come back */
  r = wr_harness_http (h, "DELETE", "/api/v1/agents/enrolled-1", h->token,
      NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 204);
  wr_iterate_ms (3000);
  g_assert_false (wr_harness_agent_online (h));
  wr_watchdog_disarm ();
}

/* Every way in that must be refused, each with a message that says why. */
static void
test_refusals (void)
{
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key1 = NULL, *csr1 = NULL;
  g_autofree char *key2 = NULL, *csr2 = NULL;
  g_autofree char *key3 = NULL, *csr3 = NULL;
  g_autofree char *fkey = NULL, *fcert = NULL;
  g_autofree char *token = NULL;
  g_autofree char *message = NULL;
  g_autofree char *cert1 = NULL;
  g_autofree char *renewed = NULL;
  g_autofree char *renew_body = NULL;
  g_autofree char *csr_json = NULL;

  wr_watchdog_arm (80);
  h = wr_harness_new (WIDTH, HEIGHT);
  g_assert_true (wr_harness_start_gateway (h, &error));
  g_assert_no_error (error);

  /* enrollment works once per token */
  make_csr ("agent-a", &key1, &csr1);
  token = new_token (h, "1h");
  {
    g_autoptr (WrHttpResponse) r = enroll (h, token, csr1, 200);

    g_assert_cmpstr (member (r, "agent_id"), ==, "agent-a");
    g_assert_true (g_str_has_prefix (member (r, "grant_key"), "ed25519:"));
    assert_contains (member (r, "ca_certificate"), "BEGIN CERTIFICATE");
    cert1 = g_strdup (member (r, "certificate"));
  }
  g_assert_cmpuint (probe (h, cert1, key1, &message), ==, 400);
  g_clear_pointer (&message, g_free);

  /* token reuse */
  {
    g_autoptr (WrHttpResponse) r = enroll (h, token, csr1, 401);

    g_assert_cmpstr (member (r, "code"), ==, "unauthorized");
    assert_contains (member (r, "message"), "already used");
  }
  /* unknown token */
  {
    g_autoptr (WrHttpResponse) r = enroll (h, "not-a-token", csr1, 401);

    assert_contains (member (r, "message"), "not valid");
  }
  /* expired token */
  {
    g_autofree char *short_token = new_token (h, "1s");
    g_autoptr (WrHttpResponse) r = NULL;

    wr_iterate_ms (2100);
    r = enroll (h, short_token, csr1, 401);
    assert_contains (member (r, "message"), "expired");
  }
  /* a CSR claiming another enrolled agent's id: refused, and the token
   * stays good for an honest request */
  {
    g_autofree char *t = new_token (h, "1h");
    g_autoptr (WrHttpResponse) r = NULL;
    g_autoptr (WrHttpResponse) ok = NULL;

    make_csr ("agent-a", &key2, &csr2);
    r = enroll (h, t, csr2, 409);
    g_assert_cmpstr (member (r, "code"), ==, "conflict");
    assert_contains (member (r, "message"), "belongs to an enrolled agent");
    make_csr ("agent-b", &key3, &csr3);
    ok = enroll (h, t, csr3, 200);
    g_assert_cmpstr (member (ok, "agent_id"), ==, "agent-b");
  }
  /* a malformed CSR */
  {
    g_autofree char *t = new_token (h, "1h");
    g_autoptr (WrHttpResponse) r = enroll (h, t, "-----BEGIN junk", 400);

    assert_contains (member (r, "message"), "csr");
  }

  /* a certificate from another CA, with the right name */
  make_foreign_cert ("agent-a", &fkey, &fcert);
  g_assert_cmpuint (probe (h, fcert, fkey, &message), ==, 401);
  assert_contains (message, "refused");
  g_clear_pointer (&message, g_free);

  /* an expired certificate signed by the gateway's own CA */
  {
    g_autofree char *kek = g_build_filename (h->state_dir, "kek", NULL);
    g_autofree char *ca_dir = g_build_filename (h->state_dir, "ca", NULL);
    g_autoptr (WrKeyring) ring = wr_keyring_load (kek, &error);
    g_autoptr (WrCa) ca = NULL;
    g_autofree char *old = NULL;

    g_assert_no_error (error);
    ca = wr_ca_open (ca_dir, ring, NULL, &error);
    g_assert_no_error (error);
    old = wr_ca_sign_csr (ca, csr1, "agent-a", -120, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (probe (h, old, key1, &message), ==, 401);
    assert_contains (message, "expired");
    g_clear_pointer (&message, g_free);
  }

  /* renewal over HTTPS with the current certificate: the new one works,
   * the old one no longer does */
  {
    g_autofree char *k = NULL, *c = NULL;

    make_csr ("agent-a", &k, &c);
    csr_json = json_quote (c);
    renew_body = g_strdup_printf ("{\"csr\":%s}", csr_json);
    g_assert_cmpuint (probe_agent_endpoint (h, cert1, key1,
            "/api/v1/agent/renew", renew_body, &renewed), ==, 200);
    assert_contains (renewed, "BEGIN CERTIFICATE");
    g_assert_cmpuint (probe (h, renewed, k, NULL), ==, 400);
    g_assert_cmpuint (probe (h, cert1, key1, &message), ==, 401);
    assert_contains (message, "not its current one");
    g_clear_pointer (&message, g_free);

    /* a revoked agent */
    {
      const char *args[] = { "agent", "revoke", "agent-a", NULL };
      g_autofree char *out = wr_harness_ctl (h, args, &error);

      g_assert_no_error (error);
      assert_contains (out, "revoked");
    }
    g_assert_cmpuint (probe (h, renewed, k, &message), ==, 401);
    assert_contains (message, "revoked");
    g_clear_pointer (&message, g_free);
  }

  /* there is no pre-shared agent token: a bearer token without a client
   * certificate is refused on /ws/agent */
  {
    g_autofree char *t = wr_random_token (32);
    guint status = 0;
    g_autofree char *req = NULL;
    g_autofree char *body = NULL;

    req = g_strdup_printf ("GET /ws/agent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Authorization: Bearer %s\r\nConnection: close\r\n\r\n", t);
    body = wr_harness_raw_request (h, req, 5000, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (status, ==, 401);
  }

  /* keys rotate: a new current key in the key file, the CA key re-sealed
   * under it, and the gateway still starts with it */
  {
    g_autofree char *kek = g_build_filename (h->state_dir, "kek", NULL);
    g_autofree char *old_text = NULL;
    g_autofree char *new_text = NULL;
    g_autofree char *out = NULL;
    g_autofree char *sealed = NULL;
    g_autofree char *sealed_path = g_build_filename (h->state_dir, "ca",
        "ca.key.sealed", NULL);
    const char *args[] = { "keys", "rotate", NULL };
    guint8 raw[32];
    g_autofree char *b64 = NULL;

    for (guint i = 0; i < sizeof raw; i++)
      raw[i] = (guint8) g_random_int ();
    b64 = wr_base64url_encode (raw, sizeof raw);
    g_assert_true (g_file_get_contents (kek, &old_text, NULL, NULL));
    new_text = g_strdup_printf ("k2 %s\n%s", b64, old_text);
    g_assert_true (g_file_set_contents_full (kek, new_text, -1,
            G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
    out = wr_harness_ctl (h, args, &error);
    g_assert_no_error (error);
    assert_contains (out, "under key k2");
    g_assert_true (g_file_get_contents (sealed_path, &sealed, NULL, NULL));
    g_assert_true (g_str_has_prefix (sealed, "wr1.k2."));
    wr_harness_kill_gateway (h);
    g_assert_true (wr_harness_start_gateway (h, &error));
    g_assert_no_error (error);
    {
      g_autofree char *t = new_token (h, "1h");
      g_autofree char *k = NULL, *c = NULL;
      g_autoptr (WrHttpResponse) r = NULL;

      make_csr ("agent-c", &k, &c);
      r = enroll (h, t, c, 200);
      g_assert_cmpuint (probe (h, member (r, "certificate"), k, NULL), ==,
          400);
    }
  }
  wr_watchdog_disarm ();
}

#define N_AGENTS 50

/* How many of the agents agent-00..49 GET /agents lists online; records
 * when each was first seen online in @first_seen (monotonic µs, 0 = not
 * yet). */
static guint
count_online (WrHarness *h, gint64 *first_seen)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrHttpResponse) r = wr_harness_http (h, "GET", "/api/v1/agents",
      h->token, NULL, &error);
  JsonArray *agents;
  guint n = 0;

  if (!r || r->status != 200 || !r->json)
    return 0;
  agents = json_object_get_array_member (json_node_get_object (r->json),
      "agents");
  for (guint i = 0; i < json_array_get_length (agents); i++) {
    JsonObject *a = json_array_get_object_element (agents, i);
    const char *id = json_object_get_string_member (a, "id");
    int k;

    if (!json_object_get_boolean_member (a, "online")
        || !g_str_has_prefix (id, "fleet-"))
      continue;
    n++;
    k = atoi (id + strlen ("fleet-"));
    if (first_seen && k >= 0 && k < N_AGENTS && !first_seen[k])
      first_seen[k] = g_get_monotonic_time ();
  }
  return n;
}

/* 50 enrolled agents (mTLS, no token) on one display; the gateway is
 * killed and started again: every agent is back online within seconds
 * without re-enrolling, and they do not all come back at the same
 * instant (backoff with jitter). */
static void
test_restart_with_50_agents (void)
{
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (GError) error = NULL;
  gint64 first_seen[N_AGENTS] = { 0 };
  gint64 start, earliest = G_MAXINT64, latest = 0;
  guint online = 0;

  wr_watchdog_arm (170);
  h = wr_harness_new (WIDTH, HEIGHT);
  g_assert_true (wr_harness_start_xvfb (h, &error));
  g_assert_true (wr_harness_start_gateway (h, &error));
  g_assert_true (wr_harness_login (h, &error));
  g_assert_no_error (error);

  for (int i = 0; i < N_AGENTS; i++) {
    g_autofree char *id = g_strdup_printf ("fleet-%02d", i);
    g_autofree char *dir = g_build_filename (h->tmp_dir, id, NULL);

    wr_harness_enroll_agent (h, id, dir, &error);
    g_assert_no_error (error);
    wr_harness_start_enrolled_agent (h, dir, id, &error);
    g_assert_no_error (error);
  }
  start = g_get_monotonic_time ();
  while ((online = count_online (h, NULL)) < N_AGENTS
      && g_get_monotonic_time () - start < 60 * G_USEC_PER_SEC)
    wr_iterate_ms (250);
  g_assert_cmpuint (online, ==, N_AGENTS);

  wr_harness_kill_gateway (h);
  wr_iterate_ms (1500);
  g_assert_true (wr_harness_start_gateway (h, &error));
  g_assert_no_error (error);
  g_assert_true (wr_harness_login (h, &error));
  start = g_get_monotonic_time ();
  while ((online = count_online (h, first_seen)) < N_AGENTS
      && g_get_monotonic_time () - start < 30 * G_USEC_PER_SEC)
    wr_iterate_ms (50);
  if (online < N_AGENTS)
    g_error ("only %u of %d agents back online 30 s after the restart",
        online, N_AGENTS);
  for (int i = 0; i < N_AGENTS; i++) {
    earliest = MIN (earliest, first_seen[i]);
    latest = MAX (latest, first_seen[i]);
  }
  g_test_message ("all %d agents back within %.1f s of the restart, spread "
      "over %.2f s", N_AGENTS, (latest - start) / 1e6,
      (latest - earliest) / 1e6);
  /* spread out: not one burst (the reconnect ceiling here is 2 s) */
  g_assert_cmpint (latest - earliest, >=, 300 * 1000);
  g_assert_cmpint (latest - start, <=, 15 * G_USEC_PER_SEC);

  /* webremotectl agent revoke works from outside the gateway process: the
   * gateway notices within seconds and closes the live connection, and
   * the agent's reconnects are refused */
  {
    const char *args[] = { "agent", "revoke", "fleet-07", NULL };
    g_autofree char *out = wr_harness_ctl (h, args, &error);

    g_assert_no_error (error);
    start = g_get_monotonic_time ();
    while ((online = count_online (h, NULL)) == N_AGENTS
        && g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
      wr_iterate_ms (200);
    g_assert_cmpuint (online, ==, N_AGENTS - 1);
    wr_iterate_ms (3000);
    g_assert_cmpuint (count_online (h, NULL), ==, N_AGENTS - 1);
  }
  wr_watchdog_disarm ();
}

/* The agent renews its own certificate while a viewer watches: with a
 * test-only lifetime of 18 s (`[ca] agent-cert-seconds`) it renews after
 * about 12 s; the session keeps decoding and the agent stays online, and
 * the certificate it had before, still within its lifetime, is refused from
 * then on. */
static void
test_agent_renews_during_session (void)
{
  g_autoptr (WrHarness) h = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrTestViewer) v = NULL;
  g_autofree char *crt_path = NULL, *key_path = NULL;
  g_autofree char *old_crt = NULL, *old_key = NULL;
  g_autofree char *message = NULL;
  gboolean renewed = FALSE;
  guint64 before;

  wr_watchdog_arm (80);
  h = wr_harness_new (WIDTH, HEIGHT);
  h->gateway_extra_config = g_strdup ("[ca]\nagent-cert-seconds=18\n");
  g_assert_true (wr_harness_start_all (h, &error));
  g_assert_no_error (error);
  crt_path = g_strdup_printf ("%s/agent-state-%s/agent.crt", h->tmp_dir,
      h->agent_id);
  key_path = g_strdup_printf ("%s/agent-state-%s/agent.key", h->tmp_dir,
      h->agent_id);
  g_assert_true (g_file_get_contents (crt_path, &old_crt, NULL, NULL));
  g_assert_true (g_file_get_contents (key_path, &old_key, NULL, NULL));

  v = wr_test_viewer_new (h->base_url, h->fingerprint, h->token);
  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  wr_test_viewer_start_session (v, h->agent_id, NULL, 5000, &error);
  g_assert_no_error (error);
  if (!wr_test_viewer_wait_frames (v, 10, 15000))
    g_error ("no frames: %s", wr_test_viewer_describe (v));

  for (guint i = 0; i < 150 && !renewed; i++) {
    g_autofree char *now = NULL;

    wr_iterate_ms (200);
    renewed = g_file_get_contents (crt_path, &now, NULL, NULL)
        && !g_str_equal (now, old_crt);
  }
  if (!renewed)
    g_error ("the agent did not renew its 18 s certificate within 30 s");

  /* the session did not notice */
  before = wr_test_viewer_get_frames (v);
  wr_iterate_ms (2000);
  if (wr_test_viewer_get_frames (v) < before + 10)
    g_error ("the session stopped decoding across the renewal: %s",
        wr_test_viewer_describe (v));
  g_assert_true (wr_harness_agent_online (h));

  /* the old certificate (still within its 18 s) is no longer the agent's */
  g_assert_cmpuint (probe (h, old_crt, old_key, &message), ==, 401);
  assert_contains (message, "not its current one");
  wr_watchdog_disarm ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/integration/enroll/full-enrollment-then-live-session",
      test_full_enrollment_live_session);
  g_test_add_func ("/integration/enroll/refusals", test_refusals);
  g_test_add_func ("/integration/enroll/agent-renews-during-session",
      test_agent_renews_during_session);
  g_test_add_func ("/integration/enroll/restart-with-50-agents",
      test_restart_with_50_agents);
  return g_test_run ();
}
