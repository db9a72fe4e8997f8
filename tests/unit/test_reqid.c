/*
 * reqid and voter: what names a request (the one validator every verb
 * uses), and the one step from a channel's identity to a person.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reqid.h"
#include "table.h"
#include "util.h"
#include "voter.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define ID "0123456789abcdef0123456789abcdef"

static const struct reqid_row {
	const char *which;
	int is_id, is_code;
	int names;		/* names the request ID / 7F3K-Q2 */
} reqid_rows[] = {
	{ ID, 1, 0, 1 },
	{ "7F3K-Q2", 0, 1, 1 },
	{ "7f3k-q2", 0, 1, 1 },		/* codes are typed in either case */
	{ "7F3K-Q3", 0, 1, 0 },
	{ "0123456789abcdef0123456789abcdee", 1, 0, 0 },
	{ "0123456789ABCDEF0123456789ABCDEF", 0, 0, 0 },	/* ids are lowercase */
	{ "0123456789abcdef0123456789abcde", 0, 0, 0 },	/* 31 digits */
	{ ID "0", 0, 0, 0 },
	{ ID ".state", 0, 0, 0 },
	{ "../../etc/passwd", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "7F3KQ2", 0, 0, 0 },
	{ "7F3K-Q2 ", 0, 0, 0 },
	{ "7F3K_Q2", 0, 0, 0 },
	{ "7F3K-Q\n", 0, 0, 0 },
	{ "7F3K-Q2\0x", 0, 1, 1 },	/* C strings end at NUL */
};

static char *
reqid_name(const void *p)
{
	const struct reqid_row *r = p;
	char *w = show(r->which, strlen(r->which)), *s;

	s = xasprintf("'%s': id %d, code %d, names %d", w, r->is_id,
	    r->is_code, r->names);
	free(w);
	return s;
}

static void
test_reqid(void **state)
{
	const struct reqid_row *r = *state;

	assert_int_equal(reqid_is_id(r->which), r->is_id);
	assert_int_equal(reqid_is_code(r->which), r->is_code);
	assert_int_equal(reqid_names(r->which, ID, "7F3K-Q2"), r->names);
}

/* approvers.yaml as loaded: alice is root at the terminal and U1 in Slack */
static char *alice_unix[] = { "root", NULL }, *alice_slack[] = { "U1", NULL },
    *bob_slack[] = { "U2", NULL };
static struct person people[] = {
	{ .name = "alice", .unix_users = alice_unix, .slack = alice_slack },
	{ .name = "bob", .slack = bob_slack },
};
static const struct approvers ap = { .people = people, .npeople = 2 };

static const struct voter_row {
	enum chan_who who;
	uid_t uid;
	const char *name;
	const char *person;	/* NULL: nobody's */
} voter_rows[] = {
	{ CHAN_WHO_UID, 0, NULL, "alice" },
	{ CHAN_WHO_UID, 65534, NULL, NULL },	/* a login nobody lists */
	{ CHAN_WHO_UID, 4000000, NULL, NULL },	/* no login at all */
	{ CHAN_WHO_PERSON, 0, "bob", "bob" },
	{ CHAN_WHO_PERSON, 0, "root", NULL },	/* a login, not a person */
	{ CHAN_WHO_PERSON, 0, NULL, NULL },
	{ CHAN_WHO_SLACK, 0, "U1", "alice" },
	{ CHAN_WHO_SLACK, 0, "U2", "bob" },
	{ CHAN_WHO_SLACK, 0, "u2", NULL },	/* Slack IDs are exact */
	{ CHAN_WHO_SLACK, 0, "alice", NULL },
	{ CHAN_WHO_SLACK, 0, NULL, NULL },
};

static char *
voter_name(const void *p)
{
	const struct voter_row *r = p;

	return xasprintf("kind %d uid %lu name %s -> %s", (int)r->who,
	    (unsigned long)r->uid, r->name ? r->name : "(none)",
	    r->person ? r->person : "nobody");
}

static void
test_voter(void **state)
{
	const struct voter_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	const struct person *p;
	struct chan_vote v;

	memset(&v, 0, sizeof(v));
	v.who = r->who;
	v.uid = r->uid;
	v.name = r->name;
	p = voter_person(&ap, &v, &err);
	if (r->person == NULL) {
		assert_null(p);
		assert_int_equal(err.code, AE_ERR_DENIED);
		assert_non_null(strstr(err.msg, "not in the approver list"));
	} else {
		assert_non_null(p);
		assert_string_equal(p->name, r->person);
	}
}

int
main(void)
{
	int fails = 0;

	fails += run_table("reqid", test_reqid, ROWS(reqid_rows), reqid_name);
	fails += run_table("voter", test_voter, ROWS(voter_rows), voter_name);
	return fails != 0;
}
