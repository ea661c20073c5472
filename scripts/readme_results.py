"""Write the README's paper-table results from the files the paper-table commands wrote.

    python scripts/readme_results.py -r results/paper        # after `make paper`

Reads every ``section.json`` under the folder (``rlbench3 paper T1 ... -r results/paper/T1``
writes ``results/paper/T1/t1/section.json``), and replaces the README's block between
``<!-- paper-tables:begin -->`` and ``<!-- paper-tables:end -->`` with, per table: its title,
the command and wall time that produced it, its generated reading, the sections chosen in
:data:`README_SECTIONS` (the report page and ``results/paper/T*/t*/`` hold all of them), and its
first figure, copied to ``docs/figures/``. Nothing in the block is typed by hand.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from rlbench3.analysis.sections import read_section, section_files

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- paper-tables:begin -->", "<!-- paper-tables:end -->"
# Per table, the captions (by their first words) of the sections shown in the README.
README_SECTIONS = {
    "T1": ("Trainability frontier", "What an untrained policy gets"),
    "T2": ("The action-dimension cliff", "Trainability frontier"),
    "T3": ("Henderson et al. (2018) split test", "Ranking error"),
    "T4": ("Packer et al. (2018) summary",),
    "T5": ("Expressivity / Trainability / Generalization report card",),
    "T6": ("Remedies as shifts",),
    "T7": ("The Copernican test", "The agents on the same regimes"),
}
FIGURES = ("T1", "T5", "T6")  # the tables whose figure goes into the README


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    return f"{seconds / 60:.1f} min"


def block(results: Path, figures: Path) -> str:
    found = []
    for path in section_files(results):
        section = read_section(path)
        key = section.title.split(":")[0]
        found.append((key, path, section))
    found.sort(key=lambda item: item[0])
    lines = []
    for key, path, section in found:
        lines += [f"### {section.title}", ""]
        lines += [f"`{section.command}`: {minutes(section.wall_s)} on this 2-core machine.", ""]
        lines += [section.reading, ""]
        wanted = README_SECTIONS.get(key, ())
        for table in section.tables:
            if wanted and not table.caption.startswith(wanted):
                continue
            lines += [f"*{table.caption}*", "", table.markdown, ""]
        if key in FIGURES and section.figures:
            figure = section.figures[0]
            target = figures / f"{key.lower()}-{Path(figure.png_path).name}"
            shutil.copyfile(path.parent / figure.png_path, target)
            rel = target.relative_to(ROOT).as_posix()
            lines += [f"![{figure.caption}]({rel})", "", f"*{figure.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--results", default="results/paper", help="the paper tables' folder")
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="the README to update")
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        print(f"readme_results: {readme} has no {BEGIN} ... {END} block", file=sys.stderr)
        return 2
    figures = ROOT / "docs" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(
        head + BEGIN + "\n\n" + block(Path(args.results), figures) + "\n" + END + tail
    )
    print(f"readme_results: updated {readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
