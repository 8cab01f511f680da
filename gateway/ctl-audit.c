/* webremotectl audit: verify the tamper-evident audit log on the store or
 * in an exported bundle, and export a slice of it (docs/compliance.md,
 * docs/operations.md).
 *
 * Exit codes of `audit verify`: 0 intact, 1 broken (the first bad seq and
 * what is wrong go to standard error), 2 bad usage or anything else that
 * kept the check from running (no store, unreadable bundle). */
#include "config.h"

#include "gateway/ctl.h"

#include <stdio.h>
#include <string.h>

#include "common/autocleanups.h"
#include "common/grant.h"
#include "gateway/audit-bundle.h"
#include "gateway/bundle.h"

#define EXIT_BROKEN 1
#define EXIT_OTHER 2

static void
print_report (const WrAuditReport *r, const char *pinned, const char *what)
{
  if (r->rows == 0)
    printf ("%s: no events\n", what);
  else
    printf ("%s: %" G_GINT64_FORMAT " rows (seq %" G_GINT64_FORMAT " to %"
        G_GINT64_FORMAT "), %" G_GINT64_FORMAT " valid checkpoints%s\n",
        what, r->rows, r->first_seq, r->last_seq, r->checkpoints,
        r->checkpoints ? "" : " (none)");
  if (r->checkpoints)
    printf ("last checkpoint: seq %" G_GINT64_FORMAT "\n",
        r->last_checkpoint_seq);
  if (r->key)
    printf ("signing key: %s%s\n", r->key, pinned ? " (pinned with --key)"
        : "");
  if (r->key && !pinned)
    printf ("compare the signing key with the gateway's published key "
        "(webremote-gateway --print-grant-key), or pin it with --key\n");
}

static int
report_broken (const WrAuditReport *r, const GError *error)
{
  if (r->bad_seq || r->problem) {
    fprintf (stderr, "webremotectl: audit log BROKEN at seq %"
        G_GINT64_FORMAT ": %s\n", r->bad_seq,
        r->problem ? r->problem : "?");
    if (r->rows)
      fprintf (stderr, "webremotectl: rows %" G_GINT64_FORMAT " to %"
          G_GINT64_FORMAT " before it are intact\n", r->first_seq,
          r->last_seq);
  } else {
    fprintf (stderr, "webremotectl: audit log BROKEN: %s\n", error->message);
  }
  return EXIT_BROKEN;
}

static int
verify_bundle (WrCtl *ctl, const char *path, const char *pinned)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrBundle) bundle = NULL;
  g_auto (WrAuditReport) report = { 0 };
  g_autofree char *bundle_key = NULL;
  g_autoptr (GBytes) events_data = NULL;
  g_autoptr (GBytes) checkpoints_data = NULL;
  const WrBundleMember *events, *checkpoints, *key;
  const char *use_key;

  bundle = wr_bundle_read (path, &error);
  if (!bundle) {
    fprintf (stderr, "webremotectl: cannot read the bundle: %s\n",
        error->message);
    return EXIT_OTHER;
  }
  events = wr_bundle_get (bundle, "events.jsonl");
  checkpoints = wr_bundle_get (bundle, "checkpoints.jsonl");
  key = wr_bundle_get (bundle, "public-key.txt");
  if (!events || !checkpoints) {
    fprintf (stderr, "webremotectl: audit log BROKEN: the bundle lacks %s\n",
        !events ? "events.jsonl" : "checkpoints.jsonl");
    return EXIT_BROKEN;
  }
  /* Large members are not kept by wr_bundle_read(): load them now. */
  events_data = events->data ? g_bytes_ref (events->data)
      : wr_bundle_load_member (path, "events.jsonl", WR_AUDIT_BUNDLE_MAX,
          &error);
  checkpoints_data = !events_data ? NULL : checkpoints->data
      ? g_bytes_ref (checkpoints->data)
      : wr_bundle_load_member (path, "checkpoints.jsonl",
          WR_AUDIT_BUNDLE_MAX, &error);
  if (!events_data || !checkpoints_data) {
    fprintf (stderr, "webremotectl: cannot read the bundle's audit files: "
        "%s\n", error->message);
    return EXIT_OTHER;
  }
  if (key && key->data && key->size < 256) {
    bundle_key = g_strstrip (g_strndup (g_bytes_get_data (key->data, NULL),
            key->size));
  }
  /* The key the bundle names must be the one that signed it; --key (the
   * key the auditor trusts) overrides it. */
  use_key = pinned ? pinned : bundle_key;
  if (pinned && bundle_key && !strstr (pinned, bundle_key))
    printf ("note: public-key.txt names %s, not the pinned key\n",
        bundle_key);

  if (!wr_audit_verify_lines (g_bytes_get_data (events_data, NULL),
          g_bytes_get_size (events_data),
          g_bytes_get_data (checkpoints_data, NULL),
          g_bytes_get_size (checkpoints_data), use_key, &report, &error)) {
    if (g_error_matches (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID)) {
      fprintf (stderr, "webremotectl: %s\n", error->message);
      return EXIT_OTHER;
    }
    return report_broken (&report, error);
  }
  print_report (&report, pinned, "bundle intact");
  if (!pinned && bundle_key)
    printf ("(the bundle's public-key.txt names the same key; a forger "
        "would name their own, so compare it with one you trust)\n");
  return WR_CTL_EXIT_OK;
}

