"""Figures drawn from the built graph: the evidence gap map and the others.

Every number in a figure comes from a stored query (queries/*.rq) run on dist/licn.nq, never from
the CSV files in data/. Beside each figure lies the data behind it: NAME.csv is the result of the
figure's stored query exactly as `licn query QUERY --format csv` prints it.

Files written into the output folder (dist/figures/ by default):

  evidence-map.svg .png .html .csv   the evidence gap map (levels x kinds of mechanism)
  evidence-map-totals.csv            Table 1 row and column totals (axis labels of the map)
  evidence-map-items.csv             the items, claims and cited studies of every cell (the click lists)
  publication-years.svg .png .csv    publication years with the 2009 split
  publication-years-since-2009.csv   the reported 57 of 73 against the recount
  theories.svg .png .csv             theoretical lenses with the reported study counts
  mechanism-network.html .csv        network of levels, mechanisms and studies
  figures.json, index.html           what each figure shows: title, caption, files, queries

Links from the HTML figures to study pages are relative links to the HTML page of the study's IRI:
https://w3id.org/licn/id/study/ref-95 becomes "../id/study/ref-95.html". Served by `licn serve` at
/figures/evidence-map.html it resolves to /id/study/ref-95.html, the page the server also sends for
the IRI path /id/study/ref-95 (by a 303 redirect); in the static site, where the figures are copied
to site/figures/, it resolves to site/id/study/ref-95.html, so it works from the file system too.

Output is deterministic: the same graph gives the same bytes (fixed SVG hash salt, no dates or
software versions in the image metadata, sorted JSON).
"""
from __future__ import annotations

import io
import json
import math
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from loaders.vocab import BASE

from ..query.catalogue import QueryError, bind, load_catalogue
from ..query.engines import Result, oxigraph_store, run_oxigraph
from ..query.results import format_result

DPI = 150
# Figure sizes in inches: PNG pixels are SIZE * DPI, SVG points are SIZE * 72.
SIZES = {
    "evidence-map": (11.0, 7.5),
    "publication-years": (10.0, 6.5),
    "theories": (9.0, 5.0),
}
SVG_SALT = "licn-kg"
SVG_FONTS = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"

TABLE_BLUE = "#2c6e9e"
PROSE_ORANGE = "#c8691c"
PERIOD_COLOURS = {"before 2009": "#9aa5b1", "2009 or later": TABLE_BLUE}
LEVEL_COLOURS = {"policy": "#8c510a", "network": "#01665e", "organisation": "#c51b7d"}
KIND_COLOURS = {"media": "#e66101", "practices": "#5e3c99", "activities": "#0571b0", "outcomes": "#777777"}

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

FIGURE_QUERIES = ("evidence-gaps", "figure-map-codings", "figure-table1-totals", "coverage",
                  "publication-years", "since-2009", "studies-per-theory", "mechanism-network")


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
        key = (cell["level"], cell["kind"])
        data.cell_items[key] = query("cell-items", {"level": key[0], "kind": key[1]})
    return data


def has_curator_codings(data: Data) -> bool:
    return any(_int(c["curator_occurrences"]) for c in data.dicts("evidence-gaps"))


def csv_text(result: Result) -> str:
    return format_result(result, "csv")


def items_result(data: Data) -> Result:
    """All cells' cell-items rows in one table, each prefixed with its level and kind."""
    columns = ["level", "kind"]
    rows = []
    for (level, kind), result in data.cell_items.items():
        columns = ["level", "kind", *result.columns]
        rows += [[level, kind, *row] for row in result.rows]
    return Result(columns, rows)


def study_href(iri: str) -> str:
    """A link to a study's page relative to the figures folder (see the module docstring)."""
    if iri and iri.startswith(BASE):
        return "../" + iri[len(BASE):] + ".html"
    return iri


def _int(value) -> int:
    if value in (None, ""):
        return 0
    return int(value)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _coverage(data: Data, measure: str) -> tuple[int, int] | None:
    for row in data.dicts("coverage"):
        if row["measure"] == measure:
            return _int(row["value"]), _int(row["total"])
    return None


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(part, width) for part in text.split("\n"))


# ------------------------------------------------------------------------------------- captions

