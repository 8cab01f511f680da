/* webremote: signaling and DataChannel message validation table. */
#include "config.h"

#include "common/protocol.h"

#include <string.h>

G_DEFINE_QUARK (wr-protocol-error-quark, wr_protocol_error)

typedef enum {
  FIELD_STRING,
  FIELD_INT,
  FIELD_BOOL,
  FIELD_ARRAY,
  FIELD_OBJECT,
} FieldKind;

typedef struct _FieldSpec FieldSpec;

/* One field of a message or of a nested object.
 * STRING: length in bytes within [min, max].
 * INT: value within [min, max].
 * ARRAY: at most max items, each of kind elem (STRING: at most elem_max
 *   bytes; OBJECT: checked against fields).
 * OBJECT: checked against fields, or any object when fields is NULL. */
struct _FieldSpec {
  const char *name;
  FieldKind kind;
  gboolean required;
  gint64 min;
  gint64 max;
  FieldKind elem;
  gint64 elem_max;
  const FieldSpec *fields;
};

typedef struct {
  const char *type;
  guint channels;
  const FieldSpec *fields;
} MessageSpec;

#define END { NULL }
#define STR(n, req, lo, hi) { n, FIELD_STRING, req, lo, hi }
#define INT(n, req, lo, hi) { n, FIELD_INT, req, lo, hi }
#define BOOL(n, req) { n, FIELD_BOOL, req }
#define STR_ARRAY(n, req, items, len) \
  { n, FIELD_ARRAY, req, 0, items, FIELD_STRING, len }
#define OBJ_ARRAY(n, req, items, f) \
  { n, FIELD_ARRAY, req, 0, items, FIELD_OBJECT, 0, f }

#define ID_LEN 64
#define SDP_LEN 60000
#define GRANT_LEN 4096 /* WR_GRANT_MAX_TOKEN_SIZE */

enum {
  C2G = WR_CHANNEL_CLIENT_TO_GATEWAY,
  G2C = WR_CHANNEL_GATEWAY_TO_CLIENT,
  A2G = WR_CHANNEL_AGENT_TO_GATEWAY,
  G2A = WR_CHANNEL_GATEWAY_TO_AGENT,
  P2A = WR_CHANNEL_PEER_TO_AGENT,
  A2P = WR_CHANNEL_AGENT_TO_PEER,
  R2G = WR_CHANNEL_RECORDER_TO_GATEWAY,
  G2R = WR_CHANNEL_GATEWAY_TO_RECORDER,
};

static const FieldSpec no_fields[] = { END };

static const FieldSpec error_fields[] = {
  STR ("code", TRUE, 1, 64),
  STR ("message", TRUE, 0, 1024),
  STR ("ref", FALSE, 0, ID_LEN),
  END
};

static const FieldSpec welcome_fields[] = {
  STR ("user", TRUE, 1, 128),
  STR ("version", TRUE, 1, 32),
  END
};

static const FieldSpec agent_welcome_fields[] = {
  STR ("version", TRUE, 1, 32),
  END
};

static const FieldSpec session_request_fields[] = {
  STR ("agent", TRUE, 1, ID_LEN),
  STR ("display", FALSE, 1, 32),
  STR_ARRAY ("scopes", FALSE, 16, 32),
  STR ("reason", FALSE, 0, 512),
  END
};

static const FieldSpec session_granted_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("agent", TRUE, 1, ID_LEN),
  STR ("display", TRUE, 1, 32),
  STR_ARRAY ("scopes", TRUE, 16, 32),
  OBJ_ARRAY ("ice_servers", TRUE, 8, NULL),
  /* The session is recorded (the viewer shows it); session.recording
   * tells of changes. */
  BOOL ("recording", FALSE),
  END
};

static const FieldSpec session_start_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("display", TRUE, 1, 32),
  STR ("user", TRUE, 1, 128),
  STR_ARRAY ("scopes", TRUE, 16, 32),
  OBJ_ARRAY ("ice_servers", TRUE, 8, NULL),
  /* The signed grant (common/grant.h); the agent takes the scopes from
   * it, never from the fields above. */
  STR ("grant", TRUE, 1, GRANT_LEN),
  END
};

static const FieldSpec session_grant_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("grant", TRUE, 1, GRANT_LEN),
  END
};

static const FieldSpec session_refused_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("what", TRUE, 1, 32),
  STR ("reason", TRUE, 0, 256),
  INT ("count", TRUE, 1, G_MAXINT32),
  END
};

static const FieldSpec session_end_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("reason", FALSE, 0, 256),
  END
};

static const FieldSpec sdp_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("sdp", TRUE, 1, SDP_LEN),
  END
};

