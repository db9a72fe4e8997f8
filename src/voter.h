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
#include "config.h"
#include "error.h"

/*
 * Returns the person v's voter is, or NULL with why in err
 * (AE_ERR_DENIED): an unknown uid or name, a Slack user nobody lists.
 * Borrowed from ap. As voter_person_cfg without a configuration: no
 * vote the broker vouches for with a Slack team or Entra tenant counts.
 */
const struct person *voter_person(const struct approvers *ap,
    const struct chan_vote *v, struct ae_error *err);

/*
 * As voter_person, on a host configured by cfg (may be NULL). A vote the
 * broker vouches for (v->vouched) is the host's own mapping of its
 * identity, never the broker's: a Slack user of cfg's
 * channels.broker.slack_team through slack:, an "ISSUER#SUBJECT"
 * through oidc:, an Entra object of channels.broker.teams_tenant
 * through teams:; and the broker must have named that same person.
 * An unset team or tenant refuses its votes, saying so.
 */
const struct person *voter_person_cfg(const struct approvers *ap,
    const struct config *cfg, const struct chan_vote *v,
    struct ae_error *err);

#endif
