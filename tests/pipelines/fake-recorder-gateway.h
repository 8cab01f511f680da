/* Recorder tests: a fake gateway for the real webremote-recorder binary: a
 * libsoup WSS server on loopback (self-signed certificate, pinned by the
 * recorder) that serves /ws/recorder with a bearer token. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  char *dir;                     /* scratch; recordings in dir/rec */
  char *rec_dir;
  GTlsCertificate *cert;
  char *fingerprint;
  SoupServer *server;
  char *base_url;
  char *token;                   /* the token the server accepts */
  guint upgrades;                /* accepted WebSocket connections */
  guint refused;                 /* requests with a wrong token */
  SoupWebsocketConnection *ws;   /* the recorder's connection */
  gboolean ws_closed;
  GQueue received;               /* JsonObject, validated R2G */
  guint invalid;                 /* messages that failed validation */

  GSubprocess *recorder;
  char *recorder_log;
} WrFakeRecorderGateway;

/* Starts the server accepting @token. */
void wr_fake_recorder_gateway_start (WrFakeRecorderGateway *f,
    const char *token);

/**
 * wr_fake_recorder_gateway_spawn:
 * @token: what the recorder is given (on stdin)
 * @...: extra arguments, NULL-terminated
 * Starts webremote-recorder from the build tree against this server,
 * --ca-fingerprint pinned, ICE on 127.0.0.1, logging to recorder_log.
 */
void wr_fake_recorder_gateway_spawn (WrFakeRecorderGateway *f,
    const char *token, ...) G_GNUC_NULL_TERMINATED;

/* Waits for recorder.hello and answers recorder.welcome. */
void wr_fake_recorder_gateway_handshake (WrFakeRecorderGateway *f);

void wr_fake_recorder_gateway_send (WrFakeRecorderGateway *f,
    JsonBuilder *b);
void wr_fake_recorder_gateway_send_text (WrFakeRecorderGateway *f,
    const char *text);

/**
 * wr_fake_recorder_gateway_take:
 * @type: (nullable): any type when %NULL
 * @sid: (nullable): only a message with this sid
 * Returns: (transfer full) (nullable): the first received message that
 *   matches, removed from the queue; waits up to @ms.
 */
JsonObject *wr_fake_recorder_gateway_take (WrFakeRecorderGateway *f,
    const char *type, const char *sid, guint ms);

void wr_fake_recorder_gateway_run_for (guint ms);

/* Returns: (transfer full): the recorder's log so far. */
char *wr_fake_recorder_gateway_log (WrFakeRecorderGateway *f);

void wr_fake_recorder_gateway_stop (WrFakeRecorderGateway *f);

G_END_DECLS
