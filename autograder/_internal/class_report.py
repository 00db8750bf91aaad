"""The class report: one self-contained HTML file built from a gradebook.

``build_report`` computes the statistics (pure data, frozen dataclasses);
``render_html`` lays them out with a Jinja2 template (autoescaped: student ids,
answers and messages are text, never markup) and matplotlib SVG plots inlined, so
the page opens from disk with no server and no network.

Sections: the class at a glance; per question, the score distribution; item analysis
per check (pass rate, points lost, discrimination, the commonest failure messages);
submissions that were not graded normally (error, timeout, tampered, any other status)
and graded ones whose cells raised; the hand-grading queue; the grading runs.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import math
import re
import statistics
from collections import Counter
from pathlib import Path

from autograder._internal.report import check_title
from autograder._internal.totals import answer_state, totals

#: What each status means, for the report's readers; any other status is shown as it is.
STATUS_MEANINGS = {
    "graded": "graded (possibly with failing checks or broken cells)",
    "error": "could not be loaded or run at all",
    "timeout": "ran out of time",
    "tampered": "caught replacing the grader's functions: 0 points",
}
_TOP_FAILURES = 3


@dataclasses.dataclass(frozen=True)
class FailureGroup:
    """Failure messages that differ only in their numbers: how many, and the commonest one."""

    count: int
    message: str


@dataclasses.dataclass(frozen=True)
class CheckStats:
    question: str
    name: str
    title: str
    points: float  # the check's maximum (0 for a bonus check)
    hidden: bool
    advisory: bool
    n: int  # graded submissions that ran it
    passed: int
    points_lost: float
    discrimination: float | None  # correlation of passing it with the rest of the auto-graded total
    failures: tuple[FailureGroup, ...]

    @property
    def pass_rate(self) -> float:
        return self.passed / self.n if self.n else 0.0


@dataclasses.dataclass(frozen=True)
class Histogram:
    """Counts of values in bins [edges[i], edges[i+1]) (the last bin includes its right edge)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def rows(self) -> list[tuple[str, int]]:
        labels = []
        for i, count in enumerate(self.counts):
            lo, hi = self.edges[i], self.edges[i + 1]
            closing = "]" if i == len(self.counts) - 1 else ")"
            labels.append((f"[{lo:g}, {hi:g}{closing}", count))
        return labels


@dataclasses.dataclass(frozen=True)
class QuestionStats:
    id: str
    title: str
    max_points: float
    scores: tuple[float, ...]  # of graded submissions
    histogram: Histogram

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def full_marks(self) -> int:
        return sum(score >= self.max_points for score in self.scores)


@dataclasses.dataclass(frozen=True)
class Problem:
    submission: str
    status: str
    meaning: str
    message: str
    original_name: str = ""


@dataclasses.dataclass(frozen=True)
class CellProblem:
    submission: str
    cell: str
    message: str


@dataclasses.dataclass(frozen=True)
class QueueEntry:
    """One written answer across the class: how much of it a TA has graded."""

    question: str
    name: str
    prompt: str
    max_points: float
    graded: int
    waiting: tuple[str, ...]  # submission ids
    blank: int
    mean_points: float | None

    @property
    def answered(self) -> int:
        return self.graded + len(self.waiting)


@dataclasses.dataclass(frozen=True)
class RunStats:
    started: str
    seconds: float | None
    graded: int
    skipped: int
    sandboxed: bool

    @property
    def rate(self) -> float | None:
        return self.graded / self.seconds if self.seconds and self.graded else None


@dataclasses.dataclass(frozen=True)
class ClassReport:
    assignment: str
    title: str
    generated: str
    n: int
    status_counts: tuple[tuple[str, int, str], ...]  # status, count, meaning
    graded_totals: tuple[float, ...]
    auto_max: float
    hand_max: float
    histogram: Histogram
    questions: tuple[QuestionStats, ...]
    checks: tuple[CheckStats, ...]
    problems: tuple[Problem, ...]
    cell_problems: tuple[CellProblem, ...]
    queue: tuple[QueueEntry, ...]
    runs: tuple[RunStats, ...]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.graded_totals) if self.graded_totals else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.graded_totals) if self.graded_totals else None

    @property
    def overall_max(self) -> float:
        return self.auto_max + self.hand_max

    @property
    def has_advisory(self) -> bool:
        return any(check.advisory for check in self.checks)

    @property
    def waiting(self) -> int:
        return sum(len(entry.waiting) for entry in self.queue)


