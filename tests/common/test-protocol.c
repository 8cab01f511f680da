/* Tests for the signaling validation table (common/protocol.c). */
#include "config.h"

#include <string.h>

#include "common/protocol.h"

/* One minimal valid message per type: only the required fields, so that
 * removing any member other than "v"/"type" must make it invalid. */
static const struct {
  const char *json;
  WrChannel channel;
} samples[] = {
  { "{\"v\":1,\"type\":\"error\",\"code\":\"x\",\"message\":\"m\"}",
    WR_CHANNEL_GATEWAY_TO_CLIENT },
  { "{\"v\":1,\"type\":\"ping\"}", WR_CHANNEL_CLIENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"pong\"}", WR_CHANNEL_GATEWAY_TO_CLIENT },
  { "{\"v\":1,\"type\":\"welcome\",\"user\":\"admin\",\"version\":\"0.1\"}",
    WR_CHANNEL_GATEWAY_TO_CLIENT },
  { "{\"v\":1,\"type\":\"agent.hello\",\"agent\":\"a1\",\"name\":\"A\","
    "\"version\":\"0.1\",\"displays\":[{\"name\":\":0\",\"width\":1280,"
    "\"height\":720}],\"encoders\":[\"x264enc\"]}",
    WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"agent.welcome\",\"version\":\"0.1\"}",
    WR_CHANNEL_GATEWAY_TO_AGENT },
  { "{\"v\":1,\"type\":\"agent.status\",\"pipelines\":[{\"display\":\":0\","
    "\"encoder\":\"x264enc\",\"peers\":2}]}", WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"session.request\",\"agent\":\"a1\"}",
    WR_CHANNEL_CLIENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"session.granted\",\"sid\":\"s\",\"agent\":\"a1\","
    "\"display\":\":0\",\"scopes\":[\"view\"],\"ice_servers\":[]}",
    WR_CHANNEL_GATEWAY_TO_CLIENT },
  { "{\"v\":1,\"type\":\"session.start\",\"sid\":\"s\",\"display\":\":0\","
    "\"user\":\"admin\",\"scopes\":[\"view\"],\"ice_servers\":[],"
    "\"grant\":\"p.s\"}", WR_CHANNEL_GATEWAY_TO_AGENT },
  { "{\"v\":1,\"type\":\"session.grant\",\"sid\":\"s\",\"grant\":\"p.s\"}",
    WR_CHANNEL_GATEWAY_TO_AGENT },
  { "{\"v\":1,\"type\":\"session.refused\",\"sid\":\"s\",\"what\":\"input\","
    "\"reason\":\"no control scope\",\"count\":3}",
    WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"session.end\",\"sid\":\"s\"}",
    WR_CHANNEL_CLIENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"session.ended\",\"sid\":\"s\"}",
    WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"sdp.offer\",\"sid\":\"s\",\"sdp\":\"v=0\"}",
    WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"sdp.answer\",\"sid\":\"s\",\"sdp\":\"v=0\"}",
    WR_CHANNEL_CLIENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"ice.candidate\",\"sid\":\"s\",\"candidate\":\"c\","
    "\"sdp_mline_index\":0}", WR_CHANNEL_CLIENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"pointer.move\",\"x\":1,\"y\":2}",
    WR_CHANNEL_PEER_TO_AGENT },
  { "{\"v\":1,\"type\":\"pointer.button\",\"button\":1,\"down\":true}",
    WR_CHANNEL_PEER_TO_AGENT },
  { "{\"v\":1,\"type\":\"pointer.wheel\",\"dx\":0,\"dy\":-1}",
    WR_CHANNEL_PEER_TO_AGENT },
  { "{\"v\":1,\"type\":\"key\",\"code\":\"KeyA\",\"down\":true}",
    WR_CHANNEL_PEER_TO_AGENT },
  { "{\"v\":1,\"type\":\"input.reset\"}", WR_CHANNEL_PEER_TO_AGENT },
  { "{\"v\":1,\"type\":\"profile.set\",\"profile\":\"balanced\"}",
    WR_CHANNEL_PEER_TO_AGENT },
  { "{\"v\":1,\"type\":\"profile.changed\",\"profile\":\"balanced\","
    "\"encoder\":\"x264enc\",\"codec\":\"H264\"}",
    WR_CHANNEL_AGENT_TO_PEER },
  { "{\"v\":1,\"type\":\"profiles\",\"available\":[\"low-latency\","
    "\"balanced\"],\"active\":\"low-latency\"}",
    WR_CHANNEL_AGENT_TO_PEER },
  { "{\"v\":1,\"type\":\"command.run\",\"sid\":\"s\","
    "\"command\":\"uptime\"}",
    WR_CHANNEL_CLIENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"command.accepted\",\"sid\":\"s\","
    "\"cid\":\"c\",\"command\":\"uptime\"}",
    WR_CHANNEL_GATEWAY_TO_CLIENT },
  { "{\"v\":1,\"type\":\"command.exec\",\"sid\":\"s\","
    "\"envelope\":\"p.s\"}", WR_CHANNEL_GATEWAY_TO_AGENT },
  { "{\"v\":1,\"type\":\"command.output\",\"sid\":\"s\","
    "\"cid\":\"c\",\"stream\":\"stdout\",\"data\":\"up\"}",
    WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"command.exit\",\"sid\":\"s\","
    "\"cid\":\"c\",\"status\":0,\"timed_out\":false,"
    "\"truncated\":false}", WR_CHANNEL_AGENT_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"recorder.hello\",\"name\":\"r1\","
    "\"version\":\"0.1\"}", WR_CHANNEL_RECORDER_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"recorder.welcome\",\"name\":\"r1\","
    "\"version\":\"0.1\"}", WR_CHANNEL_GATEWAY_TO_RECORDER },
  { "{\"v\":1,\"type\":\"record.start\",\"sid\":\"r\","
    "\"session\":\"s\",\"agent\":\"a1\",\"display\":\":0\","
    "\"segment_seconds\":300,\"ice_servers\":[]}",
    WR_CHANNEL_GATEWAY_TO_RECORDER },
  { "{\"v\":1,\"type\":\"record.started\",\"sid\":\"r\","
    "\"codec\":\"H264\",\"container\":\"mp4\"}",
    WR_CHANNEL_RECORDER_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"record.segment\",\"sid\":\"r\","
    "\"index\":0,\"file\":\"segment-00000.mp4\",\"size\":10,"
    "\"sha256\":\"" "0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef" "\",\"start_ms\":1,"
    "\"end_ms\":2}", WR_CHANNEL_RECORDER_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"record.stop\",\"sid\":\"r\"}",
    WR_CHANNEL_GATEWAY_TO_RECORDER },
  { "{\"v\":1,\"type\":\"record.stopped\",\"sid\":\"r\"}",
    WR_CHANNEL_RECORDER_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"record.failed\",\"sid\":\"r\","
    "\"reason\":\"x\"}", WR_CHANNEL_RECORDER_TO_GATEWAY },
  { "{\"v\":1,\"type\":\"session.recording\",\"sid\":\"s\","
    "\"state\":\"on\"}", WR_CHANNEL_GATEWAY_TO_CLIENT },
};