def evidence_map_caption(data: Data) -> str:
    cells = data.dicts("evidence-gaps")
    totals = data.dicts("figure-table1-totals")
    table_cells = [c for c in cells if c["table1_cell"] != "none"]
    unseen = [c for c in table_cells if c["table1_cell"] == "unseen"]
    unseen_names = ", ".join(f"{c['level']} × {c['kind']}" for c in unseen)
    kinds_without = sorted({c["kind"] for c in cells} - {c["kind"] for c in table_cells},
                           key=[c["kind"] for c in cells].index)
    missing = sum(_int(t["reported"]) - _int(t["seen_occurrences"]) for t in totals
                  if t["axis"] == "level" and _int(t["unseen_cells"]))
    parts = [(
        "Disc area: distinct reviewed studies cited in the cell. Ring area: citation occurrences; a ring "
        "wider than its disc shows studies cited for more than one item of the cell (double counts). "
        "Where Table 1 has items for a cell, the marks count those items; the prose adds citations that are "
        "listed in the interactive map.")]
    if unseen:
        parts.append(
            f"Hatched orange: {len(unseen)} of {len(table_cells)} Table 1 cells ({unseen_names}) were not seen; "
            "their marks count the citations of the findings prose, a lower bound, and the cells' item labels are "
            f"unknown. The axis labels give the occurrences the review reports in the Table 1 headers; "
            f"{missing} of them fall in the unseen cells.")
    for kind in kinds_without:
        claims = sum(_int(c["claims"]) for c in cells if c["kind"] == kind)
        parts.append(
            f"{kind.capitalize()} have no Table 1 column: the review discusses them only in prose "
            f"({_plural(claims, 'claim')}, no cited references visible), so the column is a gap by construction.")
    empty = [c for c in cells if _int(c["studies"]) == 0]
    if empty:
        parts.append(f"Grey cells with 'gap': {len(empty)} of {len(cells)} cells have no cited study in the graph.")
    cov = _coverage(data, "studies identified (title known)")
    if cov:
        parts.append(f"Studies are counted by reference number; {cov[0]} of {cov[1]} reviewed studies are "
                     "identified by title so far.")
    return " ".join(parts)


def publication_years_caption(data: Data) -> str:
    s = data.dicts("since-2009")[0]
    since, with_year, unknown = _int(s["since_2009"]), _int(s["with_year"]), _int(s["unknown_year"])
    reported, of = _int(s["reported"]), _int(s["reported_of"])
    total = with_year + unknown
    share = f"{round(100 * reported / of)}%" if of else "?"
    return (
        f"Top: reviewed studies per publication year, for the {with_year} of {total} studies whose year the graph "
        f"knows ({since} in 2009 or later, {with_year - since} before); years without a bar have no identified "
        f"study, not necessarily no study. Bottom: the review reports {reported} of {of} studies ({share}) "
        f"published in 2009 or later; the graph's count of {since} is a partial recount because the year of "
        f"{unknown} studies is unknown (their references are not yet identified).")


def theories_caption(data: Data) -> str:
    rows = data.dicts("studies-per-theory")
    counted = [r for r in rows if r["reported_studies"] not in (None, "")]
    uncounted = [r for r in rows if r["reported_studies"] in (None, "")]
    linked = sum(_int(r["studies_linked"]) for r in rows)
    text = (
        f"Bars: the number of reviewed studies drawing on each lens, as the review reports it. A study that "
        f"combines lenses counts once for each, so the bars need not add up to the number of studies (they sum "
        f"to {sum(_int(r['reported_studies']) for r in counted)}). Which study uses which lens is not known: the "
        f"graph links {linked} studies to a lens, so these counts cannot be recomputed from the data.")
    if uncounted:
        names = " and ".join(r["theory"] for r in uncounted)
        broader = sorted({r["broader"] for r in uncounted if r["broader"]})
        under = f" (↳: narrower lenses of {' and '.join(broader)})" if broader else ""
        text += f" The review names {names}{under} without a count; they have no bar."
    return text


def network_caption(data: Data) -> str:
    rows = data.dicts("mechanism-network")
    refs = {r["reference"] for r in rows}
    without = {r["reference"] for r in rows if not r["study"]}
    prose = sum(1 for r in rows if r["source"] == "prose")
    cells = data.dicts("evidence-gaps")
    unseen = [c for c in cells if c["table1_cell"] == "unseen"]
    text = (
        f"Each line from a mechanism to a study is a coding ({len(rows)} codings citing {len(refs)} reference "
        f"entries); {prose} come from the findings prose (dashed), the others from Table 1 items (solid). "
        "Line colour: level of analysis; the width of a level-to-mechanism line is its number of codings. "
        "Mechanism nodes are coloured by kind.")
    if unseen:
        text += (f" Unknown: the item labels of the {len(unseen)} unseen Table 1 cells (their prose topics stand "
                 "in for them) and the citations those cells hold beyond the prose.")
    if without:
        numbers = ", ".join(str(n) for n in sorted(without, key=str))
        text += (f" Cited reference {numbers} is not a reviewed study (open circle)." if len(without) == 1
                 else f" Cited references {numbers} are not reviewed studies (open circles).")
    text += " Claims without cited references (outcomes) have no lines."
    return text


# -------------------------------------------------------------------------------------- drawing

