/* webremote: the agents the gateway knows, online or not. */
#pragma once

#include <json-glib/json-glib.h>

#include "gateway/connection.h"

G_BEGIN_DECLS

/* What an agent said about itself in agent.hello and agent.status. */
typedef struct {
  char *id;
  char *name;
  char *version;
  JsonArray *displays;  /* of {name, width, height} */
  JsonArray *encoders;  /* of strings */
  JsonArray *pipelines; /* of {display, encoder, peers} */
  gint64 last_seen;     /* unix seconds */
  WrConnection *conn;   /* (nullable): set while online */
} WrAgentRecord;

typedef struct _WrAgentRegistry WrAgentRegistry;

WrAgentRegistry *wr_agent_registry_new (void);
void wr_agent_registry_free (WrAgentRegistry *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAgentRegistry, wr_agent_registry_free)

/**
 * wr_agent_registry_lookup:
 * Returns: (transfer none) (nullable): the record for @id.
 */
WrAgentRecord *wr_agent_registry_lookup (WrAgentRegistry *self,
    const char *id);

/**
 * wr_agent_registry_attach:
 * @hello: a validated agent.hello
 * @replaced: (out) (transfer full) (nullable): the connection this one
 *   replaces, which the caller closes
 *
 * Marks the agent online on @conn and records what it announced.
 *
 * Returns: %FALSE when the registry is full of other agents.
 */
gboolean wr_agent_registry_attach (WrAgentRegistry *self, WrConnection *conn,
    JsonObject *hello, WrConnection **replaced);

/**
 * wr_agent_registry_detach:
 * Returns: %TRUE when @conn was its agent's current connection (the agent
 * is now offline), %FALSE when it had already been replaced.
 */
gboolean wr_agent_registry_detach (WrAgentRegistry *self, WrConnection *conn);

void wr_agent_registry_set_pipelines (WrAgentRegistry *self, const char *id,
    JsonArray *pipelines);

/** wr_agent_record_has_display: whether @display was announced. */
gboolean wr_agent_record_has_display (const WrAgentRecord *record,
    const char *display);

/** Returns: (transfer none) (nullable): the first announced display. */
const char *wr_agent_record_default_display (const WrAgentRecord *record);

/** Returns: (transfer full): the record as the API shows it. */
JsonNode *wr_agent_record_to_json (const WrAgentRecord *record);

/** Returns: (transfer full): `{"agents": [...]}`, sorted by name. */
JsonNode *wr_agent_registry_to_json (WrAgentRegistry *self);

G_END_DECLS
