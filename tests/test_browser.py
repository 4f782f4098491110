"""The app in a real browser: Streamlit server + headless Chromium (Debian's, never a downloaded one).

What AppTest cannot see is checked here: the page the browser actually draws.

* the bundled atlas: the header count and the markers plotly drew agree, before and after a sidebar filter;
* a shared link ``?result=jacot2018_ntk`` opens the detail panel with its citation;
* a click on a marker opens its result and draws its region as a filled area (issue 13);
* a search rings its top hits and zooms the map to them (issue 13);
* hostile text in the catalogue (script tags, onerror handlers, javascript: links) is shown as text and
  never runs, on the map, in the hover label, in the detail panel and in the catalogue view.

Skipped when /usr/bin/chromium (or $ATLAS_TEST_CHROMIUM) or the playwright package is missing, unless
CI=true: there a missing browser is a failure, so the browser test cannot silently stop running in CI.
Each test gets its own page (its own Streamlit session); the servers and the browser are shared per module.
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from atlas_viz.terrain.axes import load_axes
from atlas_viz.catalogue.loader import load_catalog
from atlas_viz.catalogue.filters import Filters, apply_filters
from atlas_viz.core.names import MAP_TYPES

from conftest import BUNDLED, GOOD, ROOT, make_data

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the browser fixture: a skip, or a failure when CI=true
    PlaywrightTimeout = expect = sync_playwright = None

CHROMIUM = Path(os.environ.get("ATLAS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER_START_S = 60      # streamlit imports + first health answer, on a busy 2-core machine
FIRST_DRAW_MS = 90_000   # first map of a session: loads the atlas, paints the terrain
STEP_MS = 45_000         # a rerun after a widget change, a page reload with a warm cache

# ---- hostile catalogue text --------------------------------------------------------------------

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
MD_LINK = "[click me](javascript:window.__xss=1)"
A_TAG = '<a href="javascript:window.__xss=1">x</a>'
XSS_ID = "xss2024_payload"
BAD_URL_ID = "xss2024_bad_url"


def hostile_results() -> str:
    """One valid result carrying every payload in claim, authors, title and notes, and one whose
    citation url is javascript: (the loader must refuse that one)."""
    region = {"task": ["tabular"], "architecture": ["resnet"], "width": ["narrow"]}
    payload = {
        "id": XSS_ID,
        "claim": f"{SCRIPT} and {IMG} are only text, {MD_LINK} too, and {A_TAG}.",
        "map_type": "theorem",
        "region": region,
        "observables": ["generalization"],
        "citation": {"authors": [f"Eve {IMG}", f"Mallory {MD_LINK}"], "year": 2024,
                     "title": f"Title with {A_TAG} and {SCRIPT}", "arxiv": "2001.00001"},
        "notes": f"Notes: {MD_LINK} {SCRIPT} {A_TAG} {IMG}",
    }
    bad_url = {
        "id": BAD_URL_ID,
        "claim": "A result whose only link is a javascript: url.",
        "map_type": "conjecture",
        "region": region,
        "observables": ["generalization"],
        "citation": {"authors": ["Mallory"], "year": 2024, "title": "Bad link",
                     "url": "javascript:window.__xss=1"},
    }
    return yaml.safe_dump([payload, bad_url], sort_keys=False, allow_unicode=True)


# ---- browser and server ------------------------------------------------------------------------


def _missing_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install Debian's chromium; never `playwright install`)"
    if sync_playwright is None:
        return "the playwright Python package is missing (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _missing_browser()
    if why:
        if IN_CI:
            pytest.fail(f"CI=true but the browser test cannot run: {why}", pytrace=False)
        pytest.skip(why)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SERVERS: dict[str, tuple] = {}  # url -> (process, log tail function), to explain a failure


def server_state(url: str) -> str:
    for base, (proc, log_tail) in _SERVERS.items():
        if url.startswith(base):
            alive = "running" if proc.poll() is None else f"exited with code {proc.returncode}"
            return f"server {alive}; its log ends:\n{log_tail()[-1500:]}"
    return "no server of this module at that url"


@contextlib.contextmanager
def streamlit_server(data: Path | None = None):
    """Run app.py (on ``data`` when given) on a free localhost port; yield its base URL."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    if data is not None:
        cmd += ["--", "--data", str(data)]
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA"}
    log = tempfile.NamedTemporaryFile("w+", prefix="atlas_streamlit_", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def log_tail() -> str:
        log.flush()
        return Path(log.name).read_text(errors="replace")[-3000:]

    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log_tail()}", pytrace=False)
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {SERVER_START_S} s:\n{log_tail()}",
                            pytrace=False)
            time.sleep(0.25)
        time.sleep(0.2)
        if proc.poll() is not None:  # the port was taken in the meantime and another server answered
            pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log_tail()}", pytrace=False)
        _SERVERS[url] = (proc, log_tail)
        yield url
    finally:
        _SERVERS.pop(url, None)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="module")
