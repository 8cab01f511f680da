/* webremotectl enroll|agent revoke|keys: agent enrollment tokens, revoking
 * an agent's certificate, re-sealing secrets after a new key-encryption
 * key (docs/operations.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "common/keyring.h"
#include "gateway/ca.h"
#include "gateway/ctl.h"

#define MAX_TTL_SECONDS (30 * 86400)

/* "90s", "30m", "1h", "7d", or plain seconds. */
static gint64
parse_ttl (const char *text)
{
  char *end = NULL;
  gint64 n;

  if (!text || !g_ascii_isdigit (*text))
    return -1;
  n = g_ascii_strtoll (text, &end, 10);
  if (n <= 0 || n > MAX_TTL_SECONDS)
    return -1;
  if (!*end || g_str_equal (end, "s"))
    return n;
  if (g_str_equal (end, "m"))
    n *= 60;
  else if (g_str_equal (end, "h"))
    n *= 3600;
  else if (g_str_equal (end, "d"))
    n *= 86400;
  else
    return -1;
  return n <= MAX_TTL_SECONDS ? n : -1;
}

static int
enroll_create (WrCtl *ctl, int argc, char **argv)
{
  g_autofree char *group = NULL;
  g_autofree char *ttl_text = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group,
      "The agent group the new agent joins (default: default)", "GROUP" },
    { "ttl", 0, 0, G_OPTION_ARG_STRING, &ttl_text,
      "How long the token is good for: 90s, 30m, 1h, 7d (default 1h)",
      "TTL" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *hash = NULL;
  gint64 ttl;
  gint64 now = wr_ctl_now ();
  WrStore *store;

  if (!wr_ctl_parse (ctl, entries, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  ttl = parse_ttl (ttl_text ? ttl_text : "1h");
  if (ttl < 0)
    return wr_ctl_usage_error (ctl, "--ttl must be like 90s, 30m, 1h or 7d, "
        "at most 30 days");
  if (!wr_ctl_check_name (ctl, "group name", group ? group : "default",
          FALSE))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  /* hex: a token must never look like an option (base64url may begin
   * with "-") */
  token = wr_random_hex (32);
  hash = wr_sha256_hex (token, strlen (token));
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_enroll_token_create (store, hash, group ? group : "default",
          now + ttl, now, &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  {
    /* never the token; its expiry and group only */
    JsonObject *detail = wr_ctl_detail ("group", group ? group : "default",
        NULL);

    json_object_set_int_member (detail, "expires_at", now + ttl);
    if (!wr_ctl_audit (ctl, "enroll.token_create", NULL, detail)
        || !wr_ctl_commit (ctl))
      return WR_CTL_EXIT_FAILED;
  }
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "token");
    json_builder_add_string_value (b, token);
    json_builder_set_member_name (b, "group");
    json_builder_add_string_value (b, group ? group : "default");
    json_builder_set_member_name (b, "expires_at");
    json_builder_add_int_value (b, now + ttl);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    wr_ctl_print_json (root);
  } else {
    /* the token alone on stdout, so scripts can capture it */
    printf ("%s\n", token);
    fflush (stdout);
    fprintf (stderr, "single-use enrollment token for the group %s, valid "
        "for %" G_GINT64_FORMAT " s: webremote-agent enroll "
        "https://GATEWAY TOKEN\n", group ? group : "default", ttl);
  }
  return WR_CTL_EXIT_OK;
}

static int
agent_revoke (WrCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  WrStore *store;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 1, 1))
    return WR_CTL_EXIT_USAGE;
  if (!wr_ctl_check_name (ctl, "agent id", argv[1], FALSE))
    return WR_CTL_EXIT_USAGE;
  if (!(store = wr_ctl_get_store (ctl)))
    return WR_CTL_EXIT_FAILED;
  if (!wr_ctl_begin (ctl))
    return WR_CTL_EXIT_FAILED;
  if (!wr_store_agent_revoke (store, argv[1], &error)) {
    wr_ctl_rollback (ctl);
    return wr_ctl_fail (ctl, error);
  }
  if (!wr_ctl_audit (ctl, "agent.revoke", argv[1], wr_ctl_detail ("action",
              "revoke", NULL))
      || !wr_ctl_commit (ctl))
    return WR_CTL_EXIT_FAILED;
  printf ("revoked the agent %s: its certificate is refused and the "
      "gateway closes its connection within seconds\n", argv[1]);
  return WR_CTL_EXIT_OK;
}

/* The same key ring the gateway uses (gateway/main.c): [secrets] kek-file,
 * else WEBREMOTE_KEK, else STATE/kek. */
static WrKeyring *
open_keyring (const WrGatewayConfig *config, GError **error)
{
  g_autofree char *path = NULL;

  if (config->kek_file && *config->kek_file)
    return wr_keyring_load (config->kek_file, error);
  if (g_getenv ("WEBREMOTE_KEK"))
    return wr_keyring_load (NULL, error);
  path = g_build_filename (config->state_dir, "kek", NULL);
  return wr_keyring_load (path, error);
}

static int
keys_rotate (WrCtl *ctl, int argc, char **argv)
{
  const WrGatewayConfig *config = wr_ctl_get_config (ctl);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrKeyring) ring = NULL;
  g_autofree char *ca_dir = NULL;
  g_autofree char *old_id = NULL;

  if (!wr_ctl_parse (ctl, NULL, &argc, &argv, 0, 0))
    return WR_CTL_EXIT_USAGE;
  if (!(ring = open_keyring (config, &error)))
    return wr_ctl_fail (ctl, error);
  ca_dir = g_build_filename (config->state_dir, "ca", NULL);
  if (!wr_ca_reseal (ca_dir, ring, &old_id, &error))
    return wr_ctl_fail (ctl, error);
  printf ("re-sealed the agent CA key under key %s (was %s)\n",
      wr_keyring_current_id (ring), old_id);
  return WR_CTL_EXIT_OK;
}

const WrCtlCommand wr_ctl_enroll_commands[] = {
  { "enroll", "create", "[--group GROUP] [--ttl TTL] [--json]",
    "Print a single-use agent enrollment token", enroll_create, FALSE },
  { "agent", "revoke", "AGENT",
    "Revoke an agent's certificate and close its connection", agent_revoke,
    FALSE },
  { "keys", "rotate", "",
    "Re-seal the agent CA key under the key file's first (current) key",
    keys_rotate, FALSE },
  { NULL }
};
