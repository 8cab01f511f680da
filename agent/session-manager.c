/* webremote-agent: sessions (sid -> peer), display pipelines and the
 * dispatch of gateway messages. Main context only. */
#include "config.h"

#include "agent/session-manager.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "agent/command-runner.h"
#include "agent/display-pipeline.h"
#include "pipelines/encoder-probe.h"
#include "agent/input-channel.h"
#include "agent/input-injector.h"
#include "agent/peer.h"
#include "common/command-envelope.h"
#include "common/grant.h"
#include "agent/recording-indicator.h"
#include "common/protocol.h"

/* Far above any sane use, low enough that a confused gateway cannot make
 * us start webrtcbins until we run out of memory. */
#define WR_MAX_SESSIONS 64

/* At most one session.refused per session per this interval; the refusals
 * in between are counted and sent with the next one. */
#define WR_REFUSED_REPORT_INTERVAL_US G_USEC_PER_SEC

/* Commands running at once, per session and on the whole agent. */
#define WR_MAX_COMMANDS_PER_SESSION 4
#define WR_MAX_COMMANDS 16
/* Nonces are remembered until their envelope could not pass anyway. */
#define WR_MAX_NONCES 4096

typedef struct {
  WrSessionManager *manager;    /* not owned */
  char *sid;
  char *display;
  char *user;
  WrPeer *peer;
  WrDisplayPipeline *pipeline;
  gboolean can_inject;          /* the display has an input injector */

  /* The grant in force: its scopes decide, its expiry ends the session. */
  WrGrant *grant;
  guint expiry_id;

  /* Refused input not yet reported to the gateway. */
  guint refused_pending;
  const char *refused_reason;   /* static */
  gint64 refused_last_us;       /* monotonic time of the last report */
  guint refused_flush_id;

  /* Commands: the highest envelope seq seen, and the runs (cid -> run). */
  gint64 command_seq;
  GHashTable *commands;

  /* Codec negotiation: what this viewer's answers refused ("H264/42",
   * "VP8"), and whether its connection waits to be restarted with another
   * codec. */
  JsonArray *ice_servers;       /* (nullable) from session.start */
  WrInputInjector *injector;    /* (nullable) not owned */
  GPtrArray *refused_codecs;
  gboolean restart_pending;
  guint restarts;
} WrSession;

struct _WrSessionManager {
  GObject parent;

  const WrAgentConfig *config;
  WrGatewayLink *link;
  char **encoders;              /* usable on this host (test encodes) */
  WrProfileSet *profiles;       /* (nullable) the profiles file */

  GHashTable *injectors;        /* display -> WrInputInjector */
  GHashTable *pipelines;        /* display -> WrDisplayPipeline */
  GHashTable *sessions;         /* sid -> WrSession */
  GHashTable *indicators;       /* display -> WrRecordingIndicator */
  GHashTable *nonces;           /* command nonce -> its exp (gint64 *) */
  guint n_commands;             /* running, all sessions */
  char *last_status;            /* last agent.status sent, to send changes */
};

G_DEFINE_FINAL_TYPE (WrSessionManager, wr_session_manager, G_TYPE_OBJECT)

/* One running command of a session. */
typedef struct {
  WrSession *session;
  char *cid;
  WrCommandRun *run;
} CommandCtx;

static void
command_ctx_free (CommandCtx *ctx)
{
  g_free (ctx->cid);
  g_free (ctx);
}

static void
session_free (gpointer data)
{
  WrSession *s = data;

  if (s->peer) {
    wr_peer_close (s->peer);
    g_signal_handlers_disconnect_by_data (s->peer, s);
    g_object_unref (s->peer);
  }
  g_clear_object (&s->pipeline);
  if (s->commands) {
    GHashTableIter iter;
    gpointer value;
    /* A session's commands end with it. */
    g_hash_table_iter_init (&iter, s->commands);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      CommandCtx *ctx = value;
      wr_command_run_cancel (ctx->run);
      s->manager->n_commands--;
    }
    g_hash_table_unref (s->commands);
  }
  g_clear_handle_id (&s->expiry_id, g_source_remove);
  g_clear_handle_id (&s->refused_flush_id, g_source_remove);
  g_clear_pointer (&s->grant, wr_grant_free);
  g_clear_pointer (&s->ice_servers, json_array_unref);
  g_clear_pointer (&s->refused_codecs, g_ptr_array_unref);
  g_free (s->sid);
  g_free (s->display);
  g_free (s->user);
  g_free (s);
}

static void
send_text (WrSessionManager *self, char *text)
{
  wr_gateway_link_send (self->link, text);
  g_free (text);
}

static void
send_error (WrSessionManager *self, WrProtocolError code,
    const char *message, const char *ref)
{
  send_text (self, wr_message_error_new (code, message, ref));
}

/* The protocol bounds reasons to 256 bytes; GStreamer errors may be
 * longer. Cut on a character boundary. */
static char *
truncate_utf8 (const char *text, gsize max)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  const char *end = valid;

  while (*end && (gsize) (g_utf8_next_char (end) - valid) <= max)
    end = g_utf8_next_char (end);
  return g_strndup (valid, end - valid);
}

static void
send_session_ended (WrSessionManager *self, const char *sid,
    const char *reason)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.ended");
  g_autofree char *cut = truncate_utf8 (reason, 256);

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, cut);
  send_text (self, wr_message_builder_finish (b));
}

/* ---- agent.status ---- */

static void
send_status (WrSessionManager *self, gboolean force)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("agent.status");
  g_autofree char *text = NULL;
  GHashTableIter iter;
  gpointer value;

  json_builder_set_member_name (b, "pipelines");
  json_builder_begin_array (b);
  g_hash_table_iter_init (&iter, self->pipelines);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WrDisplayPipeline *p = value;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "display");
    json_builder_add_string_value (b, wr_display_pipeline_get_display (p));
    json_builder_set_member_name (b, "encoder");
    json_builder_add_string_value (b, wr_display_pipeline_get_encoder (p));
    json_builder_set_member_name (b, "peers");
    json_builder_add_int_value (b, wr_display_pipeline_get_n_branches (p));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  text = wr_message_builder_finish (b);

  if (!force && g_strcmp0 (text, self->last_status) == 0)
    return;
  if (!wr_gateway_link_send (self->link, text))
    return;
  g_free (self->last_status);
  self->last_status = g_steal_pointer (&text);
}

/* ---- refused input ---- */

