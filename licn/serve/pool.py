"""Bounded query workers for the server: pebble's process pool, with a deadline that counts the wait
for a worker, a bounded queue, work dropped when the client has gone, and a memory bound per worker."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import CancelledError, TimeoutError
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pyoxigraph as ox
from pebble import ProcessExpired, ProcessPool

from ..query.parse import Lane, Rejected, lane_of, query_form
from . import sparql

POLL = 0.2  # seconds between looks at whether the client is still there
LOOKUP_TIME_LIMIT = 1.0  # seconds a lookup may take on the lookup worker before it goes to the others
LOOKUP_MAX_CHARS = 2000  # longer queries go to the general workers unparsed: parsing costs ~2 ms per KB
LANE_MEMORY = 4096  # query texts whose lane is remembered (the parse is the cost; the lane never changes)
RESTARTING = "the query workers are restarting; try again in a few seconds"


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


class QueryPool:
    """Worker processes over one N-Quads file. A call waits at most time_limit seconds from the
    moment it arrives; at most max_pending calls wait or run at once, the next one is refused."""

    def __init__(self, nq: Path, workers: int = 2, time_limit: float = sparql.DEFAULT_TIME_LIMIT,
                 cap: int = sparql.DEFAULT_RESULT_CAP, max_pending: int | None = None,
                 query_memory: int = sparql.DEFAULT_QUERY_MEMORY):
        self.time_limit, self.cap = time_limit, cap
        self.max_pending = max_pending if max_pending is not None else 8 * max(1, workers)
        self.pending = 0
        self._settings = dict(max_workers=max(1, workers), initializer=sparql.start_worker,
                              initargs=(str(nq), query_memory), context=multiprocessing.get_context("spawn"))
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPool:
        pool = ProcessPool(**self._settings)
        pool.schedule(os.getpid)  # starts the workers now, not on the first query
        return pool

    async def _call(self, function, args: tuple, disconnected=None):
        if self.pending >= self.max_pending:
            raise Rejected(503, f"the server is busy ({self.pending} queries waiting or running); "
                                "try again in a few seconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.time_limit
        try:
            future = self._pool.schedule(function, args=args, timeout=self.time_limit)
        except RuntimeError:  # the pool broke (its workers could not start): a new one for the next call
            self._pool = self._new_pool()
            raise Rejected(503, RESTARTING) from None
        self.pending += 1
        waiting = asyncio.wrap_future(future)
        try:
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    raise Rejected(503, f"the query took longer than the time limit of {self.time_limit:g} s "
                                        "(waiting for a worker included) and was stopped")
                done, _ = await asyncio.wait({waiting}, timeout=min(left, POLL))
                if done:
                    return waiting.result()
                if disconnected is not None and await disconnected():
                    raise ClientGone
        except TimeoutError:
            raise Rejected(503, f"the query ran longer than the time limit of {self.time_limit:g} s "
                                "and was stopped") from None
        except ProcessExpired:
            raise Rejected(503, "the query needed more memory than one query may use, and was stopped") from None
        except CancelledError:
            raise Rejected(503, "the query was stopped") from None
        except BrokenProcessPool:
            raise Rejected(503, RESTARTING) from None
        finally:
            self.pending -= 1
            future.cancel()  # a call still waiting or running is dropped (its worker replaced)

    async def answer(self, text: str, result_format, graph_format, default_graphs=(), named_graphs=(),
                     disconnected=None) -> tuple[str, bytes, bool]:
        args = (text, result_format, graph_format, self.cap, tuple(default_graphs), tuple(named_graphs))
        return await self._call(sparql.answer, args, disconnected)

    async def table(self, text: str, disconnected=None):
        return await self._call(sparql.table, (text, self.cap), disconnected)

    def close(self) -> None:
        self._pool.stop()
        self._pool.join(10)


class Lanes:
    """Three lanes (licn.query.parse.lane_of). A point lookup (one triple pattern from a
    resource the query names) is answered in the server process, on its store: its work is bounded
    by that resource's statements and the result cap, and it cannot reach the network. Other lookups
    (every pattern starts from named resources) have a worker of their own, answered at
    once however many heavy queries wait for the general workers; one that outgrows its short limit,
    or finds its lane full, runs again on the general workers, which take everything else."""

    def __init__(self, nq: Path, store: ox.Store, workers: int = 2, time_limit: float = sparql.DEFAULT_TIME_LIMIT,
                 cap: int = sparql.DEFAULT_RESULT_CAP, max_pending: int | None = None,
                 query_memory: int = sparql.DEFAULT_QUERY_MEMORY):
        self.store, self.cap, self.lanes = store, cap, {}  # query text -> its lane
        self.lookups = QueryPool(nq, 1, min(LOOKUP_TIME_LIMIT, time_limit), cap, None, query_memory)
        self.general = QueryPool(nq, workers, time_limit, cap, max_pending, query_memory)

    async def _lane(self, text: str) -> Lane:
        if text in self.lanes:
            return self.lanes[text]
        if len(self.lanes) >= LANE_MEMORY:
            self.lanes.clear()
        self.lanes[text] = lane = await self._new_lane(text)
        return lane

    async def _new_lane(self, text: str) -> Lane:
        """The query's lane, parsed off the event loop (the server answers other requests meanwhile);
        a point lookup's form too, which its answer asks for on the event loop (query_form caches it)."""
        if len(text) > LOOKUP_MAX_CHARS:
            return Lane("general")
        def decide() -> Lane:
            lane = lane_of(text)
            if lane.name == "point":
                query_form(text)
            return lane
        return await asyncio.to_thread(decide)

    async def _route(self, lane: Lane, method: str, text: str, *args):
        if lane.name == "lookup":
            try:
                return await getattr(self.lookups, method)(text, *args)
            except Rejected as exc:
                if exc.status != 503:
                    raise
        return await getattr(self.general, method)(text, *args)

    async def answer(self, text: str, result_format, graph_format, default_graphs=(), named_graphs=(),
                     disconnected=None) -> tuple[str, bytes, bool]:
        lane = await self._lane(text)
        if lane.name == "point":
            return sparql.answer(text, result_format, graph_format, self.cap, tuple(default_graphs),
                                 tuple(named_graphs), store=self.store, subject=lane.subject)
        return await self._route(lane, "answer", text, result_format, graph_format, default_graphs, named_graphs,
                                 disconnected)

    async def table(self, text: str, disconnected=None):
        lane = await self._lane(text)
        if lane.name == "point":
            return sparql.table(text, self.cap, store=self.store)
        return await self._route(lane, "table", text, disconnected)

    def close(self) -> None:
        self.lookups.close()
        self.general.close()
