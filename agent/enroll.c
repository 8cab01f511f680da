/* webremote-agent enroll, and certificate renewal. */
#include "config.h"

#include "agent/enroll.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/pinned-tls-database.h"
#include "common/crypto.h"

#define ENROLL_TIMEOUT_S 30
#define RENEW_RETRY_S 60

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

static char *
bio_string (BIO *bio)
{
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);

  return g_strndup (data, (gsize) len);
}

/* A fresh P-256 key and a CSR whose CN is the agent id. */
static gboolean
make_key_and_csr (const char *id, char **key_pem, char **csr_pem,
    GError **error)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509_REQ *req = X509_REQ_new ();
  g_autoptr (BIO) kb = BIO_new (BIO_s_mem ());
  g_autoptr (BIO) cb = BIO_new (BIO_s_mem ());
  gboolean ok = key && req
      && X509_REQ_set_version (req, 0)
      && X509_NAME_add_entry_by_txt (X509_REQ_get_subject_name (req), "CN",
          MBSTRING_UTF8, (const unsigned char *) id, -1, -1, 0)
      && X509_REQ_set_pubkey (req, key)
      && X509_REQ_sign (req, key, EVP_sha256 ())
      && PEM_write_bio_PrivateKey (kb, key, NULL, NULL, 0, NULL, NULL)
      && PEM_write_bio_X509_REQ (cb, req);

  if (ok) {
    *key_pem = bio_string (kb);
    *csr_pem = bio_string (cb);
  } else {
    ERR_clear_error ();
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot make a key pair and certificate request");
  }
  EVP_PKEY_free (key);
  X509_REQ_free (req);
  return ok;
}

