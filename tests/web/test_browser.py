"""End to end in a real browser: Playwright (Python) driving Debian's Chromium, headless.

Open a photo, send an instruction and check the after image changed in the named
region only, toggle the overlay, drag a box and edit that region, move a slider,
undo, download and compare with ``pertouch apply`` of the downloaded recipe. The
screenshots in the README (``docs/web/``) are taken here when
``PERTOUCH_WEB_SCREENSHOTS=1``.

Skips (saying why) when the ``playwright`` package or Chromium is missing; ``.ci/run``
installs Chromium with apt.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                     "(pip install -e '.[dev]')")
CHROMIUM = os.environ.get("PERTOUCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install -y chromium; "
                                 ".ci/run does it)")]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "web"
BOX = (160, 80, 452, 362)  # the flower in scikit-learn's flower photo (640×427)


@pytest.fixture(scope="module")
def page(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1360, "height": 900}, accept_downloads=True)
        pg.set_default_timeout(120_000)
        yield pg
        browser.close()


def shot(page, name: str, tmp_path: Path) -> None:
    folder = DOCS if os.environ.get("PERTOUCH_WEB_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.jpg"), type="jpeg", quality=72)


def wait_idle(page) -> None:
    page.wait_for_function("document.body.dataset.busy === '0'")


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.int16)


def token_of(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "pertouch_token")


def region_mask(app, page, name: str) -> tuple[np.ndarray, np.ndarray]:
    service = app.state.service
    reg = next(r for r in service.regions(service.entry(token_of(page))) if r.name == name)
    import cv2

    m = np.asarray(Image.fromarray((reg.mask * 255).astype(np.uint8)).resize((640, 427)))
    near = cv2.dilate((m >= 5).astype(np.uint8), np.ones((25, 25), np.uint8)) > 0  # JPEG ringing at the edge
    return m > 200, ~near


def after_minus_before(page) -> np.ndarray:
    before = pixels(page.request.get(page.url + "api/image/before").body())
    after = pixels(page.request.get(page.url + "api/image/after").body())
    return np.abs(after - before).sum(axis=2)


def say(page, text: str) -> None:
    n = page.locator("#messages .msg").count()
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#messages .msg').length > {n}")
    wait_idle(page)


def test_a_session_in_the_browser(server, page, tmp_path):
    from typer.testing import CliRunner

    from pertouch.cli import app as cli

    app, url = server
    page.goto(url + "/")
    page.wait_for_function("document.body.dataset.ready === '1'")
    # open a photo
    page.fill("#user", "ana")
    page.select_option("#demo", "flower")
    page.click("#open-demo")
    page.wait_for_selector("#legend span")
    wait_idle(page)
    assert "vegetation" in page.inner_text("#legend")
    # an instruction on a region the segmenter found: changed there, not elsewhere; its steps
    # show one by one while it runs (recorded as they are added to the page)
    page.evaluate("""() => { window.seenSteps = [];
      new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes)
        window.seenSteps.push([n.dataset.node, n.textContent, document.body.dataset.busy,
                               !document.getElementById('progress').hidden]); })
        .observe(document.getElementById('progress-steps'), { childList: true }); }""")
    from pertouch.graph import runtime as rt

    planned, real = threading.Event(), rt.render
    first = []

    def gated(*args, **kw):  # the first render waits for the screenshot of the steps so far
        if not first:
            first.append(planned.wait(60))
        return real(*args, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(rt, "render", gated)
    try:
        page.fill("#chat-input", "make the vegetation more colourful")
        page.press("#chat-input", "Enter")
        page.wait_for_selector("#progress-steps li[data-node='plan']")
        assert page.is_visible("#progress") and "planned round 1" in page.inner_text("#progress-steps")
        assert page.inner_text("#progress-text") == "rendering round 1…"
        assert page.inner_text("#messages .pending") == "you: make the vegetation more colourful"
        shot(page, "progress", tmp_path)
    finally:
        planned.set()
        mp.undo()
    page.wait_for_function("document.querySelectorAll('#messages .msg').length > 0")
    wait_idle(page)
    last = page.locator("#messages .msg").last.inner_text()
    assert "Understood" in last and "steps: perceive → classify → plan 1 → render 1 → critique 1" in last
    seen = page.evaluate("window.seenSteps")
    assert [s[0] for s in seen][:3] == ["perceive", "converse", "classify"] and seen[-1][0] == "finish"
    assert all(busy == "1" and shown for _, _, busy, shown in seen)  # during the turn, on show
    assert any(s[1].startswith("rendered round 1") for s in seen)
    inside, outside = region_mask(app, page, "vegetation")
    diff = after_minus_before(page)
    assert diff[inside].mean() > 3 and diff[outside].mean() < 1.5
    # the overlay, toggled
    page.check("#overlay-toggle")
    page.wait_for_function("document.getElementById('img-overlay').naturalWidth > 0")
    assert page.is_visible("#img-overlay")
    shot(page, "overlay", tmp_path)
    page.uncheck("#overlay-toggle")
    assert not page.is_visible("#img-overlay")
    # start over: the after image is the photo again
    say(page, "start over")
    assert after_minus_before(page).mean() < 1.0
    # point: drag a box around the flower, name it, edit it in the chat
    page.check("#point-mode")
    page.fill("#point-name", "petals")
    r = page.locator("#img-before").bounding_box()
    sx, sy = r["width"] / 640, r["height"] / 427
    page.mouse.move(r["x"] + BOX[0] * sx, r["y"] + BOX[1] * sy)
    page.mouse.down()
    page.mouse.move(r["x"] + BOX[2] * sx, r["y"] + BOX[3] * sy, steps=8)
    page.mouse.up()
    page.wait_for_function("document.getElementById('messages').innerText.includes(\"Region 'petals' selected\")")
    wait_idle(page)
    assert "petals" in page.inner_text("#legend")
    page.uncheck("#point-mode")
    say(page, "make the petals brighter")
    inside, outside = region_mask(app, page, "petals")
    before = pixels(page.request.get(url + "/api/image/before").body())
    after = pixels(page.request.get(url + "/api/image/after").body())
    assert after[inside].mean() > before[inside].mean() + 5
    shot(page, "chat", tmp_path)
    # a slider: the preview changes, the server says how long it took
    assert page.locator("#sliders tbody tr").count() == 1
    petals = page.locator("#sliders tbody tr[data-region='petals'][data-attribute='brightness'] input[type=range]")
    shown = page.get_attribute("#img-after", "src")
    petals.fill("0.6")
    page.wait_for_function("document.body.dataset.preview !== undefined")
    assert page.get_attribute("#img-after", "src") != shown and "ms on the server" in page.inner_text("#render-ms")
    shot(page, "sliders", tmp_path)
    page.click("#apply-sliders")
    page.wait_for_function("document.getElementById('messages').innerText.includes('Set by the sliders')")
    wait_idle(page)
    assert "petals.brightness by +0.60" in page.locator("#messages .msg").last.inner_text()
    # undo: back to the chat's result
    page.click("#btn-undo")
    page.wait_for_function("document.getElementById('messages').innerText.includes('Undid the last change')")
    wait_idle(page)
    value = float(page.locator("#sliders tbody tr[data-region='petals'] input[type=range]").input_value())
    assert value == pytest.approx(0.2, abs=0.11)
    # download and compare with pertouch apply of the downloaded recipe
    with page.expect_download() as dl:
        page.click("#btn-download")
    zpath = tmp_path / "result.zip"
    dl.value.save_as(zpath)
    zipfile.ZipFile(zpath).extractall(tmp_path / "dl")
    photo = tmp_path / "flower.png"
    shutil.copy(app.state.service.ws.root / "demo" / "flower.png", photo)
    out = CliRunner().invoke(cli, ["apply", str(photo), "--recipe", str(tmp_path / "dl" / "result.png.pertouch.json"),
                                   "-o", str(tmp_path / "again.png")])
    assert out.exit_code == 0, out.output
    a, b = pixels((tmp_path / "dl" / "result.png").read_bytes()), pixels((tmp_path / "again.png").read_bytes())
    assert a.shape == (427, 640, 3) and np.abs(a - b).max() <= 1
    assert np.abs(a - pixels(photo.read_bytes())).sum(axis=2)[inside].mean() > 5
    # compare: side by side
    page.uncheck("#overlay-toggle")
    page.click("#btn-compare")
    page.wait_for_function("document.getElementById('stage').classList.contains('side')")
    wait_idle(page)
    shown = page.evaluate("[document.getElementById('img-after').naturalWidth, "
                          "document.getElementById('img-after').naturalHeight]")
    assert shown == [640, 427]  # the result beside the photo, not the turn's own before | after picture
    shot(page, "compare", tmp_path)
    # an error is a message, the page goes on
    page.fill("#chat-input", "save as ../../outside.jpg")
    page.press("#chat-input", "Enter")
    page.wait_for_function("document.getElementById('messages').innerText.includes('outside the output folder')")
    wait_idle(page)
    assert page.is_visible("#chat-input")
    # another engine for this photo, picked in the page: the next turn renders with it
    assert page.inner_text("#models-now") == ": builtin · builtin · parametric"
    page.click("#models summary")
    assert page.eval_on_selector_all("#set-engine option", "os => os.map(o => o.value)") == ["parametric", "reference"]
    page.select_option("#set-engine", "reference")
    page.wait_for_function("document.getElementById('messages').innerText.includes('From the next turn on')")
    wait_idle(page)
    assert page.inner_text("#models-now") == ": builtin · builtin · reference"
    say(page, "make the petals a bit warmer")
    assert app.state.service.entry(token_of(page)).session.ctx.engine == "reference"
    assert "render 1" in page.locator("#messages .msg").last.inner_text()
