/* webremote-agent: the commands this machine allows (docs/config.md,
 * [command NAME] sections).
 *
 * The allowlist lives in the agent's own configuration, out of the
 * gateway's reach: a signed envelope can only name a command defined here
 * and pass arguments its patterns accept.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "common/config.h"

G_BEGIN_DECLS

#define WR_COMMAND_GROUP_PREFIX "command "
#define WR_COMMAND_DEFAULT_TIMEOUT_MS 10000
#define WR_COMMAND_DEFAULT_MAX_OUTPUT 65536

/* The keys of a [command NAME] section, for the agent's config schema. */
#define WR_COMMAND_CONFIG_SCHEMA \
  { "command *", "program", WR_KEY_STRING, 0, 4096 }, \
  { "command *", "args", WR_KEY_STRING_LIST }, \
  { "command *", "max-args", WR_KEY_INT, 0, 32 }, \
  { "command *", "timeout-ms", WR_KEY_INT, 100, 86400000 }, \
  { "command *", "max-output", WR_KEY_INT, 1, 16 * 1024 * 1024 }, \
  { "command *", "run-as", WR_KEY_STRING, 0, 64 }

typedef struct {
  char *name;
  char *program;        /* absolute path */
  GPtrArray *patterns;  /* GRegex, anchored at both ends */
  guint max_args;
  guint timeout_ms;
  gsize max_output;     /* bytes of stdout and stderr together */
  char *run_as;         /* user name */
  gboolean switch_user; /* the agent is root: drop to uid/gid */
  uid_t uid;
  gid_t gid;
} WrCommandSpec;

typedef struct _WrCommandTable WrCommandTable;

/**
 * wr_command_table_load:
 * @kf: (nullable): the checked agent key file
 * @path: (nullable): its path, for `FILE:LINE` messages
 *
 * Returns: (transfer full) (nullable): the commands (maybe none), or %NULL
 * with a WR_CONFIG_ERROR listing every problem.
 */
WrCommandTable *wr_command_table_load (GKeyFile *kf, const char *path,
    GError **error);
void wr_command_table_free (WrCommandTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrCommandTable, wr_command_table_free)

/** Returns: (transfer none) (nullable): the command called @name. */
const WrCommandSpec *wr_command_table_lookup (const WrCommandTable *table,
    const char *name);
guint wr_command_table_size (const WrCommandTable *table);

/**
 * wr_command_spec_check_args:
 * Argument i must match pattern i (the last pattern for those beyond);
 * at most max-args of them.
 * Returns: %FALSE with a G_IO_ERROR_PERMISSION_DENIED that names the
 * argument (never quotes it).
 */
gboolean wr_command_spec_check_args (const WrCommandSpec *spec,
    const char *const *argv, GError **error);

G_END_DECLS
