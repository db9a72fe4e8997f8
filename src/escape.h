/*
 * escape: bytes from a command line, made safe to show to a person. A
 * hostile argv must not move the cursor, recolour the screen, hide text
 * behind a carriage return or reorder it with bidi overrides.
 */
#ifndef AE_ESCAPE_H
#define AE_ESCAPE_H

/*
 * Returns s quoted as a POSIX shell word that a person can read and a
 * shell would read back: plain words as they are, words with spaces or
 * quotes in '…', and words with control characters, C1 controls, bidi
 * and zero-width format characters, other invisible characters or invalid
 * UTF-8 in $'…' with \e, \n, \xNN, \uNNNN and \UNNNNNNNN escapes. The
 * caller frees the result.
 */
char *esc_shell_word(const char *s);

/*
 * Returns s with the same characters made visible as \xNN, \uNNNN or
 * \UNNNNNNNN, but
 * no quoting: for text such as a reason or a description. Caller frees.
 */
char *esc_text(const char *s);

/* Returns argv as words joined by spaces, each as esc_shell_word. */
char *esc_argv(char *const *argv);

#endif
