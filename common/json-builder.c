/* webremote: one-line object members for a JsonBuilder. */
#include "config.h"

#include "common/json-builder.h"

void
wr_json_add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
wr_json_add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
wr_json_add_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

void
wr_json_add_strv (JsonBuilder *b, const char *name,
    const char *const *values)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (; values && *values; values++)
    json_builder_add_string_value (b, *values);
  json_builder_end_array (b);
}
