"""A screenshot of the class report, for people to look at.

Grades the example class (or takes an existing gradebook), writes its report and
photographs the whole page in headless Chromium (Debian's ``chromium``; Playwright
drives it and downloads no browser of its own).

Run from the project root:
    python bench/report_screenshot.py                       # grade examples/submissions first
    python bench/report_screenshot.py --db OUT/gradebook.sqlite --out report.png
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="a gradebook (default: grade the example class)")
    parser.add_argument("--out", type=Path, default=Path("report.png"), help="the PNG to write (default: report.png)")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="report-screenshot-") as scratch:
        db_path = args.db
        if db_path is None:
            out = Path(scratch) / "class"
            subprocess.run([sys.executable, "-m", "autograder", "grade", str(ROOT / "examples" / "submissions"),
                            "--out", str(out)], cwd=ROOT, check=True)
            db_path = out / "gradebook.sqlite"
        html = Path(scratch) / "report.html"
        subprocess.run([sys.executable, "-m", "autograder", "report", "--db", str(db_path), "--out", str(html)],
                       cwd=ROOT, check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": args.width, "height": 900})
                page.goto(html.as_uri())
                page.screenshot(path=str(args.out), full_page=True)
            finally:
                browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
