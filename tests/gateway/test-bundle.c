/* Tests for evidence bundles (gateway/bundle.c): tar files written with
 * libarchive, read back as tar files and as unpacked directories (by the
 * system's tar), and hostile archives refused. */
#include "config.h"

#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include "common/crypto.h"
#include "gateway/bundle.h"

typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("wr-bundle-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  const char *argv[] = { "rm", "-rf", f->dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
      NULL, NULL, NULL, NULL);
  g_free (f->dir);
}

static char *
path_in (Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static void
run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
      NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
}

/* A file of @size pseudo-random bytes; returns its SHA-256. */
static char *
make_file (const char *path, gsize size)
{
  g_autofree guint8 *buf = g_malloc (size);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    buf[i] = (guint8) g_rand_int (rand);
  g_assert_true (g_file_set_contents (path, (char *) buf, size, &error));
  return wr_sha256_hex (buf, size);
}

static void
check_members (WrBundle *b, const char *big_sha)
{
  GPtrArray *members = wr_bundle_get_members (b);
  const WrBundleMember *m;
  g_autofree char *hello_sha = wr_sha256_hex ("hello\n", 6);

  g_assert_cmpuint (members->len, ==, 3);
  m = wr_bundle_get (b, "README.txt");
  g_assert_nonnull (m);
  g_assert_cmpint (m->size, ==, 6);
  g_assert_cmpstr (m->sha256, ==, hello_sha);
  g_assert_nonnull (m->data);
  g_assert_cmpmem (g_bytes_get_data (m->data, NULL), 6, "hello\n", 6);
  m = wr_bundle_get (b, "segments/segment-00001.mp4");
  g_assert_nonnull (m);
  g_assert_cmpint (m->size, ==, WR_BUNDLE_MAX_IN_MEMORY + 1000);
  g_assert_cmpstr (m->sha256, ==, big_sha);
  g_assert_null (m->data);   /* hashed while read, not kept */
  m = wr_bundle_get (b, "empty");
  g_assert_nonnull (m);
  g_assert_cmpint (m->size, ==, 0);
  g_assert_null (wr_bundle_get (b, "nope"));
}

