/* webremote pipelines: named capture + encode profiles from a key file. */
#include "config.h"

#include "pipelines/profile.h"

#include <string.h>

#include "common/config.h"
#include "pipelines/encoder-probe.h"

#define GROUP_PREFIX "profile "
#define MAX_NAME 64
#define MAX_ENCODERS 16

typedef struct {
  int line;
  guint seq;
  char *text;
} Problem;

typedef struct {
  const char *path;
  const char *text;
  GPtrArray *problems;         /* Problem * */
  gboolean encoders_bad;       /* this group's encoder list had a problem */
} Checker;

static void
problem_free (gpointer data)
{
  Problem *p = data;

  g_free (p->text);
  g_free (p);
}

static void
report (Checker *c, const char *group, const char *key, const char *fmt,
    ...) G_GNUC_PRINTF (4, 5);

static void
report (Checker *c, const char *group, const char *key, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  Problem *p = g_new0 (Problem, 1);

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  p->line = wr_config_find_line (c->text, group, key);
  p->seq = c->problems->len;
  p->text = g_strdup_printf ("%s:%d: [%s]%s%s: %s",
      c->path ? c->path : "(profiles)", p->line, group, key ? " " : "",
      key ? key : "", msg);
  g_ptr_array_add (c->problems, p);
}

static gint
problem_cmp (gconstpointer a, gconstpointer b)
{
  const Problem *pa = *(const Problem *const *) a;
  const Problem *pb = *(const Problem *const *) b;

  if (pa->line != pb->line)
    return pa->line < pb->line ? -1 : 1;
  return pa->seq < pb->seq ? -1 : pa->seq > pb->seq;
}

const char *
wr_source_kind_name (WrSourceKind kind)
{
  switch (kind) {
    case WR_SOURCE_XIMAGE:
      return "ximage";
    case WR_SOURCE_PIPEWIRE:
      return "pipewire";
    case WR_SOURCE_TEST:
      return "test";
  }
  return "?";
}

static void
knob_value_free (gpointer data)
{
  WrKnobValue *v = data;

  g_free (v->s);
  g_free (v);
}

static WrProfile *
profile_new (const char *name)
{
  WrProfile *p = g_new0 (WrProfile, 1);

  p->name = g_strdup (name);
  p->source = WR_SOURCE_XIMAGE;
  p->framerate = 30;
  p->encoders = g_strsplit ("x264enc;openh264enc", ";", -1);
  p->bitrate_kbps = 6000;
  p->min_bitrate_kbps = 1500;
  p->max_bitrate_kbps = 6000;
  p->keyframe_mode = WR_KEYFRAME_ON_DEMAND;
  p->h264_profile = WR_H264_CONSTRAINED_BASELINE;
  p->knobs = g_ptr_array_new_with_free_func (knob_value_free);
  return p;
}

WrProfile *
wr_profile_new_builtin (void)
{
  return profile_new (WR_PROFILE_DEFAULT_NAME);
}

void
wr_profile_free (WrProfile *p)
{
  if (!p)
    return;
  g_free (p->name);
  g_free (p->display);
  g_strfreev (p->encoders);
  g_ptr_array_unref (p->knobs);
  g_free (p);
}

WrProfile *
wr_profile_copy (const WrProfile *src)
{
  WrProfile *p = g_new0 (WrProfile, 1);

  *p = *src;
  p->name = g_strdup (src->name);
  p->display = g_strdup (src->display);
  p->encoders = g_strdupv (src->encoders);
  p->knobs = g_ptr_array_new_with_free_func (knob_value_free);
  for (guint i = 0; i < src->knobs->len; i++) {
    const WrKnobValue *k = g_ptr_array_index (src->knobs, i);
    WrKnobValue *n = g_memdup2 (k, sizeof *k);
    n->s = g_strdup (k->s);
    g_ptr_array_add (p->knobs, n);
  }
  return p;
}

void
wr_profile_set_free (WrProfileSet *set)
{
  if (!set)
    return;
  g_free (set->path);
  g_ptr_array_unref (set->profiles);
  g_free (set);
}

WrProfile *
wr_profile_set_lookup (WrProfileSet *set, const char *name)
{
  for (guint i = 0; i < set->profiles->len; i++) {
    WrProfile *p = g_ptr_array_index (set->profiles, i);
    if (g_str_equal (p->name, name))
      return p;
  }
  return NULL;
}

static gboolean
valid_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME)
    return FALSE;
  for (const char *s = name; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_' && *s != '.')
      return FALSE;
  return TRUE;
}

