/*
 * argv-dump: writes each word of its argv, argv[0] included, followed by
 * a NUL byte, so that a test can compare the exact bytes a command was
 * given with cmp(1).
 *
 *	argv-dump [ARG...] > file
 *
 * Exit status: 0, or 1 if the output could not be written.
 */
#include <stdio.h>

int
main(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		fputs(argv[i], stdout);
		putchar('\0');
	}
	return fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
}
