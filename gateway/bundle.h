/* webremote: evidence bundles as tar files (libarchive).
 *
 * An audit export and a recording's evidence bundle are plain POSIX tar
 * files an auditor can unpack with any tool; `webremotectl ... verify`
 * reads either the tar file or the unpacked directory.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Members larger than this are hashed while read, not kept in memory. */
#define WR_BUNDLE_MAX_IN_MEMORY (16 * 1024 * 1024)

typedef struct _WrBundleWriter WrBundleWriter;

/* Creates @path (0600, replacing nothing: fails when it exists). */
WrBundleWriter *wr_bundle_writer_new (const char *path, GError **error);
gboolean wr_bundle_writer_add_data (WrBundleWriter *writer, const char *name,
    const void *data, gsize len, GError **error);
/* Copies the file @src_path in as @name, streaming. */
gboolean wr_bundle_writer_add_file (WrBundleWriter *writer, const char *name,
    const char *src_path, GError **error);
/* Finishes the archive; %FALSE when anything was not written. */
gboolean wr_bundle_writer_close (WrBundleWriter *writer, GError **error);
/* Frees; a writer not closed leaves a partial file behind, which is
 * removed. */
void wr_bundle_writer_free (WrBundleWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrBundleWriter, wr_bundle_writer_free)

typedef struct {
  char *name;      /* path inside the bundle, '/'-separated, no ".." */
  gint64 size;
  char sha256[65]; /* hex */
  GBytes *data;    /* (nullable): the content when size <=
                    * WR_BUNDLE_MAX_IN_MEMORY */
} WrBundleMember;

typedef struct _WrBundle WrBundle;

/**
 * wr_bundle_read:
 * @path: a tar file or a directory
 *
 * Reads every regular file once, hashing it. Names with "..", absolute
 * names and links are refused.
 */
WrBundle *wr_bundle_read (const char *path, GError **error);
void wr_bundle_free (WrBundle *bundle);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrBundle, wr_bundle_free)

/* (nullable) (transfer none): the member called @name. */
const WrBundleMember *wr_bundle_get (WrBundle *bundle, const char *name);
/* (transfer none) (element-type WrBundleMember): all members, in order. */
GPtrArray *wr_bundle_get_members (WrBundle *bundle);

/**
 * wr_bundle_load_member:
 * @path: the tar file or directory wr_bundle_read() read
 * @max: refuse a member larger than this
 *
 * Reads one member's content, for members too large to be kept by
 * wr_bundle_read() (data %NULL) that the caller still needs whole. Same
 * refusals as wr_bundle_read().
 *
 * Returns: (transfer full) (nullable): the content.
 */
GBytes *wr_bundle_load_member (const char *path, const char *name,
    gsize max, GError **error);

G_END_DECLS