/* The value as written, stripped; NULL if GKeyFile cannot read it. */
static char *
raw_value (GKeyFile *kf, const char *group, const char *key)
{
  char *v = g_key_file_get_string (kf, group, key, NULL);

  return v ? g_strstrip (v) : NULL;
}

static gboolean
get_int (Checker *c, GKeyFile *kf, const char *group, const char *key,
    gint64 min, gint64 max, int *out)
{
  g_autofree char *raw = raw_value (kf, group, key);
  gint64 v;

  if (!raw || !g_ascii_string_to_signed (raw, 10, G_MININT64, G_MAXINT64,
          &v, NULL)) {
    report (c, group, key, "'%s' is not an integer", raw ? raw : "");
    return FALSE;
  }
  if (v < min || v > max) {
    report (c, group, key, "%" G_GINT64_FORMAT " is out of range %"
        G_GINT64_FORMAT "..%" G_GINT64_FORMAT, v, min, max);
    return FALSE;
  }
  *out = (int) v;
  return TRUE;
}

static gboolean
get_choice (Checker *c, GKeyFile *kf, const char *group, const char *key,
    const char *const *choices, int *out)
{
  g_autofree char *raw = raw_value (kf, group, key);

  for (int i = 0; raw && choices[i]; i++)
    if (g_str_equal (raw, choices[i])) {
      *out = i;
      return TRUE;
    }
  {
    g_autofree char *list = g_strjoinv (", ", (char **) choices);
    report (c, group, key, "'%s' is not one of %s", raw ? raw : "", list);
  }
  return FALSE;
}

static void
parse_keyframe (Checker *c, GKeyFile *kf, const char *group, WrProfile *p)
{
  const char *key = "keyframe-interval";
  g_autofree char *raw = raw_value (kf, group, key);
  gboolean seconds;
  gint64 v;
  g_autofree char *num = NULL;

  if (raw && g_str_equal (raw, "on-demand")) {
    p->keyframe_mode = WR_KEYFRAME_ON_DEMAND;
    return;
  }
  seconds = raw && g_str_has_suffix (raw, "s");
  num = raw ? g_strndup (raw, strlen (raw) - (seconds ? 1 : 0)) : NULL;
  if (!num || !g_ascii_string_to_signed (num, 10, G_MININT64, G_MAXINT64,
          &v, NULL)) {
    report (c, group, key, "'%s' is not on-demand, a number of frames or "
        "of seconds (e.g. 2s)", raw ? raw : "");
    return;
  }
  if (seconds && (v < 1 || v > 3600)) {
    report (c, group, key, "%" G_GINT64_FORMAT "s is out of range "
        "1s..3600s", v);
    return;
  }
  if (!seconds && (v < 1 || v > 100000)) {
    report (c, group, key, "%" G_GINT64_FORMAT " frames is out of range "
        "1..100000", v);
    return;
  }
  p->keyframe_mode = seconds ? WR_KEYFRAME_SECONDS : WR_KEYFRAME_FRAMES;
  p->keyframe_interval = (int) v;
}

