/* webremote-agent: one peer's "input" DataChannel: checks, then injects. */
#include "config.h"

#include "agent/input-channel.h"

#include <string.h>

#include "agent/keymap.h"
#include "common/protocol.h"
#include "common/rate-limit.h"

#define WR_MAX_BUTTON 9
#define WR_KEYCODES 256

struct _WrInputChannel {
  WrInputInjector *injector;  /* nullable, not owned */
  gboolean control;
  int video_w;
  int video_h;
  WrRateLimit rate;
  gint64 last_rate_reply_us;
  gint64 last_forbidden_reply_us;
  GString *trace;             /* nullable, not owned */
  WrInputRefusedFunc refused_func;
  gpointer refused_data;
  WrProfileRequestFunc profile_func;
  gpointer profile_data;

  /* What this peer holds down, to release it when the peer goes. */
  guint8 keys[WR_KEYCODES / 8];
  guint16 buttons;            /* bit n: X button n */
};

gboolean
wr_scopes_allow_control (const char *const *scopes)
{
  return scopes && g_strv_contains (scopes, "control");
}

WrInputChannel *
wr_input_channel_new (WrInputInjector *injector, gboolean control)
{
  WrInputChannel *self = g_new0 (WrInputChannel, 1);

  self->injector = injector;
  self->control = control;
  wr_rate_limit_init (&self->rate, WR_INPUT_RATE, WR_INPUT_BURST);
  return self;
}

void
wr_input_channel_free (WrInputChannel *self)
{
  if (!self)
    return;
  wr_input_channel_release_all (self);
  g_free (self);
}

void
wr_input_channel_set_control (WrInputChannel *self, gboolean control)
{
  if (self->control && !control)
    wr_input_channel_release_all (self);
  self->control = control;
}

void
wr_input_channel_set_refused_func (WrInputChannel *self,
    WrInputRefusedFunc func, gpointer user_data)
{
  self->refused_func = func;
  self->refused_data = user_data;
}

void
wr_input_channel_set_profile_func (WrInputChannel *self,
    WrProfileRequestFunc func, gpointer user_data)
{
  self->profile_func = func;
  self->profile_data = user_data;
}

void
wr_input_channel_set_video_size (WrInputChannel *self, int width, int height)
{
  self->video_w = width;
  self->video_h = height;
}

void
wr_input_channel_set_trace (WrInputChannel *self, GString *trace)
{
  self->trace = trace;
}

static void
screen_size (WrInputChannel *self, int *w, int *h)
{
  if (self->injector) {
    wr_input_injector_get_screen_size (self->injector, w, h);
  } else {
    *w = self->video_w;
    *h = self->video_h;
  }
}

static void
do_motion (WrInputChannel *self, int x, int y)
{
  if (self->trace)
    g_string_append_printf (self->trace, "move %d %d\n", x, y);
  if (self->injector)
    wr_input_injector_motion (self->injector, x, y);
}

static void
do_button (WrInputChannel *self, guint button, gboolean down)
{
  if (down)
    self->buttons |= 1u << button;
  else
    self->buttons &= ~(1u << button);
  if (self->trace)
    g_string_append_printf (self->trace, "button %u %s\n", button,
        down ? "down" : "up");
  if (self->injector)
    wr_input_injector_button (self->injector, button, down);
}

static void
do_key (WrInputChannel *self, guint keycode, gboolean down)
{
  if (down)
    self->keys[keycode / 8] |= 1u << (keycode % 8);
  else
    self->keys[keycode / 8] &= ~(1u << (keycode % 8));
  if (self->trace)
    g_string_append_printf (self->trace, "key %u %s\n", keycode,
        down ? "down" : "up");
  if (self->injector)
    wr_input_injector_key (self->injector, keycode, down);
}

void
wr_input_channel_release_all (WrInputChannel *self)
{
  for (guint k = 0; k < WR_KEYCODES; k++)
    if (self->keys[k / 8] & (1u << (k % 8)))
      do_key (self, k, FALSE);
  for (guint b = 1; b <= WR_MAX_BUTTON; b++)
    if (self->buttons & (1u << b))
      do_button (self, b, FALSE);
}

gboolean
wr_input_scale_point (int video_w, int video_h, int screen_w, int screen_h,
    gint64 x, gint64 y, int *sx, int *sy, GError **error)
{
  if (video_w <= 0 || video_h <= 0 || x < 0 || y < 0 || x >= video_w
      || y >= video_h) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_OUT_OF_RANGE,
        "point (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") is outside the "
        "%dx%d video", x, y, MAX (video_w, 0), MAX (video_h, 0));
    return FALSE;
  }
  /* x < video_w, so the result stays below screen_w. */
  *sx = (int) (x * screen_w / video_w);
  *sy = (int) (y * screen_h / video_h);
  return TRUE;
}

static gboolean
point_from (WrInputChannel *self, JsonObject *msg, int *sx, int *sy,
    GError **error)
{
  int screen_w, screen_h;

  screen_size (self, &screen_w, &screen_h);
  return wr_input_scale_point (self->video_w, self->video_h, screen_w,
      screen_h, wr_message_get_int (msg, "x", -1),
      wr_message_get_int (msg, "y", -1), sx, sy, error);
}

