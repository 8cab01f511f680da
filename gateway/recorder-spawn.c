/* webremote: the local recorder the gateway starts (recorder-spawn.h). */
#include "config.h"

#include "gateway/recorder-spawn.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/crypto.h"

#define BACKOFF_MIN_S 1
#define BACKOFF_MAX_S 30
#define STABLE_AFTER_US (60 * G_USEC_PER_SEC)

struct _WrRecorderSpawn {
  char *binary;
  char *url;
  char *fingerprint;
  char *dir;
  char *ice_addresses;
  gint64 segment_seconds;
  char *token;           /* in memory only */
  GSubprocess *child;
  GCancellable *cancel;
  guint restart_id;
  guint backoff_s;
  gint64 started_us;
  gboolean stopping;
};

char *
wr_recorder_spawn_find_binary (const char *configured)
{
  g_autofree char *self = NULL;
  g_autofree char *dir = NULL;
  char *candidate;

  if (configured && *configured)
    return g_strdup (configured);
  self = g_file_read_link ("/proc/self/exe", NULL);
  if (self) {
    dir = g_path_get_dirname (self);
    candidate = g_build_filename (dir, "webremote-recorder", NULL);
    if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
      return candidate;
    g_free (candidate);
    candidate = g_build_filename (dir, "..", "pipelines",
        "webremote-recorder", NULL);
    if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
      return candidate;
    g_free (candidate);
  }
  return g_find_program_in_path ("webremote-recorder");
}

static void spawn_child (WrRecorderSpawn *self);

static gboolean
restart_cb (gpointer data)
{
  WrRecorderSpawn *self = data;

  self->restart_id = 0;
  spawn_child (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_restart (WrRecorderSpawn *self)
{
  if (self->stopping || self->restart_id)
    return;
  if (self->started_us && g_get_monotonic_time () - self->started_us
      > STABLE_AFTER_US)
    self->backoff_s = BACKOFF_MIN_S;
  g_message ("local recorder: restarting in %u s", self->backoff_s);
  self->restart_id = g_timeout_add_seconds (self->backoff_s, restart_cb,
      self);
  self->backoff_s = MIN (self->backoff_s * 2, BACKOFF_MAX_S);
}

static void
on_child_exit (GObject *source, GAsyncResult *result, gpointer data)
{
  WrRecorderSpawn *self = data;
  GSubprocess *child = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_finish (child, result, &error)) {
    /* cancelled: we are being freed */
    g_object_unref (child);
    return;
  }
  if (g_subprocess_get_if_signaled (child))
    g_message ("local recorder: killed by signal %d",
        g_subprocess_get_term_sig (child));
  else
    g_message ("local recorder: exited with status %d",
        g_subprocess_get_exit_status (child));
  if (self->child == child)
    g_clear_object (&self->child);
  g_object_unref (child);
  schedule_restart (self);
}

static void
child_setup (gpointer data)
{
  /* the recorder dies with the gateway */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
spawn_child (WrRecorderSpawn *self)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) input = NULL;
  g_auto (GStrv) addresses = NULL;
  GOutputStream *in;

  if (!self->binary) {
    g_warning ("local recorder: no webremote-recorder binary found "
        "([recording] recorder-binary); sessions are not recorded");
    return;
  }
  g_ptr_array_add (argv, g_strdup (self->binary));
  g_ptr_array_add (argv, g_strdup ("--gateway"));
  g_ptr_array_add (argv, g_strdup (self->url));
  g_ptr_array_add (argv, g_strdup ("--ca-fingerprint"));
  g_ptr_array_add (argv, g_strdup (self->fingerprint));
  g_ptr_array_add (argv, g_strdup ("--token-stdin"));
  g_ptr_array_add (argv, g_strdup ("--dir"));
  g_ptr_array_add (argv, g_strdup (self->dir));
  addresses = g_strsplit (self->ice_addresses ? self->ice_addresses : "",
      ",", 16);
  for (guint i = 0; addresses[i]; i++) {
    g_strstrip (addresses[i]);
    if (!*addresses[i])
      continue;
    g_ptr_array_add (argv, g_strdup ("--ice-address"));
    g_ptr_array_add (argv, g_strdup (addresses[i]));
  }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  self->child = g_subprocess_launcher_spawnv (launcher,
      (const char *const *) argv->pdata, &error);
  if (!self->child) {
    g_warning ("local recorder: cannot start %s: %s", self->binary,
        error->message);
    schedule_restart (self);
    return;
  }
  self->started_us = g_get_monotonic_time ();
  g_message ("local recorder: started %s (pid %s)", self->binary,
      g_subprocess_get_identifier (self->child));
  /* The token goes on stdin only: never on the command line, where any
   * local user could read it. */
  in = g_subprocess_get_stdin_pipe (self->child);
  if (!g_output_stream_write_all (in, self->token, strlen (self->token),
          NULL, NULL, &error)
      || !g_output_stream_write_all (in, "\n", 1, NULL, NULL, &error))
    g_warning ("local recorder: cannot pass its token: %s",
        error->message);
  g_output_stream_close (in, NULL, NULL);
  g_object_ref (self->child);  /* dropped by on_child_exit */
  g_subprocess_wait_async (self->child, self->cancel, on_child_exit, self);
}

WrRecorderSpawn *
wr_recorder_spawn_start (const char *binary, const char *url,
    const char *fingerprint, const char *dir, const char *ice_addresses,
    gint64 segment_seconds, WrRecorderHub *hub)
{
  WrRecorderSpawn *self = g_new0 (WrRecorderSpawn, 1);

  self->binary = g_strdup (binary);
  self->url = g_strdup (url);
  self->fingerprint = g_strdup (fingerprint);
  self->dir = g_strdup (dir);
  self->ice_addresses = g_strdup (ice_addresses);
  self->segment_seconds = segment_seconds;
  self->token = wr_random_hex (32);
  self->cancel = g_cancellable_new ();
  self->backoff_s = BACKOFF_MIN_S;
  wr_recorder_hub_set_local_token (hub, self->token);
  spawn_child (self);
  return self;
}

GPid
wr_recorder_spawn_get_pid (WrRecorderSpawn *self)
{
  const char *id = self && self->child
      ? g_subprocess_get_identifier (self->child) : NULL;

  return id ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

static gboolean
child_gone (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  paren = strrchr (stat, ')');
  return !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
}

void
wr_recorder_spawn_free (WrRecorderSpawn *self)
{
  if (!self)
    return;
  self->stopping = TRUE;
  g_clear_handle_id (&self->restart_id, g_source_remove);
  g_cancellable_cancel (self->cancel);
  if (self->child) {
    GPid pid = wr_recorder_spawn_get_pid (self);

    /* SIGTERM: it finishes its segments; up to 2 s, then SIGKILL. The
     * main loop no longer runs, so an exited child stays a zombie until
     * GLib reaps it: look at its state rather than wait for it. */
    g_subprocess_send_signal (self->child, SIGTERM);
    for (int i = 0; i < 40 && pid > 0 && !child_gone (pid); i++)
      g_usleep (50000);
    g_subprocess_force_exit (self->child);
    g_clear_object (&self->child);
  }
  g_clear_object (&self->cancel);
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->binary);
  g_free (self->url);
  g_free (self->fingerprint);
  g_free (self->dir);
  g_free (self->ice_addresses);
  g_free (self);
}