static void
parse_encoders (Checker *c, GKeyFile *kf, const char *group, WrProfile *p)
{
  g_auto (GStrv) list = g_key_file_get_string_list (kf, group, "encoders",
      NULL, NULL);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  gboolean ok = TRUE;

  if (!list || !list[0]) {
    report (c, group, "encoders", "empty: name at least one encoder");
    c->encoders_bad = TRUE;
    return;
  }
  for (int i = 0; list[i]; i++) {
    g_strstrip (list[i]);
    if (!wr_encoder_info_lookup (list[i])) {
      GString *known = g_string_new (NULL);
      for (const WrEncoderInfo *e = wr_encoder_info_all (); e->name; e++)
        g_string_append_printf (known, "%s%s", known->len ? ", " : "",
            e->name);
      report (c, group, "encoders", "unknown encoder '%s' (known: %s)",
          list[i], known->str);
      g_string_free (known, TRUE);
      ok = FALSE;
      continue;
    }
    for (guint j = 0; j < out->len; j++)
      if (g_str_equal (g_ptr_array_index (out, j), list[i])) {
        report (c, group, "encoders", "%s is listed twice", list[i]);
        ok = FALSE;
      }
    g_ptr_array_add (out, g_strdup (list[i]));
  }
  if (out->len > MAX_ENCODERS) {
    report (c, group, "encoders", "at most %d encoders", MAX_ENCODERS);
    ok = FALSE;
  }
  if (!ok) {
    c->encoders_bad = TRUE;
    return;
  }
  g_ptr_array_add (out, NULL);
  g_strfreev (p->encoders);
  p->encoders = (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static void
parse_knob (Checker *c, GKeyFile *kf, const char *group, const char *key,
    WrProfile *p)
{
  const char *dot = strchr (key, '.');
  g_autofree char *encoder = g_strndup (key, dot - key);
  const char *name = dot + 1;
  const WrKnobSpec *spec;
  g_autofree char *raw = NULL;
  g_autofree char *reason = NULL;
  WrKnobValue value;

  if (!wr_encoder_info_lookup (encoder)) {
    report (c, group, key, "unknown encoder '%s'", encoder);
    return;
  }
  spec = wr_knob_lookup (encoder, name);
  if (!spec) {
    g_autofree char *known = wr_knob_list (encoder);
    report (c, group, key, "unknown knob for %s (known: %s)", encoder,
        known);
    return;
  }
  raw = raw_value (kf, group, key);
  if (!raw) {
    report (c, group, key, "not a valid string");
    return;
  }
  if (!wr_knob_parse (spec, raw, &value, &reason)) {
    report (c, group, key, "%s", reason);
    return;
  }
  if (!c->encoders_bad
      && !g_strv_contains ((const char *const *) p->encoders, encoder)) {
    g_free (value.s);
    report (c, group, key, "%s is not in this profile's encoders", encoder);
    return;
  }
  value.line = wr_config_find_line (c->text, group, key);
  g_ptr_array_add (p->knobs, g_memdup2 (&value, sizeof value));
}

static const char *const source_names[] = { "ximage", "pipewire", "test",
  NULL };
static const char *const h264_profile_names[] = { "constrained-baseline",
  "main", NULL };
static const char *const capture_names[] = { "damage", "tick", NULL };

/* Keys other than ENCODER.KNOB. */
static const char *const profile_keys[] = {
  "source", "display", "width", "height", "scale", "framerate", "encoders",
  "bitrate", "min-bitrate", "max-bitrate", "keyframe-interval",
  "h264-profile", "capture", NULL
};

static WrProfile *
parse_profile (Checker *c, GKeyFile *kf, const char *group, const char *name)
{
  g_autoptr (WrProfile) p = profile_new (name);
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  gboolean has_min = FALSE, has_max = FALSE, has_w = FALSE, has_h = FALSE;
  guint before = c->problems->len;
  int v;

  p->line = wr_config_find_line (c->text, group, NULL);
  c->encoders_bad = FALSE;

  /* Unknown keys first; the encoder list before the knobs that need it. */
  for (int i = 0; keys && keys[i]; i++)
    if (!strchr (keys[i], '.')
        && !g_strv_contains (profile_keys, keys[i]))
      report (c, group, keys[i], "unknown key");

  if (g_key_file_has_key (kf, group, "source", NULL)
      && get_choice (c, kf, group, "source", source_names, &v))
    p->source = v;
  if (g_key_file_has_key (kf, group, "display", NULL)) {
    g_autofree char *d = raw_value (kf, group, "display");
    if (!d || !*d || strlen (d) > 32)
      report (c, group, "display", "must be 1 to 32 bytes long");
    else
      p->display = g_steal_pointer (&d);
  }
  if (g_key_file_has_key (kf, group, "width", NULL)
      && get_int (c, kf, group, "width", 16, 7680, &p->width)) {
    has_w = TRUE;
    if (p->width % 2)
      report (c, group, "width", "%d is odd (4:2:0 video needs an even "
          "size)", p->width);
  }
  if (g_key_file_has_key (kf, group, "height", NULL)
      && get_int (c, kf, group, "height", 16, 4320, &p->height)) {
    has_h = TRUE;
    if (p->height % 2)
      report (c, group, "height", "%d is odd (4:2:0 video needs an even "
          "size)", p->height);
  }
  if (has_w != has_h)
    report (c, group, has_w ? "width" : "height",
        "set width and height together");
  if (g_key_file_has_key (kf, group, "scale", NULL)) {
    g_autofree char *raw = raw_value (kf, group, "scale");
    char *end = NULL;
    double d = raw ? g_ascii_strtod (raw, &end) : 0;
    if (!raw || !*raw || !end || *end)
      report (c, group, "scale", "'%s' is not a number", raw ? raw : "");
    else if (d < 0.1 || d > 1.0)
      report (c, group, "scale", "%g is out of range 0.1..1", d);
    else if (has_w || has_h)
      report (c, group, "scale", "set either scale or width and height");
    else
      p->scale = d;
  }
  if (g_key_file_has_key (kf, group, "framerate", NULL))
    get_int (c, kf, group, "framerate", 1, 120, &p->framerate);
  if (g_key_file_has_key (kf, group, "encoders", NULL))
    parse_encoders (c, kf, group, p);
  if (g_key_file_has_key (kf, group, "bitrate", NULL))
    get_int (c, kf, group, "bitrate", 100, 200000, &p->bitrate_kbps);
  p->min_bitrate_kbps = MAX (100, p->bitrate_kbps / 4);
  p->max_bitrate_kbps = p->bitrate_kbps;
  if (g_key_file_has_key (kf, group, "min-bitrate", NULL))
    has_min = get_int (c, kf, group, "min-bitrate", 100, 200000,
        &p->min_bitrate_kbps);
  if (g_key_file_has_key (kf, group, "max-bitrate", NULL))
    has_max = get_int (c, kf, group, "max-bitrate", 100, 200000,
        &p->max_bitrate_kbps);
  if (has_min && p->min_bitrate_kbps > p->bitrate_kbps)
    report (c, group, "min-bitrate", "%d is above bitrate %d",
        p->min_bitrate_kbps, p->bitrate_kbps);
  if (has_max && p->max_bitrate_kbps < p->bitrate_kbps)
    report (c, group, "max-bitrate", "%d is below bitrate %d",
        p->max_bitrate_kbps, p->bitrate_kbps);
  if (g_key_file_has_key (kf, group, "keyframe-interval", NULL))
    parse_keyframe (c, kf, group, p);
  if (g_key_file_has_key (kf, group, "h264-profile", NULL)
      && get_choice (c, kf, group, "h264-profile", h264_profile_names, &v))
    p->h264_profile = v;
  if (g_key_file_has_key (kf, group, "capture", NULL)
      && get_choice (c, kf, group, "capture", capture_names, &v))
    p->capture = v;
  if (p->capture != WR_CAPTURE_DAMAGE && p->source != WR_SOURCE_XIMAGE)
    report (c, group, "capture", "applies to source ximage only");
  if (p->scale > 0 && p->source == WR_SOURCE_PIPEWIRE)
    report (c, group, "scale", "needs source ximage or test (set width "
        "and height for pipewire)");

  for (int i = 0; keys && keys[i]; i++)
    if (strchr (keys[i], '.'))
      parse_knob (c, kf, group, keys[i], p);

  return c->problems->len == before ? g_steal_pointer (&p) : NULL;
}

static WrProfileSet *
parse (const char *path, const char *text, WrProfileSet **valid,
    GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (
      problem_free);
  g_autoptr (WrProfileSet) set = g_new0 (WrProfileSet, 1);
  g_auto (GStrv) groups = NULL;
  Checker c = { path, text, problems, FALSE };

  set->path = g_strdup (path);
  set->profiles = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_profile_free);
  if (!g_key_file_load_from_data (kf, text, strlen (text), G_KEY_FILE_NONE,
          &local)) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO,
        "%s: not a valid key file: %s", path ? path : "(profiles)",
        local->message);
    return NULL;
  }

  groups = g_key_file_get_groups (kf, NULL);
  for (int g = 0; groups[g]; g++) {
    const char *name;
    WrProfile *p;

    if (!g_str_has_prefix (groups[g], GROUP_PREFIX)) {
      report (&c, groups[g], NULL, "unknown section (profiles are "
          "[profile NAME])");
      continue;
    }
    name = groups[g] + strlen (GROUP_PREFIX);
    if (!valid_name (name)) {
      report (&c, groups[g], NULL, "the name must be 1 to %d letters, "
          "digits, '-', '_' or '.'", MAX_NAME);
      continue;
    }
    p = parse_profile (&c, kf, groups[g], name);
    if (p)
      g_ptr_array_add (set->profiles, p);
  }
  if (problems->len == 0 && set->profiles->len == 0)
    report (&c, "profile NAME", NULL, "the file defines no profile");

  if (problems->len) {
    GString *msg = g_string_new (NULL);

    g_ptr_array_sort (problems, problem_cmp);
    for (guint i = 0; i < problems->len; i++) {
      Problem *p = g_ptr_array_index (problems, i);
      g_string_append_printf (msg, "%s%s", i ? "\n" : "", p->text);
    }
    g_set_error_literal (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        msg->str);
    g_string_free (msg, TRUE);
    if (valid)
      *valid = g_steal_pointer (&set);
    return NULL;
  }
  return g_steal_pointer (&set);
}

