/* webremote: the tamper-evident audit log (audit.h, docs/compliance.md). */
#include "config.h"

#include "gateway/audit.h"

#include <string.h>

#include "common/crypto.h"
#include "gateway/audit-private.h"
#include "gateway/store-audit.h"

G_DEFINE_QUARK (wr-audit-error-quark, wr_audit_error)

/* How often an append retries when another gateway took its seq. */
#define APPEND_ATTEMPTS 8

struct _WrAudit {
  WrStore *store;
  WrGrantSigner *signer;   /* nullable */
  guint checkpoint_rows;
  guint checkpoint_seconds;
};

/* ------------------------------------------------------------------ */
/* Canonical forms (audit-private.h) */

const char *
wr_audit_outcome_to_string (WrAuditOutcome outcome)
{
  switch (outcome) {
    case WR_AUDIT_OK:
      return "ok";
    case WR_AUDIT_DENIED:
      return "denied";
    case WR_AUDIT_FAILED:
      return "failed";
  }
  return "failed";
}

void
wr_audit_append_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\b':
        g_string_append (out, "\\b");
        break;
      case '\f':
        g_string_append (out, "\\f");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (char) *p);
    }
  }
  g_string_append_c (out, '"');
}

static void
append_nullable_string (GString *out, const char *s)
{
  if (s)
    wr_audit_append_json_string (out, s);
  else
    g_string_append (out, "null");
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
wr_audit_canonical_detail (JsonObject *detail, GError **error)
{
  g_autoptr (GString) out = g_string_new ("{");
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GList *members;

  if (!detail)
    return g_strdup ("{}");

  members = json_object_get_members (detail);
  for (GList *l = members; l; l = l->next)
    g_ptr_array_add (keys, l->data);
  g_list_free (members);
  g_ptr_array_sort (keys, compare_strings);

  for (guint i = 0; i < keys->len; i++) {
    const char *key = keys->pdata[i];
    JsonNode *node = json_object_get_member (detail, key);

    if (!g_utf8_validate (key, -1, NULL)) {
      g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
          "audit detail key is not UTF-8");
      return NULL;
    }
    if (i)
      g_string_append_c (out, ',');
    wr_audit_append_json_string (out, key);
    g_string_append_c (out, ':');
    if (JSON_NODE_HOLDS_NULL (node)) {
      g_string_append (out, "null");
      continue;
    }
    if (!JSON_NODE_HOLDS_VALUE (node)) {
      g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
          "audit detail '%s' is not a string, integer or boolean", key);
      return NULL;
    }
    switch (json_node_get_value_type (node)) {
      case G_TYPE_STRING: {
        const char *s = json_node_get_string (node);

        if (!g_utf8_validate (s, -1, NULL)) {
          g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
              "audit detail '%s' is not UTF-8", key);
          return NULL;
        }
        wr_audit_append_json_string (out, s);
        break;
      }
      case G_TYPE_INT64:
        g_string_append_printf (out, "%" G_GINT64_FORMAT,
            json_node_get_int (node));
        break;
      case G_TYPE_BOOLEAN:
        g_string_append (out, json_node_get_boolean (node) ? "true"
            : "false");
        break;
      default:
        g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
            "audit detail '%s' is not a string, integer or boolean", key);
        return NULL;
    }
  }
  g_string_append_c (out, '}');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
wr_audit_canonical_row (gint64 seq, gint64 ts, const char *type,
    const char *outcome, const char *actor, const char *agent,
    const char *session, const char *address, const char *detail_canonical)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "{\"seq\":%" G_GINT64_FORMAT ",\"ts\":%"
      G_GINT64_FORMAT ",\"type\":", seq, ts);
  append_nullable_string (out, type);
  g_string_append (out, ",\"outcome\":");
  append_nullable_string (out, outcome);
  g_string_append (out, ",\"actor\":");
  append_nullable_string (out, actor);
  g_string_append (out, ",\"agent\":");
  append_nullable_string (out, agent);
  g_string_append (out, ",\"session\":");
  append_nullable_string (out, session);
  g_string_append (out, ",\"address\":");
  append_nullable_string (out, address);
  g_string_append (out, ",\"detail\":");
  g_string_append (out, detail_canonical);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

