/* webremote: keyfile configuration checked against a declared schema. */
#include "config.h"

#include "common/config.h"

#include <string.h>

G_DEFINE_QUARK (wr-config-error-quark, wr_config_error)

/* GKeyFile does not keep line numbers, so find them in the text: the first
 * line of @key inside [@group] (or the group header when @key is NULL). */
int
wr_config_find_line (const char *text, const char *group, const char *key)
{
  g_auto (GStrv) lines = NULL;
  gboolean in_group = FALSE;

  if (!text)
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    g_autofree char *line = g_strstrip (g_strdup (lines[i]));
    if (line[0] == '[') {
      g_autofree char *name = g_strndup (line + 1, strcspn (line + 1, "]"));
      in_group = g_str_equal (name, group);
      if (in_group && !key)
        return i + 1;
      continue;
    }
    if (in_group && key) {
      gsize klen = strlen (key);
      if (g_str_has_prefix (line, key)) {
        const char *rest = line + klen;
        while (*rest == ' ' || *rest == '\t')
          rest++;
        if (*rest == '=' || *rest == '[')
          return i + 1;
      }
    }
  }
  return 0;
}

static void
problem (GString *out, const char *path, const char *text, const char *group,
    const char *key, const char *fmt, ...) G_GNUC_PRINTF (6, 7);

static void
problem (GString *out, const char *path, const char *text, const char *group,
    const char *key, const char *fmt, ...)
{
  va_list args;

  if (out->len)
    g_string_append_c (out, '\n');
  g_string_append_printf (out, "%s:%d: [%s]%s%s: ", path ? path : "(config)",
      wr_config_find_line (text, group, key), group, key ? " " : "", key ? key : "");
  va_start (args, fmt);
  g_string_append_vprintf (out, fmt, args);
  va_end (args);
}

/* A schema group ending in '*' stands for every group that starts with
 * what comes before it and has something after, such as "command *" for
 * [command uptime]. */
static gboolean
group_matches (const char *pattern, const char *group)
{
  gsize len = strlen (pattern);

  if (len > 0 && pattern[len - 1] == '*')
    return strlen (group) > len - 1 && strncmp (pattern, group, len - 1) == 0;
  return g_str_equal (pattern, group);
}

static const WrConfigKey *
schema_find (const WrConfigKey *schema, const char *group, const char *key)
{
  for (const WrConfigKey *k = schema; k->group; k++)
    if (group_matches (k->group, group)
        && (!key || g_str_equal (k->key, key)))
      return k;
  return NULL;
}

static void
check_value (GKeyFile *kf, const char *group, const WrConfigKey *k,
    const char *path, const char *text, GString *out)
{
  g_autoptr (GError) err = NULL;

  switch (k->type) {
    case WR_KEY_STRING: {
      g_autofree char *v = g_key_file_get_string (kf, group, k->key, &err);
      if (!v)
        problem (out, path, text, group, k->key, "not a valid string");
      else if (k->max > 0 && (gint64) strlen (v) > k->max)
        problem (out, path, text, group, k->key,
            "longer than %" G_GINT64_FORMAT " bytes", k->max);
      break;
    }
    case WR_KEY_INT: {
      g_autofree char *raw = g_key_file_get_value (kf, group, k->key, NULL);
      gint64 v;
      if (!raw || !g_ascii_string_to_signed (g_strstrip (raw), 10, G_MININT64,
              G_MAXINT64, &v, NULL))
        problem (out, path, text, group, k->key,
            "'%s' is not an integer", raw ? raw : "");
      else if (v < k->min || v > k->max)
        problem (out, path, text, group, k->key,
            "%" G_GINT64_FORMAT " is out of range %" G_GINT64_FORMAT
            "..%" G_GINT64_FORMAT, v, k->min, k->max);
      break;
    }
    case WR_KEY_BOOL:
      g_key_file_get_boolean (kf, group, k->key, &err);
      if (err)
        problem (out, path, text, group, k->key,
            "not a boolean (use true or false)");
      break;
    case WR_KEY_STRING_LIST: {
      g_auto (GStrv) v = g_key_file_get_string_list (kf, group, k->key,
          NULL, &err);
      if (err)
        problem (out, path, text, group, k->key, "not a valid list");
      break;
    }
  }
}

gboolean
wr_config_check (GKeyFile *kf, const char *path, const char *text,
    const WrConfigKey *schema, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (int g = 0; groups[g]; g++) {
    g_auto (GStrv) keys = NULL;

    if (!schema_find (schema, groups[g], NULL)) {
      problem (out, path, text, groups[g], NULL, "unknown section");
      continue;
    }
    keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
    for (int i = 0; keys && keys[i]; i++) {
      const WrConfigKey *k = schema_find (schema, groups[g], keys[i]);
      if (!k)
        problem (out, path, text, groups[g], keys[i], "unknown key");
      else
        check_value (kf, groups[g], k, path, text, out);
    }
  }

  if (out->len) {
    g_set_error_literal (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_INVALID,
        out->str);
    return FALSE;
  }
  return TRUE;
}

GKeyFile *
wr_config_load (const char *path, const WrConfigKey *schema, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &local)) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO,
        "%s: cannot read: %s", path, local->message);
    return NULL;
  }
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, WR_CONFIG_ERROR, WR_CONFIG_ERROR_IO,
        "%s: not a valid key file: %s", path, local->message);
    return NULL;
  }
  if (!wr_config_check (kf, path, text, schema, error))
    return NULL;
  return g_steal_pointer (&kf);
}

char *
wr_config_get_string (GKeyFile *kf, const char *group, const char *key,
    const char *def)
{
  char *v;

  if (!kf || !g_key_file_has_key (kf, group, key, NULL))
    return g_strdup (def);
  v = g_key_file_get_string (kf, group, key, NULL);
  return v ? g_strstrip (v) : g_strdup (def);
}

gint64
wr_config_get_int (GKeyFile *kf, const char *group, const char *key,
    gint64 def)
{
  g_autofree char *raw = NULL;
  gint64 v;

  if (!kf || !g_key_file_has_key (kf, group, key, NULL))
    return def;
  raw = g_key_file_get_value (kf, group, key, NULL);
  if (!raw || !g_ascii_string_to_signed (g_strstrip (raw), 10, G_MININT64,
          G_MAXINT64, &v, NULL))
    return def;
  return v;
}

gboolean
wr_config_get_bool (GKeyFile *kf, const char *group, const char *key,
    gboolean def)
{
  g_autoptr (GError) err = NULL;
  gboolean v;

  if (!kf || !g_key_file_has_key (kf, group, key, NULL))
    return def;
  v = g_key_file_get_boolean (kf, group, key, &err);
  return err ? def : v;
}

char **
wr_config_get_string_list (GKeyFile *kf, const char *group, const char *key)
{
  char **v;

  if (!kf || !g_key_file_has_key (kf, group, key, NULL))
    return NULL;
  v = g_key_file_get_string_list (kf, group, key, NULL, NULL);
  for (int i = 0; v && v[i]; i++)
    g_strstrip (v[i]);
  return v;
}
