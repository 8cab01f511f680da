/* Recorder tests: a GStreamer WebRTC sender that plays the agent. */
#include "config.h"

#include "test-sender.h"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <string.h>

#include "pipelines/webrtc-ice.h"

struct _WrTestSender {
  GstElement *pipeline;
  GstElement *webrtc;
  GstPad *webrtc_sink;
  GMainContext *context;
  WrTestSenderOfferFunc offer_cb;
  WrTestSenderCandidateFunc candidate_cb;
  gpointer user_data;
  guint caps_poll_id;
  guint bus_watch_id;
  gboolean offered;
  gboolean freed;

  gint keyframe_requests;  /* atomic */
  gint frames;             /* atomic */
  gint error;              /* atomic */
  gint ref_count;
};

static WrTestSender *
sender_ref (WrTestSender *s)
{
  g_atomic_int_inc (&s->ref_count);
  return s;
}

static void
sender_unref (gpointer data)
{
  WrTestSender *s = data;

  if (!g_atomic_int_dec_and_test (&s->ref_count))
    return;
  g_main_context_unref (s->context);
  g_free (s);
}

typedef struct {
  WrTestSender *s;
  gboolean offer;
  char *text;
  guint mline;
} Out;

static void
out_free (gpointer data)
{
  Out *o = data;

  sender_unref (o->s);
  g_free (o->text);
  g_free (o);
}

static gboolean
out_dispatch (gpointer data)
{
  Out *o = data;

  if (o->s->freed)
    return G_SOURCE_REMOVE;
  if (o->offer)
    o->s->offer_cb (o->text, o->s->user_data);
  else
    o->s->candidate_cb (o->mline, o->text, o->s->user_data);
  return G_SOURCE_REMOVE;
}

static void
post (WrTestSender *s, gboolean offer, const char *text, guint mline)
{
  Out *o = g_new0 (Out, 1);
  GSource *source = g_idle_source_new ();

  o->s = sender_ref (s);
  o->offer = offer;
  o->text = g_strdup (text);
  o->mline = mline;
  g_source_set_callback (source, out_dispatch, o, out_free);
  g_source_attach (source, s->context);
  g_source_unref (source);
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *candidate,
    gpointer user_data)
{
  post (user_data, FALSE, candidate, mline);
}

static void
on_offer_created (GstPromise *promise, gpointer user_data)
{
  WrTestSender *s = user_data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;
  g_autofree char *sdp = NULL;

  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &offer, NULL);
  gst_promise_unref (promise);
  if (!offer) {
    g_printerr ("sender: no offer\n");
    g_atomic_int_set (&s->error, 1);
    return;
  }
  sdp = gst_sdp_message_as_text (offer->sdp);
  post (s, TRUE, sdp, 0);
  g_signal_emit_by_name (s->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
}

static gboolean
caps_poll (gpointer data)
{
  WrTestSender *s = data;
  GstPromise *promise;

  if (!gst_pad_has_current_caps (s->webrtc_sink))
    return G_SOURCE_CONTINUE;
  s->caps_poll_id = 0;
  s->offered = TRUE;
  promise = gst_promise_new_with_change_func (on_offer_created, s, NULL);
  g_signal_emit_by_name (s->webrtc, "create-offer", NULL, promise);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
keyframe_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrTestSender *s = user_data;

  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_inc (&s->keyframe_requests);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
frame_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrTestSender *s = user_data;

  g_atomic_int_inc (&s->frames);
  return GST_PAD_PROBE_OK;
}

static gboolean
bus_cb (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  WrTestSender *s = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree char *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    g_printerr ("sender: error from %s: %s (%s)\n",
        GST_MESSAGE_SRC_NAME (msg), err->message, dbg ? dbg : "");
    g_atomic_int_set (&s->error, 1);
  }
  return G_SOURCE_CONTINUE;
}