static void
flush_refused (WrSession *s)
{
  g_autoptr (JsonBuilder) b = NULL;

  g_clear_handle_id (&s->refused_flush_id, g_source_remove);
  if (s->refused_pending == 0)
    return;
  b = wr_message_new ("session.refused");
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, s->sid);
  json_builder_set_member_name (b, "what");
  json_builder_add_string_value (b, "input");
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, s->refused_reason);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, MIN (s->refused_pending, G_MAXINT32));
  send_text (s->manager, wr_message_builder_finish (b));
  g_message ("session %s: refused %u input message(s) of %s: %s", s->sid,
      s->refused_pending, s->user, s->refused_reason);
  s->refused_pending = 0;
  s->refused_last_us = g_get_monotonic_time ();
}

static gboolean
flush_refused_cb (gpointer user_data)
{
  WrSession *s = user_data;

  s->refused_flush_id = 0;
  flush_refused (s);
  return G_SOURCE_REMOVE;
}

static void
on_peer_input_refused (WrPeer *peer, const char *reason, gpointer user_data)
{
  WrSession *s = user_data;
  gint64 since;

  if (s->refused_pending < G_MAXUINT)
    s->refused_pending++;
  s->refused_reason = g_intern_string (reason);
  if (s->refused_flush_id)
    return;
  since = g_get_monotonic_time () - s->refused_last_us;
  if (!s->refused_last_us || since >= WR_REFUSED_REPORT_INTERVAL_US)
    flush_refused (s);
  else
    s->refused_flush_id = g_timeout_add (
        (guint) ((WR_REFUSED_REPORT_INTERVAL_US - since) / 1000) + 1,
        flush_refused_cb, s);
}

/* ---- the recording indicator ---- */

/* The session's grant, not the gateway's messages, says it is recorded. */
static gboolean
session_is_recorded (WrSession *s)
{
  return s->grant && s->grant->scopes
      && g_strv_contains ((const char *const *) s->grant->scopes, "record");
}

/* Shows the indicator on every display with a recorded session and
 * removes it from the others. */
static void
update_indicators (WrSessionManager *self)
{
  g_autoptr (GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WrSession *s = value;
    if (session_is_recorded (s))
      g_hash_table_add (wanted, s->display);
  }
  g_hash_table_iter_init (&iter, self->indicators);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (wanted, key))
      g_hash_table_iter_remove (&iter);
  g_hash_table_iter_init (&iter, wanted);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    g_autoptr (GError) error = NULL;
    WrRecordingIndicator *ind;

    if (g_hash_table_contains (self->indicators, key))
      continue;
    ind = wr_recording_indicator_new (key, &error);
    if (!ind) {
      g_warning ("display %s: cannot show the recording indicator: %s",
          (const char *) key, error->message);
      continue;
    }
    g_hash_table_insert (self->indicators, g_strdup (key), ind);
  }
}

/* ---- sessions ---- */

static void
end_session (WrSessionManager *self, const char *sid, gboolean notify,
    const char *reason)
{
  WrSession *s = g_hash_table_lookup (self->sessions, sid);
  g_autofree char *sid_copy = NULL;
  g_autoptr (WrDisplayPipeline) pipeline = NULL;

  if (!s)
    return;
  sid_copy = g_strdup (sid);
  g_message ("session %s: ended (%s)", sid, reason);
  /* What the viewer tried last still reaches the gateway. */
  flush_refused (s);

  /* Input first: nothing may stay pressed. */
  wr_peer_close (s->peer);
  pipeline = g_object_ref (s->pipeline);
  wr_display_pipeline_remove_branch (pipeline,
      wr_peer_get_branch (s->peer));
  g_hash_table_remove (self->sessions, sid_copy);
  update_indicators (self);

  if (wr_display_pipeline_get_n_branches (pipeline) == 0) {
    wr_display_pipeline_stop (pipeline);
    g_signal_handlers_disconnect_by_data (pipeline, self);
    g_hash_table_remove (self->pipelines,
        wr_display_pipeline_get_display (pipeline));
  }

  if (notify)
    send_session_ended (self, sid_copy, reason);
  send_status (self, FALSE);
}

static GPtrArray *
sids_where (WrSessionManager *self, WrDisplayPipeline *pipeline)
{
  GPtrArray *sids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WrSession *s = value;
    if (!pipeline || s->pipeline == pipeline)
      g_ptr_array_add (sids, g_strdup (s->sid));
  }
  return sids;
}

void
wr_session_manager_end_all (WrSessionManager *self, gboolean notify,
    const char *reason)
{
  g_autoptr (GPtrArray) sids = sids_where (self, NULL);

  for (guint i = 0; i < sids->len; i++)
    end_session (self, sids->pdata[i], notify, reason);
}

guint
wr_session_manager_get_n_sessions (WrSessionManager *self)
{
  return g_hash_table_size (self->sessions);
}

static WrInputInjector *
get_injector (WrSessionManager *self, const char *display)
{
  WrInputInjector *inj = g_hash_table_lookup (self->injectors, display);
  g_autoptr (GError) error = NULL;

  if (inj)
    return inj;
  inj = wr_input_injector_open (display, &error);
  if (!inj) {
    g_warning ("display %s: %s", display, error->message);
    return NULL;
  }
  g_hash_table_insert (self->injectors, g_strdup (display), inj);
  return inj;
}

static void
on_pipeline_error (WrDisplayPipeline *pipeline, GstElement *branch,
    const char *message, gpointer user_data)
{
  WrSessionManager *self = user_data;
  g_autoptr (GPtrArray) sids = sids_where (self, pipeline);
  g_autofree char *reason = NULL;

  /* A bus error ends the affected sessions, never the agent. */
  if (branch) {
    for (guint i = 0; i < sids->len; i++) {
      WrSession *s = g_hash_table_lookup (self->sessions, sids->pdata[i]);
      if (s && wr_peer_get_branch (s->peer) == branch) {
        reason = g_strdup_printf ("streaming error: %s", message);
        end_session (self, s->sid, TRUE, reason);
        return;
      }
    }
    return;
  }
  reason = g_strdup_printf ("capture failed: %s", message);
  for (guint i = 0; i < sids->len; i++)
    end_session (self, sids->pdata[i], TRUE, reason);
  /* With no session left end_session already dropped it; make sure. */
  wr_display_pipeline_stop (pipeline);
  if (g_hash_table_lookup (self->pipelines,
          wr_display_pipeline_get_display (pipeline)) == pipeline) {
    g_signal_handlers_disconnect_by_data (pipeline, self);
    g_hash_table_remove (self->pipelines,
        wr_display_pipeline_get_display (pipeline));
    send_status (self, FALSE);
  }
}

static void on_pipeline_switched (WrDisplayPipeline *pipeline,
    gpointer user_data);

