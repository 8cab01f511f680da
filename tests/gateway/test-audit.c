/* Tests for the tamper-evident audit log (gateway/audit.c,
 * gateway/audit-verify.c, gateway/store-audit.c). Every test runs against
 * SQLite (a temp file) and PostgreSQL (a fresh schema in a throwaway
 * cluster, tests/lib/pg-server.h). Tampering is done with plain SQL on a
 * second connection, as someone with database access would. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "common/crypto.h"
#include "gateway/audit-private.h"
#include "gateway/audit.h"
#include "gateway/db.h"
#include "gateway/grant-signer.h"
#include "gateway/store-audit.h"
#include "gateway/store.h"
#include "tests/lib/store-backend.h"

#define TEST_TIMEOUT_S 120

typedef struct {
  char *dir;        /* temp dir: keys, SQLite file */
  char *location;   /* SQLite path or PostgreSQL URL */
  WrStore *store;
  WrDb *db;         /* a second connection, for tampering */
  WrGrantSigner *signer;
  WrGrantSigner *other_signer;
  WrAudit *audit;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *other = NULL;

  alarm (TEST_TIMEOUT_S);
  f->dir = g_dir_make_tmp ("wr-audit-XXXXXX", &error);
  g_assert_no_error (error);
  f->location = wr_test_backend_location (backend, f->dir, "store.db");
  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_store_get_backend_name (f->store), ==, backend->name);
  f->db = wr_db_open (f->location, &error);
  g_assert_no_error (error);
  key = g_build_filename (f->dir, "grant.key", NULL);
  other = g_build_filename (f->dir, "other.key", NULL);
  f->signer = wr_grant_signer_new (key, NULL, &error);
  g_assert_no_error (error);
  f->other_signer = wr_grant_signer_new (other, NULL, &error);
  g_assert_no_error (error);
  /* A checkpoint every 5 rows; the time rule out of the way. */
  f->audit = wr_audit_new (f->store, f->signer, 5, 3600);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_audit_free (f->audit);
  wr_grant_signer_free (f->signer);
  wr_grant_signer_free (f->other_signer);
  wr_db_close (f->db);
  wr_store_close (f->store);
  wr_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->location);
  alarm (0);
}

static gint64
append (WrAudit *audit, const char *type, const char *actor,
    const char *session, const char *note)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) detail = json_object_new ();
  WrAuditEvent ev = {
    .type = type, .outcome = WR_AUDIT_OK, .actor = actor,
    .agent = "agent-1", .session = session, .address = "127.0.0.1",
  };
  gint64 seq = 0;

  json_object_set_string_member (detail, "note", note);
  json_object_set_int_member (detail, "size", 42);
  json_object_set_boolean_member (detail, "partial", FALSE);
  g_assert_true (wr_audit_append (audit, &ev, detail, &seq, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq, >, 0);
  return seq;
}

/* 12 rows: checkpoints at 5 and 10; rows 11 and 12 not yet anchored. */
static void
fill (Fixture *f)
{
  for (int i = 1; i <= 12; i++) {
    g_autofree char *note = g_strdup_printf ("event %d", i);

    g_assert_cmpint (append (f->audit, i % 3 ? "session.started" : "login",
            i % 2 ? "alice" : "bob", i % 4 ? "s1" : "s2", note), ==, i);
  }
}

static void
sql (Fixture *f, const char *statement)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (wr_db_exec (f->db, statement, NULL, 0, NULL, &error));
  g_assert_no_error (error);
}

