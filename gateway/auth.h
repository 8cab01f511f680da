/* webremote: who may use the gateway.
 *
 * WrAuth is the one seam between the protocol handlers and identity: the
 * handlers ask "who is this token?", "sign this user in", "is this agent
 * credential good?". The implementation (auth-store.c) keeps users and
 * tokens in the store; agents still present the pre-shared token until
 * enrollment replaces it behind the same interface.
 *
 * Every method is synchronous and thread-safe: the gateway calls them from
 * worker threads, never on the main loop (they hash passwords and wait for
 * the database).
 */
#pragma once

#include <glib-object.h>

#include "gateway/store.h"

G_BEGIN_DECLS

#define WR_AUTH_ERROR (wr_auth_error_quark ())
GQuark wr_auth_error_quark (void);

typedef enum {
  WR_AUTH_ERROR_INVALID_CREDENTIALS, /* 401 unauthorized */
  WR_AUTH_ERROR_RATE_LIMITED,        /* 429 rate_limited */
  WR_AUTH_ERROR_FAILED,              /* 500 internal */
  WR_AUTH_ERROR_TOTP_REQUIRED,       /* 401 totp_required */
  WR_AUTH_ERROR_TOTP_INVALID,        /* 401 totp_invalid */
  WR_AUTH_ERROR_LOCKED,              /* 423 locked */
  WR_AUTH_ERROR_UNAVAILABLE,         /* 503 unavailable: the audit log
                                      * cannot be written (fail closed) */
} WrAuthError;

/* An authenticated user, as of the token that identified them. */
typedef struct {
  gint64 user_id;
  char *name;
  char *display_name;
  WrPermission system_permissions; /* admin, audit, enroll */
  WrPermission token_scopes;       /* WR_PERM_ALL but for API tokens */
  GStrv oidc_groups;               /* nullable: the SSO groups claim */
  gboolean totp_enabled;
  gboolean sso;
} WrPrincipal;

WrPrincipal *wr_principal_new (gint64 user_id, const char *name);
WrPrincipal *wr_principal_copy (const WrPrincipal *principal);
void wr_principal_free (WrPrincipal *principal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrPrincipal, wr_principal_free)

/* wr_principal_has: whether @principal holds system permission @perm
 * (and its token is scoped for it). */
gboolean wr_principal_has (const WrPrincipal *principal, WrPermission perm);

/* What a sign-in gives. */
typedef struct {
  char *access_token;
  gint64 expires_in;          /* seconds */
  char *refresh_token;        /* for the HttpOnly cookie */
  gint64 refresh_expires_in;  /* seconds */
  WrPrincipal *principal;
} WrLogin;

void wr_login_free (WrLogin *login);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrLogin, wr_login_free)

typedef struct {
  const char *username;
  const char *password;
  const char *totp_code;      /* nullable */
  const char *recovery_code;  /* nullable */
  const char *client_address; /* nullable */
} WrLoginRequest;

#define WR_TYPE_AUTH (wr_auth_get_type ())
G_DECLARE_INTERFACE (WrAuth, wr_auth, WR, AUTH, GObject)

struct _WrAuthInterface {
  GTypeInterface g_iface;

  WrLogin *(*login) (WrAuth *self, const WrLoginRequest *request,
      GError **error);
  WrLogin *(*login_sso) (WrAuth *self, const char *issuer,
      const char *subject, const char *username, const char *display_name,
      const char *const *groups, const char *client_address, GError **error);
  WrLogin *(*refresh) (WrAuth *self, const char *refresh_token,
      const char *client_address, GError **error);
  WrPrincipal *(*authenticate_token) (WrAuth *self, const char *token,
      GError **error);
  void (*logout) (WrAuth *self, const char *access_token,
      const char *refresh_token, const char *client_address);
};

/**
 * wr_auth_login:
 * Checks a password (and a TOTP or recovery code when the account has
 * TOTP). Failures count towards the account lockout and the per-address
 * rate limit, both kept in the store.
 * Returns: (transfer full) (nullable): tokens for the user.
 */
WrLogin *wr_auth_login (WrAuth *self, const WrLoginRequest *request,
    GError **error);

/**
 * wr_auth_login_sso:
 * Signs in the user bound to an OpenID identity (created on first use)
 * whose ID token the caller has verified.
 */
WrLogin *wr_auth_login_sso (WrAuth *self, const char *issuer,
    const char *subject, const char *username, const char *display_name,
    const char *const *groups, const char *client_address, GError **error);

/**
 * wr_auth_refresh:
 * Rotates a refresh token. Reuse of an already used one revokes every
 * token of its sign-in.
 */
WrLogin *wr_auth_refresh (WrAuth *self, const char *refresh_token,
    const char *client_address, GError **error);

/**
 * wr_auth_authenticate_token:
 * Returns: (transfer full) (nullable): the user of an access or API token;
 * %NULL without @error when the token is not (or no longer) valid, %NULL
 * with @error when the store failed (the caller fails closed).
 */
WrPrincipal *wr_auth_authenticate_token (WrAuth *self, const char *token,
    GError **error);

/** wr_auth_logout: revokes an access token and a refresh token's family.
 * @client_address: (nullable): for the audit log. */
void wr_auth_logout (WrAuth *self, const char *access_token,
    const char *refresh_token, const char *client_address);


G_END_DECLS
