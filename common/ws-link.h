/* webremote: a WSS client link to the gateway, kept up by reconnecting:
 * the session with the pinned (or CA) TLS database, the credential (mTLS
 * client certificate or bearer token), JSON ping/pong keepalive, reconnect
 * with full-jitter backoff, the frame size limit and validation of every
 * message on one channel. The agent's link (agent/gateway-link.c) and the
 * recorder's (pipelines/recorder-link.c) are built on it. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "common/protocol.h"

G_BEGIN_DECLS

/* JSON ping every 20 s; the link is dead when nothing came for 60 s. */
#define WR_WS_LINK_PING_INTERVAL_MS 20000
#define WR_WS_LINK_DEAD_AFTER_MS 60000

#define WR_TYPE_WS_LINK (wr_ws_link_get_type ())
G_DECLARE_FINAL_TYPE (WrWsLink, wr_ws_link, WR, WS_LINK, GObject)

/* All run on the main context; every member may be NULL. */
typedef struct {
  /* The WebSocket is open (send the hello now). */
  void (*connected) (WrWsLink *link, gpointer user_data);
  /* A valid message of the link's channel other than ping and pong (an
   * `error` has been logged already); @ref is the request's ref or NULL. */
  void (*message) (WrWsLink *link, JsonObject *msg, const char *ref,
      gpointer user_data);
  /* An open connection went away (closed, broken, dead, or dropped); a
   * reconnect is scheduled after this returns unless the link stops. */
  void (*closed) (WrWsLink *link, gpointer user_data);
  /* While stopping: a connect that was in flight has ended. */
  void (*connect_abandoned) (WrWsLink *link, gpointer user_data);
} WrWsLinkCallbacks;

typedef struct {
  const char *display_url;     /* the gateway for log lines */
  const char *ws_url;          /* wss://... */
  const char *log_domain;      /* the owner's log domain */
  const char *user_agent;      /* "webremote-agent/" WR_VERSION */
  GTlsDatabase *tls_database;  /* (nullable): the only trust anchor (a
                                * WrPinnedTlsDatabase or CA file database);
                                * NULL = the system's CAs */
  const char *credential_name; /* "the gateway refused the %s (HTTP 401)" */
  const char *going_away;      /* close reason when stopping */
  WrChannel channel;           /* what the gateway sends on this link */
  /* Answer a binary or invalid message with an `error` (never an error
   * with an error); otherwise log and ignore it. */
  gboolean answer_invalid;
  guint reconnect_min_ms;
  guint reconnect_max_ms;
  const WrWsLinkCallbacks *callbacks;
  gpointer user_data;
} WrWsLinkOptions;

/* Returns: (transfer full): the link; call wr_ws_link_start(). Release it
 * with wr_ws_link_destroy(), never to call back again. */
WrWsLink *wr_ws_link_new (const WrWsLinkOptions *options);

/* Stops and drops the callbacks, then unrefs (a connect still in flight
 * keeps the link alive until it ends, silently). */
void wr_ws_link_destroy (WrWsLink *self);

/* mTLS: sent from the next connection on. */
void wr_ws_link_set_client_certificate (WrWsLink *self,
    GTlsCertificate *certificate);

/* "Authorization: Bearer TOKEN" on every connect; the token is never
 * logged and is wiped from memory. */
void wr_ws_link_set_bearer_token (WrWsLink *self, const char *token);

/* Connects, and reconnects with backoff until wr_ws_link_stop(). */
void wr_ws_link_start (WrWsLink *self);

/* After the gateway's welcome: the next reconnect delay is the minimum. */
void wr_ws_link_reset_backoff (WrWsLink *self);

gboolean wr_ws_link_is_open (WrWsLink *self);

/* Returns: %FALSE (nothing sent) when the link is down. */
gboolean wr_ws_link_send (WrWsLink *self, const char *text);

/* No more reconnects; cancels the connect in flight ("connect_abandoned"
 * follows). The connection, if open, stays until wr_ws_link_close(). */
void wr_ws_link_stop (WrWsLink *self);
gboolean wr_ws_link_is_stopping (WrWsLink *self);

/* A connect is in flight (also a cancelled one not yet ended). */
gboolean wr_ws_link_is_connecting (WrWsLink *self);

/* Starts the close handshake with the going-away reason. Returns: %TRUE
 * when it did ("closed" follows), %FALSE when nothing is open. */
gboolean wr_ws_link_close (WrWsLink *self);

/* Forgets the connection now ("closed" runs if there was one). */
void wr_ws_link_drop (WrWsLink *self);

G_END_DECLS
