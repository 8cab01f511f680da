/* webremote: the signaling relay between viewers and agents. */
#include "config.h"

#include "gateway/signaling.h"

#include <string.h>

#include "common/command-envelope.h"
#include "common/crypto.h"
#include "common/json-builder.h"
#include "common/protocol.h"
#include "gateway/rbac.h"
#include "gateway/recording.h"
#include "gateway/session.h"
#include "gateway/store-recording.h"

struct _WrSignaling {
  WrAgentRegistry *registry;
  WrAuth *auth;
  WrStore *store;         /* not owned */
  WrGrantSigner *signer;  /* not owned */
  guint renew_id;         /* the grant renewal timer */
  GHashTable *sessions;   /* sid -> WrSession */
  GHashTable *clients;    /* WrConnection -> NULL (set, holds a ref) */
  GHashTable *agents;     /* WrConnection -> bound agent id */
  GHashTable *commands;   /* cid -> PendingCommand, until command.exit */
  GHashTable *command_seq; /* sid -> gint64 *, the last envelope seq */

  /* recording (docs/compliance.md) */
  WrAudit *audit;              /* (nullable) not owned */
  WrRecorderHub *recorders;    /* (nullable) not owned */
  GHashTable *recorder_conns;  /* WrConnection -> NULL (set, holds a ref) */
  GHashTable *recordings;      /* id -> WrRecording */
  char *recording_dir;
  gint64 segment_seconds;
  gint64 start_timeout;
  guint stop_timeout;          /* seconds to wait for record.stopped */
};

static void end_session (WrSignaling *self, WrSession *s, const char *reason,
    GHashTableIter *iter);
static gboolean start_recording (WrSignaling *self, WrSession *s,
    gboolean resumed);

/* Commands in flight per session: more are refused until one exits. */
#define WR_SIGNALING_MAX_COMMANDS_PER_SESSION 4

/* A command the gateway signed and sent: where its output goes. */
typedef struct {
  char *sid;
  char *ref;    /* the id of the client's command.run, or NULL */
  char *name;   /* the command, for the audit log */
} PendingCommand;

static void
pending_command_free (gpointer data)
{
  PendingCommand *p = data;

  g_free (p->sid);
  g_free (p->ref);
  g_free (p->name);
  g_free (p);
}

typedef void (*Handler) (WrSignaling *self, WrConnection *conn,
    JsonObject *msg);

typedef struct {
  const char *type;
  Handler handler;
} HandlerEntry;

static void
send_built (WrConnection *conn, JsonBuilder *b)
{
  g_autofree char *text = wr_message_builder_finish (b);

  wr_connection_send (conn, text);
}

static void
add_ice_servers (JsonBuilder *b)
{
  /* Direct connections only for now; TURN credentials come with the TURN
   * issue. */
  json_builder_set_member_name (b, "ice_servers");
  json_builder_begin_array (b);
  json_builder_end_array (b);
}

static void
send_session_ended (WrConnection *conn, const char *sid, const char *reason)
{
  JsonBuilder *b = wr_message_new ("session.ended");

  wr_json_add_string (b, "sid", sid);
  wr_json_add_string (b, "reason", reason);
  send_built (conn, b);
  g_object_unref (b);
}

static void
send_session_end (WrConnection *conn, const char *sid, const char *reason)
{
  JsonBuilder *b = wr_message_new ("session.end");

  wr_json_add_string (b, "sid", sid);
  wr_json_add_string (b, "reason", reason);
  send_built (conn, b);
  g_object_unref (b);
}

static void
send_pong (WrConnection *conn, JsonObject *msg)
{
  JsonBuilder *b = wr_message_new ("pong");
  const char *id = wr_message_get_string (msg, "id");

  if (id)
    wr_json_add_string (b, "ref", id);
  send_built (conn, b);
  g_object_unref (b);
}

/* Forwards an sdp.* or ice.candidate message unchanged but for the fields
 * we know, so that nothing the sender smuggled in reaches the other side. */
static void
relay (WrConnection *to, JsonObject *msg)
{
  const char *type = wr_message_get_type (msg);
  JsonBuilder *b = wr_message_new (type);

  wr_json_add_string (b, "sid", wr_message_get_string (msg, "sid"));
  if (g_str_equal (type, "ice.candidate")) {
    wr_json_add_string (b, "candidate",
        wr_message_get_string (msg, "candidate"));
    json_builder_set_member_name (b, "sdp_mline_index");
    json_builder_add_int_value (b,
        wr_message_get_int (msg, "sdp_mline_index", 0));
  } else {
    wr_json_add_string (b, "sdp", wr_message_get_string (msg, "sdp"));
  }
  send_built (to, b);
  g_object_unref (b);
}

/* Appends one audit row (audit.h); %FALSE when it could not be written,
 * and the caller then does not do what it describes (fail closed). Without
 * an audit log (unit tests) nothing is written. Takes @detail. */
static gboolean
audit_event (WrSignaling *self, const char *type, WrAuditOutcome outcome,
    const char *actor, const char *agent, const char *session,
    const char *address, JsonObject *detail)
{
  g_autoptr (JsonObject) d = detail;
  g_autoptr (GError) error = NULL;
  WrAuditEvent ev = {
    .type = type, .outcome = outcome, .actor = actor, .agent = agent,
    .session = session, .address = address,
  };

  if (!self->audit)
    return TRUE;
  if (!wr_audit_append (self->audit, &ev, d, NULL, &error)) {
    g_warning ("audit: cannot write %s: %s", type, error->message);
    return FALSE;
  }
  return TRUE;
}

static const char *
session_address (WrSession *s)
{
  return s->client ? wr_connection_get_peer_address (s->client) : NULL;
}

static void
send_session_recording (WrSession *s, const char *state, const char *reason)
{
  JsonBuilder *b;

  if (!s->client)
    return;
  b = wr_message_new ("session.recording");
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "state", state);
  if (reason)
    wr_json_add_string (b, "reason", reason);
  send_built (s->client, b);
  g_object_unref (b);
}

/* Signs a fresh grant for @s and remembers its expiry. Never logs the
 * token. */
static char *
issue_grant (WrSignaling *self, WrSession *s)
{
  g_autoptr (GError) error = NULL;
  char *grant;

  if (!self->signer) {
    g_warning ("session %s: no grant signer", s->sid);
    return NULL;
  }
  grant = wr_grant_signer_issue (self->signer, s->sid, s->user, s->agent_id,
      s->display, (const char *const *) s->scopes,
      g_get_real_time () / G_USEC_PER_SEC, &s->grant_expires, &error);
  if (!grant)
    g_warning ("session %s: cannot sign its grant: %s", s->sid,
        error->message);
  return grant;
}

static guint
count_client_sessions (WrSignaling *self, WrConnection *client)
{
  GHashTableIter iter;
  WrSession *s;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    if (s->client == client)
      n++;
  return n;
}

/* The session @sid if @conn is on either end of it. */
static WrSession *
lookup_session (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = g_hash_table_lookup (self->sessions,
      wr_message_get_string (msg, "sid"));

  if (!s || (s->client != conn && s->agent != conn)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such session", wr_message_get_string (msg, "id"));
    return NULL;
  }
  return s;
}

/* ---- recording (docs/compliance.md, "Recordings") ---- */

static void
send_record_stop (WrRecording *rec, const char *reason)
{
  JsonBuilder *b = wr_message_new ("record.stop");

  wr_json_add_string (b, "sid", rec->id);
  if (reason)
    wr_json_add_string (b, "reason", reason);
  send_built (rec->recorder, b);
  g_object_unref (b);
}

/* The recording is over: its recorder's session with the agent ends, the
 * manifest is signed in a worker thread, and @rec is freed. Never called
 * while self->sessions is being iterated. */
