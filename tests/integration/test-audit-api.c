/* webremote integration tests: the audit API (docs/api.md "Audit") on a
 * real gateway, on both store backends:
 *
 *   /integration/audit-api/BACKEND/read-filters-and-paging
 *   /integration/audit-api/BACKEND/permissions
 *   /integration/audit-api/BACKEND/bad-parameters
 *   /integration/audit-api/BACKEND/export-verifies-offline
 *   /integration/audit-api/BACKEND/fails-closed
 *   /integration/audit-api/BACKEND/timer-signs-checkpoints
 *
 * What is asserted is what a user observes: statuses, error codes, the
 * events returned (each read shows up as audit.read), and that the tar
 * export passes `webremotectl audit verify --bundle` with the gateway's
 * published key.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "api-test-util.h"
#include "gateway/db.h"

typedef struct {
  WrHarness *h;
  char *auditor;
  char *viewer;
  char *operator_token;
} Backend;

static Backend backends[WR_N_BACKENDS];

static Backend *
backend_ensure (WrBackend which)
{
  Backend *b = &backends[which];

  if (b->h)
    return b;
  b->h = wr_api_gateway_new (which,
      "[audit]\ncheckpoint-rows=5\ncheckpoint-seconds=1\n");
  wr_api_create_user (b->h, "a-auditor", WR_TEST_PASSWORD);
  wr_api_create_user (b->h, "a-viewer", WR_TEST_PASSWORD);
  wr_api_create_user (b->h, "a-operator", WR_TEST_PASSWORD);
  wr_api_grant (b->h, "a-auditor", "auditor", NULL);
  wr_api_grant (b->h, "a-viewer", "viewer", NULL);
  wr_api_grant (b->h, "a-operator", "operator", NULL);
  b->auditor = wr_api_login (b->h, "a-auditor", WR_TEST_PASSWORD);
  b->viewer = wr_api_login (b->h, "a-viewer", WR_TEST_PASSWORD);
  b->operator_token = wr_api_login (b->h, "a-operator", WR_TEST_PASSWORD);
  return b;
}

static void
backend_free (Backend *b)
{
  g_clear_pointer (&b->h, wr_harness_free);
  g_free (b->auditor);
  g_free (b->viewer);
  g_free (b->operator_token);
}

static JsonArray *
events_of (WrHttpResponse *r)
{
  JsonObject *o = wr_api_object (r);

  g_assert_true (json_object_has_member (o, "next_before"));
  return json_object_get_array_member (o, "events");
}

static void
test_read (gconstpointer data)
{
  Backend *b = backend_ensure (GPOINTER_TO_INT (data));
  g_autoptr (WrHttpResponse) first = NULL;
  g_autoptr (WrHttpResponse) mine = NULL;
  g_autoptr (WrHttpResponse) page1 = NULL;
  g_autoptr (WrHttpResponse) page2 = NULL;
  g_autoptr (WrHttpResponse) future = NULL;
  g_autoptr (WrHttpResponse) prefix = NULL;
  g_autofree char *page2_path = NULL;
  g_autofree char *future_path = NULL;
  JsonArray *events;
  JsonObject *o, *detail;
  gint64 next, newest;

  wr_watchdog_arm (60);
  first = wr_api_expect (b->h, "GET", "/api/v1/audit", b->auditor, NULL,
      200, NULL);
  events = events_of (first);
  g_assert_cmpuint (json_array_get_length (events), >=, 1);
  /* Newest first: the read itself, by the auditor, from loopback. */
  o = json_array_get_object_element (events, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==,
      "audit.read");
  g_assert_cmpstr (json_object_get_string_member (o, "actor"), ==,
      "a-auditor");
  g_assert_cmpstr (json_object_get_string_member (o, "outcome"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (o, "address"), ==,
      "127.0.0.1");
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "hash")), ==,
      64);
  g_assert_cmpint (json_object_get_int_member (o, "ts"), >,
      G_GINT64_CONSTANT (1700000000000));
  newest = json_object_get_int_member (o, "seq");

  /* Filtered by user and type: only the auditor's reads, newest first,
   * and this read's filter is in its own row. */
  mine = wr_api_expect (b->h, "GET",
      "/api/v1/audit?user=a-auditor&type=audit.read&limit=50", b->auditor,
      NULL, 200, NULL);
  events = events_of (mine);
  g_assert_cmpuint (json_array_get_length (events), ==, 2);
  for (guint i = 0; i < json_array_get_length (events); i++) {
    o = json_array_get_object_element (events, i);
    g_assert_cmpstr (json_object_get_string_member (o, "actor"), ==,
        "a-auditor");
    g_assert_cmpstr (json_object_get_string_member (o, "type"), ==,
        "audit.read");
  }
  o = json_array_get_object_element (events, 0);
  g_assert_cmpint (json_object_get_int_member (o, "seq"), >, newest);
  detail = json_object_get_object_member (o, "detail");
  g_assert_cmpstr (json_object_get_string_member (detail, "user"), ==,
      "a-auditor");
  g_assert_cmpstr (json_object_get_string_member (detail, "type"), ==,
      "audit.read");
  g_assert_cmpint (json_object_get_int_member (detail, "limit"), ==, 50);
  g_assert_true (json_object_get_null_member (wr_api_object (mine),
          "next_before"));

  /* A type prefix. */
  prefix = wr_api_expect (b->h, "GET", "/api/v1/audit?type=audit.",
      b->auditor, NULL, 200, NULL);
  events = events_of (prefix);
  g_assert_cmpuint (json_array_get_length (events), >=, 3);
  for (guint i = 0; i < json_array_get_length (events); i++)
    g_assert_true (g_str_has_prefix (json_object_get_string_member (
                json_array_get_object_element (events, i), "type"),
            "audit."));

  /* Paging: one per page, next_before goes back in time. */
  page1 = wr_api_expect (b->h, "GET",
      "/api/v1/audit?type=audit.read&limit=1", b->auditor, NULL, 200, NULL);
  events = events_of (page1);
  g_assert_cmpuint (json_array_get_length (events), ==, 1);
  next = json_object_get_int_member (wr_api_object (page1), "next_before");
  g_assert_cmpint (next, ==, json_object_get_int_member (
          json_array_get_object_element (events, 0), "seq"));
  page2_path = g_strdup_printf ("/api/v1/audit?type=audit.read&limit=1&"
      "before=%" G_GINT64_FORMAT, next);
  page2 = wr_api_expect (b->h, "GET", page2_path, b->auditor, NULL, 200,
      NULL);
  events = events_of (page2);
  g_assert_cmpuint (json_array_get_length (events), ==, 1);
  g_assert_cmpint (json_object_get_int_member (
          json_array_get_object_element (events, 0), "seq"), <, next);

  /* A time window in the future holds nothing. */
  future_path = g_strdup_printf ("/api/v1/audit?from=%" G_GINT64_FORMAT,
      g_get_real_time () / 1000 + 3600 * 1000);
  future = wr_api_expect (b->h, "GET", future_path, b->auditor, NULL, 200,
      NULL);
  g_assert_cmpuint (json_array_get_length (events_of (future)), ==, 0);
  wr_watchdog_disarm ();
}