def _rc():
    import matplotlib
    return matplotlib.rc_context({
        # text stays text in the SVG (searchable, selectable and much faster to write than glyph paths)
        "svg.hashsalt": SVG_SALT, "svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 10,
        "axes.titlesize": 12, "axes.labelsize": 10.5, "hatch.linewidth": 0.8, "path.simplify": True,
    })


def _new_figure(name: str):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=SIZES[name], dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _svg(fig, title: str) -> str:
    svg = io.StringIO()
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None, "Title": title})
    # text is laid out for DejaVu Sans; where it is missing, Verdana has about the same widths
    return svg.getvalue().replace("font-family: 'DejaVu Sans'", f"font-family: {SVG_FONTS}")


def _save(fig, out: Path, name: str, title: str) -> str:
    """Save as SVG and PNG without dates or software versions, so that the bytes depend on the data only."""
    svg = _svg(fig, title)
    (out / f"{name}.svg").write_text(svg, encoding="utf-8")
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None, "Title": title})
    (out / f"{name}.png").write_bytes(png.getvalue())
    return svg


def crop_svg(svg: str, top: float, bottom: float) -> str:
    """The SVG showing only the band between the fractions top and bottom of its height (from the top)."""
    match = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt" viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    if not match:
        return svg
    w, h = float(match.group(3)), float(match.group(4))
    y0, y1 = h * top, h * bottom
    box = f'width="{w:g}pt" height="{y1 - y0:g}pt" viewBox="0 {y0:g} {w:g} {y1 - y0:g}"'
    return svg[:match.start()] + box + svg[match.end():]


def _caption(fig, text: str, width: int, y: float = 0.015, size: float = 8.6) -> None:
    fig.text(0.02, y, _wrap(text, width), ha="left", va="bottom", fontsize=size, color="#333333",
             linespacing=1.35)