static void
finish_recording (WrSignaling *self, WrRecording *rec, const char *status,
    gboolean scan_partial)
{
  WrSession *rs = g_hash_table_lookup (self->sessions, rec->id);
  WrSession *s = g_hash_table_lookup (self->sessions, rec->session);
  WrRecorderEntry *e = self->recorders
      ? wr_recorder_hub_lookup (self->recorders, rec->recorder) : NULL;

  rec->state = WR_RECORDING_DONE;
  g_clear_handle_id (&rec->timer_id, g_source_remove);
  if (rs && rs->is_recorder) {
    send_session_end (rs->agent, rs->sid, "recording finished");
    g_hash_table_remove (self->sessions, rs->sid);
  }
  if (e && e->active > 0)
    e->active--;
  if (s && g_strcmp0 (s->recording_id, rec->id) == 0)
    g_clear_pointer (&s->recording_id, g_free);
  if (self->store)
    wr_recording_finish_async (self->store, self->signer, self->audit,
        self->recording_dir, rec->id, status, scan_partial);
  g_hash_table_remove (self->recordings, rec->id);
}

typedef struct {
  WrSignaling *self;
  char *id;
} RecordingTimer;

static void
recording_timer_free (gpointer data)
{
  RecordingTimer *t = data;

  g_free (t->id);
  g_free (t);
}

static gboolean
stop_timed_out (gpointer data)
{
  RecordingTimer *t = data;
  WrRecording *rec = g_hash_table_lookup (t->self->recordings, t->id);

  if (rec) {
    rec->timer_id = 0;
    g_message ("recording %s: no record.stopped in time", rec->id);
    finish_recording (t->self, rec, "interrupted", TRUE);
  }
  return G_SOURCE_REMOVE;
}

/* The viewer's session ended: the recorder closes its last segment, says
 * record.stopped, then the recording is finished (bounded wait). */
static void
stop_recording (WrSignaling *self, WrRecording *rec, const char *reason)
{
  RecordingTimer *t = g_new0 (RecordingTimer, 1);

  rec->state = WR_RECORDING_STOPPING;
  send_record_stop (rec, reason);
  t->self = self;
  t->id = g_strdup (rec->id);
  g_clear_handle_id (&rec->timer_id, g_source_remove);
  rec->timer_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT,
      self->stop_timeout, stop_timed_out, t, recording_timer_free);
}

/* Strict mode: what was held until the recording runs goes out now. */
static void
release_hold (WrSignaling *self, WrSession *s)
{
  g_clear_handle_id (&s->hold_timer, g_source_remove);
  if (s->held_granted)
    wr_connection_send (s->client, s->held_granted);
  if (s->held_start)
    wr_connection_send (s->agent, s->held_start);
  g_clear_pointer (&s->held_granted, g_free);
  g_clear_pointer (&s->held_start, g_free);
  g_clear_pointer (&s->held_ref, g_free);
}

/* Strict mode, the recording did not start (in time): the request is
 * refused; the agent never heard of the session. */
static void
refuse_held (WrSignaling *self, WrSession *s, const char *message)
{
  g_clear_handle_id (&s->hold_timer, g_source_remove);
  wr_connection_send_error (s->client,
      WR_PROTOCOL_ERROR_RECORDING_UNAVAILABLE, message, s->held_ref);
  g_clear_pointer (&s->held_start, g_free);
  end_session (self, s, "recording unavailable", NULL);
}

static gboolean
hold_timed_out (gpointer data)
{
  RecordingTimer *t = data;
  WrSession *s = g_hash_table_lookup (t->self->sessions, t->id);

  if (s && s->held_start) {
    s->hold_timer = 0;
    g_message ("session %s: the recording did not start in time", s->sid);
    refuse_held (t->self, s, "the recording did not start in time");
  }
  return G_SOURCE_REMOVE;
}

/* The recording of @rec's session stopped unexpectedly. */
static void
recorder_lost (WrSignaling *self, WrRecording *rec, const char *reason)
{
  g_autofree char *viewer_sid = g_strdup (rec->session);
  gboolean was_stopping = rec->state == WR_RECORDING_STOPPING;
  JsonObject *d = json_object_new ();
  WrSession *s;

  g_message ("recording %s of session %s interrupted: %s", rec->id,
      rec->session, reason);
  json_object_set_string_member (d, "recording", rec->id);
  json_object_set_string_member (d, "recorder", rec->recorder_name);
  json_object_set_string_member (d, "reason", reason);
  audit_event (self, "recording.interrupted", WR_AUDIT_FAILED, "system",
      rec->agent_id, rec->session, NULL, d);
  finish_recording (self, rec, "interrupted", TRUE);
  rec = NULL;

  s = g_hash_table_lookup (self->sessions, viewer_sid);
  if (!s || was_stopping)
    return;
  if (s->held_start) {
    refuse_held (self, s, "the recorder failed before the recording started");
    return;
  }
  if (s->recording_mode == WR_RECORDING_MODE_STRICT) {
    send_session_end (s->agent, s->sid, "recording lost");
    send_session_ended (s->client, s->sid, "recording lost");
    end_session (self, s, "recording lost", NULL);
    return;
  }
  send_session_recording (s, "interrupted", reason);
  start_recording (self, s, TRUE);
}

/* Opens the recorder's own view-only session with the agent and tells the
 * recorder to record it. FALSE when no recorder can (nothing changed). */
static gboolean
start_recording (WrSignaling *self, WrSession *s, gboolean resumed)
{
  /* View only: the agent never takes input from the recorder's session.
   * `record` too, so the agent's on-screen indicator shows for as long as
   * a recorder receives the picture, whatever becomes of the viewer's
   * session and grant (docs/compliance.md). */
  static const char *const view[] = { WR_SCOPE_VIEW, "record", NULL };
  WrRecorderEntry *e = self->recorders
      ? wr_recorder_hub_pick (self->recorders) : NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *recorder_user = NULL;
  g_autofree char *grant = NULL;
  g_autofree char *previous = NULL;
  WrRecording *rec;
  WrSession *rs;
  JsonObject *d;
  JsonBuilder *b;

  if (!e || !self->store || !self->signer)
    return FALSE;
  rec = wr_recording_new (s->sid, s->agent_id, s->group ? s->group
      : WR_STORE_DEFAULT_GROUP, s->user, e->name, e->conn);
  recorder_user = g_strdup_printf ("recorder:%s", e->name);
  rs = wr_session_new (recorder_user, s->agent_id, s->display, view, e->conn,
      s->agent);
  g_free (rs->sid);
  rs->sid = g_strdup (rec->id);
  rs->is_recorder = TRUE;
  rs->recorded_sid = g_strdup (s->sid);
  grant = issue_grant (self, rs);
  d = json_object_new ();
  json_object_set_string_member (d, "recording", rec->id);
  json_object_set_string_member (d, "recorder", e->name);
  if (!grant || !wr_store_recording_insert (self->store, rec->id, s->sid,
          s->agent_id, rec->group, s->user, e->name, rec->started_ms,
          &error)
      || (resumed && !audit_event (self, "recording.resumed", WR_AUDIT_OK,
              "system", s->agent_id, s->sid, NULL, g_steal_pointer (&d)))) {
    if (error)
      g_warning ("session %s: cannot start recording: %s", s->sid,
          error->message);
    if (d)
      json_object_unref (d);
    wr_session_free (rs);
    wr_recording_free (rec);
    return FALSE;
  }
  if (d)
    json_object_unref (d);
  g_hash_table_insert (self->sessions, rs->sid, rs);
  g_hash_table_insert (self->recordings, rec->id, rec);
  e->active++;
  previous = g_steal_pointer (&s->recording_id);
  s->recording_id = g_strdup (rec->id);
  g_message ("session %s: recording %s by recorder %s%s", s->sid, rec->id,
      e->name, resumed ? " (resumed)" : "");

  b = wr_message_new ("record.start");
  wr_json_add_string (b, "sid", rec->id);
  wr_json_add_string (b, "session", s->sid);
  wr_json_add_string (b, "agent", s->agent_id);
  wr_json_add_string (b, "display", s->display);
  wr_json_add_int (b, "segment_seconds", self->segment_seconds);
  add_ice_servers (b);
  send_built (e->conn, b);
  g_object_unref (b);

  b = wr_message_new ("session.start");
  wr_json_add_string (b, "sid", rs->sid);
  wr_json_add_string (b, "display", rs->display);
  wr_json_add_string (b, "user", rs->user);
  wr_json_add_strv (b, "scopes", (const char *const *) rs->scopes);
  add_ice_servers (b);
  wr_json_add_string (b, "grant", grant);
  send_built (rs->agent, b);
  g_object_unref (b);
  return TRUE;
}

