/* webremotectl: recorder credentials and offline verification of a
 * recording's evidence bundle (docs/operations.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "gateway/ctl.h"
#include "gateway/evidence.h"
#include "gateway/store-recording.h"

static int
recorder_add (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *hash = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "recorder name", argv[1], TRUE))
    return WR_CTL_EXIT_USAGE;
  if (g_str_equal (argv[1], "local"))
    return wr_ctl_usage_error (ctl, "the name 'local' is the gateway's own "
        "recorder's");
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  /* hex, so it never looks like an option; only its hash is stored */
  token = wr_random_hex (32);
  hash = wr_sha256_hex (token, strlen (token));
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_recorder_add (store, argv[1], hash, wr_ctl_now (), &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "recorder.add", NULL, wr_ctl_detail ("name",
              argv[1], NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  /* the token alone on stdout, once: scripts capture it */
  printf ("%s\n", token);
  fprintf (stderr, "webremotectl: recorder %s added; give it this token "
      "(webremote-recorder --token-stdin); it is not shown again\n",
      argv[1]);
  return WR_CTL_EXIT_OK;
}

static int
recorder_list (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_strfreev);
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  list = wr_store_recorder_list (store, &error);
  if (!list)
    return wr_ctl_fail (ctl, error);
  g_ptr_array_add (rows, g_strsplit ("NAME STATE CREATED", " ", -1));
  for (guint i = 0; i < list->len; i++) {
    WrStoredRecorder *r = g_ptr_array_index (list, i);
    char **row = g_new0 (char *, 4);
    row[0] = g_strdup (r->name);
    row[1] = g_strdup (r->revoked ? "revoked" : "active");
    row[2] = wr_ctl_format_time (r->created_at, "-");
    g_ptr_array_add (rows, row);
  }
  wr_ctl_print_table (rows);
  return WR_CTL_EXIT_OK;
}

static int
recorder_revoke (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_recorder_revoke (store, argv[1], &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "recorder.revoke", NULL, wr_ctl_detail ("name",
              argv[1], NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("revoked recorder %s (it can no longer connect; a connected one "
      "keeps its connection until it drops)\n", argv[1]);
  return WR_CTL_EXIT_OK;
}

static int
recording_verify (WrCtl *ctl, int argc, char **argv)
{
  g_autofree char *pinned = NULL;
  const GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_STRING, &pinned,
      "The gateway's published key (ed25519:BASE64); default: the bundle's "
      "public-key.txt", "KEY" },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *summary = NULL;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!g_file_test (argv[1], G_FILE_TEST_EXISTS))
    return wr_ctl_usage_error (ctl, "%s: no such file or directory",
        argv[1]);
  if (!wr_evidence_verify (argv[1], pinned, &key, &summary, &error)) {
    if (key)
      printf ("key: %s\n", key);
    fprintf (stderr, "webremotectl: BAD: %s\n", error->message);
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)
        ? WR_CTL_EXIT_FAILED : WR_CTL_EXIT_USAGE;
  }
  printf ("key: %s%s\n", key, pinned ? " (pinned)"
      : " (from the bundle: compare it with the published key)");
  printf ("OK: %s\n", summary);
  return WR_CTL_EXIT_OK;
}

const WrCtlCommand wr_ctl_recording_commands[] = {
  { "recorder", "add", "NAME",
    "Add a recorder credential; prints its token once", recorder_add,
    TRUE },
  { "recorder", "list", "", "List recorder credentials", recorder_list,
    FALSE },
  { "recorder", "revoke", "NAME", "Revoke a recorder's credential",
    recorder_revoke, FALSE },
  { "recording", "verify", "BUNDLE [--key ed25519:BASE64]",
    "Check a recording's evidence bundle offline (no store needed)",
    recording_verify, FALSE },
  { NULL }
};
