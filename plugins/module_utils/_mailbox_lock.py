# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""One writer per mailbox (or booking business) on this controller, and a run that stops when its
controller is gone (issue 16).

Graph has no compare-and-swap for a cancel: two processes that each read an event, find it live
and cancel it notify its attendees twice (a cancel of an event already in Deleted Items notifies
again). So a cancelling run takes an exclusive flock(2) on one file per mailbox before it reads
what it will cancel, and holds it until its last write: forks of one playbook (hosts: all with
delegate_to: localhost), two playbooks at once and an orphaned module serialise, and the later
one reads the items already cancelled. flock is released by the kernel when its holder dies, so a
killed run never leaves a stale lock. It is local to this machine: two controllers are not
serialised (docs: give each mailbox one controller).

The lock file also records who holds it (pid, host, start, module, what it is doing) and, as it
goes, the ids it sent a cancel for; a run that stops early (its controller gone) says so there, and
the next run reports it.

ControllerWatch: a module runs as a child of the ansible-playbook process (worker, shell); when
ansible-playbook is killed the module keeps running as an orphan. The ancestors are recorded at
start (Linux /proc/<pid>/stat: parent and start time, so a reused pid is not taken for the same
process; elsewhere the parent pid only) and checked before every batch of writes.

Nothing here imports Ansible.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import socket
import threading
import time

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError, GraphLayerError

try:
    import fcntl
except ImportError:  # not POSIX: the module reports it before any request (Ansible controllers are POSIX)
    fcntl = None

LOCK_POLL = 0.1
TRACE_LIMIT = 5000  # ids kept in the lock file's trace (a task takes at most 5000 ids, _ids.MAX_IDS)


def default_lock_dir():
    """~/.cache/graphops.msgraph/locks (XDG_CACHE_HOME honoured), next to the token cache's default."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphops.msgraph", "locks")


def lock_name(endpoint, mailbox):
    """The lock file's name: the Graph endpoint and the mailbox (case-insensitive), hashed."""
    key = "%s|%s" % ((endpoint or "").rstrip("/").lower(), (mailbox or "").lower())
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + ".lock"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class LockTimeout(GraphLayerError):
    """The mailbox stayed locked by another process for longer than max_wait."""

    def __init__(self, message, holder=None):
        super().__init__(message)
        self.message = message
        self.holder = holder

    def to_dict(self):
        return {"type": "LockTimeout", "message": self.message, "holder": self.holder}