/* A recorder (re)connected: sessions that should be recorded and are not
 * get one (best-effort; recording.resumed). */
static void
resume_recordings (WrSignaling *self)
{
  g_autoptr (GPtrArray) sids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  WrSession *s;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    if (!s->is_recorder && !s->recording_id && !s->held_start
        && s->recording_mode != WR_RECORDING_MODE_OFF)
      g_ptr_array_add (sids, g_strdup (s->sid));
  for (guint i = 0; i < sids->len; i++) {
    s = g_hash_table_lookup (self->sessions, g_ptr_array_index (sids, i));
    if (s)
      start_recording (self, s, TRUE);
  }
}

/* ---- client channel ---- */

static void
client_ping (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  send_pong (conn, msg);
}

/* Records the end of a session in the store and forgets it. Sessions are
 * history; a store failure here is logged, the session ends regardless. */
static void
end_session (WrSignaling *self, WrSession *s, const char *reason,
    GHashTableIter *iter)
{
  g_autoptr (GError) error = NULL;
  GHashTableIter citer;
  PendingCommand *p;

  /* Output of its commands has nowhere to go any more. */
  g_hash_table_iter_init (&citer, self->commands);
  while (g_hash_table_iter_next (&citer, NULL, (gpointer *) &p))
    if (g_str_equal (p->sid, s->sid))
      g_hash_table_iter_remove (&citer);
  g_hash_table_remove (self->command_seq, s->sid);

  if (!s->is_recorder) {
    JsonObject *d = json_object_new ();
    json_object_set_string_member (d, "reason", reason ? reason : "");
    audit_event (self, "session.ended", WR_AUDIT_OK, s->user, s->agent_id,
        s->sid, session_address (s), d);
  }
  if (s->recording_id) {
    WrRecording *rec = g_hash_table_lookup (self->recordings,
        s->recording_id);
    if (rec && rec->state != WR_RECORDING_STOPPING
        && rec->state != WR_RECORDING_DONE)
      stop_recording (self, rec, reason);
  }

  if (self->store && !s->is_recorder && !wr_store_session_end (self->store, s->sid, reason,
          g_get_real_time () / G_USEC_PER_SEC, &error))
    g_warning ("session %s: cannot record its end: %s", s->sid,
        error->message);
  if (iter)
    g_hash_table_iter_remove (iter);
  else
    g_hash_table_remove (self->sessions, s->sid);
}

/* The scopes the session asks for as a NULL-terminated array of pointers
 * into @msg, or NULL for the default. */
static const char **
requested_scopes (JsonObject *msg)
{
  JsonArray *requested = json_object_has_member (msg, "scopes")
      ? json_object_get_array_member (msg, "scopes") : NULL;
  const char **out;
  guint n;

  if (!requested)
    return NULL;
  n = json_array_get_length (requested);
  out = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++)
    out[i] = json_array_get_string_element (requested, i);
  return out;
}

/* A refused session.request: audited (denied or failed, with the reason),
 * then answered with @code. */
static void
refuse_request (WrSignaling *self, WrConnection *conn, const char *ref,
    const char *agent_id, WrAuditOutcome outcome, WrProtocolError code,
    const char *message)
{
  const WrPrincipal *user = wr_connection_get_principal (conn);
  JsonObject *d = json_object_new ();

  json_object_set_string_member (d, "reason", message);
  json_object_set_string_member (d, "code",
      wr_protocol_error_code_to_string (code));
  audit_event (self, "session.request", outcome, user ? user->name : NULL,
      agent_id, NULL, wr_connection_get_peer_address (conn), d);
  wr_connection_send_error (conn, code, message, ref);
}

