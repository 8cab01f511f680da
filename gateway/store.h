/* webremote: the gateway's persistent state: users, roles, agent groups,
 * grants, tokens, login throttling and sessions.
 *
 * One domain API over WrDb (db.h), so SQLite (the embedded default, one
 * file) and PostgreSQL (several gateways sharing state) behave the same.
 *
 * Every function is synchronous and thread-safe and touches no main
 * context: the gateway calls them from worker threads. Every value reaches
 * the database as a bound parameter. Text is checked here first: valid
 * UTF-8, no control characters in names, length limits below; bad input
 * fails with WR_STORE_ERROR_INVALID and writes nothing.
 *
 * Error messages are meant for users (names, not SQL); backend details go
 * to g_debug. Times are unix seconds, passed in by the caller (`now`) so
 * tests and several gateways agree on one clock source per call.
 *
 * Secrets never enter the store in clear: callers pass password hashes
 * (Argon2id), token hashes and recovery code hashes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WR_STORE_ERROR (wr_store_error_quark ())
GQuark wr_store_error_quark (void);

typedef enum {
  WR_STORE_ERROR_NOT_FOUND,       /* HTTP 404 */
  WR_STORE_ERROR_CONFLICT,        /* HTTP 409: exists already, still in use */
  WR_STORE_ERROR_INVALID,         /* HTTP 400: bad input, built-in object */
  WR_STORE_ERROR_FAILED,          /* HTTP 500/503: the backend failed */
  WR_STORE_ERROR_SCHEMA_TOO_NEW,  /* at open: database newer than binary */
} WrStoreError;

/* Limits in bytes, checked before anything reaches the database. */
#define WR_STORE_MAX_NAME 128          /* user, role, group, agent names/ids */
#define WR_STORE_MAX_DISPLAY_NAME 256
#define WR_STORE_MAX_SECRET 1024       /* password hashes, TOTP secrets */
#define WR_STORE_MAX_HASH 128          /* token and recovery code hashes */
#define WR_STORE_MAX_ADDRESS 128       /* client addresses */
#define WR_STORE_MAX_SUBJECT 256       /* OIDC subject, OIDC group claims */
#define WR_STORE_MAX_ISSUER 1024       /* OIDC issuer URL */
#define WR_STORE_MAX_REASON 1024       /* session reason or ticket text */
#define WR_STORE_MAX_RECOVERY_CODES 64

/* Permissions. The first six apply to agents of a group (session scopes);
 * admin, audit and enroll are system permissions. */
typedef enum {
  WR_PERM_VIEW          = 1 << 0,
  WR_PERM_CONTROL       = 1 << 1,
  WR_PERM_CLIPBOARD     = 1 << 2,
  WR_PERM_FILE_TRANSFER = 1 << 3,
  WR_PERM_COMMAND       = 1 << 4,
  WR_PERM_RECORD        = 1 << 5,
  WR_PERM_ADMIN         = 1 << 6,
  WR_PERM_AUDIT         = 1 << 7,
  WR_PERM_ENROLL        = 1 << 8,
} WrPermission;

#define WR_PERM_NONE ((WrPermission) 0)
#define WR_PERM_AGENT_MASK ((WrPermission) (WR_PERM_VIEW | WR_PERM_CONTROL | \
    WR_PERM_CLIPBOARD | WR_PERM_FILE_TRANSFER | WR_PERM_COMMAND | \
    WR_PERM_RECORD))
#define WR_PERM_SYSTEM_MASK ((WrPermission) (WR_PERM_ADMIN | WR_PERM_AUDIT | \
    WR_PERM_ENROLL))
#define WR_PERM_ALL ((WrPermission) (WR_PERM_AGENT_MASK | WR_PERM_SYSTEM_MASK))

/**
 * wr_permissions_from_string:
 * @text: names separated by spaces (or tabs/commas), e.g. "view control";
 *   "" is the empty set
 * @permissions: (out): the set
 *
 * Returns: %FALSE with WR_STORE_ERROR_INVALID naming the first unknown
 * permission.
 */
