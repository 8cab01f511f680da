/* webremote: one-line object members for a JsonBuilder. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * wr_json_add_string:
 * @b: a builder inside an object
 * @name: the member name
 * @value: (nullable): the string; %NULL writes `null`
 *
 * Adds the member `"NAME": "VALUE"`, or `"NAME": null`.
 */
void wr_json_add_string (JsonBuilder *b, const char *name, const char *value);

/**
 * wr_json_add_int:
 * @b: a builder inside an object
 * @name: the member name
 * @value: the number
 *
 * Adds the member `"NAME": VALUE`.
 */
void wr_json_add_int (JsonBuilder *b, const char *name, gint64 value);

/**
 * wr_json_add_bool:
 * @b: a builder inside an object
 * @name: the member name
 * @value: the boolean
 *
 * Adds the member `"NAME": true` or `"NAME": false`.
 */
void wr_json_add_bool (JsonBuilder *b, const char *name, gboolean value);

/**
 * wr_json_add_strv:
 * @b: a builder inside an object
 * @name: the member name
 * @values: (nullable) (array zero-terminated=1): the strings; %NULL writes
 *   an empty array
 *
 * Adds the member `"NAME": ["VALUE", ...]`.
 */
void wr_json_add_strv (JsonBuilder *b, const char *name,
    const char *const *values);

G_END_DECLS
