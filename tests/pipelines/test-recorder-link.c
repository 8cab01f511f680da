/* The webremote-recorder binary against a fake gateway (tests/pipelines/
 * fake-recorder-gateway.c) and a GStreamer sender playing the agent:
 * the recorder channel end to end, bad input from the gateway, a wrong
 * token or certificate, and SIGTERM while recording. */
#include "config.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <signal.h>
#include <string.h>

#include "common/protocol.h"
#include "fake-recorder-gateway.h"
#include "recording-check.h"
#include "test-sender.h"

#define TOKEN "rec-token-7f3a9c1e5b2d4f608a1c3e5f7b9d1f3a"
#define FPS 30

static void
assert_token_not_logged (WrFakeRecorderGateway *f, const char *token)
{
  g_autofree char *log = wr_fake_recorder_gateway_log (f);

  g_assert_null (strstr (log, token));
}

static void
assert_alive (WrFakeRecorderGateway *f)
{
  /* NULL once the child was reaped (the main context iterates) */
  wr_fake_recorder_gateway_run_for (100);
  if (!g_subprocess_get_identifier (f->recorder)) {
    g_autofree char *log = wr_fake_recorder_gateway_log (f);
    g_error ("the recorder exited; its log:\n%s", log);
  }
}

static JsonObject *
expect_error (WrFakeRecorderGateway *f, const char *code)
{
  JsonObject *e = wr_fake_recorder_gateway_take (f, "error", NULL, 5000);

  if (!e) {
    g_autofree char *log = wr_fake_recorder_gateway_log (f);
    g_error ("no error (%s) from the recorder; log:\n%s", code, log);
  }
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, code);
  return e;
}