static WrDisplayPipeline *
get_pipeline (WrSessionManager *self, const char *display, GError **error)
{
  WrDisplayPipeline *p = g_hash_table_lookup (self->pipelines, display);

  const WrProfile *profile;
  const char *encoder = NULL;

  if (p)
    return p;
  /* The active profile and the encoder that passed its test encode
   * (main.c at start and on SIGHUP). */
  profile = wr_display_pipeline_get_default_profile (&encoder);
  if (!profile || !encoder) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "no usable encoder in the active profile (see webremote-agent "
        "--probe)");
    return NULL;
  }
  p = wr_display_pipeline_new_for_profile (display, profile, encoder, error);
  if (!p)
    return NULL;
  g_signal_connect (p, "error", G_CALLBACK (on_pipeline_error), self);
  g_signal_connect (p, "switched", G_CALLBACK (on_pipeline_switched), self);
  g_hash_table_insert (self->pipelines, g_strdup (display), p);
  return p;
}

static void
on_peer_offer (WrPeer *peer, const char *sdp, gpointer user_data)
{
  WrSession *s = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("sdp.offer");
  WrSessionManager *self = g_object_get_data (G_OBJECT (peer),
      "wr-manager");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, s->sid);
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  send_text (self, wr_message_builder_finish (b));
}

static void
on_peer_ice_candidate (WrPeer *peer, guint mline, const char *candidate,
    gpointer user_data)
{
  WrSession *s = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("ice.candidate");
  WrSessionManager *self = g_object_get_data (G_OBJECT (peer),
      "wr-manager");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, s->sid);
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate);
  json_builder_set_member_name (b, "sdp_mline_index");
  json_builder_add_int_value (b, mline);
  send_text (self, wr_message_builder_finish (b));
}

static void
on_peer_connected (WrPeer *peer, gpointer user_data)
{
  WrSession *s = user_data;

  /* x264 makes no periodic keyframes: the new viewer needs one now. */
  wr_display_pipeline_request_keyframe (s->pipeline);
}

static void
on_peer_failed (WrPeer *peer, const char *reason, gpointer user_data)
{
  WrSession *s = user_data;
  WrSessionManager *self = g_object_get_data (G_OBJECT (peer),
      "wr-manager");

  end_session (self, s->sid, TRUE, reason);
}

/* ---- profiles: live switch and codec fallback (docs/pipelines.md) ---- */

/* "H264/42" (H.264 with its profile_idc in hex) or "VP8": what a viewer
 * accepts or refuses. */
static char *
codec_key (const char *codec, const char *h264_level)
{
  g_autofree char *key = NULL;

  if (g_ascii_strcasecmp (codec, "H264") == 0 && h264_level
      && strlen (h264_level) >= 2)
    key = g_strdup_printf ("H264/%.2s", h264_level);
  else
    key = g_strdup (codec);
  return g_ascii_strup (key, -1);
}

static char *
encoder_codec_key (const WrProfile *profile, const char *encoder)
{
  const WrEncoderInfo *info = wr_encoder_info_lookup (encoder);

  if (!info)
    return g_strdup ("?");
  if (info->codec == WR_CODEC_H264)
    return codec_key ("H264", profile->h264_profile == WR_H264_MAIN
        ? "4d" : "42");
  return codec_key (wr_codec_name (info->codec), NULL);
}

static gboolean
session_refuses (WrSession *s, const char *key)
{
  if (!s->refused_codecs)
    return FALSE;
  for (guint i = 0; i < s->refused_codecs->len; i++) {
    const char *r = s->refused_codecs->pdata[i];
    gsize n = strlen (r);
    /* "H264" (no profile known) refuses every H.264 profile. */
    if (g_ascii_strncasecmp (r, key, n) == 0
        && (key[n] == '\0' || key[n] == '/'))
      return TRUE;
  }
  return FALSE;
}

/* Whether some viewer of @pipeline refused @key. */
static gboolean
display_refuses (WrSessionManager *self, WrDisplayPipeline *pipeline,
    const char *key)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WrSession *s = value;
    if (s->pipeline == pipeline && session_refuses (s, key))
      return TRUE;
  }
  return FALSE;
}

/* The first of @profile's encoders that passes its test encode and whose
 * codec no viewer of @pipeline refused; %NULL with *tried set when none. */
static char *
choose_encoder_for (WrSessionManager *self, WrDisplayPipeline *pipeline,
    const WrProfile *profile, char **tried)
{
  g_autoptr (GString) why = g_string_new (NULL);

  for (int i = 0; profile->encoders[i]; i++) {
    const char *enc = profile->encoders[i];
    g_autofree char *key = encoder_codec_key (profile, enc);
    g_autoptr (WrEncoderProbeResult) r = NULL;

    if (pipeline && display_refuses (self, pipeline, key)) {
      g_string_append_printf (why, "%s%s: refused by a viewer",
          why->len ? "; " : "", enc);
      continue;
    }
    r = wr_encoder_test (enc, profile, WR_ENCODER_TEST_TIMEOUT_MS);
    if (r->status == WR_ENCODER_OK)
      return g_strdup (enc);
    g_string_append_printf (why, "%s%s: %s", why->len ? "; " : "", enc,
        r->reason);
  }
  if (tried)
    *tried = g_string_free (g_steal_pointer (&why), FALSE);
  return NULL;
}

/* The profile called @name as the agent would stream it: the active
 * (default) profile carries the [video] overrides. */
static const WrProfile *
lookup_profile (WrSessionManager *self, const char *name)
{
  const WrProfile *active = wr_display_pipeline_get_default_profile (NULL);

  if (active && g_str_equal (active->name, name))
    return active;
  return self->profiles ? wr_profile_set_lookup (self->profiles, name)
      : NULL;
}

static void
send_to_peers (WrSessionManager *self, WrDisplayPipeline *pipeline,
    const char *text)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WrSession *s = value;
    if (s->pipeline == pipeline && s->peer)
      wr_peer_send (s->peer, text);
  }
}

static char *
profile_changed_text (WrDisplayPipeline *pipeline)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("profile.changed");

  json_builder_set_member_name (b, "profile");
  json_builder_add_string_value (b,
      wr_display_pipeline_get_profile_name (pipeline));
  json_builder_set_member_name (b, "encoder");
  json_builder_add_string_value (b, wr_display_pipeline_get_encoder (pipeline));
  json_builder_set_member_name (b, "codec");
  json_builder_add_string_value (b,
      wr_codec_name (wr_display_pipeline_get_codec (pipeline)));
  return wr_message_builder_finish (b);
}

