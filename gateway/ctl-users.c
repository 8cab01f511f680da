/* webremotectl user ...: local accounts. */
#include "config.h"

#include "gateway/ctl.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "gateway/auth-store.h"

/* One byte more than the policy allows, so an overlong password is
 * refused by wr_auth_check_password_policy() with its own message. */
#define PASSWORD_READ_MAX 1025

/* ------------------------------------------------------------------ */
/* Reading passwords */

static void
password_free (char *password)
{
  if (password) {
    explicit_bzero (password, strlen (password));
    g_free (password);
  }
}

typedef char WrCtlPassword;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrCtlPassword, password_free)

/* The terminal's settings while echo is off, restored if a signal ends us
 * mid-prompt (else the shell is left without echo). */
static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void
restore_echo_and_die (int sig)
{
  if (echo_off)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  signal (sig, SIG_DFL);
  raise (sig);
}

/* Reads one line from @in: the newline (and a CR before it) removed.
 * Returns %NULL at end of input before any byte, or with a NUL byte in
 * the line (*@bad set). */
static char *
read_line (FILE *in, gboolean *bad)
{
  char buf[PASSWORD_READ_MAX + 1];
  gsize len = 0;
  gboolean any = FALSE;
  int c;

  *bad = FALSE;
  while ((c = getc (in)) != EOF) {
    any = TRUE;
    if (c == '\n')
      break;
    if (c == '\0')
      *bad = TRUE;
    if (len < PASSWORD_READ_MAX)
      buf[len++] = (char) c;
  }
  if (len > 0 && buf[len - 1] == '\r')
    len--;
  buf[len] = '\0';
  if (!any || *bad) {
    explicit_bzero (buf, sizeof buf);
    return NULL;
  }
  {
    char *line = g_strndup (buf, len);

    explicit_bzero (buf, sizeof buf);
    return line;
  }
}

static char *
prompt_no_echo (const char *prompt, gboolean *bad)
{
  struct termios quiet;
  struct sigaction sa = { 0 }, old_int, old_term, old_hup;
  char *line;

  fputs (prompt, stderr);
  fflush (stderr);
  if (tcgetattr (STDIN_FILENO, &saved_termios) < 0) {
    *bad = FALSE;
    return NULL;
  }
  sa.sa_handler = restore_echo_and_die;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  sigaction (SIGHUP, &sa, &old_hup);
  quiet = saved_termios;
  quiet.c_lflag &= ~(tcflag_t) ECHO;
  echo_off = 1;
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);

  line = read_line (stdin, bad);

  tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  echo_off = 0;
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  sigaction (SIGHUP, &old_hup, NULL);
  fputc ('\n', stderr);
  return line;
}

/**
 * read_new_password:
 * @rc: (out): the exit code when %NULL is returned (message printed)
 *
 * One line of standard input with --password-stdin, else asked twice on
 * the terminal without echo. Checked against the password policy.
 */
static char *
read_new_password (WrCtl *ctl, const char *user, gboolean from_stdin,
    int *rc)
{
  g_autoptr (WrCtlPassword) password = NULL;
  g_autoptr (GError) error = NULL;
  gboolean bad = FALSE;

  if (from_stdin) {
    password = read_line (stdin, &bad);
    if (!password) {
      *rc = wr_ctl_failf (ctl, bad ? "the password must not contain NUL "
          "bytes" : "no password on standard input");
      return NULL;
    }
  } else {
    g_autoptr (WrCtlPassword) again = NULL;
    g_autofree char *prompt = NULL;

    if (!isatty (STDIN_FILENO)) {
      *rc = wr_ctl_usage_error (ctl, "standard input is not a terminal: "
          "pass the password on standard input with --password-stdin");
      return NULL;
    }
    prompt = g_strdup_printf ("New password for %s: ", user);
    password = prompt_no_echo (prompt, &bad);
    if (password && wr_auth_check_password_policy (password, &error))
      again = prompt_no_echo ("Repeat the password: ", &bad);
    if (!password || (!error && !again)) {
      *rc = wr_ctl_failf (ctl, bad ? "the password must not contain NUL "
          "bytes" : "no password given");
      return NULL;
    }
    if (!error && !g_str_equal (password, again)) {
      *rc = wr_ctl_failf (ctl, "the passwords do not match; nothing was "
          "changed");
      return NULL;
    }
  }
  if (error || !wr_auth_check_password_policy (password, &error)) {
    *rc = wr_ctl_failf (ctl, "%s; nothing was changed", error->message);
    return NULL;
  }
  return g_steal_pointer (&password);
}

