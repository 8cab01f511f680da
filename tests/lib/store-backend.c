/* webremote tests: the two store backends every store test runs on. */
#include "config.h"

#include "tests/lib/store-backend.h"

#include <glib/gstdio.h>

const WrTestBackend wr_test_backends[2] = {
  { "sqlite", FALSE },
  { "postgresql", TRUE },
};

static WrPgServer *pg_server;
static GError *pg_error;
static gboolean pg_tried;

char *
wr_test_backend_location (const WrTestBackend *backend, const char *dir,
    const char *sqlite_name)
{
  g_autoptr (GError) error = NULL;
  char *location;

  if (!backend->pg)
    return g_build_filename (dir, sqlite_name, NULL);
  if (!pg_tried) {
    pg_tried = TRUE;
    pg_server = wr_pg_server_start (&pg_error);
  }
  g_assert_no_error (pg_error);
  location = wr_pg_server_create_database (pg_server, &error);
  g_assert_no_error (error);
  return location;
}

WrPgServer *
wr_test_backend_get_pg_server (void)
{
  return pg_server;
}

void
wr_test_backends_shutdown (void)
{
  g_clear_pointer (&pg_server, wr_pg_server_stop);
  g_clear_error (&pg_error);
  pg_tried = FALSE;
}

void
wr_test_sqlite_remove (const char *path)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++) {
    g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

    g_unlink (file);
  }
}

void
wr_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR)
        && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      wr_test_remove_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}