def bundled_app(browser):
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def hostile_app(browser, tmp_path_factory):
    data = make_data(tmp_path_factory.mktemp("hostile"), results={"good.yaml": GOOD, "hostile.yaml": hostile_results()})
    with streamlit_server(data) as url:
        yield url


class Watch:
    """What a page did on its own: dialogs it opened, uncaught errors, console errors."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []

        def on_dialog(d):
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)


@pytest.fixture(scope="module")
def context(browser):
    """One browser context for the module: its HTTP cache keeps Streamlit's and plotly's scripts, which
    saves seconds per page; each test still gets its own page, hence its own Streamlit session."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.watch = Watch(pg)
    yield pg
    pg.close()


# ---- reading the page --------------------------------------------------------------------------

MAP_JS = "[...document.querySelectorAll('.js-plotly-plot')].find(d => d.layout && (d.layout.images || []).length)"
IDLE_JS = ("() => { const a = document.querySelector('[data-testid=stApp]');"
           " return !!a && a.dataset.testScriptState === 'notRunning' && a.dataset.testConnectionState === 'CONNECTED' }")


STATE_JS = f"""() => {{
    const a = document.querySelector('[data-testid=stApp]');
    return {{script: a && a.dataset.testScriptState, connection: a && a.dataset.testConnectionState,
             plotly_divs: document.querySelectorAll('.js-plotly-plot').length, map: !!({MAP_JS}),
             exceptions: [...document.querySelectorAll('[data-testid=stException]')].map(e => e.innerText),
             alerts: [...document.querySelectorAll('[data-testid=stAlertContainer]')].map(e => e.innerText)}};
}}"""


def wait_for(page, js: str, what: str, timeout: int, arg=None) -> None:
    """page.wait_for_function polling on a timer (not on animation frames), failing with the app's state."""
    try:
        page.wait_for_function(js, arg=arg, timeout=timeout, polling=200)
        return
    except PlaywrightTimeout:
        pass
    pytest.fail(f"{what}: not within {timeout / 1000:.0f} s; url {page.url}; app state {page.evaluate(STATE_JS)}; "
                f"page errors {page.watch.page_errors}; console errors {page.watch.console_errors[-5:]}; "
                f"{server_state(page.url)}", pytrace=False)


def wait_idle(page, timeout: int = STEP_MS) -> None:
    """Until the app's script run has finished (Streamlit marks it on the stApp element)."""
    wait_for(page, IDLE_JS, "the app to finish its script run", timeout)


MAP_DRAWN_JS = f"() => !!({MAP_JS})"


def open_app(page, url: str, query: str = "", ready_js: str = MAP_DRAWN_JS) -> None:
    """Open the app and wait for ``ready_js`` (by default: the map is drawn), then for the end of the run.

    Waiting for an element first matters: right after connecting, Streamlit can report 'not running'
    for a moment before the first run starts."""
    page.goto(url + (f"?{query}" if query else ""), wait_until="domcontentloaded")
    wait_for(page, ready_js, f"the page ?{query} to be drawn", FIRST_DRAW_MS)
    wait_idle(page, FIRST_DRAW_MS)