gboolean wr_permissions_from_string (const char *text,
    WrPermission *permissions, GError **error);

/* Returns: (transfer full): the names in canonical order, space-separated
 * ("" for none). */
char *wr_permissions_to_string (WrPermission permissions);

/* Returns: (transfer full): the names as a %NULL-terminated array. */
GStrv wr_permissions_to_strv (WrPermission permissions);

/* Returns: the name of one permission bit, or %NULL. */
const char *wr_permission_get_name (WrPermission permission);

typedef struct _WrStore WrStore;

/**
 * wr_store_open:
 * @url_or_path: `postgresql://...` or `postgres://...` for PostgreSQL;
 *   anything else is an SQLite file path
 *
 * Opens the database and applies pending migrations. A database whose
 * schema is newer than this binary knows is refused with
 * WR_STORE_ERROR_SCHEMA_TOO_NEW ("database schema version N is newer than
 * this gateway (M); upgrade the gateway").
 *
 * Returns: (transfer full) (nullable): the store.
 */
WrStore *wr_store_open (const char *url_or_path, GError **error);
void wr_store_close (WrStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrStore, wr_store_close)

/* "sqlite" or "postgresql". */
const char *wr_store_get_backend_name (WrStore *store);
/* The schema version after migration. */
int wr_store_get_schema_version (WrStore *store);

/**
 * wr_store_begin:
 *
 * Starts a transaction on the store's connection (db.h wr_db_begin()), so
 * that a caller can commit an action and its audit row (audit.h) together:
 * every store call and wr_audit_append() made by this thread until
 * wr_store_commit() or wr_store_rollback() joins it. Other threads' calls
 * on this WrStore wait meanwhile, so keep it short. On success exactly one
 * of wr_store_commit() or wr_store_rollback() must follow on the same
 * thread. Nested begins join the outer transaction; a nested rollback
 * makes the outer commit fail.
 *
 * Returns: %FALSE with WR_STORE_ERROR_FAILED (nothing is held then).
 */
gboolean wr_store_begin (WrStore *store, GError **error);
/* Commits; %FALSE with WR_STORE_ERROR_FAILED when nothing was committed. */
gboolean wr_store_commit (WrStore *store, GError **error);
/* Rolls back and releases the connection. */
void wr_store_rollback (WrStore *store);

/* ------------------------------------------------------------------ */
/* Users */

typedef struct {
  gint64 id;
  char *name;
  char *display_name;
  char *password_hash;   /* nullable: SSO-only account */
  char *oidc_issuer;     /* nullable */
  char *oidc_subject;    /* nullable */
  gboolean disabled;
  char *totp_secret;     /* nullable; stored as given (encrypted by caller) */
  gboolean totp_enabled;
  int failed_logins;
  gint64 locked_until;   /* 0 or a time; locked while now < locked_until */
  gint64 created_at;
  GStrv oidc_groups;     /* nullable: groups claim of the last SSO sign-in */
  gint64 totp_last_step; /* last TOTP time step accepted */
} WrUser;

void wr_user_free (WrUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrUser, wr_user_free)

/**
 * wr_store_user_create:
 * @display_name: (nullable): defaults to @name
 * @password_hash: (nullable): %NULL for an account that signs in by SSO
 *   only
 *
 * Returns: (transfer full) (nullable): the new user, or %NULL with
 * WR_STORE_ERROR_CONFLICT when the name is taken.
 */
WrUser *wr_store_user_create (WrStore *store, const char *name,
    const char *display_name, const char *password_hash, GError **error);

/* Returns: (transfer full) (nullable): the user, or %NULL with
 * WR_STORE_ERROR_NOT_FOUND. */
WrUser *wr_store_user_get_by_name (WrStore *store, const char *name,
    GError **error);
WrUser *wr_store_user_get_by_id (WrStore *store, gint64 id, GError **error);

