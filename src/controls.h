/*
 * controls: the catalogue of compliance controls a rule may name in
 * `controls:` (SOC 2 2017 Trust Services Criteria, ISO/IEC 27001:2022
 * Annex A, NIST SP 800-53 rev5, and FedRAMP, whose baselines are NIST's
 * ids), each with a one-line title, for lint and for reports.
 */
#ifndef AE_CONTROLS_H
#define AE_CONTROLS_H

#include <stddef.h>

struct control {
	const char *id;		/* "SOC2:CC6.1", "NIST800-53:AC-3(2)" */
	const char *title;	/* one line */
};

/*
 * Returns the catalogue entry for id, or NULL if it is not known. A
 * FedRAMP:ID is known when NIST800-53:ID is; its entry is NIST's.
 * Borrowed (static).
 */
const struct control *controls_find(const char *id);

/*
 * Returns the known id nearest to id (a few edits away, case ignored),
 * for a did-you-mean, or NULL. For FedRAMP:ID, the nearest NIST id is
 * given with the FedRAMP prefix, in buf (size n); else borrowed.
 */
const char *controls_suggest(const char *id, char *buf, size_t n);

#endif
