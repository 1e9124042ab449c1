"""The proposed forms of check and stored queries against the ones in queries/: same rows, times.

Loads a built licn.nq into pyoxigraph, damages it so that every check has rows to report (codings
without a source, a DOI shared by two works in different case, studies without codings), and runs
the original and the proposed form of each check on the intact and the damaged store.

    python -m bench.proposals.compare DIST_DIR [--proposed-only]

With --proposed-only the forms as written are not run (at 10^5 studies they take hours).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pyoxigraph as ox

from licn import paths
from licn.catalogue import parse_query_file, run_oxigraph

HERE = Path(__file__).with_name("checks")
QUERIES = Path(__file__).with_name("queries")
DAMAGE = """
PREFIX licn: <https://w3id.org/licn/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX bibo: <http://purl.org/ontology/bibo/>
DELETE { GRAPH ?g { ?c prov:wasDerivedFrom ?s } } WHERE {
  { SELECT ?c WHERE { GRAPH ?x { ?c a licn:Coding } } ORDER BY ?c LIMIT 3 } GRAPH ?g { ?c prov:wasDerivedFrom ?s } } ;
DELETE { GRAPH ?g { ?c licn:citesEntry ?e } } WHERE {
  { SELECT ?e WHERE { GRAPH ?x { ?st a licn:Study ; licn:studyEntry ?e } } ORDER BY DESC(?st) LIMIT 4 }
  GRAPH ?g { ?c a licn:Coding ; licn:citesEntry ?e } } ;
INSERT { GRAPH <urn:damage> { ?w2 bibo:doi ?upper } } WHERE {
  { SELECT ?w1 ?d WHERE { GRAPH ?x { ?w1 bibo:doi ?d } } ORDER BY ?w1 LIMIT 2 }
  { SELECT ?w2 WHERE { GRAPH ?y { ?w2 bibo:doi ?z } } ORDER BY DESC(?w2) LIMIT 1 }
  BIND(UCASE(STR(?d)) AS ?upper)
}
"""


def run(store, query) -> tuple[float, list]:
    t = time.perf_counter()
    rows = run_oxigraph(store, query.text).rows
    return time.perf_counter() - t, sorted(map(tuple, rows), key=repr)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    proposed_only = "--proposed-only" in args
    args = [a for a in args if a != "--proposed-only"]
    nq = Path(args[0]) / "licn.nq"
    ok = True
    if proposed_only:
        store = ox.Store()
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        for proposed in sorted(HERE.glob("*-violation.rq")) + sorted(QUERIES.glob("*.rq")):
            t_new, rows_new = run(store, parse_query_file(proposed))
            print(f"intact   {proposed.stem:38} rows {len(rows_new):4}; proposed {t_new:7.3f} s")
        return 0
    for label in ("intact", "damaged"):
        store = ox.Store()
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        if label == "damaged":
            store.update(DAMAGE)
        for proposed in sorted(HERE.glob("*-violation.rq")):
            original = parse_query_file(paths.CHECKS / proposed.name)
            t_old, rows_old = run(store, original)
            t_new, rows_new = run(store, parse_query_file(proposed))
            same = rows_old == rows_new
            ok &= same
            print(f"{label:8} {proposed.stem:38} rows {len(rows_old):4} vs {len(rows_new):4} "
                  f"{'same' if same else 'DIFFERENT'}; {t_old:8.3f} s as written, {t_new:7.3f} s proposed")
        if label == "intact":
            for proposed in sorted(QUERIES.glob("*.rq")):
                original = parse_query_file(paths.QUERIES / proposed.name)
                t_old, rows_old = run(store, original)
                t_new, rows_new = run(store, parse_query_file(proposed))
                same = rows_old == rows_new
                ok &= same
                print(f"{label:8} {proposed.stem:38} rows {len(rows_old):4} vs {len(rows_new):4} "
                      f"{'same' if same else 'DIFFERENT'}; {t_old:8.3f} s as written, {t_new:7.3f} s proposed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
