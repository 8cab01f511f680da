/* webremote: the recorders connected to this gateway (/ws/recorder).
 *
 * Keeps who is connected under which name and how many recordings each
 * one runs, picks the least busy one for a new recording, and checks the
 * token of the local recorder the gateway started itself (kept only as a
 * hash, in memory). Main context only.
 */
#pragma once

#include "gateway/connection.h"

G_BEGIN_DECLS

typedef struct {
  WrConnection *conn;
  char *name;       /* from its credential */
  gboolean ready;   /* recorder.hello received */
  guint active;     /* recordings it runs */
} WrRecorderEntry;

typedef struct _WrRecorderHub WrRecorderHub;

WrRecorderHub *wr_recorder_hub_new (void);
void wr_recorder_hub_free (WrRecorderHub *hub);

/* Adds a new connection authenticated as @name (not ready yet). */
WrRecorderEntry *wr_recorder_hub_add (WrRecorderHub *hub, WrConnection *conn,
    const char *name);
/* (nullable) (transfer none) */
WrRecorderEntry *wr_recorder_hub_lookup (WrRecorderHub *hub,
    WrConnection *conn);
/* Forgets @conn; FALSE when it was unknown. */
gboolean wr_recorder_hub_remove (WrRecorderHub *hub, WrConnection *conn);
/* (nullable) (transfer none): the ready recorder with the fewest
 * recordings. */
WrRecorderEntry *wr_recorder_hub_pick (WrRecorderHub *hub);
guint wr_recorder_hub_count_ready (WrRecorderHub *hub);

/* The name under which the local recorder connects. */
#define WR_RECORDER_LOCAL_NAME "local"

/* Remembers the hash of the local recorder's token (per gateway start). */
void wr_recorder_hub_set_local_token (WrRecorderHub *hub, const char *token);
/* Whether @token is the local recorder's (constant-time compare). */
gboolean wr_recorder_hub_is_local_token (WrRecorderHub *hub,
    const char *token);

G_END_DECLS
