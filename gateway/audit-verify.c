/* webremote: checking the audit chain and its checkpoints, on the store
 * or on an exported slice (audit.h, docs/compliance.md). */
#include "config.h"

#include <string.h>

#include "common/autocleanups.h"
#include "common/crypto.h"
#include "common/grant.h"
#include "gateway/audit-private.h"
#include "gateway/audit.h"
#include "gateway/grant-signer.h"
#include "gateway/store-audit.h"

void
wr_audit_report_clear (WrAuditReport *report)
{
  g_free (report->key);
  g_free (report->problem);
  memset (report, 0, sizeof *report);
}

typedef struct {
  WrAuditReport *report;
  const char *pinned_key;
  gboolean from_start;     /* the store: the chain starts at seq 1 */
  GPtrArray *checkpoints;  /* WrAuditCheckpoint, ascending */
  guint next_cp;
  char *hash;              /* the previous row's hash */
  char *hash_before;       /* the hash of the row before that */
  GHashTable *present;     /* (nullable): every seq of a slice's lines */
  gboolean broken;
} Walker;

static gboolean
walker_bad (Walker *w, gint64 seq, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
walker_bad (Walker *w, gint64 seq, const char *format, ...)
{
  va_list args;

  if (w->broken)
    return FALSE;
  w->broken = TRUE;
  w->report->bad_seq = seq;
  va_start (args, format);
  w->report->problem = g_strdup_vprintf (format, args);
  va_end (args);
  return FALSE;
}

static void
walker_init (Walker *w, WrAuditReport *report, const char *pinned_key,
    gboolean from_start, GPtrArray *checkpoints)
{
  memset (report, 0, sizeof *report);
  memset (w, 0, sizeof *w);
  w->report = report;
  w->pinned_key = pinned_key;
  w->from_start = from_start;
  w->checkpoints = checkpoints;
}

static void
walker_clear (Walker *w)
{
  g_clear_pointer (&w->present, g_hash_table_unref);
  g_free (w->hash);
  g_free (w->hash_before);
}

static gboolean
same_key (const char *a, const char *b)
{
  g_autofree char *x = g_strstrip (g_strdup (a ? a : ""));
  g_autofree char *y = g_strstrip (g_strdup (b ? b : ""));

  return g_str_equal (x, y);
}

/* Checks the checkpoint @cp against the chain's hash @hash at its seq. */
static gboolean
walker_checkpoint (Walker *w, const WrAuditCheckpoint *cp, const char *hash)
{
  g_autofree char *payload = NULL;
  WrAuditReport *r = w->report;

  if (w->pinned_key && !same_key (cp->key, w->pinned_key))
    return walker_bad (w, cp->seq, "checkpoint at seq %" G_GINT64_FORMAT
        " is signed by key %s, not by the pinned key", cp->seq,
        cp->key ? cp->key : "(none)");
  if (!w->pinned_key && r->key && !same_key (cp->key, r->key))
    return walker_bad (w, cp->seq, "checkpoint at seq %" G_GINT64_FORMAT
        " is signed by key %s, earlier checkpoints by %s (pin the right "
        "one with --key)", cp->seq, cp->key ? cp->key : "(none)", r->key);
  payload = wr_audit_checkpoint_payload (cp->seq, cp->hash, cp->ts);
  if (!wr_grant_signer_verify (cp->key, WR_AUDIT_CHECKPOINT_DOMAIN, payload,
          strlen (payload), cp->signature, NULL))
    return walker_bad (w, cp->seq, "checkpoint at seq %" G_GINT64_FORMAT
        " has a bad signature", cp->seq);
  if (g_strcmp0 (cp->hash, hash) != 0)
    return walker_bad (w, cp->seq, "the chain up to seq %" G_GINT64_FORMAT
        " does not match its signed checkpoint (rows up to it were "
        "rewritten)", cp->seq);
  if (!r->key)
    r->key = g_strstrip (g_strdup (cp->key));
  r->checkpoints++;
  r->last_checkpoint_seq = cp->seq;
  return TRUE;
}

/* One row: @digest is %NULL when its content cannot be read (@why). */
static gboolean
walker_row (Walker *w, gint64 seq, const char *prev_hash,
    const char *digest, const char *hash, const char *why)
{
  WrAuditReport *r = w->report;
  g_autofree char *computed = NULL;

  if (w->broken)
    return FALSE;

  if (r->rows == 0) {
    if (w->from_start && seq != 1)
      return walker_bad (w, 1, "rows 1 to %" G_GINT64_FORMAT " are missing "
          "(deleted)", seq - 1);
    if (w->from_start && g_strcmp0 (prev_hash, WR_AUDIT_ZERO_HASH) != 0)
      return walker_bad (w, seq, "the first row's prev_hash is not zero "
          "(rows before it were deleted)");
    /* Checkpoints before an exported slice's first row are not ours. */
    while (!w->from_start && w->next_cp < w->checkpoints->len
        && ((WrAuditCheckpoint *) w->checkpoints->pdata[w->next_cp])->seq
            < seq)
      w->next_cp++;
    r->first_seq = seq;
  } else {
    gint64 expected = r->last_seq + 1;

    if (seq > expected && w->present
        && g_hash_table_contains (w->present, &expected))
      return walker_bad (w, expected, "row %" G_GINT64_FORMAT " is out of "
          "order (row %" G_GINT64_FORMAT " comes before it)", expected, seq);
    if (seq > expected && seq == expected + 1)
      return walker_bad (w, expected, "row %" G_GINT64_FORMAT " is missing "
          "(deleted)", expected);
    if (seq > expected)
      return walker_bad (w, expected, "rows %" G_GINT64_FORMAT " to %"
          G_GINT64_FORMAT " are missing (deleted)", expected, seq - 1);
    if (seq < expected)
      return walker_bad (w, seq, "row %" G_GINT64_FORMAT " is out of order "
          "(after row %" G_GINT64_FORMAT ")", seq, r->last_seq);
    if (g_strcmp0 (prev_hash, w->hash) != 0) {
      if (w->hash_before && g_strcmp0 (prev_hash, w->hash_before) == 0)
        return walker_bad (w, seq - 1, "row %" G_GINT64_FORMAT " was "
            "inserted (row %" G_GINT64_FORMAT " links to row %"
            G_GINT64_FORMAT ")", seq - 1, seq, seq - 2);
      return walker_bad (w, seq, "row %" G_GINT64_FORMAT " does not link "
          "to row %" G_GINT64_FORMAT " (a row was deleted, inserted or "
          "reordered here)", seq, seq - 1);
    }
  }

  if (!digest)
    return walker_bad (w, seq, "row %" G_GINT64_FORMAT " is unreadable: %s",
        seq, why ? why : "bad content");
  computed = wr_audit_chain_hash (prev_hash ? prev_hash : "", digest);
  if (g_strcmp0 (computed, hash) != 0)
    return walker_bad (w, seq, "row %" G_GINT64_FORMAT " does not match "
        "its hash (its content was edited)", seq);

  g_free (w->hash_before);
  w->hash_before = g_steal_pointer (&w->hash);
  w->hash = g_strdup (hash);
  r->rows++;
  r->last_seq = seq;

  while (w->next_cp < w->checkpoints->len) {
    const WrAuditCheckpoint *cp = w->checkpoints->pdata[w->next_cp];

    if (cp->seq > seq)
      break;
    w->next_cp++;
    if (cp->seq < seq)
      continue;   /* a gap: reported above already */
    if (!walker_checkpoint (w, cp, w->hash))
      return FALSE;
  }
  return TRUE;
}

/* After the last row. @need_anchor: the slice must end at a checkpoint. */
static gboolean
walker_finish (Walker *w, gboolean need_anchor, GError **error)
{
  WrAuditReport *r = w->report;

  if (!w->broken && w->next_cp < w->checkpoints->len) {
    const WrAuditCheckpoint *cp = w->checkpoints->pdata[w->next_cp];
    gint64 from = r->last_seq + 1;

    walker_bad (w, from, "rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
        " covered by a signed checkpoint are missing (deleted)", from,
        cp->seq);
  }
  if (!w->broken)
    r->unanchored = r->last_seq - MAX (r->last_checkpoint_seq,
        r->first_seq - 1);
  if (!w->broken && need_anchor && r->rows > 0 && r->unanchored > 0)
    walker_bad (w, MAX (r->last_checkpoint_seq + 1, r->first_seq),
        "rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " are not covered "
        "by a signed checkpoint",
        MAX (r->last_checkpoint_seq + 1, r->first_seq), r->last_seq);
  if (!w->broken && w->pinned_key && !r->key)
    r->key = g_strstrip (g_strdup (w->pinned_key));
  if (w->broken) {
    g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN,
        "audit log broken at seq %" G_GINT64_FORMAT ": %s", r->bad_seq,
        r->problem);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_pinned_key (const char *pinned_key, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  if (!pinned_key)
    return TRUE;
  key = wr_grant_public_key_from_string (pinned_key, &local);
  if (!key) {
    g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
        "bad key: %s", local->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr_audit_verify_store (WrStore *store, const char *pinned_key,
    WrAuditReport *report, GError **error)
{
  g_autoptr (GPtrArray) cps = NULL;
  GError *local = NULL;
  Walker w;
  gint64 after = 0;
  gboolean ok;

  g_return_val_if_fail (store != NULL && report != NULL, FALSE);

  memset (report, 0, sizeof *report);
  if (!check_pinned_key (pinned_key, error))
    return FALSE;
  cps = wr_store_audit_checkpoints (store, 0, 0, &local);
  if (!cps) {
    g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
        "cannot read the audit log: %s", local->message);
    g_error_free (local);
    return FALSE;
  }
  walker_init (&w, report, pinned_key, TRUE, cps);
  for (;;) {
    g_autoptr (GPtrArray) rows = wr_store_audit_list (store, after, 0, 1000,
        &local);

    if (!rows) {
      walker_clear (&w);
      wr_audit_report_clear (report);
      g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_FAILED,
          "cannot read the audit log: %s", local->message);
      g_error_free (local);
      return FALSE;
    }
    if (rows->len == 0)
      break;
    for (guint i = 0; i < rows->len && !w.broken; i++) {
      const WrAuditRow *row = rows->pdata[i];
      g_autoptr (GError) why = NULL;
      g_autofree char *digest = wr_audit_row_digest (row, &why);

      walker_row (&w, row->seq, row->prev_hash, digest, row->hash,
          why ? "its detail is not a valid detail object" : NULL);
      after = row->seq;
    }
    if (w.broken)
      break;
  }
  ok = walker_finish (&w, FALSE, error);
  walker_clear (&w);
  return ok;
}

/* ---- exported JSON Lines ---- */

static const char *
member_string (JsonObject *o, const char *name, gboolean *ok)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    *ok = FALSE;
    return NULL;
  }
  return json_node_get_string (n);
}

