"""Figures drawn from the built graph. Every number comes from a stored query (queries/*.rq) run on dist/licn.nq,
never from data/*.csv; NAME.csv beside a figure is its query's result as `licn query QUERY --format csv` prints it.

Files written into the output folder (dist/figures/ by default):

  evidence-map.svg .png .html .csv   the evidence gap map (levels x kinds of mechanism)
  evidence-map-totals.csv            Table 1 row and column totals (axis labels of the map)
  evidence-map-items.csv             the items, claims and cited studies of every cell (the click lists)
  publication-years.svg .png .csv    publication years with the 2009 split
  publication-years-since-2009.csv   the reported 57 of 73 against the recount
  theories.svg .png .csv             theoretical lenses with the reported study counts
  mechanism-network.html .csv        network of levels, mechanisms and studies
  figures.json, index.html           what each figure shows: title, caption, files, queries

Links to study pages are relative: https://w3id.org/licn/id/study/ref-95 becomes "../id/study/ref-95.html", which
resolves to /id/study/ref-95.html when `licn serve` sends /figures/evidence-map.html (the page the server also
sends for the IRI path, by a 303 redirect), and to site/id/study/ref-95.html in the static site, so it works from
the file system too.

The same graph gives the same bytes: fixed SVG hash salt, no dates or software versions in the image metadata,
sorted JSON.
"""
from __future__ import annotations

import io
import json
import math
import sys
import textwrap
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loaders.vocab import BASE

from ..query.catalogue import QueryError, bind, load_catalogue
from ..query.engines import Result, oxigraph_store, run_oxigraph
from ..query.results import format_result

DPI = 150
# Figure sizes in inches: PNG pixels are SIZE * DPI, SVG points are SIZE * 72.
SIZES = {"evidence-map": (11.0, 7.5), "publication-years": (10.0, 6.5), "theories": (9.0, 5.0), "prisma-flow": (11.0, 8.5)}
SVG_FONTS = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"
RC_PARAMS = {
    # text stays text in the SVG (searchable, selectable and much faster to write than glyph paths)
    "svg.hashsalt": "licn-kg", "svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 10,
    "axes.titlesize": 12, "axes.labelsize": 10.5, "hatch.linewidth": 0.8, "path.simplify": True,
}

TABLE_BLUE = "#2c6e9e"
PROSE_ORANGE = "#c8691c"
CURATOR_GREEN = "#1b7f3b"
PERIOD_COLOURS = {"before 2009": "#9aa5b1", "2009 or later": TABLE_BLUE}
LEVEL_COLOURS = {"policy": "#8c510a", "network": "#01665e", "organisation": "#c51b7d"}
KIND_COLOURS = {"media": "#e66101", "practices": "#5e3c99", "activities": "#0571b0", "outcomes": "#777777"}
UNKNOWN_COLOUR = "#555555"  # for levels and kinds the colour tables do not know
# background and corner tag of an evidence map cell by its Table 1 state; seen cells are white
CELL_STYLES = {
    "unseen": ({"facecolor": "#fdf1e4", "hatch": "///", "hatchcolor": "#f0c9a2"}, "prose only (cell not seen)"),
    "none": ({"facecolor": "#f1f1f1", "linestyle": (0, (4, 3))}, "no Table 1 column"),
}
CONFIDENCE_ORDER = ["high", "medium-high", "medium", "low-medium", "low"]
# the CSV files beside the figures that are a stored query's result as it is (the maps' CSVs depend on the scope)
CSV_QUERIES = {"evidence-map-totals": "figure-table1-totals", "publication-years": "publication-years",
               "publication-years-since-2009": "since-2009", "theories": "studies-per-theory",
               "mechanism-network": "mechanism-network", "prisma-flow": "prisma-flow"}

TEMPLATES = Path(__file__).with_name("templates") / "figures"


@dataclass
class FigureInfo:
    name: str
    title: str
    caption: str
    files: list[str]
    queries: list[str]


@dataclass
class Data:
    """The results of the stored queries the figures are drawn from."""
    results: dict[str, Result] = field(default_factory=dict)
    cell_items: dict[tuple[str, str], Result] = field(default_factory=dict)
    scope: str = "review"  # review: the map as published; all: with the curators' codings

    def dicts(self, name: str) -> list[dict]:
        return self.results[name].as_dicts()


# ---------------------------------------------------------------------------------------- data

FIGURE_QUERIES = ("evidence-gaps", "figure-map-codings", "figure-table1-totals", "coverage", "studies-per-level",
                  "studies-per-kind",
                  "publication-years", "since-2009", "studies-per-theory", "mechanism-network", "prisma-flow")
SCOPED = ("evidence-gaps", "cell-items", "figure-map-codings")  # the queries that take scope=review|all


def load_data(dist: Path, scope: str = "review") -> Data:
    store = oxigraph_store(dist)
    catalogue = load_catalogue()

    def query(name: str, params: dict | None = None) -> Result:
        if name not in catalogue:
            raise QueryError(f"the stored query '{name}' is missing from queries/")
        params = dict(params or {}, **({"scope": scope} if name in SCOPED else {}))
        return run_oxigraph(store, bind(catalogue[name], params))

    data = Data({name: query(name) for name in FIGURE_QUERIES}, scope=scope)
    for cell in data.dicts("evidence-gaps"):
        data.cell_items[cell["level"], cell["kind"]] = query("cell-items", {k: cell[k] for k in ("level", "kind")})
    return data