static void
test_bad_input (void)
{
  WrFakeRecorderGateway f = { 0 };
  g_autoptr (JsonObject) e = NULL;
  g_autoptr (JsonBuilder) b = NULL;

  wr_fake_recorder_gateway_start (&f, TOKEN);
  wr_fake_recorder_gateway_spawn (&f, TOKEN, "--name", "test-rec", NULL);
  wr_fake_recorder_gateway_handshake (&f);

  /* Not JSON, not an object, too large, binary. */
  wr_fake_recorder_gateway_send_text (&f, "{nope");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "bad_json");
  wr_fake_recorder_gateway_send_text (&f, "[1,2,3]");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "bad_json");
  {
    g_autofree char *big = g_strnfill (70 * 1024, 'x');
    g_autofree char *text = g_strdup_printf ("{\"v\":1,\"type\":\"ping\","
        "\"pad\":\"%s\"}", big);
    wr_fake_recorder_gateway_send_text (&f, text);
    g_clear_pointer (&e, json_object_unref);
    e = expect_error (&f, "too_large");
  }
  soup_websocket_connection_send_binary (f.ws, "\x01\x02", 2);
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "bad_json");

  /* Unknown types, and types of other channels. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"frobnicate\",\"id\":\"m1\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "unknown_type");
  g_assert_cmpstr (json_object_get_string_member (e, "ref"), ==, "m1");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"session.start\",\"sid\":\"x\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "unknown_type");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.started\",\"sid\":\"x\",\"codec\":\"H264\","
      "\"container\":\"mp4\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "unknown_type");

  /* Missing and mistyped fields. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.start\",\"sid\":\"r1\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "invalid_field");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.start\",\"sid\":\"r1\",\"session\":\"s\","
      "\"agent\":\"a\",\"display\":\":1\",\"segment_seconds\":\"2\","
      "\"ice_servers\":[]}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "invalid_field");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.start\",\"sid\":\"r1\",\"session\":\"s\","
      "\"agent\":\"a\",\"display\":\":1\",\"segment_seconds\":0,"
      "\"ice_servers\":[]}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "invalid_field");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":2,\"type\":\"record.stop\",\"sid\":\"r1\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "bad_version");

  /* A sid that would leave the recordings directory. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.start\",\"id\":\"m2\","
      "\"sid\":\"../../etc\",\"session\":\"s\",\"agent\":\"a\","
      "\"display\":\":1\",\"segment_seconds\":2,\"ice_servers\":[]}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "invalid_field");
  g_assert_cmpstr (json_object_get_string_member (e, "ref"), ==, "m2");
  {
    g_autofree char *escaped = g_build_filename (f.dir, "etc", NULL);
    g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
  }

  /* Unknown sids. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"sdp.offer\",\"id\":\"m3\",\"sid\":\"nope\","
      "\"sdp\":\"v=0\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "not_found");
  g_assert_cmpstr (json_object_get_string_member (e, "ref"), ==, "m3");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"ice.candidate\",\"sid\":\"nope\","
      "\"candidate\":\"candidate:1 1 UDP 1 127.0.0.1 9 typ host\","
      "\"sdp_mline_index\":0}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "not_found");
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.stop\",\"sid\":\"nope\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "not_found");

  /* A real recording, then garbage for it: an offer that is not SDP. */
  b = wr_message_new ("record.start");
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, "rec-bad");
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, "s1");
  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, "a1");
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, ":1");
  json_builder_set_member_name (b, "segment_seconds");
  json_builder_add_int_value (b, 2);
  json_builder_set_member_name (b, "ice_servers");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  wr_fake_recorder_gateway_send (&f, b);
  g_clear_object (&b);
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"sdp.offer\",\"sid\":\"rec-bad\","
      "\"sdp\":\"this is not sdp\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "invalid_field");
  /* The same sid again while it runs. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.start\",\"sid\":\"rec-bad\","
      "\"session\":\"s\",\"agent\":\"a\",\"display\":\":1\","
      "\"segment_seconds\":2,\"ice_servers\":[]}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "invalid_field");
  /* Stopping it without media: stopped, no segment. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.stop\",\"sid\":\"rec-bad\"}");
  {
    g_autoptr (JsonObject) stopped = wr_fake_recorder_gateway_take (&f,
        "record.stopped", "rec-bad", 5000);
    g_assert_nonnull (stopped);
    g_assert_null (wr_fake_recorder_gateway_take (&f, "record.segment",
            NULL, 200));
  }

  /* A recording whose WebRTC never connects (a valid offer, answered, but
   * no candidate ever comes): stopping it ends it cleanly, no segment,
   * and the recorder carries on. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.start\",\"sid\":\"rec-noice\","
      "\"session\":\"s2\",\"agent\":\"a\",\"display\":\":1\","
      "\"segment_seconds\":2,\"ice_servers\":[]}");
  {
    g_autoptr (JsonBuilder) ob = wr_message_new ("sdp.offer");
    g_autoptr (JsonObject) answer = NULL;
    g_autoptr (JsonObject) stopped = NULL;
    const char *sdp = "v=0\r\n"
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
        "s=-\r\nt=0 0\r\n"
        "a=group:BUNDLE video0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:Wr0a\r\n"
        "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n"
        "a=fingerprint:sha-256 "
        "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
        "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n"
        "a=setup:actpass\r\n"
        "a=mid:video0\r\n"
        "a=sendonly\r\n"
        "a=rtcp-mux\r\n"
        "a=rtpmap:96 H264/90000\r\n"
        "a=rtcp-fb:96 nack pli\r\n"
        "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
        "a=ssrc:1 cname:test\r\n";

    json_builder_set_member_name (ob, "sid");
    json_builder_add_string_value (ob, "rec-noice");
    json_builder_set_member_name (ob, "sdp");
    json_builder_add_string_value (ob, sdp);
    wr_fake_recorder_gateway_send (&f, ob);
    answer = wr_fake_recorder_gateway_take (&f, "sdp.answer", "rec-noice",
        5000);
    g_assert_nonnull (answer);
    wr_fake_recorder_gateway_run_for (300);
    wr_fake_recorder_gateway_send_text (&f,
        "{\"v\":1,\"type\":\"record.stop\",\"sid\":\"rec-noice\"}");
    stopped = wr_fake_recorder_gateway_take (&f, "record.stopped",
        "rec-noice", 5000);
    g_assert_nonnull (stopped);
    g_assert_null (wr_fake_recorder_gateway_take (&f, "record.segment",
            NULL, 200));
    g_assert_null (wr_fake_recorder_gateway_take (&f, "record.failed",
            NULL, 0));
  }

  /* Still alive, still answering, the same connection, never an invalid
   * message from it. */
  wr_fake_recorder_gateway_send_text (&f,
      "{\"v\":1,\"type\":\"record.stop\",\"sid\":\"rec-bad\"}");
  g_clear_pointer (&e, json_object_unref);
  e = expect_error (&f, "not_found");
  assert_alive (&f);
  g_assert_false (f.ws_closed);
  g_assert_cmpuint (f.upgrades, ==, 1);
  g_assert_cmpuint (f.invalid, ==, 0);
  assert_token_not_logged (&f, TOKEN);
  wr_fake_recorder_gateway_stop (&f);
}

typedef struct {
  WrFakeRecorderGateway *f;
  WrTestSender *sender;
  const char *sid;
} Relay;

static void
sender_offer (const char *sdp, gpointer user_data)
{
  Relay *r = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("sdp.offer");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, r->sid);
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  wr_fake_recorder_gateway_send (r->f, b);
}

