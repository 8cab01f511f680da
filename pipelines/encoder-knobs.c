/* webremote pipelines: the encoders we know and their typed knobs. */
#include "config.h"

#include "pipelines/encoder-knobs.h"

#include <string.h>

#include "common/config.h"

#define V(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* Hardware first: the order `--probe` lists them in. */
static const WrEncoderInfo encoders[] = {
  { "nvh264enc", WR_CODEC_H264, TRUE, "bitrate", 1, "max-bitrate",
    WR_KEYINT_PROPERTY, "gop-size", -1,
    V ("preset=low-latency-hq", "rc-mode=cbr", "zerolatency=true",
        "bframes=0"),
    "NVIDIA NVENC (gst-plugins-bad nvcodec); needs an NVIDIA GPU" },
  { "vah264enc", WR_CODEC_H264, TRUE, "bitrate", 1, NULL,
    WR_KEYINT_PROPERTY, "key-int-max", -1,
    V ("rate-control=cbr", "b-frames=0"),
    "VA-API (gst-plugins-bad va); Intel/AMD GPUs" },
  { "qsvh264enc", WR_CODEC_H264, TRUE, "bitrate", 1, "max-bitrate",
    WR_KEYINT_PROPERTY, "gop-size", -1,
    V ("rate-control=cbr", "b-frames=0"),
    "Intel Quick Sync (gst-plugins-bad qsv)" },
  { "vaapih264enc", WR_CODEC_H264, TRUE, "bitrate", 1, NULL,
    WR_KEYINT_PROPERTY, "keyframe-period", -1,
    V ("rate-control=cbr", "max-bframes=0"),
    "VA-API (gstreamer-vaapi, older)" },
  { "x264enc", WR_CODEC_H264, FALSE, "bitrate", 1, NULL,
    /* 1 << 30 is X264_KEYINT_MAX_INFINITE: keyframes only on request. */
    WR_KEYINT_PROPERTY, "key-int-max", 1 << 30,
    V ("speed-preset=ultrafast", "tune=zerolatency", "bframes=0"),
    "x264 (gst-plugins-ugly); software" },
  { "openh264enc", WR_CODEC_H264, FALSE, "bitrate", 1000, "max-bitrate",
    /* gop-size 0: only the first frame is an IDR, the rest on request. */
    WR_KEYINT_PROPERTY, "gop-size", 0,
    V ("complexity=low", "rate-control=bitrate"),
    "OpenH264 (gst-plugins-bad); software, single slice" },
  { "vp8enc", WR_CODEC_VP8, FALSE, "target-bitrate", 1000, NULL,
    WR_KEYINT_VPX, NULL, 0,
    V ("deadline=1", "cpu-used=-6", "end-usage=cbr", "lag-in-frames=0",
        "error-resilient=default"),
    "libvpx VP8 (gst-plugins-good); software" },
  { "vp9enc", WR_CODEC_VP9, FALSE, "target-bitrate", 1000, NULL,
    WR_KEYINT_VPX, NULL, 0,
    V ("deadline=1", "cpu-used=-8", "end-usage=cbr", "lag-in-frames=0",
        "row-mt=true", "error-resilient=default"),
    "libvpx VP9 (gst-plugins-good); software" },
  { NULL }
};

#define INT(enc, n, lo, hi, doc) \
  { enc, n, WR_KNOB_INT, lo, hi, 0, 0, NULL, n, doc }
#define DBL(enc, n, lo, hi, doc) \
  { enc, n, WR_KNOB_DOUBLE, 0, 0, lo, hi, NULL, n, doc }
#define BOOL(enc, n, doc) \
  { enc, n, WR_KNOB_BOOL, 0, 1, 0, 0, NULL, n, doc }
#define ENUM(enc, n, vals, doc) \
  { enc, n, WR_KNOB_ENUM, 0, 0, 0, 0, vals, n, doc }
#define FLAGS(enc, n, vals, doc) \
  { enc, n, WR_KNOB_FLAGS, 0, 0, 0, 0, vals, n, doc }

