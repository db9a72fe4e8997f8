/*
 * brokerwire: the broker's signed messages, parsed and checked in one
 * place for the server, its clients and the fuzzer. Each message is an
 * envelope {"payload": TEXT, "signature": ARMOR} whose payload is a JSON
 * object signed byte for byte (ssh-keygen -Y sign) in the namespace of
 * its kind, so no canonical form of JSON is needed: what was signed is
 * what is stored and handed on. Parsers refuse unknown or missing
 * fields, duplicate keys, trailing bytes and text that is not UTF-8.
 */
#ifndef AE_BROKERWIRE_H
#define AE_BROKERWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define BW_NS_REQUEST	"approve-exec-request"
#define BW_NS_DECISION	"approve-exec-decision"
#define BW_SCHEMA_REQUEST	"approve-exec/request/v1"
#define BW_SCHEMA_DECISION	"approve-exec/decision/v1"
#define BW_SCHEMA_CLOSE		"approve-exec/close/v1"
#define BW_NS_BROKER_VOTE	"approve-exec-broker-vote"
#define BW_SCHEMA_BROKER_VOTE	"approve-exec/broker-vote/v1"

#define BW_BODY_MAX	(64u * 1024)	/* a whole HTTP body */
#define BW_SIG_MAX	4096		/* an armored signature */
#define BW_REASON_MAX	1000		/* bytes of a decision's reason */
#define BW_PATH_MAX	4096		/* bytes of a request's path */
#define BW_DEPTH_MAX	16		/* nesting inside a payload */
#define BW_TTL_MAX	(7 * 86400)	/* longest a request may wait */
#define BW_ARGV_MAX	4096		/* words of a changed command */
#define BW_ID_MAX	256		/* bytes of one identity fact */

struct bw_envelope {
	char *payload;		/* NUL-terminated, payload_len bytes */
	size_t payload_len;
	char *signature;	/* armored */
};

/*
 * Parses an HTTP body as an envelope. Returns 0 and fills e (release with
 * bw_envelope_release), or AE_ERR_PROTOCOL saying what is wrong.
 */
int bw_envelope_parse(struct bw_envelope *e, const char *body, size_t len,
    struct ae_error *err);
void bw_envelope_release(struct bw_envelope *e);

/* A host's request, from its payload. */
struct bw_request {
	char *id;		/* 32 lowercase hex digits */
	char *digest;		/* "sha256:" and 64 lowercase hex digits */
	int64_t created_at, expires_at;
};

/*
 * Parses a request payload: {"schema", "id", "digest", "request",
 * "requirement", "context", "created_at", "expires_at"}. Returns 0 and
 * fills q (release with bw_request_release), or AE_ERR_PROTOCOL.
 */
int bw_request_parse(struct bw_request *q, const char *payload, size_t len,
    struct ae_error *err);
void bw_request_release(struct bw_request *q);

/* An approver's decision, from its payload. */
struct bw_decision {
	char *request;		/* the request id */
	char *digest;
	char *decision;		/* "approve", "deny" or "modify" */
	char *reason;		/* may be "" */
	char **argv;		/* "modify": the changed command, NULL-
				   terminated, at least one word; else NULL */
	int64_t at;
};

/*
 * Parses a decision payload: {"schema", "request", "digest", "decision",
 * "reason", "at"}, and "argv" (an array of 1 to BW_ARGV_MAX strings,
 * none holding a NUL, the first not empty) if and only if the decision
 * is "modify". Returns 0 and fills d (release with bw_decision_release),
 * or AE_ERR_PROTOCOL.
 */
int bw_decision_parse(struct bw_decision *d, const char *payload, size_t len,
    struct ae_error *err);
void bw_decision_release(struct bw_decision *d);

/* How the broker knew the voter: the one identity object of its vote. */
enum bw_via {
	BW_VIA_SLACK,		/* "slack": team, user, action_ts */
	BW_VIA_OIDC,		/* "oidc": iss, sub */
	BW_VIA_ENTRA,		/* "entra": tid, oid */
	BW_VIA_TEAMS,		/* "teams": tenant, oid, activity */
};

/* A vote the broker vouches for, from its payload. */
struct bw_broker_vote {
	char *request;		/* the request id */
	char *digest;
	char *decision;		/* "approve", "deny" or "modify" */
	char *reason;		/* "" when the payload has none */
	char **argv;		/* decision modify: NULL-terminated; else NULL */
	char *person;		/* the broker's own mapping, to be checked */
	int64_t at;
	enum bw_via via;
	char *team;		/* slack team, entra tid, teams tenant; else NULL */
	char *user;		/* slack user, oidc sub, entra and teams oid */
	char *issuer;		/* oidc iss (an URL without '#'); else NULL */
	char *event;		/* slack action_ts, teams activity; else NULL */
};

/*
 * Parses a broker-vote payload, countersigned by the broker in
 * BW_NS_BROKER_VOTE: {"schema", "request", "digest", "decision",
 * "reason"?, "argv"? (present if and only if decision is "modify"),
 * "person", "at"} and exactly one of {"slack": {"team", "user",
 * "action_ts"}}, {"oidc": {"iss", "sub"}}, {"entra": {"tid", "oid"}},
 * {"teams": {"tenant", "oid", "activity"}}. Returns 0 and fills v
 * (release with bw_broker_vote_release), or AE_ERR_PROTOCOL.
 */
int bw_broker_vote_parse(struct bw_broker_vote *v, const char *payload,
    size_t len, struct ae_error *err);
void bw_broker_vote_release(struct bw_broker_vote *v);

/*
 * Returns 1 if payload is a JSON object whose schema is
 * BW_SCHEMA_BROKER_VOTE, else 0: which check a vote is for, and nothing
 * more (bw_broker_vote_parse checks it).
 */
int bw_is_broker_vote(const char *payload, size_t len);

/* The name of v's identity object: "slack", "oidc", "entra" or "teams". */
const char *bw_via_name(enum bw_via via);

/* The host's word that a request is over, from its payload. */
struct bw_close {
	char *request;		/* the request id */
	char *digest;
	char *state;		/* approved, denied, expired or cancelled */
	int64_t at;
	int exit_status;	/* 0..255 after the approved command ran; else -1 */
};

/*
 * Parses a close payload, signed by the host that submitted the request
 * in BW_NS_REQUEST: {"schema", "request", "digest", "state", "at"} and,
 * once an approved command ran, "exit_status" (an integer 0..255; with
 * state "approved" only). Returns 0 and fills c (release with bw_close_release), or
 * AE_ERR_PROTOCOL.
 */
int bw_close_parse(struct bw_close *c, const char *payload, size_t len,
    struct ae_error *err);
void bw_close_release(struct bw_close *c);

/*
 * Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC, nothing else). Returns 0 and *out,
 * or -1.
 */
int bw_time_parse(const char *s, int64_t *out);
/* Writes t in that form into out (at least 21 bytes). */
void bw_time_format(int64_t t, char *out, size_t outsz);

#endif
