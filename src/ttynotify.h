/*
 * ttynotify: a line on the terminals where people are logged in, as
 * wall(1) writes it, for approvers who asked to be told (notify: tty).
 */
#ifndef AE_TTYNOTIFY_H
#define AE_TTYNOTIFY_H

/*
 * Writes text (already escaped for a terminal) to every terminal that
 * utmp (a utmp file; NULL: the system's) says one of logins is logged in
 * on, if that terminal is a character device they own and accept
 * messages on (mesg y). Never blocks: a terminal that would is skipped.
 * Returns the number of terminals written to; nothing here is an error
 * for the caller, whose request goes on either way.
 */
int ttynotify_send(const char *utmp, char *const *logins, const char *text);

#endif