static void
sender_candidate (guint mline, const char *candidate, gpointer user_data)
{
  Relay *r = user_data;
  g_autoptr (JsonBuilder) b = wr_message_new ("ice.candidate");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, r->sid);
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate);
  json_builder_set_member_name (b, "sdp_mline_index");
  json_builder_add_int_value (b, mline);
  wr_fake_recorder_gateway_send (r->f, b);
}

/* Relays the recorder's answer and candidates to the sender until
 * record.started; returns it. */
static JsonObject *
negotiate (Relay *r, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    g_autoptr (JsonObject) m = wr_fake_recorder_gateway_take (r->f, NULL,
        NULL, 50);
    const char *type;

    if (!m)
      continue;
    type = wr_message_get_type (m);
    if (g_str_equal (type, "sdp.answer")) {
      g_assert_cmpstr (wr_message_get_string (m, "sid"), ==, r->sid);
      wr_test_sender_set_answer (r->sender, wr_message_get_string (m, "sdp"));
    } else if (g_str_equal (type, "ice.candidate")) {
      wr_test_sender_add_candidate (r->sender,
          (guint) wr_message_get_int (m, "sdp_mline_index", 0),
          wr_message_get_string (m, "candidate"));
    } else if (g_str_equal (type, "record.started")) {
      return g_steal_pointer (&m);
    } else if (g_str_equal (type, "record.failed")) {
      g_error ("record.failed: %s", wr_message_get_string (m, "reason"));
    } else if (!g_str_equal (type, "ping")) {
      g_error ("unexpected %s while negotiating", type);
    }
  }
  return NULL;
}

static void
start_recording (WrFakeRecorderGateway *f, const char *sid, guint seconds)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("record.start");

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, "viewer-session-1");
  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, "agent-1");
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, ":1");
  json_builder_set_member_name (b, "segment_seconds");
  json_builder_add_int_value (b, seconds);
  json_builder_set_member_name (b, "ice_servers");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  wr_fake_recorder_gateway_send (f, b);
}

/* Collects record.segment messages until record.stopped; checks each
 * against its file. Returns: the frames decoded. */
static guint64
collect_segments (WrFakeRecorderGateway *f, const char *sid,
    gint64 *span_ms, guint *count)
{
  guint64 total = 0;
  gint64 first_start = 0, last_end = 0;
  guint n = 0;

  for (;;) {
    g_autoptr (JsonObject) m = wr_fake_recorder_gateway_take (f, NULL, sid,
        15000);
    const char *type;

    if (!m) {
      g_autofree char *log = wr_fake_recorder_gateway_log (f);
      g_error ("no record.stopped within 15 s; log:\n%s", log);
    }
    type = wr_message_get_type (m);
    if (g_str_equal (type, "record.stopped"))
      break;
    if (g_str_equal (type, "ice.candidate"))
      continue;
    g_assert_cmpstr (type, ==, "record.segment");
    {
      g_autofree char *path = g_build_filename (f->rec_dir, sid,
          wr_message_get_string (m, "file"), NULL);
      g_autofree char *sha = wr_check_sha256_file (path);
      g_autofree char *err = NULL;
      GStatBuf st;
      guint64 frames = 0;

      g_assert_cmpint (wr_message_get_int (m, "index", -1), ==, n);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (wr_message_get_int (m, "size", -1), ==, st.st_size);
      g_assert_cmpstr (wr_message_get_string (m, "sha256"), ==, sha);
      if (!wr_check_decode (path, &frames, &err))
        g_error ("%s does not play: %s", path, err);
      total += frames;
      if (n == 0)
        first_start = wr_message_get_int (m, "start_ms", 0);
      last_end = wr_message_get_int (m, "end_ms", 0);
      n++;
    }
  }
  *span_ms = last_end - first_start;
  *count = n;
  return total;
}

