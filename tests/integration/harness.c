/* webremote integration tests: process harness (Xvfb, gateway, agent). */
#include "config.h"

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <X11/Xlib.h>

#include "common/crypto.h"

/* ---------------------------------------------------------------------- */
/* Child registry, readable from signal handlers                          */
/* ---------------------------------------------------------------------- */

#define WR_MAX_CHILDREN 64

/* Process group ids (== pids: every child calls setpgid (0, 0)). Only
 * sig_atomic_t stores, so the handlers below may read it at any time. */
static volatile sig_atomic_t child_groups[WR_MAX_CHILDREN];

static void
registry_add (GPid pid)
{
  for (int i = 0; i < WR_MAX_CHILDREN; i++) {
    if (child_groups[i] == 0) {
      child_groups[i] = pid;
      return;
    }
  }
  g_warning ("harness: child table full, pid %d is not tracked", pid);
}

static void
registry_remove (GPid pid)
{
  for (int i = 0; i < WR_MAX_CHILDREN; i++)
    if (child_groups[i] == pid)
      child_groups[i] = 0;
}

/* Async-signal-safe. */
static void
kill_all_children (void)
{
  for (int i = 0; i < WR_MAX_CHILDREN; i++) {
    pid_t pid = child_groups[i];
    if (pid > 0) {
      kill (-pid, SIGKILL);
      kill (pid, SIGKILL);
    }
  }
}

static void
write_all (int fd, const char *text)
{
  size_t len = strlen (text);
  while (len > 0) {
    ssize_t n = write (fd, text, len);
    if (n <= 0)
      return;
    text += n;
    len -= (size_t) n;
  }
}

static void
on_watchdog (int sig)
{
  kill_all_children ();
  write_all (STDERR_FILENO, "harness: watchdog fired, the test took too long\n");
  /* TAP consumers (meson) mark the run failed on "Bail out!". */
  write_all (STDOUT_FILENO, "Bail out! watchdog timeout\n");
  _exit (1);
}

static void
on_fatal_signal (int sig)
{
  kill_all_children ();
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
kill_all_at_exit (void)
{
  kill_all_children ();
}

static void
install_handlers_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    struct sigaction sa = { 0 };
    int fatal[] = { SIGABRT, SIGTERM, SIGINT, SIGSEGV, SIGBUS, SIGTRAP };

    sa.sa_handler = on_fatal_signal;
    sigemptyset (&sa.sa_mask);
    for (guint i = 0; i < G_N_ELEMENTS (fatal); i++)
      sigaction (fatal[i], &sa, NULL);
    sa.sa_handler = on_watchdog;
    sigaction (SIGALRM, &sa, NULL);
    /* A child that dies while we write to its pipe must not kill us. */
    signal (SIGPIPE, SIG_IGN);
    atexit (kill_all_at_exit);
    g_once_init_leave (&done, 1);
  }
}

void
wr_watchdog_arm (guint seconds)
{
  install_handlers_once ();
  alarm (seconds);
}

void
wr_watchdog_disarm (void)
{
  alarm (0);
}

/* ---------------------------------------------------------------------- */
/* Children                                                               */
/* ---------------------------------------------------------------------- */

struct _WrChild {
  char *name;
  GSubprocess *proc;
  GPid pid;
  GCancellable *cancellable;
  gboolean exited;
  /* set by the stdout reader when the gateway says it is listening */
  gboolean listening;
};

static void
child_clear (gpointer data)
{
  WrChild *c = data;

  g_free (c->name);
  g_clear_object (&c->proc);
  g_clear_object (&c->cancellable);
}

static WrChild *
child_ref (WrChild *c)
{
  return g_atomic_rc_box_acquire (c);
}

static void
child_unref (WrChild *c)
{
  g_atomic_rc_box_release_full (c, child_clear);
}

/* Runs in the child between fork and exec. */
static void
child_setup (gpointer data)
{
  /* Own process group: killing -pid takes the whole tree (xterm's shell,
   * anything the agent spawns). PDEATHSIG covers the case where the test
   * process dies without running any handler (SIGKILL). */
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
on_child_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WrChild *c = user_data;
  GSubprocess *proc = G_SUBPROCESS (source);

  g_subprocess_wait_finish (proc, result, NULL);
  c->exited = TRUE;
  if (!g_cancellable_is_cancelled (c->cancellable)) {
    if (g_subprocess_get_if_signaled (proc))
      g_printerr ("harness: %s (pid %d) died of signal %d\n", c->name, c->pid,
          g_subprocess_get_term_sig (proc));
    else
      g_printerr ("harness: %s (pid %d) exited with status %d\n", c->name,
          c->pid, g_subprocess_get_exit_status (proc));
  }
  child_unref (c);
}

