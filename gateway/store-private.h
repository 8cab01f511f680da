/* webremote: WrStore's insides, for the store's own files only
 * (store.c, store-audit.c, store-recording.c). */
#pragma once

#include "gateway/db.h"
#include "gateway/store.h"

G_BEGIN_DECLS

struct _WrStore {
  WrDb *db;            /* thread-safe on its own */
  int schema_version;  /* read-only after open */
};

G_END_DECLS
