/* webremote: serves the built web client (web/dist). */
#include "config.h"

#include "gateway/static-files.h"

#include <string.h>

#include "gateway/http-response.h"

/* The client is small; anything bigger than this in the web root is not
 * ours to serve. */
#define MAX_FILE_SIZE (16 * 1024 * 1024)

static const struct {
  const char *suffix;
  const char *type;
} content_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".ico", "image/x-icon" },
  { ".woff2", "font/woff2" },
  { ".map", "application/json" },
  { ".txt", "text/plain; charset=utf-8" },
};

static const char *
content_type_for (const char *path)
{
  for (gsize i = 0; i < G_N_ELEMENTS (content_types); i++)
    if (g_str_has_suffix (path, content_types[i].suffix))
      return content_types[i].type;
  return "application/octet-stream";
}

/* The decoded path, or %NULL for anything that could climb out of the web
 * root or reach a hidden file: ".", ".." and dot-files, backslashes, an
 * escaped '/' or NUL. */
static char *
safe_path (const char *path)
{
  g_autofree char *decoded = g_uri_unescape_string (path, "/");
  g_auto (GStrv) parts = NULL;

  if (!decoded || decoded[0] != '/' || strchr (decoded, '\\'))
    return NULL;
  parts = g_strsplit (decoded, "/", -1);
  for (int i = 0; parts[i]; i++)
    if (parts[i][0] == '.')
      return NULL;
  return g_steal_pointer (&decoded);
}

static gboolean
serve_file (SoupServerMessage *msg, const char *file, gboolean head,
    gboolean immutable)
{
  g_autofree char *data = NULL;
  gsize len;
  SoupMessageHeaders *h;

  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  if (!g_file_get_contents (file, &data, &len, NULL) || len > MAX_FILE_SIZE)
    return FALSE;

  wr_http_set_security_headers (msg);
  h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Cache-Control", immutable
      ? "public, max-age=31536000, immutable" : "no-cache");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (head) {
    soup_message_headers_set_content_length (h, (goffset) len);
    soup_message_headers_replace (h, "Content-Type", content_type_for (file));
  } else {
    soup_server_message_set_response (msg, content_type_for (file),
        SOUP_MEMORY_TAKE, g_steal_pointer (&data), len);
  }
  return TRUE;
}

void
wr_static_files_handle (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  const char *root = user_data;
  const char *method = soup_server_message_get_method (msg);
  gboolean head = g_str_equal (method, "HEAD");
  g_autofree char *file = NULL;
  g_autofree char *index = NULL;
  g_autofree char *clean = NULL;

  if (!head && !g_str_equal (method, "GET")) {
    wr_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "method_not_allowed", "method not allowed");
    return;
  }
  clean = safe_path (path);
  if (!clean) {
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "not found");
    return;
  }

  path = clean;
  if (!g_str_equal (path, "/")) {
    file = g_build_filename (root, path, NULL);
    /* Vite puts content-hashed files under /assets/. */
    if (serve_file (msg, file, head, g_str_has_prefix (path, "/assets/")))
      return;
    /* a missing asset is a 404, not the app shell */
    if (g_str_has_prefix (path, "/assets/") || strchr (
            strrchr (path, '/'), '.')) {
      wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
          "not found");
      return;
    }
  }

  index = g_build_filename (root, "index.html", NULL);
  if (!serve_file (msg, index, head, FALSE))
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "the web client is not installed (web-root)");
}
