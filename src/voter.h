/*
 * voter: the one step from a channel's identity to a person. Every
 * channel reports who voted as it knows them (a uid, a Slack user, a
 * name proven by TOTP); this module alone maps that to a person through
 * approvers.yaml, so that eligibility and self-approval are then judged
 * the same way for every channel.
 */
#ifndef AE_VOTER_H
#define AE_VOTER_H

#include "approvers.h"
#include "chan.h"
#include "error.h"

/*
 * Returns the person v's voter is, or NULL with why in err
 * (AE_ERR_DENIED): an unknown uid or name, a Slack user nobody lists.
 * Borrowed from ap.
 */
const struct person *voter_person(const struct approvers *ap,
    const struct chan_vote *v, struct ae_error *err);

#endif