static const FieldSpec ice_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  /* An empty candidate marks the end of candidates (RFC 8838 section 13). */
  STR ("candidate", TRUE, 0, 1024),
  INT ("sdp_mline_index", TRUE, 0, 63),
  END
};

static const FieldSpec display_fields[] = {
  STR ("name", TRUE, 1, 32),
  INT ("width", TRUE, 1, 16384),
  INT ("height", TRUE, 1, 16384),
  END
};

static const FieldSpec agent_hello_fields[] = {
  STR ("agent", TRUE, 1, ID_LEN),
  STR ("name", TRUE, 1, 128),
  STR ("version", TRUE, 1, 32),
  OBJ_ARRAY ("displays", TRUE, 16, display_fields),
  STR_ARRAY ("encoders", TRUE, 32, 64),
  /* Optional (issue #6): the profiles of the agent's profiles file and
   * the one new capture pipelines use. */
  STR_ARRAY ("profiles", FALSE, 64, 64),
  STR ("profile", FALSE, 1, 64),
  END
};

static const FieldSpec pipeline_fields[] = {
  STR ("display", TRUE, 1, 32),
  STR ("encoder", TRUE, 1, 64),
  INT ("peers", TRUE, 0, 10000),
  END
};

static const FieldSpec agent_status_fields[] = {
  OBJ_ARRAY ("pipelines", TRUE, 16, pipeline_fields),
  END
};

/* Input coordinates are video pixels; the agent checks them against the
 * current video size and answers out_of_range. */
static const FieldSpec pointer_move_fields[] = {
  INT ("x", TRUE, G_MININT32, G_MAXINT32),
  INT ("y", TRUE, G_MININT32, G_MAXINT32),
  END
};

static const FieldSpec pointer_button_fields[] = {
  INT ("button", TRUE, 1, 9),
  BOOL ("down", TRUE),
  INT ("x", FALSE, G_MININT32, G_MAXINT32),
  INT ("y", FALSE, G_MININT32, G_MAXINT32),
  END
};

static const FieldSpec pointer_wheel_fields[] = {
  INT ("dx", TRUE, -100, 100),
  INT ("dy", TRUE, -100, 100),
  END
};

/* Pipeline profiles on the "input" DataChannel (docs/protocol.md,
 * "Profiles"): the viewer switches its display's profile live. */
static const FieldSpec profile_set_fields[] = {
  STR ("profile", TRUE, 1, 64),
  END
};

static const FieldSpec profile_changed_fields[] = {
  STR ("profile", TRUE, 1, 64),
  STR ("encoder", TRUE, 1, 64),
  STR ("codec", TRUE, 1, 16),      /* "H264", "VP8", "VP9" */
  END
};

static const FieldSpec profiles_fields[] = {
  STR_ARRAY ("available", TRUE, 64, 64),
  STR ("active", TRUE, 1, 64),
  STR ("encoder", FALSE, 1, 64),
  STR ("codec", FALSE, 1, 16),
  END
};

static const FieldSpec key_fields[] = {
  STR ("code", TRUE, 1, 32),
  BOOL ("down", TRUE),
  END
};

/* Commands (docs/protocol.md, "Commands"; docs/security.md). */
#define COMMAND_ENVELOPE_LEN 60000 /* WR_COMMAND_MAX_TOKEN_SIZE */

static const FieldSpec command_run_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("command", TRUE, 1, 64),
  STR_ARRAY ("args", FALSE, 32, 1024),
  END
};

static const FieldSpec command_accepted_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("cid", TRUE, 1, ID_LEN),
  STR ("command", TRUE, 1, 64),
  END
};

static const FieldSpec command_exec_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("envelope", TRUE, 1, COMMAND_ENVELOPE_LEN),
  END
};

static const FieldSpec command_output_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("cid", TRUE, 1, ID_LEN),
  STR ("stream", TRUE, 6, 6),   /* "stdout" | "stderr", checked by users */
  STR ("data", TRUE, 0, 16384),
  END
};

static const FieldSpec command_exit_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("cid", TRUE, 1, ID_LEN),
  INT ("status", TRUE, -1, 255),
  INT ("signal", FALSE, 1, 64),
  BOOL ("timed_out", TRUE),
  BOOL ("truncated", TRUE),
  END
};

/* Recording (docs/protocol.md, "Recorder channel"). `sid` is the
 * recording's own id: the recorder's receive-only session with the agent;
 * `session` the viewer's session it records. */
static const FieldSpec recorder_hello_fields[] = {
  STR ("name", TRUE, 1, 128),
  STR ("version", TRUE, 1, 32),
  END
};

