/* webremote: one viewing/control session between a client and an agent. */
#include "config.h"

#include "gateway/session.h"

#include "common/crypto.h"

WrSession *
wr_session_new (const char *user, const char *agent_id, const char *display,
    const char *const *scopes, WrConnection *client, WrConnection *agent)
{
  WrSession *s = g_new0 (WrSession, 1);

  s->sid = wr_random_hex (16);
  s->user = g_strdup (user);
  s->agent_id = g_strdup (agent_id);
  s->display = g_strdup (display);
  s->scopes = g_strdupv ((char **) scopes);
  s->client = g_object_ref (client);
  s->agent = g_object_ref (agent);
  s->created = g_get_real_time () / G_USEC_PER_SEC;
  return s;
}

void
wr_session_free (WrSession *s)
{
  if (!s)
    return;
  g_free (s->sid);
  g_free (s->user);
  g_free (s->agent_id);
  g_free (s->display);
  g_free (s->reason);
  g_strfreev (s->scopes);
  g_free (s->recording_id);
  g_free (s->group);
  g_free (s->recorded_sid);
  g_free (s->held_granted);
  g_free (s->held_start);
  g_free (s->held_ref);
  g_clear_handle_id (&s->hold_timer, g_source_remove);
  g_clear_object (&s->client);
  g_clear_object (&s->agent);
  g_free (s);
}