/* `profiles` to one viewer when its channel opens. */
static void
on_peer_channel_open (WrPeer *peer, gpointer user_data)
{
  WrSession *s = user_data;
  WrSessionManager *self = s->manager;
  g_autoptr (JsonBuilder) b = wr_message_new ("profiles");
  g_autofree char *text = NULL;
  const char *active = wr_display_pipeline_get_profile_name (s->pipeline);
  guint n = 0;

  json_builder_set_member_name (b, "available");
  json_builder_begin_array (b);
  if (self->profiles) {
    for (guint i = 0; i < self->profiles->profiles->len && n < 64; i++, n++)
      json_builder_add_string_value (b,
          ((WrProfile *) g_ptr_array_index (self->profiles->profiles,
                  i))->name);
  } else if (active) {
    json_builder_add_string_value (b, active);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "active");
  json_builder_add_string_value (b, active ? active : "?");
  json_builder_set_member_name (b, "encoder");
  json_builder_add_string_value (b,
      wr_display_pipeline_get_encoder (s->pipeline));
  json_builder_set_member_name (b, "codec");
  json_builder_add_string_value (b,
      wr_codec_name (wr_display_pipeline_get_codec (s->pipeline)));
  text = wr_message_builder_finish (b);
  wr_peer_send (peer, text);
}

/* Starts a live switch of @pipeline to @profile; the viewers hear of it
 * in on_pipeline_switched(). */
static gboolean
switch_pipeline (WrSessionManager *self, WrDisplayPipeline *pipeline,
    const WrProfile *profile, WrProtocolError *code, GError **error)
{
  g_autofree char *tried = NULL;
  g_autofree char *encoder = NULL;

  *code = WR_PROTOCOL_ERROR_INTERNAL;
  if (wr_display_pipeline_is_switching (pipeline)) {
    *code = WR_PROTOCOL_ERROR_RATE_LIMITED;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
        "a profile switch is in progress; try again in a moment");
    return FALSE;
  }
  encoder = choose_encoder_for (self, pipeline, profile, &tried);
  if (!encoder) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "profile %s has no encoder usable here that its viewers accept "
        "(%s)", profile->name, tried ? tried : "");
    return FALSE;
  }
  return wr_display_pipeline_switch (pipeline, profile, encoder, error);
}

/* profile.set from a viewer with the control scope (input-channel.c
 * checks it). */
static char *
on_peer_profile_request (WrPeer *peer, const char *name, const char *ref,
    gpointer user_data)
{
  WrSession *s = user_data;
  WrSessionManager *self = s->manager;
  const WrProfile *profile = lookup_profile (self, name);
  g_autoptr (GError) error = NULL;
  WrProtocolError code;

  if (!profile)
    return wr_message_error_new (WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such profile", ref);
  g_message ("session %s: %s asks for profile %s on %s", s->sid, s->user,
      name, s->display);
  if (!switch_pipeline (self, s->pipeline, profile, &code, &error)) {
    g_autofree char *cut = truncate_utf8 (error->message, 512);
    g_message ("session %s: profile %s not applied: %s", s->sid, name,
        error->message);
    return wr_message_error_new (code, cut, ref);
  }
  return NULL;
}

static void on_peer_codec_refused (WrPeer *peer, const char *reason,
    gpointer user_data);
static gboolean control_allowed (WrSession *s, const WrGrant *grant);

/* A new connection for @s on its pipeline (s->peer, or %NULL with
 * @error). */
static void
attach_peer (WrSession *s, gboolean control, GError **error)
{
  WrSessionManager *self = s->manager;
  WrPeer *peer = wr_peer_new (s->sid, s->pipeline, s->injector, control,
      (const char *const *) self->config->ice_addresses, s->ice_servers,
      error);

  if (!peer)
    return;
  if (!wr_display_pipeline_add_branch (s->pipeline,
          wr_peer_get_branch (peer), error)) {
    wr_peer_close (peer);
    g_object_unref (peer);
    return;
  }
  s->peer = peer;
  g_object_set_data (G_OBJECT (peer), "wr-manager", self);
  g_signal_connect (peer, "offer", G_CALLBACK (on_peer_offer), s);
  g_signal_connect (peer, "ice-candidate",
      G_CALLBACK (on_peer_ice_candidate), s);
  g_signal_connect (peer, "connected", G_CALLBACK (on_peer_connected), s);
  g_signal_connect (peer, "failed", G_CALLBACK (on_peer_failed), s);
  g_signal_connect (peer, "input-refused",
      G_CALLBACK (on_peer_input_refused), s);
  g_signal_connect (peer, "channel-open",
      G_CALLBACK (on_peer_channel_open), s);
  g_signal_connect (peer, "profile-request",
      G_CALLBACK (on_peer_profile_request), s);
  g_signal_connect (peer, "codec-refused",
      G_CALLBACK (on_peer_codec_refused), s);
}


/* New connections per session at most: each restart follows a refused
 * answer, so more means the viewer and the agent do not agree. */
#define WR_MAX_RESTARTS 4

/* Replaces the session's connection with a new one (a new offer with new
 * ICE credentials): its last answer refused the codec, and webrtcbin
 * cannot take an offer back. */
static void
restart_peer (WrSession *s)
{
  WrSessionManager *self = s->manager;
  g_autoptr (GError) error = NULL;
  WrPeer *old = s->peer;

  s->restart_pending = FALSE;
  if (++s->restarts > WR_MAX_RESTARTS) {
    end_session (self, s->sid, TRUE, "the viewer refused the video codec "
        "again and again");
    return;
  }
  g_message ("session %s: new connection with %s", s->sid,
      wr_display_pipeline_get_encoder (s->pipeline));
  s->peer = NULL;
  attach_peer (s, s->grant ? control_allowed (s, s->grant) : FALSE,
      &error);
  /* The old branch goes after the new one is in, or the pipeline would
   * stop with its last branch. */
  wr_peer_close (old);
  g_signal_handlers_disconnect_by_data (old, s);
  wr_display_pipeline_remove_branch (s->pipeline, wr_peer_get_branch (old));
  g_object_unref (old);
  if (!s->peer) {
    g_autofree char *reason = g_strdup_printf ("cannot start streaming: %s",
        error->message);
    end_session (self, s->sid, TRUE, reason);
    return;
  }
  wr_peer_start (s->peer);
  send_status (self, FALSE);
}

static void
on_pipeline_switched (WrDisplayPipeline *pipeline, gpointer user_data)
{
  WrSessionManager *self = user_data;
  g_autofree char *text = profile_changed_text (pipeline);
  g_autoptr (GPtrArray) sids = sids_where (self, pipeline);
  const char *codec = wr_codec_name (wr_display_pipeline_get_codec (pipeline));

  g_message ("display %s: now streaming profile %s with %s",
      wr_display_pipeline_get_display (pipeline),
      wr_display_pipeline_get_profile_name (pipeline),
      wr_display_pipeline_get_encoder (pipeline));
  for (guint i = 0; i < sids->len; i++) {
    WrSession *s = g_hash_table_lookup (self->sessions, sids->pdata[i]);
    if (!s)
      continue;
    if (s->restart_pending)
      restart_peer (s);
    else
      wr_peer_renegotiate (s->peer, codec);
  }
  send_to_peers (self, pipeline, text);
  send_status (self, FALSE);
}

/* The viewer's answer refused the codec: fall back to the next encoder of
 * the display's profile with another codec. The whole display switches
 * (every viewer of it renegotiates); a viewer that refuses every codec of
 * the profile ends its session. */
static void
on_peer_codec_refused (WrPeer *peer, const char *reason, gpointer user_data)
{
  WrSession *s = user_data;
  WrSessionManager *self = s->manager;
  const WrProfile *profile;
  g_autofree char *key = NULL;
  g_autofree char *current = NULL;
  g_autoptr (GError) error = NULL;
  WrProtocolError code;

  const char *level = NULL;
  const char *offered = wr_peer_get_offered_codec (peer, &level);

  /* A renegotiation after a live codec switch refused: some viewers
   * (GStreamer's webrtcbin) do not change the codec of a running
   * connection. A new connection with the same codec comes first; only
   * a fresh connection's refusal counts against the codec. */
  if (wr_peer_get_n_offers (peer) > 1) {
    g_message ("session %s: %s; new connection", s->sid, reason);
    s->restart_pending = TRUE;
    if (!wr_display_pipeline_is_switching (s->pipeline))
      restart_peer (s);
    return;
  }
  key = codec_key (offered ? offered : "?", level);
  if (!s->refused_codecs)
    s->refused_codecs = g_ptr_array_new_with_free_func (g_free);
  if (!session_refuses (s, key))
    g_ptr_array_add (s->refused_codecs, g_strdup (key));
  s->restart_pending = TRUE;
  g_message ("session %s: %s; falling back", s->sid, reason);

  if (wr_display_pipeline_is_switching (s->pipeline))
    return;   /* restarted when the switch is done */
  profile = lookup_profile (self,
      wr_display_pipeline_get_profile_name (s->pipeline));
  if (profile)
    current = encoder_codec_key (profile,
        wr_display_pipeline_get_encoder (s->pipeline));
  if (current && !session_refuses (s, current)) {
    restart_peer (s);
    return;
  }
  if (!profile || !switch_pipeline (self, s->pipeline, profile, &code,
          &error)) {
    g_autoptr (GString) refused = g_string_new (NULL);
    g_autofree char *why = NULL;

    for (guint i = 0; i < s->refused_codecs->len; i++)
      g_string_append_printf (refused, "%s%s", i ? ", " : "",
          (char *) s->refused_codecs->pdata[i]);
    why = g_strdup_printf ("the viewer accepts none of "
        "the codecs of profile %s (refused: %s)",
        wr_display_pipeline_get_profile_name (s->pipeline), refused->str);
    g_warning ("session %s: %s", s->sid, why);
    end_session (self, s->sid, TRUE, why);
  }
}

/* ---- grants ---- */

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Verifies @token: signed by the gateway's key, in its time window, for
 * this agent, for session @sid on @display (and for @user on renewal).
 * Returns: (transfer full) (nullable): the grant, or %NULL with *reason
 * ("grant refused: ..."). */
static WrGrant *
check_grant (WrSessionManager *self, const char *token, const char *sid,
    const char *display, const char *user, char **reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGrant) grant = wr_grant_verify (self->config->grant_key,
      token, self->config->id, now_s (), &error);
  const char *why = NULL;

  if (!grant) {
    *reason = g_strdup_printf ("grant refused: %s", error->message);
    return NULL;
  }
  if (!g_str_equal (grant->sid, sid))
    why = "the grant is for another session";
  else if (!g_str_equal (grant->display, display))
    why = "the grant is for another display";
  else if (user && !g_str_equal (grant->user, user))
    why = "the grant is for another user";
  if (why) {
    *reason = g_strdup_printf ("grant refused: %s", why);
    return NULL;
  }
  return g_steal_pointer (&grant);
}