static void
test_write_and_read (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tar = path_in (f, "out.tar");
  g_autofree char *big = path_in (f, "big.bin");
  g_autofree char *unpacked = path_in (f, "unpacked");
  g_autofree char *big_sha = make_file (big, WR_BUNDLE_MAX_IN_MEMORY + 1000);
  g_autofree char *listing = NULL;
  g_autoptr (WrBundleWriter) w = NULL;
  g_autoptr (WrBundle) b = NULL;
  g_autoptr (WrBundle) d = NULL;
  GStatBuf st;

  w = wr_bundle_writer_new (tar, &error);
  g_assert_no_error (error);
  g_assert_true (wr_bundle_writer_add_data (w, "README.txt", "hello\n", 6,
          &error));
  g_assert_true (wr_bundle_writer_add_file (w, "segments/segment-00001.mp4",
          big, &error));
  g_assert_true (wr_bundle_writer_add_data (w, "empty", "", 0, &error));
  g_assert_true (wr_bundle_writer_close (w, &error));
  g_assert_no_error (error);
  g_clear_pointer (&w, wr_bundle_writer_free);
  g_assert_cmpint (g_stat (tar, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* Any tar reads it. */
  {
    const char *argv[] = { "tar", "-tf", tar, NULL };
    int status;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
            G_SPAWN_SEARCH_PATH, NULL, NULL, &listing, NULL, &status,
            &error));
    g_assert_cmpstr (listing, ==,
        "README.txt\nsegments/segment-00001.mp4\nempty\n");
  }

  b = wr_bundle_read (tar, &error);
  g_assert_no_error (error);
  check_members (b, big_sha);
  /* In the order written. */
  g_assert_cmpstr (((WrBundleMember *) wr_bundle_get_members (b)->pdata[0])
      ->name, ==, "README.txt");

  /* Unpacked by tar(1): the directory reads the same. */
  g_assert_cmpint (g_mkdir (unpacked, 0700), ==, 0);
  {
    const char *argv[] = { "tar", "-xf", tar, "-C", unpacked, NULL };

    run (argv);
  }
  d = wr_bundle_read (unpacked, &error);
  g_assert_no_error (error);
  check_members (d, big_sha);

  /* The big member, loaded whole on demand, from both forms. */
  {
    const char *sources[] = { tar, unpacked };

    for (guint i = 0; i < G_N_ELEMENTS (sources); i++) {
      g_autoptr (GBytes) whole = wr_bundle_load_member (sources[i],
          "segments/segment-00001.mp4", 64 * 1024 * 1024, &error);
      g_autofree char *sha = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (whole), ==,
          WR_BUNDLE_MAX_IN_MEMORY + 1000);
      sha = wr_sha256_hex (g_bytes_get_data (whole, NULL),
          g_bytes_get_size (whole));
      g_assert_cmpstr (sha, ==, big_sha);
      g_assert_null (wr_bundle_load_member (sources[i],
              "segments/segment-00001.mp4", 1024, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_null (wr_bundle_load_member (sources[i], "nope", 1024,
              &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_null (wr_bundle_load_member (sources[i], "../README.txt",
              1024, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
      g_clear_error (&error);
    }
  }
  g_clear_pointer (&b, wr_bundle_free);

  /* And a tar made by tar(1) from that directory, with "./" names. */
  {
    g_autofree char *tar2 = path_in (f, "again.tar");
    const char *argv[] = { "tar", "-cf", tar2, "-C", unpacked, ".", NULL };

    run (argv);
    b = wr_bundle_read (tar2, &error);
    g_assert_no_error (error);
    check_members (b, big_sha);
  }
}

static void
test_writer_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tar = path_in (f, "out.tar");
  g_autofree char *partial = path_in (f, "partial.tar");
  const char *bad[] = { "../x", "/etc/passwd", "a/../b", "a//b", "./a",
    "a/./b", "", "a\\b", "a\nb", "a/" };
  WrBundleWriter *w;

  w = wr_bundle_writer_new (tar, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (wr_bundle_writer_add_data (w, bad[i], "x", 1, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
    g_clear_error (&error);
  }
  g_assert_true (wr_bundle_writer_close (w, &error));
  wr_bundle_writer_free (w);

  /* Never replaces a file. */
  g_assert_null (wr_bundle_writer_new (tar, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  /* Not closed: the partial file goes away. */
  w = wr_bundle_writer_new (partial, &error);
  g_assert_true (wr_bundle_writer_add_data (w, "a", "x", 1, &error));
  g_assert_true (g_file_test (partial, G_FILE_TEST_EXISTS));
  wr_bundle_writer_free (w);
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));

  /* A missing source file. */
  w = wr_bundle_writer_new (partial, &error);
  g_assert_false (wr_bundle_writer_add_file (w, "a", "/nonexistent/x",
          &error));
  g_assert_nonnull (error);
  wr_bundle_writer_free (w);
}

typedef enum { PLAIN, SYMLINK, HARDLINK } Kind;

/* A tar written with libarchive directly, to make what bundle.c never
 * writes. */
static void
write_raw_tar (const char *path, const char *name, Kind kind,
    gboolean twice)
{
  struct archive *a = archive_write_new ();

  archive_write_set_format_pax_restricted (a);
  g_assert_cmpint (archive_write_open_filename (a, path), ==, ARCHIVE_OK);
  for (int i = 0; i < (twice ? 2 : 1); i++) {
    struct archive_entry *e = archive_entry_new ();

    archive_entry_set_pathname (e, name);
    archive_entry_set_perm (e, 0644);
    if (kind == SYMLINK) {
      archive_entry_set_filetype (e, AE_IFLNK);
      archive_entry_set_symlink (e, "/etc/passwd");
      archive_entry_set_size (e, 0);
    } else if (kind == HARDLINK) {
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_hardlink (e, "/etc/passwd");
      archive_entry_set_size (e, 0);
    } else {
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_size (e, 2);
    }
    g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
    if (kind == PLAIN)
      archive_write_data (a, "x\n", 2);
    archive_entry_free (e);
  }
  archive_write_close (a);
  archive_write_free (a);
}

static void
test_reader_refusals (Fixture *f, gconstpointer data)
{
  struct {
    const char *name;
    Kind kind;
    gboolean twice;
    const char *message;
  } cases[] = {
    { "../evil", PLAIN, FALSE, ".." },
    { "a/../../evil", PLAIN, FALSE, ".." },
    { "/etc/cron.d/evil", PLAIN, FALSE, "absolute" },
    { "link", SYMLINK, FALSE, "link" },
    { "hard", HARDLINK, FALSE, "link" },
    { "events.jsonl", PLAIN, TRUE, "twice" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *name = g_strdup_printf ("bad-%u.tar", i);
    g_autofree char *tar = path_in (f, name);
    g_autoptr (GError) error = NULL;
    g_autoptr (WrBundle) b = NULL;

    write_raw_tar (tar, cases[i].name, cases[i].kind, cases[i].twice);
    b = wr_bundle_read (tar, &error);
    g_assert_null (b);
    g_assert_nonnull (error);
    g_test_message ("%s: %s", cases[i].name, error->message);
    g_assert_nonnull (strstr (error->message, cases[i].message));
  }

  /* A good one written the same way reads. */
  {
    g_autofree char *tar = path_in (f, "good.tar");
    g_autoptr (GError) error = NULL;
    g_autoptr (WrBundle) b = NULL;

    write_raw_tar (tar, "ok.txt", PLAIN, FALSE);
    b = wr_bundle_read (tar, &error);
    g_assert_no_error (error);
    g_assert_nonnull (wr_bundle_get (b, "ok.txt"));
  }

  /* Not a tar file; no file. */
  {
    g_autofree char *junk = path_in (f, "junk.tar");
    g_autoptr (GError) error = NULL;

    g_assert_true (g_file_set_contents (junk, "this is not a tar file, "
            "just some text that is long enough", -1, NULL));
    g_assert_null (wr_bundle_read (junk, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_null (wr_bundle_read ("/nonexistent/x.tar", &error));
    g_assert_nonnull (error);
  }
}

static void
test_directory_refusals (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = path_in (f, "d");
  g_autofree char *file = g_build_filename (dir, "events.jsonl", NULL);
  g_autofree char *link = g_build_filename (dir, "public-key.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrBundle) b = NULL;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "{}\n", -1, NULL));
  b = wr_bundle_read (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wr_bundle_get_members (b)->len, ==, 1);
  g_clear_pointer (&b, wr_bundle_free);

  g_assert_cmpint (symlink ("/etc/hostname", link), ==, 0);
  b = wr_bundle_read (dir, &error);
  g_assert_null (b);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_assert_nonnull (strstr (error->message, "public-key.txt"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/gateway/bundle/write-and-read-tar-and-directory", Fixture,
      NULL, setup, test_write_and_read, teardown);
  g_test_add ("/gateway/bundle/writer-refuses-bad-names-and-existing-files",
      Fixture, NULL, setup, test_writer_refusals, teardown);
  g_test_add ("/gateway/bundle/reader-refuses-traversal-links-duplicates",
      Fixture, NULL, setup, test_reader_refusals, teardown);
  g_test_add ("/gateway/bundle/directory-with-a-link-refused", Fixture, NULL,
      setup, test_directory_refusals, teardown);
  return g_test_run ();
}
