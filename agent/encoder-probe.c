/* webremote-agent: which video encoders this machine can use. */
#include "config.h"

#include "agent/encoder-probe.h"

#include <gst/gst.h>

/* Everything we may announce, best first within each codec. */
static const char *const known_encoders[] = {
  "nvh264enc", "vah264enc", "qsvh264enc", "vaapih264enc",
  "x264enc", "openh264enc",
  "vp8enc", "vp9enc",
  NULL
};

/* What display-pipeline.c can configure, in order of preference. x264 is
 * first because ultrafast/zerolatency is cheap and always yields
 * constrained baseline, which every browser decodes. */
static const char *const pipeline_encoders[] = {
  "x264enc", "openh264enc", NULL
};

char **
wr_encoder_probe (void)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new ();

  for (int i = 0; known_encoders[i]; i++) {
    g_autoptr (GstElementFactory) factory =
        gst_element_factory_find (known_encoders[i]);
    if (factory)
      g_ptr_array_add (out, g_strdup (known_encoders[i]));
  }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

const char *
wr_encoder_choose (const char *const *available)
{
  if (!available)
    return NULL;
  for (int i = 0; pipeline_encoders[i]; i++)
    if (g_strv_contains (available, pipeline_encoders[i]))
      return pipeline_encoders[i];
  return NULL;
}
