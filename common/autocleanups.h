/* webremote: g_autoptr cleanups for the C libraries we use, defined once. */
#pragma once

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)