static void read_next_line (WrChild *c, GDataInputStream *in);

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WrChild *c = user_data;
  GDataInputStream *in = G_DATA_INPUT_STREAM (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (in, result, NULL, &error);
  if (!line) {
    g_object_unref (in);
    child_unref (c);
    return;
  }
  /* Children's output goes to stderr: stdout carries TAP. */
  g_printerr ("[%s] %s\n", c->name, line);
  if (strstr (line, "listening on https://"))
    c->listening = TRUE;
  read_next_line (c, in);
  child_unref (c);
}

static void
read_next_line (WrChild *c, GDataInputStream *in)
{
  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT,
      c->cancellable, on_line, child_ref (c));
}

/* Spawns @argv in its own process group. The child's stdout goes to our
 * stderr unless @pipe_stdout, in which case it is read line by line, echoed
 * to stderr and scanned for the gateway's "listening on" line. */
static WrChild *
child_spawn (const char *name, const char *const *argv, char **envp,
    gboolean pipe_stdout, int extra_fd, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_NONE;
  WrChild *c;
  GSubprocess *proc;

  install_handlers_once ();

  if (pipe_stdout)
    flags |= G_SUBPROCESS_FLAGS_STDOUT_PIPE;
  launcher = g_subprocess_launcher_new (flags);
  if (!pipe_stdout)
    g_subprocess_launcher_take_stdout_fd (launcher, dup (STDERR_FILENO));
  if (envp)
    g_subprocess_launcher_set_environ (launcher, envp);
  if (extra_fd >= 0)
    g_subprocess_launcher_take_fd (launcher, extra_fd, 3);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (!proc)
    return NULL;

  c = g_atomic_rc_box_new0 (WrChild);
  c->name = g_strdup (name);
  c->proc = proc;
  c->pid = atoi (g_subprocess_get_identifier (proc));
  c->cancellable = g_cancellable_new ();
  registry_add (c->pid);

  g_subprocess_wait_async (proc, NULL, on_child_exited, child_ref (c));
  if (pipe_stdout) {
    GDataInputStream *in =
        g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
    read_next_line (c, in);
  }
  return c;
}

/* SIGKILL to the child's process group, then wait until it is reaped. */
static void
child_kill (WrChild **cp)
{
  WrChild *c = *cp;

  if (!c)
    return;
  *cp = NULL;
  g_cancellable_cancel (c->cancellable);
  kill (-c->pid, SIGKILL);
  kill (c->pid, SIGKILL);
  g_subprocess_wait (c->proc, NULL, NULL);
  registry_remove (c->pid);
  child_unref (c);
}

static char **
child_environ (WrHarness *h)
{
  char **env = g_get_environ ();

  /* Only what we pass explicitly reaches the children. */
  env = g_environ_unsetenv (env, "WEBREMOTE_ADMIN_PASSWORD");
  if (h->display)
    env = g_environ_setenv (env, "DISPLAY", h->display, TRUE);
  return env;
}

/* ---------------------------------------------------------------------- */
/* Main context helpers                                                   */
/* ---------------------------------------------------------------------- */

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
wr_wait_until (WrCondition condition, gpointer user_data, guint timeout_ms)
{
  GMainContext *ctx = g_main_context_ref_thread_default ();
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GSource *tick = g_timeout_source_new (10);
  gboolean ok = FALSE;

  g_source_set_callback (tick, wake_up, NULL, NULL);
  g_source_attach (tick, ctx);
  for (;;) {
    if (condition (user_data)) {
      ok = TRUE;
      break;
    }
    if (g_get_monotonic_time () >= deadline)
      break;
    g_main_context_iteration (ctx, TRUE);
  }
  g_source_destroy (tick);
  g_source_unref (tick);
  g_main_context_unref (ctx);
  return ok;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
wr_iterate_ms (guint ms)
{
  wr_wait_until (never, NULL, ms);
}

/* ---------------------------------------------------------------------- */
/* Harness                                                                */
/* ---------------------------------------------------------------------- */

static char *
find_binary (const char *env_name, const char *relative)
{
  const char *override = g_getenv (env_name);
  const char *root = g_getenv ("WR_BUILD_ROOT");

  if (override && *override)
    return g_strdup (override);
  return g_build_filename (root ? root : ".", relative, NULL);
}

WrHarness *
wr_harness_new (int width, int height)
{
  WrHarness *h = g_new0 (WrHarness, 1);
  g_autoptr (GError) error = NULL;

  install_handlers_once ();
  h->width = width;
  h->height = height;
  h->tmp_dir = g_dir_make_tmp ("webremote-integ-XXXXXX", &error);
  g_assert_no_error (error);
  h->gateway_path = find_binary ("WR_GATEWAY", "gateway/webremote-gateway");
  h->agent_path = find_binary ("WR_AGENT", "agent/webremote-agent");
  h->state_dir = g_build_filename (h->tmp_dir, "gateway-state", NULL);
  h->gateway_config = g_build_filename (h->tmp_dir, "gateway.conf", NULL);
  h->agent_config = g_build_filename (h->tmp_dir, "agent.conf", NULL);
  h->agent_id = g_strdup ("integ-agent");
  h->admin_password = wr_random_token (18);
  h->clients = g_ptr_array_new ();

  /* An explicit empty config, so a /etc/webremote/gateway.conf on the
   * machine cannot change what the tests see. */
  g_file_set_contents (h->gateway_config, "", 0, &error);
  g_assert_no_error (error);
  return h;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR)
          && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  }
  g_rmdir (path);
}