def items_result(data: Data) -> Result:
    """All cells' cell-items rows in one table, each prefixed with its level and kind."""
    results = list(data.cell_items.values())
    columns = ["level", "kind", *(results[-1].columns if results else [])]  # every cell has the same columns
    return Result(columns, [[level, kind, *row] for (level, kind), result in data.cell_items.items()
                            for row in result.rows])


def study_href(iri: str) -> str:
    """A link to a study's page relative to the figures folder (see the module docstring)."""
    return "../" + iri[len(BASE):] + ".html" if iri and iri.startswith(BASE) else iri


def _int(value) -> int:
    return 0 if value in (None, "") else int(value)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _since_2009(data: Data) -> tuple[int, ...]:
    """The 2009 split: since 2009, with a known year, year unknown, reported since 2009, reported of."""
    s = data.dicts("since-2009")[0]
    return tuple(_int(s[k]) for k in ("since_2009", "with_year", "unknown_year", "reported", "reported_of"))


# ------------------------------------------------------------------------------------- captions

def evidence_map_caption(data: Data) -> str:
    cells = data.dicts("evidence-gaps")
    table_cells = [c for c in cells if c["table1_cell"] != "none"]
    unseen = [c for c in table_cells if c["table1_cell"] == "unseen"]
    table_kinds = {c["kind"] for c in table_cells}
    parts = [(
        "Disc area: distinct reviewed studies cited in the cell. Ring area: citation occurrences; a ring "
        "wider than its disc shows studies cited for more than one item of the cell (double counts). "
        "Where Table 1 has items for a cell, the marks count those items; the prose adds citations that are "
        "listed in the interactive map.")]
    if unseen:
        unseen_names = ", ".join(f"{c['level']} × {c['kind']}" for c in unseen)
        missing = sum(_int(t["reported"]) - _int(t["seen_occurrences"]) for t in data.dicts("figure-table1-totals")
                      if t["axis"] == "level" and _int(t["unseen_cells"]))
        parts.append(
            f"Hatched orange: {len(unseen)} of {len(table_cells)} Table 1 cells ({unseen_names}) were not seen; "
            "their marks count the citations of the findings prose, a lower bound, and the cells' item labels are "
            f"unknown. The axis labels give the occurrences the review reports in the Table 1 headers; "
            f"{missing} of them fall in the unseen cells.")
    for kind in dict.fromkeys(c["kind"] for c in cells if c["kind"] not in table_kinds):
        claims = sum(_int(c["claims"]) for c in cells if c["kind"] == kind)
        parts.append(
            f"{kind.capitalize()} have no Table 1 column: the review discusses them only in prose "
            f"({_plural(claims, 'claim')}, no cited references visible), so the column is a gap by construction.")
    empty = [c for c in cells if _int(c["studies"]) == 0]
    if empty:
        parts.append(f"Grey cells with 'gap': {len(empty)} of {len(cells)} cells have no cited study in the graph.")
    identified = next((r for r in data.dicts("coverage") if r["measure"] == "studies identified (title known)"), None)
    if identified:
        parts.append(f"Studies are counted by reference number; {_int(identified['value'])} of "
                     f"{_int(identified['total'])} reviewed studies are identified by title so far.")
    return " ".join(parts)


def publication_years_caption(data: Data) -> str:
    since, with_year, unknown, reported, of = _since_2009(data)
    share = f"{round(100 * reported / of)}%" if of else "?"
    return (
        f"Top: reviewed studies per publication year, for the {with_year} of {with_year + unknown} studies whose "
        f"year the graph knows ({since} in 2009 or later, {with_year - since} before); years without a bar have no "
        f"identified study, not necessarily no study. Bottom: the review reports {reported} of {of} studies "
        f"({share}) published in 2009 or later; the graph's count of {since} is a partial recount because the year "
        f"of {unknown} studies is unknown (their references are not yet identified).")


def theories_caption(data: Data) -> str:
    rows = data.dicts("studies-per-theory")
    uncounted = [r for r in rows if r["reported_studies"] in (None, "")]
    text = (
        f"Bars: the number of reviewed studies drawing on each lens, as the review reports it. A study that "
        f"combines lenses counts once for each, so the bars need not add up to the number of studies (they sum "
        f"to {sum(_int(r['reported_studies']) for r in rows)}). Which study uses which lens is not known: the "
        f"graph links {sum(_int(r['studies_linked']) for r in rows)} studies to a lens, so these counts cannot be "
        "recomputed from the data.")
    if uncounted:
        names = " and ".join(r["theory"] for r in uncounted)
        broader = sorted({r["broader"] for r in uncounted if r["broader"]})
        under = f" (↳: narrower lenses of {' and '.join(broader)})" if broader else ""
        text += f" The review names {names}{under} without a count; they have no bar."
    return text


