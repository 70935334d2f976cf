"""The reader pool: every archived file read and checked in forked reader processes, each with a time
limit, so that a file that hangs or crashes its reader is rejected and the run goes on."""
from __future__ import annotations

import logging
import os
import time
from collections import deque

from .intake import Parsed, Submission, judge_parsed, parse_submission, read_submission
from .io.template_contract import ensure_secret
from .model import Ledger, Settings

log = logging.getLogger("toolkit")


PARALLEL_FROM = 64      # files; below this one reader process is enough




def _read_safely(job: tuple, ledger: Ledger, settings: Settings, key: bytes) -> Submission:
    path, name, sha, received = job
    try:
        return read_submission(path, ledger, settings, received, name, sha, key=key)
    except Exception as exc:       # a reader bug must not stop the run: this file is rejected
        log.exception("读取 %s 时出错", name)
        return Submission(path, name, sha, received).reject("file-read-failed", error=type(exc).__name__)



def _reader(conn, others: list, ledger: Ledger, settings: Settings, key: bytes) -> None:
    """A reader process: read each (path, name, sha, received) it is sent, send back the Submission.
    The parent's ends of the pipes are closed here, so that the parent's death ends the reader."""
    for other in others:
        other.close()
    try:
        while (job := conn.recv()) is not None:
            conn.send(_read_safely(job, ledger, settings, key))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        os._exit(0)



class _Readers:
    """Reader processes (forked: they share the ledger without copying it), each file with a time
    limit; a reader that dies or overruns is replaced and its file rejected."""

    def __init__(self, count: int, ledger: Ledger, settings: Settings, key: bytes):
        import multiprocessing as mp
        self.ctx = mp.get_context("fork")
        self.ledger, self.settings, self.key = ledger, settings, key
        self.slots: list[list] = []
        for _ in range(count):
            self.slots.append(self._start())

    def _start(self) -> list:
        parent, child = self.ctx.Pipe()
        others = [parent] + [s[1] for s in self.slots if not s[1].closed]
        proc = self.ctx.Process(target=_reader, args=(child, others, self.ledger, self.settings, self.key),
                                daemon=True)
        proc.start()
        child.close()
        return [proc, parent, None, 0.0]          # process, pipe, (index, job) in hand, deadline

    def _replace(self, slot: list) -> None:
        slot[0].kill()
        slot[0].join()
        slot[1].close()
        slot[:] = self._start()

    def run(self, jobs: list[tuple[int, tuple]], timeout: float, done, meanwhile=None) -> None:
        """Read each (index, job), calling done(index, Submission); meanwhile(): a piece of this process's own
        work, done while every reader is busy (False once there is none left)."""
        from multiprocessing.connection import wait
        todo = deque(jobs)
        try:
            while True:
                for slot in self.slots:
                    if slot[2] is None and todo:
                        slot[2], slot[3] = todo.popleft(), time.monotonic() + timeout
                        slot[1].send(slot[2][1])
                busy = [s for s in self.slots if s[2] is not None]
                if not busy:
                    return
                more = meanwhile is not None and meanwhile()
                left = 0 if more else min(s[3] for s in busy) - time.monotonic()
                ready = wait([s[1] for s in busy], max(left, 0))
                for slot in busy:
                    (i, job), failure, params = slot[2], "", {}
                    if slot[1] in ready:
                        try:
                            done(i, slot[1].recv())
                        except (EOFError, OSError):
                            failure = "file-reader-crashed"
                    elif time.monotonic() >= slot[3]:
                        failure, params = "file-reader-timeout", {"seconds": timeout}
                    else:
                        continue
                    slot[2] = None
                    if failure:
                        sub = Submission(job[0], job[1], job[2], job[3]).reject(failure, **params)
                        log.warning("%s:%s", job[1], sub.problems[0].message)
                        self._replace(slot)
                        done(i, sub)
        finally:
            for proc, conn, _, _ in self.slots:
                try:
                    conn.send(None)
                except OSError:
                    pass
            for proc, conn, _, _ in self.slots:
                proc.join(1)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
                conn.close()



def read_all(jobs: list[tuple], ledger: Ledger, settings: Settings, on_file=None,
             key: bytes | None = None, early: dict[tuple, Submission | Parsed] | None = None) -> list[Submission]:
    """Read and check every (archived path, name as received, sha256, received) job, in reader
    processes with a time limit per file (two of them when there are many files); where fork is
    unavailable, e.g. Windows, in this process and without a time limit. early: files read before the master
    was (parse_early; by job, its path as text), judged here against the ledger while the readers read the rest."""
    import multiprocessing as mp
    key = ensure_secret(settings) if key is None else key
    out: list[Submission | None] = [None] * len(jobs)
    count = [0]

    def done(i: int, sub: Submission) -> None:
        out[i] = sub
        count[0] += 1
        if on_file:
            on_file(count[0], len(jobs), sub.name)
    if not jobs:
        return []
    early = early if early is not None else {}       # taken from: each one is let go once judged
    keys = [(str(path), *job) for path, *job in jobs]
    ahead = deque((i, early.pop(k)) for i, k in enumerate(keys) if k in early)     # each one judged once
    taken = {i for i, _ in ahead}
    rest = [(i, job) for i, job in enumerate(jobs) if i not in taken]

    def judge_one() -> bool:
        """One file read early, judged here; False once none is left."""
        if not ahead:
            return False
        i, got = ahead.popleft()
        done(i, _judge_safely(got, jobs[i], ledger, settings))
        return True
    if rest and "fork" in mp.get_all_start_methods():
        workers = 2 if len(rest) >= PARALLEL_FROM and (os.cpu_count() or 1) >= 2 else 1
        _Readers(workers, ledger, settings, key).run(rest, float(settings.read_timeout_seconds), done, judge_one)
    else:
        for i, job in rest:
            done(i, _read_safely(job, ledger, settings, key))
    while judge_one():
        pass
    return out


def parse_early(settings: Settings, key: bytes):
    """What archive.Ahead's process does with each file it copied while the run reads the master: the reading that
    needs no ledger (intake.parse_submission); None leaves a file to the readers (a package, a failure, a
    reading longer than their time limit)."""
    limit = float(settings.read_timeout_seconds)

    def parse(path, name: str, sha: str, received) -> Submission | Parsed | None:
        start = time.monotonic()
        try:
            got = parse_submission(path, settings, received, name, sha, key)
        except Exception:          # read again by a reader, with its time limit, and judged there
            return None
        if time.monotonic() - start >= limit:     # a reader would have stopped it: its time limit decides
            return None
        return None if isinstance(got, Parsed) and got.error is not None else got
    return parse


def _judge_safely(got: Submission | Parsed, job: tuple, ledger: Ledger, settings: Settings) -> Submission:
    """A file read early, judged against the ledger (a rejected Submission is final as it is)."""
    if isinstance(got, Submission):
        return got
    try:
        return judge_parsed(got, ledger, settings)
    except Exception as exc:       # as _read_safely: a bug rejects this file, the run goes on
        log.exception("读取 %s 时出错", job[1])
        return Submission(job[0], job[1], job[2], job[3]).reject("file-read-failed", error=type(exc).__name__)