static const WrKnobSpec knobs[] = {
  /* nvh264enc (not installable without the GPU: values follow 1.22) */
  ENUM ("nvh264enc", "preset", V ("default", "hp", "hq", "low-latency",
          "low-latency-hq", "low-latency-hp", "lossless", "lossless-hp"),
      "NVENC preset"),
  ENUM ("nvh264enc", "rc-mode", V ("default", "constqp", "cbr", "vbr",
          "vbr-minqp", "cbr-ld-hq", "cbr-hq", "vbr-hq"),
      "rate control mode"),
  BOOL ("nvh264enc", "zerolatency", "no reordering delay"),
  INT ("nvh264enc", "bframes", 0, 4, "B-frames between P-frames (latency)"),
  INT ("nvh264enc", "rc-lookahead", 0, 32, "lookahead frames (latency)"),
  BOOL ("nvh264enc", "spatial-aq", "spatial adaptive quantization"),
  BOOL ("nvh264enc", "aud", "access unit delimiters"),
  /* vah264enc */
  ENUM ("vah264enc", "rate-control", V ("cqp", "cbr", "vbr", "vcm", "icq",
          "qvbr"), "rate control mode (the driver may support fewer)"),
  INT ("vah264enc", "target-usage", 1, 7, "1 = best quality, 7 = fastest"),
  INT ("vah264enc", "b-frames", 0, 31, "B-frames (latency)"),
  INT ("vah264enc", "ref-frames", 0, 16, "reference frames"),
  BOOL ("vah264enc", "cabac", "CABAC entropy coding (main profile only)"),
  BOOL ("vah264enc", "aud", "access unit delimiters"),
  /* qsvh264enc */
  ENUM ("qsvh264enc", "rate-control", V ("cbr", "vbr", "cqp", "avbr", "icq",
          "vcm", "qvbr"), "rate control mode"),
  INT ("qsvh264enc", "target-usage", 1, 7, "1 = best quality, 7 = fastest"),
  INT ("qsvh264enc", "b-frames", 0, 16, "B-frames (latency)"),
  INT ("qsvh264enc", "ref-frames", 0, 16, "reference frames"),
  /* vaapih264enc */
  ENUM ("vaapih264enc", "rate-control", V ("cqp", "cbr", "vbr",
          "vbr_constrained", "icq", "qvbr"), "rate control mode"),
  ENUM ("vaapih264enc", "tune", V ("none", "high-compression", "low-power"),
      "encoder tuning"),
  INT ("vaapih264enc", "quality-level", 1, 7, "1 = best quality, 7 = fastest"),
  INT ("vaapih264enc", "max-bframes", 0, 10, "B-frames (latency)"),
  BOOL ("vaapih264enc", "cabac", "CABAC entropy coding (main profile only)"),
  /* x264enc */
  ENUM ("x264enc", "speed-preset", V ("ultrafast", "superfast", "veryfast",
          "faster", "fast", "medium", "slow", "slower", "veryslow"),
      "speed/quality trade-off; ultrafast always gives constrained baseline"),
  FLAGS ("x264enc", "tune", V ("stillimage", "fastdecode", "zerolatency"),
      "tuning flags; zerolatency removes frame threading delay"),
  ENUM ("x264enc", "psy-tune", V ("none", "film", "animation", "grain",
          "psnr", "ssim"), "psychovisual tuning"),
  INT ("x264enc", "threads", 0, 64, "encoder threads, 0 = automatic"),
  BOOL ("x264enc", "sliced-threads", "slice threading: low latency"),
  INT ("x264enc", "bframes", 0, 16, "B-frames (latency; none in baseline)"),
  INT ("x264enc", "ref", 1, 16, "reference frames"),
  INT ("x264enc", "rc-lookahead", 0, 250, "frames of rate control lookahead"),
  INT ("x264enc", "vbv-buf-capacity", 0, 10000, "VBV buffer, milliseconds"),
  ENUM ("x264enc", "pass", V ("cbr", "quant", "qual", "pass1", "pass2",
          "pass3"), "rate control; pass1..3 need a stats file and do not "
      "start live"),
  INT ("x264enc", "quantizer", 0, 50, "quantizer for pass=quant/qual"),
  INT ("x264enc", "qp-min", 0, 63, "minimum quantizer"),
  INT ("x264enc", "qp-max", 0, 63, "maximum quantizer"),
  INT ("x264enc", "subme", 1, 10, "subpixel motion estimation quality"),
  ENUM ("x264enc", "me", V ("dia", "hex", "umh", "esa", "tesa"),
      "motion estimation method"),
  BOOL ("x264enc", "cabac", "CABAC entropy coding (main profile only)"),
  BOOL ("x264enc", "trellis", "trellis quantization"),
  BOOL ("x264enc", "intra-refresh", "periodic intra refresh instead of IDR"),
  BOOL ("x264enc", "aud", "access unit delimiters"),
  INT ("x264enc", "noise-reduction", 0, 100000, "noise reduction strength"),
  /* openh264enc */
  ENUM ("openh264enc", "complexity", V ("low", "medium", "high"),
      "speed/quality trade-off"),
  ENUM ("openh264enc", "rate-control", V ("quality", "bitrate", "buffer",
          "off"), "rate control mode"),
  ENUM ("openh264enc", "usage-type", V ("camera", "screen"),
      "content type; screen suits desktops"),
  INT ("openh264enc", "multi-thread", 0, 64, "threads, 0 = automatic"),
  ENUM ("openh264enc", "slice-mode", V ("n-slices", "auto"), "slicing"),
  INT ("openh264enc", "num-slices", 1, 32, "slices for slice-mode=n-slices"),
  ENUM ("openh264enc", "deblocking", V ("on", "off", "not-slice-boundaries"),
      "deblocking filter"),
  BOOL ("openh264enc", "enable-frame-skip", "skip frames to hold the bitrate"),
  BOOL ("openh264enc", "scene-change-detection", "scene change detection"),
  BOOL ("openh264enc", "background-detection", "background detection"),
  BOOL ("openh264enc", "adaptive-quantization", "adaptive quantization"),
  BOOL ("openh264enc", "enable-denoise", "denoising"),
  INT ("openh264enc", "qp-min", 0, 51, "minimum quantizer"),
  INT ("openh264enc", "qp-max", 0, 51, "maximum quantizer"),
  /* vp8enc */
  INT ("vp8enc", "deadline", 0, 1000000, "microseconds per frame; "
      "1 = realtime, 0 = best"),
  INT ("vp8enc", "cpu-used", -16, 16, "speed; negative values fix it, "
      "non-negative let libvpx adapt"),
  ENUM ("vp8enc", "end-usage", V ("vbr", "cbr", "cq"), "rate control mode"),
  INT ("vp8enc", "threads", 0, 64, "encoder threads"),
  INT ("vp8enc", "lag-in-frames", 0, 25, "lookahead frames (latency)"),
  INT ("vp8enc", "static-threshold", 0, 100000, "motion detection "
      "threshold; 100 suits screens"),
  ENUM ("vp8enc", "token-partitions", V ("1", "2", "4", "8"),
      "token partitions (parallel decoding)"),
  FLAGS ("vp8enc", "error-resilient", V ("default", "partitions"),
      "error resilience"),
  INT ("vp8enc", "undershoot", 0, 1000, "datarate undershoot, percent"),
  INT ("vp8enc", "overshoot", 0, 1000, "datarate overshoot, percent"),
  INT ("vp8enc", "buffer-size", 0, 60000, "client buffer, milliseconds"),
  INT ("vp8enc", "min-quantizer", 0, 63, "minimum quantizer (best)"),
  INT ("vp8enc", "max-quantizer", 0, 63, "maximum quantizer (worst)"),
  INT ("vp8enc", "cq-level", 0, 63, "quality level for end-usage=cq"),
  INT ("vp8enc", "dropframe-threshold", 0, 100, "drop frames when the "
      "buffer falls below this percentage"),
  INT ("vp8enc", "noise-sensitivity", 0, 6, "noise reduction"),
  INT ("vp8enc", "sharpness", 0, 7, "filter sharpness"),
  /* vp9enc */
  INT ("vp9enc", "deadline", 0, 1000000, "microseconds per frame; "
      "1 = realtime, 0 = best"),
  INT ("vp9enc", "cpu-used", -16, 16, "speed; negative values fix it, "
      "non-negative let libvpx adapt"),
  ENUM ("vp9enc", "end-usage", V ("vbr", "cbr", "cq"), "rate control mode"),
  INT ("vp9enc", "threads", 0, 64, "encoder threads"),
  INT ("vp9enc", "lag-in-frames", 0, 25, "lookahead frames (latency)"),
  INT ("vp9enc", "static-threshold", 0, 100000, "motion detection "
      "threshold; 100 suits screens"),
  FLAGS ("vp9enc", "error-resilient", V ("default", "partitions"),
      "error resilience"),
  BOOL ("vp9enc", "row-mt", "row-based multithreading"),
  INT ("vp9enc", "tile-columns", 0, 6, "log2 of tile columns"),
  ENUM ("vp9enc", "aq-mode", V ("off", "variance", "complexity",
          "cyclic-refresh"), "adaptive quantization"),
  BOOL ("vp9enc", "frame-parallel-decoding", "parallel decodable frames"),
  INT ("vp9enc", "min-quantizer", 0, 63, "minimum quantizer (best)"),
  INT ("vp9enc", "max-quantizer", 0, 63, "maximum quantizer (worst)"),
  INT ("vp9enc", "cq-level", 0, 63, "quality level for end-usage=cq"),
  { NULL }
};

