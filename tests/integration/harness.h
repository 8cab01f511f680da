/* webremote integration tests: a real Xvfb, gateway and agent on loopback.
 *
 * The harness starts every process in its own process group with
 * PR_SET_PDEATHSIG, keeps their ids in a table that signal handlers can
 * read, and kills those groups from the watchdog (SIGALRM), from SIGABRT
 * (a failed g_assert), from SIGTERM (meson's timeout) and at exit. So a
 * failing or hanging test never leaves an Xvfb, gateway or agent behind.
 * The temporary directory (gateway state, agent config and enrollment) is removed
 * by wr_harness_free(); after a failure it stays for inspection, and
 * WR_KEEP_TMP=1 keeps it always.
 *
 * Everything runs on the thread-default main context of the calling thread;
 * the wait helpers iterate it.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _WrChild WrChild;

typedef struct {
  char *tmp_dir;              /* removed by wr_harness_free() */

  /* Xvfb */
  WrChild *xvfb;
  int width;
  int height;
  char *display;              /* ":N" */

  /* gateway */
  WrChild *gateway;
  char *gateway_path;
  char *gateway_config;
  char *state_dir;
  char *admin_password;
  guint16 port;
  char *base_url;             /* https://127.0.0.1:PORT */
  char *fingerprint;          /* AA:BB:... of the gateway certificate */
  char *grant_key;            /* ed25519:... the agent verifies grants with
                               * (--print-grant-key unless set before) */

  /* agent */
  WrChild *agent;
  char *agent_path;
  char *agent_id;
  char *agent_config;
  char *agent_extra_config;   /* appended to the agent's keyfile (nullable) */
  char *agent_state_dir;      /* (nullable): the enrolled state directory
                               * of h->agent_id; when unset the harness
                               * enrolls each agent id on its first start
                               * into TMP/agent-state-ID. Agents always
                               * run with --state-dir (mTLS, no token). */

  /* other X clients (xterm, xclock) */
  GPtrArray *clients;         /* WrChild */

  /* HTTP */
  SoupSession *http;
  char *token;                /* admin access token after wr_harness_login() */

  gpointer x_display;         /* Display *, opened on first use */

  /* gateway configuration, read by wr_harness_start_gateway() */
  char *store_url;            /* [store] url (nullable: SQLite in state_dir) */
  char *gateway_extra_config; /* appended to the gateway's keyfile
                               * (nullable), e.g. "[auth]\nlockout-...=3\n" */

  /* A desktop that moves: the agent captures on screen damage, so a bare
   * Xvfb would stream about one frame a second. Unless static_screen is
   * set before wr_harness_start_xvfb(), a thread repaints a 32x32 square
   * in the root window's bottom-right corner at 60 Hz (the agent sends
   * its full frame rate, as a desktop with a playing video would). */
  gboolean static_screen;
  GThread *motion;
  gint motion_stop;
} WrHarness;

typedef struct {
  guint status;
  char *body;                 /* NUL-terminated copy of the body */
  JsonNode *json;             /* (nullable): the body when it is JSON */
  char **set_cookies;         /* every Set-Cookie header value (never NULL) */
  char *content_type;         /* (nullable): the Content-Type media type */
  GBytes *raw;                /* the body as received (binary safe) */
  char *content_range;        /* (nullable): the Content-Range header */
} WrHttpResponse;

void wr_http_response_free (WrHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrHttpResponse, wr_http_response_free)

/**
 * wr_harness_new:
 * Makes a temporary directory with a fresh admin password
 * and locates the binaries (env WR_GATEWAY / WR_AGENT, else
 * $WR_BUILD_ROOT/gateway/webremote-gateway and .../agent/webremote-agent).
 * Returns: (transfer full): the harness; nothing is started yet.
 */
WrHarness *wr_harness_new (int width, int height);

/**
 * wr_harness_free:
 * Kills every process the harness started (SIGKILL to the process group),
 * waits for them and removes the temporary directory.
 */
void wr_harness_free (WrHarness *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrHarness, wr_harness_free)

/* Starts Xvfb with -displayfd on a free display; sets h->display. */
gboolean wr_harness_start_xvfb (WrHarness *h, GError **error);

/* Creates the gateway's certificate (--print-fingerprint) and sets
 * h->fingerprint, and its grant key (--print-grant-key, h->grant_key),
 * then starts the gateway on a free port of 127.0.0.1 (the
 * same port and state directory on later calls) and waits up to 15 s for
 * its "listening on" line. Replaces h->http: old keep-alive connections
 * would point at a dead process. */
gboolean wr_harness_start_gateway (WrHarness *h, GError **error);

/* SIGKILL to the gateway's process group; waits until it is gone. */
void wr_harness_kill_gateway (WrHarness *h);

/* Starts the agent for h->display with ICE on 127.0.0.1 only, enrolling
 * it first (webremotectl enroll create + webremote-agent enroll) unless
 * its id was enrolled before; it connects with its certificate only. */
gboolean wr_harness_start_agent (WrHarness *h, GError **error);

/* All of the above, then login and wait (15 s) until the agent is online. */
gboolean wr_harness_start_all (WrHarness *h, GError **error);

/**
 * wr_harness_spawn_x_client:
 * Runs @argv with DISPLAY=h->display in its own process group; it is killed
 * by wr_harness_free().
 */
gboolean wr_harness_spawn_x_client (WrHarness *h, const char *const *argv,
    GError **error);

/* Runs @argv to completion with DISPLAY=h->display; returns its stdout. */
char *wr_harness_run_x_command (WrHarness *h, const char *const *argv,
    GError **error);

