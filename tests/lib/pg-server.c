/* webremote tests: a throwaway PostgreSQL cluster; see pg-server.h. */
#include "config.h"

#include "tests/lib/pg-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>

struct _WrPgServer {
  char *dir;         /* temp dir: data/, socket, log */
  char *url;
  guint16 port;
  GPid guard_pid;
  int guard_fd;      /* closing it makes the guard stop the cluster */
  guint n_databases;
};

static char *
find_bindir (void)
{
  const char *env = g_getenv ("WR_PG_BINDIR");
  g_autoptr (GDir) dir = NULL;
  const char *entry;
  char *best = NULL;
  gint64 best_version = -1;

  if (env && *env)
    return g_strdup (env);

  dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  while (dir && (entry = g_dir_read_name (dir))) {
    g_autofree char *initdb = g_build_filename ("/usr/lib/postgresql", entry,
        "bin", "initdb", NULL);
    gint64 version = g_ascii_strtoll (entry, NULL, 10);

    if (version > best_version &&
        g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE)) {
      g_free (best);
      best = g_build_filename ("/usr/lib/postgresql", entry, "bin", NULL);
      best_version = version;
    }
  }
  if (best)
    return best;

  {
    g_autofree char *initdb = g_find_program_in_path ("initdb");

    return initdb ? g_path_get_dirname (initdb) : NULL;
  }
}

/* Command prefix that runs a PostgreSQL binary as the right user:
 * PostgreSQL refuses to run as root. */
static void
add_prefix (GPtrArray *argv)
{
  if (geteuid () == 0) {
    g_ptr_array_add (argv, g_strdup ("runuser"));
    g_ptr_array_add (argv, g_strdup ("-u"));
    g_ptr_array_add (argv, g_strdup ("postgres"));
    g_ptr_array_add (argv, g_strdup ("--"));
  }
}

static gboolean
run (WrPgServer *server, GPtrArray *argv, GError **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (server->dir, (char **) argv->pdata, NULL,
          G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
        "%s failed: %s%s", (char *) argv->pdata[geteuid () == 0 ? 4 : 0],
        out ? out : "", err ? err : "");
    return FALSE;
  }
  return TRUE;
}

static guint16
free_port (GError **error)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  guint16 port = 0;

  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0 &&
      getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
    port = ntohs (addr.sin_port);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot find a free port: %s", g_strerror (errno));
  if (fd >= 0)
    close (fd);
  return port;
}

static void
guard_setup (gpointer data)
{
  /* Out of the test's process group: a timeout that kills the group must
   * leave the guard alive to clean up. */
  setsid ();
}

/* Starts the guard: it blocks reading our pipe; when the pipe closes
 * (wr_pg_server_stop, or this process dying in any way) it stops the
 * cluster and removes the directory. */
