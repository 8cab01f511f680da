/* webremote pipelines: the encoders we know and their typed knobs.
 *
 * Every encoder a profile may name is described here: its codec, whether
 * it is hardware, how the profile's bitrate and keyframe policy map onto
 * its properties, the settings it always gets for live streaming, and the
 * knobs an operator may set (`x264enc.speed-preset = ultrafast`), each with
 * a type and a range or a list of values. docs/pipelines.md is generated
 * by hand from these tables: keep the two in step. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum {
  WR_CODEC_H264,
  WR_CODEC_VP8,
  WR_CODEC_VP9,
} WrCodec;

typedef enum {
  WR_KNOB_INT,    /* integer within [min, max] */
  WR_KNOB_DOUBLE, /* number within [min, max] */
  WR_KNOB_BOOL,   /* true | false */
  WR_KNOB_ENUM,   /* one of values */
  WR_KNOB_FLAGS,  /* values joined by '+', e.g. zerolatency+fastdecode */
} WrKnobType;

/* How "keyframe-interval = on-demand" (no periodic keyframes, only on
 * request: a new viewer, a PLI/FIR) and "= N" reach the encoder. */
typedef enum {
  WR_KEYINT_PROPERTY,  /* keyint_property = N; on-demand = keyint_infinite */
  WR_KEYINT_VPX,       /* keyframe-mode=disabled, or auto + max-dist N */
} WrKeyintStyle;

typedef struct {
  const char *encoder;         /* factory name */
  const char *name;            /* knob name in a profile */
  WrKnobType type;
  gint64 min;                  /* INT */
  gint64 max;
  double dmin;                 /* DOUBLE */
  double dmax;
  const char *const *values;   /* ENUM, FLAGS: the element's value nicks */
  const char *property;        /* the element property it sets */
  const char *doc;             /* one line for docs and --help */
} WrKnobSpec;

/* A knob's checked value. */
typedef struct {
  const WrKnobSpec *spec;
  gint64 i;                    /* INT, BOOL (0/1) */
  double d;                    /* DOUBLE */
  char *s;                     /* ENUM, FLAGS: normalised nick(s) */
  int line;                    /* in the profiles file, 0 for defaults */
} WrKnobValue;

typedef struct {
  const char *name;            /* factory name */
  WrCodec codec;
  gboolean hardware;
  const char *bitrate_property;
  guint bitrate_scale;         /* property unit per kbit/s: 1 or 1000 */
  const char *max_bitrate_property; /* (nullable) set from max-bitrate */
  WrKeyintStyle keyint_style;
  const char *keyint_property; /* WR_KEYINT_PROPERTY */
  gint64 keyint_infinite;      /* on-demand value; -1: the property's max */
  /* "knob=value" pairs applied before the profile's own knobs: the
   * low-latency settings every live stream needs. NULL-terminated. */
  const char *const *defaults;
  const char *doc;
} WrEncoderInfo;

/**
 * wr_encoder_info_lookup:
 * Returns: (transfer none) (nullable): the encoder's entry, %NULL when
 * @name is not an encoder we know.
 */
const WrEncoderInfo *wr_encoder_info_lookup (const char *name);

/**
 * wr_encoder_info_all:
 * Returns: (transfer none): every known encoder, hardware first, ending
 * with an entry whose name is %NULL.
 */
const WrEncoderInfo *wr_encoder_info_all (void);

/**
 * wr_knob_lookup:
 * Returns: (transfer none) (nullable): @encoder's knob @name.
 */
const WrKnobSpec *wr_knob_lookup (const char *encoder, const char *name);

/**
 * wr_knob_list:
 * Returns: (transfer full): "a, b, c": @encoder's knob names, for messages.
 */
char *wr_knob_list (const char *encoder);

/**
 * wr_knob_all:
 * Returns: (transfer none): the whole knob table, ending with an entry
 * whose encoder is %NULL.
 */
const WrKnobSpec *wr_knob_all (void);

/**
 * wr_knob_parse:
 * @text: the value as written in the file
 * @out: filled on success (free out->s with g_free)
 * @reason: (out) (transfer full): why @text is not a value of @spec
 *
 * Checks @text against the knob's type and range (or values).
 */
gboolean wr_knob_parse (const WrKnobSpec *spec, const char *text,
    WrKnobValue *out, char **reason);

/**
 * wr_knob_apply:
 * Sets the knob's property on @element with a GValue of the property's own
 * type, after checking the value against the installed element's
 * GParamSpec (its range, its enum or flags values). Never parses text into
 * a pipeline.
 */
gboolean wr_knob_apply (GstElement *element, const WrKnobValue *value,
    GError **error);

/**
 * wr_element_set_int:
 * Sets an integer-like property (int, uint, int64, uint64, long, ulong)
 * of @element to @value, refusing values outside the property's range;
 * the helper behind bitrate and keyframe interval.
 */
gboolean wr_element_set_int (GstElement *element, const char *property,
    gint64 value, GError **error);

/**
 * wr_element_int_property_max:
 * Returns: the largest value of @element's integer @property (at most
 * G_MAXINT for unsigned ones), G_MAXINT when it has no such property.
 */
gint64 wr_element_int_property_max (GstElement *element,
    const char *property);

const char *wr_codec_name (WrCodec codec);   /* "H264", "VP8", "VP9" */

G_END_DECLS