/* Returns: (transfer full) (element-type WrUser): every user by name. */
GPtrArray *wr_store_user_list (WrStore *store, GError **error);

/**
 * wr_store_user_set_password:
 * @password_hash: (nullable): %NULL removes the password (SSO only)
 *
 * Also revokes the user's login sessions (access tokens of kind
 * WR_TOKEN_ACCESS and every refresh token) in the same transaction. API
 * tokens stay; revoke them with wr_store_access_token_revoke_api().
 */
gboolean wr_store_user_set_password (WrStore *store, gint64 id,
    const char *password_hash, GError **error);

/* Disabling also revokes the user's login sessions (as above). A disabled
 * user's tokens of any kind are refused at lookup. */
gboolean wr_store_user_set_disabled (WrStore *store, gint64 id,
    gboolean disabled, GError **error);

/* @secret: (nullable). Enabling needs a secret. */
gboolean wr_store_user_set_totp (WrStore *store, gint64 id,
    const char *secret, gboolean enabled, GError **error);

gboolean wr_store_user_set_display_name (WrStore *store, gint64 id,
    const char *display_name, GError **error);

/**
 * wr_store_user_set_oidc_groups:
 * @groups: (nullable) (array zero-terminated=1): the groups claim of this
 *   sign-in (at most 256 names of at most 256 bytes)
 */
gboolean wr_store_user_set_oidc_groups (WrStore *store, gint64 id,
    const char *const *groups, GError **error);

/**
 * wr_store_user_claim_totp_step:
 * @claimed: (out): %TRUE when @step was later than the last accepted one
 *   and is now recorded; %FALSE when it (or a later one) was used already
 *
 * Atomic, so of two gateways checking the same code at once one wins.
 */
gboolean wr_store_user_claim_totp_step (WrStore *store, gint64 id,
    gint64 step, gboolean *claimed, GError **error);

/* Deletes the user, their tokens and recovery codes and the grants naming
 * them; their sessions stay as history with no user. */
gboolean wr_store_user_delete (WrStore *store, gint64 id, GError **error);

/**
 * wr_store_user_upsert_oidc:
 * @preferred_name: (nullable): e.g. the preferred_username claim
 * @display_name: (nullable): e.g. the name claim; used on creation only
 *
 * Finds the user bound to (@issuer, @subject) or creates one. A new user
 * gets @preferred_name when free, else "NAME-2", "NAME-3", ...: an SSO
 * login never takes over an existing local account of the same name. An
 * unusable @preferred_name (missing, invalid UTF-8, control characters)
 * becomes "user". Safe when two gateways race on the same first login.
 *
 * Returns: (transfer full) (nullable): the user (check ->disabled).
 */
WrUser *wr_store_user_upsert_oidc (WrStore *store, const char *issuer,
    const char *subject, const char *preferred_name, const char *display_name,
    GError **error);

/* ------------------------------------------------------------------ */
/* Login throttling, shared by every gateway on the database */

/**
 * wr_store_user_record_failure:
 * @threshold: failures that lock the account; 0 never locks
 * @lock_seconds: how long a lock lasts
 * @failures: (out) (optional): failures counted since the last reset/lock
 * @locked_until: (out) (optional): the account's locked_until after this
 *   failure (a lock is active while now < locked_until)
 *
 * Counts one failed login in one atomic UPDATE ... RETURNING, so gateways
 * sharing a database count together. When the count reaches @threshold the
 * account is locked until @now + @lock_seconds and the count restarts from
 * zero. Callers check locked_until before verifying a password and do not
 * count attempts made while locked.
 */
gboolean wr_store_user_record_failure (WrStore *store, gint64 user_id,
    gint64 now, guint threshold, gint64 lock_seconds, guint *failures,
    gint64 *locked_until, GError **error);

/* After a successful login: count to zero, lock lifted. */
gboolean wr_store_user_reset_failures (WrStore *store, gint64 user_id,
    GError **error);

