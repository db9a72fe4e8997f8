/*
 * fd-list: prints the file descriptors open in this process, one per
 * line in ascending order, leaving out the one it reads /proc/self/fd
 * through. A test runs it under approve-exec to see what leaked.
 *
 * Exit status: 0, or 1 if /proc/self/fd cannot be read.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int
main(void)
{
	DIR *d;
	struct dirent *de;
	int fds[1024], n = 0, i, self;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		perror("fd-list: /proc/self/fd");
		return 1;
	}
	self = dirfd(d);
	while ((de = readdir(d)) != NULL && n < 1024) {
		if (de->d_name[0] == '.')
			continue;
		if ((i = atoi(de->d_name)) != self)
			fds[n++] = i;
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof(fds[0]), cmp_int);
	for (i = 0; i < n; i++)
		printf("%d\n", fds[i]);
	return fflush(stdout) != 0 ? 1 : 0;
}