/* The named user, or %NULL with *@rc set (message printed). */
static WrUser *
lookup_user (WrCtl *ctl, const char *name, int *rc)
{
  g_autoptr (GError) error = NULL;
  WrStore *store;
  WrUser *user;

  if (!wr_ctl_check_name (ctl, "user name", name, FALSE)) {
    *rc = WR_CTL_EXIT_USAGE;
    return NULL;
  }
  store = wr_ctl_get_store (ctl);
  if (!store) {
    *rc = WR_CTL_EXIT_FAILED;
    return NULL;
  }
  user = wr_store_user_get_by_name (store, name, &error);
  if (!user)
    *rc = wr_ctl_fail (ctl, error);
  return user;
}

/* ------------------------------------------------------------------ */
/* Commands */

static int
user_add (WrCtl *ctl, int argc, char **argv)
{
  g_autofree char *display_name = NULL;
  gboolean password_stdin = FALSE;
  const GOptionEntry entries[] = {
    { "display-name", 0, 0, G_OPTION_ARG_FILENAME, &display_name,
      "The name shown in the web client (default: NAME)", "TEXT" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      "Read the password from the first line of standard input", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) existing = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autoptr (WrCtlPassword) password = NULL;
  g_autofree char *hash = NULL;
  WrStore *store;
  const char *name;
  int rc = WR_CTL_EXIT_FAILED;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  name = argv[1];
  if (!wr_ctl_check_name (ctl, "user name", name, TRUE))
    return WR_CTL_EXIT_USAGE;
  if (display_name) {
    if (!*display_name || strlen (display_name) > WR_STORE_MAX_DISPLAY_NAME
        || !g_utf8_validate (display_name, -1, NULL))
      return wr_ctl_usage_error (ctl, "the display name must be UTF-8 text "
          "of 1 to %d bytes", WR_STORE_MAX_DISPLAY_NAME);
    for (const char *p = display_name; *p; p = g_utf8_next_char (p))
      if (g_unichar_iscntrl (g_utf8_get_char (p)))
        return wr_ctl_usage_error (ctl, "the display name must not contain "
            "control characters");
  }

  store = wr_ctl_get_store (ctl);
  if (!store)
    return WR_CTL_EXIT_FAILED;
  /* Before asking for a password twice. */
  existing = wr_store_user_get_by_name (store, name, &error);
  if (existing)
    return wr_ctl_failf (ctl, "a user named '%s' exists already", name);
  if (!g_error_matches (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND))
    return wr_ctl_fail (ctl, error);
  g_clear_error (&error);

  password = read_new_password (ctl, name, password_stdin, &rc);
  if (!password)
    return rc;
  hash = wr_auth_hash_password (password, &error);
  if (!hash)
    return wr_ctl_fail (ctl, error);
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  user = wr_store_user_create (store, name, display_name, hash, &error);
  if (!user) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "user.create", NULL, wr_ctl_detail ("user",
              user->name, "display_name", user->display_name, NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("created the user %s\n", user->name);
  /* A new account may do nothing until a grant gives it a role; and on a
   * new store the gateway no longer creates its admin account once any
   * user exists. */
  fprintf (stderr, "webremotectl: %s has no role yet; give one with: "
      "webremotectl grant add --user %s --role ROLE [--group GROUP]\n",
      user->name, user->name);
  return WR_CTL_EXIT_OK;
}

static int
user_passwd (WrCtl *ctl, int argc, char **argv)
{
  gboolean password_stdin = FALSE;
  const GOptionEntry entries[] = {
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      "Read the password from the first line of standard input", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  g_autoptr (WrCtlPassword) password = NULL;
  g_autofree char *hash = NULL;
  int rc = WR_CTL_EXIT_FAILED;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  user = lookup_user (ctl, argv[1], &rc);
  if (!user)
    return rc;
  password = read_new_password (ctl, user->name, password_stdin, &rc);
  if (!password)
    return rc;
  hash = wr_auth_hash_password (password, &error);
  if (!hash)
    return wr_ctl_fail (ctl, error);
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_user_set_password (wr_ctl_get_store (ctl), user->id, hash,
          &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "user.password", NULL, wr_ctl_detail ("user",
              user->name, NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("changed the password of %s (their sign-ins were revoked)\n",
      user->name);
  return WR_CTL_EXIT_OK;
}

static int
set_disabled (WrCtl *ctl, int argc, char **argv, gboolean disabled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  int rc = WR_CTL_EXIT_FAILED;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  user = lookup_user (ctl, argv[1], &rc);
  if (!user)
    return rc;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_user_set_disabled (wr_ctl_get_store (ctl), user->id, disabled,
          &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  {
    JsonObject *detail = wr_ctl_detail ("user", user->name, NULL);

    json_object_set_boolean_member (detail, "disabled", disabled);
    if (!wr_ctl_audit (ctl, "user.update", NULL, detail)
        || !wr_ctl_commit (ctl))
      return WR_CTL_EXIT_FAILED;
  }
  if (disabled)
    printf ("disabled the user %s (their sign-ins were revoked)\n",
        user->name);
  else
    printf ("enabled the user %s\n", user->name);
  return WR_CTL_EXIT_OK;
}

static int
user_disable (WrCtl *ctl, int argc, char **argv)
{
  return set_disabled (ctl, argc, argv, TRUE);
}

static int
user_enable (WrCtl *ctl, int argc, char **argv)
{
  return set_disabled (ctl, argc, argv, FALSE);
}

static int
user_delete (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  int rc = WR_CTL_EXIT_FAILED;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  user = lookup_user (ctl, argv[1], &rc);
  if (!user)
    return rc;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_user_delete (wr_ctl_get_store (ctl), user->id, &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "user.delete", NULL, wr_ctl_detail ("user",
              user->name, NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("deleted the user %s and their grants\n", user->name);
  return WR_CTL_EXIT_OK;
}

static int
user_unlock (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  int rc = WR_CTL_EXIT_FAILED;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  user = lookup_user (ctl, argv[1], &rc);
  if (!user)
    return rc;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_user_reset_failures (wr_ctl_get_store (ctl), user->id,
          &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  {
    JsonObject *detail = wr_ctl_detail ("user", user->name, NULL);

    json_object_set_boolean_member (detail, "unlocked", TRUE);
    if (!wr_ctl_audit (ctl, "user.update", NULL, detail)
        || !wr_ctl_commit (ctl))
      return WR_CTL_EXIT_FAILED;
  }
  printf ("unlocked the user %s (failed sign-ins reset)\n", user->name);
  return WR_CTL_EXIT_OK;
}

static int
user_reset_totp (WrCtl *ctl, int argc, char **argv)
{
  const char *const no_codes[] = { NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  WrStore *store;
  int rc = WR_CTL_EXIT_FAILED;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  user = lookup_user (ctl, argv[1], &rc);
  if (!user)
    return rc;
  store = wr_ctl_get_store (ctl);
  /* The secret and the recovery codes go together: a lost phone must not
   * leave codes for the old secret usable. */
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_user_set_totp (store, user->id, NULL, FALSE, &error)
      || !wr_store_recovery_codes_replace (store, user->id, no_codes,
          &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  {
    JsonObject *detail = wr_ctl_detail ("user", user->name, NULL);

    json_object_set_boolean_member (detail, "enabled", FALSE);
    if (!wr_ctl_audit (ctl, "user.totp", NULL, detail)
        || !wr_ctl_commit (ctl))
      return WR_CTL_EXIT_FAILED;
  }
  printf ("removed two-factor authentication from %s (they sign in with the "
      "password alone until they set it up again)\n", user->name);
  return WR_CTL_EXIT_OK;
}

static void
build_user (JsonBuilder *b, const WrUser *u, gint64 now)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, u->name);
  json_builder_set_member_name (b, "display_name");
  json_builder_add_string_value (b, u->display_name);
  json_builder_set_member_name (b, "disabled");
  json_builder_add_boolean_value (b, u->disabled);
  json_builder_set_member_name (b, "totp_enabled");
  json_builder_add_boolean_value (b, u->totp_enabled);
  json_builder_set_member_name (b, "sso");
  json_builder_add_boolean_value (b, u->oidc_subject != NULL);
  json_builder_set_member_name (b, "has_password");
  json_builder_add_boolean_value (b, u->password_hash != NULL);
  json_builder_set_member_name (b, "locked");
  json_builder_add_boolean_value (b, now < u->locked_until);
  json_builder_set_member_name (b, "locked_until");
  json_builder_add_int_value (b, u->locked_until);
  json_builder_set_member_name (b, "failed_logins");
  json_builder_add_int_value (b, u->failed_logins);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_int_value (b, u->created_at);
  json_builder_end_object (b);
}

static int
user_list (WrCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = NULL;
  gint64 now = wr_ctl_now ();
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  store = wr_ctl_get_store (ctl);
  if (!store)
    return WR_CTL_EXIT_FAILED;
  users = wr_store_user_list (store, &error);
  if (!users)
    return wr_ctl_fail (ctl, error);

  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "users");
    json_builder_begin_array (b);
    for (guint i = 0; i < users->len; i++)
      build_user (b, g_ptr_array_index (users, i), now);
    json_builder_end_array (b);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    wr_ctl_print_json (root);
  } else {
    g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (
        (GDestroyNotify) g_strfreev);

    g_ptr_array_add (rows, g_strsplit ("NAME|DISPLAY NAME|DISABLED|TOTP|SSO|"
            "LOCKED", "|", -1));
    for (guint i = 0; i < users->len; i++) {
      const WrUser *u = g_ptr_array_index (users, i);
      char **row = g_new0 (char *, 7);

      row[0] = g_strdup (u->name);
      row[1] = g_strdup (u->display_name ? u->display_name : "");
      row[2] = g_strdup (u->disabled ? "yes" : "no");
      row[3] = g_strdup (u->totp_enabled ? "yes" : "no");
      row[4] = g_strdup (u->oidc_subject ? "yes" : "no");
      if (now < u->locked_until) {
        g_autofree char *until = wr_ctl_format_time (u->locked_until, "");

        row[5] = g_strdup_printf ("until %s", until);
      } else {
        row[5] = g_strdup ("no");
      }
      g_ptr_array_add (rows, row);
    }
    wr_ctl_print_table (rows);
  }
  return WR_CTL_EXIT_OK;
}

const WrCtlCommand wr_ctl_user_commands[] = {
  { "user", "add", "NAME [--display-name TEXT] [--password-stdin]",
    "Create a local account (password asked twice, or one line on stdin)",
    user_add, TRUE },
  { "user", "passwd", "NAME [--password-stdin]",
    "Set a user's password; revokes their sign-ins", user_passwd, FALSE },
  { "user", "disable", "NAME",
    "Disable an account; revokes its sign-ins and refuses its tokens",
    user_disable, FALSE },
  { "user", "enable", "NAME", "Enable a disabled account", user_enable,
    FALSE },
  { "user", "delete", "NAME", "Delete an account and its grants",
    user_delete, FALSE },
  { "user", "list", "[--json]",
    "List accounts: name, display name, disabled, TOTP, SSO, locked",
    user_list, FALSE },
  { "user", "unlock", "NAME",
    "Lift a lockout after failed sign-ins (resets the count)", user_unlock,
    FALSE },
  { "user", "reset-totp", "NAME",
    "Remove a user's TOTP secret and recovery codes", user_reset_totp,
    FALSE },
  { NULL }
};