/**
 * wr_store_address_record_failure:
 * @window_seconds: the length of a counting window
 * @failures: (out): failures from @address in the current window,
 *   including this one
 *
 * Atomic upsert. A window starts with the first failure after the previous
 * one ended (fixed windows, not sliding).
 */
gboolean wr_store_address_record_failure (WrStore *store,
    const char *address, gint64 now, gint64 window_seconds, guint *failures,
    GError **error);

/* @failures: (out): failures in the current window, 0 when it is over. */
gboolean wr_store_address_failures (WrStore *store, const char *address,
    gint64 now, gint64 window_seconds, guint *failures, GError **error);

gboolean wr_store_address_reset (WrStore *store, const char *address,
    GError **error);

/* ------------------------------------------------------------------ */
/* TOTP recovery codes (hashes only) */

/* Replaces every code of the user by @code_hashes (%NULL-terminated, at
 * most WR_STORE_MAX_RECOVERY_CODES, no duplicates). */
gboolean wr_store_recovery_codes_replace (WrStore *store, gint64 user_id,
    const char *const *code_hashes, GError **error);

/**
 * wr_store_recovery_code_consume:
 *
 * Marks a code used, atomically: of two concurrent uses one wins.
 *
 * Returns: %TRUE when the code was valid and is now used; %FALSE with
 * @error unset when it is unknown or used already, %FALSE with @error set
 * when the backend failed. Either %FALSE refuses the login.
 */
gboolean wr_store_recovery_code_consume (WrStore *store, gint64 user_id,
    const char *code_hash, gint64 now, GError **error);

/* @remaining: (out): unused codes left. */
gboolean wr_store_recovery_codes_remaining (WrStore *store, gint64 user_id,
    guint *remaining, GError **error);

/* ------------------------------------------------------------------ */
/* Roles */

typedef struct {
  gint64 id;
  char *name;
  gboolean builtin;      /* admin, operator, viewer, auditor */
  WrPermission permissions;
} WrRole;

void wr_role_free (WrRole *role);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrRole, wr_role_free)

/* @permissions: names as in wr_permissions_from_string(). */
WrRole *wr_store_role_create (WrStore *store, const char *name,
    const char *permissions, GError **error);
/* (element-type WrRole): by name. */
GPtrArray *wr_store_role_list (WrStore *store, GError **error);
WrRole *wr_store_role_get_by_name (WrStore *store, const char *name,
    GError **error);
/* Built-in roles cannot change: WR_STORE_ERROR_INVALID. */
gboolean wr_store_role_update_permissions (WrStore *store, const char *name,
    const char *permissions, GError **error);
/* Built-in roles: WR_STORE_ERROR_INVALID. A role that grants still use is
 * refused with WR_STORE_ERROR_CONFLICT (no cascade: deleting a role must
 * not silently change who may do what). */
gboolean wr_store_role_delete (WrStore *store, const char *name,
    GError **error);

/* ------------------------------------------------------------------ */
/* Agent groups and agents */

#define WR_STORE_DEFAULT_GROUP "default"

/* Recording policy of an agent group (docs/compliance.md). */
#define WR_STORE_RECORDING_OFF "off"
#define WR_STORE_RECORDING_BEST_EFFORT "best-effort"
#define WR_STORE_RECORDING_STRICT "strict"
/* The longest retention accepted: 100 years. */
#define WR_STORE_MAX_RETENTION_DAYS 36500

/* Whether @mode is "off", "best-effort" or "strict". */
gboolean wr_store_recording_mode_is_valid (const char *mode);

typedef struct {
  gint64 id;
  char *name;
  gboolean require_reason;
  char *recording;         /* "off", "best-effort" or "strict" */
  gint64 retention_days;   /* recordings kept this long; 0 = forever */
} WrAgentGroup;

void wr_agent_group_free (WrAgentGroup *group);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAgentGroup, wr_agent_group_free)

WrAgentGroup *wr_store_group_create (WrStore *store, const char *name,
    gboolean require_reason, GError **error);
