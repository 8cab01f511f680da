/* webremote: signaling and DataChannel message validation.
 *
 * Every JSON message that crosses a WebSocket or a DataChannel is checked
 * against the declarative table in protocol.c before any handler sees it
 * (the pattern of Janus' janus_json_parameter). docs/protocol.md documents
 * each entry of that table.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WR_PROTOCOL_VERSION 1

/* Largest message a peer may send; larger ones get a `too_large` error. */
#define WR_PROTOCOL_MAX_MESSAGE_SIZE (64 * 1024)

/* Where a message travels; a type is only valid on the channels listed in
 * its table entry. */
typedef enum {
  WR_CHANNEL_CLIENT_TO_GATEWAY = 1 << 0, /* browser -> gateway, /ws/client */
  WR_CHANNEL_GATEWAY_TO_CLIENT = 1 << 1,
  WR_CHANNEL_AGENT_TO_GATEWAY = 1 << 2,  /* agent -> gateway, /ws/agent */
  WR_CHANNEL_GATEWAY_TO_AGENT = 1 << 3,
  WR_CHANNEL_PEER_TO_AGENT = 1 << 4,     /* browser -> agent, "input" DataChannel */
  WR_CHANNEL_AGENT_TO_PEER = 1 << 5,
  WR_CHANNEL_RECORDER_TO_GATEWAY = 1 << 6, /* recorder -> gateway, /ws/recorder */
  WR_CHANNEL_GATEWAY_TO_RECORDER = 1 << 7,
} WrChannel;

#define WR_PROTOCOL_ERROR (wr_protocol_error_quark ())
GQuark wr_protocol_error_quark (void);

/* Each code has one wire name (wr_protocol_error_code_to_string) that
 * travels in `error` messages. */
typedef enum {
  WR_PROTOCOL_ERROR_BAD_JSON,      /* "bad_json" */
  WR_PROTOCOL_ERROR_TOO_LARGE,     /* "too_large" */
  WR_PROTOCOL_ERROR_BAD_VERSION,   /* "bad_version" */
  WR_PROTOCOL_ERROR_UNKNOWN_TYPE,  /* "unknown_type" */
  WR_PROTOCOL_ERROR_INVALID_FIELD, /* "invalid_field" */
  WR_PROTOCOL_ERROR_FORBIDDEN,     /* "forbidden" */
  WR_PROTOCOL_ERROR_RATE_LIMITED,  /* "rate_limited" */
  WR_PROTOCOL_ERROR_NOT_FOUND,     /* "not_found" */
  WR_PROTOCOL_ERROR_AGENT_OFFLINE, /* "agent_offline" */
  WR_PROTOCOL_ERROR_OUT_OF_RANGE,  /* "out_of_range" */
  WR_PROTOCOL_ERROR_UNAUTHORIZED,  /* "unauthorized" */
  WR_PROTOCOL_ERROR_INTERNAL,      /* "internal" */
  WR_PROTOCOL_ERROR_REASON_REQUIRED, /* "reason_required" */
  WR_PROTOCOL_ERROR_RECORDING_UNAVAILABLE, /* "recording_unavailable" */
} WrProtocolError;

/**
 * wr_protocol_error_code_to_string:
 * Returns: (transfer none): the wire name of @code, such as "bad_json".
 */
const char *wr_protocol_error_code_to_string (WrProtocolError code);

/**
 * wr_message_parse:
 * @data: (array length=len): the raw message, not NUL-terminated
 * @channel: the channel it arrived on
 * @ref: (out) (optional) (transfer full): the message's "id" when one could
 *   be read, even on failure, so that the error can refer to it
 * @error: a WR_PROTOCOL_ERROR on failure, whose message names the field
 *
 * Parses @data and checks it against the validation table for @channel.
 *
 * Returns: (transfer full) (nullable): the message object, or %NULL.
 */
JsonObject *wr_message_parse (const char *data, gsize len, WrChannel channel,
    char **ref, GError **error);

/**
 * wr_message_validate:
 * Like wr_message_parse() for an already parsed object.
 */
gboolean wr_message_validate (JsonObject *msg, WrChannel channel,
    GError **error);

/**
 * wr_message_new:
 * @type: the message type
 *
 * Returns: (transfer full): a builder positioned inside a new message object
 * that already holds "v" and "type"; add members, then call
 * wr_message_builder_finish().
 */
JsonBuilder *wr_message_new (const char *type);

/**
 * wr_message_builder_finish:
 * Closes the object opened by wr_message_new() and serialises it.
 * Returns: (transfer full): the JSON text.
 */
char *wr_message_builder_finish (JsonBuilder *builder);

/**
 * wr_message_to_string:
 * Returns: (transfer full): @msg serialised compactly.
 */
char *wr_message_to_string (JsonObject *msg);

/**
 * wr_message_error_new:
 * @ref: (nullable): the id of the message this error answers
 * Returns: (transfer full): an `error` message for @code.
 */
char *wr_message_error_new (WrProtocolError code, const char *message,
    const char *ref);

/**
 * wr_message_error_from_gerror:
 * Returns: (transfer full): an `error` message for @error, which must be in
 * the WR_PROTOCOL_ERROR domain (anything else becomes "internal").
 */
char *wr_message_error_from_gerror (const GError *error, const char *ref);

/**
 * wr_protocol_list_types:
 * Returns: (transfer container): every message type in the validation
 * table; the strings are static. For tests and documentation checks.
 */
GPtrArray *wr_protocol_list_types (void);

/**
 * wr_protocol_type_channels:
 * Returns: the WrChannel mask @type is accepted on, 0 for unknown types.
 */
guint wr_protocol_type_channels (const char *type);

/* Convenience readers for validated messages. The validation table
 * guarantees type and presence of required fields. */
const char *wr_message_get_type (JsonObject *msg);
const char *wr_message_get_string (JsonObject *msg, const char *field);
gint64 wr_message_get_int (JsonObject *msg, const char *field, gint64 def);
gboolean wr_message_get_bool (JsonObject *msg, const char *field,
    gboolean def);

G_END_DECLS
