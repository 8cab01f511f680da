/* webremote: the signaling relay between viewers and agents. */
#include "config.h"

#include "gateway/signaling.h"

#include <string.h>

#include "common/command-envelope.h"
#include "common/crypto.h"
#include "common/protocol.h"
#include "gateway/rbac.h"
#include "gateway/session.h"

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
};

/* Commands in flight per session: more are refused until one exits. */
#define WR_SIGNALING_MAX_COMMANDS_PER_SESSION 4

/* A command the gateway signed and sent: where its output goes. */
typedef struct {
  char *sid;
  char *ref;    /* the id of the client's command.run, or NULL */
} PendingCommand;

static void
pending_command_free (gpointer data)
{
  PendingCommand *p = data;

  g_free (p->sid);
  g_free (p->ref);
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
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_strv (JsonBuilder *b, const char *name, const char *const *values)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (; values && *values; values++)
    json_builder_add_string_value (b, *values);
  json_builder_end_array (b);
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

  add_string (b, "sid", sid);
  add_string (b, "reason", reason);
  send_built (conn, b);
  g_object_unref (b);
}

static void
send_session_end (WrConnection *conn, const char *sid, const char *reason)
{
  JsonBuilder *b = wr_message_new ("session.end");

  add_string (b, "sid", sid);
  add_string (b, "reason", reason);
  send_built (conn, b);
  g_object_unref (b);
}

static void
send_pong (WrConnection *conn, JsonObject *msg)
{
  JsonBuilder *b = wr_message_new ("pong");
  const char *id = wr_message_get_string (msg, "id");

  if (id)
    add_string (b, "ref", id);
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

  add_string (b, "sid", wr_message_get_string (msg, "sid"));
  if (g_str_equal (type, "ice.candidate")) {
    add_string (b, "candidate", wr_message_get_string (msg, "candidate"));
    json_builder_set_member_name (b, "sdp_mline_index");
    json_builder_add_int_value (b,
        wr_message_get_int (msg, "sdp_mline_index", 0));
  } else {
    add_string (b, "sdp", wr_message_get_string (msg, "sdp"));
  }
  send_built (to, b);
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

  if (self->store && !wr_store_session_end (self->store, s->sid, reason,
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
  g_auto (GStrv) scopes = NULL;
  const char *unknown = NULL;
  WrPermission allowed = WR_PERM_NONE, granted;
  WrAgentRecord *agent;
  WrSession *s;
  JsonBuilder *b;

  agent = wr_agent_registry_lookup (self->registry, agent_id);
  /* Permissions first: an agent the user may not view does not exist for
   * them, online or not. Fail closed when the store cannot tell. */
  if (!user || !self->store || !wr_rbac_agent_permissions (self->store, user,
          agent_id, &allowed, &stored, &error)) {
    if (error && !g_error_matches (error, WR_STORE_ERROR,
            WR_STORE_ERROR_NOT_FOUND)) {
      g_warning ("session request: the store failed: %s", error->message);
      wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INTERNAL,
          "cannot open a session now", ref);
    } else {
      wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
          "no such agent", ref);
    }
    return;
  }
  if (!(allowed & WR_PERM_VIEW)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such agent", ref);
    return;
  }
  if (!agent || !agent->conn) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_AGENT_OFFLINE,
        "the agent is not connected", ref);
    return;
  }
  if (!display)
    display = wr_agent_record_default_display (agent);
  if (!display || !wr_agent_record_has_display (agent, display)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "the agent has no such display", ref);
    return;
  }

  granted = wr_rbac_grant_scopes (requested, allowed, &unknown);
  if (unknown) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field 'scopes' names an unknown scope", ref);
    return;
  }
  if (!(granted & WR_PERM_VIEW)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "a session needs the view scope", ref);
    return;
  }
  if (stored->require_reason && (!reason || !*g_strstrip (
              g_strdup (reason)))) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_REASON_REQUIRED,
        "this machine's group asks for a reason or ticket for each session",
        ref);
    return;
  }

  if (count_client_sessions (self, conn)
      >= WR_SIGNALING_MAX_SESSIONS_PER_CLIENT) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_FORBIDDEN,
        "too many sessions on this connection", ref);
    return;
  }

  scopes = wr_permissions_to_strv (granted);
  s = wr_session_new (user->name, agent->id, display,
      (const char *const *) scopes, conn, agent->conn);
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
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_INTERNAL,
        "cannot open a session now", ref);
    return;
  }
  s->reason = g_strdup (reason);
  g_hash_table_insert (self->sessions, s->sid, s);
  g_message ("session %s: %s opened %s display %s with %s", s->sid, s->user,
      s->agent_id, s->display, scope_text);

  b = wr_message_new ("session.granted");
  if (ref)
    add_string (b, "ref", ref);
  add_string (b, "sid", s->sid);
  add_string (b, "agent", s->agent_id);
  add_string (b, "display", s->display);
  add_strv (b, "scopes", (const char *const *) s->scopes);
  add_ice_servers (b);
  send_built (conn, b);
  g_object_unref (b);

  b = wr_message_new ("session.start");
  add_string (b, "sid", s->sid);
  add_string (b, "display", s->display);
  add_string (b, "user", s->user);
  add_strv (b, "scopes", (const char *const *) s->scopes);
  add_ice_servers (b);
  add_string (b, "grant", grant);
  send_built (s->agent, b);
  g_object_unref (b);
}

