/* webremote-agent: sessions (sid -> peer), display pipelines and the
 * dispatch of gateway messages. */
#pragma once

#include <glib-object.h>

#include "agent/agent-config.h"
#include "agent/gateway-link.h"

G_BEGIN_DECLS

#define WR_TYPE_SESSION_MANAGER (wr_session_manager_get_type ())
G_DECLARE_FINAL_TYPE (WrSessionManager, wr_session_manager, WR,
    SESSION_MANAGER, GObject)

/**
 * wr_session_manager_new:
 * @config: (transfer none): must outlive the manager
 * @link: (transfer none): the gateway link; the manager answers its
 *   messages and announces the agent on each connect
 *
 * Returns: (transfer full): the manager.
 */
WrSessionManager *wr_session_manager_new (const WrAgentConfig *config,
    WrGatewayLink *link);

/**
 * wr_session_manager_end_all:
 * Ends every session: peers torn down, input released, pipelines stopped.
 * With @notify each gets a session.ended with @reason.
 */
void wr_session_manager_end_all (WrSessionManager *self, gboolean notify,
    const char *reason);

guint wr_session_manager_get_n_sessions (WrSessionManager *self);

/**
 * wr_session_manager_reload_profiles:
 * After SIGHUP (main.c has put the new active profile in force with
 * wr_display_pipeline_set_default_profile()): reads the profiles file
 * again for the list viewers may switch to, and switches every running
 * pipeline whose profile changed to its new settings live, keeping the
 * viewers' video (docs/pipelines.md, "Reloading").
 */
void wr_session_manager_reload_profiles (WrSessionManager *self);

G_END_DECLS