/* (element-type WrAgentGroup): by name. */
GPtrArray *wr_store_group_list (WrStore *store, GError **error);
WrAgentGroup *wr_store_group_get_by_name (WrStore *store, const char *name,
    GError **error);
/* "default" cannot be deleted (INVALID); a group that still has agents is
 * refused (CONFLICT: move them first, so no agent silently lands under
 * the default group's grants). Grants on the group are deleted with it. */
gboolean wr_store_group_delete (WrStore *store, const char *name,
    GError **error);
gboolean wr_store_group_set_require_reason (WrStore *store, const char *name,
    gboolean require_reason, GError **error);
/* @mode: "off", "best-effort" or "strict"; anything else is INVALID. */
gboolean wr_store_group_set_recording (WrStore *store, const char *name,
    const char *mode, GError **error);
/* @days: 0 (keep forever) .. WR_STORE_MAX_RETENTION_DAYS, else INVALID. */
gboolean wr_store_group_set_retention_days (WrStore *store, const char *name,
    gint64 days, GError **error);

typedef struct {
  char *id;
  char *name;
  char *group_name;
  gboolean require_reason;   /* the group's policy */
  char *recording;           /* the group's recording policy */
  gint64 retention_days;     /* the group's retention; 0 = forever */
  gint64 created_at;
  gint64 last_seen;
} WrStoredAgent;

void wr_stored_agent_free (WrStoredAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrStoredAgent, wr_stored_agent_free)

/* Records an agent (new ones join "default") or refreshes its name and
 * last_seen; its group is kept. */
gboolean wr_store_agent_upsert (WrStore *store, const char *id,
    const char *name, gint64 now, GError **error);
gboolean wr_store_agent_set_group (WrStore *store, const char *id,
    const char *group_name, GError **error);
WrStoredAgent *wr_store_agent_get (WrStore *store, const char *id,
    GError **error);
/* (element-type WrStoredAgent): by id. */
GPtrArray *wr_store_agent_list (WrStore *store, GError **error);
gboolean wr_store_agent_delete (WrStore *store, const char *id,
    GError **error);

/* Enrollment (docs/security.md). Tokens are stored as their SHA-256 hex. */
gboolean wr_store_enroll_token_create (WrStore *store, const char *token_hash,
    const char *group_name, gint64 expires_at, gint64 now, GError **error);

/**
 * wr_store_agent_enroll:
 * In one transaction: consumes the enrollment token (NOT_FOUND with a
 * message saying whether it is unknown, used or expired), refuses an id
 * that belongs to an enrolled, non-revoked agent (CONFLICT; the token is
 * then left unused), and records the agent in the token's group with its
 * certificate's serial.
 */
gboolean wr_store_agent_enroll (WrStore *store, const char *token_hash,
    const char *agent_id, const char *serial, gint64 not_after, gint64 now,
    GError **error);

typedef struct {
  char *serial;        /* (nullable): never enrolled */
  gint64 not_after;
  gboolean revoked;
} WrAgentCert;

void wr_agent_cert_free (WrAgentCert *cert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAgentCert, wr_agent_cert_free)

/* NOT_FOUND for an unknown (or deleted) agent. */
WrAgentCert *wr_store_agent_get_cert (WrStore *store, const char *id,
    GError **error);

/* Replaces the certificate of an enrolled agent whose current serial is
 * @old_serial (CONFLICT otherwise: revoked, or renewed meanwhile). */
gboolean wr_store_agent_renew_cert (WrStore *store, const char *id,
    const char *old_serial, const char *serial, gint64 not_after,
    GError **error);

/* Refuses the agent's certificate from now on; a new enrollment (a new
 * token from an administrator) may bring it back. */
gboolean wr_store_agent_revoke (WrStore *store, const char *id,
    GError **error);

/* ------------------------------------------------------------------ */
/* Grants: subject -> role, on one agent group or on all of them */

#define WR_STORE_SUBJECT_USER "user"
#define WR_STORE_SUBJECT_OIDC_GROUP "oidc-group"

