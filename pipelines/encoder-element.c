/* webremote pipelines: an encoder element configured from a profile. */
#include "config.h"

#include "pipelines/encoder-element.h"

#include "common/config.h"

static gboolean
apply_defaults (GstElement *enc, const WrEncoderInfo *info, GError **error)
{
  for (int i = 0; info->defaults && info->defaults[i]; i++) {
    g_auto (GStrv) kv = g_strsplit (info->defaults[i], "=", 2);
    const WrKnobSpec *spec = wr_knob_lookup (info->name, kv[0]);
    g_autofree char *reason = NULL;
    WrKnobValue v;
    gboolean ok;

    /* The tables are ours: a mismatch is a programming error, but report
     * it like any other so the probe skips the encoder. */
    if (!spec || !kv[1] || !wr_knob_parse (spec, kv[1], &v, &reason)) {
      g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
          "%s: bad built-in default '%s'", info->name, info->defaults[i]);
      return FALSE;
    }
    ok = wr_knob_apply (enc, &v, error);
    g_free (v.s);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
apply_keyframes (GstElement *enc, const WrEncoderInfo *info,
    const WrProfile *p, GError **error)
{
  gint64 frames = 0;

  if (p->keyframe_mode == WR_KEYFRAME_FRAMES)
    frames = p->keyframe_interval;
  else if (p->keyframe_mode == WR_KEYFRAME_SECONDS)
    frames = (gint64) p->keyframe_interval * p->framerate;

  switch (info->keyint_style) {
    case WR_KEYINT_PROPERTY: {
      gint64 v = frames;
      if (p->keyframe_mode == WR_KEYFRAME_ON_DEMAND)
        v = info->keyint_infinite >= 0 ? info->keyint_infinite
            : wr_element_int_property_max (enc, info->keyint_property);
      return wr_element_set_int (enc, info->keyint_property, v, error);
    }
    case WR_KEYINT_VPX:
      if (p->keyframe_mode == WR_KEYFRAME_ON_DEMAND) {
        gst_util_set_object_arg (G_OBJECT (enc), "keyframe-mode",
            "disabled");
        return TRUE;
      }
      gst_util_set_object_arg (G_OBJECT (enc), "keyframe-mode", "auto");
      return wr_element_set_int (enc, "keyframe-max-dist", frames, error);
  }
  return TRUE;
}

GstElement *
wr_encoder_element_new (const WrProfile *p, const char *encoder,
    const char *name, GError **error)
{
  const WrEncoderInfo *info = wr_encoder_info_lookup (encoder);
  g_autoptr (GstElement) enc = NULL;

  if (!info) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        "unknown encoder '%s'", encoder);
    return NULL;
  }
  enc = gst_element_factory_make (encoder, name);
  if (!enc) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "not installed");
    return NULL;
  }
  gst_object_ref_sink (enc);
  if (!apply_defaults (enc, info, error)
      || !wr_element_set_int (enc, info->bitrate_property,
          (gint64) p->bitrate_kbps * info->bitrate_scale, error)
      || (info->max_bitrate_property
          && p->max_bitrate_kbps > p->bitrate_kbps
          && !wr_element_set_int (enc, info->max_bitrate_property,
              (gint64) p->max_bitrate_kbps * info->bitrate_scale, error))
      || !apply_keyframes (enc, info, p, error))
    return NULL;
  for (guint i = 0; i < p->knobs->len; i++) {
    const WrKnobValue *v = g_ptr_array_index (p->knobs, i);
    if (g_str_equal (v->spec->encoder, encoder)
        && !wr_knob_apply (enc, v, error))
      return NULL;
  }
  /* Hand back a floating reference, as gst_element_factory_make does. */
  g_object_force_floating (G_OBJECT (enc));
  return g_steal_pointer (&enc);
}

GstCaps *
wr_encoder_output_caps (const WrProfile *p, const char *encoder)
{
  const WrEncoderInfo *info = wr_encoder_info_lookup (encoder);

  switch (info ? info->codec : WR_CODEC_H264) {
    case WR_CODEC_VP8:
      return gst_caps_new_empty_simple ("video/x-vp8");
    case WR_CODEC_VP9:
      return gst_caps_new_empty_simple ("video/x-vp9");
    case WR_CODEC_H264:
    default:
      /* Chromium refuses High (platform-notes.md): pin the profile. */
      return gst_caps_new_simple ("video/x-h264",
          "profile", G_TYPE_STRING,
          p->h264_profile == WR_H264_MAIN ? "main" : "constrained-baseline",
          NULL);
  }
}

const char *
wr_encoder_payloader (const char *encoder)
{
  const WrEncoderInfo *info = wr_encoder_info_lookup (encoder);

  switch (info ? info->codec : WR_CODEC_H264) {
    case WR_CODEC_VP8:
      return "rtpvp8pay";
    case WR_CODEC_VP9:
      return "rtpvp9pay";
    case WR_CODEC_H264:
    default:
      return "rtph264pay";
  }
}