HEADER_RE = re.compile(r"^(\d+) of (\d+) results shown")


def header_counts(page) -> tuple[int, int]:
    """(shown, total) from the '**N** of M results shown: ...' line."""
    texts = page.locator("[data-testid=stMarkdownContainer]").all_inner_texts()
    found = [m for t in texts if (m := HEADER_RE.match(t.strip()))]
    assert len(found) == 1, f"expected one 'N of M results shown' line, got {found} in {texts}"
    return int(found[0][1]), int(found[0][2])


def plotted_results(page) -> dict:
    """What the map holds and draws for results: ids per trace in the figure data (customdata of the
    result traces, one per kind of map), and the number of marker paths plotly drew for those traces."""
    return page.evaluate(
        """(types) => {
            const gd = %s;
            if (!gd) return null;
            const ids = [];
            gd._fullData.forEach(t => {
                if (t.visible === true && types.includes(t.legendgroup)) {
                    const n = Math.min(t.x ? t.x.length : 0, t.y ? t.y.length : 0);
                    for (let i = 0; i < n; i++) ids.push(t.customdata[i]);
                }
            });
            let drawn = 0;
            gd.querySelectorAll('.scatterlayer g.trace').forEach(g => {
                const cd = g.__data__;
                if (cd && cd[0] && cd[0].trace && types.includes(cd[0].trace.legendgroup))
                    drawn += g.querySelectorAll('path.point').length;
            });
            return {ids, drawn};
        }""" % MAP_JS, list(MAP_TYPES))