char *
wr_audit_chain_hash (const char *prev_hash, const char *digest)
{
  g_autofree char *text = g_strconcat (prev_hash, "\n", digest, NULL);

  return wr_sha256_hex (text, strlen (text));
}

char *
wr_audit_checkpoint_payload (gint64 seq, const char *hash, gint64 ts)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "{\"seq\":%" G_GINT64_FORMAT ",\"hash\":",
      seq);
  append_nullable_string (out, hash);
  g_string_append_printf (out, ",\"ts\":%" G_GINT64_FORMAT "}", ts);
  return g_string_free (out, FALSE);
}

JsonObject *
wr_audit_parse_object (const char *text, gssize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!text || !json_parser_load_from_data (parser, text, len, NULL)
      || !(root = json_parser_get_root (parser)) || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
        "not a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

char *
wr_audit_row_digest (const WrAuditRow *row, GError **error)
{
  g_autoptr (JsonObject) detail = NULL;
  g_autofree char *detail_canonical = NULL;
  g_autofree char *canonical = NULL;

  detail = wr_audit_parse_object (row->detail, -1, error);
  if (!detail)
    return NULL;
  detail_canonical = wr_audit_canonical_detail (detail, error);
  if (!detail_canonical)
    return NULL;
  canonical = wr_audit_canonical_row (row->seq, row->ts, row->type,
      row->outcome, row->actor, row->agent, row->session, row->address,
      detail_canonical);
  return wr_sha256_hex (canonical, strlen (canonical));
}

/* ------------------------------------------------------------------ */
/* Writing */

WrAudit *
wr_audit_new (WrStore *store, WrGrantSigner *signer, guint checkpoint_rows,
    guint checkpoint_seconds)
{
  WrAudit *audit;

  g_return_val_if_fail (store != NULL, NULL);

  audit = g_new0 (WrAudit, 1);
  audit->store = store;
  audit->signer = signer;
  audit->checkpoint_rows = MAX (checkpoint_rows, 1);
  audit->checkpoint_seconds = MAX (checkpoint_seconds, 1);
  return audit;
}

void
wr_audit_free (WrAudit *audit)
{
  g_free (audit);
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gboolean
check_field (const char *what, const char *value, gsize max, GError **error)
{
  if (!value)
    return TRUE;
  if (strlen (value) > max || !g_utf8_validate (value, -1, NULL)) {
    g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
        "audit %s is too long or not UTF-8", what);
    return FALSE;
  }
  return TRUE;
}

/* Inside a locked transaction: signs and stores a checkpoint of
 * (@seq, @hash). */
static gboolean
write_checkpoint (WrAudit *audit, gint64 seq, const char *hash,
    GError **error)
{
  g_autofree char *payload = NULL;
  g_autofree char *signature = NULL;
  WrAuditCheckpoint cp = { 0 };

  cp.seq = seq;
  cp.hash = (char *) hash;
  cp.ts = now_ms ();
  payload = wr_audit_checkpoint_payload (cp.seq, cp.hash, cp.ts);
  signature = wr_grant_signer_sign (audit->signer, WR_AUDIT_CHECKPOINT_DOMAIN,
      payload, strlen (payload), error);
  if (!signature)
    return FALSE;
  cp.key = (char *) wr_grant_signer_get_public_key (audit->signer);
  cp.signature = signature;
  return wr_store_audit_checkpoint_insert (audit->store, &cp, error);
}

static gboolean
fail (GError **error, GError *cause, const char *what)
{
  g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
      "the audit log cannot be written (%s): %s", what,
      cause ? cause->message : "unknown");
  g_clear_error (&cause);
  return FALSE;
}

