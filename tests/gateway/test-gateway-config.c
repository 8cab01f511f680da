/* Tests for the gateway configuration (gateway/gateway-config.c). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gateway/gateway-config.h"

static char *
write_temp (const char *text)
{
  char *path = NULL;
  int fd = g_file_open_tmp ("wr-gw-XXXXXX.conf", &path, NULL);

  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_defaults (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGatewayConfig) c = wr_gateway_config_load (NULL, FALSE,
      &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->listen, ==, "0.0.0.0");
  g_assert_cmpint (c->port, ==, 8443);
  g_assert_cmpint (c->listen_backlog, ==, 1024);
  g_assert_cmpstr (c->admin_user, ==, "admin");
}

static void
test_file_values (void)
{
  g_autofree char *path = write_temp ("[gateway]\nlisten=127.0.0.1\n"
      "port=9443\nstate-dir=/tmp/x\n[auth]\ntoken-lifetime=600\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGatewayConfig) c = wr_gateway_config_load (path, TRUE, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->listen, ==, "127.0.0.1");
  g_assert_cmpint (c->port, ==, 9443);
  g_assert_cmpstr (c->state_dir, ==, "/tmp/x");
  g_assert_cmpint (c->token_lifetime, ==, 600);
  g_unlink (path);
}

static void
test_errors (void)
{
  g_autofree char *path = write_temp ("[gateway]\nport=99999\n"
      "listen-backlog=1\n[auth]\npassword=hunter2\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGatewayConfig) c = wr_gateway_config_load (path, TRUE, &error);

  g_assert_null (c);
  g_assert_nonnull (strstr (error->message, ":2: [gateway] port: 99999 is "
          "out of range"));
  g_assert_nonnull (strstr (error->message, ":3: [gateway] listen-backlog"));
  g_assert_nonnull (strstr (error->message, ":5: [auth] password: unknown "
          "key"));
  /* a secret in a bad line never shows up in the message */
  g_assert_null (strstr (error->message, "hunter2"));
  g_clear_error (&error);

  g_assert_null (wr_gateway_config_load ("/nonexistent.conf", TRUE, &error));
  g_assert_nonnull (error);
  g_unlink (path);
}

/* The pre-shared agent token is gone (agents use their enrolled
 * certificate): a config that still names one is told so, not ignored. */
static void
test_no_agent_token (void)
{
  g_autofree char *path = write_temp ("[auth]\nagent-token-file=/x\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGatewayConfig) c = wr_gateway_config_load (path, TRUE,
      &error);

  g_assert_null (c);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message,
          ":2: [auth] agent-token-file: unknown key"));
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gateway/config/defaults", test_defaults);
  g_test_add_func ("/gateway/config/file-values", test_file_values);
  g_test_add_func ("/gateway/config/errors-name-file-line-and-key",
      test_errors);
  g_test_add_func ("/gateway/config/no-agent-token", test_no_agent_token);
  return g_test_run ();
}
