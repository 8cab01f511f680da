/* webremote: a GTlsDatabase that trusts one pinned certificate. */
#include "config.h"

#include "common/pinned-tls-database.h"

#include "common/crypto.h"

struct _WrPinnedTlsDatabase {
  GTlsDatabase parent;
  char *pin;          /* immutable after construction */
  GTlsDatabase *ca;   /* nullable, immutable */
};

G_DEFINE_FINAL_TYPE (WrPinnedTlsDatabase, wr_pinned_tls_database,
    G_TYPE_TLS_DATABASE)

/* May run in a TLS worker thread: only reads immutable fields. */
static GTlsCertificateFlags
wr_pinned_tls_database_verify_chain (GTlsDatabase *database,
    GTlsCertificate *chain, const char *purpose, GSocketConnectable *identity,
    GTlsInteraction *interaction, GTlsDatabaseVerifyFlags flags,
    GCancellable *cancellable, GError **error)
{
  WrPinnedTlsDatabase *self = WR_PINNED_TLS_DATABASE (database);
  g_autofree char *fingerprint = NULL;
  GTlsCertificateFlags result = G_TLS_CERTIFICATE_UNKNOWN_CA;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return G_TLS_CERTIFICATE_GENERIC_ERROR;

  fingerprint = wr_certificate_fingerprint (chain);
  if (fingerprint && wr_constant_time_equal (fingerprint, self->pin))
    result = 0;

  if (self->ca) {
    result |= g_tls_database_verify_chain (self->ca, chain, purpose, identity,
        interaction, flags, cancellable, error);
  }
  return result;
}

/* Lookups: a pin has no issuers and no handles. GIO's wrappers require the
 * vfuncs to exist. */
static GTlsCertificate *
wr_pinned_tls_database_lookup_certificate_issuer (GTlsDatabase *database,
    GTlsCertificate *certificate, GTlsInteraction *interaction,
    GTlsDatabaseLookupFlags flags, GCancellable *cancellable, GError **error)
{
  WrPinnedTlsDatabase *self = WR_PINNED_TLS_DATABASE (database);

  if (self->ca)
    return g_tls_database_lookup_certificate_issuer (self->ca, certificate,
        interaction, flags, cancellable, error);
  return NULL;
}

static GList *
wr_pinned_tls_database_lookup_certificates_issued_by (GTlsDatabase *database,
    GByteArray *issuer_raw_dn, GTlsInteraction *interaction,
    GTlsDatabaseLookupFlags flags, GCancellable *cancellable, GError **error)
{
  return NULL;
}

static char *
wr_pinned_tls_database_create_certificate_handle (GTlsDatabase *database,
    GTlsCertificate *certificate)
{
  return NULL;
}

static GTlsCertificate *
wr_pinned_tls_database_lookup_certificate_for_handle (GTlsDatabase *database,
    const char *handle, GTlsInteraction *interaction,
    GTlsDatabaseLookupFlags flags, GCancellable *cancellable, GError **error)
{
  return NULL;
}

static void
wr_pinned_tls_database_finalize (GObject *object)
{
  WrPinnedTlsDatabase *self = WR_PINNED_TLS_DATABASE (object);

  g_free (self->pin);
  g_clear_object (&self->ca);
  G_OBJECT_CLASS (wr_pinned_tls_database_parent_class)->finalize (object);
}

static void
wr_pinned_tls_database_class_init (WrPinnedTlsDatabaseClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GTlsDatabaseClass *db_class = G_TLS_DATABASE_CLASS (klass);

  object_class->finalize = wr_pinned_tls_database_finalize;
  db_class->verify_chain = wr_pinned_tls_database_verify_chain;
  db_class->lookup_certificate_issuer =
      wr_pinned_tls_database_lookup_certificate_issuer;
  db_class->lookup_certificates_issued_by =
      wr_pinned_tls_database_lookup_certificates_issued_by;
  db_class->create_certificate_handle =
      wr_pinned_tls_database_create_certificate_handle;
  db_class->lookup_certificate_for_handle =
      wr_pinned_tls_database_lookup_certificate_for_handle;
}

static void
wr_pinned_tls_database_init (WrPinnedTlsDatabase *self)
{
}

GTlsDatabase *
wr_pinned_tls_database_new (const char *fingerprint, GTlsDatabase *ca)
{
  WrPinnedTlsDatabase *self;

  g_return_val_if_fail (fingerprint != NULL, NULL);

  self = g_object_new (WR_TYPE_PINNED_TLS_DATABASE, NULL);
  self->pin = g_strdup (fingerprint);
  self->ca = ca ? g_object_ref (ca) : NULL;
  return G_TLS_DATABASE (self);
}

const char *
wr_pinned_tls_database_get_pin (WrPinnedTlsDatabase *self)
{
  g_return_val_if_fail (WR_IS_PINNED_TLS_DATABASE (self), NULL);
  return self->pin;
}
