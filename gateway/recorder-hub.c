/* webremote: the recorders connected to this gateway (recorder-hub.h). */
#include "config.h"

#include "gateway/recorder-hub.h"

#include <string.h>

#include "common/crypto.h"

struct _WrRecorderHub {
  GPtrArray *entries;      /* WrRecorderEntry */
  char *local_token_hash;  /* hex SHA-256, nullable */
};

static void
entry_free (WrRecorderEntry *e)
{
  g_clear_object (&e->conn);
  g_free (e->name);
  g_free (e);
}

WrRecorderHub *
wr_recorder_hub_new (void)
{
  WrRecorderHub *hub = g_new0 (WrRecorderHub, 1);

  hub->entries = g_ptr_array_new_with_free_func (
      (GDestroyNotify) entry_free);
  return hub;
}

void
wr_recorder_hub_free (WrRecorderHub *hub)
{
  if (!hub)
    return;
  g_ptr_array_unref (hub->entries);
  g_free (hub->local_token_hash);
  g_free (hub);
}

WrRecorderEntry *
wr_recorder_hub_add (WrRecorderHub *hub, WrConnection *conn,
    const char *name)
{
  WrRecorderEntry *e = g_new0 (WrRecorderEntry, 1);

  e->conn = g_object_ref (conn);
  e->name = g_strdup (name);
  g_ptr_array_add (hub->entries, e);
  return e;
}

WrRecorderEntry *
wr_recorder_hub_lookup (WrRecorderHub *hub, WrConnection *conn)
{
  for (guint i = 0; i < hub->entries->len; i++) {
    WrRecorderEntry *e = g_ptr_array_index (hub->entries, i);
    if (e->conn == conn)
      return e;
  }
  return NULL;
}

gboolean
wr_recorder_hub_remove (WrRecorderHub *hub, WrConnection *conn)
{
  WrRecorderEntry *e = wr_recorder_hub_lookup (hub, conn);

  return e && g_ptr_array_remove (hub->entries, e);
}

WrRecorderEntry *
wr_recorder_hub_pick (WrRecorderHub *hub)
{
  WrRecorderEntry *best = NULL;

  for (guint i = 0; i < hub->entries->len; i++) {
    WrRecorderEntry *e = g_ptr_array_index (hub->entries, i);
    if (e->ready && wr_connection_is_open (e->conn)
        && (!best || e->active < best->active))
      best = e;
  }
  return best;
}

guint
wr_recorder_hub_count_ready (WrRecorderHub *hub)
{
  guint n = 0;

  for (guint i = 0; i < hub->entries->len; i++) {
    WrRecorderEntry *e = g_ptr_array_index (hub->entries, i);
    if (e->ready && wr_connection_is_open (e->conn))
      n++;
  }
  return n;
}

void
wr_recorder_hub_set_local_token (WrRecorderHub *hub, const char *token)
{
  g_free (hub->local_token_hash);
  hub->local_token_hash = token ? wr_sha256_hex (token, strlen (token))
      : NULL;
}

gboolean
wr_recorder_hub_is_local_token (WrRecorderHub *hub, const char *token)
{
  g_autofree char *hash = NULL;

  if (!hub->local_token_hash || !token)
    return FALSE;
  hash = wr_sha256_hex (token, strlen (token));
  return wr_constant_time_equal (hash, hub->local_token_hash);
}
