// Surges and mass-casualty incidents (MCI) on the board: the surge banner over the queue (so
// call-takers answer the next caller of the same event with "help is on the way"), and the
// MCI section of the incident panel: casualty estimate, the response level proposed (with its
// reason) and confirmed by a supervisor, the staging point, START triage counts from the
// scene, and the patients' distribution over emergency rooms with each ER's load.
"use strict";
const RESPONSE_LEVELS = {
  1: "대응 1단계 · Level 1: 관할 센터 the station area's units",
  2: "대응 2단계 · Level 2: 인접 센터 neighbouring stations",
  3: "대응 3단계 · Level 3: 전 시 · 응원 the whole city and mutual aid",
};
const TRIAGE_CATEGORIES = [
  ["red", "긴급 Red", "immediate"],
  ["yellow", "응급 Yellow", "delayed"],
  ["green", "비응급 Green", "minor"],
  ["black", "사망 Black", "dead / expectant"],
];
const COMMAND_RESULT_WAIT_MS = 15000;
const SURGE_HINT_MARGIN_M = 150;

const GTMci = {
  surges: [],
  open: null, // select(incident_id) of the board
  onChange: null, // the surges changed: the board re-renders its queue
  reload: null, // a command of ours was applied: the board reloads the incident
  map: null,
  surgeLayer: null,
  stagingLayer: null,
  incidentId: null,
  // Controls of the open incident, kept across the panel's re-renders (the panel is rebuilt on
  // every change of the incident: new calls keep coming during an MCI): typed counts and a
  // chosen level stay, and so does the keyboard focus (restoreFocus, after the panel is filled).
  form: null, // { inputs, node }: the START triage counts
  edited: false, // triage counts typed but not yet sent
  level: null, // { select, touched }: the level a supervisor is about to confirm
  focused: null,
  status: "",
  intakeAt: null, // where the call form's location is

  init({ map, open, onChange, reload }) {
    this.map = map;
    this.open = open;
    this.onChange = onChange;
    this.reload = reload;
    this.surgeLayer = L.layerGroup().addTo(map);
    this.stagingLayer = L.layerGroup().addTo(map);
    map.on("click", (e) => {
      const pick = GT.mapPick;
      if (!pick) return;
      setTimeout(() => { if (GT.mapPick === pick) GT.mapPick = null; }, 0); // after every click handler
      document.getElementById("map")?.classList.remove("picking");
      pick(e.latlng.lat, e.latlng.lng);
    });
  },

  // --- the surge banner --------------------------------------------------------------------
  setSurges(surges) {
    this.surges = Array.isArray(surges) ? surges : [];
    this.renderBanner();
    this.drawSurges();
    this.hintIntake();
    if (this.onChange) this.onChange(); // the queue's MCI badges
  },

  async loadSurges() {
    try { this.setSurges((await GT.get("/api/surges")).surges); } catch (e) { console.warn("surges", e); }
  },

  isSurgeIncident(id) { return this.surges.some((s) => s.incident_id === id); },

  // The queue's badge of an MCI: its level (confirmed, else proposed with "?"), and whether
  // its surge of calls is still under way.
  badge(inc) {
    const m = inc.mci_level;
    const surge = this.isSurgeIncident(inc.id);
    if (!m && !surge) return null;
    const text = !m ? " MCI" : m.confirmed ? ` MCI ${m.confirmed}단계` : ` MCI ${m.proposed}단계?`;
    const title = [
      "다수사상자 Mass-casualty incident",
      m && (m.confirmed ? `대응 ${m.confirmed}단계 확정 confirmed` : `대응 ${m.proposed}단계 제안 proposed, 미확정 not confirmed`),
      surge && "대량 신고 진행 중 surge under way",
    ].filter(Boolean).join(" · ");
    return GT.el("span", { class: `badge mci${m && m.confirmed ? " confirmed" : ""}${surge ? " surging" : ""}`, title }, text);
  },
  badgeKey(inc) { return JSON.stringify([inc.mci_level || null, this.isSurgeIncident(inc.id)]); },

  // The surge a call placed at `where` ({lat, lon, radius}) belongs to: its circle and the
  // caller's circle overlap, with a margin for the spread of a crowd.
  surgeAt(where) {
    if (!where) return null;
    const at = L.latLng(where.lat, where.lon);
    return this.surges.find((s) => at.distanceTo([s.lat, s.lon]) <= s.radius_m + where.radius + SURGE_HINT_MARGIN_M) || null;
  },

  // In the call form: a call from a surge's area is most likely the same event.
  hintIntake(where) {
    if (where !== undefined) this.intakeAt = where;
    const box = document.getElementById("surge-hint");
    if (!box) return;
    const s = this.surgeAt(this.intakeAt);
    box.hidden = !s;
    GT.fill(box, s ? [
      GT.el("b", {}, `⚠ 대량 신고 지역 Surge area: ${s.banner}`),
      GT.el("div", {}, "신고자에게: “구조대가 가고 있습니다” · Tell the caller: “help is on the way”"),
      GT.el("div", { class: "muted small" }, "접수하면 같은 사건에 연결됩니다 · taken, it joins the same incident "),
      GT.el("button", { type: "button", class: "small secondary", onclick: () => this.open && this.open(s.incident_id) }, `${s.incident_id} 열기 open`),
    ] : []);
  },

  renderBanner() {
    const box = document.getElementById("surges");
    if (!box) return;
    GT.fill(box, this.surges.map((s) => GT.el("div", { class: "surge-banner", "data-incident": s.incident_id },
      GT.el("div", { class: "surge-head" }, "⚠ 대량 신고 Surge · ", GT.el("b", { class: "surge-text" }, s.banner)),
      GT.el("div", { class: "surge-script" },
        "다음 신고자에게: “구조대가 가고 있습니다” · Tell the next caller: “help is on the way” — 새 신고 대신 같은 사건 · not a new report"),
      GT.el("div", { class: "muted small" }, `반경 radius ${Math.round(s.radius_m)} m · ${Math.round(s.window_s / 60)}분 min · ${s.place || ""}`),
      GT.el("button", { type: "button", class: "small surge-open", onclick: () => this.open && this.open(s.incident_id) }, "사건 열기 Open incident"))));
    box.hidden = this.surges.length === 0;
  },

  drawSurges() {
    if (!this.surgeLayer) return;
    this.surgeLayer.clearLayers();
    for (const s of this.surges) {
      L.circle([s.lat, s.lon], { radius: Math.max(s.radius_m, 50), color: "#ff3b30", weight: 2, dashArray: "6 4", fillOpacity: 0.08, className: "surge-area" })
        .bindTooltip(GT.tip(`⚠ ${s.banner}`)).addTo(this.surgeLayer);
    }
  },

  // --- the MCI section of the incident panel --------------------------------------------------
  follow(incidentId) {
    if (incidentId === this.incidentId) return;
    this.incidentId = incidentId;
    this.form = null;
    this.edited = false;
    this.level = null;
    this.status = "";
    if (this.stagingLayer) this.stagingLayer.clearLayers();
  },

  // The panel's MCI block, or null when the incident is not an MCI.
  section(d) {
    this.follow(d.id);
    const active = document.activeElement;
    this.focused = active && (active === this.level?.select || Object.values(this.form?.inputs || {}).includes(active)) ? active : null;
    const m = d.mci;
    this.drawStaging(m);
    if (!m) return null;
    const supervisor = !!(GT.me && GT.me.roles.includes("supervisor"));
    const estimate = { estimate: m.casualty_estimate, reason: m.casualty_reason };
    const at = (t) => (t ? new Date(t).toLocaleTimeString("ko-KR") : "");
    const block = GT.el("div", { class: "block mci", id: "mci" },
      GT.el("h3", {}, "다수사상자 Mass-casualty incident (MCI)"),
      GT.el("p", { id: "mci-estimate" }, `신고 Calls ${m.calls} · 추정 사상자 Casualty estimate `, GT.el("b", {}, String(estimate.estimate ?? "—")),
        estimate.reason ? GT.el("div", { class: "muted small" }, estimate.reason) : null),
      GT.el("p", { id: "mci-proposed" }, "제안 Proposed: ",
        m.proposed_level ? GT.el("b", { class: "level" }, RESPONSE_LEVELS[m.proposed_level] || `${m.proposed_level}`) : "—",
        m.proposed_at ? GT.el("span", { class: "muted small" }, ` (${at(m.proposed_at)})`) : null,
        m.proposed_reason ? GT.el("div", { class: "muted small", id: "mci-proposed-reason" }, m.proposed_reason) : null),
      GT.el("p", { id: "mci-confirmed", class: m.confirmed_level ? "gt-ok" : "gt-warn" }, "확정 Confirmed: ",
        m.confirmed_level
          ? GT.el("b", { class: "level" }, RESPONSE_LEVELS[m.confirmed_level] || `${m.confirmed_level}`)
          : "미확정 not confirmed",
        m.confirmed_level ? GT.el("span", { class: "muted small" }, ` · ${m.confirmed_by || ""} ${at(m.confirmed_at)}`) : null),
      supervisor ? this.levelControl(d, m) : GT.el("p", { class: "muted small", id: "mci-confirm-note" },
        "대응단계 확정은 상황팀장만 · Only a supervisor confirms the response level"),
      this.stagingControl(d, m),
      this.triageControl(d, m),
      this.distribution(d, m),
      GT.el("output", { id: "mci-status", role: "status" }, this.status));
    if (!["open", "dispatched", "on_scene"].includes(d.status)) { // closed or merged: a record only
      for (const control of block.querySelectorAll("button, input, select")) control.disabled = true;
    }
    return block;
  },

  levelControl(d, m) {
    if (!this.level) {
      const select = GT.el("select", { id: "mci-level", "aria-label": "대응단계 Response level", onchange: () => { this.level.touched = true; } },
        [1, 2, 3].map((n) => GT.el("option", { value: String(n) }, RESPONSE_LEVELS[n])));
      const button = GT.el("button", { type: "button", id: "mci-confirm", onclick: () => {
        this.level.touched = false;
        this.command(d.id, "level", { level: Number(select.value) }, "대응단계 확정 Confirm level");
      } }, "대응단계 확정 Confirm level");
      this.level = { select, touched: false, node: GT.el("div", { class: "actions" }, select, button) };
    }
    if (!this.level.touched) this.level.select.value = String(m.confirmed_level || m.proposed_level || 1);
    return this.level.node;
  },

  // The panel was filled again: give the focus back to the control that had it.
  restoreFocus() {
    if (this.focused && this.focused.isConnected && document.activeElement !== this.focused) this.focused.focus();
    this.focused = null;
  },

  stagingControl(d, m) {
    const s = m.staging;
    return GT.el("div", {},
      GT.el("p", { id: "mci-staging" }, "집결지 Staging point: ", s ? `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}` : "미지정 not set"),
      GT.el("div", { class: "actions" },
        GT.el("button", { type: "button", class: "small secondary", id: "mci-staging-here",
          onclick: () => this.command(d.id, "staging", { lat: d.lat, lon: d.lon }, "집결지 Staging") }, "사건 위치로 At the incident"),
        GT.el("button", { type: "button", class: "small secondary", id: "mci-staging-pick", onclick: () => {
          GT.mapPick = (lat, lon) => this.command(d.id, "staging", { lat, lon }, "집결지 Staging");
          document.getElementById("map")?.classList.add("picking");
          this.setStatus("지도를 클릭해 집결지를 정하세요 · Click the map for the staging point");
        } }, "지도에서 지정 Pick on map")));
  },

  triageControl(d, m) {
    if (!this.form) {
      const inputs = {};
      for (const [key, label, help] of TRIAGE_CATEGORIES) {
        inputs[key] = GT.el("input", { type: "number", min: "0", max: "10000", step: "1", name: `triage-${key}`, id: `triage-${key}`,
          "aria-label": `${label} ${help}`, oninput: () => { this.edited = true; } });
      }
      const send = GT.el("button", { type: "button", id: "mci-triage-send", onclick: () => {
        const counts = Object.fromEntries(Object.entries(inputs).map(([k, input]) => [k, Math.max(0, Math.floor(Number(input.value) || 0))]));
        this.edited = false;
        this.command(d.id, "triage", counts, "분류 보고 Triage counts");
      } }, "분류 보고 Report triage");
      const node = GT.el("div", { class: "triage" },
        GT.el("div", { class: "triage-grid" }, TRIAGE_CATEGORIES.map(([key, label, help]) =>
          GT.el("label", { class: `triage-${key}`, title: help }, label, inputs[key]))),
        GT.el("div", { class: "actions" }, send));
      this.form = { inputs, node };
    }
    if (!this.edited) {
      for (const [key] of TRIAGE_CATEGORIES) {
        const input = this.form.inputs[key];
        if (document.activeElement !== input) input.value = String(m.triage?.[key] ?? 0);
      }
    }
    return GT.el("div", {}, GT.el("h4", {}, "START 분류 Triage (현장 from the scene)"), this.form.node);
  },

  distribution(d, m) {
    const t = m.triage || {};
    const patients = m.patients || [];
    // Patients triaged but not placed yet (black ones are not transported), as the worker counts.
    const placed = (k) => patients.filter((p) => p.triage === k).length;
    const waiting = ["red", "yellow", "green"].reduce((n, k) => n + Math.max(0, (t[k] || 0) - placed(k)), 0);
    const total = patients.length || (m.er_load || []).reduce((n, e) => n + e.patients, 0);
    const load = (m.er_load || []).filter((e) => e.patients > 0).sort((a, b) => b.patients - a.patients);
    const loadRows = load.map((e) => GT.el("tr", { "data-er": e.er_id, class: e.patients > e.capacity ? "over" : "" },
      GT.el("td", {}, e.er_name),
      GT.el("td", { class: "num patients" }, String(e.patients)),
      GT.el("td", { class: "num capacity" }, String(e.capacity)),
      GT.el("td", { class: "num share" }, total ? `${Math.round((100 * e.patients) / total)}%` : "—"),
      GT.el("td", {}, GT.el("span", { class: "loadbar" }, GT.el("span", { style: { width: `${Math.min(100, (100 * e.patients) / Math.max(1, e.capacity))}%` } })))));
    const assignmentRows = patients.map((p) => GT.el("tr", {},
      GT.el("td", { class: "num" }, String(p.patient)),
      GT.el("td", {}, GT.el("span", { class: `tri tri-${p.triage}` }, p.triage)),
      GT.el("td", {}, p.er_name),
      GT.el("td", { class: "num" }, p.eta_s != null ? GT.mmss(p.eta_s) : "—"),
      GT.el("td", { class: "muted small" }, p.reason)));
    return GT.el("div", {},
      GT.el("h4", {}, "환자 분산 Patient distribution"),
      GT.el("div", { class: "actions" },
        GT.el("button", { type: "button", id: "mci-distribute", disabled: waiting === 0,
          title: waiting ? "" : patients.length ? "모두 배정됨 · every triaged patient is placed" : "분류 인원 없음 · report triage counts first",
          onclick: () => this.command(d.id, "distribute", {}, "환자 분산 Distribute patients") }, `환자 분산 Distribute patients (${waiting})`)),
      load.length ? GT.el("table", { id: "er-load", class: "mci-table" },
        GT.el("thead", {}, GT.el("tr", {}, GT.el("th", {}, "응급실 ER"), GT.el("th", {}, "환자 Patients"), GT.el("th", {}, "수용 Capacity"), GT.el("th", {}, "비율 Share"), GT.el("th", {}, "부하 Load"))),
        GT.el("tbody", {}, loadRows)) : GT.el("p", { class: "muted" }, "배정 없음 · no patients assigned yet"),
      patients.length ? GT.el("details", { id: "mci-assignments" },
        GT.el("summary", {}, `배정 Assignments (${patients.length})`),
        GT.el("table", { class: "mci-table" },
          GT.el("thead", {}, GT.el("tr", {}, GT.el("th", {}, "#"), GT.el("th", {}, "분류 Triage"), GT.el("th", {}, "응급실 ER"), GT.el("th", {}, "ETA"), GT.el("th", {}, "사유 Reason"))),
          GT.el("tbody", {}, assignmentRows))) : null);
  },

  drawStaging(m) {
    if (!this.stagingLayer) return;
    this.stagingLayer.clearLayers();
    const s = m && m.staging;
    if (!s) return;
    L.circleMarker([s.lat, s.lon], { radius: 9, color: "#fff", weight: 2, fillColor: "#1f8a4c", fillOpacity: 0.95, className: "staging-point" })
      .bindTooltip(GT.tip("집결지 Staging point")).addTo(this.stagingLayer);
  },

  setStatus(text) {
    this.status = text;
    const out = document.getElementById("mci-status");
    if (out) out.textContent = text;
  },

  // Send a command; then follow it until the dispatch worker applied (or refused) it.
  async command(incidentId, what, body, label) {
    this.setStatus(`${label}…`);
    const res = await GT.post(`/api/incidents/${encodeURIComponent(incidentId)}/mci/${what}`, body);
    if (res.status !== 202) {
      const detail = typeof res.data.detail === "string" ? res.data.detail : JSON.stringify(res.data.detail);
      this.setStatus(`${label}: 오류 error ${res.status} ${detail}`);
      return res;
    }
    const id = res.data.command_id;
    this.setStatus(`${label}: 접수됨 accepted (${id})`);
    const until = Date.now() + COMMAND_RESULT_WAIT_MS;
    while (Date.now() < until && this.incidentId === incidentId) {
      const r = await fetch(`/api/commands/${encodeURIComponent(id)}`, { credentials: "same-origin" });
      if (r.ok) {
        const result = await r.json();
        this.setStatus(result.ok ? `${label}: 적용됨 applied` : `${label}: 거부됨 refused — ${result.reason}`);
        if (this.reload && this.incidentId === incidentId) this.reload();
        return res;
      }
      await new Promise((done) => setTimeout(done, 300));
    }
    return res;
  },
};
