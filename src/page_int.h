/*
 * The approval page's parts, shared by page*.c only.
 */
#ifndef AE_PAGE_INT_H
#define AE_PAGE_INT_H

#include <stdint.h>

#include "store.h"
#include "util.h"

/* What a page shows around the request. */
struct page_view {
	const char *person;	/* signed in as; NULL: nobody */
	const char *identity;	/* "oidc ISS#SUB" or "entra TID/OID" */
	const char *csrf;	/* the session's token for the forms */
	const char *notice;	/* what the last POST did, or NULL */
	int notice_bad;		/* the notice is a refusal */
	int can_vote;		/* show the forms */
	const char *why_not;	/* why the forms are not shown, or NULL */
};

/* Appends s to b, HTML-escaped, control and bidi characters visible. */
void page_esc(struct buf *b, const char *s);

/* The inline style sheet, and its CSP hash source ('sha256-…'). */
extern const char page_style[];

/* Starts and ends an HTML document titled title. */
void page_head(struct buf *b, const char *title);
void page_tail(struct buf *b);

/*
 * Appends the page of request q with its votes: what the host signed,
 * the quorum so far, the time left at now, and the forms per v.
 */
void page_request_html(struct buf *b, const struct store_request *q,
    const struct store_vote *votes, size_t nvotes, int64_t now,
    const struct page_view *v);

/* Returns 1 if person is the requester the host signed, else 0. */
int page_is_requester(const char *payload, const char *person);

/* What one POST to a request's page asks, as the page reads it. */
struct page_ask {
	char *csrf;		/* NULL: none given */
	char *action;		/* as given; NULL: none */
	char *reason;		/* "" when none given */
	char **argv;		/* the changed command, when accepted */
	const char *why;	/* NULL: accepted, else the page's refusal */
};

/*
 * Parses the form body[0..len) of a POST to a request's page as the
 * page does, into *a. Returns 0, or -1 when the body is not a form of
 * known fields, each given once (the page refuses it). Release *a with
 * page_ask_release in either case.
 */
int page_form_check(const char *body, size_t len, struct page_ask *a);
void page_ask_release(struct page_ask *a);

#endif
