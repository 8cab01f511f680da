/* webremote: who may use the gateway.
 *
 * WrAuth is the one seam between the protocol handlers and identity: the
 * handlers only ask "who is this token?" and "is this agent credential
 * good?". Today's implementation (auth-local.c) has one admin account and a
 * pre-shared agent token; the store-backed identity and the mTLS enrollment
 * replace it by implementing this interface.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define WR_AUTH_ERROR (wr_auth_error_quark ())
GQuark wr_auth_error_quark (void);

typedef enum {
  WR_AUTH_ERROR_INVALID_CREDENTIALS, /* HTTP 401 */
  WR_AUTH_ERROR_RATE_LIMITED,        /* HTTP 429 */
  WR_AUTH_ERROR_FAILED,              /* HTTP 500 */
} WrAuthError;

/* An authenticated user. Plain value data. */
typedef struct {
  char *name;
  gboolean admin;
} WrPrincipal;

WrPrincipal *wr_principal_new (const char *name, gboolean admin);
WrPrincipal *wr_principal_copy (const WrPrincipal *principal);
void wr_principal_free (WrPrincipal *principal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrPrincipal, wr_principal_free)

#define WR_TYPE_AUTH (wr_auth_get_type ())
G_DECLARE_INTERFACE (WrAuth, wr_auth, WR, AUTH, GObject)

struct _WrAuthInterface {
  GTypeInterface g_iface;

  char *(*login) (WrAuth *self, const char *username, const char *password,
      const char *client_address, gint64 *expires_in,
      WrPrincipal **principal, GError **error);
  WrPrincipal *(*authenticate_token) (WrAuth *self, const char *token);
  void (*logout) (WrAuth *self, const char *token);
  char *(*authenticate_agent) (WrAuth *self, const char *credential,
      GError **error);
};

/**
 * wr_auth_login:
 * @client_address: (nullable): the peer's address, for rate limiting
 * @expires_in: (out): the token's lifetime in seconds
 * @principal: (out) (transfer full): who logged in
 *
 * Checks a username and password.
 *
 * Returns: (transfer full) (nullable): a new access token, or %NULL with
 * WR_AUTH_ERROR_INVALID_CREDENTIALS or WR_AUTH_ERROR_RATE_LIMITED.
 */
char *wr_auth_login (WrAuth *self, const char *username, const char *password,
    const char *client_address, gint64 *expires_in, WrPrincipal **principal,
    GError **error);

/**
 * wr_auth_authenticate_token:
 * Returns: (transfer full) (nullable): the user an access token belongs to,
 * or %NULL when it is unknown or expired.
 */
WrPrincipal *wr_auth_authenticate_token (WrAuth *self, const char *token);

/**
 * wr_auth_logout:
 * Revokes an access token; unknown tokens are ignored.
 */
void wr_auth_logout (WrAuth *self, const char *token);

/**
 * wr_auth_authenticate_agent:
 * @credential: what the agent presented (its bearer token)
 *
 * Returns: (transfer full) (nullable): the agent id the credential is bound
 * to, or "" when it may claim any id; %NULL when refused.
 */
char *wr_auth_authenticate_agent (WrAuth *self, const char *credential,
    GError **error);

G_END_DECLS
