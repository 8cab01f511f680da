/* webremote: one recording of a session (docs/compliance.md, "Recordings").
 *
 * The state the signaling relay keeps per recording (signaling.c drives
 * it), and its end: the segments a lost recorder left unfinished on disk
 * are hashed and registered as partial, the manifest is built and signed
 * and the recordings row finished, in a worker thread.
 */
#pragma once

#include "gateway/audit.h"
#include "gateway/connection.h"
#include "gateway/grant-signer.h"
#include "gateway/store-recording.h"

G_BEGIN_DECLS

typedef enum {
  WR_RECORDING_MODE_OFF,
  WR_RECORDING_MODE_BEST_EFFORT,
  WR_RECORDING_MODE_STRICT,
} WrRecordingMode;

/* "off" / "best-effort" / "strict"; anything else is off. */
WrRecordingMode wr_recording_mode_from_string (const char *text);

typedef enum {
  WR_RECORDING_STARTING,  /* record.start sent */
  WR_RECORDING_ON,        /* record.started received */
  WR_RECORDING_STOPPING,  /* record.stop sent */
  WR_RECORDING_DONE,
} WrRecordingState;

typedef struct {
  char *id;           /* the recording id: also the recorder's own sid */
  char *session;      /* the viewer session it records */
  char *agent_id;
  char *group;
  char *user;
  char *recorder_name;
  WrConnection *recorder;
  WrRecordingState state;
  gboolean media;     /* record.started was received */
  gint64 started_ms;
  guint timer_id;     /* the stop timeout */
} WrRecording;

WrRecording *wr_recording_new (const char *session, const char *agent_id,
    const char *group, const char *user, const char *recorder_name,
    WrConnection *recorder);
void wr_recording_free (WrRecording *rec);

/* Files of @id are DIR/<id>/segment-NNNNN.{mp4,webm}. */
char *wr_recording_dir (const char *dir, const char *id);

/* Whether @file is a name a recorder may write (segment-NNNNN.mp4/webm). */
gboolean wr_recording_file_name_is_valid (const char *file);

/**
 * wr_recording_finish_async:
 * @status: "complete", "interrupted" or "failed"
 * @scan_partial: register segment files on disk the store does not know
 *   (hashed now, partial)
 *
 * In a worker thread: (partial segments,) manifest, signature, the
 * recordings row, audit recording.ended. The objects must outlive it.
 */
void wr_recording_finish_async (WrStore *store, WrGrantSigner *signer,
    WrAudit *audit, const char *dir, const char *id, const char *status,
    gboolean scan_partial);

/* The same, synchronously; used by the worker and by tests. */
gboolean wr_recording_finish (WrStore *store, WrGrantSigner *signer,
    WrAudit *audit, const char *dir, const char *id, const char *status,
    gboolean scan_partial, GError **error);

/* Hashes @path: hex SHA-256 and size. */
gboolean wr_recording_hash_file (const char *path, char **sha256,
    gint64 *size, GError **error);

G_END_DECLS
