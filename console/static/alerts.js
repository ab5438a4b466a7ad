// Supervisor page: draft a public warning with a live per-channel preview, approve others'.
"use strict";
const AL = { map: null, areaLayer: null, drawLayer: null, mode: null, polygon: [], circle: null, places: [], timer: null, seq: 0 };
const STATE_LABELS = { draft: "초안 Draft", published: "발령 Published", cancelled: "취소됨 Cancelled", withdrawn: "철회 Withdrawn", superseded: "갱신됨 Superseded" };

function selected(id) { return Array.from(document.getElementById(id).selectedOptions).map((o) => o.value); }
function val(id) { return document.getElementById(id).value.trim(); }

function draftBody() {
  const body = {
    template: val("template") || null,
    headline_ko: val("headline_ko"),
    gu: selected("gu"),
    dong: selected("dong"),
    exercise: document.getElementById("exercise").checked,
    expires_minutes: Number(val("expires") || 120),
  };
  for (const k of ["event", "headline_en", "instruction_ko", "instruction_en"]) if (val(k)) body[k] = val(k);
  if (AL.polygon.length >= 3) body.polygon = AL.polygon.map((p) => [p.lat, p.lng]);
  if (AL.circle) body.circle = { lat: AL.circle.lat, lon: AL.circle.lng, radius_km: Number(val("radius") || 1) };
  return body;
}

function errorText(data) {
  const d = data && (data.detail !== undefined ? data.detail : data);
  if (!d) return "";
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  return d.error || JSON.stringify(d);
}

function renderPreview(p) {
  const out = document.getElementById("preview");
  const mode = p.exercise ? "exercise" : "live";
  const rows = Object.entries(p.sms).map(([lang, s]) => GT.el("tr", {},
    GT.el("td", {}, lang === "ko" ? "한국어 ko" : "English en"), GT.el("td", {}, s.characters),
    GT.el("td", {}, s.encoding), GT.el("td", { class: "sms-parts" }, s.parts_korea),
    GT.el("td", {}, s.recipients), GT.el("td", {}, s.non_euc_kr.length ? s.non_euc_kr.join(" ") : "—")));
  const over = p.korean_characters > p.korean_budget;
  GT.fill(out,
    GT.el("div", { class: `previewbanner ${mode}` }, p.exercise ? "훈련 상황 EXERCISE — 실제 상황 아님 NOT REAL" : "실제 상황 LIVE — 승인되면 시민에게 발송 sent to the public once approved"),
    GT.el("p", {}, "등급 Class: ", GT.el("strong", { id: "preview-class" }, p.class),
      " · 한국어 글자 Korean characters: ", GT.el("span", { id: "preview-chars", class: over ? "over" : "" }, `${p.korean_characters} / ${p.korean_budget}`)),
    GT.el("h3", {}, "SMS"),
    GT.el("table", {}, GT.el("thead", {}, GT.el("tr", {}, ["언어 Lang", "글자 Chars", "인코딩 Encoding", "분할 Parts", "수신자 Recipients", "EUC-KR 불가 Not EUC-KR"].map((h) => GT.el("th", {}, h)))), GT.el("tbody", {}, rows)),
    GT.el("p", {}, `수신자 Recipients: `, GT.el("strong", { id: "preview-recipients" }, p.recipients), ` · SMS ${p.sms_messages} · ${p.sms_minutes_at_rate} 분 min @ ${p.sms_rate_per_s}/s`),
    GT.el("h3", {}, "소셜 Social (Mastodon, 500)"),
    GT.el("p", {}, Object.entries(p.social).map(([lang, n]) => `${lang}: ${n} 게시물 post(s)`).join(" · ")),
    GT.el("h3", {}, "재난문자 Cell broadcast"),
    GT.el("p", {}, `${p.cell_broadcast.class} · CBS ${p.cell_broadcast.cbs_message_id} · ${p.cell_broadcast.characters}/${p.cell_broadcast.budget} · 구 gu ${p.cell_broadcast.areas.join(", ")}`),
    p.area_names ? GT.el("p", { class: "muted small" }, p.area_names.join(" · ")) : null);
  if (AL.areaLayer) AL.areaLayer.remove();
  if (p.area) {
    AL.areaLayer = L.geoJSON(p.area, { style: { color: p.exercise ? "#ffd400" : "#ff3b30", weight: 2, fillOpacity: 0.15 }, interactive: false }).addTo(AL.map);
  }
}