def network_caption(data: Data) -> str:
    rows = data.dicts("mechanism-network")
    without = {r["reference"] for r in rows if not r["study"]}
    unseen = sum(c["table1_cell"] == "unseen" for c in data.dicts("evidence-gaps"))
    text = (
        f"Each line from a mechanism to a study is a coding ({len(rows)} codings citing "
        f"{len({r['reference'] for r in rows})} reference entries); {sum(r['source'] == 'prose' for r in rows)} "
        "come from the findings prose (dashed), the others from Table 1 items (solid). Line colour: level of "
        "analysis; the width of a level-to-mechanism line is its number of codings. Mechanism nodes are coloured "
        "by kind.")
    if unseen:
        text += (f" Unknown: the item labels of the {unseen} unseen Table 1 cells (their prose topics stand "
                 "in for them) and the citations those cells hold beyond the prose.")
    if without:
        numbers = ", ".join(str(n) for n in sorted(without, key=str))
        text += (f" Cited reference {numbers} is not a reviewed study (open circle)." if len(without) == 1
                 else f" Cited references {numbers} are not reviewed studies (open circles).")
    return text + " Claims without cited references (outcomes) have no lines."


def prisma_caption(data: Data) -> str:
    return ("The flow of the update of the map beside the review as its previous studies (PRISMA 2020 for updated "
            "reviews). Every number is a count of the stored query prisma-flow over the searches and screening "
            "decisions of the data; the review's own numbers are the figures it reports. A study with several "
            "reports counts once.")


def figure_infos(data: Data, extended: Data) -> dict[str, FigureInfo]:
    """What each figure shows, in the order of figures.json; the extended map only if curators coded studies."""
    figures = [
        ("evidence-map", "Evidence gap map: levels of analysis × kinds of leadership mechanism",
         evidence_map_caption(data), [".svg", ".png", ".html", ".csv", "-totals.csv", "-items.csv"],
         ["evidence-gaps", "figure-table1-totals", "cell-items", "coverage"]),
        ("publication-years", "Publication years of the reviewed studies, with the 2009 split",
         publication_years_caption(data), [".svg", ".png", ".csv", "-since-2009.csv"],
         ["publication-years", "since-2009"]),
        ("theories", "Theoretical lenses used by the reviewed studies (reported counts)",
         theories_caption(data), [".svg", ".png", ".csv"], ["studies-per-theory"]),
        ("mechanism-network", "Network of levels, mechanisms and studies", network_caption(data),
         [".html", ".csv"], ["mechanism-network", "cell-items"]),
        ("prisma-flow", "PRISMA 2020 flow of the living update", prisma_caption(data),
         [".svg", ".png", ".csv"], ["prisma-flow"]),
    ]
    review, added = map_studies_count(extended)
    curated = len({r["study"] for r in extended.dicts("figure-map-codings") if r["basis"] == "curator"})
    if curated:
        figures.append((
            "evidence-map-extended", "Evidence gap map as extended: the review's codings and the curators' codings",
            (f"The map as published with the curators' codings added: {_plural(review + added, 'study', 'studies')} "
             f"in all, {review} through the review's own codings (Table 1 or its prose) and {added} more through "
             f"codings the project's curators made from the abstracts of {_plural(curated, 'study', 'studies')} "
             "beyond the review or cited by it without a known number. Those codings are the project's judgements, "
             "not the review's: each went through two independent coding passes and a reconciliation. In each cell "
             "the review's part and the curators' part are drawn apart."),
            [".svg", ".png", ".html", ".csv", "-items.csv"], ["evidence-gaps", "cell-items", "figure-map-codings"]))
    return {name: FigureInfo(name, title, caption, [name + suffix for suffix in suffixes], queries)
            for name, title, caption, suffixes, queries in figures}


# -------------------------------------------------------------------------------------- drawing

def _new_figure(size: str, title: str, title_size: float = 14):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=SIZES[size], dpi=DPI)
    FigureCanvasAgg(fig)
    fig.text(0.02, 0.965, title, fontsize=title_size, fontweight="bold", va="top")
    return fig


def _save(fig, out: Path, info: FigureInfo, caption_width: int, caption_size: float = 8.6) -> None:
    """Add the caption and save as SVG and PNG without dates or software versions, so that the bytes depend on
    the data only."""
    caption = "\n".join(textwrap.fill(part, caption_width) for part in info.caption.split("\n"))
    fig.text(0.02, 0.015, caption, ha="left", va="bottom", fontsize=caption_size, color="#333333", linespacing=1.35)
    svg = io.StringIO()
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None, "Title": info.title})
    # text is laid out for DejaVu Sans; where it is missing, Verdana has about the same widths
    svg = svg.getvalue().replace("font-family: 'DejaVu Sans'", f"font-family: {SVG_FONTS}")
    (out / f"{info.name}.svg").write_text(svg, encoding="utf-8")
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None, "Title": info.title})
    (out / f"{info.name}.png").write_bytes(png.getvalue())


def prisma_boxes(data: Data) -> dict[int, list[tuple[str, int]]]:
    """The prisma-flow query's rows by box order: [(part, count)]."""
    boxes: dict[int, list[tuple[str, int]]] = {}
    for row in data.dicts("prisma-flow"):
        boxes.setdefault(_int(row["order"]), []).append((row["part"] or "", _int(row["count"])))
    return boxes