static char *
sql_text (Fixture *f, const char *statement)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDbResult) res = NULL;

  g_assert_true (wr_db_exec (f->db, statement, NULL, 0, &res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (res->n_rows, ==, 1);
  return g_strdup (wr_db_result_get (res, 0, 0));
}

static void
assert_intact (Fixture *f, const char *key, gint64 rows)
{
  g_auto (WrAuditReport) report = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (wr_audit_verify_store (f->store, key, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpint (report.rows, ==, rows);
  g_assert_cmpint (report.bad_seq, ==, 0);
  g_assert_null (report.problem);
}

static void
assert_broken (Fixture *f, const char *key, gint64 bad_seq,
    const char *problem_part)
{
  g_auto (WrAuditReport) report = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_false (wr_audit_verify_store (f->store, key, &report, &error));
  g_assert_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN);
  g_test_message ("verify: %s", error->message);
  g_assert_cmpint (report.bad_seq, ==, bad_seq);
  g_assert_nonnull (report.problem);
  g_assert_nonnull (strstr (report.problem, problem_part));
}

/* ------------------------------------------------------------------ */

static void
test_append_chain_checkpoint (Fixture *f, gconstpointer data)
{
  g_auto (WrAuditReport) report = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDbResult) res = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *payload = NULL;
  gint64 ts;

  fill (f);

  /* Row 1, by hand, exactly as docs/compliance.md describes it. */
  g_assert_true (wr_db_exec (f->db, "SELECT ts, detail, prev_hash, hash "
          "FROM audit_events WHERE seq = 1", NULL, 0, &res, &error));
  g_assert_no_error (error);
  ts = wr_db_result_get_int (res, 0, 0);
  g_assert_cmpint (ts, >, 1700000000000);
  g_assert_cmpstr (wr_db_result_get (res, 0, 1), ==,
      "{\"note\":\"event 1\",\"partial\":false,\"size\":42}");
  g_assert_cmpstr (wr_db_result_get (res, 0, 2), ==, WR_AUDIT_ZERO_HASH);
  canonical = g_strdup_printf ("{\"seq\":1,\"ts\":%" G_GINT64_FORMAT
      ",\"type\":\"session.started\",\"outcome\":\"ok\",\"actor\":\"alice\","
      "\"agent\":\"agent-1\",\"session\":\"s1\",\"address\":\"127.0.0.1\","
      "\"detail\":{\"note\":\"event 1\",\"partial\":false,\"size\":42}}",
      ts);
  digest = wr_sha256_hex (canonical, strlen (canonical));
  text = g_strconcat (WR_AUDIT_ZERO_HASH, "\n", digest, NULL);
  expected = wr_sha256_hex (text, strlen (text));
  g_assert_cmpstr (wr_db_result_get (res, 0, 3), ==, expected);

  /* Checkpoints every 5 rows, signed over the documented payload. */
  g_clear_pointer (&res, wr_db_result_free);
  g_assert_true (wr_db_exec (f->db, "SELECT seq, hash, ts, key, signature "
          "FROM audit_checkpoints ORDER BY seq", NULL, 0, &res, &error));
  g_assert_cmpuint (res->n_rows, ==, 2);
  g_assert_cmpint (wr_db_result_get_int (res, 0, 0), ==, 5);
  g_assert_cmpint (wr_db_result_get_int (res, 1, 0), ==, 10);
  g_assert_cmpstr (wr_db_result_get (res, 1, 3), ==,
      wr_grant_signer_get_public_key (f->signer));
  payload = g_strdup_printf ("{\"seq\":10,\"hash\":\"%s\",\"ts\":%s}",
      wr_db_result_get (res, 1, 1), wr_db_result_get (res, 1, 2));
  g_assert_true (wr_grant_signer_verify (
      wr_grant_signer_get_public_key (f->signer),
      "webremote.audit.checkpoint.v1\n", payload, strlen (payload),
      wr_db_result_get (res, 1, 4), &error));
  g_assert_no_error (error);
  g_assert_false (wr_grant_signer_verify (
      wr_grant_signer_get_public_key (f->other_signer),
      "webremote.audit.checkpoint.v1\n", payload, strlen (payload),
      wr_db_result_get (res, 1, 4), NULL));

  g_assert_true (wr_audit_verify_store (f->store, NULL, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpint (report.rows, ==, 12);
  g_assert_cmpint (report.first_seq, ==, 1);
  g_assert_cmpint (report.last_seq, ==, 12);
  g_assert_cmpint (report.checkpoints, ==, 2);
  g_assert_cmpint (report.last_checkpoint_seq, ==, 10);
  g_assert_cmpint (report.unanchored, ==, 2);
  g_assert_cmpstr (report.key, ==, wr_grant_signer_get_public_key (f->signer));
  wr_audit_report_clear (&report);

  /* Not due yet (rows are fresh); forced: the head gets signed. */
  g_assert_true (wr_audit_checkpoint_if_due (f->audit, FALSE, &error));
  g_assert_no_error (error);
  g_free (text);
  text = sql_text (f, "SELECT COUNT(*) FROM audit_checkpoints");
  g_assert_cmpstr (text, ==, "2");
  g_assert_true (wr_audit_checkpoint_if_due (f->audit, TRUE, &error));
  g_free (text);
  text = sql_text (f, "SELECT MAX(seq) FROM audit_checkpoints");
  g_assert_cmpstr (text, ==, "12");
  g_assert_true (wr_audit_verify_store (f->store,
          wr_grant_signer_get_public_key (f->signer), &report, &error));
  g_assert_cmpint (report.unanchored, ==, 0);
  g_assert_cmpint (report.checkpoints, ==, 3);
}

static void
test_checkpoint_by_time (Fixture *f, gconstpointer data)
{
  g_autoptr (WrAudit) audit = wr_audit_new (f->store, f->signer, 1000, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *count = NULL;

  append (audit, "login", "alice", NULL, "x");
  g_assert_true (wr_audit_checkpoint_if_due (audit, FALSE, &error));
  count = sql_text (f, "SELECT COUNT(*) FROM audit_checkpoints");
  g_assert_cmpstr (count, ==, "0");
  g_usleep (1100 * 1000);
  g_assert_true (wr_audit_checkpoint_if_due (audit, FALSE, &error));
  g_assert_no_error (error);
  g_free (count);
  count = sql_text (f, "SELECT MAX(seq) FROM audit_checkpoints");
  g_assert_cmpstr (count, ==, "1");
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) detail = json_object_new ();
  g_autofree char *count = NULL;
  WrAuditEvent ev = { .type = "login", .outcome = WR_AUDIT_OK };

  /* Nested values are refused, and nothing is written. */
  json_object_set_array_member (detail, "argv", json_array_new ());
  g_assert_false (wr_audit_append (f->audit, &ev, detail, NULL, &error));
  g_assert_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  ev.type = NULL;
  g_assert_false (wr_audit_append (f->audit, &ev, NULL, NULL, &error));
  g_assert_nonnull (error);
  count = sql_text (f, "SELECT COUNT(*) FROM audit_events");
  g_assert_cmpstr (count, ==, "0");
}

static void
test_edit_detected (Fixture *f, gconstpointer data)
{
  g_autofree char *detail = NULL;

  fill (f);
  assert_intact (f, NULL, 12);
  detail = sql_text (f, "SELECT detail FROM audit_events WHERE seq = 7");

  sql (f, "UPDATE audit_events SET detail = "
      "'{\"note\":\"nothing to see\",\"partial\":false,\"size\":42}' "
      "WHERE seq = 7");
  assert_broken (f, NULL, 7, "edited");
  sql (f, "UPDATE audit_events SET detail = "
      "'{\"note\":\"event 7\",\"partial\":false,\"size\":42}' WHERE seq = 7");
  assert_intact (f, NULL, 12);

  sql (f, "UPDATE audit_events SET type = 'logout' WHERE seq = 3");
  assert_broken (f, NULL, 3, "edited");
  sql (f, "UPDATE audit_events SET type = 'login' WHERE seq = 3");
  assert_intact (f, NULL, 12);

  sql (f, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 11");
  assert_broken (f, NULL, 11, "edited");
  sql (f, "UPDATE audit_events SET actor = NULL WHERE seq = 11");
  assert_broken (f, NULL, 11, "edited");
  sql (f, "UPDATE audit_events SET actor = 'alice' WHERE seq = 11");
  assert_intact (f, NULL, 12);

  sql (f, "UPDATE audit_events SET ts = ts + 1 WHERE seq = 2");
  assert_broken (f, NULL, 2, "edited");
}

/* Someone with write access rewrites row 3 and recomputes every hash
 * after it: only the signed checkpoint at 5 catches that. */
static void
test_rewritten_chain_detected (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *prev = NULL;

  fill (f);
  sql (f, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3");
  rows = wr_store_audit_list (f->store, 0, 0, 100, &error);
  g_assert_no_error (error);
  prev = g_strdup (WR_AUDIT_ZERO_HASH);
  for (guint i = 0; i < rows->len; i++) {
    WrAuditRow *row = rows->pdata[i];
    g_autofree char *digest = wr_audit_row_digest (row, NULL);
    g_autofree char *hash = wr_audit_chain_hash (prev, digest);
    WrDbParam params[] = {
      WR_DB_TEXT (prev), WR_DB_TEXT (hash), WR_DB_INT (row->seq),
    };

    g_assert_true (wr_db_exec (f->db, "UPDATE audit_events SET prev_hash = "
            "$1, hash = $2 WHERE seq = $3", params, 3, NULL, &error));
    g_free (prev);
    prev = g_steal_pointer (&hash);
  }
  assert_broken (f, NULL, 5, "does not match its signed checkpoint");
}

static void
test_delete_detected (Fixture *f, gconstpointer data)
{
  fill (f);
  sql (f, "DELETE FROM audit_events WHERE seq = 7");
  assert_broken (f, NULL, 7, "missing");
}

static void
test_delete_first_and_last_detected (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fill (f);
  g_assert_true (wr_audit_checkpoint_if_due (f->audit, TRUE, &error));
  sql (f, "DELETE FROM audit_events WHERE seq >= 11");
  assert_broken (f, NULL, 11, "missing");
  sql (f, "DELETE FROM audit_events WHERE seq = 1");
  assert_broken (f, NULL, 1, "missing");
}

static void
test_insert_detected (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prev = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *hash = NULL;
  WrDbParam params[3];

  fill (f);
  /* Make room at 7 and forge a row whose own hash is right. */
  sql (f, "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 6");
  sql (f, "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000");
  prev = sql_text (f, "SELECT hash FROM audit_events WHERE seq = 6");
  canonical = wr_audit_canonical_row (7, 1700000000000, "login", "ok",
      "mallory", NULL, NULL, NULL, "{}");
  digest = wr_sha256_hex (canonical, strlen (canonical));
  hash = wr_audit_chain_hash (prev, digest);
  params[0] = WR_DB_TEXT (prev);
  params[1] = WR_DB_TEXT (hash);
  params[2] = WR_DB_INT (7);
  g_assert_true (wr_db_exec (f->db, "INSERT INTO audit_events (seq, ts, "
          "type, outcome, actor, detail, prev_hash, hash) VALUES ($3, "
          "1700000000000, 'login', 'ok', 'mallory', '{}', $1, $2)", params, 3,
          NULL, &error));
  g_assert_no_error (error);
  assert_broken (f, NULL, 7, "inserted");
}

static void
test_swap_detected (Fixture *f, gconstpointer data)
{
  fill (f);
  sql (f, "UPDATE audit_events SET seq = -1 WHERE seq = 7");
  sql (f, "UPDATE audit_events SET seq = 7 WHERE seq = 8");
  sql (f, "UPDATE audit_events SET seq = 8 WHERE seq = -1");
  assert_broken (f, NULL, 7, "does not link");
}

static void
test_checkpoint_tamper_detected (Fixture *f, gconstpointer data)
{
  const char *key = wr_grant_signer_get_public_key (f->signer);
  const char *other = wr_grant_signer_get_public_key (f->other_signer);
  g_autoptr (GError) error = NULL;
  g_autofree char *sig5 = NULL;
  g_autofree char *sig10 = NULL;
  g_autofree char *hash10 = NULL;
  g_autofree char *ts10 = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *forged = NULL;

  fill (f);
  assert_intact (f, key, 12);
  /* A pinned key that did not sign the log: the first checkpoint is bad. */
  assert_broken (f, other, 5, "pinned");

  sig5 = sql_text (f, "SELECT signature FROM audit_checkpoints WHERE seq = 5");
  sig10 = sql_text (f,
      "SELECT signature FROM audit_checkpoints WHERE seq = 10");
  {
    WrDbParam p[] = { WR_DB_TEXT (sig5) };

    g_assert_true (wr_db_exec (f->db, "UPDATE audit_checkpoints SET "
            "signature = $1 WHERE seq = 10", p, 1, NULL, &error));
  }
  assert_broken (f, NULL, 10, "bad signature");
  assert_broken (f, key, 10, "bad signature");

  /* Re-signed with another key. */
  hash10 = sql_text (f, "SELECT hash FROM audit_checkpoints WHERE seq = 10");
  ts10 = sql_text (f, "SELECT ts FROM audit_checkpoints WHERE seq = 10");
  payload = g_strdup_printf ("{\"seq\":10,\"hash\":\"%s\",\"ts\":%s}", hash10,
      ts10);
  forged = wr_grant_signer_sign (f->other_signer,
      "webremote.audit.checkpoint.v1\n", payload, strlen (payload), &error);
  g_assert_no_error (error);
  {
    WrDbParam p[] = { WR_DB_TEXT (forged), WR_DB_TEXT (other) };

    g_assert_true (wr_db_exec (f->db, "UPDATE audit_checkpoints SET "
            "signature = $1, key = $2 WHERE seq = 10", p, 2, NULL, &error));
  }
  assert_broken (f, key, 10, "not by the pinned key");
  assert_broken (f, NULL, 10, "earlier checkpoints");

  /* Restored: intact again. */
  {
    WrDbParam p[] = { WR_DB_TEXT (sig10), WR_DB_TEXT (key) };

    g_assert_true (wr_db_exec (f->db, "UPDATE audit_checkpoints SET "
            "signature = $1, key = $2 WHERE seq = 10", p, 2, NULL, &error));
  }
  assert_intact (f, key, 12);

  /* A checkpoint whose hash was changed no longer verifies. */
  sql (f, "UPDATE audit_checkpoints SET hash = '" WR_AUDIT_ZERO_HASH
      "' WHERE seq = 5");
  assert_broken (f, NULL, 5, "bad signature");
}

typedef struct {
  WrAudit *audit;
  int n;
  int id;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;

  for (int i = 0; i < w->n; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) detail = json_object_new ();
    WrAuditEvent ev = { .type = "command.run", .outcome = WR_AUDIT_OK,
      .actor = w->id ? "gw-b" : "gw-a" };

    json_object_set_int_member (detail, "i", i);
    if (!wr_audit_append (w->audit, &ev, detail, NULL, &error))
      g_error ("append: %s", error->message);
  }
  return NULL;
}

/* Two gateways (two connections) append at once: one valid chain. */
static void
test_concurrent_appends (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrStore) store2 = wr_store_open (f->location, &error);
  g_autoptr (WrAudit) audit2 = NULL;
  g_autofree char *count = NULL;
  Writer a = { f->audit, 60, 0 }, b = { NULL, 60, 1 };
  GThread *ta, *tb;

  g_assert_no_error (error);
  audit2 = wr_audit_new (store2, f->signer, 5, 3600);
  b.audit = audit2;
  ta = g_thread_new ("a", writer_thread, &a);
  tb = g_thread_new ("b", writer_thread, &b);
  g_thread_join (ta);
  g_thread_join (tb);
  assert_intact (f, wr_grant_signer_get_public_key (f->signer), 120);
  count = sql_text (f, "SELECT COUNT(*) FROM audit_events WHERE actor = "
      "'gw-b'");
  g_assert_cmpstr (count, ==, "60");
  g_free (count);
  count = sql_text (f, "SELECT COUNT(*) FROM audit_checkpoints");
  g_assert_cmpstr (count, ==, "24");
}

/* An action and its audit row commit or roll back together. */
static void
test_transaction (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *count = NULL;

  g_assert_true (wr_store_begin (f->store, &error));
  append (f->audit, "user.create", "admin", NULL, "carol");
  wr_store_rollback (f->store);
  count = sql_text (f, "SELECT COUNT(*) FROM audit_events");
  g_assert_cmpstr (count, ==, "0");

  g_assert_true (wr_store_begin (f->store, &error));
  g_assert_cmpint (append (f->audit, "user.create", "admin", NULL, "carol"),
      ==, 1);
  g_assert_true (wr_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_free (count);
  count = sql_text (f, "SELECT COUNT(*) FROM audit_events");
  g_assert_cmpstr (count, ==, "1");
  assert_intact (f, NULL, 1);
}

static void
test_query (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) all = NULL;
  g_autoptr (JsonArray) page = NULL;
  g_autoptr (JsonArray) some = NULL;
  WrAuditFilter filter = { 0 };
  JsonObject *first;

  fill (f);
  all = wr_audit_query (f->audit, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (all), ==, 12);
  first = json_array_get_object_element (all, 0);
  g_assert_cmpint (json_object_get_int_member (first, "seq"), ==, 12);
  g_assert_cmpstr (json_object_get_string_member (
          json_object_get_object_member (first, "detail"), "note"), ==,
      "event 12");
  g_assert_cmpuint (strlen (json_object_get_string_member (first, "hash")),
      ==, 64);

  filter.limit = 5;
  filter.before_seq = 8;
  page = wr_audit_query (f->audit, &filter, &error);
  g_assert_cmpuint (json_array_get_length (page), ==, 5);
  g_assert_cmpint (json_object_get_int_member (
          json_array_get_object_element (page, 0), "seq"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (
          json_array_get_object_element (page, 4), "seq"), ==, 3);

  memset (&filter, 0, sizeof filter);
  filter.user = "bob";
  filter.type = "session.";
  some = wr_audit_query (f->audit, &filter, &error);
  g_assert_no_error (error);
  /* bob = even seqs; session.started = seq not a multiple of 3. */
  g_assert_cmpuint (json_array_get_length (some), ==, 4);
  for (guint i = 0; i < 4; i++) {
    JsonObject *o = json_array_get_object_element (some, i);

    g_assert_cmpstr (json_object_get_string_member (o, "actor"), ==, "bob");
    g_assert_cmpstr (json_object_get_string_member (o, "type"), ==,
        "session.started");
  }
  g_clear_pointer (&some, json_array_unref);
  filter.type = "session";   /* exact: no such type */
  some = wr_audit_query (f->audit, &filter, &error);
  g_assert_cmpuint (json_array_get_length (some), ==, 0);
  g_clear_pointer (&some, json_array_unref);

  memset (&filter, 0, sizeof filter);
  filter.from_ms = 10;
  filter.to_ms = 5;
  g_assert_null (wr_audit_query (f->audit, &filter, &error));
  g_assert_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID);
}

static void
export_session (Fixture *f, const char *session, GString *events,
    GString *cps)
{
  g_autoptr (GError) error = NULL;
  WrAuditFilter filter = { .session = session };

  g_assert_true (wr_audit_export (f->audit, &filter, events, cps, &error));
  g_assert_no_error (error);
}

static void
assert_lines_broken (GString *events, GString *cps, const char *key,
    gint64 bad_seq, const char *part)
{
  g_auto (WrAuditReport) report = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_false (wr_audit_verify_lines (events->str, events->len, cps->str,
          cps->len, key, &report, &error));
  g_assert_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN);
  g_test_message ("verify lines: %s", error->message);
  g_assert_cmpint (report.bad_seq, ==, bad_seq);
  g_assert_nonnull (strstr (report.problem, part));
}

static char *
replace_once (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to,
      at + strlen (from));
}

static void
test_export_round_trip (Fixture *f, gconstpointer data)
{
  const char *key = wr_grant_signer_get_public_key (f->signer);
  g_autoptr (GString) events = g_string_new (NULL);
  g_autoptr (GString) cps = g_string_new (NULL);
  g_auto (WrAuditReport) report = { 0 };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  guint full = 0, redacted = 0;

  fill (f);
  /* s2 = seq 4, 8 and 12; 12 is not anchored yet: the export signs it. */
  export_session (f, "s2", events, cps);
  lines = g_strsplit (events->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 10);   /* 4..12 + "" */
  for (guint i = 0; lines[i] && *lines[i]; i++) {
    if (strstr (lines[i], "\"type\"")) {
      full++;
      g_assert_nonnull (strstr (lines[i], "\"session\":\"s2\""));
    } else {
      redacted++;
      g_assert_nonnull (strstr (lines[i], "\"digest\""));
      g_assert_null (strstr (lines[i], "alice"));
      g_assert_null (strstr (lines[i], "event"));
    }
  }
  g_assert_cmpuint (full, ==, 3);
  g_assert_cmpuint (redacted, ==, 6);
  g_assert_true (g_str_has_prefix (events->str, "{\"seq\":4,"));
  /* Checkpoints 5, 10 and the new one at 12. */
  {
    g_auto (GStrv) cl = g_strsplit (cps->str, "\n", -1);

    g_assert_cmpuint (g_strv_length (cl), ==, 4);
  }

  g_assert_true (wr_audit_verify_lines (events->str, events->len, cps->str,
          cps->len, key, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpint (report.rows, ==, 9);
  g_assert_cmpint (report.first_seq, ==, 4);
  g_assert_cmpint (report.last_seq, ==, 12);
  g_assert_cmpint (report.checkpoints, ==, 3);
  g_assert_cmpstr (report.key, ==, key);
  wr_audit_report_clear (&report);

  /* The wrong pinned key. */
  assert_lines_broken (events, cps,
      wr_grant_signer_get_public_key (f->other_signer), 5, "pinned");

  /* A full row edited. */
  {
    g_autofree char *t = replace_once (events->str, "event 8", "event 9");
    g_autoptr (GString) e = g_string_new (t);

    assert_lines_broken (e, cps, key, 8, "edited");
  }
  /* A redacted row's digest edited. */
  {
    g_autofree char *from = NULL;
    g_autofree char *t = NULL;
    g_autoptr (GString) e = NULL;
    const char *at = strstr (events->str, "\"digest\":\"");

    g_assert_nonnull (at);
    from = g_strndup (at, 20);
    t = replace_once (events->str, from, "\"digest\":\"ffffffffff");
    e = g_string_new (t);
    assert_lines_broken (e, cps, key, 5, "edited");
  }
  /* A line dropped. */
  {
    g_autoptr (GString) e = g_string_new (NULL);

    for (guint i = 0; lines[i] && *lines[i]; i++)
      if (i != 3)   /* seq 7 */
        g_string_append_printf (e, "%s\n", lines[i]);
    assert_lines_broken (e, cps, key, 7, "missing");
  }
  /* Two lines swapped. */
  {
    g_autoptr (GString) e = g_string_new (NULL);

    for (guint i = 0; lines[i] && *lines[i]; i++) {
      guint j = i == 4 ? 5 : i == 5 ? 4 : i;  /* seq 8 and 9 */

      g_string_append_printf (e, "%s\n", lines[j]);
    }
    assert_lines_broken (e, cps, key, 8, "out of order");
  }
  /* The tail cut off: the rest is not anchored. */
  {
    g_autoptr (GString) e = g_string_new (NULL);

    for (guint i = 0; lines[i] && *lines[i] && i < 8; i++)
      g_string_append_printf (e, "%s\n", lines[i]);
    assert_lines_broken (e, cps, key, 12, "missing");
  }
  /* No checkpoints at all. */
  {
    g_autoptr (GString) none = g_string_new ("");

    assert_lines_broken (events, none, NULL, 4, "not covered");
  }
  /* A checkpoint's signature swapped for another one's. */
  {
    g_auto (GStrv) cl = g_strsplit (cps->str, "\n", -1);
    const char *s5 = strstr (cl[0], "\"signature\":");
    const char *s10 = strstr (cl[1], "\"signature\":");
    g_autofree char *t = NULL;
    g_autoptr (GString) c = NULL;

    t = replace_once (cps->str, s10, s5);
    c = g_string_new (t);
    assert_lines_broken (events, c, key, 10, "bad signature");
  }
}

static void
test_export_empty_and_store_unchanged (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) events = g_string_new (NULL);
  g_autoptr (GString) cps = g_string_new (NULL);
  g_auto (WrAuditReport) report = { 0 };
  g_autoptr (GError) error = NULL;

  fill (f);
  export_session (f, "nope", events, cps);
  g_assert_cmpuint (events->len, ==, 0);
  g_assert_cmpuint (cps->len, ==, 0);
  g_assert_true (wr_audit_verify_lines ("", 0, "", 0, NULL, &report,
          &error));
  g_assert_cmpint (report.rows, ==, 0);
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
      { "append-chain-and-checkpoints", test_append_chain_checkpoint },
      { "checkpoint-after-seconds", test_checkpoint_by_time },
      { "bad-input-writes-nothing", test_bad_input },
      { "row-in-caller-transaction", test_transaction },
      { "edited-row-detected", test_edit_detected },
      { "rewritten-chain-caught-by-checkpoint",
        test_rewritten_chain_detected },
      { "deleted-row-detected", test_delete_detected },
      { "deleted-first-and-last-rows-detected",
        test_delete_first_and_last_detected },
      { "inserted-row-detected", test_insert_detected },
      { "swapped-rows-detected", test_swap_detected },
      { "checkpoint-signature-and-key-checked",
        test_checkpoint_tamper_detected },
      { "concurrent-appends-keep-one-chain", test_concurrent_appends },
      { "query-filters-and-paging", test_query },
      { "export-and-offline-verify", test_export_round_trip },
      { "export-without-matches-is-empty",
        test_export_empty_and_store_unchanged },
    };

    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/gateway/audit/%s/%s",
          b->name, tests[t].name);

      g_test_add (path, Fixture, b, setup, tests[t].func, teardown);
    }
  }

  ret = g_test_run ();
  wr_test_backends_shutdown ();
  return ret;
}
