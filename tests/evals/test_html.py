"""The HTML report renders the cases in a real browser (headless Chromium via Playwright)
and its filter shows only failures and errors. Skips, saying why, without Playwright or
Chromium (``.ci/run`` installs Chromium with apt)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from pertouch.evals import runner

CHROMIUM = os.environ.get("PERTOUCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class Painted:
    """A task that saves a small render per sample (like the retouch suite does)."""

    name = "painted"
    cases_path = None

    def samples(self):
        return [{"id": f"c{i}", "category": "strong", "input": {"instruction": f"make it {i}"}} for i in range(4)]

    def solve(self, sample, cfg, out, epoch):
        from pertouch.engine.io.read import save_image

        if sample["id"] == "c3":
            return {"error": "model: the server did not answer", "output": {}}
        from pertouch.evals.overlay import draw_masks

        img = out / "images" / cfg["vlm"] / f"{sample['id']}.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.full((24, 32, 3), 40 * int(sample["id"][1:]), np.uint8)
        save_image(img, pixels)
        sky = np.zeros((24, 32), bool)
        sky[:8] = True
        pic, legend = draw_masks(pixels, {"sky": (sky, "case"), "rest": (~sky, "agent")})
        save_image(img.with_name(img.stem + "-masks.png"), pic)
        calls = [{"role": "classify", "provider": cfg["vlm"], "prompt": f"make it {sample['id']}", "prompt_digest": "ab",
                  "reply": '{"kind": "strong"}', "tokens": {"prompt": 10, "completion": 5, "total": 15}, "ms": 12.0,
                  "error": None, "attempts": []}]
        return {"answer": "done", "image": str(img.relative_to(out)), "output": {"ok": sample["id"] != "c1"},
                "masks": {"image": str(img.relative_to(out).with_name(img.stem + "-masks.png")), "legend": legend},
                "calls": calls, "ms": 100.0 * (1 + int(sample["id"][1:]))}

    def score(self, inp, output):
        return {"changes": {"value": float(output["ok"]), "explanation": "sky.brightness +0.1 (ok)" if output["ok"]
                            else "sky.brightness +0.0 (want up)"}}


def test_report_lists_every_case_with_its_checks(tmp_path):
    runner.run(Painted(), configs=[{"vlm": "a"}, {"vlm": "b"}], out=tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert page.count("<tr class=case") == 4 and "sky.brightness +0.0 (want up)" in page
    assert "src='images/a/c0.png'" in page  # relative to the run folder
    assert "src='images/a/c0-masks.png'" in page and "sky <span class=muted>(case, 33%)" in page
    assert page.count("<svg class=plot") == 2 and "2/3" in page  # pass rate per category; latency
    assert "1 model call(s)" in page and "10 prompt + 5 completion" in page and "45 tokens" in page
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install -y chromium; .ci/run does it)")
def test_report_renders_in_headless_chromium(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    runner.run(Painted(), configs=[{"vlm": "a"}, {"vlm": "b"}], out=tmp_path)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto((tmp_path / "report.html").as_uri())
            rows = page.locator("tr.case")
            assert rows.count() == 4
            assert page.locator("#summary th").filter(has_text="b").count() == 1
            loaded = page.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length")
            assert loaded == 12  # render + masks of c0..c2 for each of the two configs; c3 errored, no image
            assert page.locator("figure.masks").first.is_visible() and page.locator("ul.legend li").count() == 12
            assert page.locator("svg.plot").count() == 2 and page.locator("svg.plot rect.bar").count() == 2
            assert page.locator("svg.plot circle.dot").count() == 6  # scored samples' latency, errors left out
            assert page.locator("svg.plot").first.bounding_box()["height"] > 40  # drawn, not collapsed
            call = page.locator("tr#c0-e1 details.calls").first
            call.locator("summary").first.click()
            call.locator("ol.calls summary").first.click()
            assert "make it c0" in call.inner_text() and '{"kind": "strong"}' in call.inner_text()
            page.select_option("#filter", "bad")
            visible = [r.get_attribute("id") for r in rows.all() if r.is_visible()]
            assert visible == ["c1-e1", "c3-e1"]
            assert page.locator("#shown").inner_text() == "2"
            page.select_option("#filter", "error")
            assert [r.get_attribute("id") for r in rows.all() if r.is_visible()] == ["c3-e1"]
        finally:
            browser.close()
