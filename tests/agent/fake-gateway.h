/* A fake gateway for agent tests: a libsoup WSS server on loopback that
 * the real webremote-agent binary connects to with mTLS (a client
 * certificate from a test CA, as after enrollment), with Xvfb for its display
 * and an Ed25519 key the agent is told to trust for grants and commands.
 * Shared by the agent tests that drive the binary (test-commands.c). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

typedef struct {
  char *dir;
  GTlsCertificate *cert;
  GTlsCertificate *client_ca;    /* the test CA of the agent's certificate */
  char *client_ca_file;
  char *agent_state;             /* the agent's --state-dir (mTLS, no token) */
  guint refused;                 /* agent connections refused */
  char *fingerprint;
  SoupServer *server;
  char *base_url;
  SoupWebsocketConnection *ws;   /* the agent's connection */
  GQueue received;               /* JsonObject, validated agent -> gateway */
  guint invalid;                 /* messages that failed validation */

  EVP_PKEY *key;                 /* "the gateway's" grant key */
  EVP_PKEY *other;               /* anyone else's */

  GSubprocess *xvfb;
  char *display;
  GSubprocess *agent;
  char *agent_id;
  char *agent_log;
  char *first_display;           /* from agent.hello */
} WrFakeGateway;

/**
 * wr_fake_gateway_setup:
 * @conf: the agent's configuration file contents
 *
 * Starts the server, Xvfb and the agent, and answers the agent's hello
 * (fails the test after 15 s without one). Arms a 50 s watchdog.
 */
void wr_fake_gateway_setup (WrFakeGateway *f, const char *agent_id,
    const char *conf);
void wr_fake_gateway_teardown (WrFakeGateway *f);

void wr_fake_gateway_send (WrFakeGateway *f, JsonBuilder *b);
void wr_fake_gateway_run_for (guint ms);

/**
 * wr_fake_gateway_take:
 * @sid: (nullable): only a message with this sid
 * Returns: (transfer full) (nullable): the first received message of
 *   @type, removed from the queue; waits up to @ms.
 */
JsonObject *wr_fake_gateway_take (WrFakeGateway *f, const char *type,
    const char *sid, guint ms);

/** Returns: (transfer full): what the agent wrote to stderr so far. */
char *wr_fake_gateway_agent_log (WrFakeGateway *f);

/** Returns: (transfer full): a grant for @sid on the first display. */
char *wr_fake_gateway_grant (WrFakeGateway *f, EVP_PKEY *key,
    const char *sid, const char *const *scopes);

/** Sends session.start for @sid with @grant on the first display. */
void wr_fake_gateway_start_session (WrFakeGateway *f, const char *sid,
    const char *grant);

G_END_DECLS