def histogram(values: list[float], maximum: float, *, max_bins: int = 20) -> Histogram:
    """Bins of width 1 point where the range allows, else ``max_bins`` equal bins over 0..maximum."""
    top = max([maximum, *values, 1.0])
    bins = int(math.ceil(top)) if top <= max_bins else max_bins
    width = top / bins
    edges = tuple(round(i * width, 6) for i in range(bins + 1))
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int(value // width)))] += 1
    return Histogram(edges, tuple(counts))


def correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r, or None where either side does not vary (or fewer than 3 pairs)."""
    if len(xs) < 3:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def _failure_key(message: str) -> str:
    """A message's first line without its numbers and where in the student's code it arose."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = re.sub(r"\s*\(your code[^)]*\)", "", first)
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", first)


def _failure_groups(messages: list[str]) -> tuple[FailureGroup, ...]:
    groups: dict[str, Counter] = {}
    for message in messages:
        groups.setdefault(_failure_key(message), Counter())[message] += 1
    ranked = sorted(groups.values(), key=lambda c: (-sum(c.values()), c.most_common(1)[0][0]))
    return tuple(FailureGroup(sum(c.values()), c.most_common(1)[0][0]) for c in ranked[:_TOP_FAILURES])


def _check_stats(graded: dict[str, dict], question_ids: list[str]) -> list[CheckStats]:
    order: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], list[tuple[str, dict]]] = {}
    for sid, result in graded.items():
        for qid in question_ids:
            for check in result["questions"].get(qid, {}).get("checks", []):
                key = (qid, check["name"])
                if key not in seen:
                    order.append(key)
                    seen[key] = []
                seen[key].append((sid, check))
    auto = {sid: float(result.get("total", 0.0)) for sid, result in graded.items()}
    stats = []
    for qid, name in order:
        runs = seen[(qid, name)]
        passed = [1.0 if check["passed"] else 0.0 for _, check in runs]
        rest = [auto[sid] - float(check["points"]) for sid, check in runs]
        failures = [check.get("message", "") for _, check in runs if not check["passed"] and check.get("message")]
        first = runs[0][1]
        stats.append(CheckStats(
            question=qid, name=name, title=check_title(name), points=float(first["max_points"]),
            hidden=bool(first.get("hidden")), advisory=bool(first.get("advisory", False)), n=len(runs),
            passed=int(sum(passed)),
            points_lost=sum(max(0.0, float(c["max_points"]) - float(c["points"])) for _, c in runs),
            discrimination=correlation(passed, rest), failures=_failure_groups(failures)))
    return stats


def _queue(results: dict[str, dict], question_ids: list[str], prompts: dict[tuple[str, str], str]) -> list[QueueEntry]:
    entries: dict[tuple[str, str], dict] = {}
    for sid, result in sorted(results.items()):
        for qid in question_ids:
            for entry in result["questions"].get(qid, {}).get("manual", []):
                slot = entries.setdefault((qid, entry["name"]), {"max": float(entry.get("max_points", 0.0)),
                                                                 "graded": [], "waiting": [], "blank": 0})
                state = answer_state(entry)
                if state == "graded":
                    slot["graded"].append(float(entry["points"]))
                elif state == "waiting":
                    slot["waiting"].append(sid)
                else:
                    slot["blank"] += 1
    return [QueueEntry(qid, name, prompts.get((qid, name), ""), slot["max"], len(slot["graded"]),
                       tuple(slot["waiting"]), slot["blank"],
                       statistics.fmean(slot["graded"]) if slot["graded"] else None)
            for (qid, name), slot in entries.items()]


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def build_report(results: dict[str, dict], info, runs: list[dict], *, now: float | None = None) -> ClassReport:
    """The statistics of a class, from stored results (``Gradebook.results``) and its ``ClassInfo``."""
    question_ids = list(info.question_ids)
    graded = {sid: r for sid, r in results.items() if r.get("status") == "graded"}
    counts = Counter(r.get("status", "") for r in results.values())
    statuses = [s for s in STATUS_MEANINGS if counts.get(s)] + sorted(s for s in counts if s not in STATUS_MEANINGS)
    sums = {sid: totals(r) for sid, r in results.items()}
    auto_max = max((s.auto_max for s in sums.values()), default=0.0)
    hand_max = max((s.hand_max for s in sums.values()), default=0.0)
    graded_totals = tuple(sorted(sums[sid].overall for sid in graded))
    questions = []
    for qid in question_ids:
        scores = tuple(float(r["questions"][qid]["points"]) for r in graded.values() if qid in r["questions"])
        maximum = float(info.max_points.get(qid, 0.0))
        questions.append(QuestionStats(qid, info.titles.get(qid, qid), maximum, scores, histogram(list(scores), maximum)))
    problems = [Problem(sid, r.get("status", ""), STATUS_MEANINGS.get(r.get("status", ""), "an unknown status"),
                        r.get("message", ""), r.get("original_name", ""))
                for sid, r in sorted(results.items()) if r.get("status") != "graded"]
    cell_problems = [CellProblem(sid, e.get("cell", ""), e.get("message", ""))
                     for sid, r in sorted(graded.items()) for e in r.get("cell_errors", [])]
    run_stats = [RunStats(_when(run["started_at"]),
                          None if run["finished_at"] is None else run["finished_at"] - run["started_at"],
                          int(run["graded"]), int(run["skipped"]), bool(run["sandboxed"])) for run in runs]
    return ClassReport(
        assignment=info.assignment, title=info.title, generated=_when(now if now is not None else _now()),
        n=len(results), status_counts=tuple((s, counts[s], STATUS_MEANINGS.get(s, "an unknown status"))
                                            for s in statuses),
        graded_totals=graded_totals, auto_max=auto_max, hand_max=hand_max,
        histogram=histogram(list(graded_totals), auto_max + hand_max), questions=tuple(questions),
        checks=tuple(_check_stats(graded, question_ids)), problems=tuple(problems),
        cell_problems=tuple(cell_problems), queue=tuple(_queue(results, question_ids, info.prompts)),
        runs=tuple(run_stats))


