/*
 * chan: the table of channels. A channel is registered by one line here.
 */
#include <string.h>

#include "chan.h"

extern const struct chan_ops chan_local, chan_tty, chan_slack_ext,
    chan_broker;

const struct chan_ops *const chan_table[] = {
	&chan_local,
	&chan_tty,
	&chan_slack_ext,
	&chan_broker,
	NULL
};

/* Reached through a broker only: named, never opened on this host. */
static const char *const brokered[] = { "teams", NULL };

const struct chan_ops *
chan_find(const char *name)
{
	size_t i;

	for (i = 0; chan_table[i] != NULL; i++)
		if (strcmp(chan_table[i]->name, name) == 0)
			return chan_table[i];
	return NULL;
}

int
chan_known(const char *name)
{
	size_t i;

	if (chan_find(name) != NULL)
		return 1;
	for (i = 0; brokered[i] != NULL; i++)
		if (strcmp(brokered[i], name) == 0)
			return 1;
	return 0;
}

const char *
chan_names(void)
{
	static char names[128];
	size_t i;

	if (names[0] != '\0')
		return names;
	for (i = 0; chan_table[i] != NULL; i++) {
		if (i > 0)
			strcat(names, ", ");
		strcat(names, chan_table[i]->name);
	}
	for (i = 0; brokered[i] != NULL; i++) {
		strcat(names, ", ");
		strcat(names, brokered[i]);
	}
	return names;
}
