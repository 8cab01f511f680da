/* webremote: evidence bundles as tar files (bundle.h). */
#include "config.h"

#include "gateway/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

/* Bounds on what a reader accepts. */
#define MAX_NAME 1024
#define MAX_MEMBERS 65536
#define MAX_DEPTH 16
#define CHUNK (64 * 1024)

/* ------------------------------------------------------------------ */
/* Names */

/* A member name: relative, '/'-separated, no "", "." or ".." component,
 * valid UTF-8 without control characters or backslashes. */
static gboolean
check_name (const char *name, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (!name || !*name || strlen (name) > MAX_NAME
      || !g_utf8_validate (name, -1, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
        "bad member name");
    return FALSE;
  }
  if (name[0] == '/') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
        "absolute member name refused: %s", name);
    return FALSE;
  }
  for (const char *p = name; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c) || c == '\\') {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
          "member name with control characters or backslashes refused");
      return FALSE;
    }
  }
  parts = g_strsplit (name, "/", -1);
  for (guint i = 0; parts[i]; i++) {
    if (g_str_equal (parts[i], "..")) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
          "member name with \"..\" refused: %s", name);
      return FALSE;
    }
    if (!*parts[i] || g_str_equal (parts[i], ".")) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
          "member name with an empty or \".\" component refused: %s", name);
      return FALSE;
    }
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Writer */

struct _WrBundleWriter {
  char *path;
  int fd;
  struct archive *archive;
  gboolean closed;
  gboolean failed;
};

static gboolean
archive_failed (WrBundleWriter *w, struct archive *a, const char *what,
    GError **error)
{
  w->failed = TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
      archive_error_string (a) ? archive_error_string (a) : "failed");
  return FALSE;
}

WrBundleWriter *
wr_bundle_writer_new (const char *path, GError **error)
{
  WrBundleWriter *w;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot create %s: %s", path, g_strerror (saved));
    return NULL;
  }
  w = g_new0 (WrBundleWriter, 1);
  w->path = g_strdup (path);
  w->fd = fd;
  w->archive = archive_write_new ();
  if (archive_write_set_format_pax_restricted (w->archive) != ARCHIVE_OK
      || archive_write_open_fd (w->archive, fd) != ARCHIVE_OK) {
    archive_failed (w, w->archive, path, error);
    wr_bundle_writer_free (w);
    return NULL;
  }
  return w;
}

static gboolean
write_header (WrBundleWriter *w, const char *name, gint64 size,
    GError **error)
{
  struct archive_entry *entry;
  int r;

  if (w->closed || w->failed) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "the bundle writer is closed or failed");
    return FALSE;
  }
  if (!check_name (name, error))
    return FALSE;
  entry = archive_entry_new ();
  archive_entry_set_pathname (entry, name);
  archive_entry_set_size (entry, size);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  archive_entry_set_mtime (entry, g_get_real_time () / G_USEC_PER_SEC, 0);
  r = archive_write_header (w->archive, entry);
  archive_entry_free (entry);
  if (r != ARCHIVE_OK)
    return archive_failed (w, w->archive, name, error);
  return TRUE;
}

static gboolean
write_bytes (WrBundleWriter *w, const char *name, const void *data, gsize len,
    GError **error)
{
  const char *p = data;

  while (len > 0) {
    la_ssize_t n = archive_write_data (w->archive, p, len);

    if (n <= 0)
      return archive_failed (w, w->archive, name, error);
    p += n;
    len -= (gsize) n;
  }
  return TRUE;
}

gboolean
wr_bundle_writer_add_data (WrBundleWriter *w, const char *name,
    const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);

  return write_header (w, name, (gint64) len, error)
      && write_bytes (w, name, data, len, error);
}

gboolean
wr_bundle_writer_add_file (WrBundleWriter *w, const char *name,
    const char *src_path, GError **error)
{
  g_autofree char *buf = NULL;
  struct stat st;
  gint64 left;
  int fd;

  g_return_val_if_fail (w != NULL && src_path != NULL, FALSE);

  fd = g_open (src_path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)) {
    int saved = fd < 0 ? errno : EINVAL;

    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot read %s: %s", src_path, g_strerror (saved));
    return FALSE;
  }
  if (!write_header (w, name, st.st_size, error)) {
    close (fd);
    return FALSE;
  }
  buf = g_malloc (CHUNK);
  for (left = st.st_size; left > 0;) {
    ssize_t n = read (fd, buf, (size_t) MIN (left, CHUNK));

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      close (fd);
      w->failed = TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "%s changed or could not be read while copying", src_path);
      return FALSE;
    }
    if (!write_bytes (w, name, buf, (gsize) n, error)) {
      close (fd);
      return FALSE;
    }
    left -= n;
  }
  close (fd);
  return TRUE;
}

