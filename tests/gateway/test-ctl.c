/* Tests for webremotectl (gateway/ctl*.c): the built binary is run against
 * a store, SQLite in a temporary state directory and PostgreSQL in a
 * throwaway cluster (tests/lib/pg-server.h), and the store is checked
 * through its API. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "common/keyring.h"
#include "gateway/auth-store.h"
#include "gateway/db.h"
#include "gateway/store-audit.h"
#include "gateway/store.h"
#include "tests/lib/store-backend.h"

/* Per-test watchdog: SIGALRM's default action ends the program, which
 * fails the test (and the pg-server guard stops the cluster). Argon2id
 * makes every password command take a fraction of a second. */
#define TEST_TIMEOUT_S 120

typedef struct {
  char *dir;          /* temp dir: config file, SQLite state */
  char *state_dir;
  char *location;     /* SQLite path or PostgreSQL URL */
  char *config;       /* a gateway.conf pointing at the store */
  WrStore *store;     /* the test's own connection */
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

static char *
ctl_path (void)
{
  const char *root = g_getenv ("WR_BUILD_ROOT");

  g_assert_nonnull (root);
  return g_build_filename (root, "gateway", "webremotectl", NULL);
}

/* Runs webremotectl with @args (NULL-terminated, without the program),
 * @input on its standard input: a file, never a terminal, and no pipe to
 * break when a refused command exits without reading it. */
static void
run_argv (const char *input, const char *const *args, CtlResult *r)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *in_path = NULL;
  int fd;

  g_ptr_array_add (argv, ctl_path ());
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  fd = g_file_open_tmp ("wr-ctl-input-XXXXXX", &in_path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (in_path, input ? input : "", -1, &error);
  g_assert_no_error (error);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
      | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_stdin_file_path (launcher, in_path);
  proc = g_subprocess_launcher_spawnv (launcher,
      (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error);
  g_unlink (in_path);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
  r->out = g_strndup (g_bytes_get_size (out) ? g_bytes_get_data (out, NULL)
      : "", g_bytes_get_size (out));
  r->err = g_strndup (g_bytes_get_size (err) ? g_bytes_get_data (err, NULL)
      : "", g_bytes_get_size (err));
  if (g_test_verbose ())
    g_printerr ("webremotectl %s %s -> %d\n  out: %s\n  err: %s\n", args[0],
        args[1] ? args[1] : "", r->status, r->out, r->err);
}

/* Runs `webremotectl --config F.config ARGS...`. */
static void
ctl (Fixture *f, const char *input, CtlResult *r, ...)
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
  ctl_result_clear (r);
  run_argv (input, (const char *const *) args->pdata, r);
}

/* Runs a command that must succeed. */
#define ctl_ok(f, input, r, ...) G_STMT_START { \
    ctl ((f), (input), (r), __VA_ARGS__, NULL); \
    if ((r)->status != 0) \
      g_error ("webremotectl failed (%d): %s", (r)->status, (r)->err); \
  } G_STMT_END

static void
setup (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = NULL;

  alarm (TEST_TIMEOUT_S);
  f->dir = g_dir_make_tmp ("wr-ctl-XXXXXX", &error);
  g_assert_no_error (error);
  f->state_dir = g_build_filename (f->dir, "state", NULL);
  g_assert_cmpint (g_mkdir (f->state_dir, 0700), ==, 0);
  f->location = wr_test_backend_location (backend, f->state_dir,
      "webremote.db");
  if (backend->pg) {
    /* The state directory must not matter: the store is [store] url. */
    conf = g_strdup_printf ("[gateway]\nstate-dir=%s\n[store]\nurl=%s\n",
        f->state_dir, f->location);
  } else {
    conf = g_strdup_printf ("[gateway]\nstate-dir=%s\n", f->state_dir);
  }
  f->config = g_build_filename (f->dir, "gateway.conf", NULL);
  g_file_set_contents (f->config, conf, -1, &error);
  g_assert_no_error (error);
  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->store, wr_store_close);
  wr_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->state_dir);
  g_free (f->location);
  g_free (f->config);
  alarm (0);
}

/* Everything a command could change, as text, to check that a refused
 * command changed nothing. */
static char *
snapshot (WrStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = wr_store_user_list (store, &error);
  g_autoptr (GPtrArray) roles = NULL;
  g_autoptr (GPtrArray) groups = NULL;
  g_autoptr (GPtrArray) agents = NULL;
  g_autoptr (GPtrArray) grants = NULL;
  GString *s = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < users->len; i++) {
    const WrUser *u = users->pdata[i];

    g_string_append_printf (s, "user %s|%s|%s|%d|%d|%d|%" G_GINT64_FORMAT
        "\n", u->name, u->display_name, u->password_hash, u->disabled,
        u->totp_enabled, u->failed_logins, u->locked_until);
  }
  roles = wr_store_role_list (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < roles->len; i++) {
    const WrRole *r = roles->pdata[i];

    g_string_append_printf (s, "role %s|%u\n", r->name, r->permissions);
  }
  groups = wr_store_group_list (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < groups->len; i++) {
    const WrAgentGroup *g = groups->pdata[i];

    g_string_append_printf (s, "group %s|%d|%s|%" G_GINT64_FORMAT "\n",
        g->name, g->require_reason, g->recording, g->retention_days);
  }
  agents = wr_store_agent_list (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < agents->len; i++) {
    const WrStoredAgent *a = agents->pdata[i];

    g_string_append_printf (s, "agent %s|%s\n", a->id, a->group_name);
  }
  grants = wr_store_grant_list (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < grants->len; i++) {
    const WrStoredGrant *g = grants->pdata[i];

    g_string_append_printf (s, "grant %" G_GINT64_FORMAT "|%s|%s|%s|%s\n",
        g->id, g->subject_kind, g->subject, g->role_name,
        g->group_name ? g->group_name : "*");
  }
  return g_string_free (s, FALSE);
}

