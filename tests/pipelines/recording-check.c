/* Recorder tests: what an auditor's player would see in a segment file. */
#include "config.h"

#include "recording-check.h"

#include <gst/gst.h>
#include <string.h>

typedef struct {
  GMainLoop *loop;
  guint64 frames;
  char *error;
} Decode;

static GstPadProbeReturn
count_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Decode *d = user_data;

  /* before any error: only the streaming thread writes */
  if (!d->error)
    d->frames++;
  return GST_PAD_PROBE_OK;
}

static gboolean
decode_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Decode *d = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    if (!d->error)
      d->error = g_strdup_printf ("%s: %s", GST_MESSAGE_SRC_NAME (msg),
          err->message);
    g_main_loop_quit (d->loop);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    g_main_loop_quit (d->loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
decode_timeout (gpointer user_data)
{
  Decode *d = user_data;

  if (!d->error)
    d->error = g_strdup ("decoding did not finish within 60 s");
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

gboolean
wr_check_decode (const char *path, guint64 *frames, char **error_text)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  Decode d = { 0 };
  g_autofree char *desc = NULL;
  g_autofree char *quoted = NULL;
  g_autoptr (GError) error = NULL;
  GstElement *pipeline;
  GstElement *sink;
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstBus) bus = NULL;
  GSource *watch, *timeout;
  gboolean ok;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  g_main_context_push_thread_default (context);
  quoted = g_strescape (path, NULL);
  if (g_str_has_suffix (path, ".webm"))
    desc = g_strdup_printf ("filesrc location=\"%s\" ! matroskademux"
        " ! decodebin ! fakesink name=sink sync=false", quoted);
  else
    desc = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! h264parse"
        " ! avdec_h264 ! fakesink name=sink sync=false", quoted);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &d, NULL);
  gst_object_unref (sink);

  d.loop = g_main_loop_new (context, FALSE);
  bus = gst_pipeline_get_bus (GST_PIPELINE (pipeline));
  watch = gst_bus_create_watch (bus);
  g_source_set_callback (watch, (GSourceFunc) (void (*) (void)) decode_bus,
      &d, NULL);
  g_source_attach (watch, context);
  timeout = g_timeout_source_new_seconds (60);
  g_source_set_callback (timeout, decode_timeout, &d, NULL);
  g_source_attach (timeout, context);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE && !d.error)
    d.error = g_strdup ("the decoding pipeline does not start");
  else
    g_main_loop_run (d.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_source_destroy (watch);
  g_source_unref (watch);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  gst_object_unref (pipeline);
  g_main_loop_unref (d.loop);
  g_main_context_pop_thread_default (context);

  *frames = d.frames;
  ok = d.error == NULL;
  if (error_text)
    *error_text = g_steal_pointer (&d.error);
  g_free (d.error);
  return ok;
}

/* ---- MP4 boxes ---- */

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16)
      | ((guint32) p[2] << 8) | p[3];
}

static guint64
be64 (const guint8 *p)
{
  return ((guint64) be32 (p) << 32) | be32 (p + 4);
}

/* Finds the first child box of @type in [p, end); returns its payload. */
static const guint8 *
find_box (const guint8 *p, const guint8 *end, const char *type,
    gsize *payload_len)
{
  while (end - p >= 8) {
    guint64 size = be32 (p);
    gsize header = 8;

    if (size == 1 && end - p >= 16) {
      size = be64 (p + 8);
      header = 16;
    } else if (size == 0) {
      size = (guint64) (end - p);
    }
    if (size < header || size > (guint64) (end - p))
      return NULL;
    if (memcmp (p + 4, type, 4) == 0) {
      *payload_len = (gsize) size - header;
      return p + header;
    }
    p += size;
  }
  return NULL;
}

typedef struct {
  guint32 timescale;
  guint32 trex_duration;
} Track;

