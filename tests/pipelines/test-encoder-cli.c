/* The agent binary's profile and encoder commands, run for real:
 * --check-profiles on broken and shipped files, the agent refusing to
 * start on an invalid profiles file, --probe and --probe --json against a
 * real Xvfb. */
#include "config.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static char *
agent_path (void)
{
  return g_build_filename (g_getenv ("WR_BUILD_ROOT"), "agent",
      "webremote-agent", NULL);
}

static void
run_agent (Run *r, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, agent_path ());
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL,
          G_SPAWN_DEFAULT, NULL, NULL, &r->out, &r->err, &wait_status,
          &error));
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

static char *
write_file (const char *name, const char *text)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-cli-XXXXXX", NULL);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static gboolean
has_feature (const char *name)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (name);

  return f != NULL;
}

static const char broken[] =
    "[profile office]\n"                    /* 1 */
    "framerate = 500\n"                     /* 2 */
    "encoders = x264enc;h266enc\n"          /* 3 */
    "x264enc.speed-preset = ludicrous\n"    /* 4 */
    "x264enc.turbo = true\n"                /* 5 */
    "lag = 3\n"                             /* 6 */
    "[profile gpu]\n"                       /* 7 */
    "encoders = nvh264enc;vah264enc\n";     /* 8 */

static void
test_check_profiles_broken_file (void)
{
  g_autofree char *path = write_file ("broken.conf", broken);
  g_auto (Run) r = { 0 };
  g_autofree char *expected = NULL;

  if (has_feature ("nvh264enc") || has_feature ("vah264enc")) {
    g_test_skip ("this host has a hardware encoder");
    return;
  }
  run_agent (&r, (const char *const[]) { "--check-profiles", path, NULL });
  expected = g_strdup_printf (
      "%1$s:2: [profile office] framerate: 500 is out of range 1..120\n"
      "%1$s:3: [profile office] encoders: unknown encoder 'h266enc' "
      "(known: nvh264enc, vah264enc, qsvh264enc, vaapih264enc, x264enc, "
      "openh264enc, vp8enc, vp9enc)\n"
      "%1$s:4: [profile office] x264enc.speed-preset: 'ludicrous' is not "
      "one of ultrafast, superfast, veryfast, faster, fast, medium, slow, "
      "slower, veryslow\n"
      "%1$s:5: [profile office] x264enc.turbo: unknown knob for x264enc "
      "(known: speed-preset, tune, psy-tune, threads, sliced-threads, "
      "bframes, ref, rc-lookahead, vbv-buf-capacity, pass, quantizer, "
      "qp-min, qp-max, subme, me, cabac, trellis, intra-refresh, aud, "
      "noise-reduction)\n"
      "%1$s:6: [profile office] lag: unknown key\n"
      "%1$s:7: [profile gpu] encoders: no usable encoder on this host "
      "(nvh264enc: not installed; vah264enc: not installed)\n", path);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_cmpstr (r.err, ==, expected);
  g_assert_cmpstr (r.out, ==, "");
}

static void
test_check_profiles_shipped_file (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("WR_SOURCE_ROOT"),
      "pipelines", "profiles.conf", NULL);
  g_auto (Run) r = { 0 };
  g_auto (GStrv) lines = NULL;
  const char *names[] = { "low-latency", "balanced", "quality",
    "low-bandwidth" };

  run_agent (&r, (const char *const[]) { "--check-profiles", path, NULL });
  g_assert_cmpint (r.status, ==, 0);
  lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (names) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *prefix = g_strconcat (names[i], ": ", NULL);
    g_assert_true (g_str_has_prefix (lines[i], prefix));
    /* Which encoder this host would use, then the summary. */
    g_assert_nonnull (strstr (lines[i], "enc; "));
  }
  g_assert_cmpstr (lines[0], ==, "low-latency: x264enc; ximage, source "
      "size, 30 fps, 6000 kbit/s (1500..8000), keyframes on demand");
}

static void
test_agent_refuses_invalid_profiles (void)
{
  g_autofree char *profiles = write_file ("p.conf", broken);
  g_autofree char *config_text = g_strdup_printf (
      "[agent]\nprofiles = %s\nprofile = office\n", profiles);
  g_autofree char *config = write_file ("agent.conf", config_text);
  g_autofree char *line = g_strdup_printf ("%s:2: [profile office] "
      "framerate: 500 is out of range 1..120", profiles);
  g_auto (Run) r = { 0 };

  run_agent (&r, (const char *const[]) { "--config", config,
        "--display", ":0", NULL });
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "invalid configuration"));
  g_assert_nonnull (strstr (r.err, line));
}

static void
test_agent_refuses_unknown_profile (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("WR_SOURCE_ROOT"),
      "pipelines", "profiles.conf", NULL);
  g_autofree char *expected = g_strdup_printf ("%s: no [profile turbo]",
      path);
  g_auto (Run) r = { 0 };

  run_agent (&r, (const char *const[]) { "--profiles", path,
        "--profile", "turbo", "--display", ":0", NULL });
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, expected));
}