void
wr_harness_free (WrHarness *h)
{
  if (!h)
    return;
  if (h->x_display)
    XCloseDisplay (h->x_display);
  for (guint i = 0; i < h->clients->len; i++) {
    WrChild *c = g_ptr_array_index (h->clients, i);
    child_kill (&c);
  }
  g_ptr_array_unref (h->clients);
  if (h->motion) {
    /* Before Xvfb goes: Xlib exits the process when its server dies. */
    g_atomic_int_set (&h->motion_stop, 1);
    g_thread_join (h->motion);
  }
  child_kill (&h->agent);
  child_kill (&h->gateway);
  child_kill (&h->xvfb);
  g_clear_object (&h->http);
  if (h->tmp_dir && !g_getenv ("WR_KEEP_TMP"))
    remove_tree (h->tmp_dir);
  g_free (h->tmp_dir);
  g_free (h->display);
  g_free (h->gateway_path);
  g_free (h->gateway_config);
  g_free (h->state_dir);
  g_free (h->admin_password);
  g_free (h->base_url);
  g_free (h->fingerprint);
  g_free (h->grant_key);
  g_free (h->agent_path);
  g_free (h->agent_id);
  g_free (h->agent_config);
  g_free (h->agent_extra_config);
  g_free (h->agent_state_dir);
  g_free (h->token);
  g_free (h->store_url);
  g_free (h->gateway_extra_config);
  g_free (h);
}

/* Repaints a small square at 60 Hz on its own X connection (see
 * WrHarness.static_screen). */
static gpointer
motion_thread (gpointer data)
{
  WrHarness *h = data;
  Display *dpy = XOpenDisplay (h->display);
  Window root;
  GC gc;
  guint i = 0;

  if (!dpy)
    return NULL;
  root = DefaultRootWindow (dpy);
  gc = XCreateGC (dpy, root, 0, NULL);
  while (!g_atomic_int_get (&h->motion_stop)) {
    XSetForeground (dpy, gc, (i++ * 0x0f1b2d) & 0xffffff);
    XFillRectangle (dpy, root, gc, h->width - 48, h->height - 48, 32, 32);
    XSync (dpy, False);
    g_usleep (G_USEC_PER_SEC / 60);
  }
  XFreeGC (dpy, gc);
  XCloseDisplay (dpy);
  return NULL;
}