WrProfileSet *
wr_profile_set_parse (const char *path, const char *text, GError **error)
{
  return parse (path, text, NULL, error);
}

static WrProfileSet *
load (const char *path, WrProfileSet **valid, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local)) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO,
        "%s: cannot read: %s", path, local->message);
    return NULL;
  }
  return parse (path, text, valid, error);
}

WrProfileSet *
wr_profile_set_load (const char *path, GError **error)
{
  return load (path, NULL, error);
}

WrProfileSet *
wr_profile_set_load_partial (const char *path, WrProfileSet **valid,
    GError **error)
{
  return load (path, valid, error);
}

char *
wr_profile_set_find_default_file (void)
{
  const char *const candidates[] = {
    WR_SYSCONFDIR "/webremote/" WR_PROFILES_FILE_NAME,
    WR_DATADIR "/" WR_PROFILES_FILE_NAME,
    WR_SOURCE_ROOT "/pipelines/" WR_PROFILES_FILE_NAME,
    NULL
  };

  for (int i = 0; candidates[i]; i++)
    if (g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
      return g_strdup (candidates[i]);
  return NULL;
}

gboolean
wr_profile_set_check_host (WrProfileSet *set, const char *only,
    GHashTable **chosen, GError **error)
{
  g_autoptr (GString) msg = g_string_new (NULL);
  g_autoptr (GHashTable) table = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);

  for (guint i = 0; i < set->profiles->len; i++) {
    WrProfile *p = g_ptr_array_index (set->profiles, i);
    g_autoptr (GPtrArray) results = NULL;
    const char *enc;
    const char *src = p->source == WR_SOURCE_PIPEWIRE ? "pipewiresrc"
        : p->source == WR_SOURCE_TEST ? "videotestsrc" : "ximagesrc";
    g_autoptr (GstElementFactory) f = NULL;

    if (only && !g_str_equal (only, p->name))
      continue;
    f = gst_element_factory_find (src);
    if (!f)
      g_string_append_printf (msg, "%s%s:%d: [profile %s] source: %s is "
          "not installed on this host", msg->len ? "\n" : "",
          set->path ? set->path : "(profiles)", p->line, p->name, src);
    enc = wr_profile_choose_encoder (p, &results);
    if (enc) {
      g_hash_table_insert (table, g_strdup (p->name), g_strdup (enc));
    } else {
      g_autoptr (GString) why = g_string_new (NULL);
      for (guint j = 0; j < results->len; j++) {
        WrEncoderProbeResult *r = g_ptr_array_index (results, j);
        g_string_append_printf (why, "%s%s: %s", j ? "; " : "", r->encoder,
            r->reason);
      }
      g_string_append_printf (msg, "%s%s:%d: [profile %s] encoders: no "
          "usable encoder on this host (%s)", msg->len ? "\n" : "",
          set->path ? set->path : "(profiles)", p->line, p->name,
          why->str);
    }
  }
  if (chosen)
    *chosen = g_hash_table_ref (table);
  if (msg->len) {
    g_set_error_literal (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        msg->str);
    return FALSE;
  }
  return TRUE;
}

char *
wr_profile_summary (const WrProfile *p)
{
  GString *s = g_string_new (wr_source_kind_name (p->source));

  if (p->display)
    g_string_append_printf (s, " %s", p->display);
  if (p->width)
    g_string_append_printf (s, ", %dx%d", p->width, p->height);
  else if (p->scale > 0)
    g_string_append_printf (s, ", scale %g", p->scale);
  else
    g_string_append (s, ", source size");
  g_string_append_printf (s, ", %d fps, %d kbit/s (%d..%d), ", p->framerate,
      p->bitrate_kbps, p->min_bitrate_kbps, p->max_bitrate_kbps);
  switch (p->keyframe_mode) {
    case WR_KEYFRAME_ON_DEMAND:
      g_string_append (s, "keyframes on demand");
      break;
    case WR_KEYFRAME_FRAMES:
      g_string_append_printf (s, "keyframe every %d frames",
          p->keyframe_interval);
      break;
    case WR_KEYFRAME_SECONDS:
      g_string_append_printf (s, "keyframe every %d s",
          p->keyframe_interval);
      break;
  }
  return g_string_free (s, FALSE);
}