static gboolean
control_allowed (WrSession *s, const WrGrant *grant)
{
  return wr_scopes_allow_control ((const char *const *) grant->scopes)
      && s->can_inject;
}

static gboolean
grant_expired_cb (gpointer user_data)
{
  WrSession *s = user_data;

  s->expiry_id = 0;
  end_session (s->manager, s->sid, TRUE, "grant expired");
  return G_SOURCE_REMOVE;
}

/* Puts @grant (transfer full) in force: its scopes from now on, and the
 * session ends when it expires unless a newer one comes first. */
static void
apply_grant (WrSession *s, WrGrant *grant)
{
  gint64 left_ms = (grant->exp + WR_GRANT_CLOCK_SKEW - now_s ()) * 1000;

  g_clear_pointer (&s->grant, wr_grant_free);
  s->grant = grant;
  g_clear_handle_id (&s->expiry_id, g_source_remove);
  s->expiry_id = g_timeout_add ((guint) CLAMP (left_ms, 0, G_MAXINT32),
      grant_expired_cb, s);
  if (s->peer)
    wr_peer_set_control (s->peer, control_allowed (s, grant));
}

/* ---- gateway messages ---- */

static void
handle_welcome (WrSessionManager *self, JsonObject *msg, const char *ref)
{
  g_message ("the gateway (version %s) accepted the agent",
      wr_message_get_string (msg, "version"));
  wr_gateway_link_reset_backoff (self->link);
  send_status (self, TRUE);
}

static gboolean
display_configured (WrSessionManager *self, const char *display)
{
  return g_strv_contains ((const char *const *) self->config->displays,
      display);
}

