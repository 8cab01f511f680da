/* webremote: the local recorder the gateway starts itself
 * ([recording] local-recorder, docs/config.md).
 *
 * The child is webremote-recorder dialling this gateway's /ws/recorder on
 * loopback. Its credential is a random token made per gateway start: the
 * child reads it on stdin (--token-stdin), the gateway keeps only its
 * hash for the check (recorder-hub.h) and the token itself in memory for
 * restarts; it is never written to disk or logged. It pins the gateway's
 * certificate (--ca-fingerprint), writes to [recording] dir, and is
 * restarted with backoff (1 s doubling to 30 s) whenever it exits.
 */
#pragma once

#include "gateway/recorder-hub.h"

G_BEGIN_DECLS

typedef struct _WrRecorderSpawn WrRecorderSpawn;

/**
 * wr_recorder_spawn_find_binary:
 * @configured: (nullable): [recording] recorder-binary
 * Returns: (transfer full) (nullable): @configured, else
 * webremote-recorder next to /proc/self/exe, else
 * ../pipelines/webremote-recorder relative to it (the build tree), else
 * the one on PATH.
 */
char *wr_recorder_spawn_find_binary (const char *configured);

/**
 * wr_recorder_spawn_start:
 * @url: the gateway's base URL, https://127.0.0.1:PORT
 * @ice_addresses: (nullable): comma-separated, --ice-address each
 *
 * Starts the child and keeps it running until wr_recorder_spawn_free().
 */
WrRecorderSpawn *wr_recorder_spawn_start (const char *binary,
    const char *url, const char *fingerprint, const char *dir,
    const char *ice_addresses, gint64 segment_seconds, WrRecorderHub *hub);

/* The child's process id, 0 when none runs. */
GPid wr_recorder_spawn_get_pid (WrRecorderSpawn *spawn);

/* Stops the child (SIGTERM, then SIGKILL after 2 s) and frees. */
void wr_recorder_spawn_free (WrRecorderSpawn *spawn);

G_END_DECLS