class ControllerGone(GraphLayerError):
    """The process that started the task is gone: no further write is sent."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message
        self.status = None
        self.note = None

    def __str__(self):
        return self.message + ("; " + self.note if self.note else "")

    def to_dict(self):
        return {"type": "ControllerGone", "message": str(self)}


# ------------------------------------------------------------------------------------------ the controller


def _proc_stat(pid):
    """(parent pid, start time in clock ticks) from /proc/<pid>/stat, or None when unreadable."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _is_ansible_cli(pid):
    """Whether the process runs an Ansible command line tool (ansible-playbook, ansible, ansible-runner...)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return False
    return any(os.path.basename(arg).startswith("ansible") for arg in argv[:2])


class ControllerWatch:
    """The processes above this one up to the Ansible command that started it, recorded at start;
    gone() names the first of them no longer running.

    The chain ends at the topmost Ansible command line tool of an unbroken run of them (the worker
    ansible-playbook forks, then ansible-playbook itself, then ansible-runner if any): what is above
    is not this run's. Without one (an async task's daemon, a module run over SSH) only the parent
    is watched, so a daemon's short-lived parents never count as a killed controller.
    """

    def __init__(self, pid=None, getppid=None):
        self._getppid = getppid or os.getppid
        self.parent = self._getppid()
        self.chain = []  # [(pid, start ticks)] from the parent up
        pid = pid or os.getpid()
        seen, chain, found = set(), [], False
        stat = _proc_stat(pid)
        while stat is not None and stat[0] > 1 and stat[0] not in seen:
            seen.add(stat[0])
            parent = _proc_stat(stat[0])
            if parent is None:
                break
            cli = _is_ansible_cli(stat[0])
            if found and not cli:
                break
            found = found or cli
            chain.append((stat[0], parent[1]))
            stat = parent
        if found:
            self.chain = chain

    def gone(self):
        """The first recorded ancestor no longer running (pid), or None while all are."""
        if self._getppid() != self.parent:
            return self.parent  # re-parented: our parent died
        for pid, started in self.chain:
            stat = _proc_stat(pid)
            if stat is None or stat[1] != started:
                return pid
        return None


# ------------------------------------------------------------------------------------------ the lock


class MailboxLock:
    """An exclusive lock on one mailbox for this controller; use acquire(), record() and release()."""

    def __init__(self, endpoint, mailbox, module, directory=None, clock=None, sleep=None):
        self.mailbox = mailbox
        self.module = module
        self.directory = directory or default_lock_dir()
        self.path = os.path.join(self.directory, lock_name(endpoint, mailbox))
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._fd = None
        self.previous = None  # what the lock file said when this run took it (the last holder's trace)
        self.info = {}
        self._guard = threading.Lock()  # the client's batches run in threads: one record() at a time

    def _open(self):
        if fcntl is None:
            raise ConfigurationError("locking a mailbox needs fcntl.flock (a POSIX controller)")
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError("cannot create the mailbox lock %s: %s (set XDG_CACHE_HOME to a writable folder)"
                                     % (self.path, exc.strerror or exc))

    def _read(self, fd):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            data = b""
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data.decode("utf-8")) if data.strip() else None
        except (OSError, ValueError):
            return None

    def _write(self):
        data = json.dumps(self.info, sort_keys=True).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def acquire(self, max_wait, doing):
        """Take the lock within max_wait seconds, else raise LockTimeout naming the mailbox and its holder."""
        fd = self._open()
        deadline = self._clock() + max(0.0, float(max_wait))
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise ConfigurationError("cannot lock %s: %s" % (self.path, exc.strerror or exc))
                if self._clock() >= deadline:
                    holder = self._read(fd)
                    os.close(fd)
                    raise LockTimeout(self._timeout_message(max_wait, holder), holder)
                self._sleep(LOCK_POLL)
        self._fd = fd
        self.previous = self._read(fd)
        self.info = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now(), "module": self.module,
                     "mailbox": self.mailbox, "doing": doing, "state": "running", "cancel_sent": []}
        self._write()
        return self

    def _timeout_message(self, max_wait, holder):
        who = "another process"
        if isinstance(holder, dict) and holder.get("pid"):
            who = "process %s on %s (%s, started %s: %s)" % (holder.get("pid"), holder.get("host"), holder.get("module"),
                                                             holder.get("started"), holder.get("doing"))
        return ("mailbox %s is locked by %s and was not released within max_wait (%g s); nothing was sent. Lock file: %s"
                % (self.mailbox, who, float(max_wait), self.path))

    def record(self, **info):
        """Update the lock file's record (while held)."""
        with self._guard:
            if self._fd is None:
                return
            sent = info.pop("cancel_sent", None)
            if sent:
                trace = self.info.setdefault("cancel_sent", [])
                trace.extend(str(k) for k in sent)
                del trace[:-TRACE_LIMIT]
            self.info.update(info)
            try:
                self._write()
            except OSError:
                pass  # the trace is a courtesy; the lock itself is what keeps writers apart

    def release(self, state="finished", **info):
        if self._fd is None:
            return
        self.record(state=state, ended=_now(), **info)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def previous_unfinished(self):
        """The last holder's record when it did not finish (killed, or stopped: its controller gone), else None."""
        prev = self.previous
        if isinstance(prev, dict) and prev.get("state") != "finished":
            return prev
        return None


def describe_unfinished(prev):
    """A warning for a previous run on this mailbox that did not finish."""
    sent = prev.get("cancel_sent") or []
    state = prev.get("state")
    how = prev.get("stopped_because") or ("it was killed" if state == "running" else state)
    return ("The previous run on mailbox %s (%s, pid %s on %s, started %s) did not finish: %s. It had sent %d cancel(s)%s; "
            "this run read every item again after taking the lock, so they are reported as already cancelled or absent."
            % (prev.get("mailbox"), prev.get("module"), prev.get("pid"), prev.get("host"), prev.get("started"), how,
               len(sent), (" (" + ", ".join(sent[:20]) + (", ..." if len(sent) > 20 else "") + ")") if sent else ""))