static WrUser *
get_user (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  WrUser *user = wr_store_user_get_by_name (f->store, name, &error);

  g_assert_no_error (error);
  return user;
}

static JsonObject *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (
              parser)));
}

/* The element of `{"KEY": [...]}` whose @field is @value, or %NULL. */
static JsonObject *
find_in_list (JsonObject *root, const char *key, const char *field,
    const char *value)
{
  JsonArray *list = json_object_get_array_member (root, key);

  g_assert_nonnull (list);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *o = json_array_get_object_element (list, i);

    if (g_strcmp0 (json_object_get_string_member (o, field), value) == 0)
      return o;
  }
  return NULL;
}

/* Signs in the way the gateway does (WrAuthStore over the same store):
 * whether @name gets tokens with @password. */
static gboolean
can_sign_in (Fixture *f, const char *name, const char *password)
{
  g_autoptr (WrKeyring) keyring = wr_keyring_new_from_data (
      "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", NULL);
  g_autoptr (WrAuthStore) auth = NULL;
  g_autoptr (WrLogin) login = NULL;
  g_autoptr (GError) error = NULL;
  WrAuthPolicy policy;
  WrLoginRequest request = { 0 };

  g_assert_nonnull (keyring);
  wr_auth_policy_init_defaults (&policy);
  auth = wr_auth_store_new (f->store, keyring, &policy);
  request.username = name;
  request.password = password;
  request.client_address = "127.0.0.1";
  login = wr_auth_login (WR_AUTH (auth), &request, &error);
  if (!login)
    return FALSE;
  g_assert_cmpstr (login->principal->name, ==, name);
  return TRUE;
}

/* ------------------------------------------------------------------ */

static void
test_users (Fixture *f, gconstpointer data)
{
  g_auto (CtlResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) alice = NULL;
  g_autoptr (JsonObject) root = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  JsonObject *o;
  guint remaining = 99;
  const char *codes[] = { "code-hash-1", "code-hash-2", NULL };

  /* add, with a password on stdin; the account can sign in with it */
  ctl_ok (f, "correct horse battery\n", &r, "user", "add", "alice",
      "--display-name", "Alice Ö'Neill", "--password-stdin");
  g_assert_nonnull (strstr (r.out, "created the user alice"));
  alice = get_user (f, "alice");
  g_assert_nonnull (alice);
  g_assert_cmpstr (alice->display_name, ==, "Alice Ö'Neill");
  g_assert_false (alice->disabled);
  g_assert_true (g_str_has_prefix (alice->password_hash, "$argon2id$"));
  g_assert_true (wr_auth_verify_password (alice->password_hash,
          "correct horse battery"));
  g_assert_false (wr_auth_verify_password (alice->password_hash,
          "correct horse battery\n"));
  g_assert_false (wr_auth_verify_password (alice->password_hash, "wrong"));
  g_clear_pointer (&alice, wr_user_free);
  g_assert_true (can_sign_in (f, "alice", "correct horse battery"));

  /* A CRLF line works the same. */
  ctl_ok (f, "another password\r\nignored second line\n", &r, "user", "add",
      "bob", "--password-stdin");
  alice = get_user (f, "bob");
  g_assert_true (wr_auth_verify_password (alice->password_hash,
          "another password"));
  g_clear_pointer (&alice, wr_user_free);

  /* list: a table and JSON, never a hash or a password */
  ctl_ok (f, NULL, &r, "user", "list");
  g_assert_true (g_str_has_prefix (r.out, "NAME"));
  g_assert_nonnull (strstr (r.out, "DISPLAY NAME"));
  g_assert_nonnull (strstr (r.out, "LOCKED"));
  g_assert_nonnull (strstr (r.out, "alice"));
  g_assert_nonnull (strstr (r.out, "Alice Ö'Neill"));
  g_assert_null (strstr (r.out, "argon2"));
  ctl_ok (f, NULL, &r, "user", "list", "--json");
  g_assert_null (strstr (r.out, "argon2"));
  g_assert_null (strstr (r.out, "correct horse"));
  root = parse_json (r.out);
  o = find_in_list (root, "users", "name", "alice");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "display_name"), ==,
      "Alice Ö'Neill");
  g_assert_false (json_object_get_boolean_member (o, "disabled"));
  g_assert_false (json_object_get_boolean_member (o, "totp_enabled"));
  g_assert_false (json_object_get_boolean_member (o, "sso"));
  g_assert_false (json_object_get_boolean_member (o, "locked"));
  g_clear_pointer (&root, json_object_unref);

  /* adding a taken name fails and changes nothing */
  before = snapshot (f->store);
  ctl (f, "some other password\n", &r, "user", "add", "alice",
      "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "a user named 'alice' exists already"));
  after = snapshot (f->store);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&before, g_free);
  g_clear_pointer (&after, g_free);

  /* passwd: the new password works, the old one no longer */
  ctl_ok (f, "a brand new secret\n", &r, "user", "passwd", "alice",
      "--password-stdin");
  alice = get_user (f, "alice");
  g_assert_true (wr_auth_verify_password (alice->password_hash,
          "a brand new secret"));
  g_assert_false (wr_auth_verify_password (alice->password_hash,
          "correct horse battery"));
  g_clear_pointer (&alice, wr_user_free);
  g_assert_true (can_sign_in (f, "alice", "a brand new secret"));

  /* disable, enable */
  ctl_ok (f, NULL, &r, "user", "disable", "alice");
  alice = get_user (f, "alice");
  g_assert_true (alice->disabled);
  g_clear_pointer (&alice, wr_user_free);
  g_assert_false (can_sign_in (f, "alice", "a brand new secret"));
  ctl_ok (f, NULL, &r, "user", "list", "--json");
  root = parse_json (r.out);
  g_assert_true (json_object_get_boolean_member (find_in_list (root, "users",
              "name", "alice"), "disabled"));
  g_clear_pointer (&root, json_object_unref);
  ctl_ok (f, NULL, &r, "user", "enable", "alice");
  alice = get_user (f, "alice");
  g_assert_false (alice->disabled);
  g_clear_pointer (&alice, wr_user_free);
  g_assert_true (can_sign_in (f, "alice", "a brand new secret"));

  /* unlock: lock the account the way failed sign-ins do, then lift it */
  alice = get_user (f, "alice");
  wr_store_user_record_failure (f->store, alice->id, g_get_real_time ()
      / G_USEC_PER_SEC, 1, 3600, NULL, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&alice, wr_user_free);
  ctl_ok (f, NULL, &r, "user", "list");
  g_assert_nonnull (strstr (r.out, "until "));
  g_assert_false (can_sign_in (f, "alice", "a brand new secret"));
  ctl_ok (f, NULL, &r, "user", "unlock", "alice");
  alice = get_user (f, "alice");
  g_assert_cmpint (alice->locked_until, ==, 0);
  g_assert_cmpint (alice->failed_logins, ==, 0);
  g_assert_true (can_sign_in (f, "alice", "a brand new secret"));

  /* reset-totp: the secret and the recovery codes go */
  wr_store_user_set_totp (f->store, alice->id, "SEALEDSECRET", TRUE, &error);
  g_assert_no_error (error);
  wr_store_recovery_codes_replace (f->store, alice->id, codes, &error);
  g_assert_no_error (error);
  g_clear_pointer (&alice, wr_user_free);
  ctl_ok (f, NULL, &r, "user", "list", "--json");
  root = parse_json (r.out);
  g_assert_true (json_object_get_boolean_member (find_in_list (root, "users",
              "name", "alice"), "totp_enabled"));
  g_clear_pointer (&root, json_object_unref);
  ctl_ok (f, NULL, &r, "user", "reset-totp", "alice");
  alice = get_user (f, "alice");
  g_assert_false (alice->totp_enabled);
  g_assert_null (alice->totp_secret);
  wr_store_recovery_codes_remaining (f->store, alice->id, &remaining, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 0);
  g_clear_pointer (&alice, wr_user_free);

  /* delete; deleting again is a failed operation */
  ctl_ok (f, NULL, &r, "user", "delete", "alice");
  alice = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_null (alice);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ctl (f, NULL, &r, "user", "delete", "alice", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no user named 'alice'"));
  ctl_ok (f, NULL, &r, "user", "list");
  g_assert_null (strstr (r.out, "alice"));
  g_assert_nonnull (strstr (r.out, "bob"));
}