/* Written beside, then renamed over: a crash never leaves half a key. */
static gboolean
write_private (const char *dir, const char *name, const char *text,
    GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  g_autofree char *line = g_str_has_suffix (text, "\n") ? g_strdup (text)
      : g_strconcat (text, "\n", NULL);
  gsize len = strlen (line);
  int fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0 || write (fd, line, len) != (gssize) len || fsync (fd) < 0) {
    int saved = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot write %s: %s", tmp, g_strerror (saved));
    return FALSE;
  }
  close (fd);
  if (g_rename (tmp, path) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot write %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static const char *
json_string (JsonObject *obj, const char *name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (!node || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* POSTs @body and returns the JSON object answered with 200, or an error
 * with the gateway's message. */
static JsonObject *parse_answer (SoupMessage *msg, GBytes *response,
    GError **error);

static JsonObject *
post_json (SoupSession *session, SoupMessage *msg, const char *body,
    GError **error)
{
  g_autoptr (GBytes) request = g_bytes_new (body, strlen (body));
  g_autoptr (GBytes) response = NULL;

  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  response = soup_session_send_and_read (session, msg, NULL, error);
  if (!response)
    return NULL;
  return parse_answer (msg, response, error);
}

/* The JSON object of a 200 answer, else an error naming the refusal. */
static JsonObject *
parse_answer (SoupMessage *msg, GBytes *response, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  const char *message;
  gsize len;
  const char *data;

  data = g_bytes_get_data (response, &len);
  root = len > 0 && json_parser_load_from_data (parser, data, (gssize) len,
      NULL) ? json_parser_get_root (parser) : NULL;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK || !root
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    message = root && JSON_NODE_HOLDS_OBJECT (root)
        ? json_string (json_node_get_object (root), "message") : NULL;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "the gateway refused (HTTP %u): %s", soup_message_get_status (msg),
        message ? message : soup_message_get_reason_phrase (msg));
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

static char *
request_body (const char *token, const char *csr)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  if (token) {
    json_builder_set_member_name (b, "token");
    json_builder_add_string_value (b, token);
  }
  json_builder_set_member_name (b, "csr");
  json_builder_add_string_value (b, csr);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static gboolean
trust_on_first_use (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  char **seen = user_data;

  g_free (*seen);
  *seen = wr_certificate_fingerprint (cert);
  return TRUE;
}

static int enroll_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
enroll_fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("webremote-agent enroll: %s\n", message);
  return 1;
}

int
wr_agent_enroll_main (int argc, char **argv)
{
  g_autofree char *opt_fp = NULL;
  g_autofree char *opt_state = NULL;
  g_autofree char *opt_id = NULL;
  g_autofree char *opt_token_file = NULL;
  const GOptionEntry entries[] = {
    { "ca-fingerprint", 0, 0, G_OPTION_ARG_STRING, &opt_fp,
      "SHA-256 fingerprint of the gateway's TLS certificate (else it is "
      "trusted on first use and pinned)", "SHA256" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state,
      "Where to keep the credentials (default "
      WR_AGENT_DEFAULT_STATE_DIR ")", "DIR" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &opt_id,
      "Agent id (default: the host name)", "ID" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_token_file,
      "Read the enrollment token from FILE instead of the command line",
      "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (
      "https://GATEWAY [TOKEN] - enroll this agent with a gateway");
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autofree char *token = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *csr_pem = NULL;
  g_autofree char *body = NULL;
  g_autofree char *url = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *pin = NULL;
  const char *state;
  const char *id;
  const char *cert;
  const char *ca;
  const char *grant_key;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return enroll_fail ("%s", error->message), 2;
  if (argc < 2 || argc > 3 || (argc == 2 && !opt_token_file))
    return enroll_fail ("%s", "usage: webremote-agent enroll https://GATEWAY "
        "TOKEN [--ca-fingerprint SHA256] [--state-dir DIR]"), 2;
  uri = g_uri_parse (argv[1], G_URI_FLAGS_NONE, NULL);
  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
      || !g_uri_get_host (uri))
    return enroll_fail ("'%s' is not an https:// URL", argv[1]), 2;
  if (opt_token_file) {
    if (!g_file_get_contents (opt_token_file, &token, NULL, &error))
      return enroll_fail ("%s", error->message), 2;
  } else {
    token = g_strdup (argv[2]);
  }
  g_strstrip (token);
  if (opt_fp && !(pin = wr_fingerprint_normalize (opt_fp)))
    return enroll_fail ("'%s' is not a SHA-256 fingerprint", opt_fp), 2;
  state = opt_state ? opt_state : WR_AGENT_DEFAULT_STATE_DIR;
  id = opt_id ? opt_id : g_get_host_name ();
  if (g_mkdir_with_parents (state, 0700) < 0)
    return enroll_fail ("cannot create the state directory: %s",
        g_strerror (errno));
  if (!make_key_and_csr (id, &key_pem, &csr_pem, &error))
    return enroll_fail ("%s", error->message);

  while (g_str_has_suffix (argv[1], "/"))
    argv[1][strlen (argv[1]) - 1] = '\0';
  url = g_strdup_printf ("%s/api/v1/enroll", argv[1]);
  session = soup_session_new_with_options ("proxy-resolver", NULL,
      "timeout", ENROLL_TIMEOUT_S, NULL);
  msg = soup_message_new ("POST", url);
  if (!msg)
    return enroll_fail ("'%s' is not a valid URL", argv[1]), 2;
  if (pin) {
    db = wr_pinned_tls_database_new (pin, NULL);
    soup_session_set_tls_database (session, db);
  } else {
    g_signal_connect (msg, "accept-certificate",
        G_CALLBACK (trust_on_first_use), &seen);
  }
  body = request_body (token, csr_pem);
  answer = post_json (session, msg, body, &error);
  memset (token, 0, strlen (token));
  if (!answer)
    return enroll_fail ("%s", error->message);
  cert = json_string (answer, "certificate");
  ca = json_string (answer, "ca_certificate");
  grant_key = json_string (answer, "grant_key");
  if (!cert || !ca || !grant_key)
    return enroll_fail ("%s", "the gateway's answer lacks the certificate");
  if (!pin) {
    GTlsCertificate *peer = soup_message_get_tls_peer_certificate (msg);
    pin = seen ? g_strdup (seen)
        : peer ? wr_certificate_fingerprint (peer) : NULL;
    if (!pin)
      return enroll_fail ("%s", "cannot read the gateway's certificate");
    printf ("trusting the gateway certificate on first use; pinned its "
        "fingerprint %s\n", pin);
  }
  if (!write_private (state, WR_AGENT_STATE_KEY, key_pem, &error)
      || !write_private (state, WR_AGENT_STATE_CERT, cert, &error)
      || !write_private (state, WR_AGENT_STATE_CA, ca, &error)
      || !write_private (state, WR_AGENT_STATE_ID, id, &error)
      || !write_private (state, WR_AGENT_STATE_URL, argv[1], &error)
      || !write_private (state, WR_AGENT_STATE_FINGERPRINT, pin, &error)
      || !write_private (state, WR_AGENT_STATE_GRANT_KEY, grant_key, &error))
    return enroll_fail ("%s", error->message);
  memset (key_pem, 0, strlen (key_pem));
  printf ("enrolled as %s; credentials in %s (run webremote-agent "
      "--state-dir %s)\n", id, state, state);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Renewal */

typedef struct {
  char *state_dir;
  char *id;
  char *renew_url;
  WrGatewayLink *link;     /* ref */
  GTlsDatabase *database;  /* ref */
  char *pending_key_pem;   /* the new key while its CSR is out (secret) */
} Renewal;

static void schedule_renewal (Renewal *r);

/* When to renew: at two thirds of the certificate's lifetime. */
static gint64
renew_delay_seconds (const char *cert_file)
{
  g_autofree char *pem = NULL;
  g_autoptr (BIO) bio = NULL;
  X509 *cert;
  int days = 0, secs = 0;
  gint64 lifetime, left;
  ASN1_TIME *now;

  if (!g_file_get_contents (cert_file, &pem, NULL, NULL))
    return RENEW_RETRY_S;
  bio = BIO_new_mem_buf (pem, -1);
  cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (!cert)
    return RENEW_RETRY_S;
  ASN1_TIME_diff (&days, &secs, X509_get0_notBefore (cert),
      X509_get0_notAfter (cert));
  lifetime = (gint64) days * 86400 + secs;
  now = ASN1_TIME_set (NULL, time (NULL));
  ASN1_TIME_diff (&days, &secs, now, X509_get0_notAfter (cert));
  left = (gint64) days * 86400 + secs;
  ASN1_TIME_free (now);
  X509_free (cert);
  return MAX (1, left - lifetime / 3);
}

static gboolean renew_now (gpointer data);

static void
renew_failed (Renewal *r, GError *error)
{
  g_warning ("cannot renew the client certificate (retrying in %d s): %s",
      RENEW_RETRY_S, error ? error->message : "?");
  g_timeout_add_seconds (RENEW_RETRY_S, renew_now, r);
}

/* The answer to the renewal request: store the new key and certificate,
 * and use them from the next connection on (the current one carries on). */
static void
renew_answered (GObject *source, GAsyncResult *result, gpointer data)
{
  Renewal *r = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) response = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GTlsCertificate) renewed = NULL;
  g_autofree char *crt = g_build_filename (r->state_dir, WR_AGENT_STATE_CERT,
      NULL);
  g_autofree char *key = g_build_filename (r->state_dir, WR_AGENT_STATE_KEY,
      NULL);
  g_autofree char *key_pem = g_steal_pointer (&r->pending_key_pem);
  SoupMessage *msg = soup_session_get_async_result_message (
      SOUP_SESSION (source), result);
  const char *cert;

  response = soup_session_send_and_read_finish (SOUP_SESSION (source),
      result, &error);
  g_object_unref (source);
  if (!response || !(answer = parse_answer (msg, response, &error)))
    goto fail;
  if (!(cert = json_string (answer, "certificate"))) {
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "no certificate");
    goto fail;
  }
  renewed = g_tls_certificate_new_from_pem (cert, -1, &error);
  if (!renewed)
    goto fail;
  /* key first: a new certificate beside the old key would be useless */
  if (!write_private (r->state_dir, WR_AGENT_STATE_KEY, key_pem, &error)
      || !write_private (r->state_dir, WR_AGENT_STATE_CERT, cert, &error))
    goto fail;
  g_clear_object (&renewed);
  renewed = g_tls_certificate_new_from_files (crt, key, &error);
  if (!renewed)
    goto fail;
  wr_gateway_link_set_client_certificate (r->link, renewed);
  g_message ("renewed the client certificate");
  schedule_renewal (r);
  return;

fail:
  renew_failed (r, error);
}

