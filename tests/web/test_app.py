"""Every route of the web app through Starlette's TestClient, and the safety cases."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from pertouch.web import uploads
from pertouch.web.app import COOKIE, create_app

BOX = [160, 80, 452, 362]  # the flower in scikit-learn's flower photo (640×427)


@pytest.fixture(scope="module")
def app(web_home):
    mp = pytest.MonkeyPatch()
    mp.setenv("PERTOUCH_HOME", str(web_home))
    yield create_app()
    mp.undo()


@pytest.fixture(scope="module")
def client(app):
    c = TestClient(app)
    assert c.get("/").status_code == 200
    return c


@pytest.fixture(scope="module")
def opened(client):
    r = client.post("/api/open/demo", json={"name": "flower", "user": "ana"})
    assert r.status_code == 200, r.text
    return r.json()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.int16)


def test_page_sets_a_private_token_and_serves_its_files(app):
    c = TestClient(app)
    r = c.get("/")
    assert r.status_code == 200 and "PerTouch" in r.text
    cookie = r.headers["set-cookie"].lower()
    assert COOKIE in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert c.get("/static/app.js").status_code == 200
    assert c.get("/static/../pyproject.toml").status_code == 404
    assert c.get("/static/%2e%2e/app.py").status_code == 404


def test_config_lists_demos_attributes_and_choices(client):
    cfg = client.get("/api/config").json()
    assert "flower" in cfg["demos"] and cfg["max_upload_mb"] == uploads.MAX_UPLOAD_BYTES // 2**20
    bright = next(a for a in cfg["attributes"] if a["name"] == "brightness")
    assert bright["min"] < 0 < bright["max"]
    assert cfg["choices"]["vlm"][0] and "builtin" in cfg["choices"]["segmenter"]


def test_without_token_or_photo_the_answer_is_a_message(app):
    c = TestClient(app)
    r = c.get("/api/state")
    assert r.status_code == 404 and "token" in r.json()["error"]
    c.get("/")
    r = c.get("/api/state")
    assert r.status_code == 404 and r.json() == {"error": "no photo is open in this browser",
                                                  "hint": "open a photo or a demo photo first"}
    assert c.post("/api/turn", json={"text": "brighter"}).status_code == 404
    assert c.post("/api/turn", content=b"{not json").status_code in (400, 404)


def test_first_view_regions_and_pictures(client, opened):
    assert opened["user"] == "ana" and opened["photo"]["width"] == 640 and not opened["started"]
    assert {"vegetation"} <= {r["name"] for r in opened["regions"]}
    before = client.get("/api/image/before")
    assert before.headers["content-type"] == "image/jpeg" and pixels(before.content).shape == (427, 640, 3)
    after = client.get("/api/image/after")  # nothing done yet: the photo itself
    assert np.abs(pixels(after.content) - pixels(before.content)).max() <= 2
    ov = client.get("/api/image/overlay")
    assert ov.headers["content-type"] == "image/png" and Image.open(io.BytesIO(ov.content)).mode == "RGBA"
    assert client.get("/api/image/elsewhere").status_code == 404
    assert client.get("/api/image/turn").status_code == 404


def test_point_then_chat_edits_only_the_named_region(client, app, opened):
    r = client.post("/api/point", json={"name": "petals", "box": BOX})
    assert r.status_code == 200, r.text
    assert "petals" in {x["name"] for x in r.json()["state"]["regions"]}
    r = client.post("/api/turn", json={"text": "make the petals brighter"})
    assert r.status_code == 200, r.text
    msg, st = r.json()["message"], r.json()["state"]
    assert msg["kind"] == "instruction" and msg["status"] == "ok" and "petals" in msg["understood"]
    assert msg["rounds"] and msg["verdict"] and "petals.brightness" in msg["recipe"]
    assert st["started"] and st["can_undo"] and st["recipe"][0]["region"] == "petals"
    before, after = pixels(client.get("/api/image/before").content), pixels(client.get("/api/image/after").content)
    service = app.state.service
    mask = next(x for x in service.regions(service.entry(client.cookies[COOKIE])) if x.name == "petals").mask
    inside = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).resize((640, 427))) > 200
    outside = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).resize((640, 427))) < 5
    diff = np.abs(after - before).sum(axis=2)
    assert diff[inside].mean() > 8 and after[inside].mean() > before[inside].mean()
    assert diff[outside].mean() < 1.5


def test_commands_undo_redo_compare_history_accept(client, opened):
    r = client.post("/api/turn", json={"text": "undo"}).json()
    assert r["message"]["kind"] == "undo" and not r["state"]["can_undo"] and r["state"]["can_redo"]
    before, after = client.get("/api/image/before").content, client.get("/api/image/after").content
    assert np.abs(pixels(after) - pixels(before)).max() <= 2
    r = client.post("/api/turn", json={"text": "redo"}).json()
    assert r["message"]["kind"] == "redo" and r["state"]["recipe"]
    r = client.post("/api/turn", json={"text": "compare"}).json()
    assert r["message"]["kind"] == "compare" and "/" not in r["message"]["answer"]  # no server path shown
    side = pixels(client.get("/api/image/turn").content)
    assert side.shape[1] > side.shape[0] * 2  # before | after
    r = client.post("/api/turn", json={"text": "history"}).json()
    assert "make the petals brighter" in r["message"]["answer"]
    r = client.post("/api/turn", json={"text": "looks good"}).json()
    assert r["message"]["kind"] == "accept" and r["message"]["status"] == "ok"


def test_sliders_preview_fast_cached_and_apply_is_undoable(client, opened):
    rows = client.get("/api/state").json()["recipe"]
    r1 = client.post("/api/sliders/preview", json={"rows": [{**rows[0], "by": 0.5}]})
    assert r1.status_code == 200 and r1.headers["content-type"] == "image/jpeg"
    assert float(r1.headers["x-render-ms"]) < 2000
    r2 = client.post("/api/sliders/preview", json={"rows": [{**rows[0], "by": -0.5}]})
    assert pixels(r1.content).mean() > pixels(r2.content).mean() + 3
    again = client.post("/api/sliders/preview", json={"rows": [{**rows[0], "by": 0.5}]})
    assert again.content == r1.content
    r = client.post("/api/sliders/apply", json={"rows": [{**rows[0], "by": 0.5}]}).json()
    assert r["state"]["recipe"][0]["by"] == 0.5
    assert client.get("/api/image/after").content == r1.content
    r = client.post("/api/turn", json={"text": "undo"}).json()
    assert r["state"]["recipe"][0]["by"] == rows[0]["by"]
    client.post("/api/turn", json={"text": "redo"})


def test_download_is_reproduced_by_pertouch_apply(client, opened, tmp_path):
    import json
    import zipfile

    from typer.testing import CliRunner

    from pertouch.cli import app as cli

    r = client.post("/api/download")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    side = json.loads((tmp_path / "result.png.pertouch.json").read_text())
    assert side["regions"]["petals"]["attributes"]["brightness"] == {"by": 0.5}
    photo = tmp_path / "flower.png"
    photo.write_bytes((client.app.state.service.ws.root / "demo" / "flower.png").read_bytes())
    out = CliRunner().invoke(cli, ["apply", str(photo), "--recipe", str(tmp_path / "result.png.pertouch.json"),
                                   "-o", str(tmp_path / "again.png")])
    assert out.exit_code == 0, out.output
    a, b = pixels((tmp_path / "result.png").read_bytes()), pixels((tmp_path / "again.png").read_bytes())
    assert a.shape == (427, 640, 3) and np.abs(a - b).max() <= 1
