/* webremote: one viewing/control session between a client and an agent. */
#pragma once

#include "gateway/connection.h"

G_BEGIN_DECLS

/* Scopes a session may ask for (docs/protocol.md). */
#define WR_SCOPE_VIEW "view"
#define WR_SCOPE_CONTROL "control"

typedef struct {
  char *sid;
  char *user;
  char *agent_id;
  char *display;
  char *reason;
  GStrv scopes;
  WrConnection *client; /* the viewer's signaling connection */
  WrConnection *agent;  /* the agent connection the session runs on */
  gint64 created;       /* unix seconds */
  gint64 grant_expires; /* exp of the last grant sent to the agent */
  guint64 input_refused; /* input messages the agent refused (session.refused) */

  /* Recording (docs/compliance.md). A viewer session carries its policy
   * and its current recording; a recorder's own receive-only session
   * (sid = the recording id, client = the recorder's connection) is marked
   * is_recorder and names the session it records. */
  int recording_mode;     /* WrRecordingMode */
  char *recording_id;     /* (nullable): the current recording */
  char *group;            /* the agent's group at request time */
  gboolean is_recorder;
  char *recorded_sid;     /* (nullable): for a recorder session */
  gboolean started;       /* the viewer's first sdp.answer was seen */
  char *held_granted;     /* (nullable): strict mode: session.granted and */
  char *held_start;       /* session.start held until record.started */
  char *held_ref;         /* (nullable): the id of the held request */
  guint hold_timer;       /* the start timeout of a held session */
} WrSession;

/**
 * wr_session_new:
 * Returns: (transfer full): a session with a new random id; keeps
 * references on both connections.
 */
WrSession *wr_session_new (const char *user, const char *agent_id,
    const char *display, const char *const *scopes, WrConnection *client,
    WrConnection *agent);
void wr_session_free (WrSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrSession, wr_session_free)


G_END_DECLS
