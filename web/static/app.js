// PerTouch web app: a thin page over /api (see pertouch/web/app.py).
"use strict";
const $ = (id) => document.getElementById(id);
let cfg = null, st = null, rows = [], busy = 0, previewTimer = null, previewSeq = 0;

function setBusy(on, text) {
  if (on && busy <= 0) $("progress-steps").innerHTML = "";  // a new piece of work: no steps yet
  busy += on ? 1 : -1;
  $("progress").hidden = busy <= 0;
  if (text) $("progress-text").textContent = text;
  document.body.dataset.busy = busy > 0 ? "1" : "0";
}

async function call(method, url, body, raw) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    if (raw) { opts.body = body; opts.headers["Content-Type"] = "application/octet-stream"; }
    else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  }
  let resp;
  try { resp = await fetch(url, opts); } catch (e) { throw { error: "the server cannot be reached", hint: "is pertouch serve still running?" }; }
  if (!resp.ok) {
    let err = { error: `the server answered ${resp.status}`, hint: "" };
    try { err = await resp.json(); } catch (e) {}
    throw err;
  }
  return resp;
}

function addMessage(m) {
  const div = document.createElement("div");
  div.className = "msg" + (m.error || m.status === "failed" ? " error" : "");
  if (m.text) { const y = document.createElement("div"); y.className = "you"; y.textContent = "you: " + m.text; div.appendChild(y); }
  const a = document.createElement("div"); a.className = "answer";
  a.textContent = m.error ? `error: ${m.error}${m.hint ? " — " + m.hint : ""}` : m.answer;
  div.appendChild(a);
  const lines = [];
  if (m.understood) lines.push("understood: " + m.understood);
  if (m.recipe) lines.push("recipe: " + m.recipe);
  if (m.rounds) for (const r of m.rounds) lines.push(`round ${r.round}: ${r.satisfied ? "satisfied" : "not satisfied"} — ${r.verdict}`);
  if (m.stop_reason) lines.push("stopped: " + m.stop_reason);
  if (m.verdict) lines.push("verdict: " + m.verdict);
  if (m.steps) lines.push(`steps: ${m.steps} (${m.seconds} s)`);
  if (m.remembered) lines.push("remembered for " + (st && st.user ? st.user : "you"));
  if (lines.length) { const d = document.createElement("div"); d.className = "detail"; d.textContent = lines.join("\n"); div.appendChild(d); }
  $("messages").appendChild(div);
  $("messages").scrollTop = $("messages").scrollHeight;
}

function showError(e) { addMessage({ error: e.error || String(e), hint: e.hint || "" }); }

function loadImage(img, url) {
  return new Promise((res) => { img.onload = () => res(); img.onerror = () => res(); img.src = url; });
}

async function refreshImages() {
  const v = Date.now();
  await Promise.all([
    loadImage($("img-before"), `/api/image/before?v=${st.session}`),
    loadImage($("img-after"), `/api/image/after?v=${v}`),
    $("overlay-toggle").checked ? loadImage($("img-overlay"), `/api/image/overlay?v=${v}`) : Promise.resolve(),
  ]);
  document.body.dataset.version = String(v);
}

function render(state) {
  st = state;
  $("empty").hidden = true;
  $("session-info").textContent = `session ${st.session}${st.user ? " · " + st.user : ""} · resume in a terminal: ${st.resume}`;
  if (st.user && !$("user").value) $("user").value = st.user;
  $("legend").innerHTML = "";
  for (const r of st.regions) {
    const s = document.createElement("span");
    s.innerHTML = `<i style="background:rgb(${r.colour.join(",")})"></i>`;
    s.appendChild(document.createTextNode(`${r.name} (${Math.round(r.area * 100)}%)`));
    $("legend").appendChild(s);
  }
  $("add-region").innerHTML = "";
  for (const name of ["global", ...st.regions.map((r) => r.name)]) $("add-region").add(new Option(name, name));
  rows = st.recipe.map((r) => ({ ...r }));
  drawSliders();
  $("btn-undo").disabled = !st.can_undo; $("btn-redo").disabled = !st.can_redo;
  for (const k of ["vlm", "segmenter", "engine"]) {  // the open session's models
    const sel = $("set-" + k), v = st.settings[k];
    if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(v, v));
    sel.value = v;
  }
  $("models-now").textContent = `: ${st.settings.vlm} · ${st.settings.segmenter} · ${st.settings.engine}`;
  return refreshImages();
}

function attr(name) { return cfg.attributes.find((a) => a.name === name); }