static void
test_password_policy (Fixture *f, gconstpointer data)
{
  g_auto (CtlResult) r = { 0 };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *too_long = NULL;

  ctl_ok (f, "good password\n", &r, "user", "add", "carol",
      "--password-stdin");
  before = snapshot (f->store);

  /* seven characters: refused, no account */
  ctl (f, "1234567\n", &r, "user", "add", "dave", "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "at least 8 characters"));
  g_assert_null (strstr (r.err, "1234567"));

  /* nothing on stdin */
  ctl (f, "", &r, "user", "add", "dave", "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no password on standard input"));

  /* an empty line */
  ctl (f, "\n", &r, "user", "add", "dave", "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "at least 8 characters"));

  /* more than 1024 bytes */
  too_long = g_strnfill (2000, 'x');
  ctl (f, too_long, &r, "user", "add", "dave", "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "at most 1024 bytes"));

  /* not UTF-8 */
  ctl (f, "abcdefgh\xff\xfe\n", &r, "user", "add", "dave", "--password-stdin",
      NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "UTF-8"));

  /* no terminal and no --password-stdin: a usage error, no prompt read */
  ctl (f, "good password\n", &r, "user", "add", "dave", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--password-stdin"));

  /* passwd with a short one keeps the old password */
  ctl (f, "short\n", &r, "user", "passwd", "carol", "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "at least 8 characters"));

  after = snapshot (f->store);
  g_assert_cmpstr (before, ==, after);
}

static void
test_access (Fixture *f, gconstpointer data)
{
  g_auto (CtlResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) root = NULL;
  g_autoptr (WrRole) role = NULL;
  g_autoptr (WrAgentGroup) group = NULL;
  g_autoptr (WrStoredAgent) agent = NULL;
  g_autoptr (WrUser) erin = NULL;
  g_autofree char *grant_id = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const char *oidc_groups[] = { "support-team", NULL };
  WrPermission perms = WR_PERM_NONE;
  JsonObject *o;
  JsonArray *a;
  gint64 id = 0;

  ctl_ok (f, "erin's password\n", &r, "user", "add", "erin",
      "--password-stdin");
  erin = get_user (f, "erin");

  /* roles */
  ctl_ok (f, NULL, &r, "role", "list");
  g_assert_nonnull (strstr (r.out, "operator"));
  ctl_ok (f, NULL, &r, "role", "add", "helpdesk", "view", "control,clipboard");
  role = wr_store_role_get_by_name (f->store, "helpdesk", &error);
  g_assert_no_error (error);
  g_assert_false (role->builtin);
  g_assert_cmpuint (role->permissions, ==,
      WR_PERM_VIEW | WR_PERM_CONTROL | WR_PERM_CLIPBOARD);
  g_clear_pointer (&role, wr_role_free);
  ctl_ok (f, NULL, &r, "role", "set", "helpdesk", "view", "control");
  role = wr_store_role_get_by_name (f->store, "helpdesk", &error);
  g_assert_cmpuint (role->permissions, ==, WR_PERM_VIEW | WR_PERM_CONTROL);
  g_clear_pointer (&role, wr_role_free);
  ctl_ok (f, NULL, &r, "role", "list", "--json");
  root = parse_json (r.out);
  o = find_in_list (root, "roles", "name", "helpdesk");
  g_assert_nonnull (o);
  g_assert_false (json_object_get_boolean_member (o, "builtin"));
  a = json_object_get_array_member (o, "permissions");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "view");
  g_assert_cmpstr (json_array_get_string_element (a, 1), ==, "control");
  g_assert_true (json_object_get_boolean_member (find_in_list (root, "roles",
              "name", "admin"), "builtin"));
  g_clear_pointer (&root, json_object_unref);

  /* built-in roles stay as they are */
  before = snapshot (f->store);
  ctl (f, NULL, &r, "role", "set", "viewer", "view", "control", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "built in"));
  ctl (f, NULL, &r, "role", "delete", "admin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  after = snapshot (f->store);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&before, g_free);
  g_clear_pointer (&after, g_free);

  /* groups and agents */
  ctl_ok (f, NULL, &r, "group", "add", "lab", "--require-reason");
  group = wr_store_group_get_by_name (f->store, "lab", &error);
  g_assert_no_error (error);
  g_assert_true (group->require_reason);
  g_clear_pointer (&group, wr_agent_group_free);
  ctl_ok (f, NULL, &r, "group", "set", "lab", "--no-require-reason");
  group = wr_store_group_get_by_name (f->store, "lab", &error);
  g_assert_false (group->require_reason);
  g_clear_pointer (&group, wr_agent_group_free);
  ctl_ok (f, NULL, &r, "group", "set", "lab", "--require-reason");
  group = wr_store_group_get_by_name (f->store, "lab", &error);
  g_assert_true (group->require_reason);
  g_clear_pointer (&group, wr_agent_group_free);

  wr_store_agent_upsert (f->store, "pc-1", "Front desk PC",
      g_get_real_time () / G_USEC_PER_SEC, &error);
  g_assert_no_error (error);
  ctl_ok (f, NULL, &r, "agent", "list");
  g_assert_nonnull (strstr (r.out, "pc-1"));
  g_assert_nonnull (strstr (r.out, "Front desk PC"));
  ctl_ok (f, NULL, &r, "agent", "set-group", "pc-1", "lab");
  agent = wr_store_agent_get (f->store, "pc-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agent->group_name, ==, "lab");
  g_assert_true (agent->require_reason);
  g_clear_pointer (&agent, wr_stored_agent_free);
  ctl_ok (f, NULL, &r, "agent", "list", "--json");
  root = parse_json (r.out);
  g_assert_cmpstr (json_object_get_string_member (find_in_list (root,
              "agents", "id", "pc-1"), "group"), ==, "lab");
  g_clear_pointer (&root, json_object_unref);
  ctl_ok (f, NULL, &r, "group", "list", "--json");
  root = parse_json (r.out);
  o = find_in_list (root, "groups", "name", "lab");
  g_assert_true (json_object_get_boolean_member (o, "require_reason"));
  g_assert_cmpint (json_object_get_int_member (o, "agents"), ==, 1);
  g_clear_pointer (&root, json_object_unref);

  /* grants decide the effective permissions */
  wr_store_permissions_for (f->store, erin->id, NULL, "lab", &perms, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (perms, ==, WR_PERM_NONE);
  ctl_ok (f, NULL, &r, "grant", "add", "--user", "erin", "--role",
      "helpdesk", "--group", "lab");
  g_assert_true (g_str_has_prefix (r.out, "created grant "));
  grant_id = g_strndup (r.out + strlen ("created grant "),
      strcspn (r.out + strlen ("created grant "), ":"));
  g_assert_true (g_ascii_string_to_signed (grant_id, 10, 1, G_MAXINT64, &id,
          NULL));
  wr_store_permissions_for (f->store, erin->id, NULL, "lab", &perms, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (perms, ==, WR_PERM_VIEW | WR_PERM_CONTROL);
  wr_store_permissions_for (f->store, erin->id, NULL, "default", &perms,
      &error);
  g_assert_cmpuint (perms, ==, WR_PERM_NONE);

  ctl_ok (f, NULL, &r, "grant", "add", "--oidc-group", "support-team",
      "--role", "viewer");
  wr_store_permissions_for (f->store, erin->id, oidc_groups, "default",
      &perms, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (perms, ==, WR_PERM_VIEW);

  ctl_ok (f, NULL, &r, "grant", "list", "--json");
  root = parse_json (r.out);
  o = find_in_list (root, "grants", "subject", "erin");
  g_assert_nonnull (o);
  g_assert_cmpint (json_object_get_int_member (o, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (o, "subject_kind"), ==,
      "user");
  g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "helpdesk");
  g_assert_cmpstr (json_object_get_string_member (o, "group"), ==, "lab");
  o = find_in_list (root, "grants", "subject", "support-team");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "subject_kind"), ==,
      "oidc-group");
  g_assert_true (json_object_get_null_member (o, "group"));
  g_clear_pointer (&root, json_object_unref);
  ctl_ok (f, NULL, &r, "grant", "list");
  g_assert_nonnull (strstr (r.out, "user:erin"));
  g_assert_nonnull (strstr (r.out, "(every group)"));

  /* in use: a role with grants, a group with agents; a second identical
   * grant */
  before = snapshot (f->store);
  ctl (f, NULL, &r, "role", "delete", "helpdesk", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "helpdesk"));
  ctl (f, NULL, &r, "group", "delete", "lab", NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl (f, NULL, &r, "grant", "add", "--user", "erin", "--role", "helpdesk",
      "--group", "lab", NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl (f, NULL, &r, "grant", "add", "--user", "nobody", "--role", "viewer",
      NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no user named 'nobody'"));
  ctl (f, NULL, &r, "grant", "add", "--user", "erin", "--role", "ghost",
      NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no role named 'ghost'"));
  ctl (f, NULL, &r, "agent", "set-group", "pc-1", "ghost", NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl (f, NULL, &r, "group", "delete", "default", NULL);
  g_assert_cmpint (r.status, ==, 1);
  after = snapshot (f->store);
  g_assert_cmpstr (before, ==, after);

  /* and undone again */
  ctl_ok (f, NULL, &r, "grant", "delete", grant_id);
  wr_store_permissions_for (f->store, erin->id, NULL, "lab", &perms, &error);
  g_assert_cmpuint (perms, ==, WR_PERM_NONE);
  ctl (f, NULL, &r, "grant", "delete", grant_id, NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl_ok (f, NULL, &r, "role", "delete", "helpdesk");
  role = wr_store_role_get_by_name (f->store, "helpdesk", &error);
  g_assert_null (role);
  g_clear_error (&error);
  ctl_ok (f, NULL, &r, "agent", "set-group", "pc-1", "default");
  ctl_ok (f, NULL, &r, "group", "delete", "lab");
  group = wr_store_group_get_by_name (f->store, "lab", &error);
  g_assert_null (group);
  g_clear_error (&error);
}

typedef struct {
  int status;
  const char *message;    /* a part of standard error */
  const char *input;
  const char *args[8];
} BadCase;

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  static const BadCase cases[] = {
    { 2, "unknown command 'frobnicate'", NULL, { "frobnicate" } },
    { 2, "missing command", NULL, { NULL } },
    { 2, "user: missing command (one of: add,", NULL, { "user" } },
    { 2, "user: unknown command 'rename'", NULL, { "user", "rename", "x" } },
    { 2, "user add: missing argument (usage: webremotectl user add NAME",
      "password1\n", { "user", "add", "--password-stdin" } },
    { 2, "user add: unexpected argument 'y'", "password1\n",
      { "user", "add", "x", "y", "--password-stdin" } },
    { 2, "user add: Unknown option --admin", "password1\n",
      { "user", "add", "x", "--admin", "--password-stdin" } },
    { 2, "user add: the user name is not valid UTF-8", "password1\n",
      { "user", "add", "bad\xff\xfename", "--password-stdin" } },
    { 2, "user add: the user name must not contain quotes or backslashes",
      "password1\n", { "user", "add", "o'brien", "--password-stdin" } },
    { 2, "user add: the user name must not contain quotes or backslashes",
      "password1\n",
      { "user", "add", "x'; DROP TABLE users; --", "--password-stdin" } },
    { 2, "user add: the user name must not contain quotes or backslashes",
      "password1\n", { "user", "add", "say \"hi\"", "--password-stdin" } },
    { 2, "user add: the user name must not contain control characters",
      "password1\n", { "user", "add", "tab\there", "--password-stdin" } },
    { 2, "user add: the user name must not be empty", "password1\n",
      { "user", "add", "", "--password-stdin" } },
    { 2, "user add: the user name must not begin or end with white space",
      "password1\n", { "user", "add", "frank ", "--password-stdin" } },
    { 2, "user add: the user name is longer than 128 bytes", "password1\n",
      { "user", "add", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaa", "--password-stdin" } },
    { 2, "the display name must be UTF-8", "password1\n",
      { "user", "add", "frank", "--display-name", "\xc3\x28",
        "--password-stdin" } },
    { 1, "no user named 'ghost'", "password1\n",
      { "user", "passwd", "ghost", "--password-stdin" } },
    { 1, "no user named 'ghost'", NULL, { "user", "disable", "ghost" } },
    { 2, "user delete: the user name is not valid UTF-8", NULL,
      { "user", "delete", "\xff" } },
    { 2, "user list: unexpected argument 'all'", NULL,
      { "user", "list", "all" } },
    { 2, "role add: unknown permission 'fly' (known: view control", NULL,
      { "role", "add", "pilots", "view", "fly" } },
    { 2, "role add: unknown permission 'VIEW'", NULL,
      { "role", "add", "pilots", "VIEW" } },
    { 2, "role add: missing argument (usage: webremotectl role add NAME "
      "PERM...)", NULL, { "role", "add", "pilots" } },
    { 2, "role add: name at least one permission", NULL,
      { "role", "add", "pilots", ",", "" } },
    { 2, "role add: the role name must not contain quotes", NULL,
      { "role", "add", "it's", "view" } },
    { 2, "role set: unknown permission 'superuser'", NULL,
      { "role", "set", "operator", "superuser" } },
    { 1, "no role named 'ghost'", NULL, { "role", "set", "ghost", "view" } },
    { 1, "no role named 'ghost'", NULL, { "role", "delete", "ghost" } },
    { 2, "group add: the group name must not contain quotes", NULL,
      { "group", "add", "back\\slash" } },
    { 2, "group add: the group name is not valid UTF-8", NULL,
      { "group", "add", "\xed\xa0\x80" } },
    { 2, "group set: give --require-reason, --no-require-reason, "
      "--recording or --retention-days", NULL, { "group", "set", "default" } },
    { 2, "group set: give only one of --require-reason and "
      "--no-require-reason", NULL, { "group", "set", "default",
        "--require-reason", "--no-require-reason" } },
    { 2, "group set: --recording must be off, best-effort or strict", NULL,
      { "group", "set", "default", "--recording", "always" } },
    { 2, "group add: --retention-days must be a number of days", NULL,
      { "group", "add", "g2", "--retention-days", "-5" } },
    { 1, "no agent group named 'ghost'", NULL,
      { "group", "set", "ghost", "--require-reason" } },
    { 1, "no agent with id 'ghost'", NULL,
      { "agent", "set-group", "ghost", "default" } },
    { 2, "agent set-group: missing argument", NULL,
      { "agent", "set-group", "ghost" } },
    { 2, "grant add: give one of --user NAME and --oidc-group GROUP", NULL,
      { "grant", "add", "--role", "viewer" } },
    { 2, "grant add: give one of --user NAME and --oidc-group GROUP", NULL,
      { "grant", "add", "--user", "gina", "--oidc-group", "x", "--role",
        "viewer" } },
    { 2, "grant add: --role ROLE is required", NULL,
      { "grant", "add", "--user", "gina" } },
    { 2, "grant add: Missing argument for --role", NULL,
      { "grant", "add", "--user", "gina", "--role" } },
    { 2, "grant add: the OIDC group must be UTF-8", NULL,
      { "grant", "add", "--oidc-group", "\xff", "--role", "viewer" } },
    { 1, "no agent group named 'ghost'", NULL,
      { "grant", "add", "--user", "gina", "--role", "viewer", "--group",
        "ghost" } },
    { 2, "grant delete: the grant id must be a positive number", NULL,
      { "grant", "delete", "1; DELETE FROM grants" } },
    { 2, "grant delete: the grant id must be a positive number", NULL,
      { "grant", "delete", "--", "-1" } },
    { 2, "grant delete: Unknown option -1", NULL,
      { "grant", "delete", "-1" } },
    { 1, "no grant with id 999999", NULL, { "grant", "delete", "999999" } },
  };
  g_auto (CtlResult) r = { 0 };
  g_autofree char *before = NULL;

  ctl_ok (f, "gina's password\n", &r, "user", "add", "gina",
      "--password-stdin");
  ctl_ok (f, NULL, &r, "grant", "add", "--user", "gina", "--role", "viewer");
  wr_store_agent_upsert (f->store, "pc-2", "pc-2", 1, NULL);
  before = snapshot (f->store);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const BadCase *c = &cases[i];
    g_autoptr (GPtrArray) args = g_ptr_array_new ();
    g_autofree char *after = NULL;

    g_ptr_array_add (args, (char *) "--config");
    g_ptr_array_add (args, f->config);
    for (guint k = 0; k < G_N_ELEMENTS (c->args) && c->args[k]; k++)
      g_ptr_array_add (args, (char *) c->args[k]);
    g_ptr_array_add (args, NULL);
    ctl_result_clear (&r);
    run_argv (c->input, (const char *const *) args->pdata, &r);
    g_strchomp (r.err);
    if (r.status != c->status || !strstr (r.err, c->message))
      g_error ("case %u (%s %s): exit %d, stderr \"%s\"; expected exit %d "
          "and \"%s\"", i, c->args[0] ? c->args[0] : "",
          c->args[0] && c->args[1] ? c->args[1] : "", r.status, r.err,
          c->status, c->message);
    /* One line, prefixed, and no secrets */
    g_assert_true (g_str_has_prefix (r.err, "webremotectl: "));
    g_assert_null (strchr (r.err, '\n'));
    g_assert_null (strstr (r.err, "password1"));
    g_assert_cmpstr (r.out, ==, "");
    after = snapshot (f->store);
    g_assert_cmpstr (before, ==, after);
  }
}

/* Where the store is: config, --state-dir, --store; a missing SQLite store
 * is not quietly created by commands that only read or change. */
static void
test_store_location (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_auto (CtlResult) r = { 0 };
  g_autofree char *empty_conf = g_build_filename (f->dir, "empty.conf",
      NULL);
  g_autofree char *bad_conf = g_build_filename (f->dir, "bad.conf", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "nowhere", NULL);
  g_autofree char *fresh = g_build_filename (f->dir, "fresh", NULL);
  g_autofree char *fresh_db = g_build_filename (fresh, "webremote.db", NULL);
  g_autoptr (GError) error = NULL;

  ctl_ok (f, "henry's password\n", &r, "user", "add", "henry",
      "--password-stdin");
  g_file_set_contents (empty_conf, "# nothing\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (bad_conf, "[gateway]\nstate-dir=/tmp\ncolour=blue\n",
      -1, &error);
  g_assert_no_error (error);

  /* --store and --state-dir instead of a configuration */
  if (backend->pg) {
    const char *args[] = { "--config", empty_conf, "--store", f->location,
      "user", "list", NULL };

    run_argv (NULL, args, &r);
  } else {
    const char *args[] = { "--config", empty_conf, "--state-dir",
      f->state_dir, "user", "list", NULL };

    run_argv (NULL, args, &r);
  }
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "henry"));
  ctl_result_clear (&r);

  /* a state directory without a store */
  {
    const char *args[] = { "--config", empty_conf, "--state-dir", missing,
      "user", "list", NULL };

    run_argv (NULL, args, &r);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "no store at"));
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
    ctl_result_clear (&r);
  }
  {
    const char *args[] = { "--config", empty_conf, "--state-dir", missing,
      "user", "disable", "henry", NULL };

    run_argv (NULL, args, &r);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
    ctl_result_clear (&r);
  }
  /* ... but `user add` bootstraps one (before the gateway ever ran) */
  {
    const char *args[] = { "--config", empty_conf, "--state-dir", fresh,
      "user", "add", "root", "--password-stdin", NULL };
    g_autoptr (WrStore) store = NULL;
    g_autoptr (WrUser) user = NULL;

    run_argv ("first password\n", args, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.err, "created a new store"));
    store = wr_store_open (fresh_db, &error);
    g_assert_no_error (error);
    user = wr_store_user_get_by_name (store, "root", &error);
    g_assert_no_error (error);
    g_assert_true (wr_auth_verify_password (user->password_hash,
            "first password"));
    ctl_result_clear (&r);
  }

  /* configuration problems are exit 2 */
  {
    const char *args[] = { "--config", bad_conf, "user", "list", NULL };

    run_argv (NULL, args, &r);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "invalid configuration"));
    g_assert_nonnull (strstr (r.err, "colour"));
    ctl_result_clear (&r);
  }
  {
    const char *args[] = { "--config", missing, "user", "list", NULL };

    run_argv (NULL, args, &r);
    g_assert_cmpint (r.status, ==, 2);
    ctl_result_clear (&r);
  }
  {
    const char *args[] = { "--bogus", "user", "list", NULL };

    run_argv (NULL, args, &r);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "Unknown option --bogus"));
    ctl_result_clear (&r);
  }
  /* help is no error */
  {
    const char *args[] = { "--help", NULL };

    run_argv (NULL, args, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "grant add"));
    ctl_result_clear (&r);
  }
}