GPid wr_harness_gateway_pid (WrHarness *h);
GPid wr_harness_agent_pid (WrHarness *h);
GPid wr_harness_xvfb_pid (WrHarness *h);

/**
 * wr_harness_http:
 * @method: "GET", "POST", ...
 * @token: (nullable): sent as `Authorization: Bearer TOKEN`
 * @json_body: (nullable): sent as application/json
 * Makes one HTTPS request to the gateway, accepting its certificate only
 * when it matches h->fingerprint.
 * Returns: (transfer full) (nullable): the response, %NULL on a transport
 * error.
 */
WrHttpResponse *wr_harness_http (WrHarness *h, const char *method,
    const char *path, const char *token, const char *json_body,
    GError **error);

/**
 * wr_harness_request:
 * @token: (nullable): sent as `Authorization: Bearer TOKEN`
 * @content_type: (nullable): of @body, default application/json
 * @body: (nullable): the request body, sent as is (any bytes)
 * @headers: (nullable): extra request headers, a NULL-terminated list of
 *   name, value, name, value...
 * Like wr_harness_http() with full control of the body and the headers;
 * the response keeps its Set-Cookie headers. Sends no cookie unless
 * @headers has a Cookie header (the session has no cookie jar).
 */
WrHttpResponse *wr_harness_request (WrHarness *h, const char *method,
    const char *path, const char *token, const char *content_type,
    GBytes *body, const char *const *headers, GError **error);

/* The "code" member of a JSON error body, or %NULL. */
const char *wr_http_response_get_code (WrHttpResponse *response);

/**
 * wr_http_response_get_cookie:
 * @header: (out) (optional) (transfer full): the whole Set-Cookie value
 * Returns: (transfer full) (nullable): the value the response sets for the
 * cookie @name (possibly empty, when it clears it), %NULL when it sets none.
 */
char *wr_http_response_get_cookie (WrHttpResponse *response,
    const char *name, char **header);

/**
 * wr_harness_raw_request:
 * @request: the bytes to write: request line, headers, blank line and
 *   whatever body
 * @status: (out): the response's status code
 * Writes @request on a new TLS connection to the gateway (certificate
 * pinned), reads one response (head, then Content-Length bytes of body)
 * within @timeout_ms, and closes. A write that fails because the gateway
 * answered and closed early is not an error when the answer can be read. For requests libsoup would not send, or
 * not send that way (a Content-Length with no body behind it).
 * Returns: (transfer full) (nullable): the response body.
 */
char *wr_harness_raw_request (WrHarness *h, const char *request,
    guint timeout_ms, guint *status, GError **error);

/* Starts one more agent with id @id on h->display (killed by
 * wr_harness_free()); it does not wait until it is online. */
gboolean wr_harness_start_extra_agent (WrHarness *h, const char *id,
    const char *name, GError **error);

/**
 * wr_harness_ctl:
 * Runs webremotectl (beside the gateway binary) on the gateway's state
 * directory with @args (NULL-terminated).
 * Returns: (transfer full) (nullable): its stdout, stripped; %NULL with
 *   @error (holding its stderr) when it failed.
 */
char *wr_harness_ctl (WrHarness *h, const char *const *args, GError **error);

/**
 * wr_harness_enroll_agent:
 * Makes an enrollment token (webremotectl enroll create) and runs
 * `webremote-agent enroll` with it for @id into @state_dir, pinning
 * h->fingerprint.
 */
gboolean wr_harness_enroll_agent (WrHarness *h, const char *id,
    const char *state_dir, GError **error);

/* Starts one more agent from the enrollment in @state_dir (mTLS, no
 * token); killed by wr_harness_free(); does not wait until it is online. */
gboolean wr_harness_start_enrolled_agent (WrHarness *h,
    const char *state_dir, const char *name, GError **error);

/* POST /api/v1/login as admin; sets h->token. */
gboolean wr_harness_login (WrHarness *h, GError **error);

/**
 * wr_harness_get_agent:
 * Returns: (transfer full) (nullable): the entry of GET /api/v1/agents for
 * h->agent_id, %NULL when it is not listed or the request failed.
 */
JsonObject *wr_harness_get_agent (WrHarness *h);

/* TRUE when GET /api/v1/agents lists h->agent_id as online. */
gboolean wr_harness_agent_online (WrHarness *h);

/* Waits until the agent is online and has at least one display. */
gboolean wr_harness_wait_agent_online (WrHarness *h, guint timeout_ms);

/* Reads the X pointer position on h->display (XQueryPointer on the root). */
gboolean wr_harness_query_pointer (WrHarness *h, int *x, int *y);

/**
 * wr_message_pin_certificate:
 * Makes @msg accept a TLS certificate (self-signed or not) exactly when its
 * SHA-256 fingerprint equals @fingerprint.
 */
void wr_message_pin_certificate (SoupMessage *msg, const char *fingerprint);

/* Waits and helpers on the thread-default main context. */
typedef gboolean (*WrCondition) (gpointer user_data);

/* Iterates the main context until @condition returns TRUE (then TRUE) or
 * @timeout_ms passes (then FALSE). */
gboolean wr_wait_until (WrCondition condition, gpointer user_data,
    guint timeout_ms);

/* Iterates the main context for @ms milliseconds. */
void wr_iterate_ms (guint ms);

/* Arms (or re-arms) the watchdog: after @seconds the test prints a TAP
 * "Bail out!", kills every child process group and exits. */
void wr_watchdog_arm (guint seconds);
void wr_watchdog_disarm (void);

/* User plus system CPU time of @pid in clock ticks, from /proc/PID/stat. */
gboolean wr_process_cpu_ticks (GPid pid, guint64 *ticks);

G_END_DECLS
