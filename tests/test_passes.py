"""Dual independent coding: the agreement between two passes is computed in the build by maintained
libraries and published as W3C DQV measurements; a coding reaches the map only through a
reconciliation of both passes."""
from __future__ import annotations

import pytest
from rdflib import Literal
from sklearn.metrics import cohen_kappa_score

from loaders.common import Context, Row
from loaders.passes import load_coding_passes
from loaders.vocab import DQV, LICN, instance

STUDIES = ["s1", "s2", "s3", "s4", "s5"]


def context() -> Context:
    ctx = Context()
    ctx.works.update(STUDIES)
    ctx.curators.update({"coder-a", "coder-b", "reconciler"})
    ctx.sources.add("SRC")
    ctx.concepts.update({"level": {"network", "policy"}, "kind": {"media"}, "theory": set(),
                         "mechanism": {"trust", "network-governance"}, "confidence": {"medium"}})
    ctx.mechanism_kind.update({"trust": "media", "network-governance": "media"})
    return ctx


def coding(file: str, line: int, key: str, work: str, level: str, mechanism: str, coder: str) -> Row:
    return Row(file, line, {"key": key, "work": work, "level": level, "kind": "media", "mechanism": mechanism,
                            "curator": coder, "coded_on": "2026-12-06", "coded_from": "abstract", "sources": "SRC",
                            "status": "seen", "confidence": "medium"})


PASSES = {"passes": [{"key": "pass-1", "label": "First", "coders": ["coder-a"], "started": "2026-12-06",
                      "finished": "2026-12-06", "read": STUDIES},
                     {"key": "pass-2", "label": "Second", "coders": ["coder-b"], "started": "2026-12-06",
                      "finished": "2026-12-06", "blind_to": "pass-1", "read": STUDIES}]}
# Mechanisms coded per study by each pass: trust in s1, s2, s3 (pass 1) and s1, s2, s5 (pass 2);
# network governance in s4 (pass 1) and s4, s3 (pass 2).
FIRST = [("s1", "trust"), ("s2", "trust"), ("s3", "trust"), ("s4", "network-governance")]
SECOND = [("s1", "trust"), ("s2", "trust"), ("s5", "trust"), ("s4", "network-governance"), ("s3", "network-governance")]


def rows():
    first = [coding("a.csv", n + 2, f"{w}-a", w, "network", m, "coder-a") for n, (w, m) in enumerate(FIRST)]
    second = [coding("b.csv", n + 2, f"{w}-{m}-b", w, "network", m, "coder-b") for n, (w, m) in enumerate(SECOND)]
    return first, second


def settle(first, second) -> list[Row]:
    """Agreed where both passes coded a study alike, the rest resolved or dropped with a reason."""
    out = []
    by_cell = {}
    for p, pass_rows in (("pass_1", first), ("pass_2", second)):
        for r in pass_rows:
            by_cell.setdefault((r.get("work"), r.get("mechanism")), {})[p] = r.get("key")
    for n, ((work, mech), keys) in enumerate(sorted(by_cell.items())):
        both = len(keys) == 2
        out.append(Row("r.csv", n + 2, {"key": f"{work}-{mech}-r", "work": work, "level": "network", "kind": "media",
                                          "mechanism": mech, "pass_1": keys.get("pass_1", ""), "pass_2": keys.get("pass_2", ""),
                                          "decision": "agreed" if both else "resolved",
                                          "reason": "" if both else "the abstract supports it",
                                          "confidence": "medium", "reconciled_by": "reconciler", "reconciled_on": "2026-12-06"}))
    return out


def test_kappa_and_alpha_are_the_libraries_values_and_published_as_dqv():
    first, second = rows()
    layers, problems = load_coding_passes(PASSES, "passes.yaml", {"pass-1": first, "pass-2": second}, settle(first, second),
                                          context())
    assert problems == []
    # units: 5 studies x 2 mechanisms either pass used; pass 1 present in 4 of them, pass 2 in 5
    units = [(s, m) for s in STUDIES for m in ("network-governance", "trust")]
    one = [int(u in FIRST) for u in units]
    two = [int(u in SECOND) for u in units]
    expected = cohen_kappa_score(one, two)
    assert round(expected, 4) == 0.4  # observed 7/10 alike, expected by chance 0.4 x 0.5 + 0.6 x 0.5 = 0.5
    kappa = instance("agreement", "mechanism-kappa")
    triples = set(layers["curation"])
    assert [float(o) for s, p, o in triples if s == kappa and p == DQV.value] == [0.4]
    assert (kappa, LICN.unitsCompared, Literal(10)) in triples and (kappa, LICN.unitsAgreed, Literal(7)) in triples
    assert (kappa, DQV.isMeasurementOf, LICN.cohensKappa) in triples
    assert any(s == instance("agreement", "mechanism-alpha") for s, _, _ in triples)
    # the map holds the reconciled codings only: one per study and mechanism, never a pass coding
    assert len({s for s, p, o in layers["codings"] if o == LICN.CuratorCoding}) == 6


@pytest.mark.parametrize("damage, message", [
    (lambda f, s, r: f.__setitem__(0, coding("a.csv", 2, "s1-a", "s1", "network", "trust", "coder-x")),
     "a.csv:2: curator: unknown curator 'coder-x'"),
    (lambda f, s, r: r.pop(), "is not settled in reconciliation*.csv"),
    (lambda f, s, r: r[0].data.update(decision="resolved", reason=""), "r.csv:2: reason: a resolved coding says why"),
    (lambda f, s, r: r[0].data.update(decision="agreed", mechanism="trust", pass_2=""),
     "r.csv:2: decision: agreed means both passes coded exactly this"),
])
def test_a_wrong_pass_or_reconciliation_is_named(damage, message):
    first, second = rows()
    settled = settle(first, second)
    damage(first, second, settled)
    _, problems = load_coding_passes(PASSES, "passes.yaml", {"pass-1": first, "pass-2": second}, settled, context())
    assert any(message in str(p) for p in problems), [str(p) for p in problems]


def test_no_reconciliation_without_two_passes_behind_it():
    first, second = rows()
    one_pass = {"passes": [PASSES["passes"][0], {**PASSES["passes"][1], "read": ["s1", "s2", "s3", "s4"]}]}
    second = [r for r in second if r.get("work") != "s5"]
    settled = settle(first, second) + [Row("r.csv", 99, {"key": "s5-r", "work": "s5", "level": "network", "kind": "media",
                                                          "mechanism": "trust", "pass_1": "", "pass_2": "", "decision": "resolved",
                                                          "reason": "x", "confidence": "medium", "reconciled_by": "reconciler",
                                                          "reconciled_on": "2026-12-06"})]
    _, problems = load_coding_passes(one_pass, "passes.yaml", {"pass-1": first, "pass-2": second}, settled, context())
    assert any("r.csv:99: work: 's5' was not read by both coding passes" in str(p) for p in problems), [str(p) for p in problems]
