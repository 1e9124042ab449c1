"""The ceiling for a Python server on this machine: a Starlette app that answers every request
with the same bytes, and one that runs the point query in-process on pyoxigraph.

    uvicorn bench.probes.ceiling:constant --host 127.0.0.1 --port P [--workers 2]
    LICN_PROBE_NQ=dist/licn.nq uvicorn bench.probes.ceiling:inprocess --host 127.0.0.1 --port P
"""
import os

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"head":{"vars":["p","o"]},"results":{"bindings":[]}}'


async def fixed(request):
    return Response(BODY, media_type="application/sparql-results+json")


constant = Starlette(routes=[Route("/sparql", fixed)])

_store = None


def _query(text: str) -> bytes:
    import pyoxigraph as ox
    global _store
    if _store is None:
        _store = ox.Store()
        _store.bulk_load(path=os.environ["LICN_PROBE_NQ"], format=ox.RdfFormat.N_QUADS)
    return _store.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)


async def query(request):
    return Response(_query(request.query_params["query"]), media_type="application/sparql-results+json")


inprocess = Starlette(routes=[Route("/sparql", query)])
