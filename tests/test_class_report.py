"""The class report: its statistics, its escaping, and the page as a browser shows it."""

from __future__ import annotations

import csv
import html.parser
import io
import json
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from autograder._internal import class_report
from autograder._internal.class_report import build_report, correlation, histogram, render_html
from autograder._internal.export import class_info, class_results, open_gradebook
from conftest import ROOT, needs_bwrap
from synthetic_class import build_class, make_result, passes

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
STUDENTS = [f"s{i:02}" for i in range(12)]


@pytest.fixture(scope="module")
def report_class(tmp_path_factory, assignment):
    out = tmp_path_factory.mktemp("report-class")
    results = [make_result(assignment, sid, rate=0.35 + 0.05 * i, answers={"softplus_explanation": f"{sid} {HOSTILE}"})
               for i, sid in enumerate(STUDENTS)]
    results += [make_result(assignment, "broken", status="error", message=f"cannot load: {HOSTILE}"),
                make_result(assignment, "slow", status="timeout", message="ran past 300 s"),
                make_result(assignment, "cheat", status="tampered", message="replaced judge()"),
                make_result(assignment, "odd", status="some_future_status", message="")]
    db_path = build_class(assignment, out, results, names={"broken": f"broken {HOSTILE}.py"})
    gradebook = open_gradebook(db_path)
    try:
        stored = class_results(gradebook)
        info = class_info(gradebook, stored)
        runs = gradebook.runs()
    finally:
        gradebook.close()
    return {"out": out, "results": results, "report": build_report(stored, info, runs), "stored": stored}


def test_item_analysis_has_a_row_per_check_with_counts_from_the_verdicts(report_class, assignment):
    report = report_class["report"]
    specs = [(q.id, c) for q in assignment.questions for c in q.checks]
    assert [(c.question, c.name) for c in report.checks] == [(qid, spec.name) for qid, spec in specs]
    graded = [r for r in report_class["results"] if r.status == "graded"]
    for check, (qid, spec) in zip(report.checks, specs):
        rates = [0.35 + 0.05 * STUDENTS.index(r.submission) for r in graded]
        expected = sum(passes(r.submission, spec.name, rate) for r, rate in zip(graded, rates))
        assert (check.n, check.passed) == (len(graded), expected)
        assert check.points_lost == (len(graded) - expected) * (0 if spec.bonus else spec.points)
        if 0 < expected < len(graded):
            assert check.failures and check.failures[0].count == len(graded) - expected
    assert report.n == len(report_class["results"])
    assert sum(count for _, count, _ in report.status_counts) == report.n


def test_problems_list_every_status_but_graded_with_its_message(report_class):
    problems = {p.submission: p for p in report_class["report"].problems}
    assert set(problems) == {"broken", "slow", "cheat", "odd"}
    assert problems["cheat"].meaning.startswith("caught replacing")
    assert problems["odd"].meaning == "an unknown status"
    assert problems["broken"].original_name == f"broken {HOSTILE}.py"


def test_discrimination_is_the_correlation_with_the_rest_of_the_total():
    assert correlation([0, 0, 1, 1], [1, 2, 3, 4]) > 0.8
    assert correlation([1, 1, 0, 0], [1, 2, 3, 4]) < -0.8
    assert correlation([1, 1, 1], [1, 2, 3]) is None  # everyone passed: no information
    counts = histogram([0, 0.5, 3, 10, 10], 10)
    assert sum(counts.counts) == 5 and counts.counts[-1] == 2 and counts.edges[-1] == 10


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_student_text_is_escaped_and_the_page_fetches_nothing(report_class, assignment):
    page_text = (report_class["out"] / "report.html").read_text()
    assert HOSTILE not in page_text and "&lt;script&gt;" in page_text
    page = _Page()
    page.feed(page_text)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "img" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not (name in ("src", "href") and value and not value.startswith("#")), (tag, attrs)
    # Accessible: every table has headers, every plot a text alternative.
    assert tags.count("table") and tags.count("table") <= tags.count("thead")
    plots = [attrs for tag, attrs in page.tags if attrs.get("class") == "plot"]
    assert len(plots) == 1 + len(assignment.questions)
    assert all(attrs.get("role") == "img" and attrs.get("aria-label") for attrs in plots)
    assert f"cannot load: {HOSTILE}" in "".join(page.text)  # shown, as text


def test_advisory_checks_are_marked_when_results_have_them(report_class):
    stored = json.loads(json.dumps(report_class["stored"]))
    first = next(iter(stored.values()))
    qid = next(iter(first["questions"]))
    name = first["questions"][qid]["checks"][0]["name"]
    for result in stored.values():
        for question_id, question in result["questions"].items():
            for check in question["checks"]:
                check["advisory"] = question_id == qid and check["name"] == name
    report = report_class["report"]
    from autograder._internal.export import ClassInfo

    info = ClassInfo(report.assignment, report.title, tuple(q.id for q in report.questions),
                     {q.id: q.max_points for q in report.questions}, {q.id: q.title for q in report.questions}, {})
    again = build_report(stored, info, [])
    assert [c.name for c in again.checks if c.advisory] == [name]
    assert "advisory" in render_html(again)


# --- The plots -------------------------------------------------------------------------------------