def draw_prisma_flow(data: Data, out: Path, info: FigureInfo) -> None:
    """The flow diagram: the previous review on the left, the update's identification, screening and
    inclusion in the middle, what was removed at each step on the right, the map's studies below."""
    boxes = prisma_boxes(data)

    def total(order: int) -> int:
        return sum(n for _, n in boxes.get(order, []))

    def box(ax, x, y, w, h, text, face="#ffffff"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.005", facecolor=face, edgecolor="#555555"))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8.6, wrap=True)

    def arrow(ax, x1, y1, x2, y2):
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1), arrowprops={"arrowstyle": "-|>", "color": "#555555"})

    from matplotlib.patches import FancyBboxPatch
    fig = _new_figure("prisma-flow", info.title)
    ax = fig.add_axes((0.02, 0.14, 0.96, 0.76))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    sources = "\n".join(f"{part}: {n}" for part, n in boxes.get(3, []))
    criteria = "\n".join(f"{textwrap.shorten(part, 48)}: {n}" for part, n in boxes.get(10, []))
    box(ax, 0.0, 0.80, 0.22, 0.14, f"Previous studies\nThe review's search:\n{total(1)} records (reported)", "#eef3f8")
    box(ax, 0.0, 0.30, 0.22, 0.14, f"Studies included in\nthe review: {total(2)}\n(reported)", "#eef3f8")
    box(ax, 0.27, 0.80, 0.36, 0.14, f"Records identified: {total(3)}\n{sources}")
    box(ax, 0.68, 0.80, 0.32, 0.14, f"Duplicate records removed: {total(4)}")
    box(ax, 0.27, 0.62, 0.36, 0.10, f"Records screened (title and abstract): {total(5)}")
    box(ax, 0.68, 0.62, 0.32, 0.10, f"Records excluded: {total(6)}")
    box(ax, 0.27, 0.46, 0.36, 0.10, f"Reports sought for retrieval: {total(7)}")
    box(ax, 0.68, 0.46, 0.32, 0.10, f"Reports not retrieved: {total(8)}")
    box(ax, 0.27, 0.28, 0.36, 0.10, f"Reports assessed for eligibility: {total(9)}")
    box(ax, 0.68, 0.22, 0.32, 0.18, f"Reports excluded: {total(10)}\n{criteria}")
    box(ax, 0.27, 0.10, 0.36, 0.12, f"New studies included: {total(12)}\n(reports: {total(11)})", "#eef8ee")
    box(ax, 0.0, 0.10, 0.22, 0.12, f"Included by other means\n(works the review cites\nwithout a number): {total(13)}")
    box(ax, 0.27, -0.06, 0.73, 0.09, f"Studies of the map in all: {total(14)}", "#eef8ee")
    for y1, y2 in ((0.80, 0.72), (0.62, 0.56), (0.46, 0.38), (0.28, 0.22)):
        arrow(ax, 0.45, y1, 0.45, y2)
    for y in (0.87, 0.67, 0.51):
        arrow(ax, 0.63, y, 0.68, y)
    arrow(ax, 0.63, 0.33, 0.68, 0.31)
    arrow(ax, 0.11, 0.80, 0.11, 0.44)
    arrow(ax, 0.45, 0.10, 0.45, 0.03)
    _save(fig, out, info, caption_width=150)