const WrEncoderInfo *
wr_encoder_info_all (void)
{
  return encoders;
}

const WrEncoderInfo *
wr_encoder_info_lookup (const char *name)
{
  for (const WrEncoderInfo *e = encoders; e->name; e++)
    if (g_str_equal (e->name, name))
      return e;
  return NULL;
}

const WrKnobSpec *
wr_knob_all (void)
{
  return knobs;
}

const WrKnobSpec *
wr_knob_lookup (const char *encoder, const char *name)
{
  for (const WrKnobSpec *k = knobs; k->encoder; k++)
    if (g_str_equal (k->encoder, encoder) && g_str_equal (k->name, name))
      return k;
  return NULL;
}

char *
wr_knob_list (const char *encoder)
{
  GString *s = g_string_new (NULL);

  for (const WrKnobSpec *k = knobs; k->encoder; k++)
    if (g_str_equal (k->encoder, encoder))
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", k->name);
  return g_string_free (s, FALSE);
}

const char *
wr_codec_name (WrCodec codec)
{
  switch (codec) {
    case WR_CODEC_H264:
      return "H264";
    case WR_CODEC_VP8:
      return "VP8";
    case WR_CODEC_VP9:
      return "VP9";
  }
  return "?";
}

static char *
values_text (const char *const *values)
{
  g_autofree char *joined = g_strjoinv (", ", (char **) values);

  return g_strdup (joined);
}