static gint64
member_int (JsonObject *o, const char *name, gboolean *ok)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64) {
    *ok = FALSE;
    return 0;
  }
  return json_node_get_int (n);
}

static gboolean
is_hex64 (const char *s)
{
  if (!s || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

/* Splits JSON Lines; blank lines are skipped. */
static GPtrArray *
split_lines (const char *text, gsize len)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  const char *p = text, *end = text + len;

  while (p && p < end) {
    const char *nl = memchr (p, '\n', end - p);
    const char *stop = nl ? nl : end;

    if (stop > p)
      g_ptr_array_add (lines, g_strndup (p, stop - p));
    p = nl ? nl + 1 : end;
  }
  return lines;
}

static GPtrArray *
parse_checkpoints (const char *text, gsize len, GError **error)
{
  g_autoptr (GPtrArray) lines = split_lines (text, len);
  g_autoptr (GPtrArray) cps = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_audit_checkpoint_free);

  for (guint i = 0; i < lines->len; i++) {
    const char *line = lines->pdata[i];
    g_autoptr (JsonObject) o = NULL;
    WrAuditCheckpoint *cp;
    gboolean ok = TRUE;

    if (strlen (line) > WR_AUDIT_MAX_LINE
        || !(o = wr_audit_parse_object (line, -1, NULL))) {
      g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN,
          "checkpoints line %u is not a JSON object", i + 1);
      return NULL;
    }
    cp = g_new0 (WrAuditCheckpoint, 1);
    cp->seq = member_int (o, "seq", &ok);
    cp->ts = member_int (o, "ts", &ok);
    cp->hash = g_strdup (member_string (o, "hash", &ok));
    cp->key = g_strdup (member_string (o, "key", &ok));
    cp->signature = g_strdup (member_string (o, "signature", &ok));
    g_ptr_array_add (cps, cp);
    if (!ok || !cp->hash || !cp->key || !cp->signature) {
      g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN,
          "checkpoints line %u is not a checkpoint", i + 1);
      return NULL;
    }
    if (i > 0 && cp->seq <= ((WrAuditCheckpoint *) cps->pdata[i - 1])->seq) {
      g_set_error (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_BROKEN,
          "checkpoints line %u is out of order", i + 1);
      return NULL;
    }
  }
  return g_steal_pointer (&cps);
}