def draw_evidence_map(data: Data, out: Path, info: FigureInfo) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    cells = data.dicts("evidence-gaps")
    totals = {(t["axis"], t["key"]): t for t in data.dicts("figure-table1-totals")}
    levels, kinds = map_axes(data)
    table_kinds = {c["kind"] for c in cells if c["table1_cell"] != "none"}
    fig_width, fig_height = SIZES["evidence-map"]
    fig = _new_figure("evidence-map", info.title)
    fig.text(0.02, 0.925, "Mitterlechner 2020 (IJIC 20(3):6), 73 reviewed studies: where the evidence lies "
             "and where it is thin", fontsize=10, color="#444444", va="top")
    box = (0.15, 0.245, 0.60, 0.64)
    ax = fig.add_axes(box, xlim=(-0.5, len(kinds) - 0.5), ylim=(-0.5, len(levels) - 0.5))
    # the size of a cell in points, to size the marks so that the largest ring fits its cell
    largest = max([_int(c["occurrences"]) for c in cells] + [1])
    max_diameter = min(box[2] * fig_width * 72 / len(kinds), box[3] * fig_height * 72 / len(levels)) * 0.60
    area_per_count = max_diameter ** 2 / largest  # scatter sizes are points^2: area grows with the count
    mark_dy = 0.04
    by_cell: dict[str, list[dict]] = {}
    for r in data.dicts("figure-map-codings"):
        by_cell.setdefault(f"{r['level']}-{r['kind']}", []).append(r)
    parts = {key: review_and_added(rows) for key, rows in by_cell.items()}

    for c in cells:
        x, y = kinds.index(c["kind"]), len(levels) - 1 - levels.index(c["level"])
        studies, occ = _int(c["studies"]), _int(c["occurrences"])
        style, tag = CELL_STYLES.get(
            c["table1_cell"], ({"facecolor": "white"}, "Table 1 + prose" if c["source"] == "both" else "Table 1"))
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, edgecolor="#bbbbbb", linewidth=0.8, zorder=0, **style))
        ax.text(x - 0.46, y + 0.45, tag, fontsize=7.2, color="#666666", va="top", ha="left", zorder=3)
        if studies:
            prose = c["source"] == "prose"
            review, added = parts.get(f"{c['level']}-{c['kind']}", (0, 0))
            dx = 0.18 if added and review else 0
            if review:
                ax.scatter([x - dx], [y + mark_dy], s=[area_per_count * review],
                           color=PROSE_ORANGE if prose else TABLE_BLUE, alpha=0.85, linewidths=0, zorder=2)
            if added:
                ax.scatter([x + dx], [y + mark_dy], s=[area_per_count * added], color=CURATOR_GREEN, alpha=0.85,
                           linewidths=0, zorder=2)
            ax.scatter([x], [y + mark_dy], s=[area_per_count * occ], facecolors="none", edgecolors="#222222",
                       linewidths=1.0, linestyle="--" if prose else "-", zorder=2)
            label = f"{_plural(studies, 'study', 'studies')} · {_plural(occ, 'citation' if data.scope == 'review' else 'coding')}"
            if added:
                label = f"{_plural(review, 'study', 'studies')} + {added} added · {_plural(occ, 'coding')}"
            ax.text(x, y - 0.40, label, ha="center", va="center", fontsize=8.6, color="#222222", zorder=3)
        else:
            claims = _int(c["claims"])
            note = (f"{_plural(claims, 'prose claim')},\nno cited references visible" if claims
                    else "no claim, no cited study")
            ax.text(x, y + 0.02, "gap", ha="center", va="center", fontsize=13, color="#888888",
                    fontstyle="italic", zorder=3)
            ax.text(x, y - 0.24, note, ha="center", va="center", fontsize=7.8, color="#777777", zorder=3)
        # transparent target over the whole cell: the interactive map attaches its click handler here
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor="none", edgecolor="none", zorder=5,
                               gid=f"cell-{c['level']}-{c['kind']}"))

    def axis_label(axis: str, key: str) -> str:
        if (axis, key) in totals:
            return f"{key.capitalize()}\n(Table 1 header: {_int(totals[axis, key]['reported'])})"
        without_column = axis == "kind" and key not in table_kinds
        return key.capitalize() + ("\n(no Table 1 column)" if without_column else "")

    ax.set_xticks(range(len(kinds)), [axis_label("kind", k) for k in kinds])
    ax.set_yticks(range(len(levels)), [axis_label("level", lv) for lv in reversed(levels)])
    ax.tick_params(length=0, labelsize=9.5)
    ax.set_xlabel("Kind of leadership mechanism (header: citation occurrences the review reports)", labelpad=8)
    ax.set_ylabel("Level of analysis", labelpad=8)
    ax.spines[:].set_visible(False)

    def mark(label: str, **style):  # a legend entry: a disc or ring of 3 studies
        return Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(area_per_count * 3), label=label,
                      **style)

    handles = [
        mark("distinct studies,\nTable 1 items", markerfacecolor=TABLE_BLUE, markeredgewidth=0, alpha=0.85),
        mark("distinct studies,\nfindings prose", markerfacecolor=PROSE_ORANGE, markeredgewidth=0, alpha=0.85),
        mark("citation occurrences\n(ring; dashed: prose)", markerfacecolor="none", markeredgecolor="#222222"),
        *([mark("studies added through\ncurators' codings", markerfacecolor=CURATOR_GREEN, markeredgewidth=0,
                alpha=0.85)] if data.scope == "all" else []),
        Patch(facecolor="#fdf1e4", hatch="///", edgecolor="#bbbbbb", label="Table 1 cell not seen"),
        Patch(facecolor="#f1f1f1", edgecolor="#bbbbbb", linestyle="--", label="no Table 1 column"),
    ]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.775, 0.885), frameon=False, fontsize=8.6,
               labelspacing=1.3, borderaxespad=0, handletextpad=0.8, title="Marks", title_fontsize=9.5,
               alignment="left")
    # area scale: the same points^2 per count as the map
    scale_box = (0.775, 0.245, 0.215, 0.2)
    # one data unit is one point
    scale = fig.add_axes(scale_box, xlim=(0, scale_box[2] * fig_width * 72), ylim=(0, scale_box[3] * fig_height * 72))
    sizes = [n for n in (1, 5, 20) if n <= largest] or [1]
    diameters = [math.sqrt(area_per_count * n) for n in sizes]
    xs, left = [], 8.0
    for d in diameters:
        xs.append(left + d / 2)
        left += d + 24
    scale.scatter(xs, [20 + max(diameters) / 2] * len(xs), s=[area_per_count * n for n in sizes], color="#999999",
                  linewidths=0)
    for x, n in zip(xs, sizes):
        scale.text(x, 12, _plural(n, "study", "studies"), ha="center", va="top", fontsize=8.6)
    scale.set_title("Area scale (disc or ring)", fontsize=9.5, loc="left")
    scale.set_axis_off()
    _save(fig, out, info, 165)