gboolean
wr_knob_parse (const WrKnobSpec *spec, const char *text, WrKnobValue *out,
    char **reason)
{
  g_autofree char *t = g_strstrip (g_strdup (text));

  memset (out, 0, sizeof *out);
  out->spec = spec;
  switch (spec->type) {
    case WR_KNOB_INT: {
      gint64 v;
      if (!g_ascii_string_to_signed (t, 10, G_MININT64, G_MAXINT64, &v,
              NULL)) {
        *reason = g_strdup_printf ("'%s' is not an integer", t);
        return FALSE;
      }
      if (v < spec->min || v > spec->max) {
        *reason = g_strdup_printf ("%" G_GINT64_FORMAT " is out of range %"
            G_GINT64_FORMAT "..%" G_GINT64_FORMAT, v, spec->min, spec->max);
        return FALSE;
      }
      out->i = v;
      return TRUE;
    }
    case WR_KNOB_DOUBLE: {
      char *end = NULL;
      double v = g_ascii_strtod (t, &end);
      if (!*t || !end || *end) {
        *reason = g_strdup_printf ("'%s' is not a number", t);
        return FALSE;
      }
      if (v < spec->dmin || v > spec->dmax) {
        *reason = g_strdup_printf ("%g is out of range %g..%g", v,
            spec->dmin, spec->dmax);
        return FALSE;
      }
      out->d = v;
      return TRUE;
    }
    case WR_KNOB_BOOL:
      if (g_str_equal (t, "true")) {
        out->i = 1;
      } else if (g_str_equal (t, "false")) {
        out->i = 0;
      } else {
        *reason = g_strdup_printf ("'%s' is not a boolean (use true or "
            "false)", t);
        return FALSE;
      }
      return TRUE;
    case WR_KNOB_ENUM:
      if (!g_strv_contains (spec->values, t)) {
        g_autofree char *list = values_text (spec->values);
        *reason = g_strdup_printf ("'%s' is not one of %s", t, list);
        return FALSE;
      }
      out->s = g_steal_pointer (&t);
      return TRUE;
    case WR_KNOB_FLAGS: {
      g_auto (GStrv) parts = g_strsplit (t, "+", -1);
      if (!parts[0]) {
        g_autofree char *list = values_text (spec->values);
        *reason = g_strdup_printf ("empty; use one or more of %s joined "
            "by '+'", list);
        return FALSE;
      }
      for (int i = 0; parts[i]; i++) {
        g_strstrip (parts[i]);
        if (!g_strv_contains (spec->values, parts[i])) {
          g_autofree char *list = values_text (spec->values);
          *reason = g_strdup_printf ("'%s' is not one of %s (join several "
              "with '+')", parts[i], list);
          return FALSE;
        }
      }
      out->s = g_strjoinv ("+", parts);
      return TRUE;
    }
  }
  *reason = g_strdup ("unsupported knob type");
  return FALSE;
}

