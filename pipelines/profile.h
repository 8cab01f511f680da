/* webremote pipelines: named capture + encode profiles from a key file.
 *
 * A profiles file holds `[profile NAME]` groups (docs/pipelines.md). The
 * text is checked key by key into the typed WrProfile below; elements are
 * built from the structs (pipelines/encoder-element.h), never from text. */
#pragma once

#include <glib.h>

#include "pipelines/encoder-knobs.h"

G_BEGIN_DECLS

/* The profile the agent uses when none is named. */
#define WR_PROFILE_DEFAULT_NAME "low-latency"
#define WR_PROFILES_FILE_NAME "profiles.conf"

typedef enum {
  WR_SOURCE_XIMAGE,    /* ximagesrc: an X display */
  WR_SOURCE_PIPEWIRE,  /* pipewiresrc: a portal/PipeWire screen stream */
  WR_SOURCE_TEST,      /* videotestsrc: a moving test pattern */
} WrSourceKind;

/* How an `ximage` source captures (docs/pipelines.md, "Capture"). */
typedef enum {
  WR_CAPTURE_DAMAGE,   /* a frame when the screen changed (XDamage) */
  WR_CAPTURE_TICK,     /* ximagesrc: the whole screen every frame */
} WrCaptureMode;

typedef enum {
  WR_KEYFRAME_ON_DEMAND, /* only when asked: a new viewer, PLI/FIR */
  WR_KEYFRAME_FRAMES,    /* every keyframe_interval frames */
  WR_KEYFRAME_SECONDS,   /* every keyframe_interval seconds */
} WrKeyframeMode;

typedef enum {
  WR_H264_CONSTRAINED_BASELINE,
  WR_H264_MAIN,
} WrH264Profile;

typedef struct {
  char *name;
  int line;                  /* of the group header, 0 if built in */
  WrSourceKind source;
  char *display;             /* (nullable) default X display */
  int width;                 /* output size; 0 = the source's */
  int height;
  double scale;              /* 0 = none, else 0.1..1 of the source size */
  int framerate;
  char **encoders;           /* preference order, at least one */
  int bitrate_kbps;
  int min_bitrate_kbps;
  int max_bitrate_kbps;
  WrKeyframeMode keyframe_mode;
  int keyframe_interval;     /* frames or seconds, per keyframe_mode */
  WrH264Profile h264_profile;
  GPtrArray *knobs;          /* WrKnobValue *, file order */
  WrCaptureMode capture;     /* for source ximage */
} WrProfile;

typedef struct {
  char *path;                /* (nullable) the file it came from */
  GPtrArray *profiles;       /* WrProfile *, file order */
} WrProfileSet;

/**
 * wr_profile_set_load:
 * @path: a profiles file
 * @error: a WR_CONFIG_ERROR whose message holds one line per problem,
 *   `FILE:LINE: [profile NAME] key: reason`, in file order
 *
 * Reads and checks every profile: unknown groups and keys, wrong types,
 * values out of range, unknown encoders, knobs unknown for their encoder
 * and bad knob values. Does not look at this host's encoders: see
 * wr_profile_set_check_host().
 *
 * Returns: (transfer full) (nullable): the profiles, or %NULL.
 */
WrProfileSet *wr_profile_set_load (const char *path, GError **error);

/**
 * wr_profile_set_load_partial:
 * @valid: (out) (optional) (transfer full): on a file with problems, the
 *   profiles that had none (for checking those on the host as well)
 *
 * As wr_profile_set_load(); for `--check-profiles`, which reports every
 * problem at once.
 */
WrProfileSet *wr_profile_set_load_partial (const char *path,
    WrProfileSet **valid, GError **error);

/**
 * wr_profile_set_parse:
 * As wr_profile_set_load() on @text; @path only labels the messages.
 */
WrProfileSet *wr_profile_set_parse (const char *path, const char *text,
    GError **error);

/**
 * wr_profile_set_lookup:
 * Returns: (transfer none) (nullable): the profile called @name.
 */
WrProfile *wr_profile_set_lookup (WrProfileSet *set, const char *name);

/**
 * wr_profile_set_check_host:
 * @set: profiles from wr_profile_set_load()
 * @only: (nullable): check only this profile
 * @chosen: (out) (optional) (transfer full): profile name -> the encoder
 *   this host would use (a GHashTable of strings)
 * @error: one `FILE:LINE: [profile NAME] encoders: no usable encoder on
 *   this host (ENCODER: reason; ...)` line per profile without one, and a
 *   `source` line when the capture element is missing
 *
 * Test-encodes each profile's encoders in order (wr_profile_choose_encoder)
 * until one works.
 */
gboolean wr_profile_set_check_host (WrProfileSet *set, const char *only,
    GHashTable **chosen, GError **error);

/**
 * wr_profile_set_find_default_file:
 * Returns: (transfer full) (nullable): the shipped profiles file:
 * SYSCONFDIR/webremote/profiles.conf, else DATADIR/profiles.conf, else
 * the source tree's pipelines/profiles.conf (uninstalled builds); %NULL
 * when none exists.
 */
char *wr_profile_set_find_default_file (void);

void wr_profile_set_free (WrProfileSet *set);

/**
 * wr_profile_new_builtin:
 * The built-in low-latency profile, used when no profiles file exists:
 * ximage, 30 fps, x264enc (ultrafast, zerolatency) then openh264enc,
 * 6000 kbit/s, keyframes on demand.
 *
 * Returns: (transfer full): a new profile.
 */
WrProfile *wr_profile_new_builtin (void);

WrProfile *wr_profile_copy (const WrProfile *profile);
void wr_profile_free (WrProfile *profile);

/**
 * wr_profile_summary:
 * Returns: (transfer full): one line, e.g. "ximage, source size, 30 fps,
 * 6000 kbit/s (1500..6000), keyframes on demand".
 */
char *wr_profile_summary (const WrProfile *profile);

const char *wr_source_kind_name (WrSourceKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrProfileSet, wr_profile_set_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrProfile, wr_profile_free)

G_END_DECLS
