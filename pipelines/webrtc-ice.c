/* webremote pipelines: ICE set-up of a webrtcbin, shared by the agent's
 * peers, the recorder and the test viewers. */
#include "config.h"

#include "pipelines/webrtc-ice.h"

#include <gst/webrtc/webrtc.h>
#include <string.h>

static void
disable_upnp (GstWebRTCICE *ice)
{
  g_autoptr (GObject) nice = NULL;

  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    return;
  /* No UPnP port mapping: its SSDP discovery multicasts on every
   * interface, whatever the ICE address restriction says, and neither an
   * agent nor a recorder that dials out has any use for it. */
  g_object_get (ice, "agent", &nice, NULL);
  if (nice && g_object_class_find_property (G_OBJECT_GET_CLASS (nice),
          "upnp"))
    g_object_set (nice, "upnp", FALSE, NULL);
}

/* Adds the string URLs of @urls_node (a string or an array) to @urls. */
static void
collect_urls (JsonNode *urls_node, GPtrArray *urls)
{
  if (urls_node && JSON_NODE_HOLDS_VALUE (urls_node)
      && json_node_get_value_type (urls_node) == G_TYPE_STRING) {
    g_ptr_array_add (urls, (gpointer) json_node_get_string (urls_node));
  } else if (urls_node && JSON_NODE_HOLDS_ARRAY (urls_node)) {
    JsonArray *a = json_node_get_array (urls_node);
    for (guint j = 0; j < json_array_get_length (a)
        && j < WR_WEBRTC_ICE_MAX_URLS; j++) {
      JsonNode *u = json_array_get_element (a, j);
      if (JSON_NODE_HOLDS_VALUE (u)
          && json_node_get_value_type (u) == G_TYPE_STRING)
        g_ptr_array_add (urls, (gpointer) json_node_get_string (u));
    }
  }
}

static void
add_server (GstElement *webrtcbin, JsonObject *server, const char *log_name)
{
  const char *username = NULL, *credential = NULL;
  g_autoptr (GPtrArray) urls = g_ptr_array_new ();

  collect_urls (json_object_get_member (server, "urls"), urls);
  if (json_object_has_member (server, "username"))
    username = json_object_get_string_member_with_default (server,
        "username", NULL);
  if (json_object_has_member (server, "credential"))
    credential = json_object_get_string_member_with_default (server,
        "credential", NULL);

  for (guint j = 0; j < urls->len; j++) {
    const char *url = urls->pdata[j];
    if (g_str_has_prefix (url, "stun:")) {
      g_autofree char *stun = g_strconcat ("stun://", url + 5, NULL);
      g_object_set (webrtcbin, "stun-server", stun, NULL);
    } else if ((g_str_has_prefix (url, "turn:")
            || g_str_has_prefix (url, "turns:")) && username
        && credential) {
      gboolean tls = g_str_has_prefix (url, "turns:");
      g_autofree char *user = g_uri_escape_string (username, NULL, FALSE);
      g_autofree char *pass = g_uri_escape_string (credential, NULL, FALSE);
      g_autofree char *turn = g_strdup_printf ("%s://%s:%s@%s",
          tls ? "turns" : "turn", user, pass, url + (tls ? 6 : 5));
      gboolean ok = FALSE;
      g_signal_emit_by_name (webrtcbin, "add-turn-server", turn, &ok);
      /* Never log the credential: only the server part. */
      if (!ok && log_name)
        g_warning ("%s: TURN server %s refused", log_name,
            url + (tls ? 6 : 5));
      memset (turn, 0, strlen (turn));
      memset (pass, 0, strlen (pass));
    }
  }
}

gboolean
wr_webrtc_configure_ice (GstElement *webrtcbin,
    const char *const *local_addresses, JsonArray *ice_servers,
    const char *log_name)
{
  g_autoptr (GstWebRTCICE) ice = NULL;
  gboolean all_added = FALSE;

  g_return_val_if_fail (GST_IS_ELEMENT (webrtcbin), FALSE);

  g_object_get (webrtcbin, "ice-agent", &ice, NULL);
  if (ice) {
    all_added = TRUE;
    disable_upnp (ice);
  }
  if (ice && local_addresses && local_addresses[0]) {
    /* libnice gathers every interface but loopback; restrict it to the
     * configured addresses (platform-notes.md), UDP only. */
    for (int i = 0; local_addresses[i]; i++) {
      gboolean ok = FALSE;
      g_signal_emit_by_name (ice, "add-local-ip-address", local_addresses[i],
          &ok);
      if (!ok) {
        all_added = FALSE;
        if (log_name)
          g_warning ("%s: ICE refused local address %s", log_name,
              local_addresses[i]);
      }
    }
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "ice-tcp"))
      g_object_set (ice, "ice-tcp", FALSE, NULL);
  }

  for (guint i = 0; ice_servers && i < json_array_get_length (ice_servers);
      i++) {
    JsonNode *node = json_array_get_element (ice_servers, i);

    if (JSON_NODE_HOLDS_OBJECT (node))
      add_server (webrtcbin, json_node_get_object (node), log_name);
  }
  return all_added;
}