gboolean
wr_audit_append (WrAudit *audit, const WrAuditEvent *event,
    JsonObject *detail, gint64 *seq_out, GError **error)
{
  g_autofree char *detail_canonical = NULL;
  GError *local = NULL;

  g_return_val_if_fail (audit != NULL && event != NULL, FALSE);

  if (!event->type || !*event->type
      || !check_field ("type", event->type, WR_AUDIT_MAX_TYPE, error)
      || !check_field ("actor", event->actor, WR_AUDIT_MAX_FIELD, error)
      || !check_field ("agent", event->agent, WR_AUDIT_MAX_FIELD, error)
      || !check_field ("session", event->session, WR_AUDIT_MAX_FIELD, error)
      || !check_field ("address", event->address, WR_AUDIT_MAX_FIELD,
          error)) {
    if (error && !*error)
      g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
          "audit event without a type");
    return FALSE;
  }
  detail_canonical = wr_audit_canonical_detail (detail, error);
  if (!detail_canonical)
    return FALSE;
  if (strlen (detail_canonical) > WR_AUDIT_MAX_DETAIL) {
    g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
        "audit detail is too large");
    return FALSE;
  }

  for (guint attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
    g_autofree char *head_hash = NULL;
    g_autofree char *canonical = NULL;
    g_autofree char *digest = NULL;
    g_autofree char *hash = NULL;
    gint64 head = 0, last_cp = 0;
    WrAuditRow row = { 0 };

    if (!wr_store_begin (audit->store, &local))
      return fail (error, local, "begin");
    if (!wr_store_audit_lock (audit->store, &local)
        || !wr_store_audit_head (audit->store, &head, &head_hash, &local)) {
      wr_store_rollback (audit->store);
      return fail (error, local, "read");
    }

    row.seq = head + 1;
    row.ts = now_ms ();
    row.type = (char *) event->type;
    row.outcome = (char *) wr_audit_outcome_to_string (event->outcome);
    row.actor = (char *) event->actor;
    row.agent = (char *) event->agent;
    row.session = (char *) event->session;
    row.address = (char *) event->address;
    row.detail = detail_canonical;
    row.prev_hash = head_hash ? head_hash : (char *) WR_AUDIT_ZERO_HASH;
    canonical = wr_audit_canonical_row (row.seq, row.ts, row.type,
        row.outcome, row.actor, row.agent, row.session, row.address,
        row.detail);
    digest = wr_sha256_hex (canonical, strlen (canonical));
    hash = wr_audit_chain_hash (row.prev_hash, digest);
    row.hash = hash;

    if (!wr_store_audit_insert (audit->store, &row, &local)) {
      gboolean again = g_error_matches (local, WR_STORE_ERROR,
          WR_STORE_ERROR_CONFLICT);

      wr_store_rollback (audit->store);
      if (again) {
        g_debug ("audit: seq %" G_GINT64_FORMAT " taken, retrying", row.seq);
        g_clear_error (&local);
        g_usleep (g_random_int_range (1000, 5000) * (attempt + 1));
        continue;
      }
      return fail (error, local, "insert");
    }

    if (audit->signer) {
      if (!wr_store_audit_last_checkpoint (audit->store, &last_cp, &local)
          || (row.seq - last_cp >= (gint64) audit->checkpoint_rows
              && !write_checkpoint (audit, row.seq, row.hash, &local))) {
        wr_store_rollback (audit->store);
        return fail (error, local, "checkpoint");
      }
    }

    if (!wr_store_commit (audit->store, &local))
      return fail (error, local, "commit");
    if (seq_out)
      *seq_out = row.seq;
    return TRUE;
  }
  g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
      "the audit log cannot be written: too many concurrent writers");
  return FALSE;
}

gboolean
wr_audit_checkpoint_if_due (WrAudit *audit, gboolean force, GError **error)
{
  g_autofree char *head_hash = NULL;
  GError *local = NULL;
  gint64 head = 0, last_cp = 0, oldest_ts = 0;
  gboolean found = FALSE, due;

  g_return_val_if_fail (audit != NULL, FALSE);

  if (!audit->signer) {
    if (!force)
      return TRUE;
    g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
        "no signing key for audit checkpoints");
    return FALSE;
  }
  if (!wr_store_begin (audit->store, &local))
    return fail (error, local, "begin");
  if (!wr_store_audit_lock (audit->store, &local)
      || !wr_store_audit_head (audit->store, &head, &head_hash, &local)
      || !wr_store_audit_last_checkpoint (audit->store, &last_cp, &local))
    goto failed;
  if (head == 0 || last_cp >= head) {
    wr_store_rollback (audit->store);
    return TRUE;
  }
  due = force || head - last_cp >= (gint64) audit->checkpoint_rows;
  if (!due) {
    if (!wr_store_audit_row_ts (audit->store, last_cp + 1, &oldest_ts,
            &found, &local))
      goto failed;
    due = !found
        || now_ms () - oldest_ts >= (gint64) audit->checkpoint_seconds * 1000;
  }
  if (!due) {
    wr_store_rollback (audit->store);
    return TRUE;
  }
  if (!write_checkpoint (audit, head, head_hash, &local))
    goto failed;
  if (!wr_store_commit (audit->store, &local))
    return fail (error, local, "commit");
  return TRUE;