function drawSliders() {
  const body = $("sliders").tBodies[0];
  body.innerHTML = "";
  rows.forEach((r, i) => {
    const a = attr(r.attribute) || { min: -1, max: 1, label: r.attribute };
    const tr = body.insertRow();
    tr.dataset.region = r.region; tr.dataset.attribute = r.attribute;
    tr.insertCell().textContent = r.region;
    tr.insertCell().textContent = a.label;
    tr.insertCell().textContent = r.level === null || r.level === undefined ? "" : (+r.level).toFixed(2);
    const c = tr.insertCell();
    const s = document.createElement("input");
    Object.assign(s, { type: "range", min: a.min, max: a.max, step: 0.01, value: r.by });
    s.setAttribute("aria-label", `${r.region} ${r.attribute}`);
    const out = document.createElement("output"); out.textContent = (+r.by).toFixed(2);
    s.addEventListener("input", () => { r.by = +s.value; out.textContent = r.by.toFixed(2); schedulePreview(); });
    c.appendChild(s); c.appendChild(out);
    const x = document.createElement("button"); x.textContent = "×"; x.title = "remove";
    x.addEventListener("click", () => { rows.splice(i, 1); drawSliders(); schedulePreview(); });
    tr.insertCell().appendChild(x);
  });
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(sliderPreview, 60);
}

async function sliderPreview() {
  const seq = ++previewSeq;
  try {
    const resp = await call("POST", "/api/sliders/preview", { rows });
    const ms = resp.headers.get("X-Render-Ms");
    const blob = await resp.blob();
    if (seq !== previewSeq) return;
    await loadImage($("img-after"), URL.createObjectURL(blob));
    $("render-ms").textContent = `preview ${ms} ms on the server`;
    document.body.dataset.preview = String(seq);
  } catch (e) { showError(e); }
}

// a turn as Server-Sent Events over a POST: each graph step as it finishes, then the answer
async function streamTurn(text) {
  const resp = await call("POST", "/api/turn/stream", { text });
  const reader = resp.body.getReader(), dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const frame = buf.slice(0, i); buf = buf.slice(i + 2);
      let ev = "message", data = "";
      for (const line of frame.split("\n")) {
        if (line.startsWith("event: ")) ev = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (!data) continue;
      const d = JSON.parse(data);
      if (ev === "step") showStep(d);
      else if (ev === "done") return d;
      else if (ev === "error") throw d;
    }
  }
  throw { error: "the connection closed before the turn finished", hint: "reload the page to see where the session is" };
}

function showStep(s) {
  const li = document.createElement("li");
  li.dataset.node = s.node;
  li.textContent = s.label;
  const t = document.createElement("small"); t.textContent = ` ${(s.ms / 1000).toFixed(1)} s`; li.appendChild(t);
  $("progress-steps").appendChild(li);
  $("progress-text").textContent = s.next + "…";
}

async function withState(promise, label) {
  setBusy(true, label);
  try {
    const got = await promise;
    const data = got instanceof Response ? await got.json() : got;
    if (data.message) addMessage(data.message);
    await render(data.state || data);
  } catch (e) { showError(e); }
  finally { setBusy(false); }
}

function settings() {
  return { vlm: $("set-vlm").value, segmenter: $("set-segmenter").value, engine: $("set-engine").value };
}

function say(text) {
  if (!st) { showError({ error: "open a photo first" }); return Promise.resolve(); }
  const pending = document.createElement("div");  // the line, shown at once; the answer replaces it
  pending.className = "pending"; pending.textContent = "you: " + text;
  $("messages").appendChild(pending); $("messages").scrollTop = $("messages").scrollHeight;
  // "compare" shows the page's own side by side (the turn's composite picture would be doubled there)
  return withState(streamTurn(text), `working on “${text}”…`).finally(() => pending.remove());
}

function photoXY(ev) {
  const r = $("img-before").getBoundingClientRect();
  const fx = Math.min(Math.max((ev.clientX - r.left) / r.width, 0), 1);
  const fy = Math.min(Math.max((ev.clientY - r.top) / r.height, 0), 1);
  return { x: Math.min(st.photo.width - 1, Math.round(fx * st.photo.width)),
           y: Math.min(st.photo.height - 1, Math.round(fy * st.photo.height)),
           px: ev.clientX - $("stage").getBoundingClientRect().left, py: ev.clientY - $("stage").getBoundingClientRect().top };
}

