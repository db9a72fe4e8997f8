/*
 * ttynotify: wall(1)-style notices to logged-in approvers. What is
 * written was escaped by the caller; what is read here (utmp) may be
 * anyone's, so a terminal is written only if it is a character device
 * under /dev that the login utmp names owns, with messages on.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmpx.h>

#include "ttynotify.h"
#include "util.h"

#define TTYNOTIFY_MAX 16	/* terminals written per notice, at most */

static int
listed(char *const *logins, const char *user)
{
	size_t i;

	for (i = 0; logins != NULL && logins[i] != NULL; i++)
		if (strcmp(logins[i], user) == 0)
			return 1;
	return 0;
}

/* "/dev/LINE" for a utmp line that stays under /dev, or NULL. */
static char *
line_path(const char *line)
{
	if (line[0] == '\0' || line[0] == '/' || strstr(line, "..") != NULL)
		return NULL;
	return xasprintf("/dev/%s", line);
}

/* Writes text to path if user may be told there; returns 1 if written. */
static int
tell(const char *path, const char *user, const char *text)
{
	const struct passwd *pw;
	struct stat st;
	int fd, done = 0;

	if ((pw = getpwnam(user)) == NULL)
		return 0;
	if ((fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	/* mesg n clears the group's write bit: that is a no */
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_uid == pw->pw_uid && (st.st_mode & S_IWGRP) != 0)
		done = write(fd, text, strlen(text)) > 0;
	close(fd);
	return done;
}

int
ttynotify_send(const char *utmp, char *const *logins, const char *text)
{
	char user[sizeof(((struct utmpx *)0)->ut_user) + 1];
	char line[sizeof(((struct utmpx *)0)->ut_line) + 1];
	char **seen = NULL, *path;
	struct utmpx *u;
	int n = 0;

	if (logins == NULL || logins[0] == NULL)
		return 0;
	if (utmp != NULL && utmpxname(utmp) != 0)
		return 0;
	setutxent();
	while (n < TTYNOTIFY_MAX && (u = getutxent()) != NULL) {
		if (u->ut_type != USER_PROCESS)
			continue;
		memcpy(user, u->ut_user, sizeof(u->ut_user));
		user[sizeof(u->ut_user)] = '\0';
		memcpy(line, u->ut_line, sizeof(u->ut_line));
		line[sizeof(u->ut_line)] = '\0';
		if (!listed(logins, user) || (path = line_path(line)) == NULL)
			continue;
		if (!listed(seen, path)) {
			seen = strv_push(seen, path);
			n += tell(path, user, text);
		}
		free(path);
	}
	endutxent();
	strv_free(seen);
	return n;
}
