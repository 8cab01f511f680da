/* webremote pipelines: ICE set-up of a webrtcbin, shared by the agent's
 * peers, the recorder and the test viewers. */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* At most this many URLs of one ICE server entry are used. */
#define WR_WEBRTC_ICE_MAX_URLS 8

/**
 * wr_webrtc_configure_ice:
 * @webrtcbin: a webrtcbin, not yet PLAYING
 * @local_addresses: (nullable) (array zero-terminated=1): the only
 *   addresses ICE may gather on (UDP only then); %NULL or empty: libnice's
 *   default, every interface but loopback
 * @ice_servers: (nullable): the gateway's `ice_servers` array: objects with
 *   `urls` (a string or an array of strings), `username` and `credential`;
 *   `stun:` URLs become the STUN server, `turn:`/`turns:` URLs with both
 *   credentials are added as TURN servers
 * @log_name: (nullable): what warnings start with ("session SID",
 *   "recording ID"); %NULL: no warnings, the caller checks the result
 *
 * Turns libnice's UPnP discovery off (its SSDP multicasts on every
 * interface whatever the address restriction says), restricts gathering to
 * @local_addresses with ICE-TCP off, and sets the STUN and TURN servers.
 * Warns, naming @log_name, of each local address or TURN server refused;
 * TURN credentials are never logged and are wiped from memory.
 *
 * Returns: %TRUE if @webrtcbin has an ICE agent and it took every one of
 *   @local_addresses.
 */
gboolean wr_webrtc_configure_ice (GstElement *webrtcbin,
    const char *const *local_addresses, JsonArray *ice_servers,
    const char *log_name);

G_END_DECLS