static JsonObject *
parse_ok (const char *json, WrChannel channel)
{
  g_autoptr (GError) error = NULL;
  JsonObject *msg = wr_message_parse (json, strlen (json), channel, NULL,
      &error);

  g_assert_no_error (error);
  g_assert_nonnull (msg);
  return msg;
}

static void
expect_error (const char *json, WrChannel channel, WrProtocolError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = wr_message_parse (json, strlen (json),
      channel, NULL, &error);

  if (msg || !g_error_matches (error, WR_PROTOCOL_ERROR, (gint) code))
    g_error ("expected error %s for %s, got %s",
        wr_protocol_error_code_to_string (code), json,
        error ? error->message : "success");
}

static char *
object_to_string (JsonObject *obj)
{
  return wr_message_to_string (obj);
}

static void
test_every_type_has_a_sample (void)
{
  g_autoptr (GPtrArray) types = wr_protocol_list_types ();

  for (guint i = 0; i < types->len; i++) {
    const char *type = g_ptr_array_index (types, i);
    gboolean found = FALSE;
    for (gsize s = 0; s < G_N_ELEMENTS (samples); s++) {
      g_autoptr (JsonObject) msg = parse_ok (samples[s].json,
          samples[s].channel);
      found |= g_str_equal (wr_message_get_type (msg), type);
    }
    if (!found)
      g_error ("message type %s has no sample in this test", type);
  }
}

static void
test_samples_are_valid (void)
{
  for (gsize s = 0; s < G_N_ELEMENTS (samples); s++) {
    g_autoptr (JsonObject) msg = parse_ok (samples[s].json,
        samples[s].channel);
    g_assert_true (wr_protocol_type_channels (wr_message_get_type (msg))
        & samples[s].channel);
  }
}