static int
cmd_verify (WrCtl *ctl, int argc, char **argv)
{
  g_autofree char *key = NULL;
  g_autofree char *bundle = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (WrAuditReport) report = { 0 };
  const GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_STRING, &key,
      "The public key that must have signed the checkpoints", "ed25519:B64" },
    { "bundle", 0, 0, G_OPTION_ARG_FILENAME, &bundle,
      "Check an exported bundle (tar file or unpacked directory) offline, "
      "without any database", "PATH" },
    { NULL }
  };
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (key) {
    g_autoptr (EVP_PKEY) parsed = wr_grant_public_key_from_string (key,
        &error);

    if (!parsed)
      return wr_ctl_usage_error (ctl, "--key: %s", error->message);
  }
  if (bundle)
    return verify_bundle (ctl, bundle, key);

  store = wr_ctl_get_store (ctl);
  if (!store)
    return EXIT_OTHER;
  if (!wr_audit_verify_store (store, key, &report, &error)) {
    if (!g_error_matches (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN)) {
      fprintf (stderr, "webremotectl: %s\n", error->message);
      return EXIT_OTHER;
    }
    return report_broken (&report, error);
  }
  print_report (&report, key, "audit log intact");
  if (report.unanchored > 0)
    printf ("note: the %" G_GINT64_FORMAT " newest rows (after seq %"
        G_GINT64_FORMAT ") are not covered by a signed checkpoint yet: "
        "they are consistent, but could have been removed without trace "
        "until the gateway's next checkpoint\n", report.unanchored,
        report.last_seq - report.unanchored);
  return WR_CTL_EXIT_OK;
}

/* ISO 8601 (a date alone is midnight local time; no zone = local time) or
 * unix seconds. @end: the last millisecond of that second. */
static gboolean
parse_time (const char *text, gboolean end, gint64 *ms)
{
  g_autoptr (GDateTime) t = NULL;
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  char *rest = NULL;
  gint64 seconds;

  if (!text || !*text)
    return FALSE;
  if (g_ascii_isdigit (*text) && !strchr (text, '-')) {
    gint64 v = g_ascii_strtoll (text, &rest, 10);

    if (*rest || v < 0 || v > G_GINT64_CONSTANT (253402300799))
      return FALSE;
    seconds = v;
  } else {
    if (strlen (text) == 10) {
      g_autofree char *full = g_strconcat (text, "T00:00:00", NULL);

      t = g_date_time_new_from_iso8601 (full, local);
    } else {
      t = g_date_time_new_from_iso8601 (text, local);
    }
    if (!t)
      return FALSE;
    seconds = g_date_time_to_unix (t);
    if (seconds < 0)
      return FALSE;
  }
  *ms = seconds * 1000 + (end ? 999 : 0);
  return TRUE;
}

static void
add_member (JsonObject *o, const char *name, const char *value)
{
  if (value)
    json_object_set_string_member (o, name, value);
}