gboolean
wr_harness_start_xvfb (WrHarness *h, GError **error)
{
  int fds[2];
  g_autofree char *screen = NULL;
  char buf[32] = { 0 };
  gsize len = 0;
  gint64 deadline;
  const char *argv[] = { "Xvfb", "-displayfd", "3", "-screen", "0", NULL,
    "-nolisten", "tcp", "-noreset", NULL };

  if (pipe (fds) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "pipe: %s", g_strerror (errno));
    return FALSE;
  }
  screen = g_strdup_printf ("%dx%dx24", h->width, h->height);
  argv[5] = screen;
  /* The write end is the child's fd 3; the launcher closes our copy. */
  h->xvfb = child_spawn ("xvfb", argv, NULL, FALSE, fds[1], error);
  if (!h->xvfb) {
    close (fds[0]);
    return FALSE;
  }

  /* Xvfb writes the display number followed by a newline once it accepts
   * connections. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (len < sizeof buf - 1 && !memchr (buf, '\n', len)) {
    struct pollfd pfd = { fds[0], POLLIN, 0 };
    int left = (int) ((deadline - g_get_monotonic_time ()) / 1000);
    ssize_t n;

    if (left <= 0 || poll (&pfd, 1, left) <= 0)
      break;
    n = read (fds[0], buf + len, sizeof buf - 1 - len);
    if (n <= 0)
      break;
    len += (gsize) n;
  }
  close (fds[0]);
  if (!memchr (buf, '\n', len)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "Xvfb did not report a display number within 10 s");
    return FALSE;
  }
  h->display = g_strdup_printf (":%d", atoi (buf));
  g_printerr ("harness: Xvfb %dx%d on %s\n", h->width, h->height, h->display);
  if (!h->static_screen && !h->motion)
    h->motion = g_thread_new ("harness-motion", motion_thread, h);
  return TRUE;
}

static guint16
pick_free_port (void)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  guint16 port = 0;

  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
      && getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
    port = ntohs (addr.sin_port);
  if (fd >= 0)
    close (fd);
  return port;
}

static gboolean
load_fingerprint (WrHarness *h, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) env = child_environ (h);
  const char *argv[] = { h->gateway_path, "--config", h->gateway_config,
    "--state-dir", h->state_dir, "--print-fingerprint", NULL };

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (!proc)
    return FALSE;
  if (!g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, error))
    return FALSE;
  if (!g_subprocess_get_successful (proc)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "webremote-gateway --print-fingerprint failed: %s", out);
    return FALSE;
  }
  lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    g_autofree char *fp = wr_fingerprint_normalize (g_strstrip (lines[i]));
    if (fp) {
      g_free (h->fingerprint);
      h->fingerprint = g_steal_pointer (&fp);
    }
  }
  if (!h->fingerprint) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "no SHA-256 fingerprint in the output of --print-fingerprint: %s",
        out);
    return FALSE;
  }
  return TRUE;
}

/* The gateway's session grant key, for the agent's --grant-key. */
static gboolean
load_grant_key (WrHarness *h, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) env = child_environ (h);
  const char *argv[] = { h->gateway_path, "--config", h->gateway_config,
    "--state-dir", h->state_dir, "--print-grant-key", NULL };

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (!proc
      || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, error))
    return FALSE;
  g_strstrip (out);
  if (!g_subprocess_get_successful (proc)
      || !g_str_has_prefix (out, "ed25519:")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "webremote-gateway --print-grant-key printed \"%s\"", out);
    return FALSE;
  }
  h->grant_key = g_steal_pointer (&out);
  return TRUE;
}

static gboolean
child_ready (gpointer data)
{
  WrChild *c = data;
  return c->listening || c->exited;
}

gboolean
wr_harness_start_gateway (WrHarness *h, GError **error)
{
  g_autofree char *port = NULL;
  g_auto (GStrv) env = NULL;

  if (!g_file_test (h->gateway_path, G_FILE_TEST_IS_EXECUTABLE)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "no gateway binary at %s", h->gateway_path);
    return FALSE;
  }
  if (h->store_url || h->gateway_extra_config) {
    g_autofree char *conf = g_strdup_printf ("%s%s%s%s",
        h->store_url ? "[store]\nurl=" : "",
        h->store_url ? h->store_url : "", h->store_url ? "\n" : "",
        h->gateway_extra_config ? h->gateway_extra_config : "");
    if (!g_file_set_contents (h->gateway_config, conf, -1, error))
      return FALSE;
  }
  if (!h->fingerprint && !load_fingerprint (h, error))
    return FALSE;
  if (!h->grant_key && !load_grant_key (h, error))
    return FALSE;
  if (h->port == 0)
    h->port = pick_free_port ();
  if (!h->base_url)
    h->base_url = g_strdup_printf ("https://127.0.0.1:%u", h->port);
  port = g_strdup_printf ("%u", h->port);

  env = child_environ (h);
  env = g_environ_setenv (env, "WEBREMOTE_ADMIN_PASSWORD", h->admin_password,
      TRUE);
  {
    const char *argv[] = { h->gateway_path, "--config", h->gateway_config,
      "--listen", "127.0.0.1", "--port", port, "--state-dir", h->state_dir, NULL };
    h->gateway = child_spawn ("gateway", argv, env, TRUE, -1, error);
  }
  if (!h->gateway)
    return FALSE;
  if (!wr_wait_until (child_ready, h->gateway, 15000) || h->gateway->exited) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "the gateway did not say \"listening on https://\" within 15 s%s",
        h->gateway->exited ? " (it exited)" : "");
    return FALSE;
  }

  g_clear_object (&h->http);
  h->http = soup_session_new_with_options ("timeout", 10, NULL);
  return TRUE;
}