async function refreshPreview() {
  const body = draftBody();
  const out = document.getElementById("preview");
  if (!body.headline_ko || (!body.gu.length && !body.dong.length && !body.polygon && !body.circle)) return;
  const seq = ++AL.seq;
  const r = await GT.post("/api/alerts/preview", body);
  if (seq !== AL.seq) return; // a newer edit is on its way
  if (r.ok) renderPreview(r.data);
  else GT.fill(out, GT.el("p", { class: "error", role: "alert" }, `${r.status}: ${errorText(r.data)}`));
}

function schedulePreview() { clearTimeout(AL.timer); AL.timer = setTimeout(refreshPreview, 250); }

function redrawShape() {
  AL.drawLayer.clearLayers();
  if (AL.polygon.length) L.polygon(AL.polygon, { color: "#6cb6ff", dashArray: "4 4" }).addTo(AL.drawLayer);
  if (AL.circle) L.circle(AL.circle, { radius: Number(val("radius") || 1) * 1000, color: "#6cb6ff", dashArray: "4 4" }).addTo(AL.drawLayer);
}

function setMode(mode) {
  AL.mode = mode;
  const hint = document.getElementById("drawhint");
  hint.textContent = mode === "polygon" ? "지도를 클릭해 꼭짓점 추가 (3개 이상) · Click the map to add corners (3+)"
    : mode === "circle" ? "지도를 클릭해 중심 선택 · Click the map for the centre" : "";
}

async function act(id, action, confirmDuplicate) {
  const status = document.getElementById("approvalstatus");
  const q = confirmDuplicate ? "?confirm_duplicate=true" : "";
  const r = await GT.post(`/api/alerts/${encodeURIComponent(id)}/${action}${q}`, {});
  if (r.ok) { status.textContent = `${action === "approve" ? "승인됨 Approved" : "취소됨 Cancelled"}: ${id}`; }
  else if (r.status === 409 && r.data.detail && r.data.detail.previous_ids && !confirmDuplicate) {
    if (window.confirm(`24시간 내 같은 지역 경보 있음 · Same-area alert in 24 h: ${r.data.detail.previous_ids.join(", ")}. 그래도 승인? Approve anyway?`)) return act(id, action, true);
    status.textContent = `보류 Held: ${errorText(r.data)}`;
  } else { status.textContent = `${r.status}: ${errorText(r.data)}`; }
  loadAlerts();
}