static gboolean
handle_move (WrInputChannel *self, JsonObject *msg, GError **error)
{
  int x, y;

  if (!point_from (self, msg, &x, &y, error))
    return FALSE;
  do_motion (self, x, y);
  return TRUE;
}

static gboolean
handle_button (WrInputChannel *self, JsonObject *msg, GError **error)
{
  gboolean has_x = json_object_has_member (msg, "x");
  gboolean has_y = json_object_has_member (msg, "y");
  int x, y;

  if (has_x != has_y) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field '%s' is required with '%s'", has_x ? "y" : "x",
        has_x ? "x" : "y");
    return FALSE;
  }
  /* Check everything before injecting anything. */
  if (has_x && !point_from (self, msg, &x, &y, error))
    return FALSE;
  if (has_x)
    do_motion (self, x, y);
  do_button (self, (guint) wr_message_get_int (msg, "button", 1),
      wr_message_get_bool (msg, "down", FALSE));
  return TRUE;
}

static void
click (WrInputChannel *self, guint button, gint64 notches)
{
  for (gint64 i = 0; i < ABS (notches); i++) {
    do_button (self, button, TRUE);
    do_button (self, button, FALSE);
  }
}

static gboolean
handle_wheel (WrInputChannel *self, JsonObject *msg, GError **error)
{
  gint64 dx = wr_message_get_int (msg, "dx", 0);
  gint64 dy = wr_message_get_int (msg, "dy", 0);

  /* X core protocol wheel buttons: 4 up, 5 down, 6 left, 7 right. */
  click (self, dy < 0 ? 4 : 5, dy);
  click (self, dx < 0 ? 6 : 7, dx);
  return TRUE;
}

static gboolean
handle_key (WrInputChannel *self, JsonObject *msg, GError **error)
{
  const char *code = wr_message_get_string (msg, "code");
  guint keycode = wr_keymap_lookup (code);

  if (keycode == 0 || keycode >= WR_KEYCODES || (self->injector
          && !wr_input_injector_has_keycode (self->injector, keycode))) {
    g_set_error (error, WR_PROTOCOL_ERROR, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "field 'code' is not a known key code");
    return FALSE;
  }
  do_key (self, keycode, wr_message_get_bool (msg, "down", FALSE));
  return TRUE;
}

static gboolean
handle_reset (WrInputChannel *self, JsonObject *msg, GError **error)
{
  wr_input_channel_release_all (self);
  return TRUE;
}

typedef gboolean (*WrInputHandler) (WrInputChannel *self, JsonObject *msg,
    GError **error);

static const struct {
  const char *type;
  WrInputHandler handler;
} handlers[] = {
  { "pointer.move", handle_move },
  { "pointer.button", handle_button },
  { "pointer.wheel", handle_wheel },
  { "key", handle_key },
  { "input.reset", handle_reset },
};

/* At most one such answer per second, so a flood does not turn into a
 * flood of errors. */
static char *
throttled_error (gint64 *last_us, WrProtocolError code, const char *message)
{
  gint64 now = g_get_monotonic_time ();

  if (*last_us && now - *last_us < G_USEC_PER_SEC)
    return NULL;
  *last_us = now;
  return wr_message_error_new (code, message, NULL);
}

char *
wr_input_channel_handle (WrInputChannel *self, const char *data, gsize len)
{
  g_autoptr (JsonObject) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ref = NULL;
  const char *type;

  if (!wr_rate_limit_take (&self->rate))
    return throttled_error (&self->last_rate_reply_us,
        WR_PROTOCOL_ERROR_RATE_LIMITED,
        "input over 1000 messages per second is dropped");

  msg = wr_message_parse (data, len, WR_CHANNEL_PEER_TO_AGENT, &ref, &error);
  if (!msg)
    return wr_message_error_from_gerror (error, ref);

  /* Switching the display's profile changes what every viewer of it
   * sees: it takes the control scope, like input. */
  if (g_str_equal (wr_message_get_type (msg), "profile.set")) {
    if (!self->control)
      return wr_message_error_new (WR_PROTOCOL_ERROR_FORBIDDEN,
          "this session has no 'control' scope; it cannot switch the "
          "profile", ref);
    if (!self->profile_func)
      return wr_message_error_new (WR_PROTOCOL_ERROR_NOT_FOUND,
          "this agent has no profiles to switch to", ref);
    return self->profile_func (self, wr_message_get_string (msg, "profile"),
        ref, self->profile_data);
  }

  /* Checked on every message: the grant may change while the channel
   * lives. */
  if (!self->control) {
    if (self->refused_func)
      self->refused_func (self, WR_INPUT_REFUSED_NO_CONTROL,
          self->refused_data);
    return throttled_error (&self->last_forbidden_reply_us,
        WR_PROTOCOL_ERROR_FORBIDDEN,
        "this session has no 'control' scope; input is dropped");
  }

  type = wr_message_get_type (msg);
  for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++) {
    if (!g_str_equal (handlers[i].type, type))
      continue;
    if (!handlers[i].handler (self, msg, &error))
      return wr_message_error_from_gerror (error, ref);
    return NULL;
  }
  /* The validation table accepted a type without a handler here. */
  return wr_message_error_new (WR_PROTOCOL_ERROR_UNKNOWN_TYPE,
      "message type is not handled by this agent", ref);
}