static void
test_permissions (gconstpointer data)
{
  Backend *b = backend_ensure (GPOINTER_TO_INT (data));
  const char *paths[] = { "/api/v1/audit", "/api/v1/audit/export" };
  g_autoptr (WrHttpResponse) after = NULL;
  JsonArray *events;

  wr_watchdog_arm (60);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_autoptr (WrHttpResponse) r1 = wr_api_expect (b->h, "GET", paths[i],
        b->viewer, NULL, 403, "forbidden");
    g_autoptr (WrHttpResponse) r2 = wr_api_expect (b->h, "GET", paths[i],
        b->operator_token, NULL, 403, "forbidden");
    g_autoptr (WrHttpResponse) r3 = wr_api_expect (b->h, "GET", paths[i],
        NULL, NULL, 401, "unauthorized");
    g_autoptr (WrHttpResponse) r4 = wr_api_expect (b->h, "GET", paths[i],
        "not-a-token", NULL, 401, "unauthorized");
  }
  /* The refused callers read nothing, so no audit.read of theirs. */
  after = wr_api_expect (b->h, "GET", "/api/v1/audit?type=audit.read&"
      "user=a-viewer", b->h->token, NULL, 200, NULL);
  events = events_of (after);
  g_assert_cmpuint (json_array_get_length (events), ==, 0);
  wr_watchdog_disarm ();
}

