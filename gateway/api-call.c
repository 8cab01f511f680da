/* webremote: one REST API request, handled off the main loop. */
#include "config.h"

#include "gateway/api-call.h"

#include <string.h>

#include "gateway/http-response.h"

WrApiCall *
wr_api_call_new (void)
{
  WrApiCall *call = g_new0 (WrApiCall, 1);

  call->cookies = g_ptr_array_new_with_free_func (g_free);
  call->status = 500;
  return call;
}

void
wr_api_call_free (WrApiCall *call)
{
  if (!call)
    return;
  g_free (call->method);
  g_free (call->path);
  g_free (call->arg);
  g_clear_pointer (&call->body, g_bytes_unref);
  g_free (call->bearer);
  g_free (call->refresh_cookie);
  g_free (call->client_address);
  g_clear_pointer (&call->query, g_hash_table_unref);
  wr_principal_free (call->user);
  g_clear_pointer (&call->live, json_node_unref);
  g_clear_pointer (&call->json, json_node_unref);
  g_free (call->location);
  g_ptr_array_unref (call->cookies);
  g_clear_pointer (&call->download, g_bytes_unref);
  g_free (call->download_type);
  g_free (call->download_name);
  g_free (call);
}

void
wr_api_call_respond (WrApiCall *call, guint status, JsonNode *json)
{
  call->status = status;
  g_clear_pointer (&call->json, json_node_unref);
  call->json = json;
}

void
wr_api_call_error (WrApiCall *call, guint status, const char *code,
    const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  wr_api_call_respond (call, status, json_builder_get_root (b));
}

void
wr_api_call_respond_download (WrApiCall *call, const char *content_type,
    const char *file_name, GBytes *data)
{
  g_clear_pointer (&call->json, json_node_unref);
  g_clear_pointer (&call->download, g_bytes_unref);
  g_free (call->download_type);
  g_free (call->download_name);
  call->status = 200;
  call->download = data;
  call->download_type = g_strdup (content_type);
  call->download_name = g_strdup (file_name);
}

void
wr_api_call_redirect (WrApiCall *call, const char *location)
{
  call->status = 302;
  g_free (call->location);
  call->location = g_strdup (location);
}

void
wr_api_call_add_cookie (WrApiCall *call, const char *value)
{
  g_ptr_array_add (call->cookies, g_strdup (value));
}

JsonObject *
wr_api_call_read_object (WrApiCall *call)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  gsize len;
  const char *data = g_bytes_get_data (call->body, &len);
  JsonNode *root;

  if (len == 0 || memchr (data, '\0', len) || !g_utf8_validate (data,
          (gssize) len, NULL)
      || !json_parser_load_from_data (parser, data, (gssize) len, NULL)) {
    wr_api_call_error (call, 400, "bad_request",
        "the request body is not valid JSON");
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    wr_api_call_error (call, 400, "bad_request",
        "the request body must be a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

static gboolean
bad_field (WrApiCall *call, const char *field, const char *what)
{
  g_autofree char *msg = g_strdup_printf ("field '%s' %s", field, what);

  wr_api_call_error (call, 400, "bad_request", msg);
  return FALSE;
}

static JsonNode *
member (JsonObject *body, const char *field)
{
  JsonNode *node = json_object_get_member (body, field);

  return node && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

gboolean
wr_api_get_string (WrApiCall *call, JsonObject *body, const char *field,
    gboolean required, gsize max_len, const char **out)
{
  JsonNode *node = member (body, field);
  const char *s;

  if (!node)
    return required ? bad_field (call, field, "is required") : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad_field (call, field, "must be a string");
  s = json_node_get_string (node);
  if (strlen (s) > max_len) {
    g_autofree char *what = g_strdup_printf ("must be at most %" G_GSIZE_FORMAT
        " bytes long", max_len);
    return bad_field (call, field, what);
  }
  if (required && !*s)
    return bad_field (call, field, "must not be empty");
  *out = s;
  return TRUE;
}

gboolean
wr_api_get_bool (WrApiCall *call, JsonObject *body, const char *field,
    gboolean *out)
{
  JsonNode *node = member (body, field);

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return bad_field (call, field, "must be true or false");
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
wr_api_get_int (WrApiCall *call, JsonObject *body, const char *field,
    gint64 min, gint64 max, gint64 *out)
{
  JsonNode *node = member (body, field);
  gint64 v;

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return bad_field (call, field, "must be an integer");
  v = json_node_get_int (node);
  if (v < min || v > max) {
    g_autofree char *what = g_strdup_printf ("must be within %" G_GINT64_FORMAT
        "..%" G_GINT64_FORMAT, min, max);
    return bad_field (call, field, what);
  }
  *out = v;
  return TRUE;
}

gboolean
wr_api_get_string_array (WrApiCall *call, JsonObject *body,
    const char *field, gboolean required, guint max_items, const char ***out)
{
  JsonNode *node = member (body, field);
  JsonArray *array;
  const char **items;
  guint n;

  if (!node)
    return required ? bad_field (call, field, "is required") : TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return bad_field (call, field, "must be an array of strings");
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > max_items)
    return bad_field (call, field, "has too many items");
  items = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (array, i);
    if (!JSON_NODE_HOLDS_VALUE (e)
        || json_node_get_value_type (e) != G_TYPE_STRING
        || strlen (json_node_get_string (e)) > 128
        || !*json_node_get_string (e)
        || strpbrk (json_node_get_string (e), " \t\r\n,")) {
      g_free (items);
      return bad_field (call, field, "must be an array of short strings");
    }
    items[i] = json_node_get_string (e);
  }
  *out = items;
  return TRUE;
}
