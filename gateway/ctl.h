/* webremotectl: the admin command line, working directly on the gateway's
 * store (no gateway needs to run: bootstrap and recovery). ctl.c holds
 * main and the dispatcher; ctl-users.c and ctl-access.c the commands. */
#pragma once

#include <json-glib/json-glib.h>

#include "gateway/audit.h"
#include "gateway/gateway-config.h"
#include "gateway/store.h"

G_BEGIN_DECLS

/* Exit codes: the operation failed (not found, exists, in use, refused,
 * database failure) vs. the command line or configuration is wrong. */
#define WR_CTL_EXIT_OK 0
#define WR_CTL_EXIT_FAILED 1
#define WR_CTL_EXIT_USAGE 2

typedef struct _WrCtl WrCtl;
typedef struct _WrCtlCommand WrCtlCommand;

/* @argv[0] is "webremotectl OBJECT VERB"; the rest are the command's own
 * arguments. Returns an exit code. */
typedef int (*WrCtlHandler) (WrCtl *ctl, int argc, char **argv);

struct _WrCtlCommand {
  const char *object;      /* "user" */
  const char *verb;        /* "add" */
  const char *synopsis;    /* "NAME [--display-name TEXT]" */
  const char *summary;     /* one line for the help */
  WrCtlHandler handler;
  gboolean may_create;     /* may create a missing SQLite database */
};

/* Terminated by an entry with a %NULL object. */
extern const WrCtlCommand wr_ctl_user_commands[];
extern const WrCtlCommand wr_ctl_access_commands[];
extern const WrCtlCommand wr_ctl_enroll_commands[];
extern const WrCtlCommand wr_ctl_audit_commands[];
extern const WrCtlCommand wr_ctl_recording_commands[];

/**
 * wr_ctl_parse:
 * @entries: (nullable): the command's options
 * @min_args: positional arguments required
 * @max_args: positional arguments allowed (G_MAXUINT: any)
 *
 * Parses the command's options (anywhere on its command line, `--` ends
 * them) and checks the number of positional arguments left in @argv
 * (after argv[0]). Prints a usage error otherwise.
 *
 * Returns: %FALSE after printing the error: exit with WR_CTL_EXIT_USAGE.
 */
gboolean wr_ctl_parse (WrCtl *ctl, const GOptionEntry *entries, int *argc,
    char ***argv, guint min_args, guint max_args);

/* Prints "webremotectl: OBJECT VERB: MESSAGE" and a usage hint; returns
 * WR_CTL_EXIT_USAGE. */
int wr_ctl_usage_error (WrCtl *ctl, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

/* Prints "webremotectl: MESSAGE" for a failed operation; returns
 * WR_CTL_EXIT_FAILED. */
int wr_ctl_fail (WrCtl *ctl, const GError *error);
int wr_ctl_failf (WrCtl *ctl, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* The store, opened on first use. %NULL after printing why (exit with
 * WR_CTL_EXIT_FAILED). */
WrStore *wr_ctl_get_store (WrCtl *ctl);

/* The gateway configuration, with --state-dir applied. */
const WrGatewayConfig *wr_ctl_get_config (WrCtl *ctl);

/**
 * wr_ctl_check_name:
 * @what: "user name", "role name", ...
 * @is_new: a name about to be created: also refuses quotes, backslashes
 *   and leading or trailing white space, which only make trouble in
 *   shells, URLs and logs. Existing names (made through the API) are only
 *   checked for what the store would refuse anyway.
 *
 * Returns: %FALSE after printing a usage error.
 */
gboolean wr_ctl_check_name (WrCtl *ctl, const char *what, const char *value,
    gboolean is_new);

/* Prints @root as pretty JSON and a newline on standard output. */
void wr_ctl_print_json (JsonNode *root);

/* A plain text table on standard output: @rows is an array of GStrv, the
 * first row the header; columns are padded to the widest cell. */
void wr_ctl_print_table (GPtrArray *rows);

/* "2025-01-31 14:05" local time, or @none for 0. */
char *wr_ctl_format_time (gint64 unix_seconds, const char *none);

/* Current time in unix seconds. */
gint64 wr_ctl_now (void);

/* Audit (ctl-tx.c; docs/compliance.md). Every change webremotectl makes
 * commits together with its audit row (actor "ctl:UNIXUSER"), so that
 * when the row cannot be written nothing changes:
 *
 *   if (!wr_ctl_begin (ctl)) return WR_CTL_EXIT_FAILED;
 *   if (!wr_store_... (...)) { wr_ctl_rollback (ctl); return wr_ctl_fail (...); }
 *   if (!wr_ctl_audit (ctl, "user.create", NULL, detail)
 *       || !wr_ctl_commit (ctl)) return WR_CTL_EXIT_FAILED;
 *
 * Each prints why it failed; wr_ctl_audit() then has rolled back.
 * @detail: (transfer full) (nullable): flat, never a secret. */
gboolean wr_ctl_begin (WrCtl *ctl);
gboolean wr_ctl_audit (WrCtl *ctl, const char *type, const char *agent,
    JsonObject *detail);
gboolean wr_ctl_commit (WrCtl *ctl);
void wr_ctl_rollback (WrCtl *ctl);
/* The audit log over the command's store (signing checkpoints with the
 * state directory's grant key when readable); %NULL after printing why
 * the store cannot be opened. */
WrAudit *wr_ctl_get_audit (WrCtl *ctl);
/* "ctl:UNIXUSER" */
const char *wr_ctl_get_actor (WrCtl *ctl);
/* A detail object of string members: key, value, ..., %NULL (%NULL values
 * are left out). */
JsonObject *wr_ctl_detail (const char *first_key, ...)
    G_GNUC_NULL_TERMINATED;

G_END_DECLS
