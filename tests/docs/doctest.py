#!/usr/bin/env python3
"""Runs the console examples of README.md and the manual pages, and
compares what they print with what the documents say.

The format, in the manner of cram and Python's doctest:

  Where  In Markdown, a fenced block whose info string is "console".
         In a manual page, a ".Bd -literal" (or ".EX", ".nf") block
         holding at least one line that starts with "$ ".
  Lines  "$ CMD" is a command, run by sh. "> MORE" continues it on the
         next line (a here-document, say), and so does a line after one
         that ends with a backslash. Every other line, up to the next
         "$ ", is what CMD prints: standard output and standard error
         together, in order, as a terminal shows them (a carriage return
         and ESC [K rewrite the line).
  Users  "NAME$ CMD" runs CMD as the user NAME (alice, bob or root), in
         that user's own shell; "$ CMD" is alice's.
  Names  A request's code (GJQJ-GY), id (32 hex digits) or short id (12)
         in the expected output stands for whatever the command printed
         there; from then on the name means that, in the output and in
         the commands that follow, so an approver can type the code the
         requester was shown.
  Status "[N]" alone on the last line of a command's output is its exit
         status; with none, the command must exit 0.
  Slack  "..." in a line matches any text within that line; a line that
         is only "..." matches any number of lines, none included. Runs
         of blanks count as one blank, and trailing blanks not at all.
  Later  A block marked "background" (see Skip) leaves its last command
         running once what the block shows of it has been printed; a
         later block that starts with output, not with a prompt, is the
         rest of what that command prints, up to its end and exit status.
  Skip   A block that must not run says why in the line just above it:
         "<!-- doctest: skip REASON -->" in Markdown, or
         '.\\" doctest: skip REASON' in a manual page. "pending" in
         place of "skip" marks behaviour announced but not yet built:
         such a block runs only with --pending.

All the blocks of one file run in order in one shell, as a tour does,
so a block sees the files and directory the ones above it left. The
shell runs in a sandbox made afresh for each file: private mount,
network (no interface but a down loopback) and PID namespaces, as the
user alice (HOME=/home/alice, an empty tmpfs, and XDG directories under
it); bob (group ci too) and root have shells of their own there, and a
user deploy (group ci) exists. This build's approve-exec is
/usr/local/bin/approve-exec and the shipped policies are under
/usr/local/share/approve-exec, as install.sh puts them; /tmp,
/etc/approve-exec, /var/lib/approve-exec and /root are empty. systemctl
and terraform are stubs that print nothing and succeed: the examples are
about the gate, not what it runs. Output goes to a terminal, as the
reader's would, with PAGER=cat. A command has 60 seconds. It needs
root, unshare(1), nsenter(1) and setpriv(1).

Prints TAP: one test per block, then how many blocks ran and were
skipped, and why.
"""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time

SALT = "DOCTEST-7f3a1c"
COMMAND_SECONDS = 60
USER, UID = "alice", 64201
HOME = "/home/" + USER
# who may have a prompt of their own, and their uids (root: 0)
USERS = {"alice": UID, "bob": UID + 1, "root": 0}
PROMPT = re.compile(r"^(?:(%s))?\$ " % "|".join(USERS))

# A request's code, id or short id as a document shows one (a code with
# a letter in its first half, so that no date is taken for one), and
# what stands in for each in what a command prints.
NAME = re.compile(r"\b(?:(?=[0-9A-Z]{0,3}[A-Z])[0-9A-Z]{4}-[0-9A-Z]{2}|"
                  r"[0-9a-f]{32}|[0-9a-f]{12})\b")


def name_pattern(token):
    if "-" in token:
        return "[0-9A-Za-z]{4}-[0-9A-Za-z]{2}"
    return "[0-9a-f]{%d}" % len(token)


