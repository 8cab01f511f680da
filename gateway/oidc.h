/* webremote: OpenID Connect login (authorization code flow with PKCE) as a
 * relying party: discovery, the authorization URL, the code exchange and
 * ID token verification against the provider's JWKS.
 *
 * Every function is synchronous and blocks on the network: call them from
 * a worker thread (g_task_run_in_thread), never from the main loop. A
 * WrOidcProvider is thread-safe; several threads may log users in at once. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WR_OIDC_ERROR (wr_oidc_error_quark ())
GQuark wr_oidc_error_quark (void);

typedef enum {
  WR_OIDC_ERROR_CONFIG,         /* the configuration is unusable */
  WR_OIDC_ERROR_DISCOVERY,      /* discovery document or JWKS unusable */
  WR_OIDC_ERROR_PROVIDER,       /* the provider is unreachable or failing */
  WR_OIDC_ERROR_STATE,          /* the callback's state is not the login's */
  WR_OIDC_ERROR_TOKEN_EXCHANGE, /* the token endpoint refused the code */
  WR_OIDC_ERROR_SIGNATURE,      /* the ID token is unsigned, forged or uses
                                   an algorithm we refuse */
  WR_OIDC_ERROR_CLAIMS,         /* iss, aud, azp, exp, iat, sub or the
                                   user claims are wrong */
  WR_OIDC_ERROR_NONCE,          /* the ID token is not for this login */
} WrOidcError;

/* Strings are borrowed; wr_oidc_provider_new() copies what it keeps. */
typedef struct {
  /* The issuer identifier, exactly as the provider spells it. https is
   * required; http is allowed only for loopback issuers
   * (http://127.0.0.1, http://[::1], http://localhost), which exist for
   * tests and are not for production use. */
  const char *issuer;
  const char *client_id;
  const char *client_secret; /* nullable: a public client (PKCE only) */
  const char *redirect_uri;  /* the gateway's callback URL */
  const char *scopes;        /* nullable: "openid profile email groups" */
  const char *groups_claim;  /* nullable: "groups" */
  const char *username_claim; /* nullable: "preferred_username" */
} WrOidcConfig;

#define WR_OIDC_DEFAULT_SCOPES "openid profile email groups"
#define WR_OIDC_DEFAULT_GROUPS_CLAIM "groups"
#define WR_OIDC_DEFAULT_USERNAME_CLAIM "preferred_username"

/* Bounds on what a provider can hand us. */
#define WR_OIDC_MAX_GROUPS 256
#define WR_OIDC_MAX_GROUP_LENGTH 256
#define WR_OIDC_MAX_RESPONSE (1024 * 1024)
/* Allowed clock difference with the provider for exp and iat. */
#define WR_OIDC_CLOCK_SKEW 60

typedef struct _WrOidcProvider WrOidcProvider;

/* One login in progress, from wr_oidc_begin() to wr_oidc_finish(). The
 * caller keeps it server-side, keyed by @state, for a few minutes at most,
 * and uses it once. Every member is secret except @authorize_url. */
typedef struct {
  char *state;         /* random, sent back on the callback */
  char *nonce;         /* random, must come back in the ID token */
  char *code_verifier; /* PKCE (RFC 7636), never leaves the gateway */
  char *authorize_url; /* where to send the browser */
  gint64 created_at;   /* g_get_real_time() / G_USEC_PER_SEC */
} WrOidcLogin;

/* The verified user. */
typedef struct {
  char *issuer;
  char *subject;  /* "sub": stable per issuer; (issuer, subject) is the key */
  char *username; /* the username claim; when absent, "email", else "sub" */
  char *email;    /* nullable */
  char *name;     /* nullable: "name" */
  GStrv groups;   /* the groups claim; never %NULL, maybe empty */
} WrOidcIdentity;

/**
 * wr_oidc_provider_new:
 * @config: the relying party configuration (copied)
 * @tls_database: (nullable): the CAs to trust for the provider's HTTPS
 *   (tests use their own CA); %NULL for the system's
 *
 * Checks the configuration; does no network I/O.
 *
 * Returns: (transfer full) (nullable): the provider.
 */
WrOidcProvider *wr_oidc_provider_new (const WrOidcConfig *config,
    GTlsDatabase *tls_database, GError **error);
WrOidcProvider *wr_oidc_provider_ref (WrOidcProvider *provider);
void wr_oidc_provider_unref (WrOidcProvider *provider);

/**
 * wr_oidc_provider_discover:
 *
 * Fetches ISSUER/.well-known/openid-configuration (OpenID Connect
 * Discovery 1.0 section 4), checks that its "issuer" is the configured one
 * exactly, keeps the endpoints and fetches the JWKS. Called again, it
 * refreshes both. wr_oidc_begin() and wr_oidc_finish() discover on first
 * use, so calling this is optional (it lets a gateway fail at start).
 *
 * Returns: %TRUE on success.
 */
gboolean wr_oidc_provider_discover (WrOidcProvider *provider, GError **error);

/** wr_oidc_provider_get_issuer: Returns: (transfer none): the issuer. */
const char *wr_oidc_provider_get_issuer (WrOidcProvider *provider);

/**
 * wr_oidc_begin:
 *
 * Makes a fresh state, nonce and PKCE verifier (S256) and the
 * authorization URL carrying them.
 *
 * Returns: (transfer full) (nullable): the login to keep until the
 * callback.
 */
WrOidcLogin *wr_oidc_begin (WrOidcProvider *provider, GError **error);
void wr_oidc_login_free (WrOidcLogin *login);

/**
 * wr_oidc_finish:
 * @login: the login stored under @returned_state
 * @returned_state: the callback's "state" parameter
 * @code: the callback's "code" parameter
 *
 * Checks the state, exchanges the code (with the PKCE verifier) at the
 * token endpoint, verifies the ID token (signature against the JWKS,
 * refetched once for an unknown "kid"; iss, aud, azp, exp, iat, nonce) and
 * reads the user claims, from the ID token or else the UserInfo endpoint.
 * A login must be finished at most once: the caller drops it first.
 *
 * Returns: (transfer full) (nullable): the verified identity.
 */
WrOidcIdentity *wr_oidc_finish (WrOidcProvider *provider,
    const WrOidcLogin *login, const char *returned_state, const char *code,
    GError **error);

/**
 * wr_oidc_verify_id_token:
 * @id_token: a compact JWS ID token
 * @nonce: the login's nonce
 * @now: the current time in unix seconds (tests pass other times)
 *
 * The ID token checks of wr_oidc_finish() alone (OpenID Connect Core 1.0
 * section 3.1.3.7), for tests and for callers that get an ID token some
 * other way. The user claims come from the token only.
 *
 * Returns: (transfer full) (nullable): the identity in the token.
 */
WrOidcIdentity *wr_oidc_verify_id_token (WrOidcProvider *provider,
    const char *id_token, const char *nonce, gint64 now, GError **error);

void wr_oidc_identity_free (WrOidcIdentity *identity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrOidcProvider, wr_oidc_provider_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrOidcLogin, wr_oidc_login_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrOidcIdentity, wr_oidc_identity_free)

G_END_DECLS