def _now() -> float:
    import time

    return time.time()


# --- Rendering ---------------------------------------------------------------------------------------

#: How the plots look: text kept as text (the page's reader can select it), ids that do not change from run
#: to run (``svg.hashsalt``), no top or right spine.
_PLOT_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "autograder-report",
               "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
_PLOT_SIZE = (4.2, 2.2)  # inches
_PLOT_WIDTH, _PLOT_HEIGHT = (72 * inches for inches in _PLOT_SIZE)  # points
# The layout is fixed, in points (the SVG's units) at font size 9: a layout engine measures every figure by
# drawing it once more, and placing the axis labels next to the tick labels measures those again. The margins
# leave what constrained layout left, about 3 points around the labels: on the left, the y label, then the y tick
# labels, which are counts, as wide as their digits; below, the x tick labels and the x label; above and to the
# right, half a tick label (the one at the end of the axis, up to 4 characters wide).
_MARGIN_LEFT, _DIGIT_WIDTH = 24.0, 5.75  # DejaVu Sans digits are 0.636 em wide
_MARGIN_BOTTOM, _MARGIN_TOP, _MARGIN_RIGHT = 33.0, 6.0, 14.0
_LABEL_INSET = 13.0  # from the figure's left and bottom edges to the y and x labels' sides facing the axes


@dataclasses.dataclass(frozen=True)
class _Plot:
    """One histogram to draw: bars over 0..maximum points."""

    hist: Histogram
    xlabel: str
    maximum: float
    color: str


def _plot_axes():
    """The Figure and Axes every plot is drawn on in turn (under ``_PLOT_STYLE``; no pyplot state)."""
    from matplotlib.figure import Figure
    from matplotlib.transforms import blended_transform_factory

    figure = Figure(figsize=_PLOT_SIZE)
    axes = figure.add_subplot()
    axes.xaxis.set_label_coords(0.5, _LABEL_INSET / _PLOT_HEIGHT,
                                transform=blended_transform_factory(axes.transAxes, figure.transFigure))
    axes.yaxis.set_label_coords(_LABEL_INSET / _PLOT_WIDTH, 0.5,
                                transform=blended_transform_factory(figure.transFigure, axes.transAxes))
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return figure, axes


def _draw_histogram(figure, axes, plot: _Plot) -> list:
    """Draw ``plot`` on ``axes``: everything that differs between plots is set here, so a plot does not
    depend on the ones drawn before it. Returns the bars, to remove before drawing the next plot."""
    from matplotlib.patches import Rectangle

    hist = plot.hist
    # The bars ``axes.bar`` would draw, without its bookkeeping for autoscaling: the limits are set below.
    bars = [Rectangle((hist.edges[i], 0), hist.edges[i + 1] - hist.edges[i], count,
                      facecolor=plot.color, edgecolor="white") for i, count in enumerate(hist.counts)]
    for bar in bars:
        axes.add_artist(bar)
    axes.set_xlim(0, max(plot.maximum, hist.edges[-1]))
    # What autoscaling would give (5% headroom), or 0..1 when no one was graded: integer ticks either way.
    top = max(hist.counts)
    axes.set_ylim(0, top * 1.05 if top else 1)
    axes.set_xlabel(plot.xlabel)
    digits = len(str(int(axes.get_ylim()[1])))  # of the largest y tick label shown
    figure.subplots_adjust(left=(_MARGIN_LEFT + digits * _DIGIT_WIDTH) / _PLOT_WIDTH,
                           bottom=_MARGIN_BOTTOM / _PLOT_HEIGHT,
                           right=1 - _MARGIN_RIGHT / _PLOT_WIDTH, top=1 - _MARGIN_TOP / _PLOT_HEIGHT)
    return bars


