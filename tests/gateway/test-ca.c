/* The agent CA (gateway/ca.c): sealing, signing, checking. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/keyring.h"
#include "gateway/ca.h"

#define RING_K1 "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
#define RING_K2 "k2 HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4\n"

static char *
make_csr (const char *cn)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509_REQ *req = X509_REQ_new ();
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  char *out;
  long len;

  if (cn)
    X509_NAME_add_entry_by_txt (X509_REQ_get_subject_name (req), "CN",
        MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_REQ_set_pubkey (req, key);
  X509_REQ_sign (req, key, EVP_sha256 ());
  PEM_write_bio_X509_REQ (bio, req);
  len = BIO_get_mem_data (bio, &data);
  out = g_strndup (data, (gsize) len);
  BIO_free (bio);
  X509_REQ_free (req);
  EVP_PKEY_free (key);
  return out;
}

/* A CA directory holds exactly these two files. */
static void
remove_ca_dir (const char *dir)
{
  g_autofree char *crt = g_build_filename (dir, "ca.crt", NULL);
  g_autofree char *key = g_build_filename (dir, "ca.key.sealed", NULL);

  g_unlink (crt);
  g_unlink (key);
  g_rmdir (dir);
}

static void
test_sign_and_verify (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-ca-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrKeyring) ring = wr_keyring_new_from_data (RING_K1, &error);
  g_autoptr (WrCa) ca = NULL;
  g_autoptr (WrCa) again = NULL;
  g_autoptr (WrCa) other = NULL;
  g_autofree char *other_dir = g_dir_make_tmp ("wr-ca-XXXXXX", NULL);
  g_autofree char *csr = make_csr ("box-1");
  g_autofree char *id = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *seen_serial = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *key_path = g_build_filename (dir, "ca.key.sealed", NULL);
  gboolean created = FALSE;
  gint64 not_after = 0;

  g_assert_no_error (error);
  ca = wr_ca_open (dir, ring, &created, &error);
  g_assert_no_error (error);
  g_assert_true (created);
  /* the private key is on disk only sealed, under the current key id */
  g_assert_true (g_file_get_contents (key_path, &sealed, NULL, NULL));
  g_assert_true (g_str_has_prefix (sealed, "wr1.k1."));
  g_assert_null (strstr (sealed, "PRIVATE KEY"));

  id = wr_ca_csr_agent_id (csr, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "box-1");
  cert = wr_ca_sign_csr (ca, csr, id, 3600, &serial, &not_after, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (serial), ==, 32);
  seen = wr_ca_verify_client (ca, cert, &seen_serial, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (seen, ==, "box-1");
  g_assert_cmpstr (seen_serial, ==, serial);

  /* loaded again from disk: the same CA */
  again = wr_ca_open (dir, ring, &created, &error);
  g_assert_no_error (error);
  g_assert_false (created);
  g_clear_pointer (&seen, g_free);
  seen = wr_ca_verify_client (again, cert, NULL, &error);
  g_assert_no_error (error);

  /* another CA does not accept it */
  other = wr_ca_open (other_dir, ring, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (wr_ca_verify_client (other, cert, NULL, &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED);
  g_clear_error (&error);

  /* expired */
  g_clear_pointer (&cert, g_free);
  cert = wr_ca_sign_csr (ca, csr, id, -60, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (wr_ca_verify_client (ca, cert, NULL, &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "expired"));
  remove_ca_dir (dir);
  remove_ca_dir (other_dir);
}

static void
test_bad_csrs (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *no_cn = make_csr (NULL);
  g_autofree char *spaces = make_csr ("a b");
  g_autofree char *tampered = make_csr ("box-1");
  g_autofree char *big = g_strnfill (WR_CA_MAX_CSR + 1, 'A');
  char *p;

  g_assert_null (wr_ca_csr_agent_id (no_cn, &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (wr_ca_csr_agent_id (spaces, &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (wr_ca_csr_agent_id ("junk", &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (wr_ca_csr_agent_id (big, &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID);
  g_clear_error (&error);
  /* a flipped byte in the signature area: the signature must not verify
   * (or the PEM not parse) */
  p = strstr (tampered, "-----END");
  g_assert_nonnull (p);
  p -= 10;
  *p = *p == 'A' ? 'B' : 'A';
  g_assert_null (wr_ca_csr_agent_id (tampered, &error));
  g_assert_error (error, WR_CA_ERROR, WR_CA_ERROR_INVALID);
}

static void
test_reseal (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-ca-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrKeyring) ring1 = wr_keyring_new_from_data (RING_K1, &error);
  g_autoptr (WrKeyring) ring2 = wr_keyring_new_from_data (RING_K2 RING_K1,
      &error);
  g_autoptr (WrKeyring) only2 = wr_keyring_new_from_data (RING_K2, &error);
  g_autoptr (WrCa) ca = NULL;
  g_autoptr (WrCa) after = NULL;
  g_autofree char *old_id = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *key_path = g_build_filename (dir, "ca.key.sealed", NULL);

  ca = wr_ca_open (dir, ring1, NULL, &error);
  g_assert_no_error (error);
  /* k2 alone cannot open what k1 sealed */
  g_assert_null (wr_ca_open (dir, only2, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (wr_ca_reseal (dir, ring2, &old_id, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (old_id, ==, "k1");
  g_assert_true (g_file_get_contents (key_path, &sealed, NULL, NULL));
  g_assert_true (g_str_has_prefix (sealed, "wr1.k2."));
  after = wr_ca_open (dir, only2, NULL, &error);
  g_assert_no_error (error);
  remove_ca_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gateway/ca/sign-and-verify", test_sign_and_verify);
  g_test_add_func ("/gateway/ca/bad-csrs", test_bad_csrs);
  g_test_add_func ("/gateway/ca/reseal", test_reseal);
  return g_test_run ();
}