static const FieldSpec recorder_welcome_fields[] = {
  STR ("name", TRUE, 1, 128),
  STR ("version", TRUE, 1, 32),
  END
};

static const FieldSpec record_start_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("session", TRUE, 1, ID_LEN),
  STR ("agent", TRUE, 1, ID_LEN),
  STR ("display", TRUE, 1, 32),
  INT ("segment_seconds", TRUE, 1, 86400),
  OBJ_ARRAY ("ice_servers", TRUE, 8, NULL),
  END
};

static const FieldSpec record_started_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("codec", TRUE, 1, 32),      /* "H264", "VP8", "VP9" */
  STR ("container", TRUE, 1, 16),  /* "mp4", "webm" */
  END
};

static const FieldSpec record_segment_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  INT ("index", TRUE, 0, 1000000),
  STR ("file", TRUE, 1, 128),
  INT ("size", TRUE, 0, G_MAXINT64),
  STR ("sha256", TRUE, 64, 64),
  INT ("start_ms", TRUE, 0, G_MAXINT64),
  INT ("end_ms", TRUE, 0, G_MAXINT64),
  END
};

static const FieldSpec record_stop_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("reason", FALSE, 0, 256),
  END
};

static const FieldSpec record_failed_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("reason", TRUE, 0, 256),
  END
};

static const FieldSpec session_recording_fields[] = {
  STR ("sid", TRUE, 1, ID_LEN),
  STR ("state", TRUE, 1, 16),   /* "on" | "interrupted" | "off" */
  STR ("reason", FALSE, 0, 256),
  END
};

static const MessageSpec messages[] = {
  { "error", G2C | G2A | A2G | A2P | G2R | R2G, error_fields },
  { "ping", C2G | A2G | G2A | R2G, no_fields },
  { "pong", G2C | G2A | A2G | G2R, no_fields },
  { "welcome", G2C, welcome_fields },
  { "agent.hello", A2G, agent_hello_fields },
  { "agent.welcome", G2A, agent_welcome_fields },
  { "agent.status", A2G, agent_status_fields },
  { "session.request", C2G, session_request_fields },
  { "session.granted", G2C, session_granted_fields },
  { "session.start", G2A, session_start_fields },
  { "session.end", C2G | G2A, session_end_fields },
  { "session.ended", G2C | A2G, session_end_fields },
  { "session.grant", G2A, session_grant_fields },
  { "session.refused", A2G, session_refused_fields },
  { "sdp.offer", A2G | G2C | G2R, sdp_fields },
  { "sdp.answer", C2G | G2A | R2G, sdp_fields },
  { "ice.candidate", C2G | G2C | A2G | G2A | R2G | G2R, ice_fields },
  { "pointer.move", P2A, pointer_move_fields },
  { "pointer.button", P2A, pointer_button_fields },
  { "pointer.wheel", P2A, pointer_wheel_fields },
  { "key", P2A, key_fields },
  { "input.reset", P2A, no_fields },
  { "profile.set", P2A, profile_set_fields },
  { "profile.changed", A2P, profile_changed_fields },
  { "profiles", A2P, profiles_fields },
  { "command.run", C2G, command_run_fields },
  { "command.accepted", G2C, command_accepted_fields },
  { "command.exec", G2A, command_exec_fields },
  { "command.output", A2G | G2C, command_output_fields },
  { "command.exit", A2G | G2C, command_exit_fields },
  { "recorder.hello", R2G, recorder_hello_fields },
  { "recorder.welcome", G2R, recorder_welcome_fields },
  { "record.start", G2R, record_start_fields },
  { "record.started", R2G, record_started_fields },
  { "record.segment", R2G, record_segment_fields },
  { "record.stop", G2R, record_stop_fields },
  { "record.stopped", R2G, record_stop_fields },
  { "record.failed", R2G, record_failed_fields },
  { "session.recording", G2C, session_recording_fields },
};

static const char *const error_names[] = {
  [WR_PROTOCOL_ERROR_BAD_JSON] = "bad_json",
  [WR_PROTOCOL_ERROR_TOO_LARGE] = "too_large",
  [WR_PROTOCOL_ERROR_BAD_VERSION] = "bad_version",
  [WR_PROTOCOL_ERROR_UNKNOWN_TYPE] = "unknown_type",
  [WR_PROTOCOL_ERROR_INVALID_FIELD] = "invalid_field",
  [WR_PROTOCOL_ERROR_FORBIDDEN] = "forbidden",
  [WR_PROTOCOL_ERROR_RATE_LIMITED] = "rate_limited",
  [WR_PROTOCOL_ERROR_NOT_FOUND] = "not_found",
  [WR_PROTOCOL_ERROR_AGENT_OFFLINE] = "agent_offline",
  [WR_PROTOCOL_ERROR_OUT_OF_RANGE] = "out_of_range",
  [WR_PROTOCOL_ERROR_UNAUTHORIZED] = "unauthorized",
  [WR_PROTOCOL_ERROR_INTERNAL] = "internal",
  [WR_PROTOCOL_ERROR_REASON_REQUIRED] = "reason_required",
  [WR_PROTOCOL_ERROR_RECORDING_UNAVAILABLE] = "recording_unavailable",
};