def _svg_histograms(plots: list[_Plot]) -> list[str]:
    """Bar charts as inline SVG markup (matplotlib, text kept as text), one per plot.

    They are drawn in turn on one Figure and Axes, only the bars, limits, x label and margins changing:
    building an Axes and its ticks costs more than drawing them."""
    import matplotlib

    svgs = []
    with matplotlib.rc_context(_PLOT_STYLE):
        figure, axes = _plot_axes()
        for plot in plots:
            bars = _draw_histogram(figure, axes, plot)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
            for bar in bars:
                bar.remove()
            svg = buffer.getvalue()
            svgs.append(svg[svg.index("<svg"):])  # drop the XML declaration and DOCTYPE: it is inlined in HTML
    return svgs


def _histogram_alt(what: str, values: tuple[float, ...], maximum: float) -> str:
    if not values:
        return f"{what}: no graded submissions."
    return (f"{what}: {len(values)} graded submissions, from {min(values):g} to {max(values):g} of {maximum:g}; "
            f"mean {statistics.fmean(values):.1f}, median {statistics.median(values):g}.")


def render_html(report: ClassReport) -> str:
    """The report as one HTML page (inline CSS and SVG; nothing fetched from anywhere)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("autograder._internal", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["pts"] = lambda x: "" if x is None else f"{x:g}"
    environment.filters["pct"] = lambda x: "" if x is None else f"{100 * x:.0f}%"
    environment.filters["num"] = lambda x, digits=2: "n/a" if x is None else f"{x:.{digits}f}"
    plots = {"totals": _Plot(report.histogram, "total points", report.overall_max, "#3b6ea8")}
    alts = {"totals": _histogram_alt("Distribution of totals", report.graded_totals, report.overall_max)}
    for question in report.questions:
        plots[question.id] = _Plot(question.histogram, "points", question.max_points, "#5a8f5a")
        alts[question.id] = _histogram_alt(f"Scores of {question.title}", question.scores, question.max_points)
    svgs = dict(zip(plots, _svg_histograms(list(plots.values()))))
    from markupsafe import Markup

    return environment.get_template("class_report.html.j2").render(
        report=report, plots={k: Markup(v) for k, v in svgs.items()}, alts=alts)


# --- From a gradebook ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ReportSummary:
    path: Path
    submissions: int
    waiting: int  # written answers that still wait for a TA


def warm_up() -> None:
    """Import the plotting library (~0.4 s) ahead of ``write_report``: a class run calls this in a
    thread of its own while its sandboxes grade, so that the report at its end is written sooner."""
    import matplotlib.figure  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401


def write_report(path: Path, gradebook) -> ReportSummary:
    """Write the class report of ``gradebook`` to ``path`` (atomically)."""
    from autograder._internal.export import _atomic_write, class_info, class_results

    results = class_results(gradebook)
    report = build_report(results, class_info(gradebook, results), gradebook.runs())
    _atomic_write(Path(path), render_html(report))
    return ReportSummary(Path(path), report.n, report.waiting)


def report_from_gradebook(db_path: Path, out: Path) -> ReportSummary:
    """``autograder report``: the class report of the gradebook at ``db_path``, written to ``out``."""
    from autograder._internal.export import open_gradebook

    gradebook = open_gradebook(db_path)
    try:
        return write_report(out, gradebook)
    finally:
        gradebook.close()


def record_class_grade(gradebook, *, assignment, found) -> None:
    """What a class grade records besides the results, once at its end: the assignment's questions
    (titles, points, written-answer prompts), which submissions make up the class, and the name
    each was handed in under (grades.csv, results.json and the report read them)."""
    from autograder._internal.export import ASSIGNMENT_KEY, CLASS_KEY, assignment_metadata

    gradebook.set_metadata(ASSIGNMENT_KEY, assignment_metadata(assignment))
    gradebook.set_metadata(CLASS_KEY, sorted(f.id for f in found))
    gradebook.set_original_names({f.id: f.name for f in found if f.name and f.name != f.id})
