/* Tests for secrets at rest (common/keyring.c). */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "common/keyring.h"

#define K1 "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
#define K2 "k2 HxwdHhscGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE\n"

static void
test_seal_open (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrKeyring) ring = wr_keyring_new_from_data (K1, &error);
  g_autofree char *sealed = NULL;
  g_autoptr (GBytes) plain = NULL;

  g_assert_no_error (error);
  sealed = wr_keyring_seal (ring, (const guint8 *) "seed", 4, "totp:1");
  g_assert_true (g_str_has_prefix (sealed, "wr1.k1."));
  g_assert_null (strstr (sealed, "seed"));
  plain = wr_keyring_open (ring, sealed, "totp:1", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain),
      "seed", 4);
}

static void
test_tamper_and_context (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrKeyring) ring = wr_keyring_new_from_data (K1, NULL);
  g_autofree char *sealed = wr_keyring_seal (ring, (const guint8 *) "seed", 4,
      "totp:1");
  g_autoptr (GBytes) plain = NULL;
  char *last = sealed + strlen (sealed) - 2;

  /* the context is bound: the value of user 1 does not open as user 2's */
  plain = wr_keyring_open (ring, sealed, "totp:2", &error);
  g_assert_null (plain);
  g_assert_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_TAMPERED);
  g_clear_error (&error);

  *last = *last == 'A' ? 'B' : 'A';
  plain = wr_keyring_open (ring, sealed, "totp:1", &error);
  g_assert_null (plain);
  g_assert_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_TAMPERED);
  g_clear_error (&error);

  g_assert_null (wr_keyring_open (ring, "wr1.k1.x", NULL, &error));
  g_assert_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID);
}

static void
test_rotation (void)
{
  g_autoptr (WrKeyring) old_ring = wr_keyring_new_from_data (K1, NULL);
  g_autoptr (WrKeyring) new_ring = wr_keyring_new_from_data (K2 K1, NULL);
  g_autoptr (WrKeyring) k2_only = wr_keyring_new_from_data (K2, NULL);
  g_autofree char *old_sealed = wr_keyring_seal (old_ring,
      (const guint8 *) "x", 1, NULL);
  g_autofree char *new_sealed = wr_keyring_seal (new_ring,
      (const guint8 *) "y", 1, NULL);
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (wr_keyring_current_id (new_ring), ==, "k2");
  g_assert_true (g_str_has_prefix (new_sealed, "wr1.k2."));
  a = wr_keyring_open (new_ring, old_sealed, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (wr_keyring_open (k2_only, old_sealed, NULL, &error));
  g_assert_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_UNKNOWN_KEY);
}

static void
test_key_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-kek-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "kek", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrKeyring) ring = NULL;
  GStatBuf st;

  g_assert_true (wr_keyring_create_file (path, "main", &error));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  ring = wr_keyring_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_keyring_current_id (ring), ==, "main");
  /* an existing file is never overwritten */
  g_assert_false (wr_keyring_create_file (path, "main", NULL));

  g_chmod (path, 0644);
  g_clear_pointer (&ring, wr_keyring_free);
  ring = wr_keyring_load (path, &error);
  g_assert_null (ring);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_clear_error (&error);

  g_assert_null (wr_keyring_new_from_data ("k1 c2hvcnQ\n", &error));
  g_assert_error (error, WR_KEYRING_ERROR, WR_KEYRING_ERROR_INVALID);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/keyring/seal-and-open", test_seal_open);
  g_test_add_func ("/common/keyring/tampered-or-wrong-context-is-refused",
      test_tamper_and_context);
  g_test_add_func ("/common/keyring/old-keys-still-open-after-rotation",
      test_rotation);
  g_test_add_func ("/common/keyring/key-files", test_key_files);
  return g_test_run ();
}
