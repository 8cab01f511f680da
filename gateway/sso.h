/* webremote: single sign-on with an OpenID provider: the pending sign-ins
 * between the redirect to the provider and its callback, and the hand-over
 * from a verified identity (oidc.c) to a gateway sign-in (WrAuth). */
#pragma once

#include "gateway/auth.h"
#include "gateway/oidc.h"

G_BEGIN_DECLS

/* A browser has this long to come back from the provider. */
#define WR_SSO_PENDING_SECONDS 600
/* Bounds the memory that unfinished sign-ins can take. */
#define WR_SSO_PENDING_MAX 1000

typedef struct _WrSso WrSso;

/**
 * wr_sso_new:
 * @provider: (transfer none): the relying party (a reference is kept)
 * @label: the sign-in button's text
 */
WrSso *wr_sso_new (WrOidcProvider *provider, const char *label);
void wr_sso_free (WrSso *sso);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrSso, wr_sso_free)

const char *wr_sso_get_label (WrSso *sso);

/**
 * wr_sso_start:
 * Begins a sign-in (state, nonce, PKCE) and remembers it by its state.
 * Returns: (transfer full) (nullable): the provider URL to send the
 * browser to.
 */
char *wr_sso_start (WrSso *sso, GError **error);

/**
 * wr_sso_finish:
 * Takes the pending sign-in of @state (once: a replayed callback finds
 * nothing), verifies the provider's answer and signs the user in, with
 * the groups claim deciding their permissions. @client_address:
 * (nullable): for the audit log.
 * Returns: (transfer full) (nullable): the sign-in.
 */
WrLogin *wr_sso_finish (WrSso *sso, WrAuth *auth, const char *state,
    const char *code, const char *client_address, GError **error);

G_END_DECLS
