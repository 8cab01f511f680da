/* Unit tests for agent/keymap.c: browser key codes to X keycodes. */
#include "config.h"

#include "agent/keymap.h"

static void
test_known_codes (void)
{
  /* X keycodes of an evdev X server (Xvfb, Xorg): `xmodmap -pke`. */
  g_assert_cmpuint (wr_keymap_lookup ("KeyA"), ==, 38);
  g_assert_cmpuint (wr_keymap_lookup ("KeyQ"), ==, 24);
  g_assert_cmpuint (wr_keymap_lookup ("KeyZ"), ==, 52);
  g_assert_cmpuint (wr_keymap_lookup ("Enter"), ==, 36);
  g_assert_cmpuint (wr_keymap_lookup ("ShiftLeft"), ==, 50);
  g_assert_cmpuint (wr_keymap_lookup ("ShiftRight"), ==, 62);
  g_assert_cmpuint (wr_keymap_lookup ("ControlLeft"), ==, 37);
  g_assert_cmpuint (wr_keymap_lookup ("AltLeft"), ==, 64);
  g_assert_cmpuint (wr_keymap_lookup ("MetaLeft"), ==, 133);
  g_assert_cmpuint (wr_keymap_lookup ("Space"), ==, 65);
  g_assert_cmpuint (wr_keymap_lookup ("Digit1"), ==, 10);
  g_assert_cmpuint (wr_keymap_lookup ("Digit0"), ==, 19);
  g_assert_cmpuint (wr_keymap_lookup ("Escape"), ==, 9);
  g_assert_cmpuint (wr_keymap_lookup ("Backspace"), ==, 22);
  g_assert_cmpuint (wr_keymap_lookup ("Tab"), ==, 23);
  g_assert_cmpuint (wr_keymap_lookup ("F1"), ==, 67);
  g_assert_cmpuint (wr_keymap_lookup ("F12"), ==, 96);
  g_assert_cmpuint (wr_keymap_lookup ("F13"), ==, 191);
  g_assert_cmpuint (wr_keymap_lookup ("F24"), ==, 202);
  g_assert_cmpuint (wr_keymap_lookup ("ArrowLeft"), ==, 113);
  g_assert_cmpuint (wr_keymap_lookup ("ArrowUp"), ==, 111);
  g_assert_cmpuint (wr_keymap_lookup ("ArrowRight"), ==, 114);
  g_assert_cmpuint (wr_keymap_lookup ("ArrowDown"), ==, 116);
  g_assert_cmpuint (wr_keymap_lookup ("Home"), ==, 110);
  g_assert_cmpuint (wr_keymap_lookup ("Delete"), ==, 119);
  g_assert_cmpuint (wr_keymap_lookup ("Numpad0"), ==, 90);
  g_assert_cmpuint (wr_keymap_lookup ("NumpadEnter"), ==, 104);
  g_assert_cmpuint (wr_keymap_lookup ("Semicolon"), ==, 47);
  g_assert_cmpuint (wr_keymap_lookup ("Backquote"), ==, 49);
  g_assert_cmpuint (wr_keymap_lookup ("IntlBackslash"), ==, 94);
}

static void
test_unknown_codes (void)
{
  g_assert_cmpuint (wr_keymap_lookup ("NoSuchKey"), ==, 0);
  g_assert_cmpuint (wr_keymap_lookup (""), ==, 0);
  g_assert_cmpuint (wr_keymap_lookup ("keya"), ==, 0);
  g_assert_cmpuint (wr_keymap_lookup ("KeyA "), ==, 0);
  g_assert_cmpuint (wr_keymap_lookup (NULL), ==, 0);
}

static void
test_table_is_sorted (void)
{
  g_assert_true (wr_keymap_check_sorted ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/keymap/standard-codes-map-to-evdev-keycodes",
      test_known_codes);
  g_test_add_func ("/agent/keymap/unknown-codes-map-to-zero",
      test_unknown_codes);
  g_test_add_func ("/agent/keymap/table-is-sorted-for-bsearch",
      test_table_is_sorted);
  return g_test_run ();
}