/* Removing any required field gives invalid_field naming that field. */
static void
test_missing_field_is_refused (void)
{
  for (gsize s = 0; s < G_N_ELEMENTS (samples); s++) {
    g_autoptr (JsonObject) msg = parse_ok (samples[s].json,
        samples[s].channel);
    g_autoptr (GList) members = json_object_get_members (msg);

    for (GList *m = members; m; m = m->next) {
      const char *name = m->data;
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) got = NULL;
      g_autofree char *text = NULL;
      JsonObject *copy;

      if (g_str_equal (name, "type"))
        continue;
      g_assert_true (json_parser_load_from_data (parser, samples[s].json, -1,
              NULL));
      copy = json_node_get_object (json_parser_get_root (parser));
      json_object_remove_member (copy, name);
      text = object_to_string (copy);
      got = wr_message_parse (text, strlen (text), samples[s].channel, NULL,
          &error);
      g_assert_null (got);
      g_assert_error (error, WR_PROTOCOL_ERROR,
          WR_PROTOCOL_ERROR_INVALID_FIELD);
      g_assert_nonnull (strstr (error->message, name));
    }
  }
}

/* Replacing any field by a value of another JSON type gives invalid_field. */
static void
test_wrong_type_is_refused (void)
{
  for (gsize s = 0; s < G_N_ELEMENTS (samples); s++) {
    g_autoptr (JsonObject) msg = parse_ok (samples[s].json,
        samples[s].channel);
    g_autoptr (GList) members = json_object_get_members (msg);

    for (GList *m = members; m; m = m->next) {
      const char *name = m->data;
      JsonNode *orig = json_object_get_member (msg, name);
      /* wrong for every kind: strings get a number, the rest a string,
       * and every kind also gets an object and 1.5 */
      const char *replacements[] = { "{}", "1.5", NULL, NULL };
      gboolean is_string = JSON_NODE_HOLDS_VALUE (orig)
          && json_node_get_value_type (orig) == G_TYPE_STRING;

      if (g_str_equal (name, "type"))
        continue;
      replacements[2] = is_string ? "42" : "\"x\"";
      for (int r = 0; replacements[r]; r++) {
        g_autoptr (JsonParser) parser = json_parser_new ();
        g_autoptr (JsonParser) value = json_parser_new ();
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonObject) got = NULL;
        g_autofree char *text = NULL;
        JsonObject *copy;

        g_assert_true (json_parser_load_from_data (parser, samples[s].json,
                -1, NULL));
        g_assert_true (json_parser_load_from_data (value, replacements[r],
                -1, NULL));
        copy = json_node_get_object (json_parser_get_root (parser));
        json_object_set_member (copy, name,
            json_node_copy (json_parser_get_root (value)));
        text = object_to_string (copy);
        got = wr_message_parse (text, strlen (text), samples[s].channel,
            NULL, &error);
        if (got)
          g_error ("accepted %s", text);
        if (g_str_equal (name, "v"))
          g_assert_true (error->code == WR_PROTOCOL_ERROR_INVALID_FIELD);
        else
          g_assert_error (error, WR_PROTOCOL_ERROR,
              WR_PROTOCOL_ERROR_INVALID_FIELD);
      }
    }
  }
}

static void
test_oversized_is_refused (void)
{
  GString *big = g_string_new ("{\"v\":1,\"type\":\"ping\",\"pad\":\"");
  g_autoptr (GError) error = NULL;
  g_autofree char *ref = NULL;
  JsonObject *msg;

  while (big->len <= WR_PROTOCOL_MAX_MESSAGE_SIZE)
    g_string_append (big, "aaaaaaaaaaaaaaaa");
  g_string_append (big, "\"}");
  msg = wr_message_parse (big->str, big->len, WR_CHANNEL_CLIENT_TO_GATEWAY,
      &ref, &error);
  g_assert_null (msg);
  g_assert_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_TOO_LARGE);
  g_string_free (big, TRUE);
}

static void
test_long_string_is_refused (void)
{
  GString *sdp = g_string_new ("{\"v\":1,\"type\":\"sdp.answer\","
      "\"sid\":\"s\",\"sdp\":\"");
  g_autoptr (GError) error = NULL;
  JsonObject *msg;

  for (int i = 0; i < 60001; i++)
    g_string_append_c (sdp, 'a');
  g_string_append (sdp, "\"}");
  msg = wr_message_parse (sdp->str, sdp->len, WR_CHANNEL_CLIENT_TO_GATEWAY,
      NULL, &error);
  g_assert_null (msg);
  g_assert_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_INVALID_FIELD);
  g_string_free (sdp, TRUE);
}