void
wr_harness_kill_gateway (WrHarness *h)
{
  child_kill (&h->gateway);
  g_clear_object (&h->http);
}

static WrChild *
spawn_agent_in (WrHarness *h, const char *name,
    const char *state_dir, const char *grant_key, GError **error)
{
  g_autoptr (GString) conf = g_string_new (NULL);
  g_auto (GStrv) env = NULL;

  if (!g_file_test (h->agent_path, G_FILE_TEST_IS_EXECUTABLE)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "no agent binary at %s", h->agent_path);
    return NULL;
  }
  /* A short reconnect ceiling: the gateway restart test expects the agent
   * back within 5 s. */
  g_string_append (conf, "[agent]\nreconnect-max-ms=2000\n");
  if (h->agent_extra_config)
    g_string_append (conf, h->agent_extra_config);
  if (!g_file_set_contents (h->agent_config, conf->str, -1, error))
    return NULL;

  env = child_environ (h);
  {
    /* --grant-key: a test may make the agent trust another key than the
     * one its enrollment delivered (test-grants.c) */
    const char *argv[] = { h->agent_path, "--config", h->agent_config,
      "--state-dir", state_dir, "--display", h->display,
      "--ice-address", "127.0.0.1", "--name", name,
      grant_key ? "--grant-key" : NULL, grant_key, NULL };
    return child_spawn ("agent", argv, env, FALSE, -1, error);
  }
}

static char *
run_tool (const char *const *argv, GError **error)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
      | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  if (!proc || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err,
          error))
    return NULL;
  if (!g_subprocess_get_successful (proc)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s",
        argv[0], err ? g_strstrip (err) : "");
    return NULL;
  }
  return g_strdup (g_strstrip (out));
}

char *
wr_harness_ctl (WrHarness *h, const char *const *args, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (h->gateway_path);
  g_autofree char *ctl = g_build_filename (dir, "webremotectl", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, ctl);
  g_ptr_array_add (argv, (gpointer) "--state-dir");
  g_ptr_array_add (argv, h->state_dir);
  if (h->gateway_config) {
    g_ptr_array_add (argv, (gpointer) "--config");
    g_ptr_array_add (argv, h->gateway_config);
  }
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return run_tool ((const char *const *) argv->pdata, error);
}

gboolean
wr_harness_enroll_agent (WrHarness *h, const char *id, const char *state_dir,
    GError **error)
{
  const char *create[] = { "enroll", "create", "--ttl", "10m", NULL };
  g_autofree char *token = wr_harness_ctl (h, create, error);
  g_autofree char *out = NULL;

  if (!token)
    return FALSE;
  {
    const char *argv[] = { h->agent_path, "enroll", h->base_url, token,
      "--ca-fingerprint", h->fingerprint, "--state-dir", state_dir,
      "--id", id, NULL };
    out = run_tool (argv, error);
  }
  return out != NULL;
}

/* Every agent authenticates with its enrolled certificate (mTLS); there is
 * no pre-shared token. An agent id is enrolled once, the first time it is
 * started, into TMP/agent-state-ID; later starts (a restarted agent) reuse
 * that enrollment as a real machine would. */
static WrChild *
spawn_agent (WrHarness *h, const char *id, const char *name, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *crt = NULL;

  if (h->agent_state_dir && g_strcmp0 (id, h->agent_id) == 0)
    return spawn_agent_in (h, name, h->agent_state_dir, NULL, error);
  dir = g_strdup_printf ("%s/agent-state-%s", h->tmp_dir, id);
  crt = g_build_filename (dir, "agent.crt", NULL); /* WR_AGENT_STATE_CERT */
  if (!g_file_test (crt, G_FILE_TEST_EXISTS)
      && !wr_harness_enroll_agent (h, id, dir, error))
    return NULL;
  return spawn_agent_in (h, name, dir, h->grant_key, error);
}

gboolean
wr_harness_start_enrolled_agent (WrHarness *h, const char *state_dir,
    const char *name, GError **error)
{
  WrChild *c = spawn_agent_in (h, name, state_dir, NULL, error);

  if (!c)
    return FALSE;
  g_ptr_array_add (h->clients, c);
  return TRUE;
}