static void
client_session_request (WrSignaling *self, WrConnection *conn,
    JsonObject *msg)
{
  const char *ref = wr_message_get_string (msg, "id");
  const char *agent_id = wr_message_get_string (msg, "agent");
  const char *display = wr_message_get_string (msg, "display");
  const char *reason = wr_message_get_string (msg, "reason");
  const WrPrincipal *user = wr_connection_get_principal (conn);
  g_autofree const char **requested = requested_scopes (msg);
  g_autoptr (WrStoredAgent) stored = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *grant = NULL;
  g_autofree char *scope_text = NULL;
  g_autofree char *policy = NULL;
  g_autofree char *group = NULL;
  g_autofree char *granted_text = NULL;
  g_autofree char *start_text = NULL;
  g_auto (GStrv) scopes = NULL;
  const char *unknown = NULL;
  WrPermission allowed = WR_PERM_NONE, granted;
  WrRecordingMode mode = WR_RECORDING_MODE_OFF;
  gboolean recording = FALSE;
  WrAgentRecord *agent;
  WrSession *s;
  JsonObject *d;
  JsonBuilder *b;

  agent = wr_agent_registry_lookup (self->registry, agent_id);
  /* Permissions first: an agent the user may not view does not exist for
   * them, online or not. Fail closed when the store cannot tell. */
  if (!user || !self->store || !wr_rbac_agent_permissions (self->store, user,
          agent_id, &allowed, &stored, &error)) {
    if (error && !g_error_matches (error, WR_STORE_ERROR,
            WR_STORE_ERROR_NOT_FOUND)) {
      g_warning ("session request: the store failed: %s", error->message);
      refuse_request (self, conn, ref, agent_id, WR_AUDIT_FAILED,
          WR_PROTOCOL_ERROR_INTERNAL, "cannot open a session now");
    } else {
      refuse_request (self, conn, ref, agent_id, WR_AUDIT_DENIED,
          WR_PROTOCOL_ERROR_NOT_FOUND, "no such agent");
    }
    return;
  }
  if (!(allowed & WR_PERM_VIEW)) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_DENIED,
        WR_PROTOCOL_ERROR_NOT_FOUND, "no such agent");
    return;
  }
  if (!agent || !agent->conn) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_FAILED,
        WR_PROTOCOL_ERROR_AGENT_OFFLINE, "the agent is not connected");
    return;
  }
  if (!display)
    display = wr_agent_record_default_display (agent);
  if (!display || !wr_agent_record_has_display (agent, display)) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_FAILED,
        WR_PROTOCOL_ERROR_NOT_FOUND, "the agent has no such display");
    return;
  }

  granted = wr_rbac_grant_scopes (requested, allowed, &unknown);
  if (unknown) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_FAILED,
        WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field 'scopes' names an unknown scope");
    return;
  }
  if (!(granted & WR_PERM_VIEW)) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_DENIED,
        WR_PROTOCOL_ERROR_FORBIDDEN, "a session needs the view scope");
    return;
  }
  if (stored->require_reason && (!reason || !*g_strstrip (
              g_strdup (reason)))) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_DENIED,
        WR_PROTOCOL_ERROR_REASON_REQUIRED,
        "this machine's group asks for a reason or ticket for each session");
    return;
  }

  if (count_client_sessions (self, conn)
      >= WR_SIGNALING_MAX_SESSIONS_PER_CLIENT) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_DENIED,
        WR_PROTOCOL_ERROR_FORBIDDEN, "too many sessions on this connection");
    return;
  }

  /* Recording policy: the group's, or best-effort when the session asks
   * for the record scope (and may have it). A recorded session's grant
   * carries `record` so that the agent shows it on screen. */
  policy = wr_store_agent_recording_policy (self->store, agent->id, &group,
      NULL, &error);
  if (!policy) {
    g_warning ("session request: cannot read the recording policy: %s",
        error->message);
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_FAILED,
        WR_PROTOCOL_ERROR_INTERNAL, "cannot open a session now");
    return;
  }
  mode = wr_recording_mode_from_string (policy);
  if ((granted & WR_PERM_RECORD) && mode == WR_RECORDING_MODE_OFF)
    mode = WR_RECORDING_MODE_BEST_EFFORT;
  if (mode != WR_RECORDING_MODE_OFF)
    granted |= WR_PERM_RECORD;
  if (mode == WR_RECORDING_MODE_STRICT && (!self->recorders
          || wr_recorder_hub_count_ready (self->recorders) == 0)) {
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_DENIED,
        WR_PROTOCOL_ERROR_RECORDING_UNAVAILABLE,
        "sessions on this machine are recorded and no recorder is "
        "available");
    return;
  }

  scopes = wr_permissions_to_strv (granted);
  s = wr_session_new (user->name, agent->id, display,
      (const char *const *) scopes, conn, agent->conn);
  s->recording_mode = mode;
  s->group = g_strdup (group);
  /* The agent enforces what this grant says, whatever else session.start
   * carries. */
  grant = issue_grant (self, s);
  scope_text = wr_permissions_to_string (granted);
  /* Fail closed: a session that cannot be recorded does not start. */
  if (!grant || !wr_store_session_insert (self->store, s->sid, user->user_id,
          s->agent_id, s->display, scope_text, reason,
          g_get_real_time () / G_USEC_PER_SEC, &error)) {
    if (error)
      g_warning ("session request: cannot record the session: %s",
          error->message);
    wr_session_free (s);
    refuse_request (self, conn, ref, agent_id, WR_AUDIT_FAILED,
        WR_PROTOCOL_ERROR_INTERNAL, "cannot open a session now");
    return;
  }
  s->reason = g_strdup (reason);

  d = json_object_new ();
  json_object_set_string_member (d, "display", s->display);
  json_object_set_string_member (d, "scopes", scope_text);
  if (reason)
    json_object_set_string_member (d, "reason", reason);
  json_object_set_string_member (d, "recording", policy && mode
      == WR_RECORDING_MODE_STRICT ? "strict" : mode
      == WR_RECORDING_MODE_BEST_EFFORT ? "best-effort" : "off");
  if (!audit_event (self, "session.granted", WR_AUDIT_OK, s->user,
          s->agent_id, s->sid, wr_connection_get_peer_address (conn), d)
      || ((granted & WR_PERM_CONTROL) && !audit_event (self,
              "control.given", WR_AUDIT_OK, s->user, s->agent_id, s->sid,
              wr_connection_get_peer_address (conn), NULL))) {
    wr_store_session_end (self->store, s->sid, "audit unavailable",
        g_get_real_time () / G_USEC_PER_SEC, NULL);
    wr_session_free (s);
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INTERNAL,
        "cannot open a session now", ref);
    return;
  }
  g_hash_table_insert (self->sessions, s->sid, s);
  g_message ("session %s: %s opened %s display %s with %s", s->sid, s->user,
      s->agent_id, s->display, scope_text);

  if (mode != WR_RECORDING_MODE_OFF) {
    recording = start_recording (self, s, FALSE);
    if (!recording && mode == WR_RECORDING_MODE_STRICT) {
      wr_connection_send_error (conn,
          WR_PROTOCOL_ERROR_RECORDING_UNAVAILABLE,
          "sessions on this machine are recorded and no recorder could "
          "start", ref);
      end_session (self, s, "recording unavailable", NULL);
      return;
    }
    if (!recording) {
      d = json_object_new ();
      json_object_set_string_member (d, "reason", "no recorder available");
      audit_event (self, "recording.unavailable", WR_AUDIT_FAILED, "system",
          s->agent_id, s->sid, NULL, d);
    }
  }

  b = wr_message_new ("session.granted");
  if (ref)
    wr_json_add_string (b, "ref", ref);
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "agent", s->agent_id);
  wr_json_add_string (b, "display", s->display);
  wr_json_add_strv (b, "scopes", (const char *const *) s->scopes);
  add_ice_servers (b);
  wr_json_add_bool (b, "recording", mode != WR_RECORDING_MODE_OFF);
  granted_text = wr_message_builder_finish (b);
  g_object_unref (b);

  b = wr_message_new ("session.start");
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "display", s->display);
  wr_json_add_string (b, "user", s->user);
  wr_json_add_strv (b, "scopes", (const char *const *) s->scopes);
  add_ice_servers (b);
  wr_json_add_string (b, "grant", grant);
  start_text = wr_message_builder_finish (b);
  g_object_unref (b);

  if (mode == WR_RECORDING_MODE_STRICT) {
    /* Nothing is streamed before the recorder records. */
    RecordingTimer *t = g_new0 (RecordingTimer, 1);

    t->self = self;
    t->id = g_strdup (s->sid);
    s->held_granted = g_steal_pointer (&granted_text);
    s->held_start = g_steal_pointer (&start_text);
    s->held_ref = g_strdup (ref);
    s->hold_timer = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT,
        (guint) self->start_timeout, hold_timed_out, t,
        recording_timer_free);
    return;
  }
  wr_connection_send (conn, granted_text);
  wr_connection_send (s->agent, start_text);
  if (mode != WR_RECORDING_MODE_OFF && !recording)
    send_session_recording (s, "interrupted", "no recorder available");
}

static void
client_relay (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);

  if (s && s->client == conn && !s->held_start) {
    /* The viewer's first answer: the media flows from now on. */
    if (!s->started && g_str_equal (wr_message_get_type (msg),
            "sdp.answer")) {
      if (!audit_event (self, "session.started", WR_AUDIT_OK, s->user,
              s->agent_id, s->sid, session_address (s), NULL)) {
        wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INTERNAL,
            "cannot start the session now", wr_message_get_string (msg,
                "id"));
        return;
      }
      s->started = TRUE;
    }
    relay (s->agent, msg);
  } else if (s)
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such session", wr_message_get_string (msg, "id"));
}

static void
client_session_end (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);
  const char *reason = wr_message_get_string (msg, "reason");

  if (!s)
    return;
  g_message ("session %s: ended by the viewer", s->sid);
  send_session_end (s->agent, s->sid, reason ? reason : "ended by the viewer");
  send_session_ended (conn, s->sid, "ended by the viewer");
  end_session (self, s, "ended by the viewer", NULL);
}

/* command.run: only in a live session of the sender whose granted scopes
 * include `command`. The gateway signs what it sends; the agent checks the
 * signature, replays and its own allowlist (docs/security.md). */
