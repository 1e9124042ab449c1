"""The licn command line: build, validate, queries, query, serve, push, figures."""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys
from pathlib import Path

from . import paths

EXIT_USAGE = 2
# The commands whose cmd_<command> lives in a module of its own, imported only when that command runs.
ELSEWHERE = {"serve": "licn.serve.app", "push": "licn.push", "figures": "licn.publish.figures", "diff": "licn.diff",
             "release": "licn.publish.whatsnew"}


def cmd_build(args) -> int:
    from .build import BuildError, build
    from .progress import Stages
    try:
        with Stages("licn build") as stages:
            result = build(Path(args.out), data_dir=Path(args.data), site=not args.no_site, progress=stages)
    except BuildError as exc:
        print(f"licn build failed: {exc}\n{args.out}/ was left as it was.", file=sys.stderr)
        return 1
    except OSError as exc:  # pyoxigraph's and sort's say so in words only, without errno
        if exc.errno != errno.ENOSPC and os.strerror(errno.ENOSPC) not in str(exc):
            raise
        print(f"licn build: {exc}; {args.out}/ was left as it was (free some space and build again).", file=sys.stderr)
        return 1
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in result.phases.items())
    print(f"built {result.out}/: {result.triples} triples, {result.studies} studies ({result.reviewed} reviewed), "
          f"{result.codings} codings; SHACL: conforms; checks: pass; {result.seconds:.2f} s ({phases})")
    if result.agreement:
        print("agreement between the coding passes (Cohen's kappa / Krippendorff's alpha): " + "; ".join(
            f"{dimension} {v.get('kappa', float('nan')):.2f} / {v.get('alpha', float('nan')):.2f}"
            for dimension, v in result.agreement.items()))
    if result.kept:
        print(f"kept from the previous build, not rebuilt: {', '.join(f'{args.out}/{name}/' for name in result.kept)}")
    return 0


def cmd_validate(args) -> int:
    import pyoxigraph as ox

    from .graph import ontology_triples, to_ox
    from .query.checks import run_checks
    from .validate import UnreadableFile, read_files, validate_store

    files = [Path(f) for f in args.files] or [Path(args.dist) / "licn.nq"]
    try:
        if not args.files and not files[0].exists():
            raise UnreadableFile(f"{files[0]} does not exist (run 'licn build' first)")
        store = read_files(files)
    except UnreadableFile as exc:
        print(f"licn validate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    quads = len(store)
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in ontology_triples())  # the class hierarchy
    conforms, violations = validate_store(store)
    failures = run_checks(store) if conforms else []
    if conforms and not failures:
        print(f"conforms: {quads} statements of {len(files)} file(s) checked against the shapes and the violation "
              "checks")
        return 0
    if not conforms:
        print(f"does not conform: {len(violations)} violation(s)")
        for v in violations:
            print(f"- focus node: {v.focus}\n  path: {v.path or '(the node itself)'}\n  message: {v.message}\n"
                  f"  shape: {v.shape}")
    if failures:
        print("the violation checks found problems:\n" + "\n".join(failures))
    return 1


def cmd_queries(args) -> int:
    from .query.catalogue import catalogue_markdown, load_catalogue
    if args.markdown:
        sys.stdout.write(catalogue_markdown())
        return 0
    for query in load_catalogue().values():
        params = ", ".join(f"{p.name}={p.default}" if p.default else p.name for p in query.params)
        print(f"{query.name:32} {query.title}" + (f"  [{params}]" if params else ""))
    return 0


def cmd_query(args) -> int:
    from .query.catalogue import QueryError
    from .query.engines import run
    from .query.results import format_result
    params = {}
    for item in args.param or []:
        key, is_pair, value = item.partition("=")
        if not is_pair:
            print(f"licn query: --param takes NAME=VALUE, not '{item}'", file=sys.stderr)
            return EXIT_USAGE
        params[key] = value
    try:
        result = run(args.name, params, engine=args.engine, dist=Path(args.dist), endpoint=args.endpoint)
    except QueryError as exc:
        print(f"licn query: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(format_result(result, args.format))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="licn",
                                     description="LICN-KG: leadership in integrated care networks as linked data.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="load data/, validate, write dumps, figures and the static site into dist/")
    p.add_argument("--out", default=str(paths.DIST))
    p.add_argument("--data", default=str(paths.DATA), help="the folder of curated files to build from (default: data/)")
    p.add_argument("--no-site", action="store_true",
                   help="the data only (dumps, VoID, checks): no figures, no static site")

    p = sub.add_parser("validate", help="SHACL report in plain words; exit 1 when the graph does not conform")
    p.add_argument("files", nargs="*")
    p.add_argument("--dist", default=str(paths.DIST))

    p = sub.add_parser("queries", help="list the stored queries")
    p.add_argument("--markdown", action="store_true", help="print the catalogue as queries/README.md")

    p = sub.add_parser("query", help="run a stored query")
    p.add_argument("name")
    p.add_argument("--param", action="append", metavar="NAME=VALUE")
    p.add_argument("--format", choices=("table", "csv", "json", "md"), default="table")
    p.add_argument("--engine", choices=("oxigraph", "rdflib"), default="oxigraph")
    p.add_argument("--endpoint", help="a SPARQL 1.1 query endpoint to run the query on instead")
    p.add_argument("--dist", default=str(paths.DIST))

    p = sub.add_parser("serve", help="serve the built graph as linked data with a SPARQL endpoint")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--base-iri", default=None, help="canonical base IRI of the data (default: https://w3id.org/licn/)")
    p.add_argument("--dist", default=str(paths.DIST))
    p.add_argument("--processes", type=int, default=1, help="server processes sharing the port (default: 1)")
    p.add_argument("--query-workers", type=int, default=32,
                   help="SPARQL queries that run at once per server process, each in a sandboxed process "
                        "of its own (default: 32)")
    p.add_argument("--access-log", action="store_true", help="log every request")

    p = sub.add_parser("push", help="upload the built graph to a SPARQL 1.1 triple store")
    p.add_argument("--endpoint", required=True, help="base URL of the store, or its query endpoint")
    p.add_argument("--graph-store", default=None, help="Graph Store Protocol URL (default: derived from --endpoint)")
    p.add_argument("--update", default=None, help="SPARQL Update URL (default: derived from --endpoint)")
    p.add_argument("--query-endpoint", default=None, help="SPARQL query URL for verification (default: derived)")
    p.add_argument("--dist", default=str(paths.DIST))

    p = sub.add_parser("figures", help="draw the evidence gap map and the other figures from the built graph")
    p.add_argument("--dist", default=str(paths.DIST))
    p.add_argument("--out", default=None, help="folder for the figures (default: DIST/figures)")

    p = sub.add_parser("diff", help="what changed between two releases: two built dist/ folders or two .nq dumps")
    p.add_argument("old")
    p.add_argument("new")

    p = sub.add_parser("release", help="keep the built graph as release VERSION (data/releases/), the baseline of "
                                       "What's new")
    p.add_argument("version", help="a date with an optional number, e.g. 2026-12-06 or 2026-12-06.2")
    p.add_argument("--dist", default=str(paths.DIST))

    args = parser.parse_args(argv)
    if args.command not in ("serve", "push"):  # these outlive a peer that hangs up: a client, or the store
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `licn queries | head` ends quietly
    module = importlib.import_module(ELSEWHERE.get(args.command, __name__))
    return getattr(module, f"cmd_{args.command}")(args)


if __name__ == "__main__":
    sys.exit(main())