const char *
wr_protocol_error_code_to_string (WrProtocolError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_names) || !error_names[code])
    return "internal";
  return error_names[code];
}

static const char *
kind_name (FieldKind kind)
{
  switch (kind) {
    case FIELD_STRING: return "a string";
    case FIELD_INT: return "an integer";
    case FIELD_BOOL: return "a boolean";
    case FIELD_ARRAY: return "an array";
    case FIELD_OBJECT: return "an object";
  }
  return "?";
}

static gboolean validate_object (JsonObject *obj, const FieldSpec *fields,
    const char *prefix, GError **error);

static gboolean
invalid (GError **error, const char *prefix, const char *name,
    const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
invalid (GError **error, const char *prefix, const char *name,
    const char *fmt, ...)
{
  va_list args;
  g_autofree char *reason = NULL;

  va_start (args, fmt);
  reason = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_INVALID_FIELD,
      "field '%s%s' %s", prefix, name, reason);
  return FALSE;
}

static gboolean
check_value (JsonNode *node, FieldKind kind, gint64 min, gint64 max,
    const FieldSpec *fields, const char *prefix, const char *name,
    GError **error)
{
  switch (kind) {
    case FIELD_STRING: {
      gsize len;
      if (!JSON_NODE_HOLDS_VALUE (node)
          || json_node_get_value_type (node) != G_TYPE_STRING)
        return invalid (error, prefix, name, "must be a string");
      len = strlen (json_node_get_string (node));
      if ((gint64) len < min || (gint64) len > max)
        return invalid (error, prefix, name,
            "must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " bytes long",
            min, max);
      return TRUE;
    }
    case FIELD_INT: {
      gint64 v;
      /* json-glib reads integral literals as gint64 and the rest (1.5,
       * 1e3) as double; only the former is an integer here. */
      if (!JSON_NODE_HOLDS_VALUE (node)
          || json_node_get_value_type (node) != G_TYPE_INT64)
        return invalid (error, prefix, name, "must be an integer");
      v = json_node_get_int (node);
      if (v < min || v > max)
        return invalid (error, prefix, name,
            "must be within %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, min, max);
      return TRUE;
    }
    case FIELD_BOOL:
      if (!JSON_NODE_HOLDS_VALUE (node)
          || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
        return invalid (error, prefix, name, "must be a boolean");
      return TRUE;
    case FIELD_OBJECT:
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return invalid (error, prefix, name, "must be an object");
      if (fields) {
        g_autofree char *sub = g_strconcat (prefix, name, ".", NULL);
        return validate_object (json_node_get_object (node), fields, sub,
            error);
      }
      return TRUE;
    case FIELD_ARRAY:
      /* handled by the caller, which knows the element spec */
      break;
  }
  return invalid (error, prefix, name, "has an unsupported kind");
}

static gboolean
check_field (JsonObject *obj, const FieldSpec *f, const char *prefix,
    GError **error)
{
  JsonNode *node = json_object_get_member (obj, f->name);
  JsonArray *array;
  guint n;

  if (!node || JSON_NODE_HOLDS_NULL (node)) {
    if (f->required)
      return invalid (error, prefix, f->name, "is required");
    return TRUE;
  }

  if (f->kind != FIELD_ARRAY)
    return check_value (node, f->kind, f->min, f->max, f->fields, prefix,
        f->name, error);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, prefix, f->name, "must be %s", kind_name (f->kind));
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > f->max)
    return invalid (error, prefix, f->name,
        "must have at most %" G_GINT64_FORMAT " items", f->max);
  for (guint i = 0; i < n; i++) {
    g_autofree char *item = g_strdup_printf ("%s[%u]", f->name, i);
    if (!check_value (json_array_get_element (array, i), f->elem, 0,
            f->elem_max, f->fields, prefix, item, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
validate_object (JsonObject *obj, const FieldSpec *fields, const char *prefix,
    GError **error)
{
  for (const FieldSpec *f = fields; f->name; f++)
    if (!check_field (obj, f, prefix, error))
      return FALSE;
  return TRUE;
}

static const MessageSpec *
lookup (const char *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (messages); i++)
    if (g_str_equal (messages[i].type, type))
      return &messages[i];
  return NULL;
}

GPtrArray *
wr_protocol_list_types (void)
{
  GPtrArray *types = g_ptr_array_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (messages); i++)
    g_ptr_array_add (types, (gpointer) messages[i].type);
  return types;
}

guint
wr_protocol_type_channels (const char *type)
{
  const MessageSpec *spec = lookup (type);

  return spec ? spec->channels : 0;
}

static const FieldSpec envelope_fields[] = {
  INT ("v", TRUE, G_MININT64, G_MAXINT64),
  STR ("type", TRUE, 1, 64),
  STR ("id", FALSE, 0, ID_LEN),
  END
};

gboolean
wr_message_validate (JsonObject *msg, WrChannel channel, GError **error)
{
  const MessageSpec *spec;
  const char *type;

  g_return_val_if_fail (msg != NULL, FALSE);

  if (!validate_object (msg, envelope_fields, "", error))
    return FALSE;
  if (json_object_get_int_member (msg, "v") != WR_PROTOCOL_VERSION) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_BAD_VERSION,
        "protocol version %" G_GINT64_FORMAT " is not supported; this peer "
        "speaks version %d", json_object_get_int_member (msg, "v"),
        WR_PROTOCOL_VERSION);
    return FALSE;
  }

  type = json_object_get_string_member (msg, "type");
  spec = lookup (type);
  if (!spec) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "unknown message type");
    return FALSE;
  }
  if (!(spec->channels & channel)) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "message type '%s' is not accepted on this channel", spec->type);
    return FALSE;
  }
  return validate_object (msg, spec->fields, "", error);
}