def draw_evidence_map(data: Data, out: Path, title: str, caption: str, name: str = "evidence-map") -> str:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    cells = data.dicts("evidence-gaps")
    totals = {(t["axis"], t["key"]): t for t in data.dicts("figure-table1-totals")}
    levels = list(dict.fromkeys(c["level"] for c in cells))
    kinds = list(dict.fromkeys(c["kind"] for c in cells))
    has_column = {k: any(c["kind"] == k and c["table1_cell"] != "none" for c in cells) for k in kinds}

    fig = _new_figure("evidence-map")
    fig.text(0.02, 0.965, title, fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.925, "Mitterlechner 2020 (IJIC 20(3):6), 73 reviewed studies: where the evidence lies "
             "and where it is thin", fontsize=10, color="#444444", va="top")
    box = (0.15, 0.245, 0.60, 0.64)
    ax = fig.add_axes(box)
    ax.set_xlim(-0.5, len(kinds) - 0.5)
    ax.set_ylim(-0.5, len(levels) - 0.5)
    # the size of a cell in points, to size the marks so that the largest ring fits its cell
    width_pt = box[2] * SIZES["evidence-map"][0] * 72 / len(kinds)
    height_pt = box[3] * SIZES["evidence-map"][1] * 72 / len(levels)
    largest = max([_int(c["occurrences"]) for c in cells] + [1])
    max_diameter = min(width_pt, height_pt) * 0.60
    area_per_count = max_diameter ** 2 / largest  # scatter sizes are points^2: area grows with the count
    mark_dy = 0.04

    for c in cells:
        x = kinds.index(c["kind"])
        y = len(levels) - 1 - levels.index(c["level"])
        studies, occ = _int(c["studies"]), _int(c["occurrences"])
        state = c["table1_cell"]
        if state == "unseen":
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor="#fdf1e4", hatch="///", hatchcolor="#f0c9a2",
                                   edgecolor="#bbbbbb", linewidth=0.8, zorder=0))
            tag = "prose only (cell not seen)"
        elif state == "none":
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor="#f1f1f1", edgecolor="#bbbbbb",
                                   linewidth=0.8, linestyle=(0, (4, 3)), zorder=0))
            tag = "no Table 1 column"
        else:
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor="white", edgecolor="#bbbbbb",
                                   linewidth=0.8, zorder=0))
            tag = {"both": "Table 1 + prose", "table": "Table 1"}.get(c["source"], "Table 1")
        ax.text(x - 0.46, y + 0.45, tag, fontsize=7.2, color="#666666", va="top", ha="left", zorder=3)
        if studies:
            colour = PROSE_ORANGE if c["source"] == "prose" else TABLE_BLUE
            ax.scatter([x], [y + mark_dy], s=[area_per_count * occ], facecolors="none", edgecolors="#222222",
                       linewidths=1.0, linestyle="--" if c["source"] == "prose" else "-", zorder=2)
            ax.scatter([x], [y + mark_dy], s=[area_per_count * studies], color=colour, alpha=0.85,
                       linewidths=0, zorder=2)
            ax.text(x, y - 0.40, f"{_plural(studies, 'study', 'studies')} · {_plural(occ, 'citation')}",
                    ha="center", va="center", fontsize=8.6, color="#222222", zorder=3)
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

    def kind_label(k):
        t = totals.get(("kind", k))
        if t:
            return f"{k.capitalize()}\n(Table 1 header: {_int(t['reported'])})"
        return f"{k.capitalize()}\n(no Table 1 column)" if not has_column[k] else k.capitalize()

    def level_label(lv):
        t = totals.get(("level", lv))
        return f"{lv.capitalize()}\n(Table 1 header: {_int(t['reported'])})" if t else lv.capitalize()

    ax.set_xticks(range(len(kinds)), [kind_label(k) for k in kinds])
    ax.set_yticks(range(len(levels)), [level_label(lv) for lv in reversed(levels)])
    ax.tick_params(length=0, labelsize=9.5)
    ax.set_xlabel("Kind of leadership mechanism (header: citation occurrences the review reports)", labelpad=8)
    ax.set_ylabel("Level of analysis", labelpad=8)
    for spine in ax.spines.values():
        spine.set_visible(False)

    def disc(n, colour, label):
        return Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(area_per_count * n),
                      markerfacecolor=colour, markeredgewidth=0, alpha=0.85, label=label)

    handles = [
        disc(3, TABLE_BLUE, "distinct studies,\nTable 1 items"),
        disc(3, PROSE_ORANGE, "distinct studies,\nfindings prose"),
        Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(area_per_count * 3), markerfacecolor="none",
               markeredgecolor="#222222", label="citation occurrences\n(ring; dashed: prose)"),
        Patch(facecolor="#fdf1e4", hatch="///", edgecolor="#bbbbbb", label="Table 1 cell not seen"),
        Patch(facecolor="#f1f1f1", edgecolor="#bbbbbb", linestyle="--", label="no Table 1 column"),
    ]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.775, 0.885), frameon=False, fontsize=8.6,
               labelspacing=1.3, borderaxespad=0, handletextpad=0.8, title="Marks", title_fontsize=9.5,
               alignment="left")
    # area scale: the same points^2 per count as the map
    scale_box = (0.775, 0.245, 0.215, 0.2)
    scale = fig.add_axes(scale_box)
    scale.set_xlim(0, scale_box[2] * SIZES["evidence-map"][0] * 72)  # one data unit is one point
    scale.set_ylim(0, scale_box[3] * SIZES["evidence-map"][1] * 72)
    sizes = [n for n in (1, 5, 20) if n <= largest] or [1]
    diameters = [math.sqrt(area_per_count * n) for n in sizes]
    xs, x = [], 8.0
    for d in diameters:
        xs.append(x + d / 2)
        x += d + 24
    y0 = 20 + max(diameters) / 2
    scale.scatter(xs, [y0] * len(xs), s=[area_per_count * n for n in sizes], color="#999999", linewidths=0)
    for x, n in zip(xs, sizes):
        scale.text(x, 12, _plural(n, "study", "studies"), ha="center", va="top", fontsize=8.6)
    scale.set_title("Area scale (disc or ring)", fontsize=9.5, loc="left")
    scale.set_axis_off()
    _caption(fig, caption, 165)
    svg = _save(fig, out, name, title)
    # the interactive page shows title and caption as HTML: its SVG is the map without them
    return crop_svg(svg, 0.10, 0.84)


