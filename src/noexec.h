/*
 * noexec: a command that may not start other programs. A rule's
 * `noexec: true` lets the approved program run but makes every execve
 * and execveat of it and of everything it starts fail with EACCES, as
 * sudo's NOEXEC tag does, but for static binaries too: a seccomp filter
 * installed in the child just before the approved exec hands each exec
 * to approve-exec (SECCOMP_RET_USER_NOTIF), which lets the first one
 * through (the approved descriptor) and refuses every other. The filter
 * sets no_new_privs: set-id bits and file capabilities give nothing.
 *
 * The escape-hatch catalogue is here too: programs that can run
 * arbitrary commands from inside (awk's system(), a pager's !), which no
 * normaliser can see, so that lint and check can say which allow rules
 * want noexec.
 */
#ifndef AE_NOEXEC_H
#define AE_NOEXEC_H

#include <sys/types.h>

#include <stddef.h>

/*
 * In the child, after fork and just before the approved exec: sets
 * no_new_privs, installs the filter and sends its listener over sock
 * (SCM_RIGHTS), then closes both. Returns 0, or -1 with errno set; the
 * caller must then not exec.
 */
int noexec_child(int sock);

/*
 * In the parent: receives the listener from sock (closes sock) and lets
 * the child's first exec through. Returns the listener (the caller
 * passes it to noexec_wait, which closes it), or -1 if the child sent
 * none (it failed before exec: its error comes the usual way).
 */
int noexec_start(int sock, pid_t pid);

/*
 * Serves listener until process pid has ended (it is not reaped), every
 * exec refused; closes listener. Returns 0, or -1 with errno set.
 */
int noexec_wait(int listener, pid_t pid);

/*
 * Returns the technique by which program name (a basename) can run any
 * command from inside ("awk: system()"), or NULL if the catalogue has
 * none. Borrowed.
 */
const char *noexec_hatch(const char *name);

/*
 * For a rule's command patterns (NULL: every program), the technique of
 * the first escape hatch in the catalogue that one of them matches by
 * its last component ("python*" matches python3), or NULL. The name it
 * matched is copied to name (size bytes). Borrowed.
 */
const char *noexec_rule_hatch(char *const *commands, char *name,
    size_t size);

#endif
