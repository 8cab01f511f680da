/* Tests for `webremotectl audit` (gateway/ctl-audit.c): the built binary
 * verifies the audit log on the store (SQLite and a throwaway PostgreSQL)
 * and exports bundles that it then verifies offline, with no database or
 * state directory. Exit codes: 0 intact, 1 broken (naming the first bad
 * seq), 2 usage or other errors. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gateway/audit.h"
#include "gateway/bundle.h"
#include "gateway/db.h"
#include "gateway/grant-signer.h"
#include "gateway/store.h"
#include "tests/lib/store-backend.h"

#define TEST_TIMEOUT_S 120

typedef struct {
  char *dir;
  char *state_dir;
  char *location;
  char *config;
  WrStore *store;
  WrDb *db;
  WrGrantSigner *signer;
  WrGrantSigner *other;
  WrAudit *audit;
} Fixture;

typedef struct {
  int status;
  char *out;
  char *err;
} CtlResult;

static void
ctl_result_clear (CtlResult *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtlResult, ctl_result_clear)

static void
setup (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *key = NULL;
  g_autofree char *other = NULL;

  alarm (TEST_TIMEOUT_S);
  f->dir = g_dir_make_tmp ("wr-ctl-audit-XXXXXX", &error);
  g_assert_no_error (error);
  f->state_dir = g_build_filename (f->dir, "state", NULL);
  g_assert_cmpint (g_mkdir (f->state_dir, 0700), ==, 0);
  f->location = wr_test_backend_location (backend, f->state_dir,
      "webremote.db");
  if (backend->pg)
    conf = g_strdup_printf ("[gateway]\nstate-dir=%s\n[store]\nurl=%s\n",
        f->state_dir, f->location);
  else
    conf = g_strdup_printf ("[gateway]\nstate-dir=%s\n", f->state_dir);
  f->config = g_build_filename (f->dir, "gateway.conf", NULL);
  g_assert_true (g_file_set_contents (f->config, conf, -1, &error));
  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
  f->db = wr_db_open (f->location, &error);
  g_assert_no_error (error);
  /* The gateway's key, where webremotectl finds it. */
  key = g_build_filename (f->state_dir, WR_GRANT_KEY_FILE_NAME, NULL);
  other = g_build_filename (f->dir, "other.key", NULL);
  f->signer = wr_grant_signer_new (key, NULL, &error);
  g_assert_no_error (error);
  f->other = wr_grant_signer_new (other, NULL, &error);
  g_assert_no_error (error);
  f->audit = wr_audit_new (f->store, f->signer, 5, 3600);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_audit_free (f->audit);
  wr_grant_signer_free (f->signer);
  wr_grant_signer_free (f->other);
  wr_db_close (f->db);
  wr_store_close (f->store);
  wr_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->state_dir);
  g_free (f->location);
  g_free (f->config);
  alarm (0);
}

static void
run_argv (const char *const *args, CtlResult *r)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) error = NULL;
  const char *root = g_getenv ("WR_BUILD_ROOT");

  g_assert_nonnull (root);
  g_ptr_array_add (argv, g_build_filename (root, "gateway", "webremotectl",
          NULL));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  ctl_result_clear (r);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE
      | G_SUBPROCESS_FLAGS_STDIN_INHERIT, &error);
  g_assert_no_error (error);
  g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
  r->out = g_strndup (g_bytes_get_size (out) ? g_bytes_get_data (out, NULL)
      : "", g_bytes_get_size (out));
  r->err = g_strndup (g_bytes_get_size (err) ? g_bytes_get_data (err, NULL)
      : "", g_bytes_get_size (err));
  g_test_message ("webremotectl %s %s -> %d\n  out: %s\n  err: %s", args[0],
      args[1] ? args[1] : "", r->status, r->out, r->err);
}

/* `webremotectl --config F ARGS...` */
static void
ctl (Fixture *f, CtlResult *r, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  va_list ap;
  const char *arg;

  g_ptr_array_add (args, (char *) "--config");
  g_ptr_array_add (args, f->config);
  va_start (ap, r);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  run_argv ((const char *const *) args->pdata, r);
}

/* Offline: no configuration, a state directory that does not exist. */
static void
ctl_offline (CtlResult *r, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  va_list ap;
  const char *arg;

  g_ptr_array_add (args, (char *) "--state-dir");
  g_ptr_array_add (args, (char *) "/nonexistent/state");
  va_start (ap, r);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  run_argv ((const char *const *) args->pdata, r);
}

static void
fill (Fixture *f)
{
  for (int i = 1; i <= 12; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) detail = json_object_new ();
    g_autofree char *note = g_strdup_printf ("note %d", i);
    WrAuditEvent ev = {
      .type = i % 2 ? "session.started" : "clipboard.transfer",
      .outcome = WR_AUDIT_OK, .actor = i % 2 ? "alice" : "bob",
      .agent = "agent-1", .session = i % 4 ? "s1" : "s2",
    };

    json_object_set_string_member (detail, "note", note);
    g_assert_true (wr_audit_append (f->audit, &ev, detail, NULL, &error));
    g_assert_no_error (error);
  }
}