def draw_publication_years(data: Data, out: Path, title: str, caption: str) -> None:
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    rows = data.dicts("publication-years")
    s = data.dicts("since-2009")[0]
    fig = _new_figure("publication-years")
    fig.text(0.02, 0.965, title, fontsize=14, fontweight="bold", va="top")
    ax = fig.add_axes((0.09, 0.47, 0.86, 0.41))
    counts = {int(r["year"]): _int(r["studies"]) for r in rows}
    periods = {int(r["year"]): r["period"] for r in rows}
    if counts:
        years = list(range(min(counts), max(counts) + 1))
        colours = [PERIOD_COLOURS.get(periods.get(y, ""), "#cccccc") for y in years]
        heights = [counts.get(y, 0) for y in years]
        bars = ax.bar(years, heights, color=colours, width=0.75)
        for bar, h in zip(bars, heights):
            if h:
                ax.text(bar.get_x() + bar.get_width() / 2, h, str(h), ha="center", va="bottom", fontsize=8.5)
        ax.set_xticks(years, [str(y) for y in years], rotation=0, fontsize=8.5)
        ax.set_xlim(years[0] - 0.7, years[-1] + 0.7)
        ax.set_ylim(0, max(heights) * 1.25 + 0.5)
        if years[0] < 2009 <= years[-1]:
            ax.axvline(2008.5, color="#333333", linestyle="--", linewidth=1)
            ax.text(2008.6, ax.get_ylim()[1] * 0.97, "2009 split reported by the review", fontsize=8.5,
                    va="top", ha="left", color="#333333")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Publication year")
    ax.set_ylabel("Reviewed studies\n(identified, year known)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=[Patch(color=c, label=p) for p, c in PERIOD_COLOURS.items()], loc="upper left",
              frameon=False, fontsize=8.5)

    bx = fig.add_axes((0.22, 0.205, 0.73, 0.15))
    since, with_year, unknown = _int(s["since_2009"]), _int(s["with_year"]), _int(s["unknown_year"])
    reported, of = _int(s["reported"]), _int(s["reported_of"])
    bars = [
        ("Reported by the review", [(reported, "2009 or later"), (of - reported, "before 2009")]),
        ("Recounted in the graph", [(since, "2009 or later"), (with_year - since, "before 2009"),
                                    (unknown, "year unknown")]),
    ]
    for i, (label, segments) in enumerate(reversed(bars)):
        left = 0
        for n, period in segments:
            if not n:
                continue
            unknown_seg = period == "year unknown"
            bx.barh(i, n, left=left, height=0.62, color="#f4f4f4" if unknown_seg else PERIOD_COLOURS[period],
                    edgecolor="#888888" if unknown_seg else "white", hatch="//" if unknown_seg else None,
                    hatchcolor="#cccccc", linewidth=0.8)
            text = f"{n} {period}" if n >= 8 else str(n)
            bx.text(left + n / 2, i, text, ha="center", va="center", fontsize=8.3,
                    color="#222222" if unknown_seg or period == "before 2009" else "white",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5} if unknown_seg else None)
            left += n
    bx.set_yticks(range(len(bars)), [label for label, _ in reversed(bars)], fontsize=9)
    bx.set_xlim(0, max(of, with_year + unknown))
    bx.set_xlabel(f"Reviewed studies (of {of})")
    bx.set_title("The 2009 split: reported by the review and recounted from the graph", loc="left", fontsize=10)
    bx.spines[["top", "right"]].set_visible(False)
    bx.tick_params(axis="y", length=0)
    _caption(fig, caption, 150)
    _save(fig, out, "publication-years", title)


def draw_theories(data: Data, out: Path, title: str, caption: str) -> None:
    from matplotlib.ticker import MaxNLocator

    rows = data.dicts("studies-per-theory")
    fig = _new_figure("theories")
    fig.text(0.02, 0.965, title, fontsize=13.5, fontweight="bold", va="top")
    ax = fig.add_axes((0.31, 0.30, 0.64, 0.58))
    labels, values = [], []
    for r in rows:
        labels.append(f"↳ {r['theory']}" if r["broader"] else r["theory"])
        values.append(None if r["reported_studies"] in (None, "") else _int(r["reported_studies"]))
    ys = list(range(len(rows)))[::-1]
    top = max([v for v in values if v is not None] + [1])
    for y, v in zip(ys, values):
        if v is None:
            ax.text(0.2, y, "no count reported", va="center", fontsize=8.5, color="#777777", fontstyle="italic")
        else:
            ax.barh(y, v, color=TABLE_BLUE, height=0.65)
            ax.text(v + top * 0.01, y, str(v), va="center", fontsize=8.5)
    ax.set_yticks(ys, labels, fontsize=9)
    ax.set_xlim(0, top * 1.12)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Reviewed studies drawing on the lens (count reported by the review)")
    ax.set_ylabel("Theoretical lens")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    _caption(fig, caption, 150, size=8.2)
    _save(fig, out, "theories", title)


# ------------------------------------------------------------------------------------------ html

