"""The sandbox every SPARQL query of the server runs in, and the order in which queries get to run.

A zygote process, spawned so that it shares nothing with the server, loads the built graph, forbids
itself network sockets (seccomp) and bounds its address space (licn.serve.sparql.start_worker). For
each query it forks a child, which inherits the store copy-on-write and all those bounds, parses and
evaluates that one query with pyoxigraph and sends back the answer. A query is thus a process of its
own: stopped at its deadline or when its client leaves without touching any other, limited in CPU
time by the kernel as well, and moved to the lowest CPU priority once it has run for DEMOTE_AFTER
seconds, so that short queries overtake long ones whatever their text says (the kernel's scheduler
decides, from the time each query took).

The server process reads no query text. It decides only when a query starts: each client's queries
in arrival order, clients in turn, with bounds on how many queries wait and run, in all and per client.
The deadline counts from a query's arrival, waiting included."""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import itertools
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ..query.parse import Rejected
from . import sparql

POLL = 0.2  # seconds between looks at whether the client is still there
DEMOTE_AFTER = 0.05  # seconds a query runs at normal priority before it yields to newer ones
LOWEST_PRIORITY = 19
RESTARTING = "the query sandbox is restarting; try again in a few seconds"


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


# -- the zygote and its children (separate processes) ----------------------------------------------

def _child(writer: Connection, function, args: tuple, cpu_seconds: int) -> None:
    """One query, in a process of its own forked from the zygote."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        outcome = ("answer", function(*args))
    except Rejected as exc:
        outcome = ("rejected", exc)
    except MemoryError:
        outcome = ("rejected", Rejected(503, "the query needed more memory than one query may use, and was stopped"))
    except Exception as exc:  # noqa: BLE001 - any engine error is the client's answer, never a traceback
        outcome = ("rejected", Rejected(400, f"the query could not be run: {exc}"))
    writer.send(outcome)


def _fork(function, args: tuple, cpu_seconds: int, server: Connection) -> tuple[int, Connection]:
    """A child running one query, and the end of the pipe its answer comes through."""
    reader, writer = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            server.close()
            reader.close()
            _child(writer, function, args, cpu_seconds)
        except BaseException:  # noqa: BLE001 - the answer could not be sent; the zygote reports the exit
            status = 1
        finally:
            os._exit(status)
    writer.close()
    return pid, reader


def zygote(nq: str, query_memory: int, cpu_seconds: int, server: Connection, void: str | None = None) -> None:
    """Load the store (and the VoID description, if given), seal the process, then fork a child per
    ("run", key, function, args) message and send ("done", key, outcome) for each; ("stop", key) kills
    a child. Ends, with its children, on ("exit",) or when the server does."""
    sparql.start_worker(nq, query_memory, void)
    children: dict[Connection, tuple[int, int, float]] = {}  # reader -> (key, pid, started)
    by_key: dict[int, int] = {}  # key -> pid
    demoted: set[int] = set()
    while True:
        now = time.monotonic()
        for key, pid, started in children.values():
            if key not in demoted and now - started >= DEMOTE_AFTER:
                demoted.add(key)
                _lower_priority(pid)
        due = [started + DEMOTE_AFTER - now for key, _, started in children.values() if key not in demoted]
        for ready in wait([server, *children], timeout=max(0.0, min(due)) if due else None):
            if ready is server:
                try:
                    message = server.recv()
                except (EOFError, OSError):
                    message = ("exit",)
                if message[0] == "exit":
                    for _, pid, _ in children.values():
                        os.kill(pid, signal.SIGKILL)
                    return
                if message[0] == "run":
                    _, key, function, args = message
                    pid, reader = _fork(function, args, cpu_seconds, server)
                    children[reader], by_key[key] = (key, pid, time.monotonic()), pid
                elif message[0] == "stop" and message[1] in by_key:
                    os.kill(by_key[message[1]], signal.SIGKILL)
                continue
            key, pid, _ = children.pop(ready)
            del by_key[key]
            demoted.discard(key)
            try:
                outcome = ready.recv()
            except (EOFError, OSError):
                outcome = None
            ready.close()
            exitcode = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            if outcome is None:
                outcome = ("rejected", _ended(exitcode, cpu_seconds))
            try:
                server.send(("done", key, outcome))
            except (OSError, ValueError):
                return


def _lower_priority(pid: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, LOWEST_PRIORITY)
    except OSError:  # it has just ended
        pass


def _ended(exitcode: int | None, cpu_seconds: int) -> Rejected:
    """Why a query's process ended without an answer."""
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return Rejected(503, f"the query used more than {cpu_seconds} s of processor time and was stopped")
    if exitcode == -signal.SIGSEGV:
        return Rejected(400, "the query is nested too deeply to be parsed")
    return Rejected(503, "the query needed more memory than one query may use, and was stopped")


# -- the server's side ---------------------------------------------------------------------------

@dataclass
class _Call:
    key: int
    client: str
    message: tuple
    done: asyncio.Future
    running: bool = False
    zygote: int = -1  # which zygote it was sent to