async function loadAlerts() {
  let rows;
  try { rows = await GT.get("/api/alerts"); } catch (e) { return; }
  const me = (GT.me.name || "").toLowerCase();
  const counts = await Promise.all(rows.map((a) => a.state === "published" ? GT.get(`/api/alerts/${encodeURIComponent(a.id)}/deliveries`).catch(() => ({})) : Promise.resolve(null)));
  GT.fill(document.getElementById("alertrows"), rows.map((a, i) => {
    const mine = a.created_by.toLowerCase() === me;
    const buttons = [];
    if (a.state === "draft") {
      buttons.push(GT.el("button", { type: "button", class: "small", disabled: mine, title: mine ? "본인 초안은 승인 불가 · You drafted it: another supervisor approves" : "", onclick: () => act(a.id, "approve") }, "승인 Approve"));
      buttons.push(GT.el("button", { type: "button", class: "small secondary", onclick: () => act(a.id, "cancel") }, "철회 Withdraw"));
    } else if (a.state === "published" && a.msg_type !== "Cancel") {
      buttons.push(GT.el("button", { type: "button", class: "small secondary", onclick: () => { if (window.confirm("취소 경보를 발송합니까? · Send the cancellation?")) act(a.id, "cancel"); } }, "취소 발령 Cancel"));
    }
    const c = counts[i];
    const delivery = c ? `SMS ${c.sent || 0} · ${c["receipt:delivered"] || 0} 수신 delivered${c.failed ? ` · ${c.failed} 실패 failed` : ""}` : "";
    return GT.el("tr", { "data-id": a.id, class: a.exercise ? "exercise" : "live" },
      GT.el("td", {}, GT.el("span", { class: `badge ${a.exercise ? "exercise" : "live"}` }, a.exercise ? "훈련 EXERCISE" : "실제 LIVE")),
      GT.el("td", { class: "state" }, `${STATE_LABELS[a.state] || a.state} · ${a.msg_type}`),
      GT.el("td", {}, a.text_ko, GT.el("br"), GT.el("span", { class: "muted" }, a.text_en || "")),
      GT.el("td", {}, a.created_by), GT.el("td", {}, a.approved_by || "—"),
      GT.el("td", { class: "delivery" }, delivery), GT.el("td", {}, buttons));
  }));
}

async function submitDraft(event) {
  event.preventDefault();
  const status = document.getElementById("draftstatus");
  const r = await GT.post("/api/alerts", draftBody());
  if (r.ok) { status.textContent = `초안 저장 Draft saved: ${r.data.id} — 다른 감독관의 승인 필요 · another supervisor must approve`; renderPreview(r.data.preview); loadAlerts(); }
  else status.textContent = `${r.status}: ${errorText(r.data)}`;
}

async function main() {
  await GT.init();
  AL.map = GT.baseMap("alertmap", { networkGaps: false });
  AL.drawLayer = L.layerGroup().addTo(AL.map);
  AL.map.on("click", (e) => {
    if (AL.mode === "polygon") { AL.polygon.push(e.latlng); }
    else if (AL.mode === "circle") { AL.circle = e.latlng; setMode(null); }
    else return;
    redrawShape(); schedulePreview();
  });
  document.getElementById("draw-polygon").addEventListener("click", () => { AL.polygon = []; setMode("polygon"); redrawShape(); });
  document.getElementById("draw-circle").addEventListener("click", () => setMode("circle"));
  document.getElementById("draw-clear").addEventListener("click", () => { AL.polygon = []; AL.circle = null; setMode(null); redrawShape(); schedulePreview(); });
  const templates = await GT.get("/api/alerts/templates");
  GT.fill(document.getElementById("template"), templates.map((t) => GT.el("option", { value: t.key }, `${t.event_ko} · ${t.event_en}${t.evacuation ? " (90자 90 chars)" : ""}`)));
  AL.places = await GT.get("/api/alerts/areas");
  const gus = AL.places.filter((p) => p.kind === "gu");
  GT.fill(document.getElementById("gu"), gus.map((p) => GT.el("option", { value: p.name_ko }, `${p.name_ko} ${p.name_en}`)));
  const fillDongs = () => {
    const chosen = new Set(selected("gu"));
    const keep = new Set(selected("dong"));
    const dongs = AL.places.filter((p) => p.kind === "dong" && (chosen.size === 0 || chosen.has(p.gu_ko)));
    GT.fill(document.getElementById("dong"), dongs.map((p) => GT.el("option", { value: `${p.gu_ko} ${p.name_ko}`, selected: keep.has(`${p.gu_ko} ${p.name_ko}`) }, `${p.gu_ko} ${p.name_ko} ${p.name_en}`)));
  };
  fillDongs();
  document.getElementById("gu").addEventListener("change", fillDongs);
  const form = document.getElementById("alertform");
  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", () => { redrawShape(); schedulePreview(); });
  form.addEventListener("submit", submitDraft);
  loadAlerts();
  setInterval(loadAlerts, 3000);
}
main();