function setupPointing() {
  let start = null;
  const box = $("drag-box");
  $("stage").addEventListener("mousedown", (ev) => {
    if (!$("point-mode").checked || !st) return;
    ev.preventDefault(); start = photoXY(ev);
  });
  window.addEventListener("mousemove", (ev) => {
    if (!start) return;
    const p = photoXY(ev);
    Object.assign(box.style, { left: Math.min(start.px, p.px) + "px", top: Math.min(start.py, p.py) + "px",
      width: Math.abs(p.px - start.px) + "px", height: Math.abs(p.py - start.py) + "px" });
    box.hidden = false;
  });
  window.addEventListener("mouseup", (ev) => {
    if (!start) return;
    const p = photoXY(ev), s = start; start = null; box.hidden = true;
    const name = $("point-name").value.trim().toLowerCase().replace(/\s+/g, "_") || "selection";
    const body = Math.abs(p.px - s.px) + Math.abs(p.py - s.py) < 6
      ? { name, point: [s.x, s.y] }
      : { name, box: [Math.min(s.x, p.x), Math.min(s.y, p.y), Math.max(s.x, p.x) + 1, Math.max(s.y, p.y) + 1] };
    if (!$("overlay-toggle").checked) $("overlay-toggle").checked = true, $("img-overlay").hidden = false;
    withState(call("POST", "/api/point", body), `finding “${name}”…`);
  });
}

function setView() {
  const side = $("view-mode").value === "side";
  $("stage").className = (side ? "side" : "wipe") + ($("point-mode").checked ? " point" : "");
  $("pane-after").style.clipPath = side ? "none" : `inset(0 0 0 ${$("wipe").value}%)`;
}

async function init() {
  try { cfg = await (await call("GET", "/api/config")).json(); } catch (e) { showError(e); return; }
  for (const d of cfg.demos) $("demo").add(new Option(d, d));
  for (const a of cfg.attributes) $("add-attribute").add(new Option(a.label, a.name));
  for (const k of ["vlm", "segmenter", "engine"]) for (const v of cfg.choices[k]) $("set-" + k).add(new Option(v, v));
  $("open-demo").addEventListener("click", () => withState(call("POST", "/api/open/demo",
    { name: $("demo").value, user: $("user").value.trim(), settings: settings() }), "opening the photo…"));
  $("upload").addEventListener("change", () => {
    const f = $("upload").files[0]; if (!f) return;
    if (f.size > cfg.max_upload_mb * 1048576) { showError({ error: `the file is larger than ${cfg.max_upload_mb} MB` }); return; }
    const q = new URLSearchParams({ user: $("user").value.trim(), ...settings() });
    withState(call("POST", "/api/open/upload?" + q, f, true), "uploading and looking at the photo…");
  });
  $("resume").addEventListener("click", () => withState(call("POST", "/api/open/session",
    { session: $("resume-id").value.trim(), settings: settings() }), "resuming…"));
  for (const k of ["vlm", "segmenter", "engine"]) $("set-" + k).addEventListener("change", () => {
    if (st) withState(call("POST", "/api/settings", settings()), "changing the models…");  // else: for the next photo
  });
  $("chat").addEventListener("submit", (ev) => { ev.preventDefault(); const t = $("chat-input").value.trim(); if (t) { $("chat-input").value = ""; say(t); } });
  for (const b of document.querySelectorAll("#commands [data-say]")) b.addEventListener("click", () => {
    if (b.dataset.say === "compare") $("view-mode").value = "side", setView();
    say(b.dataset.say);
  });
  $("btn-download").addEventListener("click", async () => {
    setBusy(true, "rendering at full resolution…");
    try {
      const blob = await (await call("POST", "/api/download")).blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob); a.download = `pertouch-${st.session}.zip`;
      document.body.appendChild(a); a.click(); a.remove();
    } catch (e) { showError(e); } finally { setBusy(false); }
  });
  $("overlay-toggle").addEventListener("change", async () => {
    $("img-overlay").hidden = !$("overlay-toggle").checked;
    if ($("overlay-toggle").checked && st) await loadImage($("img-overlay"), `/api/image/overlay?v=${Date.now()}`);
  });
  $("view-mode").addEventListener("change", setView);
  $("wipe").addEventListener("input", setView);
  $("point-mode").addEventListener("change", setView);
  $("add-slider").addEventListener("click", () => {
    const region = $("add-region").value, attribute = $("add-attribute").value;
    if (!region || rows.some((r) => r.region === region && r.attribute === attribute)) return;
    const reg = st.regions.find((r) => r.name === region);
    rows.push({ region, attribute, by: 0, level: reg ? reg.levels[attribute] : null });
    drawSliders();
  });
  $("apply-sliders").addEventListener("click", () => withState(call("POST", "/api/sliders/apply", { rows }), "applying the sliders…"));
  setupPointing(); setView();
  try { await render(await (await fetch("/api/state")).json().then((d) => { if (d.error) throw d; return d; })); } catch (e) { /* no photo yet */ }
  document.body.dataset.ready = "1";
}
init();