/* The digest of one exported line: a full row's is computed, a redacted
 * row's is taken as given. %NULL with @why on junk. */
static char *
line_digest (JsonObject *o, gint64 seq, const char **why)
{
  gboolean ok = TRUE;
  const char *type, *outcome, *actor, *agent, *session, *address;
  g_autofree char *detail_canonical = NULL;
  g_autofree char *canonical = NULL;
  JsonNode *detail;
  gint64 ts;

  if (!json_object_has_member (o, "type")) {
    const char *digest = member_string (o, "digest", &ok);

    if (!ok || !is_hex64 (digest)) {
      *why = "a redacted row without a valid digest";
      return NULL;
    }
    return g_strdup (digest);
  }
  ts = member_int (o, "ts", &ok);
  type = member_string (o, "type", &ok);
  outcome = member_string (o, "outcome", &ok);
  actor = member_string (o, "actor", &ok);
  agent = member_string (o, "agent", &ok);
  session = member_string (o, "session", &ok);
  address = member_string (o, "address", &ok);
  detail = json_object_get_member (o, "detail");
  if (!ok || !type || !outcome || !detail || !JSON_NODE_HOLDS_OBJECT (detail)
      || !(detail_canonical = wr_audit_canonical_detail (
          json_node_get_object (detail), NULL))) {
    *why = "a row with missing or malformed fields";
    return NULL;
  }
  canonical = wr_audit_canonical_row (seq, ts, type, outcome, actor, agent,
      session, address, detail_canonical);
  return wr_sha256_hex (canonical, strlen (canonical));
}