failed:
  wr_store_rollback (audit->store);
  return fail (error, local, "checkpoint");
}

/* ------------------------------------------------------------------ */
/* Reading */

static gboolean
check_filter (const WrAuditFilter *f, GError **error)
{
  const char *const fields[] = { f->user, f->agent, f->session, f->type };
  const char *const names[] = { "user", "agent", "session", "type" };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    if (fields[i] && (!*fields[i] || strlen (fields[i]) > WR_AUDIT_MAX_FIELD
            || !g_utf8_validate (fields[i], -1, NULL))) {
      g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
          "bad %s filter", names[i]);
      return FALSE;
    }
  }
  if (f->from_ms < 0 || f->to_ms < 0 || f->before_seq < 0
      || (f->from_ms && f->to_ms && f->from_ms > f->to_ms)) {
    g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
        "bad time range");
    return FALSE;
  }
  return TRUE;
}

static gboolean
store_failed (GError **error, GError *cause)
{
  g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
      "the audit log cannot be read: %s", cause->message);
  g_error_free (cause);
  return FALSE;
}

static JsonObject *
row_to_json (const WrAuditRow *row)
{
  JsonObject *o = json_object_new ();
  JsonObject *detail = wr_audit_parse_object (row->detail, -1, NULL);

  json_object_set_int_member (o, "seq", row->seq);
  json_object_set_int_member (o, "ts", row->ts);
  json_object_set_string_member (o, "type", row->type);
  json_object_set_string_member (o, "outcome", row->outcome);
  json_object_set_string_member (o, "actor", row->actor);
  json_object_set_string_member (o, "agent", row->agent);
  json_object_set_string_member (o, "session", row->session);
  json_object_set_string_member (o, "address", row->address);
  json_object_set_object_member (o, "detail",
      detail ? detail : json_object_new ());
  json_object_set_string_member (o, "hash", row->hash);
  return o;
}

JsonArray *
wr_audit_query (WrAudit *audit, const WrAuditFilter *filter, GError **error)
{
  g_autoptr (GPtrArray) rows = NULL;
  WrAuditFilter f = *filter;
  GError *local = NULL;
  JsonArray *out;

  if (!check_filter (&f, error))
    return NULL;
  if (f.limit == 0)
    f.limit = 100;
  f.limit = MIN (f.limit, 1000);
  rows = wr_store_audit_query (audit->store, &f, &local);
  if (!rows) {
    store_failed (error, local);
    return NULL;
  }
  out = json_array_sized_new (rows->len);
  for (guint i = 0; i < rows->len; i++)
    json_array_add_object_element (out, row_to_json (rows->pdata[i]));
  return out;
}

static gboolean
row_matches (const WrAuditRow *row, const WrAuditFilter *f)
{
  if (f->user && g_strcmp0 (row->actor, f->user) != 0)
    return FALSE;
  if (f->agent && g_strcmp0 (row->agent, f->agent) != 0)
    return FALSE;
  if (f->session && g_strcmp0 (row->session, f->session) != 0)
    return FALSE;
  if (f->type && g_str_has_suffix (f->type, ".")
      && !g_str_has_prefix (row->type, f->type))
    return FALSE;
  if (f->type && !g_str_has_suffix (f->type, ".")
      && g_strcmp0 (row->type, f->type) != 0)
    return FALSE;
  if (f->from_ms > 0 && row->ts < f->from_ms)
    return FALSE;
  if (f->to_ms > 0 && row->ts > f->to_ms)
    return FALSE;
  return TRUE;
}

