/* webremote: WrAuth over the store: local accounts with Argon2id, TOTP,
 * lockout and rate limits, access/refresh/API tokens, SSO identities. */
#pragma once

#include "common/keyring.h"
#include "gateway/audit.h"
#include "gateway/auth.h"
#include "gateway/store.h"

G_BEGIN_DECLS

typedef struct {
  gint64 access_lifetime;   /* seconds, at most 600 */
  gint64 refresh_lifetime;  /* seconds */
  guint lockout_threshold;  /* failed logins that lock an account */
  gint64 lockout_seconds;
  guint address_max;        /* failed logins per address per window */
  gint64 address_window;    /* seconds */
} WrAuthPolicy;

/* The defaults documented in docs/config.md. */
void wr_auth_policy_init_defaults (WrAuthPolicy *policy);

#define WR_TYPE_AUTH_STORE (wr_auth_store_get_type ())
G_DECLARE_FINAL_TYPE (WrAuthStore, wr_auth_store, WR, AUTH_STORE, GObject)

/**
 * wr_auth_store_new:
 * @store: (transfer none): must outlive the authenticator
 * @keyring: (transfer none): seals TOTP secrets; must outlive it
 *
 * Agents are not authenticated here: they show their enrolled client
 * certificate (enroll.c).
 */
WrAuthStore *wr_auth_store_new (WrStore *store, WrKeyring *keyring,
    const WrAuthPolicy *policy);

/**
 * wr_auth_store_set_audit:
 * @audit: (transfer none) (nullable): must outlive the authenticator
 *
 * From now on every sign-in attempt (ok, failed, denied), sign-out and
 * refresh token reuse is written to @audit. A successful sign-in's tokens
 * and its audit row commit together: when the row cannot be written no
 * token is issued and the sign-in fails with WR_AUTH_ERROR_UNAVAILABLE;
 * so does a failed attempt whose row cannot be written.
 */
void wr_auth_store_set_audit (WrAuthStore *self, WrAudit *audit);

/**
 * wr_auth_hash_password:
 * Returns: (transfer full) (nullable): an Argon2id encoded hash.
 */
char *wr_auth_hash_password (const char *password, GError **error);

/** wr_auth_verify_password: whether @password matches @encoded. */
gboolean wr_auth_verify_password (const char *encoded, const char *password);

/**
 * wr_auth_check_password_policy:
 * Refuses passwords shorter than 8 characters or longer than 1024 bytes,
 * or not UTF-8, with a message for the user.
 */
gboolean wr_auth_check_password_policy (const char *password,
    GError **error);

/**
 * wr_auth_bootstrap_admin:
 * On a store without users, creates the account @name with the admin role
 * on every group. Its password is WEBREMOTE_ADMIN_PASSWORD when set, else
 * a random one printed once on standard output. The account, its grant
 * and their audit rows (@audit nullable; actor "system") commit together.
 */
gboolean wr_auth_bootstrap_admin (WrStore *store, WrAudit *audit,
    const char *name, GError **error);

G_END_DECLS