def wait_plot_matches(page, n: int, timeout_s: float = 30) -> dict:
    """The map's result markers once they settle on ``n`` (plotly redraws after the script run);
    returns the last reading either way, so the caller's assertion shows what was drawn."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = plotted_results(page)
        if (got and len(got["ids"]) == n and got["drawn"] == n) or time.monotonic() > deadline:
            return got
        page.wait_for_timeout(250)


def expected_count(text: str = "") -> tuple[int, int]:
    """(matching, total) of the bundled catalogue for a search, computed without the app."""
    catalog = load_catalog(BUNDLED, load_axes(BUNDLED / "axes.yaml"))
    return len(apply_filters(catalog.results, Filters(text=text))), len(catalog.results)


# ---- the bundled atlas -------------------------------------------------------------------------


def test_map_count_and_markers_agree_before_and_after_a_search(bundled_app, page):
    open_app(page, bundled_app)
    shown, total = header_counts(page)
    want_grok, want_total = expected_count("grokking")
    assert (shown, total) == (want_total, want_total), "with no filter every valid result is shown"
    before = wait_plot_matches(page, shown)
    assert len(before["ids"]) == shown, "result markers in the figure differ from the header count"
    assert before["drawn"] == shown, "result markers drawn by plotly differ from the header count"
    assert len(set(before["ids"])) == shown and "jacot2018_ntk" in before["ids"]

    box = page.get_by_role("textbox", name="Search claims, authors, titles")  # not its help button
    box.fill("grokking")
    box.press("Enter")
    wait_for(page, "(total) => [...document.querySelectorAll('[data-testid=stMarkdownContainer]')].some(e => {"
                   " const m = e.innerText.trim().match(/^(\\d+) of (\\d+) results shown/);"
                   " return m && +m[2] === total && +m[1] !== total })",
             "searching 'grokking' to change the 'N of M results shown' header", STEP_MS, arg=total)
    wait_idle(page)
    assert re.search(r"[?&]q=grokking(&|$)", page.url), f"the search is not in the shareable URL: {page.url}"
    after_shown, after_total = header_counts(page)
    assert after_total == total
    assert after_shown == want_grok and 0 < after_shown < shown
    after = wait_plot_matches(page, after_shown)
    assert len(after["ids"]) == after_shown, f"figure holds {len(after['ids'])} result markers, header says {after_shown}"
    assert after["drawn"] == after_shown, f"plotly drew {after['drawn']} result markers, header says {after_shown}"
    assert set(after["ids"]) < set(before["ids"])
    assert not page.watch.page_errors, page.watch.page_errors


def test_shared_link_opens_the_detail_panel_with_its_citation(bundled_app, page):
    open_app(page, bundled_app, "result=jacot2018_ntk")
    # Some widgets (the link button) are drawn a moment after the run ends: expect() retries.
    expect(page.get_by_role("link", name="Open the paper")).to_have_attribute(
        "href", "https://arxiv.org/abs/1806.07572", timeout=STEP_MS)
    texts = page.locator("[data-testid=stText]").all_inner_texts()
    citation = [t for t in texts if "Jacot" in t]
    assert citation, f"no citation naming Jacot in the detail panel: {texts}"
    assert "1806.07572" in citation[0] and "(2018)" in citation[0], citation[0]
    assert any("neural tangent kernel" in t for t in texts), "the claim is not shown"
    # the selected result is ringed on the map
    ringed = page.evaluate(f"() => ({MAP_JS}).data.filter(t => t.name === 'selected result').map(t => t.customdata)")
    assert ringed == [["jacot2018_ntk"]], ringed
    assert "result=jacot2018_ntk" in page.url
    assert not page.watch.page_errors, page.watch.page_errors


# ---- hostile text ------------------------------------------------------------------------------

UNSAFE_DOM_JS = """() => {
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (tag === 'script' && (el.textContent || '').includes('__xss')) bad.push('script element: ' + el.outerHTML);
        for (const at of el.attributes) {
            const v = at.value || '';
            if (at.name.startsWith('on') && v.includes('__xss')) bad.push(`${tag}[${at.name}]: ${el.outerHTML}`);
            if (/^\\s*javascript:/i.test(v) && ['href', 'src', 'action', 'formaction', 'xlink:href'].includes(at.name))
                bad.push(`${tag}[${at.name}=${v}]`);
        }
        if (tag === 'img' && el.getAttribute('src') === 'x') bad.push('img from the payload: ' + el.outerHTML);
    }
    return bad;
}"""


def assert_nothing_ran(page, where: str) -> None:
    assert page.evaluate("() => typeof window.__xss") == "undefined", f"{where}: the payload ran"
    assert not page.watch.dialogs, f"{where}: dialogs opened: {page.watch.dialogs}"
    bad = page.evaluate(UNSAFE_DOM_JS)
    assert not bad, f"{where}: live markup from the payload in the DOM: {bad}"


def marker_centre(page, rid: str) -> dict | None:
    """Scroll the marker of result ``rid`` into view; its centre on the page (x, y), or None if not drawn."""
    return page.evaluate(
        """(rid) => {
            const gd = %s;
            for (const g of gd.querySelectorAll('.scatterlayer g.trace')) {
                const cd = g.__data__;
                if (!cd || !cd[0] || !cd[0].trace || !cd[0].trace.legendgroup) continue;
                const custom = cd[0].trace.customdata;
                for (const p of g.querySelectorAll('path.point')) {
                    if (p.__data__ && custom[p.__data__.i] === rid) {
                        p.scrollIntoView({block: 'center', inline: 'center'});
                        const r = p.getBoundingClientRect();
                        return {x: r.x + r.width / 2, y: r.y + r.height / 2};
                    }
                }
            }
            return null;
        }""" % MAP_JS, rid)


def hover_result(page, rid: str, want: str | None = None) -> str:
    """Move the mouse onto the marker of result ``rid``; return the hover label's text ('' if none).

    Markers of a crowded region sit a few pixels apart and the selected region's fill lies under them, so an
    approach can land on a neighbour's label: approach from several sides until the label names ``want``
    (default ``rid``), and return the last label seen otherwise."""
    want = want or rid
    seen = ""
    wait_idle(page)  # a rerun redraws the map and drops a hover label drawn before it
    for dx, dy in ((-40, -40), (40, 40), (-40, 40), (40, -40), (0, -40), (-40, 0)):  # come from outside
        box = marker_centre(page, rid)
        assert box, f"no drawn marker for {rid}"
        page.mouse.move(box["x"] + dx, box["y"] + dy)
        page.mouse.move(box["x"], box["y"], steps=5)
        try:
            page.wait_for_function(f"() => !!({MAP_JS}).querySelector('.hoverlayer .hovertext')", timeout=5000,
                                   polling=100)
        except PlaywrightTimeout:
            continue
        seen = page.evaluate(f"() => ({MAP_JS}).querySelector('.hoverlayer').textContent")
        if want in seen:
            return seen
    return seen


def test_hostile_catalogue_text_is_shown_as_text_and_never_runs(hostile_app, page):
    # A shared link to the hostile result: the map view with its detail panel, in one page load.
    open_app(page, hostile_app, f"result={XSS_ID}")
    assert_nothing_ran(page, "map with the detail panel")
    shown, total = header_counts(page)
    assert (shown, total) == (3, 3), "the two GOOD results and the hostile one load; the javascript: url one not"
    drawn = wait_plot_matches(page, 3)
    assert XSS_ID in drawn["ids"] and BAD_URL_ID not in drawn["ids"], drawn

    # The detail panel: every field literally, as text; the paper link is the arXiv one.
    expect(page.get_by_role("link", name="Open the paper")).to_have_attribute(
        "href", "https://arxiv.org/abs/2001.00001", timeout=STEP_MS)
    texts = page.locator("[data-testid=stText]").all_inner_texts()
    claim = f"{SCRIPT} and {IMG} are only text, {MD_LINK} too, and {A_TAG}."
    assert claim in texts, f"the claim is not shown literally: {texts}"
    assert any(f"Eve {IMG}, Mallory {MD_LINK} (2024). Title with {A_TAG} and {SCRIPT}." in t for t in texts), texts
    assert f"Notes: {MD_LINK} {SCRIPT} {A_TAG} {IMG}" in texts, texts
    assert page.get_by_text(claim, exact=True).is_visible()
    assert page.get_by_role("link", name="click me").count() == 0, "the markdown link was rendered as a link"

    # The refused entry is reported, located by file, id and field.
    panel = page.locator("[data-testid=stExpander]", has_text="problem(s) in the data")
    panel.get_by_text("problem(s) in the data").click()
    problems = panel.locator("[data-testid=stCode]")
    problems.wait_for(timeout=STEP_MS)
    assert re.search(rf"hostile\.yaml, entry {BAD_URL_ID}, field citation\.url: must start with http:// or https://",
                     problems.inner_text()), problems.inner_text()

    # The hover label of its marker.
    hover = hover_result(page, XSS_ID, want=SCRIPT)
    assert XSS_ID in hover, f"no hover label for the marker of {XSS_ID}: {hover!r}"
    # Plotly reads hover text as its own little HTML: unescaped, '<a href=...>x</a>' would turn into a tag.
    for literal in (SCRIPT, "Eve <img src=x", "Title with <a href="):
        assert literal in hover, f"the hover label does not show {literal!r} literally: {hover}"
    assert_nothing_ran(page, "map after hovering the marker")

    # The catalogue view (a canvas table, with export buttons).
    open_app(page, hostile_app, "view=catalogue", ready_js="() => [...document.querySelectorAll('button')]"
             ".some(b => b.innerText.includes('Download their citations (BibTeX)'))")
    expect(page.locator("[data-testid=stDataFrame]")).to_have_count(1, timeout=STEP_MS)
    assert page.get_by_text("Download these results (CSV)").count() == 1
    page.wait_for_timeout(500)  # let the data grid paint its cells
    assert_nothing_ran(page, "catalogue view")
    assert not page.watch.page_errors, page.watch.page_errors


def map_view_box(page) -> dict:
    """The map's shown x and y ranges (plotly's computed layout) and the x of the ringed search hits."""
    return page.evaluate("""() => {
        const gd = %s;
        if (!gd || !gd._fullLayout) return null;
        const hits = (gd.data || []).filter(t => t.name === 'search hits');
        return {x: gd._fullLayout.xaxis.range.slice(), y: gd._fullLayout.yaxis.range.slice(),
                hits: hits.length ? Array.from(hits[0].x) : [], ids: hits.length ? Array.from(hits[0].customdata) : []};
    }""" % MAP_JS)


def test_search_rings_the_hits_and_zooms_the_map(bundled_app, page):
    open_app(page, bundled_app)
    before = map_view_box(page)
    assert before and not before["hits"], "no search: nothing is ringed"
    box = page.get_by_role("textbox", name="Search claims, authors, titles")  # not its help button
    box.fill("EoS")
    box.press("Enter")
    wait_for(page, f"() => {{ const gd = {MAP_JS}; return !!gd && (gd.data || []).some(t => t.name === 'search hits') }}",
             "the search hits to be ringed on the map", STEP_MS)
    wait_idle(page)
    after = map_view_box(page)
    assert "cohen2021_edge_of_stability" in after["ids"], after["ids"]
    width_before, width_after = before["x"][1] - before["x"][0], after["x"][1] - after["x"][0]
    assert width_after < 0.6 * width_before, f"the map did not zoom: x range {before['x']} -> {after['x']}"
    assert all(after["x"][0] < x < after["x"][1] for x in after["hits"]), "a ringed hit lies outside the view"
    assert not page.watch.page_errors, page.watch.page_errors


REGION_FILL_JS = """(name) => {
    const gd = %s;
    if (!gd) return null;
    for (const g of gd.querySelectorAll('.scatterlayer g.trace')) {
        const cd = g.__data__;
        if (!cd || !cd[0] || !cd[0].trace || cd[0].trace.name !== name) continue;
        const fill = g.querySelector('path.js-fill');
        const box = fill ? fill.getBoundingClientRect() : null;
        return {fill: fill ? getComputedStyle(fill).fill : null, d: fill ? (fill.getAttribute('d') || '').length : 0,
                w: box ? box.width : 0, h: box ? box.height : 0};
    }
    return null;
}""" % MAP_JS


def test_clicking_a_marker_draws_its_region_filled(bundled_app, page):
    """A click on a marker opens a result (at the default zoom neighbouring markers may overlap: whichever
    plotly reports is opened); its region is drawn as a filled area and its marker ringed."""
    open_app(page, bundled_app)
    for _ in range(3):  # a click landing while plotly redraws is lost: aim again
        box = marker_centre(page, "jacot2018_ntk")
        assert box, "no drawn marker for jacot2018_ntk"
        page.mouse.move(box["x"] - 40, box["y"] - 40)
        page.mouse.move(box["x"], box["y"], steps=5)
        page.wait_for_timeout(300)
        page.mouse.click(box["x"], box["y"])
        try:
            page.wait_for_url(re.compile(r"[?&]result="), timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    wait_for(page, f"() => {{ const gd = {MAP_JS}; return !!gd && (gd.data || []).some(t => "
                   "(t.name || '').startsWith('region of ')) }",
             "a region to be drawn after a click on a marker", STEP_MS)
    wait_idle(page)
    match = re.search(r"[?&]result=([^&]+)", page.url)
    assert match, f"the click opened no result: {page.url}"
    rid = match[1]
    region = page.evaluate(REGION_FILL_JS, f"region of {rid}")
    assert region and region["fill"] not in (None, "none", "rgba(0, 0, 0, 0)"), f"the region is not filled: {region}"
    assert region["d"] > 50 and region["w"] > 5 and region["h"] > 5, f"the filled region is a speck: {region}"
    ringed = page.evaluate(f"() => ({MAP_JS}).data.filter(t => t.name === 'selected result').map(t => t.customdata)")
    assert ringed == [[rid]], ringed
    assert not page.watch.page_errors, page.watch.page_errors
