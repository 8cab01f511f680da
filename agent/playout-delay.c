/* webremote-agent: the RTP playout-delay header extension (0/0). */
#include "config.h"

#include "agent/playout-delay.h"

#include <gst/rtp/gstrtphdrext.h>

#define WR_TYPE_RTP_HDR_EXT_PLAYOUT_DELAY \
  (wr_rtp_hdr_ext_playout_delay_get_type ())
G_DECLARE_FINAL_TYPE (WrRtpHdrExtPlayoutDelay, wr_rtp_hdr_ext_playout_delay,
    WR, RTP_HDR_EXT_PLAYOUT_DELAY, GstRTPHeaderExtension)

struct _WrRtpHdrExtPlayoutDelay {
  GstRTPHeaderExtension parent;
};

G_DEFINE_FINAL_TYPE (WrRtpHdrExtPlayoutDelay, wr_rtp_hdr_ext_playout_delay,
    GST_TYPE_RTP_HEADER_EXTENSION)

static GstRTPHeaderExtensionFlags
get_supported_flags (GstRTPHeaderExtension *ext)
{
  return GST_RTP_HEADER_EXTENSION_ONE_BYTE | GST_RTP_HEADER_EXTENSION_TWO_BYTE;
}

static gsize
get_max_size (GstRTPHeaderExtension *ext, const GstBuffer *meta)
{
  return 3;
}

/* 12 bits minimum, 12 bits maximum, 10 ms units: both 0. */
static gssize
write_ext (GstRTPHeaderExtension *ext, const GstBuffer *meta,
    GstRTPHeaderExtensionFlags flags, GstBuffer *output, guint8 *data,
    gsize size)
{
  if (size < 3)
    return -1;
  data[0] = data[1] = data[2] = 0;
  return 3;
}

static gboolean
read_ext (GstRTPHeaderExtension *ext, GstRTPHeaderExtensionFlags flags,
    const guint8 *data, gsize size, GstBuffer *buffer)
{
  return size >= 3;
}

static void
wr_rtp_hdr_ext_playout_delay_class_init (WrRtpHdrExtPlayoutDelayClass *klass)
{
  GstRTPHeaderExtensionClass *ext_class = GST_RTP_HEADER_EXTENSION_CLASS (
      klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  ext_class->get_supported_flags = get_supported_flags;
  ext_class->get_max_size = get_max_size;
  ext_class->write = write_ext;
  ext_class->read = read_ext;
  gst_element_class_set_static_metadata (element_class,
      "RTP playout delay header extension", GST_RTP_HDREXT_ELEMENT_CLASS,
      "Asks the receiver for no playout delay (min 0, max 0)", "webremote");
  gst_rtp_header_extension_class_set_uri (ext_class, WR_PLAYOUT_DELAY_URI);
}

static void
wr_rtp_hdr_ext_playout_delay_init (WrRtpHdrExtPlayoutDelay *self)
{
}

void
wr_playout_delay_register (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    gst_element_register (NULL, "wrrtphdrextplayoutdelay", GST_RANK_MARGINAL,
        WR_TYPE_RTP_HDR_EXT_PLAYOUT_DELAY);
    g_once_init_leave (&done, 1);
  }
}