@dataclass
class Limits:
    """How many queries may run and wait, in all and per client; a further one is refused (503)."""
    running: int = 32
    waiting: int = 128
    running_per_client: int = 4
    waiting_per_client: int = 16

    @classmethod
    def of(cls, running: int, waiting: int | None = None) -> "Limits":
        """Limits for queries running at once (a client may hold a quarter of them, at most 4) and
        waiting ones (a client a quarter, at most 16)."""
        waiting = 4 * running if waiting is None else waiting
        return cls(running, waiting, max(1, min(4, running // 4)), max(1, min(16, waiting // 4)))


class QueryPool:
    """The sandbox of one server process over one N-Quads file and, with void, the VoID description
    of it as a graph of its own (see the module's doc and sparql.start_worker)."""

    def __init__(self, nq: Path, time_limit: float = sparql.DEFAULT_TIME_LIMIT, cap: int = sparql.DEFAULT_RESULT_CAP,
                 limits: Limits | None = None, query_memory: int = sparql.DEFAULT_QUERY_MEMORY,
                 void: Path | None = None):
        self.nq, self.time_limit, self.cap = str(nq), time_limit, cap
        self.void = str(void) if void is not None else None
        self.limits = limits or Limits()
        self.query_memory = query_memory
        self._keys = itertools.count()
        self._waiting: collections.OrderedDict[str, collections.deque[_Call]] = collections.OrderedDict()
        self._running: dict[int, _Call] = {}
        self._running_per_client: collections.Counter[str] = collections.Counter()
        self._sender = concurrent.futures.ThreadPoolExecutor(1, "licn-sandbox-sender")  # messages in order
        self._generation = 0
        self._start()

    # The zygote, its pipe and the thread that reads the pipe.
    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        here, there = context.Pipe()
        cpu_seconds = int(self.time_limit) + 2  # the kernel's bound, behind the server's deadline
        self._zygote = context.Process(target=zygote, daemon=True, name="licn-query-sandbox",
                                       args=(self.nq, self.query_memory, cpu_seconds, there, self.void))
        self._zygote.start()
        there.close()
        self._pipe, self._generation = here, self._generation + 1
        threading.Thread(target=self._read, args=(here, self._generation), daemon=True,
                         name="licn-sandbox-reader").start()

    def _read(self, pipe: Connection, generation: int) -> None:
        while True:
            try:
                _, key, outcome = pipe.recv()
            except (EOFError, OSError, TypeError):  # TypeError: close() closed the pipe under recv()
                break
            call = self._running.get(key)
            if call is not None:
                call.done.get_loop().call_soon_threadsafe(self._finish, call, outcome)
        for call in list(self._running.values()):  # the zygote ended: what ran in it is lost
            if call.zygote == generation:
                call.done.get_loop().call_soon_threadsafe(self._finish, call, ("rejected", Rejected(503, RESTARTING)))

    def _send(self, pipe: Connection, message: tuple) -> None:
        try:
            pipe.send(message)
        except (OSError, ValueError):
            pass  # the zygote ended; the reader fails what it had

    def _finish(self, call: _Call, outcome: tuple) -> None:
        if not call.done.done():
            call.done.set_result(outcome)

    # Scheduling, on the event loop.
    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._zygote.is_alive():
            self._zygote.join()
            self._start()
        while len(self._running) < self.limits.running:
            client = next((c for c in self._waiting
                           if self._running_per_client[c] < self.limits.running_per_client), None)
            if client is None:
                return
            queue = self._waiting[client]
            call = queue.popleft()
            if queue:
                self._waiting.move_to_end(client)
            else:
                del self._waiting[client]
            call.running, call.zygote = True, self._generation
            self._running[call.key] = call
            self._running_per_client[client] += 1
            loop.run_in_executor(self._sender, self._send, self._pipe, call.message)

    def _release(self, call: _Call) -> None:
        if call.running:
            if self._running.pop(call.key, None) is not None:
                self._running_per_client[call.client] -= 1
                if not self._running_per_client[call.client]:
                    del self._running_per_client[call.client]
                if not call.done.done() and call.zygote == self._generation:
                    asyncio.get_running_loop().run_in_executor(self._sender, self._send, self._pipe, ("stop", call.key))
        elif call.client in self._waiting:
            queue = self._waiting[call.client]
            if call in queue:
                queue.remove(call)
            if not queue:
                del self._waiting[call.client]
        self._dispatch()

    def busy(self) -> dict:
        return {"running": len(self._running), "waiting": sum(len(q) for q in self._waiting.values())}

    async def call(self, function, args: tuple, client: str = "", disconnected=None):
        """function(*args) in a sandboxed process of its own, in this client's turn, within the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.time_limit
        waiting = self.busy()["waiting"]
        if waiting >= self.limits.waiting or len(self._waiting.get(client, ())) >= self.limits.waiting_per_client:
            raise Rejected(503, f"the server is busy ({waiting} queries waiting); try again in a few seconds")
        key = next(self._keys)
        call = _Call(key, client, ("run", key, function, args), loop.create_future())
        self._waiting.setdefault(client, collections.deque()).append(call)
        try:
            self._dispatch()
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    raise Rejected(503, f"the query took longer than the time limit of {self.time_limit:g} s "
                                        "(waiting included) and was stopped")
                done, _ = await asyncio.wait({call.done}, timeout=min(left, POLL))
                if done:
                    kind, value = call.done.result()
                    if kind == "rejected":
                        raise value
                    return value
                if disconnected is not None and await disconnected():
                    raise ClientGone
        finally:
            self._release(call)

    async def answer(self, text: str, result_format, graph_format, default_graphs=(), named_graphs=(),
                     disconnected=None, client: str = "") -> tuple[str, bytes, bool]:
        args = (text, result_format, graph_format, self.cap, tuple(default_graphs), tuple(named_graphs))
        return await self.call(sparql.answer, args, client, disconnected)

    async def table(self, text: str, disconnected=None, client: str = ""):
        return await self.call(sparql.table, (text, self.cap), client, disconnected)

    def close(self) -> None:
        # The pipe's reader thread keeps its end open while it waits, so the zygote would see no end
        # of the pipe: it is told to exit.
        self._sender.submit(self._send, self._pipe, ("exit",))
        self._sender.shutdown(wait=True)
        self._pipe.close()
        self._zygote.join(10)
        if self._zygote.is_alive():
            self._zygote.kill()
            self._zygote.join()
