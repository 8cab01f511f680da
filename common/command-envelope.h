/* webremote: command envelopes, Ed25519-signed by the gateway, checked by
 * the agent before it runs anything (docs/security.md, "Commands").
 *
 * An envelope says: in session S on agent A, run the command NAME with
 * these arguments, as the SEQ-th command of the session, once (NONCE),
 * before EXP. The gateway signs it with its grant key under its own
 * domain-separation prefix, so that a session grant can never be passed
 * off as a command and the other way round.
 *
 * Token: base64url(payload) "." base64url(signature), no padding, where
 * payload is compact JSON
 *   {"v":1,"sid":..,"agent":..,"seq":..,"nonce":..,"exp":..,"cid":..,
 *    "name":..,"argv":[..]}
 * and the signature is Ed25519 over WR_COMMAND_SIGNING_CONTEXT followed by
 * the payload bytes.
 *
 * Verification checks the signature, the syntax, the agent and the time;
 * replays (seq and nonce) are the caller's to check, since only it knows
 * what it has seen (WR_COMMAND_ENVELOPE_ERROR_REPLAYED is for it).
 */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

#define WR_COMMAND_SIGNING_CONTEXT "webremote.command.v1\n"

/* Bounds (docs/protocol.md, command.run). */
#define WR_COMMAND_MAX_NAME_LEN 64
#define WR_COMMAND_MAX_ARGS 32
#define WR_COMMAND_MAX_ARG_LEN 1024
#define WR_COMMAND_MAX_SID_LEN 64
#define WR_COMMAND_MAX_AGENT_LEN 64
#define WR_COMMAND_MAX_NONCE_LEN 64
#define WR_COMMAND_MAX_CID_LEN 64
/* Must fit in a command.exec message (WR_PROTOCOL_MAX_MESSAGE_SIZE). */
#define WR_COMMAND_MAX_TOKEN_SIZE 60000
/* How long the gateway makes an envelope valid, and the most an agent
 * accepts (beyond the clock skew). */
#define WR_COMMAND_LIFETIME_S 30
#define WR_COMMAND_MAX_LIFETIME_S 60
#define WR_COMMAND_CLOCK_SKEW 30

#define WR_COMMAND_ENVELOPE_ERROR (wr_command_envelope_error_quark ())
GQuark wr_command_envelope_error_quark (void);

typedef enum {
  WR_COMMAND_ENVELOPE_ERROR_MALFORMED,     /* syntax, sizes, fields */
  WR_COMMAND_ENVELOPE_ERROR_BAD_SIGNATURE, /* not signed by the key */
  WR_COMMAND_ENVELOPE_ERROR_EXPIRED,       /* past exp (+ skew) or too far
                                            * in the future */
  WR_COMMAND_ENVELOPE_ERROR_WRONG_AGENT,   /* signed for another agent */
  WR_COMMAND_ENVELOPE_ERROR_REPLAYED,      /* seq or nonce seen (caller) */
  WR_COMMAND_ENVELOPE_ERROR_KEY,           /* not an Ed25519 key */
} WrCommandEnvelopeError;

typedef struct {
  char *sid;
  char *agent;
  gint64 seq;       /* per session, from 1, increasing */
  char *nonce;
  gint64 exp;       /* unix seconds */
  char *cid;        /* the command id output and exit refer to */
  char *name;
  GStrv argv;       /* the arguments, without the program */
} WrCommandEnvelope;

void wr_command_envelope_free (WrCommandEnvelope *env);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrCommandEnvelope, wr_command_envelope_free)

/**
 * wr_command_envelope_sign:
 * @key: an Ed25519 private key
 * Returns: (transfer full) (nullable): the token, or %NULL with @error
 *   (MALFORMED when a field is out of bounds or the token would be too
 *   large).
 */
char *wr_command_envelope_sign (EVP_PKEY *key, const WrCommandEnvelope *env,
    GError **error);

/**
 * wr_command_envelope_verify:
 * @pubkey: the gateway's Ed25519 public key
 * @token: (nullable): as received (untrusted)
 * @expected_agent: (nullable): the verifier's own agent id
 * @now: unix seconds
 *
 * Returns: (transfer full) (nullable): the envelope, or %NULL with a
 * WR_COMMAND_ENVELOPE_ERROR whose message never quotes the token.
 */
WrCommandEnvelope *wr_command_envelope_verify (EVP_PKEY *pubkey,
    const char *token, const char *expected_agent, gint64 now,
    GError **error);

/** wr_command_envelope_error_reason: a short reason, "replayed"... */
const char *wr_command_envelope_error_reason (WrCommandEnvelopeError code);

G_END_DECLS