static void
append_full_line (GString *out, const WrAuditRow *row)
{
  g_autoptr (JsonObject) detail = wr_audit_parse_object (row->detail, -1,
      NULL);
  g_autofree char *detail_canonical = detail
      ? wr_audit_canonical_detail (detail, NULL) : NULL;
  g_autofree char *canonical = wr_audit_canonical_row (row->seq, row->ts,
      row->type, row->outcome, row->actor, row->agent, row->session,
      row->address, detail_canonical ? detail_canonical : "{}");

  /* The canonical form without its closing brace, then the chain. */
  g_string_append_len (out, canonical, strlen (canonical) - 1);
  g_string_append (out, ",\"prev_hash\":");
  append_nullable_string (out, row->prev_hash);
  g_string_append (out, ",\"hash\":");
  append_nullable_string (out, row->hash);
  g_string_append (out, "}\n");
}

static void
append_redacted_line (GString *out, const WrAuditRow *row)
{
  g_autofree char *digest = wr_audit_row_digest (row, NULL);

  g_string_append_printf (out, "{\"seq\":%" G_GINT64_FORMAT
      ",\"prev_hash\":", row->seq);
  append_nullable_string (out, row->prev_hash);
  g_string_append (out, ",\"digest\":");
  append_nullable_string (out, digest ? digest : "");
  g_string_append (out, ",\"hash\":");
  append_nullable_string (out, row->hash);
  g_string_append (out, "}\n");
}

static void
append_checkpoint_line (GString *out, const WrAuditCheckpoint *cp)
{
  g_string_append_printf (out, "{\"seq\":%" G_GINT64_FORMAT ",\"hash\":",
      cp->seq);
  append_nullable_string (out, cp->hash);
  g_string_append_printf (out, ",\"ts\":%" G_GINT64_FORMAT ",\"key\":",
      cp->ts);
  append_nullable_string (out, cp->key);
  g_string_append (out, ",\"signature\":");
  append_nullable_string (out, cp->signature);
  g_string_append (out, "}\n");
}

gboolean
wr_audit_export (WrAudit *audit, const WrAuditFilter *filter,
    GString *events, GString *checkpoints, GError **error)
{
  g_autoptr (WrAuditCheckpoint) cover = NULL;
  g_autoptr (GPtrArray) cps = NULL;
  WrAuditFilter f = *filter;
  GError *local = NULL;
  gint64 first = 0, last = 0, after;

  f.limit = 0;
  f.before_seq = 0;
  if (!check_filter (&f, error))
    return FALSE;
  if (!wr_store_audit_match_range (audit->store, &f, &first, &last, &local))
    return store_failed (error, local);
  if (first == 0)
    return TRUE;

  cover = wr_store_audit_checkpoint_at_or_after (audit->store, last, &local);
  if (!cover && local)
    return store_failed (error, local);
  if (!cover) {
    if (!wr_audit_checkpoint_if_due (audit, TRUE, error))
      return FALSE;
    cover = wr_store_audit_checkpoint_at_or_after (audit->store, last,
        &local);
    if (!cover && local)
      return store_failed (error, local);
    if (!cover) {
      g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
          "no checkpoint covers the exported rows");
      return FALSE;
    }
  }

  for (after = first - 1; after < cover->seq;) {
    g_autoptr (GPtrArray) rows = wr_store_audit_list (audit->store, after,
        cover->seq, 1000, &local);

    if (!rows)
      return store_failed (error, local);
    if (rows->len == 0)
      break;
    for (guint i = 0; i < rows->len; i++) {
      const WrAuditRow *row = rows->pdata[i];

      if (row_matches (row, &f))
        append_full_line (events, row);
      else
        append_redacted_line (events, row);
      after = row->seq;
    }
  }

  cps = wr_store_audit_checkpoints (audit->store, first, cover->seq, &local);
  if (!cps)
    return store_failed (error, local);
  for (guint i = 0; i < cps->len; i++)
    append_checkpoint_line (checkpoints, cps->pdata[i]);
  return TRUE;
}
