"""The PRISMA 2020 flow diagram of the living update: every box is a count of the stored query
prisma-flow, the boxes add up, and the figure and its CSV are published with the site and served."""
from __future__ import annotations

import csv
import io

import httpx

from licn.query.engines import run
from licn.serve.app import create_app, serving


def boxes(dist) -> dict[int, list[tuple[str, int]]]:
    found: dict[int, list[tuple[str, int]]] = {}
    for row in run("prisma-flow", dist=dist).as_dicts():
        found.setdefault(row["order"], []).append((row["part"], row["count"]))
    return found


def total(found, order: int) -> int:
    return sum(n for _, n in found.get(order, []))


def test_the_boxes_add_up(dist):
    b = boxes(dist)
    assert total(b, 3) - total(b, 4) == total(b, 5)  # identified - duplicates = screened
    assert total(b, 5) - total(b, 6) == total(b, 7)  # screened - excluded = sought
    assert total(b, 7) - total(b, 8) == total(b, 9)  # sought - not retrieved = assessed
    assert total(b, 9) - total(b, 10) == total(b, 11)  # assessed - excluded = new reports
    assert total(b, 12) <= total(b, 11)  # a study with several reports counts once
    assert (total(b, 1), total(b, 2)) == (365, 73)  # the review as its previous studies, as it reports them
    studies = run("studies", dist=dist).as_dicts()
    assert total(b, 14) == len(studies) == 73 + total(b, 12) + total(b, 13)
    assert len(b[3]) >= 1 and all(part for part, _ in b[3])  # per search source
    assert all(part for part, _ in b[10])  # per criterion


def test_the_figure_and_its_csv_are_published_and_served(dist):
    figure = dist / "figures" / "prisma-flow.svg"
    assert figure.exists() and "PRISMA 2020 flow" in figure.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO((dist / "figures" / "prisma-flow.csv").read_text(encoding="utf-8"))))
    assert {(int(r["order"]), r["part"], int(r["count"])) for r in rows} == \
        {(order, part, n) for order, parts in boxes(dist).items() for part, n in parts}
    text = figure.read_text(encoding="utf-8")
    b = boxes(dist)
    assert f"Records screened (title and abstract): {total(b, 5)}" in text
    assert f"Studies of the map in all: {total(b, 14)}" in text
    with serving(create_app(dist)) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        assert c.get("/figures/prisma-flow.svg").status_code == 200
        assert c.get("/figures/prisma-flow.csv").status_code == 200
        assert c.get("/queries/prisma-flow").status_code == 200
