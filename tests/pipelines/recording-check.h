/* Recorder tests: what an auditor's player would see in a segment file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * wr_check_decode:
 * @path: a segment (.mp4 or .webm)
 * @frames: (out): frames decoded (qtdemux|matroskademux ! parser ! decoder
 *   ! fakesink) before EOS or the first error
 * @error_text: (out) (optional): the first error, or %NULL when it played
 *   to the end
 * Returns: %TRUE when the file played to EOS without error.
 */
gboolean wr_check_decode (const char *path, guint64 *frames,
    char **error_text);

typedef struct {
  guint n_fragments;        /* moof boxes */
  guint complete_fragments; /* moof followed by its whole mdat */
  double max_fragment_s;    /* longest fragment, in seconds of media */
  guint64 samples;          /* in complete fragments */
  gboolean has_moov;
  gboolean has_mfra;        /* written at a clean end */
} WrMp4Info;

/**
 * wr_check_mp4:
 * Walks the top-level boxes of a (possibly truncated) fragmented MP4.
 * Returns: %FALSE when it is not an MP4 with ftyp and moov.
 */
gboolean wr_check_mp4 (const char *path, WrMp4Info *info, char **why);

/* Returns: (transfer full): the lowercase hex SHA-256 of the file. */
char *wr_check_sha256_file (const char *path);

G_END_DECLS
