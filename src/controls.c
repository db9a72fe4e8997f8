/*
 * The control catalogue: the controls approve-exec's evidence speaks
 * to, and those the shipped policies name. A control that is not here
 * is a typo until someone adds it, with its title, in one line.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "controls.h"

static const struct control catalogue[] = {
	{ "SOC2:CC6.1", "Logical access security over protected information "
	    "assets" },
	{ "SOC2:CC6.2", "Registration and authorization of users before "
	    "credentials are issued" },
	{ "SOC2:CC6.3", "Access authorized, changed or removed by role, "
	    "least privilege and segregation of duties" },
	{ "SOC2:CC7.2", "Monitoring of system components for anomalies and "
	    "malicious acts" },
	{ "SOC2:CC8.1", "Changes authorized, tested, approved and implemented"
	    },
	{ "ISO27001:A.5.15", "Access control" },
	{ "ISO27001:A.5.18", "Access rights" },
	{ "ISO27001:A.8.2", "Privileged access rights" },
	{ "ISO27001:A.8.12", "Data leakage prevention" },
	{ "ISO27001:A.8.15", "Logging" },
	{ "ISO27001:A.8.32", "Change management" },
	{ "NIST800-53:AC-3", "Access Enforcement" },
	{ "NIST800-53:AC-3(2)", "Access Enforcement | Dual Authorization" },
	{ "NIST800-53:AC-5", "Separation of Duties" },
	{ "NIST800-53:AC-6", "Least Privilege" },
	{ "NIST800-53:AC-6(9)", "Least Privilege | Log Use of Privileged "
	    "Functions" },
	{ "NIST800-53:AU-9", "Protection of Audit Information" },
	{ "NIST800-53:AU-10", "Non-repudiation" },
	{ "NIST800-53:CM-3", "Configuration Change Control" },
	{ "NIST800-53:CM-5", "Access Restrictions for Change" },
};

#define NCONTROLS (sizeof(catalogue) / sizeof(catalogue[0]))
#define FEDRAMP "FedRAMP:"
#define NIST "NIST800-53:"
#define SUGGEST_MAX 3	/* edits */

const struct control *
controls_find(const char *id)
{
	char nist[64];
	size_t i;

	if (strncmp(id, FEDRAMP, strlen(FEDRAMP)) == 0) {
		if (snprintf(nist, sizeof(nist), NIST "%s",
		    id + strlen(FEDRAMP)) >= (int)sizeof(nist))
			return NULL;
		id = nist;
	}
	for (i = 0; i < NCONTROLS; i++)
		if (strcmp(catalogue[i].id, id) == 0)
			return &catalogue[i];
	return NULL;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Edit distance, case ignored; stops counting past SUGGEST_MAX + 1. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, up;
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return SUGGEST_MAX + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			cur = prev + (lower(a[i - 1]) != lower(b[j - 1]));
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			row[j] = cur;
			prev = up;
		}
	}
	return row[lb];
}

const char *
controls_suggest(const char *id, char *buf, size_t n)
{
	const char *best = NULL, *want = id;
	char nist[64];
	size_t i, d, bestd = SUGGEST_MAX + 1;
	int fedramp = strncasecmp(id, FEDRAMP, strlen(FEDRAMP)) == 0;

	if (fedramp) {
		snprintf(nist, sizeof(nist), NIST "%s", id + strlen(FEDRAMP));
		want = nist;
	}
	for (i = 0; i < NCONTROLS; i++)
		if ((d = distance(want, catalogue[i].id)) < bestd) {
			bestd = d;
			best = catalogue[i].id;
		}
	if (best == NULL || !fedramp || strncmp(best, NIST, strlen(NIST)) != 0)
		return best;
	snprintf(buf, n, FEDRAMP "%s", best + strlen(NIST));
	return buf;
}