static int
cmd_export (WrCtl *ctl, int argc, char **argv)
{
  g_autofree char *from = NULL, *to = NULL, *user = NULL, *agent = NULL;
  g_autofree char *session = NULL, *type = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) detail = json_object_new ();
  g_autofree char *public_key = NULL;
  g_autofree char *made_by = NULL;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from,
      "Events at or after this time (ISO 8601 or unix seconds)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to,
      "Events at or before this time (ISO 8601 or unix seconds)", "TIME" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Only this actor", "NAME" },
    { "agent", 0, 0, G_OPTION_ARG_STRING, &agent, "Only this agent", "ID" },
    { "session", 0, 0, G_OPTION_ARG_STRING, &session, "Only this session",
      "SID" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &type,
      "Only this event type, or a prefix ending in '.' (\"session.\")",
      "TYPE" },
    { NULL }
  };
  WrAuditFilter filter = { 0 };
  WrAuditEvent event = { .type = "audit.export", .outcome = WR_AUDIT_OK };
  WrAudit *audit;
  const char *out;
  guint n_events = 0;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  out = argv[1];
  if (from && !parse_time (from, FALSE, &filter.from_ms))
    return wr_ctl_usage_error (ctl, "--from: not an ISO 8601 time or unix "
        "seconds");
  if (to && !parse_time (to, TRUE, &filter.to_ms))
    return wr_ctl_usage_error (ctl, "--to: not an ISO 8601 time or unix "
        "seconds");
  if (filter.from_ms && filter.to_ms && filter.from_ms > filter.to_ms)
    return wr_ctl_usage_error (ctl, "--from is after --to");
  filter.user = user;
  filter.agent = agent;
  filter.session = session;
  filter.type = type;
  if (g_file_test (out, G_FILE_TEST_EXISTS))
    return wr_ctl_usage_error (ctl, "%s exists already", out);

  audit = wr_ctl_get_audit (ctl);
  if (!audit)
    return WR_CTL_EXIT_FAILED;

  /* Reading the log is itself audited, before anything is read. */
  event.actor = wr_ctl_get_actor (ctl);
  add_member (detail, "user", user);
  add_member (detail, "agent", agent);
  add_member (detail, "session", session);
  add_member (detail, "type", type);
  if (filter.from_ms)
    json_object_set_int_member (detail, "from", filter.from_ms);
  if (filter.to_ms)
    json_object_set_int_member (detail, "to", filter.to_ms);
  json_object_set_string_member (detail, "via", "webremotectl");
  if (!wr_audit_append (audit, &event, detail, NULL, &error)) {
    g_debug ("audit: %s", error->message);
    return wr_ctl_failf (ctl, "the audit log cannot be written; nothing "
        "was exported");
  }

  made_by = g_strdup_printf ("webremotectl (%s)", wr_ctl_get_actor (ctl));
  if (!wr_audit_write_bundle (audit, &filter, out, made_by, &n_events,
          &public_key, &error)) {
    if (strstr (error->message, "no signing key"))
      return wr_ctl_failf (ctl, "the newest matching events are not covered "
          "by a signed checkpoint yet, and this user cannot read the "
          "gateway's grant signing key to sign one: run as the gateway's "
          "user, or wait for the gateway's next checkpoint");
    return wr_ctl_fail (ctl, error);
  }
  printf ("wrote %s: %u events\n", out, n_events);
  if (public_key)
    printf ("signing key: %s\n", public_key);
  else
    printf ("no event matched\n");
  return WR_CTL_EXIT_OK;
}

const WrCtlCommand wr_ctl_audit_commands[] = {
  { "audit", "verify", "[--key ed25519:BASE64] [--bundle PATH]",
    "Check the audit log's hash chain and signed checkpoints (on the store, "
    "or an exported bundle offline); exit 0 intact, 1 broken, 2 error",
    cmd_verify, FALSE },
  { "audit", "export", "[--from TIME] [--to TIME] [--user U] [--agent A] "
    "[--session S] [--type T] OUT.tar",
    "Write the matching audit events with their chain and checkpoints to "
    "a tar bundle that `audit verify --bundle` checks offline",
    cmd_export, FALSE },
  { NULL }
};