gboolean
wr_bundle_writer_close (WrBundleWriter *w, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);

  if (w->closed)
    return !w->failed;
  if (w->failed) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "an earlier write to the bundle failed");
    return FALSE;
  }
  if (archive_write_close (w->archive) != ARCHIVE_OK)
    return archive_failed (w, w->archive, w->path, error);
  if (fsync (w->fd) < 0 || close (w->fd) < 0) {
    int saved = errno;

    w->fd = -1;
    w->failed = TRUE;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot write %s: %s", w->path, g_strerror (saved));
    return FALSE;
  }
  w->fd = -1;
  w->closed = TRUE;
  return TRUE;
}

void
wr_bundle_writer_free (WrBundleWriter *w)
{
  if (!w)
    return;
  if (w->archive)
    archive_write_free (w->archive);
  if (w->fd >= 0)
    close (w->fd);
  if (!w->closed || w->failed)
    g_unlink (w->path);
  g_free (w->path);
  g_free (w);
}

/* ------------------------------------------------------------------ */
/* Reader */

struct _WrBundle {
  GPtrArray *members;     /* WrBundleMember */
  GHashTable *by_name;    /* name -> member (transfer none) */
};

static void
member_free (WrBundleMember *m)
{
  g_free (m->name);
  g_clear_pointer (&m->data, g_bytes_unref);
  g_free (m);
}

void
wr_bundle_free (WrBundle *bundle)
{
  if (!bundle)
    return;
  g_hash_table_unref (bundle->by_name);
  g_ptr_array_unref (bundle->members);
  g_free (bundle);
}

static WrBundle *
bundle_new (void)
{
  WrBundle *b = g_new0 (WrBundle, 1);

  b->members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  b->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return b;
}

/* Takes @m: refuses duplicates and too many members. */
static gboolean
bundle_add (WrBundle *b, WrBundleMember *m, GError **error)
{
  if (g_hash_table_contains (b->by_name, m->name)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "member %s appears twice", m->name);
    member_free (m);
    return FALSE;
  }
  if (b->members->len >= MAX_MEMBERS) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "too many members");
    member_free (m);
    return FALSE;
  }
  g_ptr_array_add (b->members, m);
  g_hash_table_insert (b->by_name, m->name, m);
  return TRUE;
}

/* Reads one member's content through @read_fn, hashing it. */
typedef gssize (*ReadFunc) (gpointer source, void *buf, gsize len);

static WrBundleMember *
read_member (const char *name, ReadFunc read_fn, gpointer source,
    GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autofree guint8 *buf = g_malloc (CHUNK);
  WrBundleMember *m;
  gint64 size = 0;

  for (;;) {
    gssize n = read_fn (source, buf, CHUNK);

    if (n < 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "cannot read member %s", name);
      return NULL;
    }
    if (n == 0)
      break;
    g_checksum_update (sum, buf, (gsize) n);
    if (data && size + n <= WR_BUNDLE_MAX_IN_MEMORY)
      g_byte_array_append (data, buf, (guint) n);
    else
      g_clear_pointer (&data, g_byte_array_unref);
    size += n;
  }
  m = g_new0 (WrBundleMember, 1);
  m->name = g_strdup (name);
  m->size = size;
  g_strlcpy (m->sha256, g_checksum_get_string (sum), sizeof m->sha256);
  if (data)
    m->data = g_byte_array_free_to_bytes (g_steal_pointer (&data));
  return m;
}

static gssize
archive_read_fn (gpointer source, void *buf, gsize len)
{
  la_ssize_t n = archive_read_data (source, buf, len);

  return n < 0 ? -1 : (gssize) n;
}

static gssize
fd_read_fn (gpointer source, void *buf, gsize len)
{
  int fd = GPOINTER_TO_INT (source);

  for (;;) {
    ssize_t n = read (fd, buf, len);

    if (n < 0 && errno == EINTR)
      continue;
    return n;
  }
}

static WrBundle *
read_tar (const char *path, GError **error)
{
  g_autoptr (WrBundle) b = bundle_new ();
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  gboolean ok = TRUE;
  int r;

  archive_read_support_format_tar (a);
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_xz (a);
  if (archive_read_open_filename (a, path, CHUNK) != ARCHIVE_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read %s: %s",
        path, archive_error_string (a) ? archive_error_string (a)
        : "not a tar file");
    archive_read_free (a);
    return NULL;
  }
  while (ok && (r = archive_read_next_header (a, &entry)) == ARCHIVE_OK) {
    g_autofree char *name = g_strdup (archive_entry_pathname (entry));
    mode_t type = archive_entry_filetype (entry);
    WrBundleMember *m;

    if (!name) {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
          "a member without a name");
      ok = FALSE;
      break;
    }
    /* "./x" and "dir/" as tar(1) writes them. */
    while (g_str_has_prefix (name, "./"))
      memmove (name, name + 2, strlen (name + 2) + 1);
    if (type == AE_IFDIR) {
      gsize len = strlen (name);

      while (len > 0 && name[len - 1] == '/')
        name[--len] = '\0';
      if (*name && !check_name (name, error))
        ok = FALSE;
      continue;
    }
    if (!check_name (name, error)) {
      ok = FALSE;
      break;
    }
    if (archive_entry_hardlink (entry) || archive_entry_symlink (entry)
        || type != AE_IFREG) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
          "member %s is a link or not a regular file; refused", name);
      ok = FALSE;
      break;
    }
    m = read_member (name, archive_read_fn, a, error);
    ok = m && bundle_add (b, m, error);
  }
  if (ok && r != ARCHIVE_EOF) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
        archive_error_string (a) ? archive_error_string (a)
        : "not a valid tar file");
    ok = FALSE;
  }
  archive_read_free (a);
  return ok ? g_steal_pointer (&b) : NULL;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
