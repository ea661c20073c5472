"""The report page: one self-contained static HTML file of a results folder.

``build_report(DIR)`` gathers the sections of a results folder
(:func:`rlbench3.analysis.sections.sections_from_results`: its suite tables, then every
``section.json`` under it), draws the suite tables' figures with :func:`rlbench3.plots.render_plot`
and returns the page; ``write_report(DIR, OUT)`` writes it (atomically).

The page: a title, a table of contents, then per section its title, its reading (generated from
the numbers), its tables (Markdown pipe tables rendered as HTML tables, each with its CSV as a
download), its figures (PNG, embedded as base64) and a "how it was produced" box (command,
evaluation protocol, wall time, configuration, package versions). The CSS is inline, there is no
script, and a Content-Security-Policy forbids every fetch but the embedded images, so the page
opens offline and loads nothing.

Nothing read from a results folder is trusted: section files are JSON only (read by
:func:`rlbench3.analysis.sections.read_section`), every text is escaped for HTML, a figure must
be a PNG file inside its section's folder (no ``..``, no link out of it).
"""

from __future__ import annotations

import base64
import html
import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import rlbench3
from rlbench3.analysis.sections import (
    SECTION_FILE,
    FigureBlock,
    FoundSection,
    Section,
    sections_from_results,
)
from rlbench3.harness.storage import atomic_write_text
from rlbench3.plots import render_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A figure larger than this is refused (the page embeds every figure).
MAX_FIGURE_BYTES = 32 * 2**20
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --ink: #1d232b; --muted: #5b6572; --line: #d9dee5; --band: #f5f7fa; --accent: #2458a6; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
main { max-width: 72rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1.5rem; }
h1 { font-size: 1.8rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; margin: 2.8rem 0 .8rem; padding-top: .6rem;
  border-top: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
nav { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
  padding: .8rem 1.2rem; }
nav ol { margin: .3rem 0 0; padding-left: 1.4rem; }
a { color: var(--accent); }
.reading { font-size: 1.05rem; border-left: 4px solid var(--accent); padding: .1rem 0 .1rem 1rem;
  margin: 0 0 1.2rem; }
.reading p { margin: .4rem 0; }
figure { margin: 1.2rem 0 1.8rem; }
figcaption { color: var(--muted); font-size: .9rem; margin: .4rem 0; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; font-size: .86rem; font-variant-numeric: tabular-nums;
  width: 100%; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap;
  text-align: left; }
th { background: var(--band); position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.right, th.right { text-align: right; }
td.center, th.center { text-align: center; }
.download { font-size: .85rem; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
pre { background: var(--band); padding: .6rem .8rem; border-radius: 6px; overflow-x: auto;
  font-size: .82rem; }
code { font-size: .9em; }
.how { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
  padding: .8rem 1.1rem; margin-top: 1rem; }
.how dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
.how dt { font-weight: 600; }
.how dd { margin: 0; min-width: 0; }
.how details pre { background: #fff; }
.empty { color: var(--muted); font-style: italic; }
"""


# ---------------------------------------------------------------------------------------------
# Markdown tables
# ---------------------------------------------------------------------------------------------

_SEPARATOR_CELL = re.compile(r"^:?-{1,}:?$")


def _cells(line: str) -> list[str]:
    """The cells of one pipe-table line (``\\|`` is a literal bar)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _alignment(cell: str) -> str:
    if cell.startswith(":") and cell.endswith(":"):
        return "center"
    return "right" if cell.endswith(":") else ""


def _table_html(lines: list[str]) -> str | None:
    """A pipe table (header, separator, rows) as an HTML table; ``None`` if it is not one."""
    if len(lines) < 2:
        return None
    head, separator = _cells(lines[0]), _cells(lines[1])
    if len(separator) != len(head) or not all(_SEPARATOR_CELL.match(c) for c in separator):
        return None
    align = [_alignment(c) for c in separator]

    def cell(tag: str, text: str, i: int) -> str:
        cls = f' class="{align[i]}"' if i < len(align) and align[i] else ""
        return f"<{tag}{cls}>{html.escape(text)}</{tag}>"

    rows = []
    for line in lines[2:]:
        cells = _cells(line)
        cells += [""] * (len(head) - len(cells))
        rows.append("<tr>" + "".join(cell("td", c, i) for i, c in enumerate(cells)) + "</tr>")
    header = "".join(cell("th", c, i) for i, c in enumerate(head))
    return (
        f'<div class="scroll"><table><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def markdown_html(text: str) -> str:
    """Markdown of a table block as HTML: each run of lines starting with ``|`` becomes a table
    (a pipe table; anything else in such a run is shown as it is), other non-empty lines
    paragraphs. Every text is escaped; no other Markdown is interpreted."""
    out, block = [], []

    def flush_block() -> None:
        if block:
            table = _table_html(block)
            out.append(table or f"<pre>{html.escape(chr(10).join(block))}</pre>")
            block.clear()

    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            block.append(line)
            continue
        flush_block()
        if line.strip():
            out.append(f"<p>{html.escape(line.strip())}</p>")
    flush_block()
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def figure_bytes(folder: Path, figure: FigureBlock, where: str) -> bytes:
    """The PNG bytes of ``figure`` (relative to ``folder``), or ``ValueError`` naming ``where``
    (the section file) when it is missing, outside ``folder``, too large or not a PNG."""
    root = folder.resolve()
    path = (folder / figure.png_path).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{where}: figure {figure.png_path!r} leads outside its folder")
    if not path.is_file():
        raise ValueError(f"{where}: figure {figure.png_path!r} is missing")
    if path.stat().st_size > MAX_FIGURE_BYTES:
        raise ValueError(f"{where}: figure {figure.png_path!r} is larger than 32 MiB")
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"{where}: figure {figure.png_path!r} is not a PNG file")
    return data


def draw_suite_figures(results_dir: Path, section: Section, folder: Path) -> None:
    """Draw a suite section's figures into ``folder``: ``<kind>.png`` is
    :func:`rlbench3.plots.render_plot`'s ``kind``."""
    for figure in section.figures:
        render_plot(results_dir, Path(figure.png_path).stem, folder / figure.png_path)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text))


def wall_text(seconds: float | None) -> str:
    """``12.3 s``, ``4 min 05 s``, ``2 h 03 min``; ``not recorded`` for ``None``."""
    if seconds is None:
        return "not recorded"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "table"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def _tables_html(section: Section, used: set[str]) -> str:
    parts = []
    for table in section.tables:
        download = ""
        if table.csv:
            data = base64.b64encode(table.csv.encode()).decode()
            name = _slug(section.title + " " + table.caption, used) + ".csv"
            download = (
                f' <a class="download" download="{_e(name)}" '
                f'href="data:text/csv;charset=utf-8;base64,{data}">CSV</a>'
            )
        parts.append(
            f"<figure><figcaption>{_e(table.caption)}{download}</figcaption>"
            f"{markdown_html(table.markdown) or '<p class=empty>(empty)</p>'}</figure>"
        )
    return "\n".join(parts)


def _figures_html(found: FoundSection, folder: Path, where: str) -> str:
    parts = []
    for figure in found.section.figures:
        data = base64.b64encode(figure_bytes(folder, figure, where)).decode()
        parts.append(
            f'<figure><img alt="{_e(figure.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(figure.caption)}</figcaption></figure>"
        )
    return "\n".join(parts)


SUITE_TIME = (
    "Run time",
    " (the runs' training and evaluation, summed over runs that parallel workers overlap, "
    "plus computing this table)",
)


def _how_html(section: Section, source: str, *, suite: bool = False) -> str:
    versions = (
        ", ".join(f"{_e(k)} {_e(v)}" for k, v in section.versions.items())
        if section.versions
        else "not recorded"
    )
    config = json.dumps(section.config, indent=2, sort_keys=True, ensure_ascii=False)
    time_label, time_note = (
        SUITE_TIME if suite and section.wall_s is not None else ("Wall time", "")
    )
    rows = [
        ("Command", f"<code>{_e(section.command) or 'not recorded'}</code>"),
        ("Protocol", _e(section.protocol or "not recorded")),
        (time_label, _e(wall_text(section.wall_s) + time_note)),
        ("Versions", versions),
        ("Source", f"<code>{_e(source)}</code>"),
        (
            "Configuration",
            f"<details><summary>show</summary><pre>{_e(config)}</pre></details>",
        ),
    ]
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<aside class="how"><h3>How it was produced</h3><dl>{items}</dl></aside>'


def _reading_html(reading: str) -> str:
    paragraphs = [p.strip() for p in reading.split("\n\n") if p.strip()]
    if not paragraphs:
        return ""
    inner = "".join(f"<p>{_e(' '.join(p.split()))}</p>" for p in paragraphs)
    return f'<div class="reading">{inner}</div>'


def section_html(found: FoundSection, anchor: str, folder: Path, source: str) -> str:
    """One section of the page; its figure paths are relative to ``folder``."""
    section = found.section
    return (
        f'<section id="{anchor}"><h2>{_e(section.title)}</h2>'
        f"{_reading_html(section.reading)}"
        f"{_tables_html(section, set())}"
        f"{_figures_html(found, folder, source)}"
        f"{_how_html(section, source, suite=found.folder is None)}</section>"
    )


def page_html(title: str, subtitle: str, sections: Iterable[tuple[str, str, str]]) -> str:
    """The page around already-rendered sections, given as ``(anchor, title, html)``."""
    sections = list(sections)
    toc = "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t, _ in sections)
    body = "\n".join(h for _, _, h in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n"
        f"<body><main><header><h1>{_e(title)}</h1>"
        f'<p class="meta">{_e(subtitle)}</p></header>'
        f"<nav><strong>Contents</strong><ol>{toc}</ol></nav>\n{body}\n</main></body></html>\n"
    )


def build_report(results_dir: str | Path, *, reps: int = 2000, seed: int = 0) -> str:
    """The report page of a results folder as HTML text (see the module docstring); ``reps``
    and ``seed`` are the suite tables' bootstrap settings."""
    folder = Path(results_dir)
    found = sections_from_results(folder, reps=reps, seed=seed)
    rendered = []
    with tempfile.TemporaryDirectory(prefix="rlbench3-report-") as tmp:
        for i, item in enumerate(found, start=1):
            anchor = f"section-{i}"
            if item.folder is None:  # a suite table: draw its figures here
                drawn = Path(tmp) / anchor
                drawn.mkdir()
                draw_suite_figures(folder, item.section, drawn)
                html_text = section_html(item, anchor, drawn, f"{folder} (suite results)")
            else:
                source = str(item.folder / SECTION_FILE)
                html_text = section_html(item, anchor, item.folder, source)
            rendered.append((anchor, item.section.title, html_text))
    subtitle = (
        f"Results folder {folder}: {len(found)} section{'s' * (len(found) != 1)}. "
        f"Page built by rlbench3 {rlbench3.__version__}; every reading is generated from the "
        "numbers of its table."
    )
    return page_html(f"rlbench3 report: {folder.resolve().name}", subtitle, rendered)


def write_report(
    results_dir: str | Path, output: str | Path, *, reps: int = 2000, seed: int = 0
) -> Path:
    """Write :func:`build_report`'s page to ``output`` (atomically; its folder is made if
    needed) and return the path."""
    text = build_report(results_dir, reps=reps, seed=seed)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return path