static GSubprocess *
start_xvfb (char **display)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  GSubprocess *p;
  int fds[2];
  char buf[16] = { 0 };
  gsize len = 0;

  g_assert_cmpint (pipe (fds), ==, 0);
  g_subprocess_launcher_take_fd (l, fds[1], 3);
  p = g_subprocess_launcher_spawn (l, &error, "Xvfb", "-displayfd", "3",
      "-screen", "0", "800x600x24", "-nolisten", "tcp", NULL);
  g_assert_no_error (error);
  while (len < sizeof buf - 1 && !memchr (buf, '\n', len)) {
    ssize_t n = read (fds[0], buf + len, sizeof buf - 1 - len);
    if (n <= 0)
      break;
    len += (gsize) n;
  }
  close (fds[0]);
  g_assert_nonnull (memchr (buf, '\n', len));
  *display = g_strdup_printf (":%d", atoi (buf));
  return p;
}

static void
test_probe_json (void)
{
  g_autofree char *display = NULL;
  g_autoptr (GSubprocess) xvfb = start_xvfb (&display);
  g_auto (Run) r = { 0 };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  JsonArray *displays, *encoders, *profiles;
  JsonObject *d;
  int hw_seen_after_sw = 0;
  gboolean sw = FALSE, x264_usable = FALSE;

  run_agent (&r, (const char *const[]) { "--probe", "--json",
        "--display", display, "--display", ":31999", NULL });
  g_subprocess_force_exit (xvfb);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, r.out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  displays = json_object_get_array_member (root, "displays");
  g_assert_cmpuint (json_array_get_length (displays), ==, 2);
  d = json_array_get_object_element (displays, 0);
  g_assert_cmpstr (json_object_get_string_member (d, "name"), ==, display);
  g_assert_true (json_object_get_boolean_member (d, "ok"));
  g_assert_cmpint (json_object_get_int_member (d, "width"), ==, 800);
  g_assert_cmpint (json_object_get_int_member (d, "height"), ==, 600);
  d = json_array_get_object_element (displays, 1);
  g_assert_false (json_object_get_boolean_member (d, "ok"));

  encoders = json_object_get_array_member (root, "encoders");
  g_assert_cmpuint (json_array_get_length (encoders), ==, 8);
  for (guint i = 0; i < json_array_get_length (encoders); i++) {
    JsonObject *e = json_array_get_object_element (encoders, i);
    const char *name = json_object_get_string_member (e, "name");
    gboolean present = json_object_get_boolean_member (e, "present");

    g_assert_cmpint (present, ==, has_feature (name));
    if (json_object_get_boolean_member (e, "hardware"))
      hw_seen_after_sw += sw;
    else
      sw = TRUE;
    if (!present) {
      g_assert_false (json_object_get_boolean_member (e, "usable"));
      g_assert_cmpstr (json_object_get_string_member (e, "reason"), ==,
          "not installed");
    }
    if (g_str_equal (name, "x264enc")) {
      x264_usable = json_object_get_boolean_member (e, "usable");
      g_assert_cmpint (json_object_get_int_member (e, "frames"), ==, 10);
    }
  }
  g_assert_cmpint (hw_seen_after_sw, ==, 0);
  g_assert_true (x264_usable);
  profiles = json_object_get_array_member (root, "profiles");
  g_assert_cmpuint (json_array_get_length (profiles), >=, 4);
}

static void
test_probe_text (void)
{
  g_auto (Run) r = { 0 };

  run_agent (&r, (const char *const[]) { "--probe", "--display", ":31999",
        NULL });
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "displays:\n  :31999       cannot open "
          "the display\n"));
  g_assert_nonnull (strstr (r.out, "encoders (hardware first):\n"));
  g_assert_nonnull (strstr (r.out, "  x264enc       H264 software usable "
          "(10 frames in "));
  if (!has_feature ("nvh264enc"))
    g_assert_nonnull (strstr (r.out, "  nvh264enc     H264 hardware "
            "skipped: not installed\n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_test_add_func ("/pipelines/cli/check-profiles-reports-every-problem",
      test_check_profiles_broken_file);
  g_test_add_func ("/pipelines/cli/check-profiles-passes-the-shipped-file",
      test_check_profiles_shipped_file);
  g_test_add_func ("/pipelines/cli/agent-refuses-an-invalid-profiles-file",
      test_agent_refuses_invalid_profiles);
  g_test_add_func ("/pipelines/cli/agent-refuses-an-unknown-profile",
      test_agent_refuses_unknown_profile);
  g_test_add_func ("/pipelines/cli/probe-json-lists-displays-and-encoders",
      test_probe_json);
  g_test_add_func ("/pipelines/cli/probe-text-says-why-encoders-are-skipped",
      test_probe_text);
  return g_test_run ();
}