static void
client_command_run (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  const char *ref = wr_message_get_string (msg, "id");
  const char *name = wr_message_get_string (msg, "command");
  JsonArray *args = json_object_has_member (msg, "args")
      ? json_object_get_array_member (msg, "args") : NULL;
  WrSession *s = lookup_session (self, conn, msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *nonce = NULL;
  g_autofree char *cid = NULL;
  g_autofree char *token = NULL;
  GHashTableIter iter;
  PendingCommand *p;
  gint64 *seq;
  guint running = 0;
  JsonBuilder *b;

  if (!s)
    return;
  if (s->client != conn) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such session", ref);
    return;
  }
  if (!g_strv_contains ((const char *const *) s->scopes, "command")) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "this session was not granted the command scope", ref);
    return;
  }
  if (!self->signer) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INTERNAL,
        "cannot sign commands now", ref);
    return;
  }
  g_hash_table_iter_init (&iter, self->commands);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (g_str_equal (p->sid, s->sid))
      running++;
  if (running >= WR_SIGNALING_MAX_COMMANDS_PER_SESSION) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_RATE_LIMITED,
        "too many commands running in this session", ref);
    return;
  }

  for (guint i = 0; args && i < json_array_get_length (args); i++)
    g_ptr_array_add (argv, (gpointer) json_array_get_string_element (args,
            i));
  g_ptr_array_add (argv, NULL);

  seq = g_hash_table_lookup (self->command_seq, s->sid);
  if (!seq) {
    seq = g_new0 (gint64, 1);
    g_hash_table_insert (self->command_seq, g_strdup (s->sid), seq);
  }
  nonce = wr_random_token (16);
  cid = wr_random_token (12);
  {
    WrCommandEnvelope env = {
      .sid = s->sid,
      .agent = s->agent_id,
      .seq = *seq + 1,
      .nonce = nonce,
      .exp = g_get_real_time () / G_USEC_PER_SEC + WR_COMMAND_LIFETIME_S,
      .cid = cid,
      .name = (char *) name,
      .argv = (GStrv) argv->pdata,
    };
    token = wr_grant_signer_sign_command (self->signer, &env, &error);
  }
  if (!token) {
    wr_connection_send_error (conn, g_error_matches (error,
            WR_COMMAND_ENVELOPE_ERROR, WR_COMMAND_ENVELOPE_ERROR_MALFORMED)
        ? WR_PROTOCOL_ERROR_INVALID_FIELD : WR_PROTOCOL_ERROR_INTERNAL,
        error->message, ref);
    return;
  }
  (*seq)++;

  {
    JsonObject *d = json_object_new ();
    g_autofree char *joined = g_strjoinv (" ", (GStrv) argv->pdata);

    json_object_set_string_member (d, "command", name);
    json_object_set_string_member (d, "args", joined);
    json_object_set_string_member (d, "cid", cid);
    if (!audit_event (self, "command.run", WR_AUDIT_OK, s->user, s->agent_id,
            s->sid, session_address (s), d)) {
      wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INTERNAL,
          "cannot run commands now", ref);
      return;
    }
  }
  p = g_new0 (PendingCommand, 1);
  p->sid = g_strdup (s->sid);
  p->ref = g_strdup (ref);
  p->name = g_strdup (name);
  g_hash_table_insert (self->commands, g_strdup (cid), p);
  /* Arguments are not logged: they may hold anything. */
  g_message ("session %s: %s runs command %s (%s, %u argument(s))", s->sid,
      s->user, name, cid, argv->len - 1);

  b = wr_message_new ("command.exec");
  wr_json_add_string (b, "id", cid);
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "envelope", token);
  send_built (s->agent, b);
  g_object_unref (b);

  b = wr_message_new ("command.accepted");
  if (ref)
    wr_json_add_string (b, "ref", ref);
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "cid", cid);
  wr_json_add_string (b, "command", name);
  send_built (conn, b);
  g_object_unref (b);
}

static const HandlerEntry client_handlers[] = {
  { "command.run", client_command_run },
  { "ping", client_ping },
  { "session.request", client_session_request },
  { "sdp.answer", client_relay },
  { "ice.candidate", client_relay },
  { "session.end", client_session_end },
};

/* ---- agent channel ---- */

static void
agent_hello (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  const char *bound = g_hash_table_lookup (self->agents, conn);
  const char *id = wr_message_get_string (msg, "agent");
  g_autoptr (WrConnection) replaced = NULL;
  JsonBuilder *b;

  if (wr_connection_get_agent_id (conn)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "agent.hello was already received", wr_message_get_string (msg, "id"));
    return;
  }
  /* Every agent connects with its enrolled certificate, which names it
   * (server.c); it cannot claim another id. */
  if (!bound || !*bound || !g_str_equal (bound, id)) {
    g_message ("agent from %s claimed the id '%s' its certificate is not "
        "bound to", wr_connection_get_peer_address (conn), id);
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_UNAUTHORIZED,
        "this certificate belongs to another agent", NULL);
    wr_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "wrong agent id");
    return;
  }

  /* The store knows every agent that ever connected, with its group; an
   * agent it cannot record may still serve (nobody can be granted a
   * session on it until it is recorded). */
  if (self->store) {
    g_autoptr (GError) error = NULL;
    if (!wr_store_agent_upsert (self->store, id,
            wr_message_get_string (msg, "name"),
            g_get_real_time () / G_USEC_PER_SEC, &error))
      g_warning ("agent %s: cannot record it: %s", id, error->message);
  }

  wr_connection_set_agent_id (conn, id);
  if (!wr_agent_registry_attach (self->registry, conn, msg, &replaced)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "the gateway knows too many agents", NULL);
    wr_connection_close (conn, 1013 /* try again later */,
        "registry full");
    return;
  }
  if (replaced) {
    g_message ("agent %s reconnected; closing its previous connection", id);
    wr_connection_close (replaced, SOUP_WEBSOCKET_CLOSE_NORMAL, "replaced");
  }
  g_message ("agent %s (%s) online from %s", id,
      wr_message_get_string (msg, "name"),
      wr_connection_get_peer_address (conn));

  b = wr_message_new ("agent.welcome");
  wr_json_add_string (b, "version", WR_VERSION);
  send_built (conn, b);
  g_object_unref (b);
}

static void
agent_status (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  wr_agent_registry_set_pipelines (self->registry,
      wr_connection_get_agent_id (conn),
      json_object_get_array_member (msg, "pipelines"));
}

static void
agent_ping (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  send_pong (conn, msg);
}

static void
agent_ignore (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
}

/* The command @cid of the session @msg names, sent over @conn; NULL when
 * the agent speaks of something that is not its own. */
static PendingCommand *
agent_command (WrSignaling *self, WrConnection *conn, const char *cid,
    const char *sid, WrSession **session)
{
  PendingCommand *p = cid ? g_hash_table_lookup (self->commands, cid) : NULL;
  WrSession *s;

  if (!p || (sid && !g_str_equal (p->sid, sid)))
    return NULL;
  s = g_hash_table_lookup (self->sessions, p->sid);
  if (!s || s->agent != conn)
    return NULL;
  *session = s;
  return p;
}

/* A refused command: the agent's error goes to the viewer who asked. */
static gboolean
relay_command_error (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  static const char *const codes[] = { "forbidden", "invalid_field",
    "rate_limited", "not_found", "internal", NULL };
  const char *ref = wr_message_get_string (msg, "ref");
  const char *code = wr_message_get_string (msg, "code");
  WrSession *s = NULL;
  PendingCommand *p = agent_command (self, conn, ref, NULL, &s);
  JsonBuilder *b;

  if (!p)
    return FALSE;
  b = wr_message_new ("error");
  wr_json_add_string (b, "code",
      g_strv_contains (codes, code) ? code : "internal");
  wr_json_add_string (b, "message", wr_message_get_string (msg, "message"));
  wr_json_add_string (b, "ref", p->ref ? p->ref : ref);
  send_built (s->client, b);
  g_object_unref (b);
  g_message ("session %s: the agent refused command %s: %s", s->sid, ref,
      wr_message_get_string (msg, "message"));
  g_hash_table_remove (self->commands, ref);
  return TRUE;
}

static void
agent_error (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  if (relay_command_error (self, conn, msg))
    return;
  g_debug ("agent %s reported %s: %s", wr_connection_get_agent_id (conn),
      wr_message_get_string (msg, "code"),
      wr_message_get_string (msg, "message"));
}

static void
agent_command_output (WrSignaling *self, WrConnection *conn,
    JsonObject *msg)
{
  const char *cid = wr_message_get_string (msg, "cid");
  const char *stream = wr_message_get_string (msg, "stream");
  WrSession *s = NULL;
  JsonBuilder *b;

  if (!agent_command (self, conn, cid, wr_message_get_string (msg, "sid"),
          &s)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such command", wr_message_get_string (msg, "id"));
    return;
  }
  if (!g_str_equal (stream, "stdout") && !g_str_equal (stream, "stderr")) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field 'stream' must be stdout or stderr",
        wr_message_get_string (msg, "id"));
    return;
  }
  b = wr_message_new ("command.output");
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "cid", cid);
  wr_json_add_string (b, "stream", stream);
  wr_json_add_string (b, "data", wr_message_get_string (msg, "data"));
  send_built (s->client, b);
  g_object_unref (b);
}