WrTestSender *
wr_test_sender_new (const char *codec, int width, int height, int fps,
    const char *pattern, gboolean moving, WrTestSenderOfferFunc offer_cb,
    WrTestSenderCandidateFunc candidate_cb, gpointer user_data,
    GError **error)
{
  WrTestSender *s;
  g_autofree char *desc = NULL;
  g_autofree char *encode = NULL;
  g_autoptr (GstElement) enc = NULL;
  g_autoptr (GstPad) enc_src = NULL;
  g_autoptr (GstBus) bus = NULL;
  static const char *const loopback[] = { "127.0.0.1", NULL };
  GstWebRTCRTPTransceiver *trans = NULL;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  /* As agent/display-pipeline.c: constrained baseline, no B-frames, a
   * keyframe only on request, SPS/PPS with every IDR, rtcp-fb caps so that
   * webrtcbin offers NACK and PLI/FIR. */
  if (g_strcmp0 (codec, "VP8") == 0)
    encode = g_strdup_printf ("vp8enc name=enc deadline=1 cpu-used=-6"
        " lag-in-frames=0 error-resilient=default"
        " keyframe-max-dist=2147483647 target-bitrate=%d"
        " ! rtpvp8pay mtu=1200 pt=96"
        " ! application/x-rtp,media=video,encoding-name=VP8,payload=96,",
        (width >= 1280 ? 4000 : 1500) * 1000);
  else
    encode = g_strdup_printf ("x264enc name=enc speed-preset=ultrafast"
        " tune=zerolatency bframes=0 key-int-max=2147483647 bitrate=%d"
        " ! video/x-h264,profile=constrained-baseline"
        " ! rtph264pay config-interval=-1 mtu=1200 pt=96"
        " aggregate-mode=zero-latency"
        " ! application/x-rtp,media=video,encoding-name=H264,payload=96,",
        width >= 1280 ? 4000 : 1500);
  desc = g_strdup_printf ("videotestsrc is-live=true pattern=%s %s"
      " ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1"
      " ! %s"
      "clock-rate=90000,rtcp-fb-nack-pli=true,rtcp-fb-ccm-fir=true,"
      "rtcp-fb-nack=true"
      " ! queue leaky=downstream max-size-buffers=0 max-size-bytes=0"
      " max-size-time=100000000 ! webrtcbin name=webrtc bundle-policy=max-bundle",
      pattern, moving ? "horizontal-speed=6" : "", width, height, fps,
      encode);
  s = g_new0 (WrTestSender, 1);
  s->ref_count = 1;
  s->context = g_main_context_ref_thread_default ();
  s->offer_cb = offer_cb;
  s->candidate_cb = candidate_cb;
  s->user_data = user_data;
  s->pipeline = gst_parse_launch (desc, error);
  if (!s->pipeline) {
    sender_unref (s);
    return NULL;
  }
  s->webrtc = gst_bin_get_by_name (GST_BIN (s->pipeline), "webrtc");
  enc = gst_bin_get_by_name (GST_BIN (s->pipeline), "enc");
  enc_src = gst_element_get_static_pad (enc, "src");
  gst_pad_add_probe (enc_src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      keyframe_probe, s, NULL);
  gst_pad_add_probe (enc_src, GST_PAD_PROBE_TYPE_BUFFER, frame_probe, s,
      NULL);

  if (!wr_webrtc_configure_ice (s->webrtc, loopback, NULL, NULL))
    g_printerr ("sender: could not restrict ICE to 127.0.0.1\n");
  g_signal_connect (s->webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), s);

  s->webrtc_sink = gst_element_get_static_pad (s->webrtc, "sink_0");
  if (s->webrtc_sink) {
    g_object_get (s->webrtc_sink, "transceiver", &trans, NULL);
    if (trans) {
      g_object_set (trans, "direction",
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
      gst_object_unref (trans);
    }
  }
  bus = gst_pipeline_get_bus (GST_PIPELINE (s->pipeline));
  s->bus_watch_id = gst_bus_add_watch (bus, bus_cb, s);
  if (!s->webrtc_sink || gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "the sender pipeline does not start");
    wr_test_sender_free (s);
    return NULL;
  }
  s->caps_poll_id = g_timeout_add (20, caps_poll, s);
  return s;
}

static void
on_answer_set (GstPromise *promise, gpointer user_data)
{
  WrTestSender *s = user_data;
  const GstStructure *reply = NULL;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_has_field (reply, "error")) {
    g_printerr ("sender: the answer was refused\n");
    g_atomic_int_set (&s->error, 1);
  }
  gst_promise_unref (promise);
}

gboolean
wr_test_sender_set_answer (WrTestSender *s, const char *sdp)
{
  GstSDPMessage *msg = NULL;
  GstWebRTCSessionDescription *answer;
  GstPromise *promise;

  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK)
    return FALSE;
  answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER,
      msg);
  promise = gst_promise_new_with_change_func (on_answer_set, s, NULL);
  g_signal_emit_by_name (s->webrtc, "set-remote-description", answer,
      promise);
  gst_webrtc_session_description_free (answer);
  return TRUE;
}

void
wr_test_sender_add_candidate (WrTestSender *s, guint mline,
    const char *candidate)
{
  if (candidate && *candidate)
    g_signal_emit_by_name (s->webrtc, "add-ice-candidate", mline, candidate);
}

guint
wr_test_sender_get_keyframe_requests (WrTestSender *s)
{
  return (guint) g_atomic_int_get (&s->keyframe_requests);
}

guint64
wr_test_sender_get_frames (WrTestSender *s)
{
  return (guint64) g_atomic_int_get (&s->frames);
}

gboolean
wr_test_sender_had_error (WrTestSender *s)
{
  return g_atomic_int_get (&s->error) != 0;
}

void
wr_test_sender_free (WrTestSender *s)
{
  if (!s)
    return;
  s->freed = TRUE;
  g_clear_handle_id (&s->caps_poll_id, g_source_remove);
  g_clear_handle_id (&s->bus_watch_id, g_source_remove);
  if (s->pipeline)
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
  g_clear_object (&s->webrtc_sink);
  g_clear_object (&s->webrtc);
  g_clear_object (&s->pipeline);
  sender_unref (s);
}
