/* webremote: the agents the gateway knows, online or not. */
#include "config.h"

#include "gateway/agent-registry.h"

#include "common/protocol.h"

/* With a pre-shared token anyone holding it could invent ids; bound the
 * memory that costs. */
#define MAX_AGENTS 10000

struct _WrAgentRegistry {
  GHashTable *agents; /* id -> WrAgentRecord */
};

static void
record_free (WrAgentRecord *r)
{
  g_free (r->id);
  g_free (r->name);
  g_free (r->version);
  g_clear_pointer (&r->displays, json_array_unref);
  g_clear_pointer (&r->encoders, json_array_unref);
  g_clear_pointer (&r->pipelines, json_array_unref);
  g_clear_object (&r->conn);
  g_free (r);
}

WrAgentRegistry *
wr_agent_registry_new (void)
{
  WrAgentRegistry *self = g_new0 (WrAgentRegistry, 1);

  self->agents = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) record_free);
  return self;
}

void
wr_agent_registry_free (WrAgentRegistry *self)
{
  if (!self)
    return;
  g_hash_table_unref (self->agents);
  g_free (self);
}

WrAgentRecord *
wr_agent_registry_lookup (WrAgentRegistry *self, const char *id)
{
  return id ? g_hash_table_lookup (self->agents, id) : NULL;
}

/* Messages come from an immutable parser, so arrays can be shared. */
static JsonArray *
dup_array (JsonObject *obj, const char *member)
{
  JsonArray *a = json_object_get_array_member (obj, member);

  return a ? json_array_ref (a) : json_array_new ();
}

gboolean
wr_agent_registry_attach (WrAgentRegistry *self, WrConnection *conn,
    JsonObject *hello, WrConnection **replaced)
{
  const char *id = wr_message_get_string (hello, "agent");
  WrAgentRecord *r = g_hash_table_lookup (self->agents, id);

  *replaced = NULL;
  if (!r) {
    if (g_hash_table_size (self->agents) >= MAX_AGENTS)
      return FALSE;
    r = g_new0 (WrAgentRecord, 1);
    r->id = g_strdup (id);
    g_hash_table_insert (self->agents, r->id, r);
  }
  if (r->conn && r->conn != conn)
    *replaced = g_steal_pointer (&r->conn);
  g_clear_object (&r->conn);
  r->conn = g_object_ref (conn);

  g_free (r->name);
  r->name = g_strdup (wr_message_get_string (hello, "name"));
  g_free (r->version);
  r->version = g_strdup (wr_message_get_string (hello, "version"));
  g_clear_pointer (&r->displays, json_array_unref);
  r->displays = dup_array (hello, "displays");
  g_clear_pointer (&r->encoders, json_array_unref);
  r->encoders = dup_array (hello, "encoders");
  g_clear_pointer (&r->pipelines, json_array_unref);
  r->pipelines = json_array_new ();
  r->last_seen = g_get_real_time () / G_USEC_PER_SEC;
  return TRUE;
}

gboolean
wr_agent_registry_detach (WrAgentRegistry *self, WrConnection *conn)
{
  WrAgentRecord *r = wr_agent_registry_lookup (self,
      wr_connection_get_agent_id (conn));

  if (!r || r->conn != conn)
    return FALSE;
  g_clear_object (&r->conn);
  g_clear_pointer (&r->pipelines, json_array_unref);
  r->pipelines = json_array_new ();
  r->last_seen = g_get_real_time () / G_USEC_PER_SEC;
  return TRUE;
}

void
wr_agent_registry_set_pipelines (WrAgentRegistry *self, const char *id,
    JsonArray *pipelines)
{
  WrAgentRecord *r = wr_agent_registry_lookup (self, id);

  if (!r)
    return;
  g_clear_pointer (&r->pipelines, json_array_unref);
  r->pipelines = json_array_ref (pipelines);
  r->last_seen = g_get_real_time () / G_USEC_PER_SEC;
}

gboolean
wr_agent_record_has_display (const WrAgentRecord *record, const char *display)
{
  guint n = record->displays ? json_array_get_length (record->displays) : 0;

  for (guint i = 0; i < n; i++) {
    JsonObject *d = json_array_get_object_element (record->displays, i);
    if (g_strcmp0 (json_object_get_string_member (d, "name"), display) == 0)
      return TRUE;
  }
  return FALSE;
}

const char *
wr_agent_record_default_display (const WrAgentRecord *record)
{
  if (!record->displays || json_array_get_length (record->displays) == 0)
    return NULL;
  return json_object_get_string_member (
      json_array_get_object_element (record->displays, 0), "name");
}

static void
add_array (JsonBuilder *b, const char *name, JsonArray *array)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  if (array)
    json_node_set_array (node, array);
  else
    json_node_take_array (node, json_array_new ());
  json_builder_set_member_name (b, name);
  json_builder_add_value (b, node);
}

JsonNode *
wr_agent_record_to_json (const WrAgentRecord *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, r->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, r->name);
  json_builder_set_member_name (b, "online");
  json_builder_add_boolean_value (b, r->conn != NULL);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, r->version);
  add_array (b, "displays", r->displays);
  add_array (b, "encoders", r->encoders);
  add_array (b, "pipelines", r->pipelines);
  json_builder_set_member_name (b, "last_seen");
  json_builder_add_int_value (b, r->last_seen);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gint
compare_records (gconstpointer a, gconstpointer b)
{
  const WrAgentRecord *ra = *(WrAgentRecord *const *) a;
  const WrAgentRecord *rb = *(WrAgentRecord *const *) b;
  int c = g_strcmp0 (ra->name, rb->name);

  return c ? c : g_strcmp0 (ra->id, rb->id);
}

JsonNode *
wr_agent_registry_to_json (WrAgentRegistry *self)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  JsonArray *agents = json_array_new ();
  JsonObject *root = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->agents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, compare_records);
  for (guint i = 0; i < list->len; i++)
    json_array_add_element (agents,
        wr_agent_record_to_json (g_ptr_array_index (list, i)));
  json_object_set_array_member (root, "agents", agents);
  json_node_take_object (node, root);
  return node;
}
