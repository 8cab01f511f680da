/* Unit tests for agent/agent-config.c: agent.conf, flags and refusals. */
#include "config.h"

#include "agent/agent-config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/config.h"

#define PIN "57:22:FF:0C:60:F6:A8:67:26:36:AE:0B:A9:FD:7C:FE:" \
  "CE:72:19:BA:42:03:1D:42:93:33:A3:A0:D0:F8:E4:21"

/* Some gateway's session grant key (webremote-gateway --print-grant-key). */
#define GRANT_KEY "ed25519:bkXKOWk3p9ZZ+fW9q5m90Zu3nHMFEWnOPonugECrjmU="

typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("wr-agent-config-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

/* What `webremote-agent enroll` leaves in the state directory, as far as
 * the config looks: a certificate, a key and the enrolled id. */
static void
fake_enrollment (Fixture *f, const char *id)
{
  const char *names[] = { "agent.crt", "agent.key", "agent.id" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *path = g_build_filename (f->dir, names[i], NULL);
    g_assert_true (g_file_set_contents (path, i == 2 ? id : "x", -1, NULL));
  }
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *path = g_build_filename (f->dir, name, NULL);
    g_unlink (path);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
write_file (Fixture *f, const char *name, const char *text)
{
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_unknown_key_names_file_and_line (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "agent.conf",
      "[agent]\n"
      "id = lab-1\n"
      "\n"
      "gateway-urll = https://127.0.0.1:8443\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = wr_agent_config_load (path, TRUE, &error);
  g_autofree char *expected = g_strdup_printf ("%s:4: [agent] gateway-urll:",
      path);

  g_assert_null (cfg);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, expected));
  g_assert_nonnull (strstr (error->message, "unknown key"));
}

static void
test_bad_int_names_file_and_line (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "agent.conf",
      "[agent]\n"
      "id = lab-1\n"
      "[video]\n"
      "framerate = thirty\n"
      "bitrate-kbps = 5\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = wr_agent_config_load (path, TRUE, &error);
  g_autofree char *line4 = g_strdup_printf ("%s:4: [video] framerate:",
      path);
  g_autofree char *line5 = g_strdup_printf ("%s:5: [video] bitrate-kbps:",
      path);

  g_assert_null (cfg);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, line4));
  g_assert_nonnull (strstr (error->message, "not an integer"));
  /* Every problem is reported, not just the first. */
  g_assert_nonnull (strstr (error->message, line5));
  g_assert_nonnull (strstr (error->message, "out of range"));
}

static void
test_unknown_section (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "agent.conf",
      "[agent]\nid = a\n[audio]\nbitrate = 1\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = wr_agent_config_load (path, TRUE, &error);
  g_autofree char *expected = g_strdup_printf ("%s:3: [audio]", path);

  g_assert_null (cfg);
  g_assert_nonnull (strstr (error->message, expected));
}

static void
test_missing_explicit_file_is_an_error (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "nope.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = wr_agent_config_load (path, TRUE, &error);
  g_autoptr (WrAgentConfig) dflt = NULL;

  g_assert_null (cfg);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO);
  /* The default file may be missing. */
  dflt = wr_agent_config_load (path, FALSE, NULL);
  g_assert_nonnull (dflt);
}