def _plots():
    """Histograms with y tick labels of 1 to 5 digits (and none graded), over ranges with short and long x ticks."""
    plots = []
    for top in (0, 1, 9, 10, 120, 1234, 10_000):
        for maximum in (0.5, 5, 12.5, 20, 82, 1000):
            values = [maximum] * top + [maximum / 3] * (top // 2)
            plots.append(class_report._Plot(histogram(values, maximum), "total points", maximum, "#3b6ea8"))
    return plots


def test_the_fixed_layout_leaves_room_for_every_label():
    import matplotlib

    width, height = class_report._PLOT_SIZE
    with matplotlib.rc_context(class_report._PLOT_STYLE):
        figure, axes = class_report._plot_axes()
        for plot in _plots():
            bars = class_report._draw_histogram(figure, axes, plot)
            figure.draw_without_rendering()
            inside = figure.get_tightbbox()  # inches: everything drawn, labels included
            assert 0 < inside.x0 and 0 < inside.y0 and inside.x1 < width and inside.y1 < height, (plot, inside)
            y_low, y_high = axes.get_ylim()
            x_low, x_high = axes.get_xlim()
            yticks = [label.get_window_extent() for label, y in zip(axes.get_yticklabels(), axes.get_yticks())
                      if y_low <= y <= y_high]
            xticks = [label.get_window_extent() for label, x in zip(axes.get_xticklabels(), axes.get_xticks())
                      if x_low <= x <= x_high]
            assert axes.yaxis.label.get_window_extent().x1 < min(box.x0 for box in yticks), plot
            assert axes.xaxis.label.get_window_extent().y1 < min(box.y0 for box in xticks), plot
            for bar in bars:
                bar.remove()


def test_plots_are_deterministic_text_with_integer_counts_whatever_was_drawn_before():
    plots = _plots()
    svgs = class_report._svg_histograms(plots)
    assert svgs == class_report._svg_histograms(plots)
    assert [class_report._svg_histograms([plot])[0] for plot in plots[::7]] == svgs[::7]  # one Figure, reused
    for plot, svg in zip(plots, svgs):
        assert svg.startswith("<svg") and "<text" in svg and ">submissions</text>" in svg and "Date" not in svg
        yaxis = svg[svg.index('<g id="matplotlib.axis_2">'):]
        counts = [int(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", yaxis)[:-1]]  # the last: its label
        assert counts[0] == 0 and max(counts) <= 1.05 * max(1, *plot.hist.counts), counts
        bars = re.findall(r'<g id="patch_\d+">\s*<path d="[^"]*"[^>]*style="fill: (#[0-9a-f]+)', svg)
        assert bars[2:] == [plot.color] * len(plot.hist.counts)  # after the figure's and the axes' backgrounds


# --- In a browser -----------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def example_class(tmp_path_factory):
    """The example class, graded as a TA would grade it."""
    out = tmp_path_factory.mktemp("example-class") / "out"
    graded = subprocess.run([sys.executable, "-m", "autograder", "grade", "examples/submissions", "--out", str(out),
                             "--jobs", "2"], capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert graded.returncode == 0, graded.stderr
    return out, tomllib.loads((ROOT / "examples" / "class.toml").read_text())


@pytest.mark.slow
@needs_bwrap
@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed")
def test_the_example_class_report_renders_in_chromium(example_class, tmp_path, assignment):
    playwright = pytest.importorskip("playwright.sync_api")
    out, manifest = example_class
    not_graded = {sid for sid, s in manifest["students"].items() if s.get("status", "graded") != "graded"}
    requested = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.goto((out / "report.html").as_uri())
            assert page.locator("figure.question-plot svg").count() == len(assignment.questions)
            for question in assignment.questions:
                figure = page.locator(f'figure.question-plot[data-question="{question.id}"]')
                assert figure.locator("svg rect").count() > 0 and figure.locator("figcaption").inner_text()
            rows = page.locator("#item-analysis tbody tr.check-row")
            assert rows.count() == sum(len(q.checks) for q in assignment.questions)
            assert page.locator("#item-analysis thead th").count() >= 8
            listed = set(page.locator("#problem-list tr.problem").evaluate_all(
                "rows => rows.map(r => r.dataset.submission)"))
            assert listed == not_graded
            assert page.locator("#n-submissions").inner_text() == str(len(manifest["students"]))
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert requested == [(out / "report.html").as_uri()]  # nothing else was fetched


@pytest.mark.slow
@needs_bwrap
def test_canvas_export_of_the_example_class_with_its_roster(example_class, tmp_path, assignment):
    out, manifest = example_class
    with open(ROOT / "examples" / "roster.csv", newline="") as handle:
        roster = list(csv.reader(handle))
    header, students = roster[0], roster[2:]
    assert {row[3] for row in students} == set(manifest["students"])
    results = json.loads((out / "results.json").read_text())["submissions"]

    def canvas(path):
        return subprocess.run([sys.executable, "-m", "autograder", "export", "--db", str(out / "gradebook.sqlite"),
                               "--format", "canvas", "--roster", str(path)], capture_output=True, text=True, cwd=ROOT)

    done = canvas(ROOT / "examples" / "roster.csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment.title]
    assert float(rows[1][-1]) == sum(q.auto_points + q.manual_points for q in assignment.questions)
    assert {row[3]: float(row[-1]) for row in rows[2:]} == {sid: r["total"] for sid, r in results.items()}
    assert "no roster row" not in done.stderr and "no submission" not in done.stderr

    dropped, extra = students[0], ["Zoe, Example", "5999", "EX999", "zoe_never_submitted", "Differentiability 2026"]
    variant = tmp_path / "roster.csv"
    with open(variant, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *students[1:], extra])
    done = canvas(variant)
    assert done.returncode == 0, done.stderr
    assert "1 submissions have no roster row" in done.stderr and f"\n  {dropped[3]}\n" in done.stderr
    assert "1 roster rows have no submission" in done.stderr and "zoe_never_submitted" in done.stderr
