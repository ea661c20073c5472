"""The report page: its HTML (self-contained, escaped), refused figures, and a real browser.

The browser test opens a generated page in headless Chromium (Debian's ``chromium`` package):
the page must load without a single console message (a blocked fetch, a script, a broken
resource all print one), every embedded figure must decode to a non-zero size, and a screenshot
is taken. It is skipped, saying so, only where no Chromium is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from rlbench3.analysis.sections import FigureBlock, Section, TableBlock, write_section
from rlbench3.harness.storage import RunStore
from rlbench3.report import (
    CSP,
    PNG_SIGNATURE,
    build_report,
    figure_bytes,
    markdown_html,
    wall_text,
    write_report,
)

NASTY = '<script>alert("x")</script> & </pre>'


def draw_png(path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    fig.subplots().plot([1, 2, 3], [3, 1, 2])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=60)


def write_tiny_results(folder, make_config, make_record) -> None:
    """2 agents × horizons 1, 2, 3 × 3 seeds with a held-out split (every suite table and
    figure), and a hand-written section in ``T1/`` whose texts need escaping."""
    store = RunStore(folder)
    for agent in ("ppo", "a2c"):
        for h in (1, 2, 3):
            splits = {
                "train": {"preset": "D", "num_actions": 2, "horizon": h},
                "heldout": {"num_actions": 2, "horizon": h, "combination_seed": 3},
            }
            for seed in range(3):
                config = make_config(setting={"horizon": h}, splits=splits, seed=seed, agent=agent)
                rate = max(0.0, 1.0 - 0.4 * (h - 1) - 0.25 * seed)
                store.write(config, make_record({"train": rate, "heldout": rate / 2}, ramp=True))
    draw_png(folder / "T1" / "fig" / "t1.png")
    section = Section(
        title=f"T1 {NASTY}",
        command=f"rlbench3 paper t1 {NASTY}",
        reading=f"First paragraph {NASTY}.\n\nSecond paragraph.",
        tables=(TableBlock(f"caption {NASTY}", f"| a | b |\n|:--|--:|\n| {NASTY} | 2 |", "a,b\n"),),
        figures=(FigureBlock(f"figure {NASTY}", "fig/t1.png"),),
        protocol=f"protocol {NASTY}",
        wall_s=123.5,
        config={"note": NASTY},
        versions={"rlbench3": NASTY},
    )
    write_section(folder / "T1", section)


@pytest.fixture(scope="module")
def page(tmp_path_factory, make_config, make_record):
    """(results folder, the page's path, its text)."""
    root = tmp_path_factory.mktemp("report")
    folder = root / "results"
    write_tiny_results(folder, make_config, make_record)
    path = write_report(folder, root / "out" / "report.html", reps=50)
    return folder, path, path.read_text()


# --------------------------------------------------------------------------------------------
# The page's HTML


def test_the_page_is_self_contained_and_has_no_script(page):
    _, _, text = page
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in text
    assert "<script" not in text.lower()
    for src in re.findall(r'\bsrc="([^"]*)"', text):
        assert src.startswith("data:image/png;base64,"), src[:40]
    for href in re.findall(r'\bhref="([^"]*)"', text):
        assert href.startswith(("#section-", "data:text/csv;charset=utf-8;base64,")), href[:40]
    assert "http://" not in text and "https://" not in text


def test_every_section_is_in_the_contents_with_its_parts(page):
    folder, _, text = page
    titles = re.findall(r'<li><a href="#(section-\d+)">([^<]*)</a></li>', text)
    assert [t for _, t in titles][:3] == [
        "Swiss-cheese trainability: final success, zero-signal batches, H50/d50 frontier",
        "Seed variance: aggregates, spread, Henderson split test, seeds needed",
        "Generalization: held-out splits and gaps (Packer layout where trained on D and R)",
    ]
    assert len(titles) == 4 and titles[3][1].startswith("T1 &lt;script&gt;")
    for anchor, _ in titles:
        assert f'<section id="{anchor}">' in text
    assert text.count("<img ") == 5  # curves, frontier, profiles, gaps; T1's figure
    assert text.count("<h3>How it was produced</h3>") == 4
    assert f"<code>rlbench3 table -r {folder} --kind swiss --reps 50 --seed 0</code>" in text
    assert "ppo&#x27;s falls from" in text  # a generated reading
    assert "<dt>Wall time</dt><dd>2 min 04 s</dd>" in text  # T1's own wall time
    assert "<dt>Run time</dt><dd>not recorded" not in text


def test_every_text_from_the_folder_is_escaped(page):
    _, _, text = page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;/pre&gt;"
    assert NASTY not in text
    assert text.count(escaped) >= 8  # title (twice), command, reading, caption, cell, ...
    assert '<td class="">' not in text and f"<td>{escaped}</td>" in text


def test_markdown_tables_become_html_tables():
    html = markdown_html("| a | b | c |\n|:---|---:|:-:|\n| 1 | x \\| y | <i> |\n| 2 |")
    assert html == (
        '<div class="scroll"><table><thead><tr><th>a</th><th class="right">b</th>'
        '<th class="center">c</th></tr></thead><tbody>'
        '<tr><td>1</td><td class="right">x | y</td><td class="center">&lt;i&gt;</td></tr>'
        '<tr><td>2</td><td class="right"></td><td class="center"></td></tr></tbody></table></div>'
    )
    assert markdown_html("(none)") == "<p>(none)</p>"
    assert markdown_html("| not | a table |") == "<pre>| not | a table |</pre>"
    assert markdown_html("") == ""


def test_wall_time_text():
    assert wall_text(None) == "not recorded"
    assert wall_text(12.34) == "12.3 s"
    assert wall_text(125) == "2 min 05 s"
    assert wall_text(7384) == "2 h 03 min"


def test_figures_must_be_png_files_inside_their_folder(tmp_path):
    folder = tmp_path / "T1"
    draw_png(folder / "ok.png")
    assert figure_bytes(folder, FigureBlock("c", "ok.png"), "here").startswith(PNG_SIGNATURE)
    (folder / "fake.png").write_text("<svg/>")
    draw_png(tmp_path / "secret.png")
    os.symlink(tmp_path / "secret.png", folder / "link.png")
    for name, message in (
        ("fake.png", "is not a PNG file"),
        ("missing.png", "is missing"),
        ("link.png", "leads outside its folder"),
    ):
        with pytest.raises(ValueError, match=f"^here: figure '{name}' {message}"):
            figure_bytes(folder, FigureBlock("c", name), "here")


def test_a_missing_figure_stops_the_report_naming_the_section(tmp_path):
    draw_png(tmp_path / "T1" / "f.png")
    write_section(tmp_path / "T1", Section("T1", "cmd", "", figures=(FigureBlock("c", "f.png"),)))
    (tmp_path / "T1" / "f.png").unlink()
    with pytest.raises(ValueError, match=r"T1/section.json: figure 'f.png' is missing"):
        build_report(tmp_path)


# --------------------------------------------------------------------------------------------
# A real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium prints each console message (errors, CSP violations, failed loads) on stderr as
# "...:CONSOLE:<line>] "<message>", source: ..." (older versions: "CONSOLE(<line>)").
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]?\s*(.*)")
PROBE = """<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "image-probe";
  out.textContent = JSON.stringify(
    Array.from(document.images, (img) => [img.complete, img.naturalWidth, img.naturalHeight]));
  document.body.appendChild(out);
});
</script>"""


def chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.skip(
            "no Chromium browser on this machine (install Debian's package: "
            "apt-get install chromium)"
        )
    command = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",  # as root, in a container
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_page_in_headless_chromium(page, tmp_path):
    _, path, text = page
    screenshot = tmp_path / "report.png"
    shown = chromium(
        tmp_path, f"--screenshot={screenshot}", "--window-size=1280,2000", path.as_uri()
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    console = [m.group(1) for m in map(CONSOLE.search, shown.stderr.splitlines()) if m]
    assert console == [], console
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1280, 2000)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or range(1 << 20)) > 10

    # A copy with a script that records every image's decoded size (the page itself runs none;
    # the copy's policy lets only that inline script run, images stay embedded-only).
    probe = tmp_path / "probe.html"
    policy = f'content="{CSP}"'
    assert policy in text
    probe.write_text(
        text.replace(policy, f"content=\"{CSP}; script-src 'unsafe-inline'\"").replace(
            "</body>", PROBE + "</body>"
        )
    )
    dumped = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    found = re.search(r'<pre id="image-probe">(.*?)</pre>', dumped.stdout)
    assert found, dumped.stdout[-2000:]
    images = json.loads(found.group(1))
    assert len(images) == text.count("<img ") == 5
    for complete, width, height in images:
        assert complete and width > 0 and height > 0, images
