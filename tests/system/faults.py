#!/usr/bin/env python3
"""Fault injection for t-faults.sh: runs one request path of
`approve-exec -- PROBE MARK` once for every injection point of one kind
of fault, each time on a fresh copy of the evidence repository (and of
the approval, on the approved path), and checks what is left.

    faults.py PATH VARIANT KIND

PATH is allowed, denied or approved; VARIANT local or remote (the
configuration $FAULTS_ROOT/etc/VARIANT.yaml). KIND is one of

  write, fsync, rename, open   the Nth call fails with EIO (strace);
                               for each syscall of the kind on its own
  kill    SIGKILL at the Nth write, pwrite, link, unlink, rename, mkdir,
          sync or fork (strace). It arrives as the call starts, so it leaves the
          state after the calls before it: as one of those follows each
          open that creates a file, this reaches every state the run
          passes through; opens that only read change nothing.
  malloc  the Nth allocation from main() on fails (failmalloc.so), N
          sampled evenly ($FAULTS_MALLOC_SAMPLES points a run).

N goes from 1 until a run in which nothing was injected. The allowed
path starts with a free slot of the journal, the approved path with
none, so that the sweep covers both a slot's reuse and its making. The
local repository holds eight staged commits not yet settled, so that
the allowed and denied paths settle them, each sync of it swept.

After each injected run:
- the probe ran only if, when it started, main's tip was the decision
  commit of this very request letting it run, or the journal held its
  entry (the probe reads both itself), and, in the strace log, main's
  update or the entry's naming was followed by a successful fsync (of
  its directory), or the first byte written into a slot by a successful
  fdatasync of that slot, before any fork; a denied probe never runs;
- the exit status is the probe's (0) if it ran; otherwise 125, 78 for a
  configuration file that cannot be opened, 126 for an executable that
  cannot be opened (as env(1) says of one it cannot run), the dynamic
  loader's 127 for a library that cannot be, or SIGKILL; 77 for a denial
  only if the denial is recorded. A failed allocation may also end the run with
  SIGABRT (util.h: allocation failures abort) or SIGSEGV (libgit2 1.5
  does not check every allocation): counted as crashes, and the rest
  must hold all the same; so may, in the sanitizer build, an open that
  the sanitizer's own runtime needed;
- no lock file is left under refs/ after an error (a kill may leave
  one: the next run must not be blocked by it);
- a clean run after it runs its probe, and leaves no entry in the
  journal (it commits those whose writer died);
- `approve-exec verify` against the trusted keys finds no problem, and
  finds a record without an outcome only if its command ran, or if the
  kill came after the decision commit; a record that lets a command run
  that did not is completed with "not started"; git fsck is clean; with
  a remote, main contains the remote's main, which verifies too.

One line per problem goes to stdout, then a summary line; the counts are
appended to $FAULTS_ROOT/stats. Exits 1 if there was a problem.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

E = os.environ
AE = E['AE']
ROOT = E['FAULTS_ROOT']
REPO = os.path.join(ROOT, 'work', 'audit.git')
SRV = os.path.join(ROOT, 'srv', 'audit.git')
SPOOL = os.path.join(ROOT, 'spool')
MARKS = os.path.join(ROOT, 'marks')
TRUSTED = os.path.join(ROOT, 'etc', 'trusted')
SHIM = E.get('FAULTS_SHIM', '')
SAMPLES = int(E.get('FAULTS_MALLOC_SAMPLES', '60'))
TIMEOUT = 60

SYSCALLS = {
    'write': ['write', 'pwrite64'],
    'fsync': ['fsync', 'fdatasync', 'syncfs'],
    'rename': ['rename', 'renameat', 'renameat2'],
    'open': ['openat', 'open'],
    'kill': ['write', 'pwrite64', 'link', 'unlink', 'rename', 'renameat', 'renameat2',
             'mkdir', 'fsync', 'fdatasync', 'syncfs', 'clone', 'clone3'],
}
# the calls counted, and those the checks read in every log
TRACED = ('openat,open,write,pwrite64,rename,renameat,renameat2,fsync,'
          'fdatasync,syncfs,link,unlink,mkdir,clone,clone3')
CHECKED = 'rename,syncfs,fsync,fdatasync,pwrite64,clone,clone3'
PROBE = {'allowed': 'probe-allow', 'approved': 'probe-ask',
         'denied': 'probe-deny'}


def conf(variant):
    return os.path.join(ROOT, 'etc', variant + '.yaml')


def run(argv, env=None, timeout=TIMEOUT):
    """Runs argv to the end of its output (the probe's too: it inherits
    stdout); returns (status, stdout, stderr), status -N for signal N."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, '', 'timed out after %d s' % timeout
    return (p.returncode, p.stdout.decode('utf-8', 'replace'),
            p.stderr.decode('utf-8', 'replace'))