read_dir (WrBundle *b, const char *root, const char *prefix, guint depth,
    GError **error)
{
  g_autofree char *dir_path = prefix ? g_build_filename (root, prefix, NULL)
      : g_strdup (root);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (depth > MAX_DEPTH) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "directories nested too deep");
    return FALSE;
  }
  dir = g_dir_open (dir_path, 0, error);
  if (!dir)
    return FALSE;
  while ((entry = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++) {
    g_autofree char *name = prefix
        ? g_strconcat (prefix, "/", names->pdata[i], NULL)
        : g_strdup (names->pdata[i]);
    g_autofree char *path = g_build_filename (root, name, NULL);
    WrBundleMember *m;
    struct stat st;
    int fd;

    if (!check_name (name, error))
      return FALSE;
    if (g_lstat (path, &st) < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "cannot read %s: %s", path, g_strerror (errno));
      return FALSE;
    }
    if (S_ISDIR (st.st_mode)) {
      if (!read_dir (b, root, name, depth + 1, error))
        return FALSE;
      continue;
    }
    if (!S_ISREG (st.st_mode)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
          "member %s is a link or not a regular file; refused", name);
      return FALSE;
    }
    fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "cannot read %s: %s", path, g_strerror (errno));
      return FALSE;
    }
    m = read_member (name, fd_read_fn, GINT_TO_POINTER (fd), error);
    close (fd);
    if (!m || !bundle_add (b, m, error))
      return FALSE;
  }
  return TRUE;
}

WrBundle *
wr_bundle_read (const char *path, GError **error)
{
  struct stat st;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_stat (path, &st) < 0) {
    int saved = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "cannot read %s: %s", path, g_strerror (saved));
    return NULL;
  }
  if (S_ISDIR (st.st_mode)) {
    g_autoptr (WrBundle) b = bundle_new ();

    if (!read_dir (b, path, NULL, 0, error))
      return NULL;
    return g_steal_pointer (&b);
  }
  return read_tar (path, error);
}

const WrBundleMember *
wr_bundle_get (WrBundle *bundle, const char *name)
{
  g_return_val_if_fail (bundle != NULL && name != NULL, NULL);

  return g_hash_table_lookup (bundle->by_name, name);
}

GPtrArray *
wr_bundle_get_members (WrBundle *bundle)
{
  return bundle->members;
}

GBytes *
wr_bundle_load_member (const char *path, const char *name, gsize max,
    GError **error)
{
  struct archive *a;
  struct archive_entry *entry;
  GBytes *result = NULL;
  struct stat st;
  int r;

  g_return_val_if_fail (path != NULL && name != NULL, NULL);

  if (!check_name (name, error))
    return NULL;
  if (g_stat (path, &st) == 0 && S_ISDIR (st.st_mode)) {
    g_autofree char *file = g_build_filename (path, name, NULL);
    g_autofree char *contents = NULL;
    gsize len;

    if (g_lstat (file, &st) < 0 || !S_ISREG (st.st_mode)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
          "member %s is missing, a link or not a regular file", name);
      return NULL;
    }
    if ((gsize) st.st_size > max) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "member %s is too large", name);
      return NULL;
    }
    if (!g_file_get_contents (file, &contents, &len, error))
      return NULL;
    return g_bytes_new_take (g_steal_pointer (&contents), len);
  }

  a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_xz (a);
  if (archive_read_open_filename (a, path, CHUNK) != ARCHIVE_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read %s",
        path);
    archive_read_free (a);
    return NULL;
  }
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK) {
    const char *n = archive_entry_pathname (entry);

    while (n && g_str_has_prefix (n, "./"))
      n += 2;
    if (!n || !g_str_equal (n, name))
      continue;
    if (archive_entry_filetype (entry) != AE_IFREG
        || archive_entry_hardlink (entry) || archive_entry_symlink (entry)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
          "member %s is a link or not a regular file; refused", name);
      break;
    }
    if (archive_entry_size (entry) < 0
        || (guint64) archive_entry_size (entry) > max) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "member %s is too large", name);
      break;
    }
    {
      gsize size = (gsize) archive_entry_size (entry);
      guint8 *buf = g_malloc (size + 1);
      gsize got = 0;

      while (got < size) {
        la_ssize_t k = archive_read_data (a, buf + got, size - got);

        if (k <= 0)
          break;
        got += (gsize) k;
      }
      if (got != size) {
        g_free (buf);
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "cannot read member %s", name);
        break;
      }
      result = g_bytes_new_take (buf, size);
    }
    break;
  }
  if (!result && error && !*error)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "no member %s in %s", name, path);
  archive_read_free (a);
  return result;
}