static void
sql (Fixture *f, const char *statement)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (wr_db_exec (f->db, statement, NULL, 0, NULL, &error));
  g_assert_no_error (error);
}

#define assert_contains(haystack, needle) \
  g_assert_nonnull (strstr ((haystack), (needle)))

static void
test_verify_store (Fixture *f, gconstpointer data)
{
  const char *key = wr_grant_signer_get_public_key (f->signer);
  const char *other = wr_grant_signer_get_public_key (f->other);
  g_auto (CtlResult) r = { 0 };

  /* An empty log is intact. */
  ctl (f, &r, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "no events");

  fill (f);
  ctl (f, &r, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "audit log intact: 12 rows (seq 1 to 12), "
      "2 valid checkpoints");
  assert_contains (r.out, key);
  assert_contains (r.out, "not covered by a signed checkpoint yet");
  ctl (f, &r, "audit", "verify", "--key", key, NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "pinned");

  ctl (f, &r, "audit", "verify", "--key", other, NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "BROKEN at seq 5");
  assert_contains (r.err, "pinned");

  sql (f, "UPDATE audit_events SET detail = '{\"note\":\"harmless\"}' "
      "WHERE seq = 7");
  ctl (f, &r, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "BROKEN at seq 7");
  assert_contains (r.err, "edited");
  g_assert_cmpstr (r.out, ==, "");
  sql (f, "UPDATE audit_events SET detail = '{\"note\":\"note 7\"}' "
      "WHERE seq = 7");
  ctl (f, &r, "audit", "verify", "--key", key, NULL);
  g_assert_cmpint (r.status, ==, 0);

  sql (f, "DELETE FROM audit_events WHERE seq = 3");
  ctl (f, &r, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "BROKEN at seq 3");
  assert_contains (r.err, "missing");

  /* Usage and other errors: 2. */
  ctl (f, &r, "audit", "verify", "--key", "ed25519:junk", NULL);
  g_assert_cmpint (r.status, ==, 2);
  ctl (f, &r, "audit", "verify", "extra", NULL);
  g_assert_cmpint (r.status, ==, 2);
  ctl (f, &r, "audit", "verify", "--bundle", "/nonexistent/x.tar", NULL);
  g_assert_cmpint (r.status, ==, 2);
  ctl_offline (&r, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 2);
  assert_contains (r.err, "no store");
}

/* Copies @src into a new tar @dst, with @name's content replaced by
 * @content (%NULL: left out). */
static void
rewrite_bundle (const char *src, const char *dst, const char *name,
    const char *content)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrBundle) b = wr_bundle_read (src, &error);
  g_autoptr (WrBundleWriter) w = NULL;
  GPtrArray *members;

  g_assert_no_error (error);
  w = wr_bundle_writer_new (dst, &error);
  g_assert_no_error (error);
  members = wr_bundle_get_members (b);
  for (guint i = 0; i < members->len; i++) {
    const WrBundleMember *m = members->pdata[i];

    if (g_str_equal (m->name, name)) {
      if (content)
        g_assert_true (wr_bundle_writer_add_data (w, name, content,
                strlen (content), &error));
      continue;
    }
    g_assert_true (wr_bundle_writer_add_data (w, m->name,
            g_bytes_get_data (m->data, NULL), m->size, &error));
  }
  g_assert_true (wr_bundle_writer_close (w, &error));
  g_assert_no_error (error);
}

static char *
member_text (const char *bundle, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrBundle) b = wr_bundle_read (bundle, &error);
  const WrBundleMember *m;

  g_assert_no_error (error);
  m = wr_bundle_get (b, name);
  g_assert_nonnull (m);
  return g_strndup (g_bytes_get_data (m->data, NULL), m->size);
}