def copy_repo(src, dst):
    """A copy of the repository src at dst; object files, which git never
    changes in place, are linked."""
    shutil.rmtree(dst, ignore_errors=True)
    for d, dirs, files in os.walk(src):
        rel = os.path.relpath(d, src)
        os.mkdir(os.path.normpath(os.path.join(dst, rel)),
                 os.stat(d).st_mode & 0o7777)
        objects = rel == 'objects' or rel.startswith('objects' + os.sep)
        for f in files:
            (os.link if objects else shutil.copy2)(
                os.path.join(d, f), os.path.join(dst, rel, f))


def put_back(src, dst):
    """src copied to dst with its owner, as the voter left it."""
    st = os.stat(src)
    unlink(dst)
    shutil.copy2(src, dst)
    os.chown(dst, st.st_uid, st.st_gid)


def reset(variant):
    copy_repo(os.path.join(ROOT, 'pristine', variant + '.git'), REPO)
    if variant == 'remote':
        copy_repo(os.path.join(ROOT, 'pristine', 'srv.git'), SRV)


def unlink(*paths):
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def approve(variant, probe, mark):
    """A --no-wait request for probe mark, approved; returns its id."""
    st, out, err = run([AE, '--config', conf(variant), '--no-wait', '--',
                        probe, mark], timeout=20)
    if st != 75 or len(out.split()) != 2:
        raise RuntimeError('--no-wait: %s %s' % (st, err.strip()))
    rid, code = out.split()
    st, out, err = run([AE, 'approve', '--config', conf(variant), code])
    if st != 0:
        raise RuntimeError('approve: %s %s' % (st, err.strip()))
    state = os.path.join(SPOOL, rid + '.state')
    for _ in range(2000):
        if os.path.exists(state):
            return rid
        time.sleep(0.005)
    raise RuntimeError('request %s was never decided' % rid)


def saw_record(rec, mark, result):
    """None if rec is the decision result of the request for mark, with
    no outcome yet; else what it is."""
    if rec.get('decision', {}).get('result') != result or \
            rec.get('request', {}).get('argv', [])[-1:] != [mark] or \
            rec.get('execution') is not None:
        return 'not this decision: %r' % (rec.get('decision'),)
    return None


def probe_saw(mark, result):
    """None if, when the probe started, main's tip was the decision
    result of this request, or the journal held it (an entry, synced
    before the command started: synced_before_fork); else what was
    there."""
    try:
        with open(mark + '.tip', encoding='utf-8', errors='replace') as f:
            tip = f.read()
    except OSError as e:
        return 'no tip file: %s' % e
    for m in re.finditer(r'^journal \S+\n(.*)$', tip, re.M):
        try:
            entry = json.loads(m.group(1))
            rec = json.loads(entry['record'])
        except (ValueError, KeyError, TypeError):
            continue
        if entry.get('message', '').startswith(result + ': ') and \
                saw_record(rec, mark, result) is None:
            return None
    tip = tip.split('\njournal ', 1)[0]
    first = tip.split('\n', 1)[0]
    if not first.startswith(result + ': '):
        return 'main was at %r, and the journal did not hold it' % first
    try:
        rec = json.loads(tip[tip.find('\n{') + 1:])
    except ValueError:
        return 'the record at main is not JSON'
    why = saw_record(rec, mark, result)
    return None if why is None else 'the record at main is ' + why


REF_DONE = re.compile(r'^rename\(".*/refs/heads/main\.lock", '
                      r'".*/refs/heads/main"\) = 0')
JOURNAL_DONE = re.compile(r'^rename\(".*/approve-exec-journal/tmp-[^"/]*", '
                          r'".*/approve-exec-journal/[^"/]*\.entry"\) = 0')
# the first byte of an entry in a slot, written after the rest of it
SLOT_DONE = re.compile(r'^pwrite64\((\d+), "\{", 1, 0\) += 1$')
SLOT_SYNC = re.compile(r'^fdatasync\((\d+)\) += 0$')


