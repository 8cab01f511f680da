/* webremote-recorder: the WebSocket to the gateway (/ws/recorder) and the
 * recordings it asks for (docs/protocol.md, "Recorder channel"). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The link is a WrWsLink (common/ws-link.h): JSON ping every 20 s, dead
 * when nothing came for 60 s, full-jitter reconnects. */
/* Recordings at once; a record.start beyond that gets record.failed. */
#define WR_RECORDER_MAX_RECORDINGS 64

#define WR_TYPE_RECORDER_LINK (wr_recorder_link_get_type ())
G_DECLARE_FINAL_TYPE (WrRecorderLink, wr_recorder_link, WR, RECORDER_LINK,
    GObject)

typedef struct {
  const char *gateway_url;     /* https://HOST:PORT */
  const char *name;            /* recorder.hello name */
  const char *dir;             /* recordings go to dir/<id>/ */
  const char *token;           /* the recorder token (never logged) */
  GTlsDatabase *tls_database;  /* (nullable): the only trust anchor; NULL
                                * = the system's CAs */
  const char *const *ice_addresses;  /* (nullable) */
  guint segment_seconds;       /* 0: record.start's segment_seconds */
  guint reconnect_min_ms;
  guint reconnect_max_ms;
} WrRecorderLinkOptions;

/**
 * wr_recorder_link_new:
 * Returns: (transfer full) (nullable): the link, or %NULL when the URL is
 *   not https:// (the token never travels in clear).
 */
WrRecorderLink *wr_recorder_link_new (const WrRecorderLinkOptions *options,
    GError **error);

/* Connects, and reconnects with full-jitter backoff until shut down. */
void wr_recorder_link_start (WrRecorderLink *self);

/**
 * wr_recorder_link_shutdown:
 * Stops every recording (their last segments are finished and, while the
 * link is up, reported), closes the WebSocket, then runs @done once (at
 * most about 12 s later).
 */
void wr_recorder_link_shutdown (WrRecorderLink *self, GSourceFunc done,
    gpointer user_data);

guint wr_recorder_link_get_n_recordings (WrRecorderLink *self);

G_END_DECLS