JsonObject *
wr_message_parse (const char *data, gsize len, WrChannel channel, char **ref,
    GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  JsonObject *obj;

  if (ref)
    *ref = NULL;

  if (len > WR_PROTOCOL_MAX_MESSAGE_SIZE) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_TOO_LARGE,
        "message of %" G_GSIZE_FORMAT " bytes is over the limit of %d bytes",
        len, WR_PROTOCOL_MAX_MESSAGE_SIZE);
    return NULL;
  }

  /* json-glib stops at an embedded NUL; refuse it rather than validate a
   * prefix of what the peer sent. */
  if (len > 0 && memchr (data, '\0', len)) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_BAD_JSON,
        "message contains a NUL byte");
    return NULL;
  }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local)) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_BAD_JSON,
        "message is not valid JSON");
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_BAD_JSON,
        "message is not a JSON object");
    return NULL;
  }
  obj = json_node_get_object (root);

  if (ref) {
    JsonNode *id = json_object_get_member (obj, "id");
    if (id && JSON_NODE_HOLDS_VALUE (id)
        && json_node_get_value_type (id) == G_TYPE_STRING
        && strlen (json_node_get_string (id)) <= ID_LEN)
      *ref = g_strdup (json_node_get_string (id));
  }

  if (!wr_message_validate (obj, channel, error))
    return NULL;

  return json_object_ref (obj);
}

JsonBuilder *
wr_message_new (const char *type)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, WR_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

char *
wr_message_builder_finish (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

char *
wr_message_to_string (JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, msg);
  return json_to_string (node, FALSE);
}

char *
wr_message_error_new (WrProtocolError code, const char *message,
    const char *ref)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("error");

  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, wr_protocol_error_code_to_string (code));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message ? message : "");
  if (ref) {
    json_builder_set_member_name (b, "ref");
    json_builder_add_string_value (b, ref);
  }
  return wr_message_builder_finish (b);
}

char *
wr_message_error_from_gerror (const GError *error, const char *ref)
{
  if (error->domain != WR_PROTOCOL_ERROR)
    return wr_message_error_new (WR_PROTOCOL_ERROR_INTERNAL,
        "internal error", ref);
  return wr_message_error_new (error->code, error->message, ref);
}

const char *
wr_message_get_type (JsonObject *msg)
{
  return json_object_get_string_member (msg, "type");
}

const char *
wr_message_get_string (JsonObject *msg, const char *field)
{
  JsonNode *node = json_object_get_member (msg, field);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gint64
wr_message_get_int (JsonObject *msg, const char *field, gint64 def)
{
  JsonNode *node = json_object_get_member (msg, field);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return def;
  return json_node_get_int (node);
}

gboolean
wr_message_get_bool (JsonObject *msg, const char *field, gboolean def)
{
  JsonNode *node = json_object_get_member (msg, field);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return def;
  return json_node_get_boolean (node);
}