static void
agent_command_exit (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  const char *cid = wr_message_get_string (msg, "cid");
  gint64 sig = wr_message_get_int (msg, "signal", 0);
  WrSession *s = NULL;
  PendingCommand *p;
  JsonObject *d;
  JsonBuilder *b;

  if (!(p = agent_command (self, conn, cid, wr_message_get_string (msg,
              "sid"), &s))) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such command", wr_message_get_string (msg, "id"));
    return;
  }
  d = json_object_new ();
  json_object_set_string_member (d, "cid", cid);
  if (p->name)
    json_object_set_string_member (d, "command", p->name);
  json_object_set_int_member (d, "status", wr_message_get_int (msg, "status",
          -1));
  json_object_set_int_member (d, "signal", sig);
  json_object_set_boolean_member (d, "timed_out", wr_message_get_bool (msg,
          "timed_out", FALSE));
  audit_event (self, "command.exit", WR_AUDIT_OK, s->user, s->agent_id, s->sid, NULL, d);
  b = wr_message_new ("command.exit");
  wr_json_add_string (b, "sid", s->sid);
  wr_json_add_string (b, "cid", cid);
  wr_json_add_int (b, "status", wr_message_get_int (msg, "status", -1));
  if (sig > 0) {
    wr_json_add_int (b, "signal", sig);
  }
  wr_json_add_bool (b, "timed_out",
      wr_message_get_bool (msg, "timed_out", FALSE));
  wr_json_add_bool (b, "truncated",
      wr_message_get_bool (msg, "truncated", FALSE));
  send_built (s->client, b);
  g_object_unref (b);
  g_message ("session %s: command %s exited with status %" G_GINT64_FORMAT,
      s->sid, cid, wr_message_get_int (msg, "status", -1));
  g_hash_table_remove (self->commands, cid);
}

static void
agent_relay (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);

  if (s && s->agent == conn)
    relay (s->client, msg);
}

static void
agent_session_ended (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);

  if (!s || s->agent != conn)
    return;
  if (s->is_recorder) {
    WrRecording *rec = g_hash_table_lookup (self->recordings, s->sid);
    if (rec && rec->state == WR_RECORDING_STOPPING)
      return;
    if (rec) {
      send_record_stop (rec, "the agent ended the recorder's session");
      recorder_lost (self, rec, "the agent ended the recorder's session");
    }
    return;
  }
  g_message ("session %s: ended by the agent: %s", s->sid,
      wr_message_get_string (msg, "reason"));
  send_session_ended (s->client, s->sid,
      wr_message_get_string (msg, "reason"));
  end_session (self, s, wr_message_get_string (msg, "reason"), NULL);
}

static void
agent_session_refused (WrSignaling *self, WrConnection *conn,
    JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);
  gint64 count = wr_message_get_int (msg, "count", 1);

  if (!s || s->agent != conn)
    return;
  s->input_refused += (guint64) count;
  g_message ("session %s: the agent refused %" G_GINT64_FORMAT " %s "
      "message(s) of %s: %s (%" G_GUINT64_FORMAT " in total)", s->sid, count,
      wr_message_get_string (msg, "what"), s->user,
      wr_message_get_string (msg, "reason"), s->input_refused);
}

static const HandlerEntry agent_handlers[] = {
  { "agent.hello", agent_hello },
  { "agent.status", agent_status },
  { "ping", agent_ping },
  { "pong", agent_ignore },
  { "error", agent_error },
  { "sdp.offer", agent_relay },
  { "ice.candidate", agent_relay },
  { "session.ended", agent_session_ended },
  { "session.refused", agent_session_refused },
  { "command.output", agent_command_output },
  { "command.exit", agent_command_exit },
};

static void
dispatch (WrSignaling *self, WrConnection *conn, JsonObject *msg,
    const HandlerEntry *table, gsize n)
{
  const char *type = wr_message_get_type (msg);

  for (gsize i = 0; i < n; i++) {
    if (g_str_equal (table[i].type, type)) {
      table[i].handler (self, conn, msg);
      return;
    }
  }
  /* valid on this channel but handled by nobody: a table mismatch */
  wr_connection_send_error (conn, WR_PROTOCOL_ERROR_UNKNOWN_TYPE,
      "message type not handled", wr_message_get_string (msg, "id"));
}

/* ---- recorder channel (docs/protocol.md, "Recorder channel") ---- */

static const char *
recorder_name (WrSignaling *self, WrConnection *conn)
{
  WrRecorderEntry *e = self->recorders
      ? wr_recorder_hub_lookup (self->recorders, conn) : NULL;

  return e ? e->name : "?";
}

/* The recording @msg names, when @conn records it. */
static WrRecording *
own_recording (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrRecording *rec = g_hash_table_lookup (self->recordings,
      wr_message_get_string (msg, "sid"));

  if (!rec || rec->recorder != conn) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such recording", wr_message_get_string (msg, "id"));
    return NULL;
  }
  return rec;
}

static void
recorder_hello (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrRecorderEntry *e = wr_recorder_hub_lookup (self->recorders, conn);
  g_autofree char *actor = NULL;
  JsonObject *d;
  JsonBuilder *b;

  if (e->ready) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "recorder.hello was already received",
        wr_message_get_string (msg, "id"));
    return;
  }
  actor = g_strdup_printf ("recorder:%s", e->name);
  d = json_object_new ();
  json_object_set_string_member (d, "name", e->name);
  json_object_set_string_member (d, "version",
      wr_message_get_string (msg, "version"));
  if (!audit_event (self, "recorder.connected", WR_AUDIT_OK, actor, NULL,
          NULL, wr_connection_get_peer_address (conn), d)) {
    wr_connection_close (conn, 1013, "audit unavailable");
    return;
  }
  e->ready = TRUE;
  g_message ("recorder %s (%s) connected from %s", e->name,
      wr_message_get_string (msg, "version"),
      wr_connection_get_peer_address (conn));
  b = wr_message_new ("recorder.welcome");
  wr_json_add_string (b, "name", e->name);
  wr_json_add_string (b, "version", WR_VERSION);
  send_built (conn, b);
  g_object_unref (b);
  resume_recordings (self);
}

static void
recorder_ping (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  send_pong (conn, msg);
}

static void
recorder_error (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  g_message ("recorder %s reported %s: %s", recorder_name (self, conn),
      wr_message_get_string (msg, "code"),
      wr_message_get_string (msg, "message"));
}

static void
recorder_relay (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);

  if (s && s->client == conn && s->is_recorder)
    relay (s->agent, msg);
}

static void
recorder_started (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrRecording *rec = own_recording (self, conn, msg);
  const char *codec = wr_message_get_string (msg, "codec");
  const char *container = wr_message_get_string (msg, "container");
  g_autoptr (GError) error = NULL;
  WrSession *s;
  JsonObject *d;

  if (!rec)
    return;
  /* Once per recording; also when the session ended (record.stop on its
   * way) before the recorder got its first keyframe: its segments follow
   * and the audit log says what they are. */
  if (rec->media || (rec->state != WR_RECORDING_STARTING
          && rec->state != WR_RECORDING_STOPPING))
    return;
  rec->media = TRUE;
  if (!wr_store_recording_set_format (self->store, rec->id, codec,
          container, &error))
    g_warning ("recording %s: cannot store its format: %s", rec->id,
        error->message);
  d = json_object_new ();
  json_object_set_string_member (d, "recording", rec->id);
  json_object_set_string_member (d, "recorder", rec->recorder_name);
  json_object_set_string_member (d, "codec", codec);
  json_object_set_string_member (d, "container", container);
  if (!audit_event (self, "recording.started", WR_AUDIT_OK, "system",
          rec->agent_id, rec->session, NULL, d)) {
    if (rec->state != WR_RECORDING_STOPPING)
      send_record_stop (rec, "audit unavailable");
    recorder_lost (self, rec, "audit unavailable");
    return;
  }
  if (rec->state == WR_RECORDING_STOPPING)
    return;
  rec->state = WR_RECORDING_ON;
  g_message ("recording %s: started (%s in %s)", rec->id, codec, container);
  s = g_hash_table_lookup (self->sessions, rec->session);
  if (!s)
    return;
  if (s->held_start)
    release_hold (self, s);
  send_session_recording (s, "on", NULL);
}