/* --recording and --retention-days on group add/create/set; bad values
 * are usage errors that change nothing. */
static void
test_group_policy (Fixture *f, gconstpointer data)
{
  g_auto (CtlResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = NULL;
  g_autoptr (JsonObject) root = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  JsonObject *o;
  const char *bad[][2] = {
    { "--recording", "on" }, { "--recording", "" },
    { "--recording", "Strict" }, { "--retention-days", "-1" },
    { "--retention-days", "ten" }, { "--retention-days", "36501" },
    { "--retention-days", "" },
  };

  ctl_ok (f, NULL, &r, "group", "add", "vault", "--recording", "strict",
      "--retention-days", "30");
  g_assert_nonnull (strstr (r.out, "strict"));
  group = wr_store_group_get_by_name (f->store, "vault", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (group->recording, ==, "strict");
  g_assert_cmpint (group->retention_days, ==, 30);
  g_clear_pointer (&group, wr_agent_group_free);

  ctl_ok (f, NULL, &r, "group", "create", "lab");
  group = wr_store_group_get_by_name (f->store, "lab", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (group->recording, ==, "off");
  g_assert_cmpint (group->retention_days, ==, 0);
  g_clear_pointer (&group, wr_agent_group_free);

  ctl_ok (f, NULL, &r, "group", "set", "vault", "--recording",
      "best-effort");
  ctl_ok (f, NULL, &r, "group", "set", "vault", "--retention-days", "0");
  group = wr_store_group_get_by_name (f->store, "vault", &error);
  g_assert_cmpstr (group->recording, ==, "best-effort");
  g_assert_cmpint (group->retention_days, ==, 0);
  g_assert_false (group->require_reason);
  g_clear_pointer (&group, wr_agent_group_free);
  ctl_ok (f, NULL, &r, "group", "set", "vault", "--require-reason",
      "--retention-days", "7");
  group = wr_store_group_get_by_name (f->store, "vault", &error);
  g_assert_cmpstr (group->recording, ==, "best-effort");
  g_assert_cmpint (group->retention_days, ==, 7);
  g_assert_true (group->require_reason);
  g_clear_pointer (&group, wr_agent_group_free);

  ctl_ok (f, NULL, &r, "group", "list", "--json");
  root = parse_json (r.out);
  o = find_in_list (root, "groups", "name", "vault");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "recording"), ==,
      "best-effort");
  g_assert_cmpint (json_object_get_int_member (o, "retention_days"), ==, 7);
  ctl_ok (f, NULL, &r, "group", "list");
  g_assert_nonnull (strstr (r.out, "RECORDING"));
  g_assert_nonnull (strstr (r.out, "7 days"));

  /* bad values: usage errors, nothing changes */
  before = snapshot (f->store);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    ctl (f, NULL, &r, "group", "set", "vault", bad[i][0], bad[i][1], NULL);
    g_assert_cmpint (r.status, ==, 2);
    ctl (f, NULL, &r, "group", "add", "new", bad[i][0], bad[i][1], NULL);
    g_assert_cmpint (r.status, ==, 2);
  }
  ctl (f, NULL, &r, "group", "set", "vault", NULL);
  g_assert_cmpint (r.status, ==, 2);
  ctl (f, NULL, &r, "group", "set", "nope", "--recording", "strict", NULL);
  g_assert_cmpint (r.status, ==, 1);
  after = snapshot (f->store);
  g_assert_cmpstr (before, ==, after);
}