static void
handle_session_start (WrSessionManager *self, JsonObject *msg,
    const char *ref)
{
  const char *sid = wr_message_get_string (msg, "sid");
  const char *display = wr_message_get_string (msg, "display");
  JsonArray *ice_servers = json_object_get_array_member (msg, "ice_servers");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrGrant) grant = NULL;
  g_autofree char *refused = NULL;
  WrDisplayPipeline *pipeline;
  WrInputInjector *injector;
  gboolean control;
  WrSession *s;

  if (g_hash_table_contains (self->sessions, sid)) {
    send_error (self, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field 'sid' names a session that already exists", ref);
    return;
  }
  /* Before anything is built: the grant decides whether there is a
   * session at all, and its scopes (never the message's) what it may
   * do. */
  grant = check_grant (self, wr_message_get_string (msg, "grant"), sid,
      display, NULL, &refused);
  if (!grant) {
    g_message ("session %s: %s", sid, refused);
    send_session_ended (self, sid, refused);
    return;
  }
  if (!display_configured (self, display)) {
    send_session_ended (self, sid, "no such display");
    return;
  }
  if (g_hash_table_size (self->sessions) >= WR_MAX_SESSIONS) {
    send_session_ended (self, sid, "too many sessions on this agent");
    return;
  }

  pipeline = get_pipeline (self, display, &error);
  if (!pipeline) {
    g_autofree char *reason = g_strdup_printf ("capture failed: %s",
        error->message);
    g_warning ("session %s: %s", sid, reason);
    send_session_ended (self, sid, reason);
    return;
  }
  injector = get_injector (self, display);

  s = g_new0 (WrSession, 1);
  s->manager = self;
  s->sid = g_strdup (sid);
  s->display = g_strdup (display);
  s->user = g_strdup (grant->user);
  s->can_inject = injector != NULL;
  control = control_allowed (s, grant);
  s->pipeline = g_object_ref (pipeline);
  s->injector = injector;
  s->ice_servers = ice_servers ? json_array_ref (ice_servers) : NULL;
  attach_peer (s, control, &error);
  if (!s->peer) {
    g_autofree char *reason = g_strdup_printf ("cannot start streaming: %s",
        error->message);
    g_warning ("session %s: %s", sid, reason);
    session_free (s);
    if (wr_display_pipeline_get_n_branches (pipeline) == 0) {
      g_signal_handlers_disconnect_by_data (pipeline, self);
      g_hash_table_remove (self->pipelines, display);
    }
    send_session_ended (self, sid, reason);
    return;
  }

  apply_grant (s, g_steal_pointer (&grant));
  g_hash_table_insert (self->sessions, s->sid, s);
  update_indicators (self);

  g_message ("session %s: started for %s on %s (%s)", sid, s->user, display,
      control ? "view and control" : "view only");
  wr_peer_start (s->peer);
  send_status (self, FALSE);
}

static WrSession *
find_session (WrSessionManager *self, JsonObject *msg, const char *ref)
{
  WrSession *s = g_hash_table_lookup (self->sessions,
      wr_message_get_string (msg, "sid"));

  if (!s)
    send_error (self, WR_PROTOCOL_ERROR_NOT_FOUND, "no such session", ref);
  return s;
}

static void
handle_session_end (WrSessionManager *self, JsonObject *msg, const char *ref)
{
  const char *reason = wr_message_get_string (msg, "reason");

  /* Not an error when unknown: both sides may end a session at once. */
  end_session (self, wr_message_get_string (msg, "sid"), FALSE,
      reason && *reason ? reason : "ended by the gateway");
}

/* A renewed grant: in force at once; a bad one ends the session. */
static void
handle_session_grant (WrSessionManager *self, JsonObject *msg,
    const char *ref)
{
  WrSession *s = find_session (self, msg, ref);
  g_autofree char *refused = NULL;
  WrGrant *grant;

  if (!s)
    return;
  grant = check_grant (self, wr_message_get_string (msg, "grant"), s->sid,
      s->display, s->user, &refused);
  if (!grant) {
    g_message ("session %s: renewal %s", s->sid, refused);
    end_session (self, s->sid, TRUE, refused);
    return;
  }
  g_debug ("session %s: grant renewed until %" G_GINT64_FORMAT, s->sid,
      grant->exp);
  apply_grant (s, grant);
  update_indicators (self);
}

static void
handle_sdp_answer (WrSessionManager *self, JsonObject *msg, const char *ref)
{
  WrSession *s = find_session (self, msg, ref);
  g_autoptr (GError) error = NULL;

  if (!s)
    return;
  if (!wr_peer_set_answer (s->peer, wr_message_get_string (msg, "sdp"),
          &error)) {
    g_autofree char *text = g_strdup_printf ("field 'sdp': %s",
        error->message);
    send_error (self, WR_PROTOCOL_ERROR_INVALID_FIELD, text, ref);
  }
}

static void
handle_ice_candidate (WrSessionManager *self, JsonObject *msg,
    const char *ref)
{
  WrSession *s = find_session (self, msg, ref);

  if (!s)
    return;
  wr_peer_add_ice_candidate (s->peer,
      (guint) wr_message_get_int (msg, "sdp_mline_index", 0),
      wr_message_get_string (msg, "candidate"));
}

static void
handle_ignore (WrSessionManager *self, JsonObject *msg, const char *ref)
{
}

/* ---- commands ---- */


static void
on_command_output (WrCommandRun *run, const char *stream, const char *data,
    gpointer user_data)
{
  CommandCtx *ctx = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("command.output");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, ctx->session->sid);
  json_builder_set_member_name (b, "cid");
  json_builder_add_string_value (b, ctx->cid);
  json_builder_set_member_name (b, "stream");
  json_builder_add_string_value (b, stream);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, data);
  send_text (ctx->session->manager, wr_message_builder_finish (b));
}

static void
on_command_exit (WrCommandRun *run, int status, int signal,
    gboolean timed_out, gboolean truncated, gpointer user_data)
{
  CommandCtx *ctx = user_data;
  WrSession *s = ctx->session;
  g_autoptr (JsonBuilder) b = wr_message_new ("command.exit");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, s->sid);
  json_builder_set_member_name (b, "cid");
  json_builder_add_string_value (b, ctx->cid);
  json_builder_set_member_name (b, "status");
  json_builder_add_int_value (b, CLAMP (status, -1, 255));
  if (signal > 0) {
    json_builder_set_member_name (b, "signal");
    json_builder_add_int_value (b, CLAMP (signal, 1, 64));
  }
  json_builder_set_member_name (b, "timed_out");
  json_builder_add_boolean_value (b, timed_out);
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, truncated);
  send_text (s->manager, wr_message_builder_finish (b));
  g_message ("session %s: command %s exited: status %d signal %d%s%s",
      s->sid, ctx->cid, status, signal, timed_out ? ", timed out" : "",
      truncated ? ", output truncated" : "");
  s->manager->n_commands--;
  /* frees ctx */
  g_hash_table_remove (s->commands, ctx->cid);
}

static void
refuse_command (WrSessionManager *self, const char *sid, WrProtocolError code,
    const char *why, const char *ref)
{
  g_autofree char *text = g_strdup_printf ("command refused: %s", why);

  g_message ("session %s: %s", sid, text);
  send_error (self, code, text, ref);
}

