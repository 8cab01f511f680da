/* webremotectl: a change and its audit row, committed together.
 *
 * webremotectl writes the same audit log as the gateway (audit.h), with
 * the actor "ctl:UNIXUSER". Checkpoints are signed with the state
 * directory's grant key when this user can read it; otherwise the rows
 * wait for the gateway's next checkpoint. */
#include "config.h"

#include "gateway/ctl.h"

#include <stdio.h>
#include <unistd.h>

/* webremotectl runs one command per process: one audit log, made on first
 * use over the command's store, kept until exit. */
static WrAudit *ctl_audit;
static WrGrantSigner *ctl_signer;
static char *ctl_actor;

const char *
wr_ctl_get_actor (WrCtl *ctl)
{
  if (!ctl_actor)
    ctl_actor = g_strconcat ("ctl:", g_get_user_name (), NULL);
  return ctl_actor;
}

WrAudit *
wr_ctl_get_audit (WrCtl *ctl)
{
  const WrGatewayConfig *config = wr_ctl_get_config (ctl);
  g_autofree char *key_path = NULL;
  WrStore *store;

  if (ctl_audit)
    return ctl_audit;
  if (!(store = wr_ctl_get_store (ctl)))
    return NULL;
  key_path = config->grant_signing_key && *config->grant_signing_key
      ? g_strdup (config->grant_signing_key)
      : g_build_filename (config->state_dir, WR_GRANT_KEY_FILE_NAME, NULL);
  /* Only an existing key: webremotectl never makes the gateway's key. */
  if (g_file_test (key_path, G_FILE_TEST_IS_REGULAR)
      && access (key_path, R_OK) == 0) {
    g_autoptr (GError) error = NULL;

    ctl_signer = wr_grant_signer_new (key_path, NULL, &error);
    if (!ctl_signer)
      g_debug ("audit: no checkpoint signing: %s", error->message);
  }
  ctl_audit = wr_audit_new (store, ctl_signer,
      (guint) config->audit_checkpoint_rows,
      (guint) config->audit_checkpoint_seconds);
  return ctl_audit;
}

gboolean
wr_ctl_begin (WrCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  WrStore *store = wr_ctl_get_store (ctl);

  if (!store || !wr_ctl_get_audit (ctl))
    return FALSE;
  if (wr_store_begin (store, &error))
    return TRUE;
  wr_ctl_fail (ctl, error);
  return FALSE;
}

void
wr_ctl_rollback (WrCtl *ctl)
{
  wr_store_rollback (wr_ctl_get_store (ctl));
}

static void
audit_failed (WrCtl *ctl, const GError *error)
{
  g_debug ("audit: %s", error ? error->message : "?");
  wr_ctl_failf (ctl, "the audit log cannot be written; nothing was changed");
}

gboolean
wr_ctl_audit (WrCtl *ctl, const char *type, const char *agent,
    JsonObject *detail)
{
  g_autoptr (JsonObject) owned = detail;
  g_autoptr (GError) error = NULL;
  WrAuditEvent event = {
    .type = type, .outcome = WR_AUDIT_OK, .actor = wr_ctl_get_actor (ctl),
    .agent = agent,
  };

  if (wr_audit_append (wr_ctl_get_audit (ctl), &event, owned, NULL, &error))
    return TRUE;
  wr_ctl_rollback (ctl);
  audit_failed (ctl, error);
  return FALSE;
}

gboolean
wr_ctl_commit (WrCtl *ctl)
{
  g_autoptr (GError) error = NULL;

  if (wr_store_commit (wr_ctl_get_store (ctl), &error))
    return TRUE;
  audit_failed (ctl, error);
  return FALSE;
}

JsonObject *
wr_ctl_detail (const char *first_key, ...)
{
  JsonObject *detail = json_object_new ();
  va_list args;

  va_start (args, first_key);
  for (const char *key = first_key; key; key = va_arg (args, const char *)) {
    const char *value = va_arg (args, const char *);

    if (value)
      json_object_set_string_member (detail, key, value);
  }
  va_end (args);
  return detail;
}