/* Seconds of media in one moof (first track fragment). */
static gboolean
fragment_duration (const guint8 *moof, gsize len, const Track *t,
    double *seconds, guint64 *samples)
{
  gsize traf_len, tfhd_len, trun_len;
  const guint8 *traf = find_box (moof, moof + len, "traf", &traf_len);
  const guint8 *tfhd, *trun, *q, *tend;
  guint32 flags, tflags, count, def = t->trex_duration;
  guint64 total = 0;

  if (!traf)
    return FALSE;
  tfhd = find_box (traf, traf + traf_len, "tfhd", &tfhd_len);
  trun = find_box (traf, traf + traf_len, "trun", &trun_len);
  if (!tfhd || !trun || tfhd_len < 8 || trun_len < 8)
    return FALSE;
  tflags = be32 (tfhd) & 0xffffff;
  q = tfhd + 8;
  if (tflags & 0x01)
    q += 8;
  if (tflags & 0x02)
    q += 4;
  if ((tflags & 0x08) && q + 4 <= tfhd + tfhd_len)
    def = be32 (q);

  flags = be32 (trun) & 0xffffff;
  count = be32 (trun + 4);
  q = trun + 8;
  tend = trun + trun_len;
  if (flags & 0x01)
    q += 4;
  if (flags & 0x04)
    q += 4;
  for (guint32 i = 0; i < count; i++) {
    guint32 dur = def;
    if (flags & 0x100) {
      if (q + 4 > tend)
        return FALSE;
      dur = be32 (q);
      q += 4;
    }
    q += ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0)
        + ((flags & 0x800) ? 4 : 0);
    total += dur;
  }
  *seconds = t->timescale ? (double) total / t->timescale : 0;
  *samples = count;
  return TRUE;
}

gboolean
wr_check_mp4 (const char *path, WrMp4Info *info, char **why)
{
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  const guint8 *p, *end;
  Track track = { 0 };
  const guint8 *pending_moof = NULL;
  gsize pending_len = 0;
  gboolean has_ftyp = FALSE;

  memset (info, 0, sizeof *info);
  if (!g_file_get_contents (path, (char **) &data, &len, NULL)) {
    *why = g_strdup_printf ("cannot read %s", path);
    return FALSE;
  }
  p = data;
  end = data + len;
  while (end - p >= 8) {
    guint64 size = be32 (p);
    gsize header = 8;
    gboolean whole;

    if (size == 1 && end - p >= 16) {
      size = be64 (p + 8);
      header = 16;
    }
    if (size < header)
      break;
    whole = size <= (guint64) (end - p);
    if (memcmp (p + 4, "ftyp", 4) == 0) {
      has_ftyp = TRUE;
    } else if (memcmp (p + 4, "moov", 4) == 0 && whole) {
      gsize trak_len, mdia_len, mdhd_len, mvex_len, trex_len;
      const guint8 *moov = p + header, *moov_end = p + size;
      const guint8 *trak = find_box (moov, moov_end, "trak", &trak_len);
      const guint8 *mdia = trak ? find_box (trak, trak + trak_len, "mdia",
          &mdia_len) : NULL;
      const guint8 *mdhd = mdia ? find_box (mdia, mdia + mdia_len, "mdhd",
          &mdhd_len) : NULL;
      const guint8 *mvex = find_box (moov, moov_end, "mvex", &mvex_len);
      const guint8 *trex = mvex ? find_box (mvex, mvex + mvex_len, "trex",
          &trex_len) : NULL;

      info->has_moov = TRUE;
      if (mdhd && mdhd_len >= 24)
        track.timescale = mdhd[0] == 1 && mdhd_len >= 32
            ? be32 (mdhd + 20) : be32 (mdhd + 12);
      if (trex && trex_len >= 24)
        track.trex_duration = be32 (trex + 12);
    } else if (memcmp (p + 4, "moof", 4) == 0) {
      info->n_fragments++;
      pending_moof = whole ? p + header : NULL;
      pending_len = whole ? (gsize) size - header : 0;
    } else if (memcmp (p + 4, "mdat", 4) == 0 && pending_moof) {
      if (whole) {
        double secs = 0;
        guint64 n = 0;
        if (fragment_duration (pending_moof, pending_len, &track, &secs,
                &n)) {
          info->complete_fragments++;
          info->samples += n;
          info->max_fragment_s = MAX (info->max_fragment_s, secs);
        }
      }
      pending_moof = NULL;
    } else if (memcmp (p + 4, "mfra", 4) == 0) {
      info->has_mfra = TRUE;
    }
    if (!whole)
      break;
    p += size;
  }
  if (!has_ftyp || !info->has_moov) {
    *why = g_strdup_printf ("%s has no ftyp or moov", path);
    return FALSE;
  }
  return TRUE;
}

char *
wr_check_sha256_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guint8 *) data,
      len);
}
