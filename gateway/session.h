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