typedef struct {
  gint64 id;
  char *subject_kind;   /* "user" or "oidc-group" */
  char *subject;        /* a user name or a group claim value */
  char *role_name;
  char *group_name;     /* nullable: every group */
} WrStoredGrant;

void wr_stored_grant_free (WrStoredGrant *grant);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrStoredGrant, wr_stored_grant_free)

/**
 * wr_store_grant_create:
 * @subject_kind: "user" (the user must exist) or "oidc-group"
 * @group_name: (nullable): %NULL for every group (and the system)
 * @id: (out) (optional): the new grant's id
 *
 * Returns: %FALSE with NOT_FOUND (user, role or group), CONFLICT (the same
 * grant exists) or INVALID.
 */
gboolean wr_store_grant_create (WrStore *store, const char *subject_kind,
    const char *subject, const char *role_name, const char *group_name,
    gint64 *id, GError **error);
/* (element-type WrStoredGrant): by id. */
GPtrArray *wr_store_grant_list (WrStore *store, GError **error);
gboolean wr_store_grant_delete (WrStore *store, gint64 id, GError **error);

/**
 * wr_store_permissions_for:
 * @oidc_groups: (nullable) (array zero-terminated=1): the user's group
 *   claim values from this login
 * @agent_group: (nullable): an agent group name, or %NULL
 * @permissions: (out): the effective permissions
 *
 * The union of the roles of every grant whose subject is the user (by
 * name) or one of @oidc_groups:
 * - @agent_group %NULL: the system permissions (admin, audit, enroll) of
 *   grants on every group (agent_group NULL). A grant on one group never
 *   gives system permissions.
 * - @agent_group set: the agent permissions (view ... record) of grants on
 *   that group or on every group. Unknown group: NOT_FOUND.
 * A disabled user has none. Unknown user: NOT_FOUND.
 */
gboolean wr_store_permissions_for (WrStore *store, gint64 user_id,
    const char *const *oidc_groups, const char *agent_group,
    WrPermission *permissions, GError **error);

/* ------------------------------------------------------------------ */
/* Access and API tokens (stored by hash) */

typedef enum {
  WR_TOKEN_ACCESS,  /* short-lived login token */
  WR_TOKEN_API,     /* named, scoped automation token */
} WrTokenKind;

typedef struct {
  gint64 user_id;
  char *user_name;
  WrTokenKind kind;
  char *name;             /* nullable (API tokens have one) */
  char *scopes;           /* nullable: canonical names, NULL = unrestricted */
  WrPermission scope_mask;  /* WR_PERM_ALL when unrestricted */
  gint64 expires_at;
} WrTokenInfo;

void wr_token_info_free (WrTokenInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrTokenInfo, wr_token_info_free)

/**
 * wr_store_access_token_insert:
 * @token_hash: the token's hash (e.g. wr_sha256_hex), never the token
 * @name: (nullable): required for WR_TOKEN_API, unique among the user's
 *   live API tokens (CONFLICT)
 * @scopes: (nullable): permission names; %NULL = unrestricted
 * @expires_at: must be later than @now
 */
gboolean wr_store_access_token_insert (WrStore *store, const char *token_hash,
    gint64 user_id, WrTokenKind kind, const char *name, const char *scopes,
    gint64 expires_at, gint64 now, GError **error);

/**
 * wr_store_access_token_lookup:
 *
 * Returns: (transfer full) (nullable): the token's owner and scopes, or
 * %NULL with @error unset when the token is unknown, expired, revoked or
 * its user disabled; %NULL with @error set when the backend failed.
 */
WrTokenInfo *wr_store_access_token_lookup (WrStore *store,
    const char *token_hash, gint64 now, GError **error);

/* Idempotent: unknown hashes succeed. */
gboolean wr_store_access_token_revoke (WrStore *store, const char *token_hash,
    GError **error);

typedef struct {
  char *name;
  char *scopes;          /* nullable */
  gint64 expires_at;
  gint64 created_at;
} WrApiToken;