static void
test_bad_params (gconstpointer data)
{
  Backend *b = backend_ensure (GPOINTER_TO_INT (data));
  const struct {
    const char *query;
    const char *parameter;
  } cases[] = {
    { "limit=0", "limit" },
    { "limit=1001", "limit" },
    { "limit=ten", "limit" },
    { "limit=-5", "limit" },
    { "from=-1", "from" },
    { "from=12abc", "from" },
    { "to=99999999999999999999", "to" },
    { "before=0", "before" },
    { "type=session%20started", "type" },
    { "type=", "type" },
    { "user=", "user" },
    { "agent=a%0Ab", "agent" },
    { "from=2000&to=1000", "from" },
  };
  g_autoptr (WrHttpResponse) before = NULL;
  g_autoptr (WrHttpResponse) after = NULL;
  gint64 n_before, n_after;

  wr_watchdog_arm (60);
  before = wr_api_expect (b->h, "GET", "/api/v1/audit?type=audit.read&"
      "limit=1000", b->h->token, NULL, 200, NULL);
  n_before = json_array_get_length (events_of (before));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/api/v1/audit?%s",
        cases[i].query);
    g_autofree char *export_path = g_strdup_printf (
        "/api/v1/audit/export?%s", cases[i].query);
    g_autoptr (WrHttpResponse) r = wr_api_expect (b->h, "GET", path,
        b->auditor, NULL, 400, "bad_request");
    JsonObject *o = wr_api_object (r);

    g_assert_cmpstr (json_object_get_string_member (o, "parameter"), ==,
        cases[i].parameter);
    g_assert_nonnull (strstr (json_object_get_string_member (o, "message"),
            cases[i].parameter));
    /* limit/before are not export parameters */
    if (!g_str_has_prefix (cases[i].query, "limit")
        && !g_str_has_prefix (cases[i].query, "before")) {
      g_autoptr (WrHttpResponse) e = wr_api_expect (b->h, "GET", export_path,
          b->auditor, NULL, 400, "bad_request");
    }
  }
  /* Refused requests read nothing and log no read. */
  after = wr_api_expect (b->h, "GET", "/api/v1/audit?type=audit.read&"
      "limit=1000", b->h->token, NULL, 200, NULL);
  n_after = json_array_get_length (events_of (after));
  g_assert_cmpint (n_after, ==, n_before + 1);
  wr_watchdog_disarm ();
}

static void
test_export (gconstpointer data)
{
  Backend *b = backend_ensure (GPOINTER_TO_INT (data));
  g_autoptr (WrHttpResponse) r = NULL;
  g_autoptr (WrHttpResponse) list = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tar = g_build_filename (b->h->tmp_dir, "audit.tar", NULL);
  g_autofree char *out = NULL;
  g_autofree char *key_arg = NULL;
  g_autofree char *dir = g_build_filename (b->h->tmp_dir, "unpacked", NULL);
  g_autofree char *events_path = NULL;
  g_autofree char *events = NULL;
  g_autofree char *tampered = NULL;
  char *at;
  JsonArray *rows;

  wr_watchdog_arm (90);
  r = wr_api_expect (b->h, "GET",
      "/api/v1/audit/export?user=a-auditor&type=audit.read", b->auditor,
      NULL, 200, NULL);
  g_assert_cmpstr (r->content_type, ==, "application/x-tar");
  g_assert_true (g_file_set_contents (tar, g_bytes_get_data (r->raw, NULL),
          g_bytes_get_size (r->raw), &error));

  /* Offline: no --state-dir, no store, only the file and the key. */
  key_arg = g_strdup (b->h->grant_key);
  {
    g_autofree char *dir_name = g_path_get_dirname (b->h->gateway_path);
    g_autofree char *ctl = g_build_filename (dir_name, "webremotectl", NULL);
    const char *argv[] = { ctl, "--state-dir", "/nonexistent", "audit",
      "verify", "--bundle", tar, "--key", key_arg, NULL };
    g_autofree char *err = NULL;
    int status;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL,
            &out, &err, &status, &error));
    g_test_message ("verify: %s%s", out, err);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "bundle intact"));
    g_assert_nonnull (strstr (out, key_arg));

    /* Tampered: one reader name changed. */
    g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
    {
      const char *x[] = { "tar", "-xf", tar, "-C", dir, NULL };

      g_assert_true (g_spawn_sync (NULL, (char **) x, NULL,
              G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error));
      g_assert_true (g_spawn_check_wait_status (status, NULL));
    }
    events_path = g_build_filename (dir, "events.jsonl", NULL);
    g_assert_true (g_file_get_contents (events_path, &events, NULL, &error));
    tampered = g_strdup (events);
    at = strstr (tampered, "\"actor\":\"a-auditor\"");
    g_assert_nonnull (at);
    memcpy (at + strlen ("\"actor\":\""), "b", 1);
    g_assert_true (g_file_set_contents (events_path, tampered, -1, &error));
    {
      const char *argv2[] = { ctl, "--state-dir", "/nonexistent", "audit",
        "verify", "--bundle", dir, "--key", key_arg, NULL };
      g_autofree char *out2 = NULL;
      g_autofree char *err2 = NULL;

      g_assert_true (g_spawn_sync (NULL, (char **) argv2, NULL, 0, NULL,
              NULL, &out2, &err2, &status, &error));
      g_test_message ("tampered: %s", err2);
      g_assert_cmpint (WEXITSTATUS (status), ==, 1);
      g_assert_nonnull (strstr (err2, "BROKEN at seq"));
      g_assert_nonnull (strstr (err2, "edited"));
    }
  }

  /* The export was audited. */
  list = wr_api_expect (b->h, "GET", "/api/v1/audit?type=audit.export",
      b->auditor, NULL, 200, NULL);
  rows = events_of (list);
  g_assert_cmpuint (json_array_get_length (rows), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (
          json_array_get_object_element (rows, 0), "actor"), ==, "a-auditor");
  g_assert_cmpstr (json_object_get_string_member (
          json_object_get_object_member (
              json_array_get_object_element (rows, 0), "detail"), "type"), ==,
      "audit.read");
  wr_watchdog_disarm ();
}