static void
client_relay (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  WrSession *s = lookup_session (self, conn, msg);

  if (s && s->client == conn)
    relay (s->agent, msg);
  else if (s)
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

  p = g_new0 (PendingCommand, 1);
  p->sid = g_strdup (s->sid);
  p->ref = g_strdup (ref);
  g_hash_table_insert (self->commands, g_strdup (cid), p);
  /* Arguments are not logged: they may hold anything. */
  g_message ("session %s: %s runs command %s (%s, %u argument(s))", s->sid,
      s->user, name, cid, argv->len - 1);

  b = wr_message_new ("command.exec");
  add_string (b, "id", cid);
  add_string (b, "sid", s->sid);
  add_string (b, "envelope", token);
  send_built (s->agent, b);
  g_object_unref (b);

  b = wr_message_new ("command.accepted");
  if (ref)
    add_string (b, "ref", ref);
  add_string (b, "sid", s->sid);
  add_string (b, "cid", cid);
  add_string (b, "command", name);
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
  add_string (b, "version", WR_VERSION);
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
  add_string (b, "code", g_strv_contains (codes, code) ? code : "internal");
  add_string (b, "message", wr_message_get_string (msg, "message"));
  add_string (b, "ref", p->ref ? p->ref : ref);
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
  add_string (b, "sid", s->sid);
  add_string (b, "cid", cid);
  add_string (b, "stream", stream);
  add_string (b, "data", wr_message_get_string (msg, "data"));
  send_built (s->client, b);
  g_object_unref (b);
}

static void
agent_command_exit (WrSignaling *self, WrConnection *conn, JsonObject *msg)
{
  const char *cid = wr_message_get_string (msg, "cid");
  gint64 sig = wr_message_get_int (msg, "signal", 0);
  WrSession *s = NULL;
  JsonBuilder *b;

  if (!agent_command (self, conn, cid, wr_message_get_string (msg, "sid"),
          &s)) {
    wr_connection_send_error (conn, WR_PROTOCOL_ERROR_NOT_FOUND,
        "no such command", wr_message_get_string (msg, "id"));
    return;
  }
  b = wr_message_new ("command.exit");
  add_string (b, "sid", s->sid);
  add_string (b, "cid", cid);
  json_builder_set_member_name (b, "status");
  json_builder_add_int_value (b, wr_message_get_int (msg, "status", -1));
  if (sig > 0) {
    json_builder_set_member_name (b, "signal");
    json_builder_add_int_value (b, sig);
  }
  json_builder_set_member_name (b, "timed_out");
  json_builder_add_boolean_value (b, wr_message_get_bool (msg, "timed_out",
          FALSE));
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, wr_message_get_bool (msg, "truncated",
          FALSE));
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
    if (s->agent != conn)
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
  add_string (b, "user", user ? user->name : "?");
  add_string (b, "version", WR_VERSION);
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
  now = had & allowed;
  if (!(now & WR_PERM_VIEW))
    return RECHECK_REVOKED;
  if (now != had) {
    g_message ("session %s: scopes narrowed by a permission change",
        s->sid);
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

    switch (recheck_session (self, s)) {
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
    add_string (b, "sid", s->sid);
    add_string (b, "grant", grant);
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

    if (user && g_strcmp0 (user, s->user) != 0)
      continue;
    json_builder_begin_object (b);
    add_string (b, "sid", s->sid);
    add_string (b, "user", s->user);
    add_string (b, "agent", s->agent_id);
    add_string (b, "display", s->display);
    add_strv (b, "scopes", (const char *const *) s->scopes);
    json_builder_set_member_name (b, "reason");
    if (s->reason)
      json_builder_add_string_value (b, s->reason);
    else
      json_builder_add_null_value (b);
    json_builder_set_member_name (b, "started_at");
    json_builder_add_int_value (b, s->created);
    json_builder_set_member_name (b, "grant_expires_at");
    json_builder_add_int_value (b, s->grant_expires);
    json_builder_set_member_name (b, "input_refused");
    json_builder_add_int_value (b, (gint64) MIN (s->input_refused,
            (guint64) G_MAXINT64));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