/* Asynchronous: the main loop also carries the live sessions, which must
 * not stall while the gateway answers. */
static gboolean
renew_now (gpointer data)
{
  Renewal *r = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *crt = g_build_filename (r->state_dir, WR_AGENT_STATE_CERT,
      NULL);
  g_autofree char *key = g_build_filename (r->state_dir, WR_AGENT_STATE_KEY,
      NULL);
  g_autoptr (GTlsCertificate) current = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autofree char *csr_pem = NULL;
  g_autofree char *body = NULL;
  SoupSession *session;

  g_clear_pointer (&r->pending_key_pem, g_free);
  current = g_tls_certificate_new_from_files (crt, key, &error);
  if (!current || !make_key_and_csr (r->id, &r->pending_key_pem, &csr_pem,
          &error)) {
    renew_failed (r, error);
    return G_SOURCE_REMOVE;
  }
  session = soup_session_new_with_options ("tls-database", r->database,
      "proxy-resolver", NULL, "timeout", ENROLL_TIMEOUT_S, NULL);
  msg = soup_message_new ("POST", r->renew_url);
  soup_message_set_tls_client_certificate (msg, current);
  body = request_body (NULL, csr_pem);
  request = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  /* the session is released in renew_answered */
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL,
      renew_answered, r);
  return G_SOURCE_REMOVE;
}

static void
schedule_renewal (Renewal *r)
{
  g_autofree char *crt = g_build_filename (r->state_dir, WR_AGENT_STATE_CERT,
      NULL);
  gint64 delay = renew_delay_seconds (crt);

  g_message ("renewing the client certificate in %" G_GINT64_FORMAT " s",
      delay);
  g_timeout_add_seconds ((guint) MIN (delay, G_MAXUINT / 2), renew_now, r);
}

void
wr_agent_renewal_start (const WrAgentConfig *cfg, WrGatewayLink *link,
    GTlsDatabase *database)
{
  Renewal *r = g_new0 (Renewal, 1);
  g_autofree char *base = g_strdup (cfg->gateway_url);

  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  r->state_dir = g_strdup (cfg->state_dir);
  r->id = g_strdup (cfg->id);
  r->renew_url = g_strconcat (base, "/api/v1/agent/renew", NULL);
  r->link = g_object_ref (link);
  r->database = g_object_ref (database);
  /* lives as long as the process */
  schedule_renewal (r);
}
