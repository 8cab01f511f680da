/* webremote: the signaling relay between viewers and agents.
 *
 * Owns the sessions. Each validated message is dispatched through a
 * type -> handler table per channel (guacamole's user-handlers pattern);
 * the gateway relays SDP and ICE only within a session that belongs to the
 * sender.
 */
#pragma once

#include "gateway/agent-registry.h"
#include "gateway/auth.h"
#include "gateway/connection.h"
#include "gateway/audit.h"
#include "gateway/grant-signer.h"
#include "gateway/recorder-hub.h"

G_BEGIN_DECLS

typedef struct _WrSignaling WrSignaling;

/* At most this many live sessions per viewer connection. */
#define WR_SIGNALING_MAX_SESSIONS_PER_CLIENT 8

/**
 * wr_signaling_new:
 * @registry: (transfer none): must outlive the relay
 * @auth: (transfer none): checks the agent id an agent may claim
 * @store: (transfer none): permissions, agents and the session history;
 *   must outlive the relay. Its calls here are short indexed lookups made
 *   on the main loop, at WebSocket upgrade and session request time.
 */
WrSignaling *wr_signaling_new (WrAgentRegistry *registry, WrAuth *auth,
    WrStore *store);

/**
 * wr_signaling_disconnect_user:
 * Closes every signaling connection of @user (their sessions end), after
 * an administrator disabled, deleted or re-passworded the account.
 */
void wr_signaling_disconnect_user (WrSignaling *self, const char *user,
    const char *reason);
void wr_signaling_free (WrSignaling *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrSignaling, wr_signaling_free)

/** wr_signaling_add_client: takes over a browser's WebSocket. */
void wr_signaling_add_client (WrSignaling *self, WrConnection *conn);

/**
 * wr_signaling_add_agent:
 * @bound_agent_id: the id the agent's client certificate names; its
 *   agent.hello must claim that id
 */
void wr_signaling_add_agent (WrSignaling *self, WrConnection *conn,
    const char *bound_agent_id);

/**
 * wr_signaling_set_grant_signer:
 * @signer: (transfer none) (nullable): signs the grant of each session;
 *   must outlive the relay. Without one no session can start.
 *
 * Also starts the timer that renews live sessions' grants every
 * WR_GRANT_RENEW_INTERVAL_S seconds (session.grant).
 */
void wr_signaling_set_grant_signer (WrSignaling *self,
    WrGrantSigner *signer);

/**
 * wr_signaling_sessions_to_json:
 * @user: (nullable): only this user's sessions; %NULL for all
 * Returns: (transfer full): `{"sessions": [{sid, user, agent, display,
 * scopes, started_at, grant_expires_at, input_refused}]}`.
 */
JsonNode *wr_signaling_sessions_to_json (WrSignaling *self,
    const char *user);

/**
 * wr_signaling_set_audit:
 * @audit: (transfer none) (nullable): session, command and recording
 *   events are written here (fail closed); must outlive the relay
 */
void wr_signaling_set_audit (WrSignaling *self, WrAudit *audit);

/**
 * wr_signaling_set_recording:
 * @recorders: (transfer none): the connected recorders; must outlive the
 *   relay
 * @dir: where recorders write (DIR/<recording id>/segment-NNNNN.*): the
 *   gateway registers what a lost recorder left unfinished there
 *
 * Turns recording on (docs/compliance.md, "Recordings").
 */
void wr_signaling_set_recording (WrSignaling *self, WrRecorderHub *recorders,
    const char *dir, gint64 segment_seconds, gint64 start_timeout);

/**
 * wr_signaling_add_recorder:
 * @name: the recorder's name from its credential
 * Takes over an authenticated recorder's WebSocket (/ws/recorder).
 */
void wr_signaling_add_recorder (WrSignaling *self, WrConnection *conn,
    const char *name);

/** wr_signaling_get_session_count: live sessions, for status output. */
guint wr_signaling_get_session_count (WrSignaling *self);

G_END_DECLS
