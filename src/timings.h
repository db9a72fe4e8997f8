/*
 * timings: where one run's time goes, for the --timings debug option.
 * Off unless timings_start is called; then each timings_mark ends the
 * phase named there (it began at the previous mark), and timings_print
 * writes one line per phase. Nothing here allocates or fails.
 */
#ifndef AE_TIMINGS_H
#define AE_TIMINGS_H

#include <stdio.h>

/*
 * Starts timing: the first phase, "start", is the CPU time this process
 * used before now (exec, dynamic linking, constructors, option
 * parsing): the kernel keeps its start time in clock ticks only, too
 * coarse to be worth a wall-clock figure.
 */
void timings_start(void);

/* Ends phase (a static string) now, if timing; else does nothing. */
void timings_mark(const char *phase);

/* Writes "approve-exec: timing PHASE MS ms" lines to f, if timing. */
void timings_print(FILE *f);

#endif