static void
test_record (gconstpointer data)
{
  gboolean by_sigterm = GPOINTER_TO_INT (data);
  WrFakeRecorderGateway f = { 0 };
  Relay r = { &f, NULL, "rec-e2e-1" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) started = NULL;
  guint64 frames;
  gint64 span_ms;
  guint count;

  wr_fake_recorder_gateway_start (&f, TOKEN);
  wr_fake_recorder_gateway_spawn (&f, TOKEN, "--name", "test-rec", NULL);
  wr_fake_recorder_gateway_handshake (&f);
  start_recording (&f, r.sid, 2);
  r.sender = wr_test_sender_new ("H264", 640, 360, FPS, "ball", FALSE,
      sender_offer, sender_candidate, &r, &error);
  g_assert_no_error (error);
  started = negotiate (&r, 20000);
  if (!started) {
    g_autofree char *log = wr_fake_recorder_gateway_log (&f);
    g_error ("no record.started within 20 s; log:\n%s", log);
  }
  g_assert_cmpstr (wr_message_get_string (started, "codec"), ==, "H264");
  g_assert_cmpstr (wr_message_get_string (started, "container"), ==, "mp4");

  wr_fake_recorder_gateway_run_for (4500);
  if (by_sigterm) {
    g_subprocess_send_signal (f.recorder, SIGTERM);
  } else {
    g_autoptr (JsonBuilder) b = wr_message_new ("record.stop");
    json_builder_set_member_name (b, "sid");
    json_builder_add_string_value (b, r.sid);
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, "session ended");
    wr_fake_recorder_gateway_send (&f, b);
  }
  frames = collect_segments (&f, r.sid, &span_ms, &count);
  g_test_message ("%u segments, %" G_GUINT64_FORMAT " frames decoded over "
      "%" G_GINT64_FORMAT " ms (about %" G_GINT64_FORMAT " expected)", count,
      frames, span_ms, span_ms * FPS / 1000);
  g_assert_cmpuint (count, >=, 2);
  g_assert_cmpint (span_ms, >=, 4000);
  g_assert_cmpuint (frames, >=, (guint64) (span_ms * FPS / 1000) * 85 / 100);
  g_assert_cmpuint (frames, <=, (guint64) (span_ms * FPS / 1000) * 115 / 100);
  g_assert_cmpuint (f.invalid, ==, 0);

  /* The finished recording is freed after record.stopped: nothing may go
   * wrong there either (G_DEBUG=fatal-criticals kills the recorder on a
   * CRITICAL), and a clean recording logs no warning at all. */
  wr_fake_recorder_gateway_run_for (1000);
  {
    g_autofree char *log = wr_fake_recorder_gateway_log (&f);
    if (strstr (log, "CRITICAL") || strstr (log, "WARNING"))
      g_error ("the recorder complained; its log:\n%s", log);
  }
  if (by_sigterm) {
    /* It closes the link and exits 0 once the files are done. */
    g_subprocess_wait (f.recorder, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_if_exited (f.recorder));
    g_assert_cmpint (g_subprocess_get_exit_status (f.recorder), ==, 0);
  } else {
    assert_alive (&f);
  }
  assert_token_not_logged (&f, TOKEN);
  wr_test_sender_free (r.sender);
  wr_fake_recorder_gateway_stop (&f);
}

static void
test_wrong_token (void)
{
  WrFakeRecorderGateway f = { 0 };

  wr_fake_recorder_gateway_start (&f, TOKEN);
  wr_fake_recorder_gateway_spawn (&f, "not-the-token-0123456789", NULL);
  wr_fake_recorder_gateway_run_for (2500);
  /* Refused before any WebSocket, and it keeps trying (backoff). */
  g_assert_cmpuint (f.upgrades, ==, 0);
  g_assert_cmpuint (f.refused, >=, 2);
  assert_alive (&f);
  assert_token_not_logged (&f, "not-the-token-0123456789");
  {
    g_autofree char *log = wr_fake_recorder_gateway_log (&f);
    g_assert_nonnull (strstr (log, "refused the recorder token"));
  }
  wr_fake_recorder_gateway_stop (&f);
}

static void
test_wrong_pin (void)
{
  WrFakeRecorderGateway f = { 0 };
  g_autofree char *good = NULL;

  wr_fake_recorder_gateway_start (&f, TOKEN);
  /* Pin some other certificate: the handshake fails before the token is
   * sent. */
  good = f.fingerprint;
  f.fingerprint = g_strdup ("sha256:" "00112233445566778899aabbccddeeff"
      "00112233445566778899aabbccddeeff");
  wr_fake_recorder_gateway_spawn (&f, TOKEN, NULL);
  wr_fake_recorder_gateway_run_for (2000);
  g_assert_cmpuint (f.upgrades, ==, 0);
  g_assert_cmpuint (f.refused, ==, 0);
  assert_alive (&f);
  {
    g_autofree char *log = wr_fake_recorder_gateway_log (&f);
    g_assert_nonnull (strstr (log, "does not match the pinned"));
  }
  wr_fake_recorder_gateway_stop (&f);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recorder-link/bad-input", test_bad_input);
  g_test_add_data_func ("/recorder-link/record", GINT_TO_POINTER (FALSE),
      test_record);
  g_test_add_data_func ("/recorder-link/sigterm", GINT_TO_POINTER (TRUE),
      test_record);
  g_test_add_func ("/recorder-link/wrong-token", test_wrong_token);
  g_test_add_func ("/recorder-link/wrong-pin", test_wrong_pin);
  return g_test_run ();
}