/* The audit rows of @type, newest first. */
static GPtrArray *
audit_rows (Fixture *f, const char *type)
{
  g_autoptr (GError) error = NULL;
  WrAuditFilter filter = { .type = type, .limit = 100 };
  GPtrArray *rows = wr_store_audit_query (f->store, &filter, &error);

  g_assert_no_error (error);
  return rows;
}

/* Asserts the newest row of @type: ctl's actor and @detail_part in its
 * detail. */
static void
assert_audited (Fixture *f, const char *type, const char *detail_part)
{
  g_autoptr (GPtrArray) rows = audit_rows (f, type);
  g_autofree char *actor = g_strconcat ("ctl:", g_get_user_name (), NULL);
  const WrAuditRow *row;

  if (rows->len == 0)
    g_error ("no audit row of type %s", type);
  row = rows->pdata[0];
  g_assert_cmpstr (row->type, ==, type);
  g_assert_cmpstr (row->outcome, ==, "ok");
  g_assert_cmpstr (row->actor, ==, actor);
  if (!strstr (row->detail, detail_part))
    g_error ("audit row %s: detail %s lacks %s", type, row->detail,
        detail_part);
}

/* Every change webremotectl makes leaves its audit row, never with the
 * password or the enrollment token. */
static void
test_audit_rows (Fixture *f, gconstpointer data)
{
  g_auto (CtlResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autofree char *token = NULL;
  g_autofree char *grant_id = NULL;
  const char *password = "frank's secret pw";
  g_autofree char *input = g_strdup_printf ("%s\n", password);

  ctl_ok (f, input, &r, "user", "add", "frank", "--password-stdin");
  assert_audited (f, "user.create", "\"user\":\"frank\"");
  ctl_ok (f, "another secret pw\n", &r, "user", "passwd", "frank",
      "--password-stdin");
  assert_audited (f, "user.password", "\"user\":\"frank\"");
  ctl_ok (f, NULL, &r, "user", "disable", "frank");
  assert_audited (f, "user.update", "\"disabled\":true");
  ctl_ok (f, NULL, &r, "user", "enable", "frank");
  assert_audited (f, "user.update", "\"disabled\":false");
  ctl_ok (f, NULL, &r, "user", "reset-totp", "frank");
  assert_audited (f, "user.totp", "\"enabled\":false");
  ctl_ok (f, NULL, &r, "role", "add", "desk", "view");
  assert_audited (f, "role.create", "\"permissions\":\"view\"");
  ctl_ok (f, NULL, &r, "role", "set", "desk", "view", "control");
  assert_audited (f, "role.update", "\"permissions\":\"view control\"");
  ctl_ok (f, NULL, &r, "group", "add", "vault", "--recording", "strict");
  assert_audited (f, "group.create", "\"recording\":\"strict\"");
  ctl_ok (f, NULL, &r, "group", "set", "vault", "--retention-days", "9");
  assert_audited (f, "group.update", "\"retention_days\":9");
  ctl_ok (f, NULL, &r, "grant", "add", "--user", "frank", "--role", "desk",
      "--group", "vault");
  assert_audited (f, "grant.create", "\"subject\":\"frank\"");
  {
    g_autoptr (GPtrArray) grants = wr_store_grant_list (f->store, &error);

    g_assert_no_error (error);
    grant_id = g_strdup_printf ("%" G_GINT64_FORMAT,
        ((WrStoredGrant *) grants->pdata[grants->len - 1])->id);
  }
  ctl_ok (f, NULL, &r, "grant", "delete", grant_id);
  assert_audited (f, "grant.delete", "\"role\":\"desk\"");
  g_assert_true (wr_store_agent_upsert (f->store, "pc-1", "PC 1", 100,
          &error));
  g_assert_no_error (error);
  ctl_ok (f, NULL, &r, "agent", "set-group", "pc-1", "vault");
  assert_audited (f, "agent.group", "\"group\":\"vault\"");
  ctl_ok (f, NULL, &r, "enroll", "create", "--group", "vault");
  token = g_strstrip (g_strdup (r.out));
  assert_audited (f, "enroll.token_create", "\"group\":\"vault\"");
  ctl_ok (f, NULL, &r, "role", "delete", "desk");
  assert_audited (f, "role.delete", "\"role\":\"desk\"");
  ctl_ok (f, NULL, &r, "user", "delete", "frank");
  assert_audited (f, "user.delete", "\"user\":\"frank\"");
  g_assert_true (wr_store_agent_set_group (f->store, "pc-1", "default",
          &error));
  ctl_ok (f, NULL, &r, "group", "delete", "vault");
  assert_audited (f, "group.delete", "\"group\":\"vault\"");

  /* no secret anywhere in the log */
  all = audit_rows (f, NULL);
  g_assert_cmpuint (all->len, >=, 16);
  g_assert_cmpuint (strlen (token), ==, 64);
  for (guint i = 0; i < all->len; i++) {
    const WrAuditRow *row = all->pdata[i];

    g_assert_null (strstr (row->detail, "secret pw"));
    g_assert_null (strstr (row->detail, token));
    g_assert_null (strstr (row->detail, "argon2"));
  }
}

/* Makes every audit row fail to insert (a real trigger), or removes it. */
static void
break_audit (Fixture *f, gboolean broken)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDb) db = NULL;
  const char *sql;

  g_clear_pointer (&f->store, wr_store_close);
  db = wr_db_open (f->location, &error);
  g_assert_no_error (error);
  if (g_str_equal (wr_db_get_backend_name (db), "postgresql"))
    sql = broken ? "CREATE FUNCTION wr_no_audit () RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'no audit'; END $$ LANGUAGE plpgsql; "
        "CREATE TRIGGER wr_no_audit BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION wr_no_audit ();"
        : "DROP TRIGGER wr_no_audit ON audit_events; "
        "DROP FUNCTION wr_no_audit ();";
  else
    sql = broken ? "CREATE TRIGGER wr_no_audit BEFORE INSERT ON "
        "audit_events BEGIN SELECT RAISE (ABORT, 'no audit'); END;"
        : "DROP TRIGGER wr_no_audit;";
  g_assert_true (wr_db_exec_script (db, sql, &error));
  g_assert_no_error (error);
  /* the test's own connection reads the new schema from scratch (two
   * SQLite connections of one process changing the schema confuse it) */
  g_clear_pointer (&f->store, wr_store_close);
  g_clear_pointer (&db, wr_db_close);
  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
}

