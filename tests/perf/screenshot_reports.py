"""Open report.html files in headless Chromium and save screenshots, to look at what a reader sees.

    python tests/perf/screenshot_reports.py reports/demo reports/demo-text reports/demo-image

For each report folder it writes reports/screenshots/<folder>-first-screen.png (the page as opened, 900 px wide,
as GitHub's column is) and <folder>-all-open.png (every <details> section opened, the whole page). Needs
`pip install playwright` and a Chromium: `python -m playwright install chromium` where the CDN is reachable, or the
system one (Debian: `apt-get install chromium-headless-shell`), found through CHROMIUM or the usual paths.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

OUT = Path("reports/screenshots")
WIDTH, HEIGHT = 900, 1000
CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def _browser_path() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    for path in ("/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium"):
        if Path(path).is_file():
            return path
    return None  # playwright's own download, if installed


def main(folders: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_browser_path(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        for folder in folders:
            report = Path(folder, "report.html").resolve()
            page.goto(report.as_uri())
            name = Path(folder).name
            page.screenshot(path=OUT / f"{name}-first-screen.png")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length")
            page.screenshot(path=OUT / f"{name}-all-open.png", full_page=True)
            print(f"{folder}: {page.evaluate('document.images.length')} images, {broken} broken")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["reports/demo"]))
