/* webremote-agent: runs one allowed command. Main context only. */
#include "config.h"

#include "agent/command-runner.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>

typedef struct {
  WrCommandRun *run;
  const char *name;     /* "stdout" | "stderr" */
  GInputStream *in;
  guint8 carry[4];      /* an incomplete UTF-8 sequence from the last read */
  gsize carry_len;
  gboolean eof;
} Stream;

struct _WrCommandRun {
  GSubprocess *proc;
  pid_t pgid;
  Stream out, err;
  gsize max_output;
  gsize total;          /* bytes passed on so far */
  gboolean truncated;
  gboolean timed_out;
  gboolean exited;
  int status;
  int signal;
  guint timeout_id;
  WrCommandOutputFunc on_output;
  WrCommandExitFunc on_exit;
  gpointer user_data;

  /* for the child setup, copied before fork */
  gboolean switch_user;
  uid_t uid;
  gid_t gid;
};

static void
kill_group (WrCommandRun *run)
{
  /* The whole group: whatever the program started goes too. */
  if (run->pgid > 1 && kill (-run->pgid, SIGKILL) < 0 && errno != ESRCH)
    g_warning ("cannot kill command process group %d: %s", (int) run->pgid,
        g_strerror (errno));
}

static void
run_free (WrCommandRun *run)
{
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_object (&run->out.in);
  g_clear_object (&run->err.in);
  g_clear_object (&run->proc);
  g_free (run);
}

static void
maybe_finish (WrCommandRun *run)
{
  if (!run->exited || !run->out.eof || !run->err.eof)
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  if (run->on_exit)
    run->on_exit (run, run->status, run->signal, run->timed_out,
        run->truncated, run->user_data);
  run_free (run);
}

static void
emit (Stream *s, const guint8 *data, gsize len)
{
  WrCommandRun *run = s->run;
  g_autofree char *text = NULL;

  if (len == 0 || !run->on_output)
    return;
  text = g_utf8_make_valid ((const char *) data, (gssize) len);
  run->on_output (run, s->name, text, run->user_data);
}

/* Passes @len bytes on, keeping an incomplete trailing UTF-8 sequence for
 * the next read, within the output limit. */
static void
take_chunk (Stream *s, const guint8 *data, gsize len)
{
  WrCommandRun *run = s->run;
  g_autofree guint8 *buf = NULL;
  const char *end = NULL;
  gsize n, keep = 0, room;

  if (run->truncated)
    return;   /* draining until the killed group closes the pipes */
  room = run->max_output - run->total;
  if (len > room) {
    len = room;
    run->truncated = TRUE;
  }
  buf = g_malloc (s->carry_len + len);
  memcpy (buf, s->carry, s->carry_len);
  memcpy (buf + s->carry_len, data, len);
  n = s->carry_len + len;
  s->carry_len = 0;
  run->total += len;

  if (!run->truncated && !g_utf8_validate_len ((const char *) buf, n, &end)) {
    gsize bad = (gsize) ((const guint8 *) end - buf);
    /* A lead byte near the end may just be cut by the read. */
    if (n - bad < 4 && buf[bad] >= 0xC0)
      keep = n - bad;
  }
  emit (s, buf, n - keep);
  memcpy (s->carry, buf + n - keep, keep);
  s->carry_len = keep;

  if (run->truncated)
    kill_group (run);
}

static void read_next (Stream *s);

static void
on_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Stream *s = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish (
      G_INPUT_STREAM (source), res, &error);
  gsize len = bytes ? g_bytes_get_size (bytes) : 0;

  if (len == 0) {
    /* End of stream (or a read error, the same for us). */
    if (s->carry_len && !s->run->truncated)
      emit (s, s->carry, s->carry_len);
    s->carry_len = 0;
    s->eof = TRUE;
    maybe_finish (s->run);
    return;
  }
  take_chunk (s, g_bytes_get_data (bytes, NULL), len);
  read_next (s);
}

static void
read_next (Stream *s)
{
  g_input_stream_read_bytes_async (s->in, WR_COMMAND_CHUNK_SIZE,
      G_PRIORITY_DEFAULT, NULL, on_read, s);
}

static void
on_wait (GObject *source, GAsyncResult *res, gpointer user_data)
{
  WrCommandRun *run = user_data;
  GSubprocess *proc = G_SUBPROCESS (source);

  g_subprocess_wait_finish (proc, res, NULL);
  if (g_subprocess_get_if_exited (proc)) {
    run->status = g_subprocess_get_exit_status (proc);
  } else if (g_subprocess_get_if_signaled (proc)) {
    run->status = -1;
    run->signal = g_subprocess_get_term_sig (proc);
  } else {
    run->status = -1;
  }
  run->exited = TRUE;
  maybe_finish (run);
}

static gboolean
on_timeout (gpointer user_data)
{
  WrCommandRun *run = user_data;

  run->timeout_id = 0;
  run->timed_out = TRUE;
  kill_group (run);
  return G_SOURCE_REMOVE;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child_setup (gpointer user_data)
{
  WrCommandRun *run = user_data;

  if (setpgid (0, 0) < 0)
    _exit (126);
  if (run->switch_user) {
    if (setgroups (1, &run->gid) < 0 || setgid (run->gid) < 0
        || setuid (run->uid) < 0)
      _exit (126);
    /* Paranoia: a process that can get root back has not dropped it. */
    if (run->uid != 0 && setuid (0) == 0)
      _exit (126);
  }
  /* After the credential change, which clears it: the command does not
   * outlive the agent. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

WrCommandRun *
wr_command_run_start (const WrCommandSpec *spec, const char *const *args,
    WrCommandOutputFunc on_output, WrCommandExitFunc on_exit,
    gpointer user_data, GError **error)
{
  static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
  g_autoptr (GSubprocessLauncher) l = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  WrCommandRun *run = g_new0 (WrCommandRun, 1);
  const char *id;

  run->max_output = spec->max_output;
  run->switch_user = spec->switch_user;
  run->uid = spec->uid;
  run->gid = spec->gid;
  run->on_output = on_output;
  run->on_exit = on_exit;
  run->user_data = user_data;
  run->out.run = run->err.run = run;
  run->out.name = "stdout";
  run->err.name = "stderr";

  g_ptr_array_add (argv, spec->program);
  for (guint i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  /* stdin is /dev/null unless asked otherwise; every other descriptor of
   * the agent is closed in the child. */
  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
      | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_environ (l, (char **) env);
  g_subprocess_launcher_set_cwd (l, "/");
  g_subprocess_launcher_set_child_setup (l, child_setup, run, NULL);
  run->proc = g_subprocess_launcher_spawnv (l,
      (const char *const *) argv->pdata, error);
  if (!run->proc) {
    run_free (run);
    return NULL;
  }
  id = g_subprocess_get_identifier (run->proc);
  run->pgid = id ? (pid_t) atoi (id) : 0;
  run->out.in = g_object_ref (g_subprocess_get_stdout_pipe (run->proc));
  run->err.in = g_object_ref (g_subprocess_get_stderr_pipe (run->proc));
  run->timeout_id = g_timeout_add (spec->timeout_ms, on_timeout, run);
  g_subprocess_wait_async (run->proc, NULL, on_wait, run);
  read_next (&run->out);
  read_next (&run->err);
  return run;
}

void
wr_command_run_cancel (WrCommandRun *run)
{
  run->on_output = NULL;
  run->on_exit = NULL;
  kill_group (run);
}