def draw_publication_years(data: Data, out: Path, info: FigureInfo) -> None:
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    rows = data.dicts("publication-years")
    fig = _new_figure("publication-years", info.title)
    ax = fig.add_axes((0.09, 0.47, 0.86, 0.41))
    counts = {int(r["year"]): _int(r["studies"]) for r in rows}
    periods = {int(r["year"]): r["period"] for r in rows}
    if counts:
        years = list(range(min(counts), max(counts) + 1))
        heights = [counts.get(y, 0) for y in years]
        ax.bar(years, heights, color=[PERIOD_COLOURS.get(periods.get(y, ""), "#cccccc") for y in years], width=0.75)
        for year, h in zip(years, heights):
            if h:
                ax.text(year, h, str(h), ha="center", va="bottom", fontsize=8.5)
        ax.set_xticks(years, [str(y) for y in years], rotation=0, fontsize=8.5)
        ax.set_xlim(years[0] - 0.7, years[-1] + 0.7)
        ax.set_ylim(0, max(heights) * 1.25 + 0.5)
        if years[0] < 2009 <= years[-1]:
            ax.axvline(2008.5, color="#333333", linestyle="--", linewidth=1)
            ax.text(2008.6, ax.get_ylim()[1] * 0.97, "2009 split reported by the review", fontsize=8.5,
                    va="top", ha="left", color="#333333")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="Publication year", ylabel="Reviewed studies\n(identified, year known)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=[Patch(color=c, label=p) for p, c in PERIOD_COLOURS.items()], loc="upper left",
              frameon=False, fontsize=8.5)

    bx = fig.add_axes((0.22, 0.205, 0.73, 0.15))
    since, with_year, unknown, reported, of = _since_2009(data)
    bars = [  # from the bottom up
        ("Recounted in the graph", [(since, "2009 or later"), (with_year - since, "before 2009"),
                                    (unknown, "year unknown")]),
        ("Reported by the review", [(reported, "2009 or later"), (of - reported, "before 2009")]),
    ]
    for i, (label, segments) in enumerate(bars):
        left = 0
        for n, period in segments:
            if not n:
                continue
            unknown_seg = period == "year unknown"
            bx.barh(i, n, left=left, height=0.62, color="#f4f4f4" if unknown_seg else PERIOD_COLOURS[period],
                    edgecolor="#888888" if unknown_seg else "white", hatch="//" if unknown_seg else None,
                    hatchcolor="#cccccc", linewidth=0.8)
            bx.text(left + n / 2, i, f"{n} {period}" if n >= 8 else str(n), ha="center", va="center", fontsize=8.3,
                    color="#222222" if unknown_seg or period == "before 2009" else "white",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5} if unknown_seg else None)
            left += n
    bx.set_yticks(range(len(bars)), [label for label, _ in bars], fontsize=9)
    bx.set(xlim=(0, max(of, with_year + unknown)), xlabel=f"Reviewed studies (of {of})")
    bx.set_title("The 2009 split: reported by the review and recounted from the graph", loc="left", fontsize=10)
    bx.spines[["top", "right"]].set_visible(False)
    bx.tick_params(axis="y", length=0)
    _save(fig, out, info, 150)