static void
test_full_config_and_defaults (Fixture *f, gconstpointer data)
{
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentConfig) cfg = NULL;
  g_autofree char *url = NULL;
  g_autofree char *crt = g_build_filename (f->dir, "agent.crt", NULL);

  fake_enrollment (f, "lab-1");
  text = g_strdup_printf (
      "[agent]\n"
      "id = lab-1\n"
      "gateway-url = https://127.0.0.1:8443/\n"
      "gateway-fingerprint = %s\n"
      "gateway-public-key = " GRANT_KEY "\n"
      "state-dir = %s\n"
      "displays = :1;:2\n"
      "[webrtc]\n"
      "ice-addresses = 127.0.0.1\n", "sha256:" PIN, f->dir);
  path = write_file (f, "agent.conf", text);
  cfg = wr_agent_config_load (path, TRUE, &error);

  g_assert_no_error (error);
  g_assert_true (wr_agent_config_finish (cfg, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (cfg->id, ==, "lab-1");
  g_assert_cmpstr (cfg->name, ==, "lab-1");
  g_assert_cmpstr (cfg->fingerprint, ==, PIN);
  g_assert_cmpstr (cfg->client_cert_file, ==, crt);
  g_assert_nonnull (cfg->grant_key);
  g_assert_cmpuint (g_strv_length (cfg->displays), ==, 2);
  g_assert_cmpstr (cfg->displays[1], ==, ":2");
  g_assert_cmpstr (cfg->ice_addresses[0], ==, "127.0.0.1");
  g_assert_cmpint (cfg->reconnect_min_ms, ==, 500);
  g_assert_cmpint (cfg->reconnect_max_ms, ==, 8000);
  g_assert_cmpint (cfg->framerate, ==, 30);
  g_assert_cmpint (cfg->bitrate_kbps, ==, 6000);
  url = wr_agent_config_websocket_url (cfg);
  g_assert_cmpstr (url, ==, "wss://127.0.0.1:8443/ws/agent");
}

static WrAgentConfig *
minimal (Fixture *f)
{
  WrAgentConfig *cfg = wr_agent_config_load (NULL, FALSE, NULL);

  fake_enrollment (f, "a");
  cfg->state_dir = g_strdup (f->dir);
  cfg->id = g_strdup ("a");
  cfg->gateway_url = g_strdup ("https://127.0.0.1:8443");
  cfg->fingerprint = g_strdup (PIN);
  cfg->gateway_public_key = g_strdup (GRANT_KEY);
  cfg->displays = g_strsplit (":1", ";", -1);
  return cfg;
}

/* Like the pin: no grant key, no agent; a bad one is named. */
static void
test_refuses_without_grant_key (Fixture *f, gconstpointer data)
{
  g_autoptr (WrAgentConfig) none = minimal (f);
  g_autoptr (WrAgentConfig) bad = minimal (f);
  g_autoptr (WrAgentConfig) both = minimal (f);
  g_autoptr (WrAgentConfig) file = minimal (f);
  g_autofree char *path = write_file (f, "grant.pub", GRANT_KEY "\n");
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&none->gateway_public_key, g_free);
  g_assert_false (wr_agent_config_finish (none, &error));
  g_assert_nonnull (strstr (error->message, "gateway-public-key"));
  g_assert_nonnull (strstr (error->message, "--print-grant-key"));
  g_assert_null (none->grant_key);
  g_clear_error (&error);

  g_free (bad->gateway_public_key);
  bad->gateway_public_key = g_strdup ("ed25519:AAAA");
  g_assert_false (wr_agent_config_finish (bad, &error));
  g_assert_nonnull (strstr (error->message, "grant key"));
  g_clear_error (&error);

  both->gateway_public_key_file = g_strdup (path);
  g_assert_false (wr_agent_config_finish (both, &error));
  g_assert_nonnull (strstr (error->message, "only one"));
  g_clear_error (&error);

  g_clear_pointer (&file->gateway_public_key, g_free);
  file->gateway_public_key_file = g_strdup (path);
  g_assert_true (wr_agent_config_finish (file, &error));
  g_assert_no_error (error);
  g_assert_nonnull (file->grant_key);
}

static void
test_refuses_without_pin_or_ca (Fixture *f, gconstpointer data)
{
  g_autoptr (WrAgentConfig) cfg = minimal (f);
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&cfg->fingerprint, g_free);
  g_assert_false (wr_agent_config_finish (cfg, &error));
  g_assert_nonnull (strstr (error->message, "gateway-fingerprint"));
  g_assert_nonnull (strstr (error->message, "gateway-ca-file"));
}

