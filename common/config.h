/* webremote: keyfile configuration checked against a declared schema. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WR_CONFIG_ERROR (wr_config_error_quark ())
GQuark wr_config_error_quark (void);

typedef enum {
  WR_CONFIG_ERROR_INVALID, /* one or more keys are unknown or malformed */
  WR_CONFIG_ERROR_IO,      /* the file could not be read or parsed */
} WrConfigError;

typedef enum {
  WR_KEY_STRING,
  WR_KEY_INT,
  WR_KEY_BOOL,
  WR_KEY_STRING_LIST,
} WrKeyType;

/* One allowed key. A group ending in '*' matches every group starting
 * with the text before it (e.g. "command *" for [command uptime]). For
 * WR_KEY_INT the value must be within [min, max]; for
 * WR_KEY_STRING max > 0 bounds the length in bytes. */
typedef struct {
  const char *group;
  const char *key;
  WrKeyType type;
  gint64 min;
  gint64 max;
} WrConfigKey;

/**
 * wr_config_load:
 * @path: the keyfile to read
 * @schema: the allowed keys, ending with an entry whose group is %NULL
 * @error: on failure, one line per problem in the form
 *   `FILE:LINE: [group] key: reason`
 *
 * Returns: (transfer full) (nullable): the key file, or %NULL when it could
 * not be read or any key is unknown, of the wrong type or out of range.
 */
GKeyFile *wr_config_load (const char *path, const WrConfigKey *schema,
    GError **error);

/**
 * wr_config_check:
 * Checks an already loaded @kf against @schema; @path and @text (the file's
 * contents, for line numbers; nullable) only label the messages.
 */
gboolean wr_config_check (GKeyFile *kf, const char *path, const char *text,
    const WrConfigKey *schema, GError **error);

/**
 * wr_config_find_line:
 * @text: (nullable): a key file's contents
 * @key: (nullable): %NULL for the group header
 * Returns: the 1-based line of @key in [@group] in @text, 0 if not found;
 * for `FILE:LINE` messages about values the schema cannot check.
 */
int wr_config_find_line (const char *text, const char *group,
    const char *key);

/* Typed getters for a checked key file; @kf may be %NULL (no file). Each
 * returns @def when the key is absent. */
char *wr_config_get_string (GKeyFile *kf, const char *group, const char *key,
    const char *def);
gint64 wr_config_get_int (GKeyFile *kf, const char *group, const char *key,
    gint64 def);
gboolean wr_config_get_bool (GKeyFile *kf, const char *group,
    const char *key, gboolean def);
char **wr_config_get_string_list (GKeyFile *kf, const char *group,
    const char *key);

G_END_DECLS