void wr_api_token_free (WrApiToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrApiToken, wr_api_token_free)

/* (element-type WrApiToken): the user's live (unrevoked) API tokens by
 * name, expired ones included. */
GPtrArray *wr_store_access_token_list_api (WrStore *store, gint64 user_id,
    GError **error);
/* NOT_FOUND when the user has no live API token of that name. */
gboolean wr_store_access_token_revoke_api (WrStore *store, gint64 user_id,
    const char *name, GError **error);

/* ------------------------------------------------------------------ */
/* Refresh tokens: rotated on every use, reuse revokes the family */

typedef enum {
  WR_REFRESH_OK,       /* valid; now marked used */
  WR_REFRESH_REUSED,   /* used before: the whole family is now revoked */
  WR_REFRESH_INVALID,  /* unknown, expired, revoked, user disabled, or
                        * (with @error set) the backend failed */
} WrRefreshResult;

/* @family: an opaque id shared by every token of one login. */
gboolean wr_store_refresh_insert (WrStore *store, const char *token_hash,
    const char *family, gint64 user_id, gint64 expires_at, gint64 now,
    GError **error);

/**
 * wr_store_refresh_use:
 * @user_id: (out) (optional): set on OK and REUSED
 * @family: (out) (optional) (transfer full): set on OK and REUSED
 *
 * Marks the token used (atomically: of two concurrent uses one gets OK,
 * the other REUSED). Using a used token revokes every token of its family
 * in the same transaction.
 */
WrRefreshResult wr_store_refresh_use (WrStore *store, const char *token_hash,
    gint64 now, gint64 *user_id, char **family, GError **error);

/**
 * wr_store_refresh_rotate:
 *
 * wr_store_refresh_use() of @old_hash and, when OK, the insertion of
 * @new_hash into the same family, in one transaction.
 */
WrRefreshResult wr_store_refresh_rotate (WrStore *store, const char *old_hash,
    const char *new_hash, gint64 new_expires_at, gint64 now, gint64 *user_id,
    char **family, GError **error);

gboolean wr_store_refresh_revoke_family (WrStore *store, const char *family,
    GError **error);
/* Every refresh token of the user (e.g. "sign out everywhere"). */
gboolean wr_store_refresh_revoke_user (WrStore *store, gint64 user_id,
    GError **error);

/* ------------------------------------------------------------------ */
/* Sessions (history of who used which agent, with which scopes, why) */

typedef struct {
  char *sid;
  gint64 user_id;        /* 0 once the user was deleted */
  char *agent_id;
  char *display;
  char *scopes;          /* canonical permission names */
  char *reason;          /* nullable */
  gint64 started_at;
  gint64 ended_at;       /* 0 while live */
  char *end_reason;      /* nullable */
} WrStoredSession;

void wr_stored_session_free (WrStoredSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrStoredSession, wr_stored_session_free)

/* @scopes: permission names; @reason: (nullable), may hold newlines. */
gboolean wr_store_session_insert (WrStore *store, const char *sid,
    gint64 user_id, const char *agent_id, const char *display,
    const char *scopes, const char *reason, gint64 now, GError **error);
/* Ends a live session; ending an ended one keeps the first end and
 * succeeds. Unknown sid: NOT_FOUND. @end_reason: (nullable). */
gboolean wr_store_session_end (WrStore *store, const char *sid,
    const char *end_reason, gint64 now, GError **error);
WrStoredSession *wr_store_session_get (WrStore *store, const char *sid,
    GError **error);
/* (element-type WrStoredSession): newest first. */
GPtrArray *wr_store_session_list (WrStore *store, gboolean live_only,
    GError **error);

/* ------------------------------------------------------------------ */
/* Housekeeping */

/* Deletes expired access/API and refresh tokens and address counters
 * whose window (@address_window seconds) is over. */
gboolean wr_store_purge_expired (WrStore *store, gint64 now,
    gint64 address_window, GError **error);

G_END_DECLS
