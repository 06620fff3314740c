"""The demo pack in a real browser, opened from disk: every link resolves, every chart loads, nothing is fetched,
and axe-core finds no accessibility violation on any page.

Headless Chromium is driven over the Chrome DevTools Protocol with a minimal client (``websocket-client``). axe-core
is not in the repository: ``.ci/run`` fetches it with npm into ``~/.cache/needs-analysis``, or ``$AXE_CORE`` names an
``axe.min.js``. Without a browser or axe-core the tests are skipped on a workstation but fail on CI (``CI`` set): CI
must have both.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from conftest import PACK_SECTIONS

PAGE_TIMEOUT = 60  # seconds for one page to load
START_TIMEOUT = 30  # seconds for the browser to start


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must be able to run the browser tests")
    pytest.skip(reason)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


AXE_CACHE = Path.home() / ".cache" / "needs-analysis" / "node_modules" / "axe-core" / "axe.min.js"


def find_axe() -> Path | None:
    """axe-core's ``axe.min.js``: ``$AXE_CORE`` if set, else where ``npm install --prefix ~/.cache/needs-analysis``
    puts it."""
    for candidate in (os.environ.get("AXE_CORE"), AXE_CACHE):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


class CDP:
    """A minimal Chrome DevTools Protocol client: commands by id, events kept until read, every wait bounded."""

    def __init__(self, url: str):
        import websocket

        self.ws = websocket.create_connection(url, timeout=PAGE_TIMEOUT, suppress_origin=True, enable_multithread=True)
        self.next_id = 0
        self.events: list[dict] = []

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass

    def _recv(self, deadline: float) -> dict:
        import websocket

        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from the browser in time")
        self.ws.settimeout(left)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise TimeoutError("no answer from the browser in time") from None

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, session: str | None = None, timeout: float = PAGE_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method and (session is None or event.get("sessionId") == session):
                    return self.events.pop(i)
            reply = self._recv(deadline)
            if "method" in reply:
                self.events.append(reply)

    def evaluate(self, expression: str, session: str, await_promise: bool = False):
        result = self.send("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True, "awaitPromise": await_promise}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with one page attached: yields ``(cdp, session_id)``; Chromium is always stopped."""
    exe = find_chromium()
    if not exe:
        unavailable("no Chromium at /usr/bin/chromium")
    try:
        import websocket  # noqa: F401
    except ImportError:
        unavailable("websocket-client is not installed (pip install websocket-client)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True)
    reader.start()
    cdp = None
    try:
        ws_url, seen = None, []
        deadline = time.monotonic() + START_TIMEOUT
        while ws_url is None:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                pytest.fail(f"Chromium did not start (exit {proc.poll()}):\n{''.join(seen[-20:])}")
            try:
                line = lines.get(timeout=min(left, 1))
            except queue.Empty:
                continue
            seen.append(line)
            if "DevTools listening on " in line:
                ws_url = line.split("DevTools listening on ", 1)[1].strip()
        cdp = CDP(ws_url)
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            cdp.send(f"{domain}.enable", {}, session)
        yield cdp, session
    finally:
        if cdp:
            cdp.close()
        stop_group(proc)
        shutil.rmtree(profile, ignore_errors=True)


def stop_group(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Stop Chromium and its helper processes: the process group it was started in (start_new_session)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is None:
                time.sleep(0.05)
                continue
            try:
                os.killpg(proc.pid, 0)  # helpers still running?
            except ProcessLookupError:
                return
            time.sleep(0.05)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pass


LINKS_JS = "Array.from(document.querySelectorAll('[href]')).map(a => [a.getAttribute('href'), a.href])"
IMAGES_JS = "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt.length])"
IDS_JS = "Array.from(document.querySelectorAll('[id]')).map(e => e.id)"
# Every rule axe runs by default (WCAG A/AA and best practice); per violation its rule, impact and first targets.
AXE_JS = """axe.run(document).then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""


@pytest.fixture(scope="module")
def crawl(demo_pack, browser):
    """Open index.html from disk and follow every link to a page of the pack; record what the browser did, then run
    axe-core on the page (its script text injected, as the page itself may fetch nothing) if axe-core is at hand."""
    cdp, session = browser
    axe_path = find_axe()
    axe_source = axe_path.read_text(encoding="utf-8") if axe_path else None
    pack = demo_pack.resolve()
    pages: dict[str, dict] = {}
    files: set[str] = set()
    todo = [pack / "index.html"]
    while todo:
        path = todo.pop(0)
        if path.name in pages:
            continue
        cdp.events.clear()
        nav = cdp.send("Page.navigate", {"url": path.as_uri()}, session)
        assert not nav.get("errorText"), f"{path.name}: {nav.get('errorText')}"
        cdp.wait_for("Page.loadEventFired", session)
        record = {
            "title": cdp.evaluate("document.title", session),
            "url": cdp.evaluate("location.href", session),
            "links": cdp.evaluate(LINKS_JS, session),
            "images": cdp.evaluate(IMAGES_JS, session),
            "ids": set(cdp.evaluate(IDS_JS, session)),
        }
        time.sleep(0.2)  # let late events (a failed request, a console error) arrive
        try:
            cdp.send("Runtime.evaluate", {"expression": "1"}, session, timeout=5)
        except TimeoutError:
            pass
        events = [e for e in cdp.events if e.get("sessionId") == session]
        record["requests"] = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
        record["failed"] = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
        record["errors"] = ([e["params"]["entry"] for e in events if e["method"] == "Log.entryAdded"
                             and e["params"]["entry"].get("level") == "error"]
                            + [e["params"] for e in events if e["method"] == "Runtime.exceptionThrown"])
        if axe_source:
            cdp.evaluate(axe_source, session)
            record["axe"] = cdp.evaluate(AXE_JS, session, await_promise=True)
        pages[path.name] = record
        for _, absolute in record["links"]:
            target, _fragment = urldefrag(absolute)
            parsed = urlparse(target)
            if parsed.scheme != "file":
                continue
            local = Path(unquote(parsed.path))
            if local.suffix == ".html" and local.parent == pack and local.is_file() and local.name not in pages:
                todo.append(local)
            elif local.suffix != ".html":
                files.add(str(local))
    return {"pack": pack, "pages": pages, "files": files}


def test_every_page_of_the_pack_is_reached_from_index(crawl):
    assert set(crawl["pages"]) == {"index.html"} | {f"{s}.html" for s in PACK_SECTIONS}
    for name, page in crawl["pages"].items():
        assert page["url"].startswith("file://"), page["url"]
        assert page["title"], f"{name} has no title"


def test_every_link_resolves(crawl):
    pack, pages = crawl["pack"], crawl["pages"]
    broken = []
    for name, page in pages.items():
        assert page["links"], f"{name} has no links"
        for href, absolute in page["links"]:
            target, fragment = urldefrag(absolute)
            parsed = urlparse(target)
            if parsed.scheme != "file":
                broken.append((name, href, "not a link into the pack"))
                continue
            local = Path(unquote(parsed.path))
            if local.parent != pack:
                broken.append((name, href, "leaves the pack's folder"))
            elif not local.is_file():
                broken.append((name, href, "no such file"))
            elif fragment and local.suffix == ".html" and fragment not in pages[local.name]["ids"]:
                broken.append((name, href, f"no element with id '{fragment}' on {local.name}"))
    assert broken == [], broken[:10]
    downloads = {Path(f).name for f in crawl["files"]}
    assert {"tables.xlsx", "manifest.json"} <= downloads
    for f in crawl["files"]:
        assert Path(f).is_file() and Path(f).stat().st_size > 0, f


def test_every_image_loads(crawl):
    total = 0
    for name, page in crawl["pages"].items():
        for i, (complete, width, height, alt_length) in enumerate(page["images"], start=1):
            assert complete and width > 0 and height > 0, f"image {i} on {name} did not load ({width}x{height})"
            assert alt_length > 0, f"image {i} on {name} has no alt text"
        total += len(page["images"])
    assert total >= 10, f"only {total} images in the whole pack"


def test_no_request_leaves_the_machine(crawl):
    outside = []
    for name, page in crawl["pages"].items():
        assert page["requests"], f"no requests recorded for {name}: is the Network domain on?"
        outside += [(name, url[:100]) for url in page["requests"] if not url.startswith(("file:", "data:"))]
    assert outside == [], outside[:10]


def test_no_failed_loads_or_console_errors(crawl):
    for name, page in crawl["pages"].items():
        assert page["failed"] == [], f"{name}: {page['failed'][:3]}"
        assert page["errors"] == [], f"{name}: {page['errors'][:3]}"


def test_no_accessibility_violations(crawl):
    """axe-core on every page: any violation of its default rules fails, named by page, rule, impact and element."""
    if not find_axe():
        unavailable(f"no axe-core at $AXE_CORE or {AXE_CACHE} (npm install --prefix ~/.cache/needs-analysis axe-core)")
    found = [f"{name}: {v['id']} ({v['impact']}) on {v['count']} element(s), e.g. {'; '.join(v['targets'])}: "
             f"{v['help']}" for name, page in crawl["pages"].items() for v in page["axe"]]
    assert found == [], "\n".join(found)