gboolean
wr_harness_start_agent (WrHarness *h, GError **error)
{
  h->agent = spawn_agent (h, h->agent_id, "integration test agent", error);
  return h->agent != NULL;
}

gboolean
wr_harness_start_extra_agent (WrHarness *h, const char *id,
    const char *name, GError **error)
{
  WrChild *c = spawn_agent (h, id, name, error);

  if (!c)
    return FALSE;
  g_ptr_array_add (h->clients, c);
  return TRUE;
}

gboolean
wr_harness_start_all (WrHarness *h, GError **error)
{
  if (!wr_harness_start_xvfb (h, error)
      || !wr_harness_start_gateway (h, error)
      || !wr_harness_start_agent (h, error)
      || !wr_harness_login (h, error))
    return FALSE;
  if (!wr_harness_wait_agent_online (h, 15000)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "agent %s not online with a display within 15 s", h->agent_id);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr_harness_spawn_x_client (WrHarness *h, const char *const *argv,
    GError **error)
{
  g_auto (GStrv) env = child_environ (h);
  WrChild *c = child_spawn (argv[0], argv, env, FALSE, -1, error);

  if (!c)
    return FALSE;
  g_ptr_array_add (h->clients, c);
  return TRUE;
}

char *
wr_harness_run_x_command (WrHarness *h, const char *const *argv,
    GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_auto (GStrv) env = child_environ (h);
  char *out = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (!proc)
    return NULL;
  if (!g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, error))
    return NULL;
  if (!g_subprocess_get_successful (proc)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed", argv[0]);
    g_free (out);
    return NULL;
  }
  return out;
}

GPid
wr_harness_gateway_pid (WrHarness *h)
{
  return h->gateway ? h->gateway->pid : 0;
}

GPid
wr_harness_agent_pid (WrHarness *h)
{
  return h->agent ? h->agent->pid : 0;
}

GPid
wr_harness_xvfb_pid (WrHarness *h)
{
  return h->xvfb ? h->xvfb->pid : 0;
}

/* ---------------------------------------------------------------------- */
/* HTTP                                                                   */
/* ---------------------------------------------------------------------- */

static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  const char *expected = user_data;
  g_autofree char *actual = wr_certificate_fingerprint (cert);

  return actual && g_strcmp0 (actual, expected) == 0;
}

void
wr_message_pin_certificate (SoupMessage *msg, const char *fingerprint)
{
  g_signal_connect_data (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), g_strdup (fingerprint),
      (GClosureNotify) (void (*) (void)) g_free, 0);
}

void
wr_http_response_free (WrHttpResponse *response)
{
  if (!response)
    return;
  g_free (response->body);
  if (response->json)
    json_node_unref (response->json);
  g_strfreev (response->set_cookies);
  g_free (response->content_type);
  g_clear_pointer (&response->raw, g_bytes_unref);
  g_free (response->content_range);
  g_free (response);
}

WrHttpResponse *
wr_harness_request (WrHarness *h, const char *method, const char *path,
    const char *token, const char *content_type, GBytes *body,
    const char *const *headers, GError **error)
{
  g_autofree char *url = g_strconcat (h->base_url, path, NULL);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GStrvBuilder) cookies = g_strv_builder_new ();
  SoupMessageHeaders *req_headers;
  SoupMessageHeadersIter iter;
  const char *name, *value;
  WrHttpResponse *response;
  gsize len = 0;
  const char *data;

  if (!h->http) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
        "the gateway is not running");
    return NULL;
  }
  msg = soup_message_new (method, url);
  if (!msg) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "bad URL %s", url);
    return NULL;
  }
  wr_message_pin_certificate (msg, h->fingerprint);
  req_headers = soup_message_get_request_headers (msg);
  if (token) {
    g_autofree char *auth = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_replace (req_headers, "Authorization", auth);
  }
  for (const char *const *hd = headers; hd && hd[0] && hd[1]; hd += 2)
    soup_message_headers_replace (req_headers, hd[0], hd[1]);
  if (body)
    soup_message_set_request_body_from_bytes (msg,
        content_type ? content_type : "application/json", body);
  answer = soup_session_send_and_read (h->http, msg, NULL, error);
  if (!answer)
    return NULL;

  response = g_new0 (WrHttpResponse, 1);
  response->status = soup_message_get_status (msg);
  data = g_bytes_get_data (answer, &len);
  response->body = g_strndup (data ? data : "", len);
  if (len > 0 && json_parser_load_from_data (parser, response->body, -1, NULL)
      && json_parser_get_root (parser))
    response->json = json_node_ref (json_parser_get_root (parser));
  soup_message_headers_iter_init (&iter,
      soup_message_get_response_headers (msg));
  while (soup_message_headers_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, "Set-Cookie") == 0)
      g_strv_builder_add (cookies, value);
  response->set_cookies = g_strv_builder_end (cookies);
  response->content_type = g_strdup (soup_message_headers_get_content_type (
          soup_message_get_response_headers (msg), NULL));
  response->raw = g_bytes_ref (answer);
  response->content_range = g_strdup (soup_message_headers_get_one (
          soup_message_get_response_headers (msg), "Content-Range"));
  return response;
}