static gboolean
start_guard (WrPgServer *server, const char *bindir, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *data = g_build_filename (server->dir, "data", NULL);

  g_ptr_array_add (argv, g_strdup ("/bin/sh"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup ("d=\"$1\"; shift; cat >/dev/null 2>&1; "
          "if [ -f \"$d/data/postmaster.pid\" ]; then "
          "\"$@\" >/dev/null 2>&1; fi; rm -rf -- \"$d\""));
  g_ptr_array_add (argv, g_strdup ("wr-pg-guard"));
  g_ptr_array_add (argv, g_strdup (server->dir));
  add_prefix (argv);
  g_ptr_array_add (argv, g_build_filename (bindir, "pg_ctl", NULL));
  g_ptr_array_add (argv, g_strdup ("-D"));
  g_ptr_array_add (argv, g_strdup (data));
  g_ptr_array_add (argv, g_strdup ("-m"));
  g_ptr_array_add (argv, g_strdup ("immediate"));
  g_ptr_array_add (argv, g_strdup ("-w"));
  g_ptr_array_add (argv, g_strdup ("stop"));
  g_ptr_array_add (argv, NULL);

  return g_spawn_async_with_pipes ("/", (char **) argv->pdata, NULL,
      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
      G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
      guard_setup, NULL, &server->guard_pid, &server->guard_fd, NULL, NULL,
      error);
}

static char *
read_log_tail (WrPgServer *server)
{
  g_autofree char *path = g_build_filename (server->dir, "log", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return g_strdup ("");
  return g_strdup (len > 2000 ? contents + len - 2000 : contents);
}

WrPgServer *
wr_pg_server_start (GError **error)
{
  g_autoptr (WrPgServer) server = g_new0 (WrPgServer, 1);
  g_autofree char *bindir = find_bindir ();
  g_autofree char *data = NULL;
  g_autofree char *log = NULL;
  gint64 started = g_get_monotonic_time ();

  server->guard_fd = -1;
  if (!bindir) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "PostgreSQL server binaries not found (apt-get install postgresql, "
        "or set WR_PG_BINDIR)");
    return NULL;
  }

  /* Under /tmp, not $TMPDIR: the postgres user must reach it and the
   * socket path must stay short. */
  server->dir = g_strdup ("/tmp/wr-pg-XXXXXX");
  if (!g_mkdtemp_full (server->dir, 0700)) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot create a temporary directory: %s", g_strerror (errno));
    g_clear_pointer (&server->dir, g_free);
    return NULL;
  }
  if (geteuid () == 0) {
    struct passwd *pw = getpwnam ("postgres");

    if (!pw || chown (server->dir, pw->pw_uid, pw->pw_gid) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "running as root needs a 'postgres' user to own the cluster");
      return NULL;
    }
  }

  if (!start_guard (server, bindir, error))
    return NULL;

  data = g_build_filename (server->dir, "data", NULL);
  log = g_build_filename (server->dir, "log", NULL);

  {
    g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

    add_prefix (argv);
    g_ptr_array_add (argv, g_build_filename (bindir, "initdb", NULL));
    g_ptr_array_add (argv, g_strdup ("-D"));
    g_ptr_array_add (argv, g_strdup (data));
    g_ptr_array_add (argv, g_strdup ("-U"));
    g_ptr_array_add (argv, g_strdup ("postgres"));
    g_ptr_array_add (argv, g_strdup ("-A"));
    g_ptr_array_add (argv, g_strdup ("trust"));
    g_ptr_array_add (argv, g_strdup ("-E"));
    g_ptr_array_add (argv, g_strdup ("UTF8"));
    g_ptr_array_add (argv, g_strdup ("--no-locale"));
    g_ptr_array_add (argv, g_strdup ("--no-sync"));
    if (!run (server, argv, error))
      return NULL;
  }

  /* The port is free when we look and taken by PostgreSQL a moment later;
   * another process may win the race, so try a few. */
  for (guint attempt = 0;; attempt++) {
    g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GError) local_error = NULL;

    server->port = free_port (error);
    if (!server->port)
      return NULL;

    add_prefix (argv);
    g_ptr_array_add (argv, g_build_filename (bindir, "pg_ctl", NULL));
    g_ptr_array_add (argv, g_strdup ("-D"));
    g_ptr_array_add (argv, g_strdup (data));
    g_ptr_array_add (argv, g_strdup ("-l"));
    g_ptr_array_add (argv, g_strdup (log));
    g_ptr_array_add (argv, g_strdup ("-w"));
    g_ptr_array_add (argv, g_strdup ("-t"));
    g_ptr_array_add (argv, g_strdup ("60"));
    g_ptr_array_add (argv, g_strdup ("-o"));
    g_ptr_array_add (argv, g_strdup_printf ("-c listen_addresses=127.0.0.1 "
            "-p %u -k %s -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=50",
            server->port, server->dir));
    g_ptr_array_add (argv, g_strdup ("start"));
    if (run (server, argv, &local_error))
      break;
    if (attempt == 2) {
      g_autofree char *tail = read_log_tail (server);

      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
          "%s\nserver log:\n%s", local_error->message, tail);
      return NULL;
    }
  }

  server->url = g_strdup_printf ("postgresql://postgres@127.0.0.1:%u/postgres",
      server->port);
  g_debug ("PostgreSQL up at %s in %" G_GINT64_FORMAT " ms", server->url,
      (g_get_monotonic_time () - started) / 1000);
  return g_steal_pointer (&server);
}

void
wr_pg_server_stop (WrPgServer *server)
{
  if (!server)
    return;

  if (server->guard_pid) {
    int status;

    close (server->guard_fd);
    while (waitpid (server->guard_pid, &status, 0) < 0 && errno == EINTR)
      ;
    g_spawn_close_pid (server->guard_pid);
  } else if (server->dir) {
    g_rmdir (server->dir);
  }
  g_free (server->dir);
  g_free (server->url);
  g_free (server);
}

const char *
wr_pg_server_get_url (WrPgServer *server)
{
  return server->url;
}

guint16
wr_pg_server_get_port (WrPgServer *server)
{
  return server->port;
}

gboolean
wr_pg_server_exec (const char *url, const char *sql, GError **error)
{
  PGconn *conn = PQconnectdb (url);
  PGresult *res;
  gboolean ok;

  if (PQstatus (conn) != CONNECTION_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot connect to %s: %s", url, PQerrorMessage (conn));
    PQfinish (conn);
    return FALSE;
  }
  res = PQexec (conn, sql);
  ok = PQresultStatus (res) == PGRES_COMMAND_OK ||
      PQresultStatus (res) == PGRES_TUPLES_OK;
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", sql,
        PQresultErrorMessage (res));
  PQclear (res);
  PQfinish (conn);
  return ok;
}

char *
wr_pg_server_create_database (WrPgServer *server, GError **error)
{
  g_autofree char *name = g_strdup_printf ("wr_test_%u",
      ++server->n_databases);
  g_autofree char *sql = g_strdup_printf ("CREATE SCHEMA %s", name);

  /* A schema, not a CREATE DATABASE: the same isolation for unqualified
   * names at ~5 ms instead of ~300 ms per test. */
  if (!wr_pg_server_exec (server->url, sql, error))
    return NULL;
  return g_strdup_printf ("postgresql://postgres@127.0.0.1:%u/postgres"
      "?options=-csearch_path%%3D%s", server->port, name);
}