/* Fail closed: when the audit row cannot be written, the change does not
 * happen and webremotectl says so with exit status 1. */
static void
test_audit_fail_closed (Fixture *f, gconstpointer data)
{
  g_auto (CtlResult) r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  ctl_ok (f, NULL, &r, "group", "add", "lab");
  break_audit (f, TRUE);
  before = snapshot (f->store);

  ctl (f, "gina's password\n", &r, "user", "add", "gina",
      "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "audit log"));
  user = wr_store_user_get_by_name (f->store, "gina", &error);
  g_assert_null (user);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  ctl (f, NULL, &r, "group", "add", "vault", NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl (f, NULL, &r, "group", "set", "lab", "--recording", "strict", NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl (f, NULL, &r, "role", "add", "desk", "view", NULL);
  g_assert_cmpint (r.status, ==, 1);
  ctl (f, NULL, &r, "enroll", "create", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_cmpstr (r.out, ==, "");
  after = snapshot (f->store);
  g_assert_cmpstr (before, ==, after);

  /* the log works again: so do the commands */
  break_audit (f, FALSE);
  ctl_ok (f, "gina's password\n", &r, "user", "add", "gina",
      "--password-stdin");
  user = get_user (f, "gina");
  g_assert_nonnull (user);
  assert_audited (f, "user.create", "\"user\":\"gina\"");
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
      { "users", test_users },
      { "password-policy", test_password_policy },
      { "roles-groups-agents-grants", test_access },
      { "bad-input-changes-nothing", test_bad_input },
      { "store-location", test_store_location },
      { "group-recording-policy", test_group_policy },
      { "changes-are-audited", test_audit_rows },
      { "audit-failure-changes-nothing", test_audit_fail_closed },
    };

    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/gateway/ctl/%s/%s",
          b->name, tests[t].name);

      g_test_add (path, Fixture, b, setup, tests[t].func, teardown);
    }
  }

  ret = g_test_run ();
  wr_test_backends_shutdown ();
  return ret;
}