class Block:
    def __init__(self, path, line, lines, skip=None, pending=None):
        self.path = path
        self.line = line
        self.lines = lines
        self.skip = skip
        self.pending = pending
        self.background = False
        # [user, command text (None: the rest of the one in the
        # background), expected lines, status]
        self.commands = []


class FormatError(Exception):
    pass


def marker(line):
    """'skip'/'pending'/'background' and the reason, from a marker line,
    or None."""
    m = re.match(r'^\s*(?:<!--|\.\\")\s*doctest:\s*(skip|pending|background)'
                 r'\b\s*(.*?)\s*(?:-->)?\s*$', line)
    if not m:
        return None
    if not m.group(2) and m.group(1) != "background":
        raise FormatError("a doctest %s marker must say why" % m.group(1))
    return m.group(1), m.group(2)


def markdown_blocks(path, text):
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+)\s*console\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        fence = m.group(1)
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise FormatError("%s:%d: console block not closed" %
                              (path, start + 1))
        i += 1
        blocks.append(make_block(path, start + 1, body,
                                 lines[start - 1] if start > 0 else ""))
    return blocks


ROFF_ESCAPES = [("\\&", ""), ("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'),
                ("\\(ti", "~"), ("\\(ha", "^"), ("\\(ga", "`"),
                ("\\(en", "\u2013"), ("\\(em", "\u2014"), ("\\e", "\\")]


def unroff(line):
    out = []
    i = 0
    while i < len(line):
        for esc, repl in ROFF_ESCAPES:
            if line.startswith(esc, i):
                out.append(repl)
                i += len(esc)
                break
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def man_blocks(path, text):
    lines = text.split("\n")
    blocks = []
    waiting = False     # a block left a command in the background
    i = 0
    while i < len(lines):
        m = re.match(r"^\.(Bd\s+-literal|EX|nf)\b", lines[i])
        if not m:
            i += 1
            continue
        end = {"E": ".EE", "n": ".fi"}.get(m.group(1)[0], ".Ed")
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(end):
            if not lines[i].startswith('.\\"'):
                body.append(unroff(lines[i]))
            i += 1
        i += 1
        has_prompt = any(PROMPT.match(b) for b in body)
        if has_prompt or waiting:
            blocks.append(make_block(path, start + 1, body,
                                     lines[start - 1] if start > 0 else ""))
            if blocks[-1].background:
                waiting = True
            elif not has_prompt:
                waiting = False
    return blocks


def make_block(path, line, body, before):
    mk = marker(before)
    block = Block(path, line, body,
                  skip=mk[1] if mk and mk[0] == "skip" else None,
                  pending=mk[1] if mk and mk[0] == "pending" else None)
    block.background = bool(mk and mk[0] == "background")
    if block.skip:
        return block
    cmd = None
    cont = False
    for n, text in enumerate(body):
        prompt = PROMPT.match(text)
        if cont:
            cmd[1] += "\n" + text
            cont = text.endswith("\\")
        elif prompt:
            cmd = [prompt.group(1) or USER, text[prompt.end():], [], None]
            block.commands.append(cmd)
            cont = text.endswith("\\")
        elif cmd is not None and cmd[1] is not None and \
                (text.startswith("> ") or text == ">"):
            cmd[1] += "\n" + text[2:]
            cont = text.endswith("\\")
        elif cmd is None:
            if text.strip():
                # the rest of what the command in the background prints
                cmd = [None, None, [text], None]
                block.commands.append(cmd)
        elif cmd[3] is not None:
            raise FormatError("%s:%d: output after the exit status [%d]" %
                              (path, line + 1 + n, cmd[3]))
        elif re.match(r"^\[\d+\]$", text):
            cmd[3] = int(text[1:-1])
        else:
            cmd[2].append(text)
    for cmd in block.commands:
        while cmd[2] and not cmd[2][-1].strip():
            cmd[2].pop()
        if cmd[3] is None:
            cmd[3] = 0
    if block.background and (not block.commands or
                             block.commands[-1][1] is None):
        raise FormatError("%s:%d: a background block ends with a command" %
                          (path, line))
    return block


def squeeze(line):
    return re.sub(r"[ \t]+", " ", line).rstrip()


def line_matches(want, got, names):
    """None if got is not want, else the names (see NAME) with those
    want has given a meaning here added."""
    pattern, groups, pos = [], {}, 0
    for m in NAME.finditer(want):
        pattern.append(want[pos:m.start()])
        tok = m.group(0)
        if tok in names:
            pattern.append((names[tok],))
        elif tok in groups:
            pattern.append(("(?P=%s)" % groups[tok], None))
        else:
            groups[tok] = "n%d" % len(groups)
            pattern.append(("(?P<%s>%s)" % (groups[tok], name_pattern(tok)),
                            None))
        pos = m.end()
    pattern.append(want[pos:])
    regex = []
    for p in pattern:
        if isinstance(p, tuple):
            regex.append(re.escape(p[0]) if len(p) == 1 else p[0])
        else:
            regex.append(".*".join(re.escape(s) for s in p.split("...")))
    m = re.fullmatch("".join(regex), got, re.S)
    if m is None:
        return None
    out = dict(names)
    for tok, g in groups.items():
        out[tok] = m.group(g)
    return out


def matches(want, got, names=None):
    """None if the expected lines do not match the actual ones ('...'
    lines taking any number of lines), else names with those the match
    gave a meaning added."""
    want = [squeeze(w) for w in want]
    got = [squeeze(g) for g in got]
    memo = {}

    def m(i, j, nm):
        key = (i, j, tuple(sorted(nm.items())))
        if key in memo:
            return memo[key]
        r = None
        if i == len(want):
            r = nm if j == len(got) else None
        elif want[i] == "...":
            r = m(i + 1, j, nm)
            if r is None and j < len(got):
                r = m(i, j + 1, nm)
        elif j < len(got):
            nm2 = line_matches(want[i], got[j], nm)
            if nm2 is not None:
                r = m(i + 1, j + 1, nm2)
        memo[key] = r
        return r
    return m(0, 0, dict(names or {}))


def render(text):
    """The lines a terminal shows for text: a carriage return goes back
    to the start of the line, ESC [K erases to its end, other escape
    sequences show nothing."""
    lines, cur, col, i = [], [], 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            lines.append("".join(cur))
            cur, col = [], 0
        elif ch == "\r":
            col = 0
        elif ch == "\x1b":
            esc = re.match(r"\x1b\[[0-9;?]*([A-Za-z])", text[i:])
            if esc:
                if esc.group(1) == "K":
                    del cur[col:]
                i += len(esc.group(0))
                continue
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.append(ch)
            col += 1
        i += 1
    if cur:
        lines.append("".join(cur))
    return lines


def with_names(cmd, names):
    """cmd with each name it holds replaced by what it stands for."""
    return NAME.sub(lambda m: names.get(m.group(0), m.group(0)), cmd)


SETUP = r"""
set -e
mount -t tmpfs -o mode=755 docs /usr/local/bin
install -m 755 "$AE_BIN" /usr/local/bin/approve-exec
# the module beside it, as make install puts it (nothing else of
# /usr/local/lib is for the examples)
mount -t tmpfs -o mode=755 docs /usr/local/lib
mkdir -p /usr/local/lib/approve-exec
install -m 644 "$(dirname "$(readlink -f "$AE_BIN")")"/../lib/approve-exec/ext.so /usr/local/lib/approve-exec/
mount -t tmpfs -o mode=755 docs /usr/local/share
mkdir -p /usr/local/share/approve-exec/policies
install -m 644 "$AE_TOP"/policies/*.yaml /usr/local/share/approve-exec/policies/
mount -t tmpfs -o mode=1777 docs /tmp
# /etc as an overlay, rather than files bound over passwd and group: a
# useradd elsewhere renames a new passwd into place, which detaches those
mkdir -m 700 /tmp/.etc && mkdir -m 755 /tmp/.etc/up /tmp/.etc/work
mount -t overlay -o lowerdir=/etc,upperdir=/tmp/.etc/up,workdir=/tmp/.etc/work docs /etc
for f in passwd group; do
	grep -v "^\($U\|bob\|deploy\|ci\):" /etc/$f >/tmp/.etc/$f
	cat /tmp/.etc/$f >/etc/$f
done
echo "$U:x:$UID_:$UID_:$U:/home/$U:/bin/sh" >>/etc/passwd
echo "$U:x:$UID_:" >>/etc/group
echo "bob:x:$((UID_ + 1)):$((UID_ + 1)):bob:/home/bob:/bin/sh" >>/etc/passwd
echo "bob:x:$((UID_ + 1)):" >>/etc/group
echo "deploy:x:$((UID_ + 2)):$((UID_ + 2)):deploy:/home/deploy:/bin/sh" >>/etc/passwd
echo "deploy:x:$((UID_ + 2)):" >>/etc/group
echo "ci:x:$((UID_ + 3)):deploy" >>/etc/group
for d in /etc/approve-exec /var/lib/approve-exec; do
	if [ -d "$d" ]; then mount -t tmpfs -o mode=755 docs "$d"; fi
done
mount -t tmpfs -o mode=700 docs /root
mount -t tmpfs -o mode=755 docs /home
for u in $U bob; do
	mkdir -m 755 /home/$u
	chown $u:$u /home/$u
done
# what the examples run, but are not about: they print nothing and succeed
install -m 755 /bin/true /tmp/.etc/stub
install -m 755 /tmp/.etc/stub /usr/local/bin/terraform
if [ -e /usr/bin/systemctl ]; then
	mount --bind /tmp/.etc/stub /usr/bin/systemctl
else
	install -m 755 /tmp/.etc/stub /usr/local/bin/systemctl
fi
cd /home/$U
exec setpriv --reuid=$UID_ --regid=$UID_ --clear-groups -- env -i \
	HOME=/home/$U USER=$U LOGNAME=$U SHELL=/bin/sh LANG=C.UTF-8 TZ=UTC \
	PATH=/usr/local/bin:/usr/bin:/bin PAGER=cat GIT_PAGER=cat \
	XDG_CONFIG_HOME=/home/$U/.config XDG_DATA_HOME=/home/$U/.local/share \
	XDG_CACHE_HOME=/home/$U/.cache XDG_STATE_HOME=/home/$U/.local/state \
	sh
"""


# Another user's shell in the sandbox of alice's (see SETUP).
ENTER = r"""
if [ "$UID_" = 0 ]; then
	cd /root && exec env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh \
	    LANG=C.UTF-8 TZ=UTC PAGER=cat GIT_PAGER=cat \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh
fi
cd /home/$U && exec setpriv --reuid=$UID_ --regid=$UID_ --clear-groups -- \
	env -i HOME=/home/$U USER=$U LOGNAME=$U SHELL=/bin/sh LANG=C.UTF-8 \
	TZ=UTC PATH=/usr/local/bin:/usr/bin:/bin PAGER=cat GIT_PAGER=cat \
	XDG_CONFIG_HOME=/home/$U/.config XDG_DATA_HOME=/home/$U/.local/share \
	XDG_CACHE_HOME=/home/$U/.cache XDG_STATE_HOME=/home/$U/.local/state \
	sh
"""


class Session:
    """One user's shell in the sandbox, fed commands one at a time:
    alice's makes the sandbox, the others (target: a process in it)
    enter hers."""

    def __init__(self, top, binary, user=USER, target=None):
        env = dict(os.environ, AE_BIN=binary, AE_TOP=top, U=user,
                   UID_=str(USERS[user]))
        # Output goes to a terminal, as the reader's would: stdout is
        # line-buffered, so it interleaves with stderr as shown.
        self.master, slave = pty.openpty()
        attr = termios.tcgetattr(slave)
        attr[1] &= ~termios.ONLCR
        termios.tcsetattr(slave, termios.TCSANOW, attr)
        if target is None:
            argv = ["unshare", "--mount", "--net", "--pid", "--fork",
                    "--kill-child", "--mount-proc", "--propagation",
                    "private", "sh", "-c", SETUP]
        else:
            argv = ["nsenter", "--target", str(target), "--mount", "--net",
                    "--pid", "--", "sh", "-c", ENTER]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=slave, stderr=slave,
            env=env, start_new_session=True)
        os.close(slave)
        self.buf = b""
        self.count = 0
        self.done = 0       # commands that ended

    def inside(self):
        """The pid of the sandbox's first process (alice's shell)."""
        with open("/proc/%d/task/%d/children" % (self.proc.pid,
                                                 self.proc.pid)) as f:
            return int(f.read().split()[0])

    def start(self, cmd):
        """Starts cmd; returns what ends its output."""
        self.count += 1
        end = "%s %d" % (SALT, self.count)
        # $? after the marker is the command's, as in a terminal
        script = ("{ %s\n} </dev/null 2>&1\n_rc=$?\n"
                  "printf '\\n%s %%s\\n' $_rc\n(exit $_rc)\n") % (cmd, end)
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        self.buf = b""
        return re.compile(rb"\n" + end.encode() + rb" (\d+)\n")

    def read(self, deadline):
        """Adds what the terminal has to buf, waiting until deadline at
        most; raises TimeoutError past it, EOFError at its end."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(self.buf.decode("utf-8", "replace"))
        r, _, _ = select.select([self.master], [], [], min(left, 0.2))
        if r:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                raise EOFError(self.buf.decode("utf-8", "replace"))
            self.buf += chunk

    def finish(self, pat, since=0):
        """(output lines from byte since on, status) of the command that
        pat ends, or raises TimeoutError."""
        deadline = time.monotonic() + COMMAND_SECONDS
        while True:
            m = pat.search(self.buf)
            if m:
                out = self.buf[since:m.start()]
                self.buf = self.buf[m.end():]
                self.done += 1
                return render(out.decode("utf-8", "replace")), \
                    int(m.group(1))
            self.read(deadline)

    def shows(self, want, names):
        """Waits until the command running has printed want (names as in
        matches); returns the names and where its output stands."""
        deadline = time.monotonic() + COMMAND_SECONDS
        while True:
            got = render(self.buf.decode("utf-8", "replace"))
            nm = matches(want, got, names)
            if nm is not None:
                return nm, len(self.buf)
            self.read(deadline)

    def run(self, cmd):
        """(output lines, status) of cmd, or raises TimeoutError."""
        return self.finish(self.start(cmd))

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


class Tour:
    """What the blocks of one file share: the users' shells, the names
    learnt (see NAME) and the command left in the background."""

    def __init__(self, top, binary):
        self.top, self.binary = top, binary
        self.sessions = {}
        self.names = {}
        self.background = None      # (session, its end, output from)

    def session(self, user):
        if user in self.sessions:
            return self.sessions[user]
        if user == USER:
            s = Session(self.top, self.binary)
        else:
            first = self.session(USER)
            if not first.done:
                first.run(":")      # the sandbox is made
            s = Session(self.top, self.binary, user, first.inside())
        self.sessions[user] = s
        return s

    def close(self):
        for user in sorted(self.sessions, key=lambda u: u == USER):
            self.sessions[user].close()


def check_block(tour, block):
    """None when every command printed and exited as shown, else why
    not, as lines."""
    for n, (user, cmd, want, status) in enumerate(block.commands):
        shown = "(the command in the background)" if cmd is None else \
            ("" if user == USER else user) + "$ " + cmd.replace("\n", "\n> ")
        try:
            if cmd is None:
                if tour.background is None:
                    return [shown, "no command is in the background"]
                s, pat, since = tour.background
                tour.background = None
                got, rc = s.finish(pat, since)
            else:
                s = tour.session(user)
                if tour.background and tour.background[0] is s:
                    return [shown, "this shell still runs the command in "
                            "the background: no block above continues it"]
                pat = s.start(with_names(cmd, tour.names))
                if block.background and n == len(block.commands) - 1:
                    tour.names, since = s.shows(want, tour.names)
                    tour.background = (s, pat, since)
                    continue
                got, rc = s.finish(pat)
        except (TimeoutError, EOFError) as e:
            what = "took over %ds" % COMMAND_SECONDS \
                if isinstance(e, TimeoutError) else "ended the shell"
            text = str(e)
            if len(text) > 2000:
                text = "..." + text[-2000:]
            return [shown, "%s; it printed:" % what] + render(text)
        names = matches(want, got, tour.names)
        if rc == status and names is not None:
            tour.names = names
            continue
        lines = [shown]
        if rc != status:
            lines.append("exit status %d, the document says %d" %
                         (rc, status))
        if names is None:
            lines.append("the document says:")
            lines += ["  " + w for w in want]
            lines.append("it printed:")
            lines += ["  " + g for g in got]
        return lines
    return None


def main(argv):
    pending = "--pending" in argv
    args = [a for a in argv if a != "--pending"]
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    binary = os.path.join(top, os.environ.get("AE_BUILD", "build/default"),
                          "approve-exec")
    files = args or ["README.md"] + sorted(
        os.path.join("man", f) for f in os.listdir(os.path.join(top, "man"))
        if re.search(r"\.[1-8]$", f))
    blocks_by_file = []
    try:
        for f in files:
            with open(os.path.join(top, f), encoding="utf-8") as fh:
                text = fh.read()
            parse = markdown_blocks if f.endswith(".md") else man_blocks
            blocks_by_file.append((f, parse(f, text)))
    except FormatError as e:
        print("not ok 1 - the examples can be read: %s" % e)
        print("1..1")
        return 1
    can_run = os.geteuid() == 0 and os.access(binary, os.X_OK) and \
        subprocess.call(["unshare", "--mount", "--net", "--pid", "--fork",
                         "true"], stderr=subprocess.DEVNULL) == 0
    n = ran = failed = 0
    skipped = {}
    for f, blocks in blocks_by_file:
        tour = None
        lost = None
        for b in blocks:
            n += 1
            name = "%s:%d" % (f, b.line)
            why = b.skip or (None if pending else b.pending and
                             "pending: " + b.pending)
            if not why and not can_run:
                why = "needs root, namespaces (unshare) and %s" % binary
            if why:
                skipped[why] = skipped.get(why, 0) + 1
                print("ok %d - %s # SKIP %s" % (n, name, why))
                continue
            if lost:
                # what it would have seen is gone with the sandbox
                failed += 1
                print("not ok %d - %s # not run: %s" % (n, name, lost))
                continue
            if tour is None:
                tour = Tour(top, binary)
            diff = check_block(tour, b)
            ran += 1
            if diff is None:
                print("ok %d - %s (%d commands)" % (n, name,
                                                    len(b.commands)))
                continue
            failed += 1
            print("not ok %d - %s" % (n, name))
            for d in diff:
                for part in d.split("\n"):
                    print("#   " + part)
            if diff[1].startswith(("took over", "ended the shell")):
                lost = "the block at %s hung or ended the shell" % name
        if tour:
            tour.close()
    print("# docs examples: %d blocks, %d ran, %d failed, %d skipped" %
          (n, ran, failed, sum(skipped.values())))
    for why, count in sorted(skipped.items()):
        print("#   skipped %d: %s" % (count, why))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