static void
recorder_segment (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrRecording *rec = own_recording (self, conn, msg);
  const char *file = wr_message_get_string (msg, "file");
  g_autoptr (GError) error = NULL;
  WrStoredSegment seg = { 0 };
  JsonObject *d;

  if (!rec)
    return;
  if (!wr_recording_file_name_is_valid (file)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field 'file' must be segment-NNNNN.mp4 or .webm",
        wr_message_get_string (msg, "id"));
    return;
  }
  seg.index = wr_message_get_int (msg, "index", 0);
  seg.file = (char *) file;
  seg.size = wr_message_get_int (msg, "size", 0);
  seg.sha256 = (char *) wr_message_get_string (msg, "sha256");
  seg.start_ms = wr_message_get_int (msg, "start_ms", 0);
  seg.end_ms = wr_message_get_int (msg, "end_ms", 0);
  if (!wr_store_recording_add_segment (self->store, rec->id, &seg, &error)) {
    g_warning ("recording %s: cannot store segment %" G_GINT64_FORMAT
        ": %s", rec->id, seg.index, error->message);
    return;
  }
  d = json_object_new ();
  json_object_set_string_member (d, "recording", rec->id);
  json_object_set_int_member (d, "index", seg.index);
  json_object_set_string_member (d, "file", file);
  json_object_set_int_member (d, "size", seg.size);
  json_object_set_string_member (d, "sha256", seg.sha256);
  json_object_set_boolean_member (d, "partial", FALSE);
  audit_event (self, "recording.segment", WR_AUDIT_OK, "system",
      rec->agent_id, rec->session, NULL, d);
}

static void
recorder_stopped (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrRecording *rec = own_recording (self, conn, msg);

  if (rec)
    finish_recording (self, rec, rec->state == WR_RECORDING_STOPPING
        ? "complete" : "interrupted", rec->state != WR_RECORDING_STOPPING);
}

static void
recorder_failed (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrRecording *rec = own_recording (self, conn, msg);

  if (rec)
    recorder_lost (self, rec, wr_message_get_string (msg, "reason"));
}

static const HandlerEntry recorder_handlers[] = {
  { "recorder.hello", recorder_hello },
  { "ping", recorder_ping },
  { "error", recorder_error },
  { "sdp.answer", recorder_relay },
  { "ice.candidate", recorder_relay },
  { "record.started", recorder_started },
  { "record.segment", recorder_segment },
  { "record.stopped", recorder_stopped },
  { "record.failed", recorder_failed },
};

static void
on_recorder_message (WrConnection *conn, JsonObject *msg, gpointer user_data)
{
  WrSignaling *self = user_data;
  WrRecorderEntry *e = wr_recorder_hub_lookup (self->recorders, conn);

  if (!e)
    return;
  if (!e->ready && !g_str_equal (wr_message_get_type (msg),
          "recorder.hello")) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "the first message must be recorder.hello",
        wr_message_get_string (msg, "id"));
    return;
  }
  dispatch (self, conn, msg, recorder_handlers,
      G_N_ELEMENTS (recorder_handlers));
}

static void
on_recorder_closed (WrConnection *conn, gpointer user_data)
{
  WrSignaling *self = user_data;
  WrRecorderEntry *e = wr_recorder_hub_lookup (self->recorders, conn);
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *actor = NULL;
  GHashTableIter iter;
  WrRecording *rec;

  if (e) {
    actor = g_strdup_printf ("recorder:%s", e->name);
    if (e->ready) {
      JsonObject *d = json_object_new ();
      json_object_set_string_member (d, "name", e->name);
      audit_event (self, "recorder.disconnected", WR_AUDIT_OK, actor, NULL,
          NULL, wr_connection_get_peer_address (conn), d);
      g_message ("recorder %s disconnected", e->name);
    }
  }
  g_hash_table_iter_init (&iter, self->recordings);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &rec))
    if (rec->recorder == conn)
      g_ptr_array_add (ids, g_strdup (rec->id));
  /* gone from the hub first: it is not picked to resume its own work */
  if (e)
    wr_recorder_hub_remove (self->recorders, conn);
  for (guint i = 0; i < ids->len; i++) {
    rec = g_hash_table_lookup (self->recordings, g_ptr_array_index (ids, i));
    if (rec)
      recorder_lost (self, rec, "the recorder disconnected");
  }
  g_hash_table_remove (self->recorder_conns, conn);
}

void
wr_signaling_add_recorder (WrSignaling *self, WrConnection *conn,
    const char *name)
{
  g_return_if_fail (self->recorders != NULL);
  g_hash_table_add (self->recorder_conns, g_object_ref (conn));
  wr_recorder_hub_add (self->recorders, conn, name);
  wr_connection_set_handlers (conn, on_recorder_message, on_recorder_closed,
      self);
}

void
wr_signaling_set_audit (WrSignaling *self, WrAudit *audit)
{
  self->audit = audit;
}

void
wr_signaling_set_recording (WrSignaling *self, WrRecorderHub *recorders,
    const char *dir, gint64 segment_seconds, gint64 start_timeout)
{
  self->recorders = recorders;
  g_free (self->recording_dir);
  self->recording_dir = g_strdup (dir);
  self->segment_seconds = segment_seconds > 0 ? segment_seconds : 300;
  self->start_timeout = start_timeout > 0 ? start_timeout : 10;
}

static void
on_client_message (WrConnection *conn, JsonObject *msg, gpointer user_data)
{
  dispatch (user_data, conn, msg, client_handlers,
      G_N_ELEMENTS (client_handlers));
}

static void
on_agent_message (WrConnection *conn, JsonObject *msg, gpointer user_data)
{
  WrSignaling *self = user_data;

  if (!wr_connection_get_agent_id (conn)
      && !g_str_equal (wr_message_get_type (msg), "agent.hello")) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "the first message must be agent.hello",
        wr_message_get_string (msg, "id"));
    return;
  }
  dispatch (self, conn, msg, agent_handlers, G_N_ELEMENTS (agent_handlers));
}

static void
on_client_closed (WrConnection *conn, gpointer user_data)
{
  WrSignaling *self = user_data;
  GHashTableIter iter;
  WrSession *s;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s)) {
    if (s->client != conn)
      continue;
    g_message ("session %s: the viewer disconnected", s->sid);
    send_session_end (s->agent, s->sid, "viewer disconnected");
    end_session (self, s, "viewer disconnected", &iter);
  }
  g_hash_table_remove (self->clients, conn);
}

static void
on_agent_closed (WrConnection *conn, gpointer user_data)
{
  WrSignaling *self = user_data;
  GHashTableIter iter;
  WrSession *s;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s)) {
    if (s->agent != conn || s->is_recorder)
      continue;
    send_session_ended (s->client, s->sid, "agent disconnected");
    end_session (self, s, "agent disconnected", &iter);
  }
  if (wr_agent_registry_detach (self->registry, conn))
    g_message ("agent %s offline", wr_connection_get_agent_id (conn));
  g_hash_table_remove (self->agents, conn);
}

void
wr_signaling_disconnect_user (WrSignaling *self, const char *user,
    const char *reason)
{
  g_autoptr (GPtrArray) victims = g_ptr_array_new_with_free_func (
      g_object_unref);
  GHashTableIter iter;
  WrConnection *conn;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, (gpointer *) &conn, NULL)) {
    const WrPrincipal *p = wr_connection_get_principal (conn);
    if (p && g_strcmp0 (p->name, user) == 0)
      g_ptr_array_add (victims, g_object_ref (conn));
  }
  /* closing ends their sessions through on_client_closed */
  for (guint i = 0; i < victims->len; i++)
    wr_connection_close (g_ptr_array_index (victims, i),
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
}