def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    return Environment(loader=FileSystemLoader([str(TEMPLATES), str(TEMPLATES.parent)]), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _json_script(value) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=None, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def evidence_map_cells(data: Data) -> list[dict]:
    """What the interactive map lists for each cell: mechanisms with their cited studies."""
    cells = []
    for c in data.dicts("evidence-gaps"):
        key = (c["level"], c["kind"])
        mechanisms: dict[tuple[str, str], dict] = {}
        studies: dict[str, dict] = {}
        for item in data.cell_items[key].as_dicts():
            mech = mechanisms.setdefault((item["mechanism"], item["source"]),
                                         {"label": item["mechanism"], "source": item["source"], "refs": []})
            if item["reference"] in (None, "") and not item["study"]:
                continue
            ref = {"reference": str(item["reference"] or ""), "study": item["study"] or "",
                   "href": study_href(item["study"]) if item["study"] else "", "title": item["title"] or "",
                   "year": str(item["year"] or ""), "doi": item["doi"] or ""}
            if ref not in mech["refs"]:
                mech["refs"].append(ref)
            if ref["study"]:
                studies.setdefault(ref["study"], ref)
        state = c["table1_cell"]
        note = {"seen": "Table 1 cell, seen.",
                "unseen": "This Table 1 cell was not seen: its item labels are unknown; the mechanisms below are "
                          "the topics of the findings prose, which cites only part of the cell's studies.",
                "none": "Table 1 has no column for this kind: the review discusses it only in prose."}[state]
        studies_n, occ = _int(c["studies"]), _int(c["occurrences"])
        counted = {"table": "Table 1 items", "both": "Table 1 items", "prose": "findings prose"}.get(c["source"])
        summary = (f"The map counts {_plural(studies_n, 'distinct study', 'distinct studies')} and "
                   f"{_plural(occ, 'citation occurrence')} ({counted})." if counted
                   else "Gap: no cited study in this cell.")
        if c["source"] == "both":
            summary += (f" The prose cites {_plural(_int(c['prose_studies']), 'study', 'studies')} here as well; "
                        "all are listed below.")
        cells.append({
            "key": f"{c['level']}-{c['kind']}", "level": c["level"], "kind": c["kind"],
            "heading": f"{c['level'].capitalize()} level × {c['kind']}",
            "summary": summary, "note": note, "state": state, "source": c["source"],
            "studies": studies_n, "occurrences": occ, "listed_studies": len(studies),
            "mechanisms": list(mechanisms.values()),
        })
    return cells


def write_evidence_map_html(data: Data, out: Path, svg: str, info: FigureInfo, other: str | None = None) -> None:
    cells = evidence_map_cells(data)
    filters = [{k: ("" if v is None else str(v)) for k, v in row.items()} for row in data.dicts("figure-map-codings")]
    listed = lambda column: sorted({v for row in filters for v in row[column].split(", ") if v})  # noqa: E731
    order = ["high", "medium-high", "medium", "low-medium", "low"]
    filter_values = {"countries": listed("countries"), "settings": listed("settings"),
                     "confidence": [c for c in order if c in listed("confidence")]}
    svg_inline = svg[svg.index("<svg"):]
    svg_inline = re.sub(r"<metadata>.*?</metadata>\s*", "", svg_inline, flags=re.DOTALL)
    levels = list(dict.fromkeys(c["level"] for c in cells))
    kinds = list(dict.fromkeys(c["kind"] for c in cells))
    grid = [[next(c for c in cells if c["level"] == lv and c["kind"] == k) for k in kinds] for lv in levels]
    html = _env().get_template("evidence-map.html").render(
        title=info.title, caption=info.caption, svg=svg_inline, kinds=kinds, grid=grid,
        data_json=_json_script({c["key"]: c for c in cells}), scope=data.scope, other=other, root="../",
        filter_json=_json_script(filters), filter_values=filter_values, base=BASE)
    (out / f"{info.name}.html").write_text(html, encoding="utf-8")


def network_layout(data: Data) -> dict:
    rows = data.dicts("mechanism-network")
    titles = {}
    for result in data.cell_items.values():
        for item in result.as_dicts():
            if item["study"] and item["title"]:
                titles[item["study"]] = item["title"]
    level_order = [lv for lv in LEVEL_COLOURS]
    kind_order = [k for k in KIND_COLOURS]
    for r in rows:  # levels or kinds the colour tables do not know go last, in order of appearance
        if r["level"] not in level_order:
            level_order.append(r["level"])
        if r["kind"] not in kind_order:
            kind_order.append(r["kind"])

    mech_kind, mech_levels = {}, {}
    for r in rows:
        mech_kind.setdefault(r["mechanism"], r["kind"])
        mech_levels.setdefault(r["mechanism"], set()).add(r["level"])
    mechanisms = sorted(mech_kind, key=lambda m: (min(level_order.index(lv) for lv in mech_levels[m]),
                                                  kind_order.index(mech_kind[m]), m))
    mech_index = {m: i for i, m in enumerate(mechanisms)}
    refs: dict[str, list[int]] = {}
    for r in rows:
        refs.setdefault(str(r["reference"]), []).append(mech_index[r["mechanism"]])
    references = sorted(refs, key=lambda ref: (sum(refs[ref]) / len(refs[ref]), int(ref) if ref.isdigit() else 0, ref))

    top, row_h = 96, 16
    height = top + max(len(references), 1) * row_h + 40
    x_level, x_mech, x_study, width = 150, 320, 750, 1090

    def spread(n, i):
        usable = height - top - 40
        return top + (i + 0.5) * usable / max(n, 1)

    mech_y = {m: spread(len(mechanisms), i) for i, m in enumerate(mechanisms)}
    study_y = {ref: top + (i + 0.5) * row_h for i, ref in enumerate(references)}
    levels = [lv for lv in level_order if any(r["level"] == lv for r in rows)]
    level_y = {}
    for lv in levels:
        ys = [mech_y[m] for m in mechanisms if lv in mech_levels[m]]
        level_y[lv] = sum(ys) / len(ys)
    previous = None
    for lv in levels:  # keep level nodes at least 70 px apart
        if previous is not None and level_y[lv] < level_y[previous] + 70:
            level_y[lv] = level_y[previous] + 70
        previous = lv

    study_of, labels = {}, {}
    for r in rows:
        ref = str(r["reference"])
        study_of[ref] = r["study"] or ""
    for ref in references:
        iri = study_of[ref]
        title = titles.get(iri, "")
        short = title if len(title) <= 34 else title[:32].rstrip() + "…"
        if not iri:
            labels[ref] = f"ref {ref} (not a reviewed study)"
        else:
            labels[ref] = f"ref {ref}" + (f" · {short}" if short else "")

    nodes = []
    for lv in levels:
        n = sum(1 for r in rows if r["level"] == lv)
        nodes.append({"id": f"level:{lv}", "kind": "level", "x": x_level, "y": level_y[lv], "r": 11,
                      "colour": LEVEL_COLOURS.get(lv, "#555555"), "label": f"{lv.capitalize()} level",
                      "detail": f"{lv.capitalize()} level of analysis: {_plural(n, 'coding')}", "href": ""})
    for m in mechanisms:
        n = sum(1 for r in rows if r["mechanism"] == m)
        nodes.append({"id": f"mechanism:{m}", "kind": "mechanism", "x": x_mech, "y": mech_y[m],
                      "r": 4 + min(n, 12) * 0.5, "colour": KIND_COLOURS.get(mech_kind[m], "#555555"),
                      "label": m, "detail": f"{m} ({mech_kind[m]}): {_plural(n, 'coding')}", "href": ""})
    for ref in references:
        iri = study_of[ref]
        nodes.append({"id": f"study:{ref}", "kind": "study", "x": x_study, "y": study_y[ref], "r": 4.5,
                      "colour": "#333333" if iri else "#ffffff", "label": labels[ref],
                      "detail": (f"Reference {ref}: " + (titles.get(iri) or "title not identified yet")) if iri
                      else f"Reference {ref}: not identified as a reviewed study",
                      "href": study_href(iri) if iri else ""})

    edges = []
    level_mech: dict[tuple[str, str], int] = {}
    for r in rows:
        level_mech[(r["level"], r["mechanism"])] = level_mech.get((r["level"], r["mechanism"]), 0) + 1
    for (lv, m), n in sorted(level_mech.items(), key=lambda kv: (levels.index(kv[0][0]), mech_index[kv[0][1]])):
        edges.append({"a": f"level:{lv}", "b": f"mechanism:{m}", "x1": x_level, "y1": level_y[lv],
                      "x2": x_mech, "y2": mech_y[m], "colour": LEVEL_COLOURS.get(lv, "#555555"),
                      "width": round(0.8 + 0.6 * n, 2), "dashed": False,
                      "title": f"{lv} level – {m}: {_plural(n, 'coding')}"})
    pairs: dict[tuple[str, str, str], set] = {}
    for r in rows:
        pairs.setdefault((r["mechanism"], str(r["reference"]), r["level"]), set()).add(r["source"])
    for (m, ref, lv), sources in sorted(pairs.items(), key=lambda kv: (mech_index[kv[0][0]], references.index(kv[0][1]), kv[0][2])):
        edges.append({"a": f"mechanism:{m}", "b": f"study:{ref}", "x1": x_mech, "y1": mech_y[m],
                      "x2": x_study, "y2": study_y[ref], "colour": LEVEL_COLOURS.get(lv, "#555555"),
                      "width": 1.2, "dashed": sources == {"prose"},
                      "title": f"{m} – reference {ref} ({lv} level; {' and '.join(sorted(sources))})"})
    for e in edges:
        mid = (e["x1"] + e["x2"]) / 2
        e["d"] = (f"M{e['x1']:.1f},{e['y1']:.1f} C{mid:.1f},{e['y1']:.1f} {mid:.1f},{e['y2']:.1f} "
                  f"{e['x2']:.1f},{e['y2']:.1f}")
    for n in nodes:
        n["y"] = round(n["y"], 1)
    return {"width": width, "height": height, "nodes": nodes, "edges": edges, "x_level": x_level,
            "x_mech": x_mech, "x_study": x_study, "top": top,
            "levels": [(lv, LEVEL_COLOURS.get(lv, "#555555")) for lv in levels],
            "kinds": [(k, KIND_COLOURS.get(k, "#555555")) for k in kind_order if k in mech_kind.values()]}


def write_network_html(data: Data, out: Path, info: FigureInfo) -> None:
    layout = network_layout(data)
    html = _env().get_template("mechanism-network.html").render(title=info.title, caption=info.caption, root="../", **layout)
    (out / "mechanism-network.html").write_text(html, encoding="utf-8")


def write_index(out: Path, infos: list[FigureInfo]) -> None:
    manifest = [{"name": i.name, "title": i.title, "caption": i.caption, "files": i.files, "queries": i.queries}
                for i in infos]
    (out / "figures.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    html = _env().get_template("index.html").render(figures=infos, root="../")
    (out / "index.html").write_text(html, encoding="utf-8")


# ------------------------------------------------------------------------------------ top level

def figure_infos(data: Data) -> dict[str, FigureInfo]:
    return {
        "evidence-map": FigureInfo(
            "evidence-map", "Evidence gap map: levels of analysis × kinds of leadership mechanism",
            evidence_map_caption(data),
            ["evidence-map.svg", "evidence-map.png", "evidence-map.html", "evidence-map.csv",
             "evidence-map-totals.csv", "evidence-map-items.csv"],
            ["evidence-gaps", "figure-table1-totals", "cell-items", "coverage"]),
        "publication-years": FigureInfo(
            "publication-years", "Publication years of the reviewed studies, with the 2009 split",
            publication_years_caption(data),
            ["publication-years.svg", "publication-years.png", "publication-years.csv",
             "publication-years-since-2009.csv"],
            ["publication-years", "since-2009"]),
        "theories": FigureInfo(
            "theories", "Theoretical lenses used by the reviewed studies (reported counts)",
            theories_caption(data), ["theories.svg", "theories.png", "theories.csv"], ["studies-per-theory"]),
        "mechanism-network": FigureInfo(
            "mechanism-network", "Network of levels, mechanisms and studies", network_caption(data),
            ["mechanism-network.html", "mechanism-network.csv"], ["mechanism-network", "cell-items"]),
    }


def extended_info(data: Data) -> FigureInfo:
    return FigureInfo(
        "evidence-map-extended", "Evidence gap map as extended: the review's codings and the curators' codings",
        "The map as published with the curators' codings added: codings the project made from the abstracts of "
        f"{_plural(sum(_int(c['curator_studies']) for c in data.dicts('evidence-gaps')), 'study', 'studies')} "
        "(counted per cell) beyond the review or cited by it without a known number. They are the project's "
        "judgements, not the review's. Disc area: distinct studies in the cell (the review's and the curators'); "
        "ring: codings. The colour says where the review's part of the cell comes from (Table 1 or its prose).",
        ["evidence-map-extended.svg", "evidence-map-extended.png", "evidence-map-extended.html",
         "evidence-map-extended.csv", "evidence-map-extended-items.csv"],
        ["evidence-gaps", "cell-items"])


def write_figures(dist: Path, out: Path) -> None:
    """Write every figure with its CSV into out/, computed from stored queries over dist/."""
    dist, out = Path(dist), Path(out)
    data = load_data(dist)
    extended = load_data(dist, "all")
    out.mkdir(parents=True, exist_ok=True)
    csvs = {
        "evidence-map.csv": data.results["evidence-gaps"],
        "evidence-map-totals.csv": data.results["figure-table1-totals"],
        "evidence-map-items.csv": items_result(data),
        "publication-years.csv": data.results["publication-years"],
        "publication-years-since-2009.csv": data.results["since-2009"],
        "theories.csv": data.results["studies-per-theory"],
        "mechanism-network.csv": data.results["mechanism-network"],
    }
    for name, result in csvs.items():
        (out / name).write_text(csv_text(result), encoding="utf-8")
    infos = figure_infos(data)
    if has_curator_codings(extended):
        infos["evidence-map-extended"] = extended_info(extended)
        (out / "evidence-map-extended.csv").write_text(csv_text(extended.results["evidence-gaps"]), encoding="utf-8")
        (out / "evidence-map-extended-items.csv").write_text(csv_text(items_result(extended)), encoding="utf-8")
    with _rc():
        svg = draw_evidence_map(data, out, infos["evidence-map"].title, infos["evidence-map"].caption)
        if "evidence-map-extended" in infos:
            info = infos["evidence-map-extended"]
            extended_svg = draw_evidence_map(extended, out, info.title, info.caption, info.name)
        draw_publication_years(data, out, infos["publication-years"].title, infos["publication-years"].caption)
        draw_theories(data, out, infos["theories"].title, infos["theories"].caption)
    other = "evidence-map-extended.html" if "evidence-map-extended" in infos else None
    write_evidence_map_html(data, out, svg, infos["evidence-map"], other)
    if other:
        write_evidence_map_html(extended, out, extended_svg, infos["evidence-map-extended"], "evidence-map.html")
    write_network_html(data, out, infos["mechanism-network"])
    write_index(out, list(infos.values()))


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