def draw_theories(data: Data, out: Path, info: FigureInfo) -> None:
    from matplotlib.ticker import MaxNLocator

    rows = data.dicts("studies-per-theory")
    fig = _new_figure("theories", info.title, title_size=13.5)
    ax = fig.add_axes((0.31, 0.30, 0.64, 0.58))
    labels = [f"↳ {r['theory']}" if r["broader"] else r["theory"] for r in rows]
    values = [None if r["reported_studies"] in (None, "") else _int(r["reported_studies"]) for r in rows]
    ys = list(range(len(rows)))[::-1]
    top = max([v for v in values if v is not None] + [1])
    for y, v in zip(ys, values):
        if v is None:
            ax.text(0.2, y, "no count reported", va="center", fontsize=8.5, color="#777777", fontstyle="italic")
        else:
            ax.barh(y, v, color=TABLE_BLUE, height=0.65)
            ax.text(v + top * 0.01, y, str(v), va="center", fontsize=8.5)
    ax.set_yticks(ys, labels, fontsize=9)
    ax.set(xlim=(0, top * 1.12), ylim=(-0.6, len(rows) - 0.4), ylabel="Theoretical lens",
           xlabel="Reviewed studies drawing on the lens (count reported by the review)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    _save(fig, out, info, 150, caption_size=8.2)


# ------------------------------------------------------------------------------------------ html

def _render(path: Path, template: str, **context) -> None:
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader([str(TEMPLATES), str(TEMPLATES.parent)]),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    path.write_text(env.get_template(template).render(root="../", **context), encoding="utf-8")


def _json_script(value) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=None, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_axes(data: Data) -> tuple[list[str], list[str]]:
    """The levels and kinds in the codebook's order, the same in every scope."""
    return ([r["level"] for r in data.dicts("studies-per-level")], [r["kind"] for r in data.dicts("studies-per-kind")])


def short_name(authors: str, year: str, reference: str) -> str:
    """Author-year as a reader cites a study ("Breton et al. 2013"); the reference number where no author is known."""
    names = [a.strip() for a in authors.split(";") if a.strip()]
    more = "et al." in names
    # "Borgès Da Silva R" -> "Borgès Da Silva": the initials are the last word
    surnames = [n.rsplit(" ", 1)[0] if " " in n and n.rsplit(" ", 1)[1].isupper() else n
                for n in names if n != "et al."]
    if not surnames:
        name = f"Reference {reference}" if reference else "Unnamed study"
        return f"{name} ({year})" if year else name
    if len(surnames) == 1 and not more:
        name = surnames[0]
    elif len(surnames) == 2 and not more:
        name = f"{surnames[0]} and {surnames[1]}"
    else:
        name = f"{surnames[0]} et al."
    return f"{name} {year}".strip()


def review_and_added(rows: list[dict]) -> tuple[int, int]:
    """Distinct studies among figure-map-codings rows: those with a counted coding of the review, and those
    only the curators coded."""
    review = {r["study"] for r in rows if r["basis"] != "curator"}
    return len(review), len({r["study"] for r in rows} - review)


def map_studies_count(data: Data) -> tuple[int, int]:
    """review_and_added over the whole map."""
    return review_and_added(data.dicts("figure-map-codings"))


def evidence_map_page_data(data: Data) -> dict:
    """What the interactive map draws and filters: its axes, the state of every cell, the studies and the codings
    the map counts (figure-map-codings) and the items of each cell that cite no visible study (cell-items)."""
    levels, kinds = map_axes(data)
    notes = {"seen": "Table 1 cell, seen.",
             "unseen": "This Table 1 cell was not seen: its item labels are unknown; the marks count the studies the "
                       "findings prose cites, a lower bound.",
             "none": "Table 1 has no column for this kind: the review discusses it only in prose."}
    cells = {}
    for c in data.dicts("evidence-gaps"):
        key = f"{c['level']}-{c['kind']}"
        uncited = sorted({item["mechanism"] for item in data.cell_items[c["level"], c["kind"]].as_dicts()
                          if not item["study"] and item["source"] != "curator"})
        cells[key] = {"state": c["table1_cell"], "note": notes[c["table1_cell"]], "uncited": uncited}
    studies, codings = {}, []
    for r in data.dicts("figure-map-codings"):
        text = {k: "" if r[k] is None else str(r[k]) for k in r}
        studies.setdefault(text["study"], {
            "name": short_name(text["authors"], text["year"], text["reference"]),
            "title": text["title"], "year": text["year"], "doi": text["doi"], "href": study_href(text["study"]),
            "reviewed": text["reviewed"] == "true", **{k: [v for v in text[k].split(", ") if v]
                                                        for k in ("countries", "settings", "designs")}})
        codings.append({"cell": f"{text['level']}-{text['kind']}", "href": study_href(text["coding"]),
                        **{k: text[k] for k in ("mechanism", "basis", "study", "status", "confidence",
                                                "coder", "coded")}})
    return {"levels": levels, "kinds": kinds, "cells": cells, "studies": studies, "codings": codings,
            "confidence": CONFIDENCE_ORDER, "scope": data.scope}


def write_evidence_map_html(data: Data, out: Path, info: FigureInfo, other: str | None) -> None:
    page = evidence_map_page_data(data)
    values = {k: sorted({v for s in page["studies"].values() for v in s[k]}) for k in ("countries", "settings", "designs")}
    review, added = map_studies_count(data)
    _render(out / f"{info.name}.html", "evidence-map.html", title=info.title, caption=info.caption, name=info.name,
            scope=data.scope, other=other, data_json=_json_script(page), values=values,
            confidence=[c for c in CONFIDENCE_ORDER if any(x["confidence"] == c for x in page["codings"])],
            bases=[b for b in ("table", "prose", "curator") if any(x["basis"] == b for x in page["codings"])],
            review_studies=review, added_studies=added)


def network_layout(data: Data) -> dict:
    """Where the network page draws its nodes (levels, mechanisms and studies in three columns) and edges."""
    rows = data.dicts("mechanism-network")
    titles = {item["study"]: item["title"] for result in data.cell_items.values() for item in result.as_dicts()
              if item["study"] and item["title"]}
    # levels or kinds the colour tables do not know go last, in order of appearance
    level_order = list(dict.fromkeys([*LEVEL_COLOURS, *(r["level"] for r in rows)]))
    kind_order = list(dict.fromkeys([*KIND_COLOURS, *(r["kind"] for r in rows)]))
    mech_kind, mech_levels, sources = {}, {}, {}  # sources: of the codings of a mechanism, reference and level
    for r in rows:
        mech_kind.setdefault(r["mechanism"], r["kind"])
        mech_levels.setdefault(r["mechanism"], set()).add(r["level"])
        sources.setdefault((r["mechanism"], str(r["reference"]), r["level"]), set()).add(r["source"])
    mechanisms = sorted(mech_kind, key=lambda m: (min(level_order.index(lv) for lv in mech_levels[m]),
                                                  kind_order.index(mech_kind[m]), m))
    mech_index = {m: i for i, m in enumerate(mechanisms)}
    refs: dict[str, list[int]] = {}
    for r in rows:
        refs.setdefault(str(r["reference"]), []).append(mech_index[r["mechanism"]])
    # studies in the order of the mean position of their mechanisms, so that their lines cross little
    references = sorted(refs, key=lambda ref: (sum(refs[ref]) / len(refs[ref]), int(ref) if ref.isdigit() else 0, ref))
    study_of = {str(r["reference"]): r["study"] or "" for r in rows}
    codings_per_level = Counter(r["level"] for r in rows)
    codings_per_mech = Counter(r["mechanism"] for r in rows)
    levels = [lv for lv in level_order if lv in codings_per_level]
    level_colour = {lv: LEVEL_COLOURS.get(lv, UNKNOWN_COLOUR) for lv in levels}
    kind_colour = {k: KIND_COLOURS.get(k, UNKNOWN_COLOUR) for k in kind_order if k in mech_kind.values()}

    top, row_h, x_level, x_mech, x_study, width = 96, 16, 150, 320, 750, 1090
    height = top + max(len(references), 1) * row_h + 40
    position = {f"mechanism:{m}": (x_mech, top + (i + 0.5) * (height - top - 40) / max(len(mechanisms), 1))
                for i, m in enumerate(mechanisms)}
    position.update({f"study:{ref}": (x_study, top + (i + 0.5) * row_h) for i, ref in enumerate(references)})
    level_y = -math.inf  # a level sits at the mean height of its mechanisms, but at least 70 px below the one above
    for lv in levels:
        ys = [position[f"mechanism:{m}"][1] for m in mechanisms if lv in mech_levels[m]]
        level_y = max(sum(ys) / len(ys), level_y + 70)
        position[f"level:{lv}"] = (x_level, level_y)

    def node(id_: str, r: float, colour: str, label: str, detail: str, href: str = "") -> dict:
        x, y = position[id_]
        return {"id": id_, "kind": id_.partition(":")[0], "x": x, "y": round(y, 1), "r": r, "colour": colour,
                "label": label, "detail": detail, "href": href}

    def edge(a: str, b: str, colour: str, stroke_width: float, dashed: bool, title: str) -> dict:
        (x1, y1), (x2, y2) = position[a], position[b]
        mid = (x1 + x2) / 2
        return {"a": a, "b": b, "colour": colour, "width": stroke_width, "dashed": dashed, "title": title,
                "d": f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"}

    nodes = [node(f"level:{lv}", 11, level_colour[lv], f"{lv.capitalize()} level",
                  f"{lv.capitalize()} level of analysis: {_plural(codings_per_level[lv], 'coding')}")
             for lv in levels]
    nodes += [node(f"mechanism:{m}", 4 + min(codings_per_mech[m], 12) * 0.5, kind_colour[mech_kind[m]], m,
                   f"{m} ({mech_kind[m]}): {_plural(codings_per_mech[m], 'coding')}") for m in mechanisms]
    for ref in references:  # open circles: cited references that are not reviewed studies
        iri, title = study_of[ref], titles.get(study_of[ref], "")
        short = title if len(title) <= 34 else title[:32].rstrip() + "…"
        label = (f"ref {ref}" + (f" · {short}" if short else "")) if iri else f"ref {ref} (not a reviewed study)"
        detail = (title or "title not identified yet") if iri else "not identified as a reviewed study"
        nodes.append(node(f"study:{ref}", 4.5, "#333333" if iri else "#ffffff", label, f"Reference {ref}: {detail}",
                          study_href(iri)))

    level_mech = Counter((r["level"], r["mechanism"]) for r in rows)
    edges = [edge(f"level:{lv}", f"mechanism:{m}", level_colour[lv], round(0.8 + 0.6 * n, 2), False,
                  f"{lv} level – {m}: {_plural(n, 'coding')}")
             for (lv, m), n in sorted(level_mech.items(), key=lambda e: (levels.index(e[0][0]), mech_index[e[0][1]]))]
    for m, ref, lv in sorted(sources, key=lambda key: (mech_index[key[0]], references.index(key[1]), key[2])):
        found = sources[m, ref, lv]
        edges.append(edge(f"mechanism:{m}", f"study:{ref}", level_colour[lv], 1.2, found == {"prose"},
                          f"{m} – reference {ref} ({lv} level; {' and '.join(sorted(found))})"))
    return {"width": width, "height": height, "nodes": nodes, "edges": edges, "x_level": x_level,
            "x_mech": x_mech, "x_study": x_study, "top": top, "levels": list(level_colour.items()),
            "kinds": list(kind_colour.items())}


# ------------------------------------------------------------------------------------ top level

def write_figures(dist: Path, out: Path) -> None:
    """Write every figure with its CSV into out/, computed from stored queries over dist/."""
    import matplotlib

    dist, out = Path(dist), Path(out)
    data, extended = load_data(dist), load_data(dist, "all")
    infos = figure_infos(data, extended)
    maps = {name: scoped for name, scoped in (("evidence-map", data), ("evidence-map-extended", extended))
            if name in infos}
    csvs = {name: data.results[query] for name, query in CSV_QUERIES.items()}
    for name, scoped in maps.items():
        csvs.update({name: scoped.results["evidence-gaps"], f"{name}-items": items_result(scoped)})
    out.mkdir(parents=True, exist_ok=True)
    for name, result in csvs.items():
        (out / f"{name}.csv").write_text(format_result(result, "csv"), encoding="utf-8")
    with matplotlib.rc_context(RC_PARAMS):
        for name, scoped in maps.items():
            draw_evidence_map(scoped, out, infos[name])
            # the page of each scope links to the page of the other one, if there is one
            other = next((f"{other}.html" for other in maps if other != name), None)
            write_evidence_map_html(scoped, out, infos[name], other)
        draw_publication_years(data, out, infos["publication-years"])
        draw_theories(data, out, infos["theories"])
        draw_prisma_flow(data, out, infos["prisma-flow"])
    network = infos["mechanism-network"]
    _render(out / "mechanism-network.html", "mechanism-network.html", title=network.title, caption=network.caption,
            **network_layout(data))
    manifest = json.dumps([asdict(info) for info in infos.values()], ensure_ascii=False, indent=1)
    (out / "figures.json").write_text(manifest + "\n", encoding="utf-8")
    _render(out / "index.html", "index.html", figures=list(infos.values()))


def cmd_figures(args) -> int:
    dist = Path(args.dist)
    out = Path(args.out) if args.out else dist / "figures"
    try:
        write_figures(dist, out)
    except QueryError as exc:
        print(f"licn figures: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(list(out.iterdir()))} files into {out}/")
    return 0