static gboolean
knob_error (GError **error, GstElement *element, const char *property,
    const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
knob_error (GError **error, GstElement *element, const char *property,
    const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  GstElementFactory *f = gst_element_get_factory (element);

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
      "%s property '%s': %s",
      f ? GST_OBJECT_NAME (f) : GST_ELEMENT_NAME (element), property, msg);
  return FALSE;
}

static GParamSpec *
find_property (GstElement *element, const char *property, GError **error)
{
  GParamSpec *pspec = g_object_class_find_property (
      G_OBJECT_GET_CLASS (element), property);

  if (!pspec)
    knob_error (error, element, property, "no such property in this "
        "version of the element");
  else if (!(pspec->flags & G_PARAM_WRITABLE))
    knob_error (error, element, property, "not writable");
  else
    return pspec;
  return NULL;
}

static gboolean
out_of_range (GError **error, GstElement *element, const char *property,
    gint64 value, const char *lo, const char *hi)
{
  return knob_error (error, element, property, "%" G_GINT64_FORMAT
      " is out of its range %s..%s", value, lo, hi);
}

#define SIGNED_RANGE(ps_type) \
  do { \
    ps_type *ps = (ps_type *) pspec; \
    if (value < (gint64) ps->minimum || value > (gint64) ps->maximum) { \
      g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, \
          (gint64) ps->minimum); \
      g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, \
          (gint64) ps->maximum); \
      return out_of_range (error, element, property, value, lo, hi); \
    } \
  } while (0)

#define UNSIGNED_RANGE(ps_type) \
  do { \
    ps_type *ps = (ps_type *) pspec; \
    if (value < 0 || (guint64) value < (guint64) ps->minimum \
        || (guint64) value > (guint64) ps->maximum) { \
      g_autofree char *lo = g_strdup_printf ("%" G_GUINT64_FORMAT, \
          (guint64) ps->minimum); \
      g_autofree char *hi = g_strdup_printf ("%" G_GUINT64_FORMAT, \
          (guint64) ps->maximum); \
      return out_of_range (error, element, property, value, lo, hi); \
    } \
  } while (0)

gboolean
wr_element_set_int (GstElement *element, const char *property, gint64 value,
    GError **error)
{
  GParamSpec *pspec = find_property (element, property, error);
  g_auto (GValue) v = G_VALUE_INIT;
  GType t;

  if (!pspec)
    return FALSE;
  t = G_PARAM_SPEC_VALUE_TYPE (pspec);
  switch (G_TYPE_FUNDAMENTAL (t)) {
    case G_TYPE_INT:
      SIGNED_RANGE (GParamSpecInt);
      g_value_init (&v, t);
      g_value_set_int (&v, (gint) value);
      break;
    case G_TYPE_UINT:
      UNSIGNED_RANGE (GParamSpecUInt);
      g_value_init (&v, t);
      g_value_set_uint (&v, (guint) value);
      break;
    case G_TYPE_LONG:
      SIGNED_RANGE (GParamSpecLong);
      g_value_init (&v, t);
      g_value_set_long (&v, (glong) value);
      break;
    case G_TYPE_ULONG:
      UNSIGNED_RANGE (GParamSpecULong);
      g_value_init (&v, t);
      g_value_set_ulong (&v, (gulong) value);
      break;
    case G_TYPE_INT64:
      SIGNED_RANGE (GParamSpecInt64);
      g_value_init (&v, t);
      g_value_set_int64 (&v, value);
      break;
    case G_TYPE_UINT64:
      UNSIGNED_RANGE (GParamSpecUInt64);
      g_value_init (&v, t);
      g_value_set_uint64 (&v, (guint64) value);
      break;
    default:
      return knob_error (error, element, property, "is a %s, not an "
          "integer", g_type_name (t));
  }
  g_object_set_property (G_OBJECT (element), property, &v);
  return TRUE;
}

