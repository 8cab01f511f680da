/* webremote-recorder: joins recorded sessions as a receive-only WebRTC peer
 * and writes their video to disk (docs/recorder.md). */
#include "config.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/pinned-tls-database.h"
#include "pipelines/recorder-link.h"

#define WR_RECORDER_TOKEN_MAX 4096

static char *opt_gateway;
static char *opt_name;
static char *opt_dir;
static char *opt_token_file;
static gboolean opt_token_stdin;
static char *opt_ca_fingerprint;
static char *opt_ca_file;
static char **opt_ice_addresses;
static int opt_segment_seconds;
static int opt_reconnect_min_ms = 500;
static int opt_reconnect_max_ms = 30000;
static gboolean opt_version;

static const GOptionEntry entries[] = {
  { "gateway", 0, 0, G_OPTION_ARG_STRING, &opt_gateway,
    "The gateway's URL", "https://HOST:PORT" },
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name,
    "This recorder's name (default: local)", "NAME" },
  { "dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_dir,
    "Directory for the recordings (DIR/<recording id>/)", "DIR" },
  { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_token_file,
    "Read the recorder token from FILE (first line)", "FILE" },
  { "token-stdin", 0, 0, G_OPTION_ARG_NONE, &opt_token_stdin,
    "Read the recorder token from standard input (first line)", NULL },
  { "ca-fingerprint", 0, 0, G_OPTION_ARG_STRING, &opt_ca_fingerprint,
    "Trust only the gateway certificate with this SHA-256 fingerprint",
    "SHA256-FP" },
  { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_file,
    "Trust only CAs from this PEM file", "PEM" },
  { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_ice_addresses,
    "A local address ICE may use (repeat; default: all but loopback)",
    "ADDR" },
  { "segment-seconds", 0, 0, G_OPTION_ARG_INT, &opt_segment_seconds,
    "Segment length (default: what record.start asks for)", "N" },
  { "reconnect-min-ms", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT,
    &opt_reconnect_min_ms, NULL, NULL },
  { "reconnect-max-ms", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT,
    &opt_reconnect_max_ms, NULL, NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { NULL }
};

static GMainLoop *loop;
static WrRecorderLink *link_;

/* Returns: (transfer full): the first line of @stream, stripped. */
static char *
read_token (GInputStream *stream, GError **error)
{
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (stream);
  gsize len = 0;
  char *line;

  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in),
      WR_RECORDER_TOKEN_MAX + 2);
  line = g_data_input_stream_read_line (in, &len, NULL, error);
  if (!line) {
    if (error && !*error)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "no token given");
    return NULL;
  }
  g_strstrip (line);
  if (!*line || strlen (line) > WR_RECORDER_TOKEN_MAX) {
    memset (line, 0, strlen (line));
    g_free (line);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the token is empty or longer than %d bytes", WR_RECORDER_TOKEN_MAX);
    return NULL;
  }
  return line;
}

static char *
load_token (GError **error)
{
  if (opt_token_stdin) {
    g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO,
        FALSE);
    return read_token (in, error);
  }
  if (opt_token_file) {
    g_autoptr (GFile) file = g_file_new_for_path (opt_token_file);
    g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
    if (!in)
      return NULL;
    return read_token (G_INPUT_STREAM (in), error);
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "give the recorder token with --token-file FILE or --token-stdin");
  return NULL;
}

static GTlsDatabase *
load_trust (GError **error)
{
  g_autoptr (GTlsDatabase) ca = NULL;

  if (opt_ca_file) {
    ca = g_tls_file_database_new (opt_ca_file, error);
    if (!ca)
      return NULL;
  }
  if (opt_ca_fingerprint) {
    g_autofree char *pin = wr_fingerprint_normalize (opt_ca_fingerprint);
    if (!pin) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "--ca-fingerprint is not a SHA-256 fingerprint");
      return NULL;
    }
    return wr_pinned_tls_database_new (pin, ca);
  }
  return g_steal_pointer (&ca);
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  static gboolean again;

  if (again) {
    g_main_loop_quit (loop);
    return G_SOURCE_CONTINUE;
  }
  again = TRUE;
  g_message ("shutting down: finishing the recordings");
  wr_recorder_link_shutdown (link_, quit_cb, NULL);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) trust = NULL;
  g_autofree char *token = NULL;
  WrRecorderLinkOptions options = { 0 };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- record webremote sessions");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("webremote-recorder: %s\n", error->message);
    return 2;
  }
  if (opt_version) {
    g_print ("webremote-recorder %s\n", WR_VERSION);
    return 0;
  }
  if (!opt_gateway || !opt_dir) {
    g_printerr ("webremote-recorder: --gateway and --dir are required\n");
    return 2;
  }
  if (opt_segment_seconds < 0 || opt_segment_seconds > 86400) {
    g_printerr ("webremote-recorder: --segment-seconds must be in "
        "1..86400\n");
    return 2;
  }
  if (opt_token_stdin && opt_token_file) {
    g_printerr ("webremote-recorder: give either --token-file or "
        "--token-stdin\n");
    return 2;
  }
  if (!(token = load_token (&error))) {
    g_printerr ("webremote-recorder: %s\n", error->message);
    return 2;
  }
  trust = load_trust (&error);
  if (error) {
    g_printerr ("webremote-recorder: %s\n", error->message);
    return 2;
  }
  if (!trust)
    g_message ("no --ca-fingerprint or --ca-file: trusting the system's "
        "certificate authorities");
  if (g_mkdir_with_parents (opt_dir, 0750) != 0) {
    g_printerr ("webremote-recorder: cannot create %s\n", opt_dir);
    return 1;
  }
  gst_init (NULL, NULL);

  options.gateway_url = opt_gateway;
  options.name = opt_name ? opt_name : "local";
  options.dir = opt_dir;
  options.token = token;
  options.tls_database = trust;
  options.ice_addresses = (const char *const *) opt_ice_addresses;
  options.segment_seconds = (guint) opt_segment_seconds;
  options.reconnect_min_ms = (guint) MAX (opt_reconnect_min_ms, 1);
  options.reconnect_max_ms = (guint) MAX (opt_reconnect_max_ms,
      opt_reconnect_min_ms);
  link_ = wr_recorder_link_new (&options, &error);
  memset (token, 0, strlen (token));
  if (!link_) {
    g_printerr ("webremote-recorder: %s\n", error->message);
    return 2;
  }

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, NULL);
  g_unix_signal_add (SIGINT, on_signal, NULL);
  g_print ("webremote-recorder %s: recording into %s\n", WR_VERSION,
      opt_dir);
  fflush (stdout);
  wr_recorder_link_start (link_);
  g_main_loop_run (loop);

  g_clear_object (&link_);
  g_main_loop_unref (loop);
  return 0;
}