static void
test_export_and_verify_bundle (Fixture *f, gconstpointer data)
{
  const char *key = wr_grant_signer_get_public_key (f->signer);
  const char *other = wr_grant_signer_get_public_key (f->other);
  g_auto (CtlResult) r = { 0 };
  g_autofree char *out = g_build_filename (f->dir, "out.tar", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "bad.tar", NULL);
  g_autofree char *bad2 = g_build_filename (f->dir, "bad2.tar", NULL);
  g_autofree char *bad3 = g_build_filename (f->dir, "bad3.tar", NULL);
  g_autofree char *unpacked = g_build_filename (f->dir, "unpacked", NULL);
  g_autofree char *from = g_strdup_printf ("%" G_GINT64_FORMAT,
      g_get_real_time () / G_USEC_PER_SEC - 3600);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) later = g_date_time_add_hours (now, 1);
  g_autofree char *to = g_date_time_format_iso8601 (later);
  g_autofree char *events = NULL;
  g_autofree char *tampered = NULL;
  g_autofree char *readme = NULL;
  g_autofree char *pk = NULL;
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GError) error = NULL;

  fill (f);
  ctl (f, &r, "audit", "export", "--session", "s2", "--from", from, "--to",
      to, out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "wrote");
  assert_contains (r.out, key);
  /* The export was audited. */
  g_assert_true (wr_db_exec (f->db, "SELECT actor, detail FROM audit_events "
          "WHERE type = 'audit.export'", NULL, 0, &res, &error));
  g_assert_cmpuint (res->n_rows, ==, 1);
  g_assert_true (g_str_has_prefix (wr_db_result_get (res, 0, 0), "ctl:"));
  assert_contains (wr_db_result_get (res, 0, 1), "\"session\":\"s2\"");

  /* Contents: s2 = seq 4, 8, 12 complete, the rows between redacted, and
   * the export's own row (13, redacted) up to the checkpoint it made. */
  events = member_text (out, "events.jsonl");
  g_assert_true (g_str_has_prefix (events, "{\"seq\":4,"));
  assert_contains (events, "\"note\":\"note 8\"");
  g_assert_null (strstr (events, "note 7"));
  pk = member_text (out, "public-key.txt");
  g_assert_cmpstr (g_strstrip (pk), ==, key);
  readme = member_text (out, "README.txt");
  assert_contains (readme, "webremotectl audit verify --bundle");

  /* Offline, pinned and not. */
  ctl_offline (&r, "audit", "verify", "--bundle", out, "--key", key, NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "bundle intact: 10 rows (seq 4 to 13)");
  ctl_offline (&r, "audit", "verify", "--bundle", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, key);
  ctl_offline (&r, "audit", "verify", "--bundle", out, "--key", other, NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "BROKEN at seq 5");

  /* The unpacked directory (by tar(1)). */
  g_assert_cmpint (g_mkdir (unpacked, 0700), ==, 0);
  {
    const char *argv[] = { "tar", "-xf", out, "-C", unpacked, NULL };
    int status;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
            G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  ctl_offline (&r, "audit", "verify", "--bundle", unpacked, "--key", key,
      NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* Tampered events.jsonl: a row of the filter edited. */
  tampered = g_strdup (events);
  memcpy (strstr (tampered, "note 8") + 5, "9", 1);
  rewrite_bundle (out, bad, "events.jsonl", tampered);
  ctl_offline (&r, "audit", "verify", "--bundle", bad, "--key", key, NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "BROKEN at seq 8");
  assert_contains (r.err, "edited");

  /* No checkpoints left: nothing anchors the rows. */
  rewrite_bundle (out, bad2, "checkpoints.jsonl", "");
  ctl_offline (&r, "audit", "verify", "--bundle", bad2, NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "not covered by a signed checkpoint");

  /* events.jsonl missing. */
  rewrite_bundle (out, bad3, "events.jsonl", NULL);
  ctl_offline (&r, "audit", "verify", "--bundle", bad3, NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "events.jsonl");

  /* Usage: an existing file, a bad time, from after to. */
  ctl (f, &r, "audit", "export", out, NULL);
  g_assert_cmpint (r.status, ==, 2);
  assert_contains (r.err, "exists");
  ctl (f, &r, "audit", "export", "--from", "yesterday", bad, NULL);
  g_assert_cmpint (r.status, ==, 2);
  ctl (f, &r, "audit", "export", "--from", "2030-01-01", "--to",
      "2020-01-01T00:00:00Z", bad, NULL);
  g_assert_cmpint (r.status, ==, 2);
  ctl (f, &r, "audit", "export", NULL);
  g_assert_cmpint (r.status, ==, 2);
}

/* Rows not yet signed, and webremotectl cannot read the key: the export
 * refuses instead of writing a bundle that cannot be verified. */
static void
test_export_without_key (Fixture *f, gconstpointer data)
{
  g_autofree char *key = g_build_filename (f->state_dir,
      WR_GRANT_KEY_FILE_NAME, NULL);
  g_autofree char *moved = g_build_filename (f->dir, "moved.key", NULL);
  g_autofree char *out = g_build_filename (f->dir, "out.tar", NULL);
  g_auto (CtlResult) r = { 0 };

  fill (f);
  g_assert_cmpint (g_rename (key, moved), ==, 0);
  ctl (f, &r, "audit", "export", "--session", "s2", out, NULL);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "signing key");
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  /* Nothing matched: an empty bundle needs no signature, so no key. */
  ctl (f, &r, "audit", "export", "--session", "s1", "--to", "1", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "no event matched");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (wr_test_backends); i++) {
    const WrTestBackend *b = &wr_test_backends[i];
    struct {
      const char *name;
      void (*func) (Fixture *, gconstpointer);
    } tests[] = {
      { "verify-exit-codes", test_verify_store },
      { "export-and-verify-bundle-offline", test_export_and_verify_bundle },
      { "export-refuses-unsigned-rows-without-key",
        test_export_without_key },
    };

    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/gateway/ctl-audit/%s/%s",
          b->name, tests[t].name);

      g_test_add (path, Fixture, b, setup, tests[t].func, teardown);
    }
  }
  ret = g_test_run ();
  wr_test_backends_shutdown ();
  return ret;
}