/* The maximum of an integer property, for "no periodic keyframes". */
static gint64
int_property_max (GParamSpec *pspec)
{
  switch (G_TYPE_FUNDAMENTAL (G_PARAM_SPEC_VALUE_TYPE (pspec))) {
    case G_TYPE_INT:
      return ((GParamSpecInt *) pspec)->maximum;
    case G_TYPE_UINT:
      return MIN (((GParamSpecUInt *) pspec)->maximum, (guint) G_MAXINT);
    case G_TYPE_INT64:
      return ((GParamSpecInt64 *) pspec)->maximum;
    case G_TYPE_UINT64:
      return (gint64) MIN (((GParamSpecUInt64 *) pspec)->maximum,
          (guint64) G_MAXINT64);
    default:
      return G_MAXINT;
  }
}

gint64
wr_element_int_property_max (GstElement *element, const char *property)
{
  GParamSpec *pspec = g_object_class_find_property (
      G_OBJECT_GET_CLASS (element), property);

  return pspec ? int_property_max (pspec) : G_MAXINT;
}

gboolean
wr_knob_apply (GstElement *element, const WrKnobValue *value, GError **error)
{
  const WrKnobSpec *spec = value->spec;
  const char *property = spec->property;
  GParamSpec *pspec = find_property (element, property, error);
  g_auto (GValue) v = G_VALUE_INIT;
  GType t;

  if (!pspec)
    return FALSE;
  t = G_PARAM_SPEC_VALUE_TYPE (pspec);

  switch (spec->type) {
    case WR_KNOB_INT:
      return wr_element_set_int (element, property, value->i, error);
    case WR_KNOB_DOUBLE:
      g_value_init (&v, t);
      if (t == G_TYPE_DOUBLE) {
        GParamSpecDouble *ps = (GParamSpecDouble *) pspec;
        if (value->d < ps->minimum || value->d > ps->maximum)
          return knob_error (error, element, property, "%g is out of its "
              "range %g..%g", value->d, ps->minimum, ps->maximum);
        g_value_set_double (&v, value->d);
      } else if (t == G_TYPE_FLOAT) {
        GParamSpecFloat *ps = (GParamSpecFloat *) pspec;
        if (value->d < ps->minimum || value->d > ps->maximum)
          return knob_error (error, element, property, "%g is out of its "
              "range %g..%g", value->d, ps->minimum, ps->maximum);
        g_value_set_float (&v, (float) value->d);
      } else {
        return knob_error (error, element, property, "is a %s, not a "
            "number", g_type_name (t));
      }
      break;
    case WR_KNOB_BOOL:
      if (t != G_TYPE_BOOLEAN)
        return knob_error (error, element, property, "is a %s, not a "
            "boolean", g_type_name (t));
      g_value_init (&v, t);
      g_value_set_boolean (&v, value->i != 0);
      break;
    case WR_KNOB_ENUM: {
      GEnumClass *klass;
      GEnumValue *ev;
      if (!G_TYPE_IS_ENUM (t))
        return knob_error (error, element, property, "is a %s, not an "
            "enumeration", g_type_name (t));
      klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
      ev = g_enum_get_value_by_nick (klass, value->s);
      if (!ev)
        return knob_error (error, element, property, "this version has no "
            "value '%s'", value->s);
      g_value_init (&v, t);
      g_value_set_enum (&v, ev->value);
      break;
    }
    case WR_KNOB_FLAGS: {
      GFlagsClass *klass;
      g_auto (GStrv) parts = NULL;
      guint bits = 0;
      if (!G_TYPE_IS_FLAGS (t))
        return knob_error (error, element, property, "is a %s, not flags",
            g_type_name (t));
      klass = G_PARAM_SPEC_FLAGS (pspec)->flags_class;
      parts = g_strsplit (value->s, "+", -1);
      for (int i = 0; parts[i]; i++) {
        GFlagsValue *fv = g_flags_get_value_by_nick (klass, parts[i]);
        if (!fv)
          return knob_error (error, element, property, "this version has "
              "no flag '%s'", parts[i]);
        bits |= fv->value;
      }
      g_value_init (&v, t);
      g_value_set_flags (&v, bits);
      break;
    }
  }
  g_object_set_property (G_OBJECT (element), property, &v);
  return TRUE;
}
