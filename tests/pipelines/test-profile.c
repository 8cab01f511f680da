/* Tests for pipelines/profile.c and pipelines/encoder-knobs.c: profiles
 * files parsed into typed structs, every problem reported with its line,
 * the shipped file, knobs reaching the element. */
#include "config.h"

#include "pipelines/profile.h"

#include <gst/gst.h>

#include "common/config.h"
#include "pipelines/encoder-element.h"
#include "pipelines/encoder-probe.h"

static char *
write_file (const char *name, const char *text)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-profile-XXXXXX", NULL);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static const WrKnobValue *
knob (const WrProfile *p, guint i)
{
  g_assert_cmpuint (i, <, p->knobs->len);
  return g_ptr_array_index (p->knobs, i);
}

static void
test_valid_file (void)
{
  g_autofree char *path = write_file ("valid.conf",
      "# comment\n"
      "[profile fast]\n"
      "source = test\n"
      "width = 1280\n"
      "height = 720\n"
      "framerate = 60\n"
      "encoders = vah264enc; x264enc ;openh264enc\n"
      "bitrate = 3000\n"
      "min-bitrate = 500\n"
      "max-bitrate = 5000\n"
      "keyframe-interval = 2s\n"
      "h264-profile = main\n"
      "x264enc.speed-preset = superfast\n"
      "x264enc.tune = zerolatency+fastdecode\n"
      "x264enc.sliced-threads = true\n"
      "openh264enc.complexity = medium\n"
      "\n"
      "[profile small]\n"
      "display = :7\n"
      "scale = 0.5\n"
      "encoders = vp8enc\n"
      "keyframe-interval = 90\n"
      "vp8enc.cpu-used = -8\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);
  WrProfile *p;
  const char *const fast_encoders[] = { "vah264enc", "x264enc",
    "openh264enc", NULL };

  g_assert_no_error (error);
  g_assert_nonnull (set);
  g_assert_cmpuint (set->profiles->len, ==, 2);

  p = wr_profile_set_lookup (set, "fast");
  g_assert_nonnull (p);
  g_assert_cmpint (p->line, ==, 2);
  g_assert_cmpint (p->source, ==, WR_SOURCE_TEST);
  g_assert_null (p->display);
  g_assert_cmpint (p->width, ==, 1280);
  g_assert_cmpint (p->height, ==, 720);
  g_assert_cmpfloat (p->scale, ==, 0);
  g_assert_cmpint (p->framerate, ==, 60);
  g_assert_true (g_strv_equal ((const char *const *) p->encoders,
          fast_encoders));
  g_assert_cmpint (p->bitrate_kbps, ==, 3000);
  g_assert_cmpint (p->min_bitrate_kbps, ==, 500);
  g_assert_cmpint (p->max_bitrate_kbps, ==, 5000);
  g_assert_cmpint (p->keyframe_mode, ==, WR_KEYFRAME_SECONDS);
  g_assert_cmpint (p->keyframe_interval, ==, 2);
  g_assert_cmpint (p->h264_profile, ==, WR_H264_MAIN);
  g_assert_cmpuint (p->knobs->len, ==, 4);
  g_assert_cmpstr (knob (p, 0)->spec->encoder, ==, "x264enc");
  g_assert_cmpstr (knob (p, 0)->spec->property, ==, "speed-preset");
  g_assert_cmpstr (knob (p, 0)->s, ==, "superfast");
  g_assert_cmpint (knob (p, 0)->line, ==, 13);
  g_assert_cmpstr (knob (p, 1)->s, ==, "zerolatency+fastdecode");
  g_assert_cmpint (knob (p, 2)->spec->type, ==, WR_KNOB_BOOL);
  g_assert_cmpint (knob (p, 2)->i, ==, 1);
  g_assert_cmpstr (knob (p, 3)->spec->encoder, ==, "openh264enc");
  g_assert_cmpstr (knob (p, 3)->s, ==, "medium");

  p = wr_profile_set_lookup (set, "small");
  g_assert_nonnull (p);
  g_assert_cmpint (p->source, ==, WR_SOURCE_XIMAGE);
  g_assert_cmpstr (p->display, ==, ":7");
  g_assert_cmpint (p->width, ==, 0);
  g_assert_cmpfloat (p->scale, ==, 0.5);
  g_assert_cmpint (p->framerate, ==, 30);
  g_assert_cmpstr (p->encoders[0], ==, "vp8enc");
  g_assert_null (p->encoders[1]);
  /* Defaults: 6000 kbit/s, min a quarter of it, max the bitrate. */
  g_assert_cmpint (p->bitrate_kbps, ==, 6000);
  g_assert_cmpint (p->min_bitrate_kbps, ==, 1500);
  g_assert_cmpint (p->max_bitrate_kbps, ==, 6000);
  g_assert_cmpint (p->keyframe_mode, ==, WR_KEYFRAME_FRAMES);
  g_assert_cmpint (p->keyframe_interval, ==, 90);
  g_assert_cmpint (p->h264_profile, ==, WR_H264_CONSTRAINED_BASELINE);
  g_assert_cmpint (knob (p, 0)->spec->type, ==, WR_KNOB_INT);
  g_assert_cmpint (knob (p, 0)->i, ==, -8);

  g_assert_null (wr_profile_set_lookup (set, "missing"));
}

static void
test_every_problem_is_reported (void)
{
  g_autofree char *path = write_file ("broken.conf",
      "[profile broken]\n"                          /* 1 */
      "source = screen\n"                           /* 2 */
      "framerate = fast\n"                          /* 3 */
      "bitrate = 99\n"                              /* 4 */
      "encoders = x264enc;foo264enc\n"              /* 5 */
      "colour = blue\n"                             /* 6 */
      "x264enc.speed = fast\n"                      /* 7 */
      "x264enc.speed-preset = warp\n"               /* 8 */
      "x264enc.threads = 65\n"                      /* 9 */
      "fooenc.bar = 1\n"                            /* 10 */
      "\n"                                          /* 11 */
      "[profile second]\n"                          /* 12 */
      "encoders = x264enc\n"                        /* 13 */
      "width = 1281\n"                              /* 14 */
      "keyframe-interval = 2m\n"                    /* 15 */
      "min-bitrate = 9000\n"                        /* 16 */
      "vp8enc.cpu-used = -6\n"                      /* 17 */
      "x264enc.tune = zerolatency+turbo\n"          /* 18 */
      "x264enc.sliced-threads = yes\n"              /* 19 */
      "scale = 2\n"                                 /* 20 */
      "h264-profile = high\n"                       /* 21 */
      "[other]\n"                                   /* 22 */
      "key = 1\n"                                   /* 23 */
      "[profile bad name!]\n");                     /* 24 */
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);
  g_autofree char *expected = g_strjoin ("\n",
      "P:2: [profile broken] source: 'screen' is not one of ximage, "
      "pipewire, test",
      "P:3: [profile broken] framerate: 'fast' is not an integer",
      "P:4: [profile broken] bitrate: 99 is out of range 100..200000",
      "P:5: [profile broken] encoders: unknown encoder 'foo264enc' (known: "
      "nvh264enc, vah264enc, qsvh264enc, vaapih264enc, x264enc, "
      "openh264enc, vp8enc, vp9enc)",
      "P:6: [profile broken] colour: unknown key",
      "P:7: [profile broken] x264enc.speed: unknown knob for x264enc "
      "(known: speed-preset, tune, psy-tune, threads, sliced-threads, "
      "bframes, ref, rc-lookahead, vbv-buf-capacity, pass, quantizer, "
      "qp-min, qp-max, subme, me, cabac, trellis, intra-refresh, aud, "
      "noise-reduction)",
      "P:8: [profile broken] x264enc.speed-preset: 'warp' is not one of "
      "ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, "
      "veryslow",
      "P:9: [profile broken] x264enc.threads: 65 is out of range 0..64",
      "P:10: [profile broken] fooenc.bar: unknown encoder 'fooenc'",
      "P:14: [profile second] width: 1281 is odd (4:2:0 video needs an "
      "even size)",
      "P:14: [profile second] width: set width and height together",
      "P:15: [profile second] keyframe-interval: '2m' is not on-demand, a "
      "number of frames or of seconds (e.g. 2s)",
      "P:16: [profile second] min-bitrate: 9000 is above bitrate 6000",
      "P:17: [profile second] vp8enc.cpu-used: vp8enc is not in this "
      "profile's encoders",
      "P:18: [profile second] x264enc.tune: 'turbo' is not one of "
      "stillimage, fastdecode, zerolatency (join several with '+')",
      "P:19: [profile second] x264enc.sliced-threads: 'yes' is not a "
      "boolean (use true or false)",
      "P:20: [profile second] scale: 2 is out of range 0.1..1",
      "P:21: [profile second] h264-profile: 'high' is not one of "
      "constrained-baseline, main",
      "P:22: [other]: unknown section (profiles are [profile NAME])",
      "P:24: [profile bad name!]: the name must be 1 to 64 letters, "
      "digits, '-', '_' or '.'",
      NULL);
  g_autofree char *with_path = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_null (set);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID);
  lines = g_strsplit (expected, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    g_autofree char *l = g_strconcat (path, lines[i] + 1, NULL);
    g_free (lines[i]);
    lines[i] = g_steal_pointer (&l);
  }
  with_path = g_strjoinv ("\n", lines);
  g_assert_cmpstr (error->message, ==, with_path);
}