static void
test_bad_json_and_envelope (void)
{
  const WrChannel c = WR_CHANNEL_CLIENT_TO_GATEWAY;
  g_autoptr (GError) error = NULL;
  g_autofree char *ref = NULL;
  JsonObject *msg;

  expect_error ("", c, WR_PROTOCOL_ERROR_BAD_JSON);
  expect_error ("{", c, WR_PROTOCOL_ERROR_BAD_JSON);
  expect_error ("[1,2]", c, WR_PROTOCOL_ERROR_BAD_JSON);
  expect_error ("\"ping\"", c, WR_PROTOCOL_ERROR_BAD_JSON);
  expect_error ("{\"v\":2,\"type\":\"ping\"}", c,
      WR_PROTOCOL_ERROR_BAD_VERSION);
  expect_error ("{\"type\":\"ping\"}", c, WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1}", c, WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"no.such\"}", c,
      WR_PROTOCOL_ERROR_UNKNOWN_TYPE);
  /* a type that exists, on the wrong channel */
  expect_error ("{\"v\":1,\"type\":\"agent.hello\",\"agent\":\"a\","
      "\"name\":\"n\",\"version\":\"1\",\"displays\":[],\"encoders\":[]}", c,
      WR_PROTOCOL_ERROR_UNKNOWN_TYPE);
  expect_error ("{\"v\":1,\"type\":\"pointer.move\",\"x\":1,\"y\":1}", c,
      WR_PROTOCOL_ERROR_UNKNOWN_TYPE);

  /* an embedded NUL is refused, not truncated */
  msg = wr_message_parse ("{\"v\":1,\"type\":\"ping\"}\0xx", 24, c, NULL,
      &error);
  g_assert_null (msg);
  g_assert_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);

  /* the id is recovered for the error's ref even when invalid */
  {
    const char *text = "{\"v\":1,\"type\":\"session.request\",\"id\":\"r9\"}";
    msg = wr_message_parse (text, strlen (text), c, &ref, &error);
  }
  g_assert_null (msg);
  g_assert_cmpstr (ref, ==, "r9");
}

static void
test_ranges (void)
{
  const WrChannel p = WR_CHANNEL_PEER_TO_AGENT;

  expect_error ("{\"v\":1,\"type\":\"pointer.button\",\"button\":10,"
      "\"down\":true}", p, WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"pointer.button\",\"button\":0,"
      "\"down\":true}", p, WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"pointer.wheel\",\"dx\":0,\"dy\":101}", p,
      WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"key\",\"code\":\"\",\"down\":true}", p,
      WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"ice.candidate\",\"sid\":\"s\","
      "\"candidate\":\"c\",\"sdp_mline_index\":64}",
      WR_CHANNEL_CLIENT_TO_GATEWAY, WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"session.request\",\"agent\":\"a\","
      "\"scopes\":[1]}", WR_CHANNEL_CLIENT_TO_GATEWAY,
      WR_PROTOCOL_ERROR_INVALID_FIELD);
  expect_error ("{\"v\":1,\"type\":\"agent.hello\",\"agent\":\"a\","
      "\"name\":\"n\",\"version\":\"1\",\"displays\":[{\"name\":\":0\","
      "\"width\":0,\"height\":10}],\"encoders\":[]}",
      WR_CHANNEL_AGENT_TO_GATEWAY, WR_PROTOCOL_ERROR_INVALID_FIELD);
}

static void
test_error_message_round_trip (void)
{
  g_autofree char *text = wr_message_error_new (WR_PROTOCOL_ERROR_TOO_LARGE,
      "too big", "m1");
  g_autoptr (JsonObject) msg = parse_ok (text, WR_CHANNEL_GATEWAY_TO_CLIENT);

  g_assert_cmpstr (wr_message_get_string (msg, "code"), ==, "too_large");
  g_assert_cmpstr (wr_message_get_string (msg, "ref"), ==, "m1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/protocol/every-type-has-a-sample",
      test_every_type_has_a_sample);
  g_test_add_func ("/common/protocol/samples-are-valid",
      test_samples_are_valid);
  g_test_add_func ("/common/protocol/missing-field-is-refused",
      test_missing_field_is_refused);
  g_test_add_func ("/common/protocol/wrong-type-is-refused",
      test_wrong_type_is_refused);
  g_test_add_func ("/common/protocol/oversized-message-is-refused",
      test_oversized_is_refused);
  g_test_add_func ("/common/protocol/long-string-is-refused",
      test_long_string_is_refused);
  g_test_add_func ("/common/protocol/bad-json-and-envelope",
      test_bad_json_and_envelope);
  g_test_add_func ("/common/protocol/ranges", test_ranges);
  g_test_add_func ("/common/protocol/error-message-round-trip",
      test_error_message_round_trip);
  return g_test_run ();
}