WrSignaling *
wr_signaling_new (WrAgentRegistry *registry, WrAuth *auth, WrStore *store)
{
  WrSignaling *self = g_new0 (WrSignaling, 1);

  self->registry = registry;
  self->store = store;
  self->auth = g_object_ref (auth);
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) wr_session_free);
  self->clients = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->agents = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  self->commands = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      pending_command_free);
  self->command_seq = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  self->recorder_conns = g_hash_table_new_full (NULL, NULL, g_object_unref,
      NULL);
  self->recordings = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) wr_recording_free);
  self->recording_dir = g_strdup ("recordings");
  self->segment_seconds = 300;
  self->start_timeout = 10;
  self->stop_timeout = 10;
  return self;
}

void
wr_signaling_free (WrSignaling *self)
{
  GHashTableIter iter;
  WrConnection *conn;

  if (!self)
    return;
  g_clear_handle_id (&self->renew_id, g_source_remove);
  g_hash_table_remove_all (self->sessions);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, (gpointer *) &conn, NULL))
    wr_connection_set_handlers (conn, NULL, NULL, NULL);
  g_hash_table_iter_init (&iter, self->agents);
  while (g_hash_table_iter_next (&iter, (gpointer *) &conn, NULL))
    wr_connection_set_handlers (conn, NULL, NULL, NULL);
  g_hash_table_iter_init (&iter, self->recorder_conns);
  while (g_hash_table_iter_next (&iter, (gpointer *) &conn, NULL))
    wr_connection_set_handlers (conn, NULL, NULL, NULL);
  g_hash_table_unref (self->recordings);
  g_hash_table_unref (self->recorder_conns);
  g_free (self->recording_dir);
  g_hash_table_unref (self->sessions);
  g_hash_table_unref (self->clients);
  g_hash_table_unref (self->agents);
  g_hash_table_unref (self->commands);
  g_hash_table_unref (self->command_seq);
  g_object_unref (self->auth);
  g_free (self);
}

void
wr_signaling_add_client (WrSignaling *self, WrConnection *conn)
{
  const WrPrincipal *user = wr_connection_get_principal (conn);
  JsonBuilder *b;

  g_hash_table_add (self->clients, g_object_ref (conn));
  wr_connection_set_handlers (conn, on_client_message, on_client_closed, self);

  b = wr_message_new ("welcome");
  wr_json_add_string (b, "user", user ? user->name : "?");
  wr_json_add_string (b, "version", WR_VERSION);
  send_built (conn, b);
  g_object_unref (b);
}

void
wr_signaling_add_agent (WrSignaling *self, WrConnection *conn,
    const char *bound_agent_id)
{
  g_return_if_fail (bound_agent_id && *bound_agent_id);
  g_hash_table_insert (self->agents, g_object_ref (conn),
      g_strdup (bound_agent_id));
  wr_connection_set_handlers (conn, on_agent_message, on_agent_closed, self);
}

guint
wr_signaling_get_session_count (WrSignaling *self)
{
  return g_hash_table_size (self->sessions);
}

/* One timer renews every live session's grant, well before it expires. */
typedef enum {
  RECHECK_OK,       /* still allowed; s->scopes may have narrowed */
  RECHECK_REVOKED,  /* the user is gone, disabled, or lost view */
  RECHECK_UNKNOWN,  /* the store did not answer */
} Recheck;

/* Before each renewal, the user's permissions are read again, so that a
 * change made anywhere (another gateway, webremotectl) reaches live
 * sessions within one renewal interval: scopes only ever narrow. */
static Recheck
recheck_session (WrSignaling *self, WrSession *s)
{
  const WrPrincipal *user = wr_connection_get_principal (s->client);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) stored = NULL;
  g_autofree char *old_text = NULL;
  WrPermission allowed = WR_PERM_NONE, had = WR_PERM_NONE, now;

  if (!self->store || !user)
    return RECHECK_UNKNOWN;
  stored = wr_store_user_get_by_id (self->store, user->user_id, &error);
  if (!stored) {
    return g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND)
        ? RECHECK_REVOKED : RECHECK_UNKNOWN;
  }
  if (stored->disabled)
    return RECHECK_REVOKED;
  if (!wr_rbac_agent_permissions (self->store, user, s->agent_id, &allowed,
          NULL, &error)) {
    return g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND)
        ? RECHECK_REVOKED : RECHECK_UNKNOWN;
  }
  old_text = g_strjoinv (" ", s->scopes);
  if (!wr_permissions_from_string (old_text, &had, NULL))
    return RECHECK_REVOKED;
  /* `record` comes from the recording policy, not from the user */
  if (s->recording_mode != WR_RECORDING_MODE_OFF)
    allowed |= WR_PERM_RECORD;
  now = had & allowed;
  if (!(now & WR_PERM_VIEW))
    return RECHECK_REVOKED;
  if (now != had) {
    g_message ("session %s: scopes narrowed by a permission change",
        s->sid);
    if ((had & WR_PERM_CONTROL) && !(now & WR_PERM_CONTROL))
      audit_event (self, "control.taken", WR_AUDIT_OK, "system", s->agent_id,
          s->sid, NULL, NULL);
    g_strfreev (s->scopes);
    s->scopes = wr_permissions_to_strv (now);
  }
  return RECHECK_OK;
}

static gboolean
renew_grants (gpointer user_data)
{
  WrSignaling *self = user_data;
  GHashTableIter iter;
  WrSession *s;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s)) {
    g_autofree char *grant = NULL;
    JsonBuilder *b;

    /* A recorder's session lives as long as the one it records. */
    switch (s->is_recorder ? RECHECK_OK : recheck_session (self, s)) {
      case RECHECK_REVOKED:
        g_message ("session %s: %s lost access to %s; ending it", s->sid,
            s->user, s->agent_id);
        send_session_end (s->agent, s->sid, "access revoked");
        send_session_ended (s->client, s->sid, "access revoked");
        end_session (self, s, "access revoked", &iter);
        continue;
      case RECHECK_UNKNOWN:
        /* Fail closed: no renewal; the agent ends the session when its
         * grant runs out unless the store answers before then. */
        continue;
      case RECHECK_OK:
        break;
    }

    /* Without a new grant the agent ends the session when the last one
     * expires; nothing else to do here. */
    grant = issue_grant (self, s);
    if (!grant)
      continue;
    b = wr_message_new ("session.grant");
    wr_json_add_string (b, "sid", s->sid);
    wr_json_add_string (b, "grant", grant);
    send_built (s->agent, b);
    g_object_unref (b);
  }
  return G_SOURCE_CONTINUE;
}

void
wr_signaling_set_grant_signer (WrSignaling *self, WrGrantSigner *signer)
{
  self->signer = signer;
  g_clear_handle_id (&self->renew_id, g_source_remove);
  if (signer)
    self->renew_id = g_timeout_add_seconds (WR_GRANT_RENEW_INTERVAL_S,
        renew_grants, self);
}

JsonNode *
wr_signaling_sessions_to_json (WrSignaling *self, const char *user)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GList) values = g_hash_table_get_values (self->sessions);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  for (GList *l = values; l; l = l->next) {
    WrSession *s = l->data;

    if (s->is_recorder || (user && g_strcmp0 (user, s->user) != 0))
      continue;
    json_builder_begin_object (b);
    wr_json_add_string (b, "sid", s->sid);
    wr_json_add_string (b, "user", s->user);
    wr_json_add_string (b, "agent", s->agent_id);
    wr_json_add_string (b, "display", s->display);
    wr_json_add_strv (b, "scopes", (const char *const *) s->scopes);
    json_builder_set_member_name (b, "reason");
    if (s->reason)
      json_builder_add_string_value (b, s->reason);
    else
      json_builder_add_null_value (b);
    wr_json_add_int (b, "started_at", s->created);
    wr_json_add_int (b, "grant_expires_at", s->grant_expires);
    wr_json_add_int (b, "input_refused",
        (gint64) MIN (s->input_refused, (guint64) G_MAXINT64));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
