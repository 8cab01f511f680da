/* Tests for the keyfile schema checks (common/config.c). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "common/config.h"

static const WrConfigKey schema[] = {
  { "gateway", "listen", WR_KEY_STRING, 0, 16 },
  { "gateway", "port", WR_KEY_INT, 0, 65535 },
  { "gateway", "debug", WR_KEY_BOOL, 0, 0 },
  { "agent", "displays", WR_KEY_STRING_LIST, 0, 0 },
  { NULL }
};

static char *
write_temp (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("wr-config-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_valid (void)
{
  g_autofree char *path = write_temp ("# comment\n[gateway]\nlisten = "
      "127.0.0.1\nport=8443\ndebug=true\n[agent]\ndisplays=:0;:1\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) kf = wr_config_load (path, schema, &error);
  g_auto (GStrv) displays = NULL;
  g_autofree char *listen = NULL;

  g_assert_no_error (error);
  listen = wr_config_get_string (kf, "gateway", "listen", NULL);
  g_assert_cmpstr (listen, ==, "127.0.0.1");
  g_assert_cmpint (wr_config_get_int (kf, "gateway", "port", 0), ==, 8443);
  g_assert_true (wr_config_get_bool (kf, "gateway", "debug", FALSE));
  displays = wr_config_get_string_list (kf, "agent", "displays");
  g_assert_cmpuint (g_strv_length (displays), ==, 2);
  g_assert_cmpint (wr_config_get_int (NULL, "gateway", "port", 7), ==, 7);
  g_unlink (path);
}

static void
test_every_problem_with_its_line (void)
{
  g_autofree char *path = write_temp ("[gateway]\nlisten=127.0.0.1\n"
      "port=http\ndebug=maybe\ncolour=blue\n[nonsense]\nx=1\n"
      "[agent]\n\n\nport=99999\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) kf = wr_config_load (path, schema, &error);
  g_autofree char *line3 = g_strdup_printf ("%s:3: [gateway] port:", path);
  g_autofree char *line4 = g_strdup_printf ("%s:4: [gateway] debug:", path);
  g_autofree char *line5 = g_strdup_printf ("%s:5: [gateway] colour: "
      "unknown key", path);
  g_autofree char *line6 = g_strdup_printf ("%s:6: [nonsense]: unknown "
      "section", path);
  g_autofree char *line11 = g_strdup_printf ("%s:11: [agent] port: unknown "
      "key", path);

  g_assert_null (kf);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, line3));
  g_assert_nonnull (strstr (error->message, "'http' is not an integer"));
  g_assert_nonnull (strstr (error->message, line4));
  g_assert_nonnull (strstr (error->message, line5));
  g_assert_nonnull (strstr (error->message, line6));
  g_assert_nonnull (strstr (error->message, line11));
  g_unlink (path);
}

static void
test_out_of_range_and_too_long (void)
{
  g_autofree char *path = write_temp ("[gateway]\nport=70000\n"
      "listen=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) kf = wr_config_load (path, schema, &error);

  g_assert_null (kf);
  g_assert_nonnull (strstr (error->message, "70000 is out of range 0..65535"));
  g_assert_nonnull (strstr (error->message, "longer than 16 bytes"));
  g_unlink (path);
}

static void
test_unreadable_and_malformed (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_temp ("this is not a key file\n");
  g_autoptr (GKeyFile) kf = wr_config_load ("/nonexistent/wr.conf", schema,
      &error);

  g_assert_null (kf);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/wr.conf"));
  g_clear_error (&error);

  kf = wr_config_load (path, schema, &error);
  g_assert_null (kf);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/config/valid-file-is-read", test_valid);
  g_test_add_func ("/common/config/every-problem-is-listed-with-its-line",
      test_every_problem_with_its_line);
  g_test_add_func ("/common/config/out-of-range-and-too-long",
      test_out_of_range_and_too_long);
  g_test_add_func ("/common/config/unreadable-and-malformed-files",
      test_unreadable_and_malformed);
  return g_test_run ();
}