static void
test_refuses_plain_http_and_bad_pin (Fixture *f, gconstpointer data)
{
  g_autoptr (WrAgentConfig) http = minimal (f);
  g_autoptr (WrAgentConfig) pin = minimal (f);
  g_autoptr (GError) error = NULL;

  g_free (http->gateway_url);
  http->gateway_url = g_strdup ("http://127.0.0.1:8443");
  g_assert_false (wr_agent_config_finish (http, &error));
  g_assert_nonnull (strstr (error->message, "https://"));
  g_clear_error (&error);

  g_free (pin->fingerprint);
  pin->fingerprint = g_strdup ("AB:CD");
  g_assert_false (wr_agent_config_finish (pin, &error));
  g_assert_nonnull (strstr (error->message, "fingerprint"));
}

/* The enrollment is the only agent credential: without a state directory
 * holding one the agent does not start, and the old token variable does
 * not help. */
static void
test_refuses_without_enrollment (Fixture *f, gconstpointer data)
{
  g_autoptr (WrAgentConfig) cfg = minimal (f);
  g_autoptr (WrAgentConfig) empty = minimal (f);
  g_autofree char *crt = g_build_filename (f->dir, "agent.crt", NULL);
  g_autoptr (GError) error = NULL;

  g_setenv ("WEBREMOTE_AGENT_TOKEN", "0123456789abcdef0123", TRUE);
  g_clear_pointer (&cfg->state_dir, g_free);
  g_assert_false (wr_agent_config_finish (cfg, &error));
  g_assert_nonnull (strstr (error->message, "not enrolled"));
  g_assert_nonnull (strstr (error->message, "webremote-agent enroll"));
  g_clear_error (&error);

  g_unlink (crt);
  g_assert_false (wr_agent_config_finish (empty, &error));
  g_assert_nonnull (strstr (error->message, "holds no enrollment"));
  g_unsetenv ("WEBREMOTE_AGENT_TOKEN");
}

/* The binary turns a bad config into a clear message and exit status 2. */
static void
test_binary_exits_2_on_bad_config (Fixture *f, gconstpointer data)
{
  const char *build = g_getenv ("WR_BUILD_ROOT");
  g_autofree char *bin = NULL;
  g_autofree char *path = write_file (f, "agent.conf",
      "[agent]\nreconnect-min-ms = soon\n");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *expected = g_strdup_printf ("%s:2: [agent] "
      "reconnect-min-ms", path);
  const char *argv[] = { NULL, "--config", path, NULL };
  int status = 0;

  if (!build) {
    g_test_skip ("WR_BUILD_ROOT is not set (run through meson test)");
    return;
  }
  bin = g_build_filename (build, "agent", "webremote-agent", NULL);
  argv[0] = bin;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
          G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err, expected));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/agent/config/unknown-key-is-reported-with-file-and-line",
      test_unknown_key_names_file_and_line);
  ADD ("/agent/config/bad-integers-are-reported-with-file-and-line",
      test_bad_int_names_file_and_line);
  ADD ("/agent/config/unknown-section-is-reported",
      test_unknown_section);
  ADD ("/agent/config/missing-explicit-file-is-an-error",
      test_missing_explicit_file_is_an_error);
  ADD ("/agent/config/full-config-and-defaults",
      test_full_config_and_defaults);
  ADD ("/agent/config/refuses-without-pin-or-ca",
      test_refuses_without_pin_or_ca);
  ADD ("/agent/config/refuses-plain-http-and-malformed-pin",
      test_refuses_plain_http_and_bad_pin);
  ADD ("/agent/config/refuses-without-grant-key",
      test_refuses_without_grant_key);
  ADD ("/agent/config/refuses-without-enrollment",
      test_refuses_without_enrollment);
  ADD ("/agent/config/binary-exits-2-on-bad-config",
      test_binary_exits_2_on_bad_config);
#undef ADD

  return g_test_run ();
}
