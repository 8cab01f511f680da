/* webremote-agent: browser KeyboardEvent.code to X keycode.
 *
 * The browser reports the physical key (W3C "UI Events KeyboardEvent code
 * Values"), not the character, so that the remote keyboard layout decides
 * what a key types. X servers that use evdev keycodes number each physical
 * key as its Linux KEY_* code plus 8 (the X protocol reserves keycodes
 * below 8), which is what xkeyboard-config's "evdev" keycodes file says.
 */
#include "config.h"

#include "agent/keymap.h"

#include <linux/input-event-codes.h>
#include <string.h>

/* X keycodes start at 8: keycode = evdev code + 8. */
#define WR_EVDEV_OFFSET 8

typedef struct {
  const char *code;
  guint evdev;
} WrKeymapEntry;

/* Sorted by code for bsearch(); test-keymap checks the order. */
static const WrKeymapEntry keymap[] = {
  { "AltLeft", KEY_LEFTALT },
  { "AltRight", KEY_RIGHTALT },
  { "ArrowDown", KEY_DOWN },
  { "ArrowLeft", KEY_LEFT },
  { "ArrowRight", KEY_RIGHT },
  { "ArrowUp", KEY_UP },
  { "AudioVolumeDown", KEY_VOLUMEDOWN },
  { "AudioVolumeMute", KEY_MUTE },
  { "AudioVolumeUp", KEY_VOLUMEUP },
  { "Backquote", KEY_GRAVE },
  { "Backslash", KEY_BACKSLASH },
  { "Backspace", KEY_BACKSPACE },
  { "BracketLeft", KEY_LEFTBRACE },
  { "BracketRight", KEY_RIGHTBRACE },
  { "BrowserBack", KEY_BACK },
  { "BrowserFavorites", KEY_BOOKMARKS },
  { "BrowserForward", KEY_FORWARD },
  { "BrowserHome", KEY_HOMEPAGE },
  { "BrowserRefresh", KEY_REFRESH },
  { "BrowserSearch", KEY_SEARCH },
  { "BrowserStop", KEY_STOP },
  { "CapsLock", KEY_CAPSLOCK },
  { "Comma", KEY_COMMA },
  { "ContextMenu", KEY_COMPOSE },
  { "ControlLeft", KEY_LEFTCTRL },
  { "ControlRight", KEY_RIGHTCTRL },
  { "Convert", KEY_HENKAN },
  { "Copy", KEY_COPY },
  { "Cut", KEY_CUT },
  { "Delete", KEY_DELETE },
  { "Digit0", KEY_0 },
  { "Digit1", KEY_1 },
  { "Digit2", KEY_2 },
  { "Digit3", KEY_3 },
  { "Digit4", KEY_4 },
  { "Digit5", KEY_5 },
  { "Digit6", KEY_6 },
  { "Digit7", KEY_7 },
  { "Digit8", KEY_8 },
  { "Digit9", KEY_9 },
  { "Eject", KEY_EJECTCD },
  { "End", KEY_END },
  { "Enter", KEY_ENTER },
  { "Equal", KEY_EQUAL },
  { "Escape", KEY_ESC },
  { "F1", KEY_F1 },
  { "F10", KEY_F10 },
  { "F11", KEY_F11 },
  { "F12", KEY_F12 },
  { "F13", KEY_F13 },
  { "F14", KEY_F14 },
  { "F15", KEY_F15 },
  { "F16", KEY_F16 },
  { "F17", KEY_F17 },
  { "F18", KEY_F18 },
  { "F19", KEY_F19 },
  { "F2", KEY_F2 },
  { "F20", KEY_F20 },
  { "F21", KEY_F21 },
  { "F22", KEY_F22 },
  { "F23", KEY_F23 },
  { "F24", KEY_F24 },
  { "F3", KEY_F3 },
  { "F4", KEY_F4 },
  { "F5", KEY_F5 },
  { "F6", KEY_F6 },
  { "F7", KEY_F7 },
  { "F8", KEY_F8 },
  { "F9", KEY_F9 },
  { "Find", KEY_FIND },
  { "Help", KEY_HELP },
  { "Home", KEY_HOME },
  { "Insert", KEY_INSERT },
  { "IntlBackslash", KEY_102ND },
  { "IntlRo", KEY_RO },
  { "IntlYen", KEY_YEN },
  { "KanaMode", KEY_KATAKANAHIRAGANA },
  { "KeyA", KEY_A },
  { "KeyB", KEY_B },
  { "KeyC", KEY_C },
  { "KeyD", KEY_D },
  { "KeyE", KEY_E },
  { "KeyF", KEY_F },
  { "KeyG", KEY_G },
  { "KeyH", KEY_H },
  { "KeyI", KEY_I },
  { "KeyJ", KEY_J },
  { "KeyK", KEY_K },
  { "KeyL", KEY_L },
  { "KeyM", KEY_M },
  { "KeyN", KEY_N },
  { "KeyO", KEY_O },
  { "KeyP", KEY_P },
  { "KeyQ", KEY_Q },
  { "KeyR", KEY_R },
  { "KeyS", KEY_S },
  { "KeyT", KEY_T },
  { "KeyU", KEY_U },
  { "KeyV", KEY_V },
  { "KeyW", KEY_W },
  { "KeyX", KEY_X },
  { "KeyY", KEY_Y },
  { "KeyZ", KEY_Z },
  { "Lang1", KEY_HANGEUL },
  { "Lang2", KEY_HANJA },
  { "Lang3", KEY_KATAKANA },
  { "Lang4", KEY_HIRAGANA },
  { "LaunchApp1", KEY_COMPUTER },
  { "LaunchApp2", KEY_CALC },
  { "LaunchMail", KEY_MAIL },
  { "MediaPlayPause", KEY_PLAYPAUSE },
  { "MediaSelect", KEY_MEDIA },
  { "MediaStop", KEY_STOPCD },
  { "MediaTrackNext", KEY_NEXTSONG },
  { "MediaTrackPrevious", KEY_PREVIOUSSONG },
  { "MetaLeft", KEY_LEFTMETA },
  { "MetaRight", KEY_RIGHTMETA },
  { "Minus", KEY_MINUS },
  { "NonConvert", KEY_MUHENKAN },
  { "NumLock", KEY_NUMLOCK },
  { "Numpad0", KEY_KP0 },
  { "Numpad1", KEY_KP1 },
  { "Numpad2", KEY_KP2 },
  { "Numpad3", KEY_KP3 },
  { "Numpad4", KEY_KP4 },
  { "Numpad5", KEY_KP5 },
  { "Numpad6", KEY_KP6 },
  { "Numpad7", KEY_KP7 },
  { "Numpad8", KEY_KP8 },
  { "Numpad9", KEY_KP9 },
  { "NumpadAdd", KEY_KPPLUS },
  { "NumpadComma", KEY_KPCOMMA },
  { "NumpadDecimal", KEY_KPDOT },
  { "NumpadDivide", KEY_KPSLASH },
  { "NumpadEnter", KEY_KPENTER },
  { "NumpadEqual", KEY_KPEQUAL },
  { "NumpadMultiply", KEY_KPASTERISK },
  { "NumpadParenLeft", KEY_KPLEFTPAREN },
  { "NumpadParenRight", KEY_KPRIGHTPAREN },
  { "NumpadSubtract", KEY_KPMINUS },
  { "OSLeft", KEY_LEFTMETA },
  { "OSRight", KEY_RIGHTMETA },
  { "Open", KEY_OPEN },
  { "PageDown", KEY_PAGEDOWN },
  { "PageUp", KEY_PAGEUP },
  { "Paste", KEY_PASTE },
  { "Pause", KEY_PAUSE },
  { "Period", KEY_DOT },
  { "Power", KEY_POWER },
  { "PrintScreen", KEY_SYSRQ },
  { "Props", KEY_PROPS },
  { "Quote", KEY_APOSTROPHE },
  { "ScrollLock", KEY_SCROLLLOCK },
  { "Select", KEY_SELECT },
  { "Semicolon", KEY_SEMICOLON },
  { "ShiftLeft", KEY_LEFTSHIFT },
  { "ShiftRight", KEY_RIGHTSHIFT },
  { "Slash", KEY_SLASH },
  { "Sleep", KEY_SLEEP },
  { "Space", KEY_SPACE },
  { "Tab", KEY_TAB },
  { "Undo", KEY_UNDO },
  { "WakeUp", KEY_WAKEUP },
};

static int
entry_compare (const void *key, const void *member)
{
  const WrKeymapEntry *entry = member;

  return strcmp (key, entry->code);
}

guint
wr_keymap_lookup (const char *code)
{
  const WrKeymapEntry *entry;

  if (!code)
    return 0;
  entry = bsearch (code, keymap, G_N_ELEMENTS (keymap), sizeof keymap[0],
      entry_compare);
  if (!entry)
    return 0;
  return entry->evdev + WR_EVDEV_OFFSET;
}

gboolean
wr_keymap_check_sorted (void)
{
  for (gsize i = 1; i < G_N_ELEMENTS (keymap); i++)
    if (strcmp (keymap[i - 1].code, keymap[i].code) >= 0)
      return FALSE;
  return TRUE;
}