def synced_before_fork(trace):
    """None if every fork in the strace log comes after a successful
    syncfs or fsync (of refs/heads, or of the journal) that followed the
    last update of main or the last entry named in the journal, else why
    not. A clone that starts a process says SIGCHLD (fork) or CLONE_VFORK
    (spawn); others are threads, such as the sanitizers' own."""
    moved = synced = False
    slot = None
    for line in trace:
        if REF_DONE.match(line) or JOURNAL_DONE.match(line):
            moved, synced, slot = True, False, None
        elif SLOT_DONE.match(line):
            moved, synced = True, False
            slot = SLOT_DONE.match(line).group(1)
        elif slot is not None and SLOT_SYNC.match(line) and \
                SLOT_SYNC.match(line).group(1) == slot:
            synced = True
        elif line.startswith(('syncfs(', 'fsync(')) and ' = 0' in line \
                and moved and slot is None:
            synced = True
        elif line.startswith(('clone(', 'clone3(')) and \
                ('SIGCHLD' in line or 'CLONE_VFORK' in line) and \
                (not moved or not synced):
            return 'forked before main was %s: %s' % (
                'synced' if moved else 'updated', line.strip())
    return None


def verify(repo):
    """(records without an outcome, None) or (None, the problem)."""
    st, out, err = run([AE, 'verify', '--repo', repo, '--allowed-signers',
                        TRUSTED])
    m = re.search(r'(\d+) incomplete, (\d+) problems', out + err)
    if st != 0 or m is None or m.group(2) != '0':
        return None, 'verify %s: exit %s: %s' % (
            repo, st, (out + err).strip()[-600:])
    return int(m.group(1)), None


def fsck(repo):
    st, out, err = run(['git', '--git-dir=' + repo, 'fsck', '--no-progress',
                        '--no-dangling'])
    if st != 0:
        return 'git fsck %s: %s' % (repo, (out + err).strip()[-400:])
    return None


def ref_locks(repo):
    found = []
    for d, _, files in os.walk(os.path.join(repo, 'refs')):
        found += [os.path.join(d, f) for f in files if f.endswith('.lock')]
    return found


def record_of(variant, mark):
    """The record at main of the request for mark, or None."""
    st, out, err = run([AE, 'log', '--config', conf(variant), '--json'])
    for line in out.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get('request', {}).get('argv', [])[-1:] == [mark]:
            return rec
    return None


def is_ancestor(a, b):
    return run(['git', '--git-dir=' + REPO, 'merge-base', '--is-ancestor',
                a, b])[0] == 0


class Case:
    """One path, variant and kind of fault: how to run it afresh."""

    def __init__(self, path, variant, kind):
        self.path, self.variant, self.kind = path, variant, kind
        self.mark = os.path.join(MARKS, '%s-%s-%s' % (path, variant, kind))
        self.rid = None
        if path == 'approved':
            # one approval, put back as it was before each run
            reset(variant)
            self.rid = approve(variant, PROBE[path], self.mark)
            self.state = os.path.join(SPOOL, self.rid + '.state')
            shutil.copy2(self.state, os.path.join(ROOT, 'approval'))
            # the ballots that back it, which a run that uses it removes
            self.ballots = [f for f in os.listdir(SPOOL)
                            if f.startswith(self.rid + '.vote.')]
            for f in self.ballots:
                put_back(os.path.join(SPOOL, f), os.path.join(ROOT, f))

    def prepare(self):
        reset(self.variant)
        if self.path == 'approved':
            # the allowed path overwrites the slot the pristine run made;
            # this one makes its slot, so that both are swept
            jdir = os.path.join(REPO, 'approve-exec-journal')
            for f in os.listdir(jdir) if os.path.isdir(jdir) else []:
                if f.startswith('slot-'):
                    unlink(os.path.join(jdir, f))
        m = self.mark
        unlink(m, m + '.tip', m + '.after', m + '.after.tip')
        if self.rid is not None:
            unlink(os.path.join(SPOOL, self.rid + '.used'))
            shutil.copy2(os.path.join(ROOT, 'approval'), self.state)
            for f in self.ballots:
                put_back(os.path.join(ROOT, f), os.path.join(SPOOL, f))

    def argv(self):
        a = [AE, '--config', conf(self.variant)]
        if self.rid is not None:
            a += ['--request', self.rid]
        return a + ['--', PROBE[self.path], self.mark]

    def strace_run(self, sc=None, inject=None):
        """(status, stderr, strace log lines), with sc injected."""
        log = os.path.join(ROOT, 'trace')
        argv = ['strace', '-qq', '-o', log, '-e', 'trace=' + (
            CHECKED + ',' + sc if sc else TRACED)]
        if sc:
            argv += ['-e', 'inject=%s:%s' % (sc, inject)]
        self.prepare()
        # LeakSanitizer cannot work under ptrace
        env = dict(E, ASAN_OPTIONS=E.get('ASAN_OPTIONS', '') +
                   ':detect_leaks=0')
        st, out, err = run(argv + self.argv(), env=env)
        with open(log, encoding='utf-8', errors='replace') as f:
            return st, err, f.readlines()

    def malloc_run(self, n):
        """(status, stderr, allocations, whether one failed)."""
        count = os.path.join(ROOT, 'mcount')
        env = dict(E, LD_PRELOAD=SHIM, AE_FAIL_MALLOC=str(n),
                   AE_FAIL_MALLOC_COUNT=count)
        unlink(count)
        self.prepare()
        st, out, err = run(self.argv(), env=env)
        try:
            with open(count) as f:
                calls, inj = f.read().split()
            return st, err, int(calls), inj == '1'
        except (OSError, ValueError):
            # it did not get to exit(): the failure did that
            return st, err, None, True


