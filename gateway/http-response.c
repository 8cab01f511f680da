/* webremote: JSON responses, errors and security headers for the API. */
#include "config.h"

#include "gateway/http-response.h"

#include <string.h>

void
wr_http_set_security_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  /* No inline script or style anywhere; media and WebSockets to ourselves. */
  soup_message_headers_replace (h, "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; "
      "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
      "object-src 'none'; base-uri 'none'; form-action 'self'; "
      "frame-ancestors 'none'");
  soup_message_headers_replace (h, "Strict-Transport-Security",
      "max-age=31536000");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "X-Frame-Options", "DENY");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
}

void
wr_http_respond_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  json_node_unref (node);
  wr_http_set_security_headers (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", "no-store");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      text, strlen (text));
}

void
wr_http_respond_error (SoupServerMessage *msg, guint status, const char *code,
    const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  wr_http_respond_json (msg, status, json_builder_get_root (b));
}

JsonObject *
wr_http_read_json_object (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonNode *root;

  if (len > WR_HTTP_MAX_BODY) {
    wr_http_respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "too_large", "the request body is too large");
    return NULL;
  }
  if (len == 0 || memchr (data, '\0', len)
      || !json_parser_load_from_data (parser, data, (gssize) len, NULL)) {
    wr_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
        "the request body is not valid JSON");
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    wr_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
        "the request body must be a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

const char *
wr_http_get_bearer (SoupServerMessage *msg)
{
  const char *value = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");

  if (!value || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;
  value += 7;
  while (*value == ' ')
    value++;
  return *value ? value : NULL;
}
