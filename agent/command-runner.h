/* webremote-agent: runs one allowed command (docs/security.md,
 * "Commands").
 *
 * No shell: the program from the agent's own configuration gets the
 * arguments as they are, one argv entry each, with a clean environment
 * (PATH=/usr/bin:/bin), stdin from /dev/null, in /, as the configured
 * user, in its own process group. stdout and stderr come back in chunks as
 * they are read; past the time limit or the output limit the whole group
 * is killed.
 */
#pragma once

#include <glib.h>

#include "agent/command-config.h"

G_BEGIN_DECLS

/* Each chunk of output is at most this many bytes before UTF-8 repair
 * (which can triple it; still within command.output's 16 KiB). */
#define WR_COMMAND_CHUNK_SIZE 4096

typedef struct _WrCommandRun WrCommandRun;

/* @stream is "stdout" or "stderr"; @data valid UTF-8 (invalid bytes
 * replaced). */
typedef void (*WrCommandOutputFunc) (WrCommandRun *run, const char *stream,
    const char *data, gpointer user_data);

/* @status is the exit code, or -1 when a signal ended the program
 * (@signal, else 0). The run is freed right after this returns. */
typedef void (*WrCommandExitFunc) (WrCommandRun *run, int status,
    int signal, gboolean timed_out, gboolean truncated, gpointer user_data);

/**
 * wr_command_run_start:
 * @spec: (transfer none): copied from as needed
 * @args: the arguments (already checked against @spec)
 *
 * Returns: (transfer none) (nullable): the run, which frees itself after
 * @on_exit; %NULL with @error when the program could not be started.
 */
WrCommandRun *wr_command_run_start (const WrCommandSpec *spec,
    const char *const *args, WrCommandOutputFunc on_output,
    WrCommandExitFunc on_exit, gpointer user_data, GError **error);

/**
 * wr_command_run_cancel:
 * Kills the run's process group; no callback is called any more. The run
 * frees itself once its pipes are closed.
 */
void wr_command_run_cancel (WrCommandRun *run);

G_END_DECLS