WrHttpResponse *
wr_harness_http (WrHarness *h, const char *method, const char *path,
    const char *token, const char *json_body, GError **error)
{
  g_autoptr (GBytes) body = json_body
      ? g_bytes_new (json_body, strlen (json_body)) : NULL;

  return wr_harness_request (h, method, path, token, NULL, body, NULL,
      error);
}

const char *
wr_http_response_get_code (WrHttpResponse *response)
{
  JsonObject *o;
  JsonNode *code;

  if (!response || !response->json || !JSON_NODE_HOLDS_OBJECT (response->json))
    return NULL;
  o = json_node_get_object (response->json);
  code = json_object_get_member (o, "code");
  if (!code || !JSON_NODE_HOLDS_VALUE (code)
      || json_node_get_value_type (code) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (code);
}

char *
wr_http_response_get_cookie (WrHttpResponse *response, const char *name,
    char **header)
{
  gsize name_len = strlen (name);

  for (char **c = response->set_cookies; c && *c; c++) {
    const char *v = *c;
    const char *end;

    while (*v == ' ')
      v++;
    if (strncmp (v, name, name_len) != 0 || v[name_len] != '=')
      continue;
    v += name_len + 1;
    end = strchr (v, ';');
    if (header)
      *header = g_strdup (*c);
    return end ? g_strndup (v, (gsize) (end - v)) : g_strdup (v);
  }
  return NULL;
}

static gboolean
on_raw_accept_certificate (GTlsConnection *conn, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  g_autofree char *actual = wr_certificate_fingerprint (cert);

  return actual && g_strcmp0 (actual, user_data) == 0;
}

static void
on_raw_event (GSocketClient *client, GSocketClientEvent event,
    GSocketConnectable *connectable, GIOStream *connection,
    gpointer user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate",
        G_CALLBACK (on_raw_accept_certificate), user_data);
}

char *
wr_harness_raw_request (WrHarness *h, const char *request, guint timeout_ms,
    guint *status, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autofree char *status_line = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GError) write_error = NULL;
  g_autoptr (GError) read_error = NULL;
  gsize content_length = 0;
  gsize got = 0;

  g_socket_client_set_tls (client, TRUE);
  g_socket_client_set_timeout (client, (timeout_ms + 999) / 1000);
  g_signal_connect (client, "event", G_CALLBACK (on_raw_event),
      h->fingerprint);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", h->port, NULL,
      error);
  if (!conn)
    return NULL;
  /* A server may answer and close before it has read everything (a
   * refused body): then the write fails, and the answer is still there to
   * read. */
  g_output_stream_write_all (g_io_stream_get_output_stream (
          G_IO_STREAM (conn)), request, strlen (request), NULL, NULL,
      &write_error);

  in = g_data_input_stream_new (g_io_stream_get_input_stream (
          G_IO_STREAM (conn)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  status_line = g_data_input_stream_read_line (in, NULL, NULL, &read_error);
  if (!status_line) {
    if (write_error)
      g_propagate_error (error, g_steal_pointer (&write_error));
    else if (read_error)
      g_propagate_error (error, g_steal_pointer (&read_error));
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
          "the connection closed without an answer");
    return NULL;
  }
  if (!g_str_has_prefix (status_line, "HTTP/1.") || strlen (status_line) < 12) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "not an HTTP status line: %s", status_line);
    return NULL;
  }
  *status = (guint) g_ascii_strtoull (status_line + 9, NULL, 10);
  for (;;) {
    g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL,
        &read_error);
    if (!line) {
      if (read_error)
        g_propagate_error (error, g_steal_pointer (&read_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
            "the connection closed in the middle of the answer");
      return NULL;
    }
    if (!*line)
      break;
    if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
      content_length = g_ascii_strtoull (line + 15, NULL, 10);
  }
  if (content_length > 1024 * 1024) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Content-Length %" G_GSIZE_FORMAT " is too large", content_length);
    return NULL;
  }
  body = g_malloc0 (content_length + 1);
  if (content_length > 0
      && !g_input_stream_read_all (G_INPUT_STREAM (in), body, content_length,
          &got, NULL, error))
    return NULL;
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  return g_steal_pointer (&body);
}