static gboolean
nonce_seen (WrSessionManager *self, const char *nonce, gint64 now)
{
  GHashTableIter iter;
  gpointer value;

  /* Forget what could not pass the expiry check any more. */
  g_hash_table_iter_init (&iter, self->nonces);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (*(gint64 *) value + WR_COMMAND_CLOCK_SKEW < now)
      g_hash_table_iter_remove (&iter);
  return g_hash_table_contains (self->nonces, nonce);
}

/* A signed command: verified, checked against replays and this machine's
 * allowlist, and only then run. Every refusal answers with an error whose
 * ref is the message id, and nothing runs. */
static void
handle_command_exec (WrSessionManager *self, JsonObject *msg,
    const char *ref)
{
  const char *sid = wr_message_get_string (msg, "sid");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrCommandEnvelope) env = NULL;
  const WrCommandSpec *spec;
  WrCommandRun *run;
  CommandCtx *ctx;
  WrSession *s;
  gint64 now = now_s (), *exp;

  env = wr_command_envelope_verify (self->config->grant_key,
      wr_message_get_string (msg, "envelope"), self->config->id, now,
      &error);
  if (!env) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN, error->message,
        ref);
    return;
  }
  if (!g_str_equal (env->sid, sid)) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN,
        "the command is for another session", ref);
    return;
  }
  s = g_hash_table_lookup (self->sessions, sid);
  if (!s || !s->grant) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN,
        "no such session", ref);
    return;
  }
  /* The scope comes from the session's signed grant, not from the
   * envelope: the gateway must have granted commands to this user. */
  if (!g_strv_contains ((const char *const *) s->grant->scopes, "command")) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN,
        "the session's grant has no command scope", ref);
    return;
  }
  if (env->seq <= s->command_seq || nonce_seen (self, env->nonce, now)) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN,
        "replayed (sequence number or nonce already seen)", ref);
    return;
  }
  if (g_hash_table_size (self->nonces) >= WR_MAX_NONCES) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_RATE_LIMITED,
        "too many commands; try again in a minute", ref);
    return;
  }
  /* Spent from here on, whatever happens next. */
  s->command_seq = env->seq;
  exp = g_new (gint64, 1);
  *exp = env->exp;
  g_hash_table_insert (self->nonces, g_strdup (env->nonce), exp);

  spec = wr_command_table_lookup (self->config->commands, env->name);
  if (!spec) {
    g_autofree char *why = g_strdup_printf ("'%s' is not a command this "
        "agent allows", env->name);
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN, why, ref);
    return;
  }
  if (!wr_command_spec_check_args (spec, (const char *const *) env->argv,
          &error)) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_INVALID_FIELD,
        error->message, ref);
    return;
  }
  if (!s->commands)
    s->commands = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) command_ctx_free);
  if (g_hash_table_contains (s->commands, env->cid)) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_FORBIDDEN,
        "a command with this id is running", ref);
    return;
  }
  if (g_hash_table_size (s->commands) >= WR_MAX_COMMANDS_PER_SESSION
      || self->n_commands >= WR_MAX_COMMANDS) {
    refuse_command (self, sid, WR_PROTOCOL_ERROR_RATE_LIMITED,
        "too many commands running", ref);
    return;
  }

  ctx = g_new0 (CommandCtx, 1);
  ctx->session = s;
  ctx->cid = g_strdup (env->cid);
  run = wr_command_run_start (spec, (const char *const *) env->argv,
      on_command_output, on_command_exit, ctx, &error);
  if (!run) {
    g_autofree char *why = g_strdup_printf ("cannot start '%s': %s",
        spec->name, error->message);
    command_ctx_free (ctx);
    g_warning ("session %s: %s", sid, why);
    send_error (self, WR_PROTOCOL_ERROR_INTERNAL, why, ref);
    return;
  }
  /* The context lives as long as its entry: removed by on_command_exit,
   * or with the session (the run cancelled first). */
  ctx->run = run;
  g_hash_table_insert (s->commands, ctx->cid, ctx);
  self->n_commands++;
  /* The arguments are not logged: they may be anything. */
  g_message ("session %s: running command %s (%s, %u argument(s)) for %s "
      "as %s", sid, env->cid, spec->name, g_strv_length (env->argv),
      s->user, spec->run_as);
}

typedef void (*WrGatewayHandler) (WrSessionManager *self, JsonObject *msg,
    const char *ref);

/* Opcode -> handler, after wr_message_parse() accepted the message. */
static const struct {
  const char *type;
  WrGatewayHandler handler;
} handlers[] = {
  { "agent.welcome", handle_welcome },
  { "session.start", handle_session_start },
  { "session.end", handle_session_end },
  { "session.grant", handle_session_grant },
  { "sdp.answer", handle_sdp_answer },
  { "ice.candidate", handle_ice_candidate },
  { "command.exec", handle_command_exec },
  { "error", handle_ignore },   /* gateway-link logs it */
};

static void
on_link_message (WrGatewayLink *link, JsonObject *msg, gpointer user_data)
{
  WrSessionManager *self = user_data;
  const char *type = wr_message_get_type (msg);
  const char *ref = wr_message_get_string (msg, "id");

  for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++) {
    if (g_str_equal (handlers[i].type, type)) {
      handlers[i].handler (self, msg, ref);
      return;
    }
  }
  g_warning ("ignoring gateway message of type %s", type);
}

static void
send_hello (WrSessionManager *self)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("agent.hello");

  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, self->config->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, self->config->name);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, WR_VERSION);

  json_builder_set_member_name (b, "displays");
  json_builder_begin_array (b);
  for (int i = 0; self->config->displays[i]; i++) {
    const char *display = self->config->displays[i];
    WrInputInjector *inj = get_injector (self, display);
    int w, h;

    /* A display we cannot open is not offered; it is retried on the next
     * connect. */
    if (!inj)
      continue;
    wr_input_injector_get_screen_size (inj, &w, &h);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, display);
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, CLAMP (w, 1, 16384));
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, CLAMP (h, 1, 16384));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  /* What passed a test encode on this host, hardware first. */
  json_builder_set_member_name (b, "encoders");
  json_builder_begin_array (b);
  for (int i = 0; self->encoders[i] && i < 32; i++)
    json_builder_add_string_value (b, self->encoders[i]);
  json_builder_end_array (b);

  if (self->profiles) {
    json_builder_set_member_name (b, "profiles");
    json_builder_begin_array (b);
    for (guint i = 0; i < self->profiles->profiles->len && i < 64; i++)
      json_builder_add_string_value (b,
          ((WrProfile *) g_ptr_array_index (self->profiles->profiles,
                  i))->name);
    json_builder_end_array (b);
  }
  {
    const WrProfile *active = wr_display_pipeline_get_default_profile (NULL);
    if (active) {
      json_builder_set_member_name (b, "profile");
      json_builder_add_string_value (b, active->name);
    }
  }

  send_text (self, wr_message_builder_finish (b));
}

