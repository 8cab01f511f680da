/* webremote: the built-in WrAuth: one admin account and a pre-shared agent
 * token. Replaced by the store-backed identity; see auth.h. */
#pragma once

#include "gateway/auth.h"

G_BEGIN_DECLS

#define WR_TYPE_AUTH_LOCAL (wr_auth_local_get_type ())
G_DECLARE_FINAL_TYPE (WrAuthLocal, wr_auth_local, WR, AUTH_LOCAL, GObject)

/**
 * wr_auth_local_new:
 * @admin_user: the admin account's name
 * @state_dir: where the admin password hash lives (`admin-password`)
 * @agent_token: (nullable): the pre-shared agent token; %NULL refuses every
 *   agent
 * @token_lifetime: access token lifetime in seconds
 *
 * The admin password comes from the environment variable
 * WEBREMOTE_ADMIN_PASSWORD when set; otherwise from the Argon2id hash in
 * @state_dir, which is created with a random password on first start (the
 * password is printed once on standard output).
 *
 * Returns: (transfer full) (nullable): the authenticator.
 */
WrAuthLocal *wr_auth_local_new (const char *admin_user, const char *state_dir,
    const char *agent_token, gint64 token_lifetime, GError **error);

G_END_DECLS