gboolean
wr_harness_login (WrHarness *h, GError **error)
{
  g_autoptr (WrHttpResponse) r = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL;
  JsonObject *o;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, "admin");
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, h->admin_password);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  body = json_to_string (root, FALSE);

  r = wr_harness_http (h, "POST", "/api/v1/login", NULL, body, error);
  if (!r)
    return FALSE;
  if (r->status != 200 || !r->json || !JSON_NODE_HOLDS_OBJECT (r->json)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "login: HTTP %u %s", r->status, r->body);
    return FALSE;
  }
  o = json_node_get_object (r->json);
  if (!json_object_has_member (o, "token")
      || !json_object_get_string_member (o, "token")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "login: no token in the answer");
    return FALSE;
  }
  g_free (h->token);
  h->token = g_strdup (json_object_get_string_member (o, "token"));
  return TRUE;
}

JsonObject *
wr_harness_get_agent (WrHarness *h)
{
  g_autoptr (WrHttpResponse) r = NULL;
  JsonObject *root;
  JsonArray *agents;

  r = wr_harness_http (h, "GET", "/api/v1/agents", h->token, NULL, NULL);
  if (!r || r->status != 200 || !r->json || !JSON_NODE_HOLDS_OBJECT (r->json))
    return NULL;
  root = json_node_get_object (r->json);
  if (!json_object_has_member (root, "agents"))
    return NULL;
  agents = json_object_get_array_member (root, "agents");
  if (!agents)
    return NULL;
  for (guint i = 0; i < json_array_get_length (agents); i++) {
    JsonObject *a = json_array_get_object_element (agents, i);
    if (a && json_object_has_member (a, "id")
        && g_strcmp0 (json_object_get_string_member (a, "id"),
            h->agent_id) == 0)
      return json_object_ref (a);
  }
  return NULL;
}

static gboolean
agent_is_online (JsonObject *a)
{
  return a && json_object_has_member (a, "online")
      && json_object_get_boolean_member (a, "online");
}

gboolean
wr_harness_agent_online (WrHarness *h)
{
  g_autoptr (JsonObject) a = wr_harness_get_agent (h);

  return agent_is_online (a);
}

static gboolean
agent_ready (gpointer data)
{
  WrHarness *h = data;
  g_autoptr (JsonObject) a = wr_harness_get_agent (h);
  JsonArray *displays;

  if (!agent_is_online (a) || !json_object_has_member (a, "displays"))
    return FALSE;
  displays = json_object_get_array_member (a, "displays");
  if (!displays || json_array_get_length (displays) == 0)
    return FALSE;
  return TRUE;
}

gboolean
wr_harness_wait_agent_online (WrHarness *h, guint timeout_ms)
{
  /* Poll at 50 ms: each check is one HTTPS request. */
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    if (agent_ready (h))
      return TRUE;
    wr_iterate_ms (50);
  }
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* X and /proc                                                            */
/* ---------------------------------------------------------------------- */

gboolean
wr_harness_query_pointer (WrHarness *h, int *x, int *y)
{
  Display *dpy;
  Window root_ret, child_ret;
  int wx, wy;
  unsigned int mask;

  if (!h->x_display)
    h->x_display = XOpenDisplay (h->display);
  dpy = h->x_display;
  if (!dpy)
    return FALSE;
  return XQueryPointer (dpy, DefaultRootWindow (dpy), &root_ret, &child_ret,
      x, y, &wx, &wy, &mask);
}

gboolean
wr_process_cpu_ticks (GPid pid, guint64 *ticks)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_comm;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  /* The command name may contain spaces and parentheses: fields start
   * after the last ')'. utime and stime are fields 14 and 15 of the line,
   * so 12 and 13 counted from the state field after the name. */
  after_comm = strrchr (text, ')');
  if (!after_comm)
    return FALSE;
  fields = g_strsplit (after_comm + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return FALSE;
  *ticks = g_ascii_strtoull (fields[11], NULL, 10)
      + g_ascii_strtoull (fields[12], NULL, 10);
  return TRUE;
}
