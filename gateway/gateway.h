/* webremote: the gateway process's parts, wired together in main.c. */
#pragma once

#include <libsoup/soup.h>

#include "gateway/agent-registry.h"
#include "gateway/audit.h"
#include "gateway/ca.h"
#include "gateway/auth.h"
#include "gateway/gateway-config.h"
#include "gateway/grant-signer.h"
#include "gateway/recorder-hub.h"
#include "common/keyring.h"
#include "gateway/signaling.h"
#include "gateway/sso.h"
#include "gateway/store.h"

G_BEGIN_DECLS

typedef struct {
  WrGatewayConfig *config;
  WrAuth *auth;
  WrStore *store;
  WrKeyring *keyring;
  WrSso *sso;            /* (nullable): single sign-on is configured */
  WrAgentRegistry *registry;
  WrSignaling *signaling;
  WrGrantSigner *grant_signer;
  SoupServer *server;
  WrCa *ca;              /* signs and checks agent client certificates */
  WrAudit *audit;        /* the tamper-evident audit log (audit.h) */
  WrRecorderHub *recorders; /* connected recorders (recorder-hub.h) */
  char *recording_dir;   /* [recording] dir, resolved */
  char *fingerprint; /* of the TLS certificate, for the log */
} WrGateway;

G_END_DECLS