static void
on_link_connected (WrGatewayLink *link, gpointer user_data)
{
  WrSessionManager *self = user_data;

  g_clear_pointer (&self->last_status, g_free);
  send_hello (self);
}

static void
on_link_disconnected (WrGatewayLink *link, gpointer user_data)
{
  WrSessionManager *self = user_data;

  /* The gateway ends our sessions with "agent disconnected"; do the same
   * here so that no viewer keeps control through a dead signalling
   * path. */
  wr_session_manager_end_all (self, FALSE, "agent disconnected");
  g_clear_pointer (&self->last_status, g_free);
}

static void
wr_session_manager_dispose (GObject *object)
{
  WrSessionManager *self = WR_SESSION_MANAGER (object);

  if (self->sessions)
    g_hash_table_remove_all (self->sessions);
  if (self->indicators)
    g_hash_table_remove_all (self->indicators);
  if (self->pipelines) {
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init (&iter, self->pipelines);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      wr_display_pipeline_stop (value);
      g_signal_handlers_disconnect_by_data (value, self);
    }
    g_hash_table_remove_all (self->pipelines);
  }
  if (self->link) {
    g_signal_handlers_disconnect_by_data (self->link, self);
    g_clear_object (&self->link);
  }
  G_OBJECT_CLASS (wr_session_manager_parent_class)->dispose (object);
}

static void
wr_session_manager_finalize (GObject *object)
{
  WrSessionManager *self = WR_SESSION_MANAGER (object);

  g_hash_table_unref (self->sessions);
  g_hash_table_unref (self->indicators);
  g_hash_table_unref (self->nonces);
  g_hash_table_unref (self->pipelines);
  /* After the sessions: their input channels release keys through the
   * injectors. */
  g_hash_table_unref (self->injectors);
  g_strfreev (self->encoders);
  g_clear_pointer (&self->profiles, wr_profile_set_free);
  g_free (self->last_status);
  G_OBJECT_CLASS (wr_session_manager_parent_class)->finalize (object);
}

static void
wr_session_manager_class_init (WrSessionManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_session_manager_dispose;
  object_class->finalize = wr_session_manager_finalize;
}

static void
wr_session_manager_init (WrSessionManager *self)
{
  self->injectors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) wr_input_injector_free);
  self->pipelines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_object_unref);
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      session_free);
  self->indicators = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) wr_recording_indicator_free);
  self->nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
}

/* Every known encoder that passes a test encode here, hardware first. */
static char **
probe_usable_encoders (void)
{
  g_autoptr (GPtrArray) results = wr_encoder_probe_all (
      WR_ENCODER_TEST_TIMEOUT_MS);
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < results->len; i++) {
    WrEncoderProbeResult *r = g_ptr_array_index (results, i);
    if (r->status == WR_ENCODER_OK)
      g_ptr_array_add (names, g_strdup (r->encoder));
  }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* The profiles a viewer may switch to: the file main.c checked at start
 * ([agent] profiles or the shipped one); %NULL without a file. */
static WrProfileSet *
load_profiles (const WrAgentConfig *config)
{
  g_autofree char *file = config->profiles_file
      ? g_strdup (config->profiles_file) : wr_profile_set_find_default_file ();
  g_autoptr (GError) error = NULL;
  WrProfileSet *set;

  if (!file)
    return NULL;
  set = wr_profile_set_load (file, &error);
  if (!set)
    g_warning ("profiles: %s", error->message);
  return set;
}

/* Whether two profiles stream the same way (a SIGHUP that changed nothing
 * for a running pipeline does not switch it). */
static gboolean
profile_same (const WrProfile *a, const WrProfile *b)
{
  g_autofree char *sa = wr_profile_summary (a);
  g_autofree char *sb = wr_profile_summary (b);

  if (!g_str_equal (sa, sb) || a->h264_profile != b->h264_profile
      || a->source != b->source
      || !g_strv_equal ((const char *const *) a->encoders,
          (const char *const *) b->encoders)
      || a->knobs->len != b->knobs->len)
    return FALSE;
  for (guint i = 0; i < a->knobs->len; i++) {
    WrKnobValue *ka = g_ptr_array_index (a->knobs, i);
    WrKnobValue *kb = g_ptr_array_index (b->knobs, i);
    if (ka->spec != kb->spec || ka->i != kb->i || ka->d != kb->d
        || g_strcmp0 (ka->s, kb->s) != 0)
      return FALSE;
  }
  return TRUE;
}

void
wr_session_manager_reload_profiles (WrSessionManager *self)
{
  WrProfileSet *set = load_profiles (self->config);
  GHashTableIter iter;
  gpointer value;

  if (set) {
    g_clear_pointer (&self->profiles, wr_profile_set_free);
    self->profiles = set;
  }
  /* Each running pipeline takes its profile's new settings live. */
  g_hash_table_iter_init (&iter, self->pipelines);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WrDisplayPipeline *p = value;
    const char *name = wr_display_pipeline_get_profile_name (p);
    const WrProfile *now = name ? lookup_profile (self, name) : NULL;
    const WrProfile *running = wr_display_pipeline_get_profile (p);
    g_autoptr (GError) error = NULL;
    WrProtocolError code;

    if (!now) {
      g_message ("display %s: profile %s is no longer in the file; it "
          "keeps running as it was", wr_display_pipeline_get_display (p),
          name);
      continue;
    }
    if (running && profile_same (running, now))
      continue;
    if (!switch_pipeline (self, p, now, &code, &error))
      g_warning ("display %s: reloaded profile %s not applied: %s",
          wr_display_pipeline_get_display (p), name, error->message);
  }
}

WrSessionManager *
wr_session_manager_new (const WrAgentConfig *config, WrGatewayLink *link)
{
  WrSessionManager *self = g_object_new (WR_TYPE_SESSION_MANAGER, NULL);
  g_autofree char *list = NULL;

  self->config = config;
  self->link = g_object_ref (link);
  self->encoders = probe_usable_encoders ();
  self->profiles = load_profiles (config);
  list = g_strjoinv (", ", self->encoders);
  g_message ("usable encoders: %s", *list ? list : "none");

  g_signal_connect (link, "connected", G_CALLBACK (on_link_connected), self);
  g_signal_connect (link, "disconnected",
      G_CALLBACK (on_link_disconnected), self);
  g_signal_connect (link, "message", G_CALLBACK (on_link_message), self);
  return self;
}