/* The audit table cannot be written: reads answer 503 and return
 * nothing; once it can, reads work again. */
static void
test_fails_closed (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  Backend *b = backend_ensure (which);
  g_autoptr (GError) error = NULL;
  g_autofree char *location = b->h->store_url ? g_strdup (b->h->store_url)
      : g_build_filename (b->h->state_dir, "webremote.db", NULL);
  g_autoptr (WrDb) db = wr_db_open (location, &error);

  wr_watchdog_arm (60);
  g_assert_no_error (error);
  g_assert_true (wr_db_exec (db, "ALTER TABLE audit_events RENAME TO "
          "audit_events_away", NULL, 0, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (WrHttpResponse) r1 = wr_api_expect (b->h, "GET",
        "/api/v1/audit", b->auditor, NULL, 503, "unavailable");
    g_autoptr (WrHttpResponse) r2 = wr_api_expect (b->h, "GET",
        "/api/v1/audit/export", b->auditor, NULL, 503, "unavailable");

    g_assert_null (json_object_get_member (wr_api_object (r1), "events"));
  }
  g_assert_true (wr_db_exec (db, "ALTER TABLE audit_events_away RENAME TO "
          "audit_events", NULL, 0, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (WrHttpResponse) r = wr_api_expect (b->h, "GET",
        "/api/v1/audit?limit=1", b->auditor, NULL, 200, NULL);

    g_assert_cmpuint (json_array_get_length (events_of (r)), ==, 1);
  }
  /* And the chain is intact (webremotectl on the live store). */
  {
    const char *args[] = { "audit", "verify", "--key", b->h->grant_key,
      NULL };
    g_autofree char *out = wr_harness_ctl (b->h, args, &error);

    g_assert_no_error (error);
    g_assert_nonnull (strstr (out, "audit log intact"));
  }
  wr_watchdog_disarm ();
}

/* The gateway's timer signs rows older than checkpoint-seconds (1 s here)
 * within its 5 s tick: after a read, the whole log is anchored soon. */
static void
test_timer_checkpoint (gconstpointer data)
{
  Backend *b = backend_ensure (GPOINTER_TO_INT (data));
  const char *args[] = { "audit", "verify", "--key", b->h->grant_key, NULL };
  gint64 deadline;
  gboolean anchored = FALSE;

  wr_watchdog_arm (60);
  {
    g_autoptr (WrHttpResponse) r = wr_api_expect (b->h, "GET",
        "/api/v1/audit?limit=1", b->auditor, NULL, 200, NULL);
  }
  /* Right after the read, its row is not signed yet (rows: 5 per
   * checkpoint, so unless it happened to be the 5th). */
  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (!anchored && g_get_monotonic_time () < deadline) {
    g_autoptr (GError) error = NULL;
    g_autofree char *out = wr_harness_ctl (b->h, args, &error);

    g_assert_no_error (error);
    g_assert_nonnull (strstr (out, "audit log intact"));
    anchored = strstr (out, "not covered") == NULL;
    if (!anchored)
      g_usleep (500 * 1000);
  }
  g_assert_true (anchored);
  wr_watchdog_disarm ();
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  for (int b = 0; b < WR_N_BACKENDS; b++) {
    const struct {
      const char *name;
      GTestDataFunc func;
    } tests[] = {
      { "read-filters-and-paging", test_read },
      { "permissions", test_permissions },
      { "bad-parameters", test_bad_params },
      { "export-verifies-offline", test_export },
      { "fails-closed", test_fails_closed },
      { "timer-signs-checkpoints", test_timer_checkpoint },
    };
    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/integration/audit-api/%s/%s",
          wr_backend_names[b], tests[t].name);
      g_test_add_data_func (path, GINT_TO_POINTER (b), tests[t].func);
    }
  }

  ret = g_test_run ();
  for (int b = 0; b < WR_N_BACKENDS; b++)
    backend_free (&backends[b]);
  wr_api_cleanup ();
  return ret;
}