class Sweep:
    """Every injection point of one Case, with the counts."""

    def __init__(self, case):
        self.case = case
        self.stats = dict(runs=0, faults=0, ran=0, error_path=0,
                          corrupt=0, crashes=0, sampled='all')
        self.problems = []

    def syscalls(self):
        c = self.case
        for sc in SYSCALLS[c.kind]:
            st, err, trace = c.strace_run()
            count = sum(1 for line in trace if line.startswith(sc + '('))
            if count == 0:
                continue
            loader = loader_opens(trace) if sc == 'openat' else 0
            for n in range(1, 2 * count + 20):
                how = 'signal=KILL' if c.kind == 'kill' else 'error=EIO'
                st, err, trace = c.strace_run(sc, '%s:when=%d' % (how, n))
                killed = c.kind == 'kill' and st == -9
                injected = killed or any('(INJECTED)' in line
                                         for line in trace)
                self.tally('%s N=%d' % (sc, n), st, err, trace, injected,
                           killed, n <= loader and not killed)
                if not injected:
                    break
            else:
                self.problems.append('%s: still injected at N=%d' % (sc, n))

    def malloc(self):
        c = self.case
        st, err, calls, _ = c.malloc_run(0)
        if st != (77 if c.path == 'denied' else 0) or calls is None:
            self.problems.append('malloc: the counting run failed: %s %s' %
                                 (st, err))
            return
        step = max(1, calls // SAMPLES)
        self.stats['sampled'] = 'every %d of %d' % (step, calls)
        n = 1
        while True:
            st, err, _, injected = c.malloc_run(n)
            self.tally('malloc N=%d' % n, st, err, None, injected, False,
                       False)
            if not injected:
                break
            n += step

    def tally(self, where, st, err, trace, injected, killed, loader):
        s = self.stats
        s['runs'] += 1
        s['faults'] += injected
        s['ran'] += os.path.exists(self.case.mark)
        s['crashes'] += st in (-6, -11)
        kinds = set()
        for kind, text in check(self.case, st, err, trace, killed, loader):
            kinds.add(kind)
            self.problems.append('%s: %s' % (where, text))
        s['error_path'] += 'ran' in kinds
        s['corrupt'] += 'corrupt' in kinds


def loader_opens(trace):
    """How many opens the dynamic loader made before the program's own."""
    n = 0
    for line in trace:
        if not line.startswith('openat('):
            continue
        if not re.search(r'"(/etc/ld\.so\.cache|[^"]*\.so(\.[0-9.]+)?)"',
                         line):
            break
        n += 1
    return n


def slot_used(path):
    """Whether the slot at path holds an entry (its first byte is not
    NUL)."""
    with open(path, 'rb') as f:
        return f.read(1) not in (b'', b'\0')


def check(case, st, err, trace, killed, loader):
    """The problems one injected run left, as (kind, text) pairs: kind
    'ran' for a command run on an error path, 'corrupt' for evidence
    left broken or blocked, 'status' for anything else."""
    probs = []
    result, mark = case.path, case.mark
    crashed = case.kind == 'malloc' and st in (-6, -11)
    # the sanitizer build: its runtime's own open failed, and so did it
    crashed = crashed or 'LeakSanitizer has encountered a fatal error' in err
    ran = os.path.exists(mark)
    if ran:
        why = 'a denied command ran' if case.path == 'denied' else \
            probe_saw(mark, result)
        if why is None and trace is not None:
            why = synced_before_fork(trace)
        if why is not None:
            probs.append(('ran', 'the command ran: ' + why))
        elif not killed and not crashed and st != 0:
            probs.append(('status', 'it ran, but exit %s: %s' % (
                st, err.strip()[-300:])))
    else:
        ok = {125}
        if killed:
            ok = {-9}
        elif loader:
            ok = {127}
        elif crashed:
            ok = {st}
        elif re.search(r"^approve-exec: (unable to open ')?%s/etc/[a-z]+"
                       r"\.yaml(': |:\d+:\d+: )" % re.escape(ROOT), err,
                       re.M):
            # the configuration could not be read: unusable, as if invalid
            ok = {78}
        elif re.search(r"^approve-exec: '[^']*probe[^']*': ", err, re.M):
            # the gated program itself could not be opened to be hashed
            ok = {126}
        rec = record_of(case.variant, mark)
        decision = rec.get('decision', {}).get('result') if rec else None
        # a denial, recorded (on the approved path: an approval that
        # could not be taken is refused as used, reqstate_consume)
        if case.path != 'allowed' and not killed and decision == 'denied':
            ok.add(77)
        if st not in ok:
            probs.append(('status', 'nothing ran, exit %s (expected %s): %s'
                          % (st, '/'.join(str(x) for x in sorted(ok)),
                             err.strip()[-300:])))
        if not killed and not crashed and decision == result and \
                result != 'denied' and rec.get('execution') is None:
            probs.append(('corrupt', 'the record says %s, with no outcome, '
                          'and nothing ran' % result))
    if not killed and not crashed:
        for lk in ref_locks(REPO):
            probs.append(('corrupt', 'left behind: ' + lk))
    after = mark + '.after'
    st2, _, err2 = run([AE, '--config', conf(case.variant), '--',
                        'probe-allow', after])
    if st2 != 0 or not os.path.exists(after) or \
            probe_saw(after, 'allowed') is not None:
        probs.append(('corrupt', 'the next run failed: exit %s: %s' % (
            st2, err2.strip()[-400:])))
    # every writer has gone: the clean run committed what they left
    jdir = os.path.join(REPO, 'approve-exec-journal')
    if os.path.isdir(jdir):
        for f in os.listdir(jdir):
            if f.endswith('.entry') or (f.startswith('slot-') and
                                        slot_used(os.path.join(jdir, f))):
                probs.append(('corrupt', 'left in the journal: ' + f))
    incomplete, why = verify(REPO)
    if why is not None:
        probs.append(('corrupt', why))
    elif incomplete > (1 if ran or killed or crashed else 0):
        probs.append(('corrupt', '%d records without an outcome' %
                      incomplete))
    why = fsck(REPO)
    if why is not None:
        probs.append(('corrupt', why))
    if case.variant == 'remote':
        st3, out3, _ = run(['git', '--git-dir=' + SRV, 'rev-parse', 'main'])
        if st3 != 0 or not is_ancestor(out3.strip(), 'main'):
            probs.append(('corrupt', "main lacks the remote's main"))
        if not is_ancestor('refs/remotes/origin/main', 'main'):
            probs.append(('corrupt', 'main lacks origin/main'))
        for why in (verify(SRV)[1], fsck(SRV)):
            if why is not None:
                probs.append(('corrupt', 'remote: ' + why))
    return probs


def main():
    path, variant, kind = sys.argv[1:4]
    os.makedirs(MARKS, exist_ok=True)
    t0 = time.time()
    sw = Sweep(Case(path, variant, kind))
    if kind == 'malloc':
        sw.malloc()
    else:
        sw.syscalls()
    s = sw.stats
    for p in sw.problems[:40]:
        print('%s/%s %s' % (path, variant, p))
    if len(sw.problems) > 40:
        print('... and %d more' % (len(sw.problems) - 40))
    print('%s/%s %s: %d runs, %d faults (%s), %d ran, %d crashed; '
          'commands run on an error path: %d; corrupt repositories: %d; '
          '%.0f s' % (path, variant, kind, s['runs'], s['faults'],
                      s['sampled'], s['ran'], s['crashes'], s['error_path'],
                      s['corrupt'], time.time() - t0))
    with open(os.path.join(ROOT, 'stats'), 'a') as f:
        f.write('%s %s %s %d %d %d %d %d\n' % (
            kind, path, variant, s['faults'], s['error_path'], s['corrupt'],
            s['runs'], s['crashes']))
    sys.exit(1 if sw.problems else 0)


if __name__ == '__main__':
    main()