gboolean
wr_audit_verify_lines (const char *events, gsize events_len,
    const char *checkpoints, gsize checkpoints_len, const char *pinned_key,
    WrAuditReport *report, GError **error)
{
  g_autoptr (GPtrArray) cps = NULL;
  g_autoptr (GPtrArray) lines = NULL;
  Walker w;
  gboolean ok;

  g_return_val_if_fail (report != NULL, FALSE);

  memset (report, 0, sizeof *report);
  if (!check_pinned_key (pinned_key, error))
    return FALSE;
  cps = parse_checkpoints (checkpoints, checkpoints_len, error);
  if (!cps)
    return FALSE;
  lines = split_lines (events, events_len);
  walker_init (&w, report, pinned_key, FALSE, cps);
  w.present = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      NULL);
  for (guint i = 0; i < lines->len; i++) {
    const char *line = lines->pdata[i];
    g_autoptr (JsonObject) o = NULL;
    gboolean fields_ok = TRUE;
    gint64 seq;

    if (strlen (line) > WR_AUDIT_MAX_LINE
        || !(o = wr_audit_parse_object (line, -1, NULL)))
      continue;
    seq = member_int (o, "seq", &fields_ok);
    if (fields_ok)
      g_hash_table_add (w.present, g_memdup2 (&seq, sizeof seq));
  }

  for (guint i = 0; i < lines->len && !w.broken; i++) {
    const char *line = lines->pdata[i];
    g_autoptr (JsonObject) o = NULL;
    g_autofree char *digest = NULL;
    const char *why = NULL, *prev_hash, *hash;
    gboolean fields_ok = TRUE;
    gint64 seq;

    if (strlen (line) > WR_AUDIT_MAX_LINE
        || !(o = wr_audit_parse_object (line, -1, NULL))) {
      walker_bad (&w, report->rows ? report->last_seq + 1 : 0,
          "events line %u is not a JSON object", i + 1);
      break;
    }
    seq = member_int (o, "seq", &fields_ok);
    prev_hash = member_string (o, "prev_hash", &fields_ok);
    hash = member_string (o, "hash", &fields_ok);
    if (!fields_ok || seq <= 0 || !is_hex64 (prev_hash) || !is_hex64 (hash)) {
      walker_bad (&w, fields_ok && seq > 0 ? seq
          : (report->rows ? report->last_seq + 1 : 0),
          "events line %u lacks a valid seq, prev_hash or hash", i + 1);
      break;
    }
    digest = line_digest (o, seq, &why);
    walker_row (&w, seq, prev_hash, digest, hash, why);
  }
  if (!w.broken && report->rows == 0 && cps->len > 0)
    walker_bad (&w, ((WrAuditCheckpoint *) cps->pdata[0])->seq,
        "there are checkpoints but no events");
  ok = walker_finish (&w, TRUE, error);
  walker_clear (&w);
  return ok;
}