static void
test_not_a_key_file (void)
{
  g_autofree char *path = write_file ("garbage.conf", "this is not ini\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);

  g_assert_null (set);
  g_assert_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, path));
}

static void
test_empty_file (void)
{
  g_autofree char *path = write_file ("empty.conf", "# nothing\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);
  g_autofree char *expected = g_strdup_printf ("%s:0: [profile NAME]: the "
      "file defines no profile", path);

  g_assert_null (set);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_no_usable_encoder_on_this_host (void)
{
  g_autofree char *path = write_file ("hw.conf",
      "[profile ok]\n"
      "encoders = x264enc\n"
      "[profile hw-only]\n"
      "encoders = nvh264enc;qsvh264enc\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);
  g_autoptr (GHashTable) chosen = NULL;
  g_autofree char *expected = g_strdup_printf ("%s:3: [profile hw-only] "
      "encoders: no usable encoder on this host (nvh264enc: not installed; "
      "qsvh264enc: not installed)", path);

  g_assert_no_error (error);
  if (gst_element_factory_find ("nvh264enc")
      || gst_element_factory_find ("qsvh264enc")) {
    g_test_skip ("this host has a hardware encoder");
    return;
  }
  g_assert_false (wr_profile_set_check_host (set, NULL, &chosen, &error));
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpstr (g_hash_table_lookup (chosen, "ok"), ==, "x264enc");
  g_assert_false (g_hash_table_contains (chosen, "hw-only"));
  g_clear_error (&error);
  /* Only the usable profile: fine. */
  g_clear_pointer (&chosen, g_hash_table_unref);
  g_assert_true (wr_profile_set_check_host (set, "ok", &chosen, &error));
  g_assert_no_error (error);
}

static void
test_shipped_file_validates (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("WR_SOURCE_ROOT"),
      "pipelines", "profiles.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);
  g_autoptr (GHashTable) chosen = NULL;
  const char *names[] = { "low-latency", "balanced", "quality",
    "low-bandwidth" };
  WrProfile *ll;

  g_assert_no_error (error);
  g_assert_cmpuint (set->profiles->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_nonnull (wr_profile_set_lookup (set, names[i]));
  g_assert_true (wr_profile_set_check_host (set, NULL, &chosen, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_nonnull (g_hash_table_lookup (chosen, names[i]));
  /* The default keeps the agent's old behaviour: x264 ultrafast
   * zerolatency at 30 fps, keyframes on request, 6000 kbit/s. */
  ll = wr_profile_set_lookup (set, WR_PROFILE_DEFAULT_NAME);
  g_assert_cmpint (ll->framerate, ==, 30);
  g_assert_cmpint (ll->bitrate_kbps, ==, 6000);
  g_assert_cmpint (ll->keyframe_mode, ==, WR_KEYFRAME_ON_DEMAND);
  g_assert_cmpint (ll->h264_profile, ==, WR_H264_CONSTRAINED_BASELINE);
  if (!gst_element_factory_find ("nvh264enc")
      && !gst_element_factory_find ("vah264enc")
      && !gst_element_factory_find ("qsvh264enc"))
    g_assert_cmpstr (g_hash_table_lookup (chosen, "low-latency"), ==,
        "x264enc");
}

static int
get_enum (GstElement *e, const char *property)
{
  int v = -1;

  g_object_get (e, property, &v, NULL);
  return v;
}

static void
test_knobs_reach_the_element (void)
{
  g_autofree char *path = write_file ("knobs.conf",
      "[profile p]\n"
      "framerate = 25\n"
      "encoders = x264enc;openh264enc;vp8enc\n"
      "bitrate = 2500\n"
      "max-bitrate = 4000\n"
      "keyframe-interval = 2s\n"
      "x264enc.speed-preset = veryfast\n"
      "x264enc.tune = zerolatency+fastdecode\n"
      "x264enc.threads = 3\n"
      "x264enc.sliced-threads = true\n"
      "openh264enc.complexity = high\n"
      "vp8enc.cpu-used = -5\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrProfileSet) set = wr_profile_set_load (path, &error);
  WrProfile *p = set ? wr_profile_set_lookup (set, "p") : NULL;
  g_autoptr (GstElement) x264 = NULL;
  g_autoptr (GstElement) oh264 = NULL;
  g_autoptr (GstElement) vp8 = NULL;
  g_autoptr (GstCaps) caps = NULL;
  guint u = 0;
  gint i = 0;
  gint64 i64 = 0;
  gboolean b = FALSE;

  g_assert_no_error (error);
  g_assert_nonnull (p);

  x264 = gst_object_ref_sink (wr_encoder_element_new (p, "x264enc", NULL,
          &error));
  g_assert_no_error (error);
  g_assert_cmpint (get_enum (x264, "speed-preset"), ==, 3);  /* veryfast */
  g_object_get (x264, "tune", &u, NULL);
  g_assert_cmpuint (u, ==, 0x4 | 0x2);
  g_object_get (x264, "threads", &u, NULL);
  g_assert_cmpuint (u, ==, 3);
  g_object_get (x264, "sliced-threads", &b, NULL);
  g_assert_true (b);
  g_object_get (x264, "bitrate", &u, NULL);
  g_assert_cmpuint (u, ==, 2500);
  g_object_get (x264, "key-int-max", &u, NULL);
  g_assert_cmpuint (u, ==, 50);            /* 2 s at 25 fps */
  g_object_get (x264, "bframes", &u, NULL);
  g_assert_cmpuint (u, ==, 0);

  oh264 = gst_object_ref_sink (wr_encoder_element_new (p, "openh264enc",
          NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (get_enum (oh264, "complexity"), ==, 2);   /* high */
  g_object_get (oh264, "bitrate", &u, NULL);
  g_assert_cmpuint (u, ==, 2500000);       /* bit/s */
  g_object_get (oh264, "max-bitrate", &u, NULL);
  g_assert_cmpuint (u, ==, 4000000);
  g_object_get (oh264, "gop-size", &u, NULL);
  g_assert_cmpuint (u, ==, 50);

  vp8 = gst_object_ref_sink (wr_encoder_element_new (p, "vp8enc", NULL,
          &error));
  g_assert_no_error (error);
  g_object_get (vp8, "cpu-used", &i, NULL);
  g_assert_cmpint (i, ==, -5);
  g_object_get (vp8, "deadline", &i64, NULL);
  g_assert_cmpint (i64, ==, 1);
  g_object_get (vp8, "target-bitrate", &i, NULL);
  g_assert_cmpint (i, ==, 2500000);
  g_object_get (vp8, "keyframe-max-dist", &i, NULL);
  g_assert_cmpint (i, ==, 50);
  g_assert_cmpint (get_enum (vp8, "keyframe-mode"), ==, 1);  /* auto */

  caps = wr_encoder_output_caps (p, "x264enc");
  g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (caps,
              0), "profile"), ==, "constrained-baseline");
  g_assert_cmpstr (wr_encoder_payloader ("vp8enc"), ==, "rtpvp8pay");
}

static void
test_on_demand_keyframes (void)
{
  g_autoptr (WrProfile) p = wr_profile_new_builtin ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) x264 = NULL;
  guint u = 0;

  x264 = gst_object_ref_sink (wr_encoder_element_new (p, "x264enc", NULL,
          &error));
  g_assert_no_error (error);
  g_object_get (x264, "key-int-max", &u, NULL);
  g_assert_cmpuint (u, ==, 1u << 30);  /* x264: infinite */
  g_assert_cmpint (get_enum (x264, "speed-preset"), ==, 1);  /* ultrafast */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_test_add_func ("/pipelines/profile/valid-file-becomes-typed-profiles",
      test_valid_file);
  g_test_add_func ("/pipelines/profile/every-problem-is-reported-by-line",
      test_every_problem_is_reported);
  g_test_add_func ("/pipelines/profile/not-a-key-file-is-refused",
      test_not_a_key_file);
  g_test_add_func ("/pipelines/profile/a-file-without-profiles-is-refused",
      test_empty_file);
  g_test_add_func ("/pipelines/profile/no-usable-encoder-on-this-host",
      test_no_usable_encoder_on_this_host);
  g_test_add_func ("/pipelines/profile/shipped-file-validates",
      test_shipped_file_validates);
  g_test_add_func ("/pipelines/profile/knobs-reach-the-element",
      test_knobs_reach_the_element);
  g_test_add_func ("/pipelines/profile/default-keyframes-only-on-demand",
      test_on_demand_keyframes);
  return g_test_run ();
}
