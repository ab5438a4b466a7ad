// Shared by the board and the crew view: who am I, CSRF-aware POST, labels, live stream.
"use strict";
const GOLDEN_TIME_S = 7 * 60;
const TYPE_LABELS = {
  fire: "화재 Fire", building_fire: "건물화재 Building fire", vehicle_fire: "차량화재 Vehicle fire",
  cardiac_arrest: "심정지 Cardiac arrest", ems: "구급 EMS", traffic_collision: "교통사고 Collision",
  rescue: "구조 Rescue", hazmat: "위험물 Hazmat", flood: "침수 Flood",
  structure_alarm: "시설물 경보 Structure alarm", other: "기타 Other",
};
const STATUS_LABELS = {
  open: "접수 Open", dispatched: "출동 Dispatched", on_scene: "현장 On scene", closed: "종결 Closed",
  merged: "병합 Merged", available: "대기 Available", en_route: "이동 En route",
  transporting: "이송 Transporting", at_hospital: "병원 At hospital", returning: "귀소 Returning",
  out_of_service: "불가 Out of service",
};
const UNIT_COLOURS = {
  available: "#3ccf7a", dispatched: "#ffb020", en_route: "#ff8c1a", on_scene: "#ff5a4f",
  transporting: "#c77dff", at_hospital: "#c77dff", returning: "#4aa3ff", out_of_service: "#8a96a3",
};
const LOCATION_SOURCES = { aml: "AML 휴대전화 GPS", network: "기지국 Network cell", caller: "신고자 진술 Caller", call_taker: "접수자 Call-taker" };
const INCIDENT_COLOURS = { open: "#ff3b30", dispatched: "#ffb020", on_scene: "#ff8c1a", closed: "#8a96a3", merged: "#8a96a3" };

const GT = {
  me: null,
  async init() {
    const res = await fetch("/api/me", { credentials: "same-origin" });
    if (res.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("not signed in");
    }
    GT.me = await res.json();
    const who = document.getElementById("who");
    if (who) who.textContent = `${GT.me.name} · ${GT.me.roles.join(", ")}`;
    const out = document.getElementById("logout");
    if (out) out.addEventListener("click", GT.logout);
    return GT.me;
  },
  headers() {
    const h = { "content-type": "application/json" };
    if (GT.me && GT.me.csrf_token) h["x-csrf-token"] = GT.me.csrf_token;
    return h;
  },
  async post(path, body) {
    const res = await fetch(path, { method: "POST", credentials: "same-origin", headers: GT.headers(), body: JSON.stringify(body || {}) });
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    return { ok: res.ok, status: res.status, data };
  },
  async get(path) {
    const res = await fetch(path, { credentials: "same-origin" });
    if (res.status === 401) { location.href = "/login"; throw new Error("signed out"); }
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  },
  async logout() {
    await fetch("/logout", { method: "POST", credentials: "same-origin", headers: GT.headers() });
    location.href = "/login";
  },
  // Server-sent events; `onReset` runs on (re)connect so the page reloads its lists.
  stream(handlers, onReset) {
    const conn = document.getElementById("conn");
    const source = new EventSource("/api/stream");
    GT.source = source;
    source.addEventListener("hello", () => { if (conn) { conn.classList.remove("down"); conn.title = "live 실시간"; } onReset(); });
    source.addEventListener("resync", onReset);
    for (const [kind, fn] of Object.entries(handlers)) {
      source.addEventListener(kind, (e) => fn(JSON.parse(e.data)));
    }
    source.onerror = () => { if (conn) { conn.classList.add("down"); conn.title = "reconnecting 재연결 중"; } };
    return source;
  },
  // The one way the pages build DOM: children are text nodes (never parsed as HTML), event
  // handlers are listeners (no inline on* attributes: the CSP refuses them), `style` is an object
  // set through CSSOM (no style attributes), and href/src take http(s) or same-origin URLs only.
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "style") Object.assign(node.style, v);
      else if (v === null || v === undefined || v === false) continue;
      else if (k === "href" || k === "src") { const url = GT.safeUrl(v); if (url) node.setAttribute(k, url); }
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  },
  // A URL from data (a camera's snapshot, a relay's live view) if it is http(s), else null.
  safeUrl(value) {
    try {
      const url = new URL(String(value), location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  },
  // Map tooltip content as text: Leaflet parses a string as HTML, so never give it one.
  tip(text) {
    return () => GT.el("span", {}, String(text));
  },
  fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  },
  mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  },
  typeLabel(t) { return TYPE_LABELS[t] || t; },
  statusLabel(s) { return STATUS_LABELS[s] || s; },
};

// A caller's position as the phone network gave it: a circle of `radius` metres.
GT.fixCircle = function fixCircle(lat, lon, radius, source) {
  return L.circle([lat, lon], { radius, color: "#6cb6ff", weight: 1.5, dashArray: "4 4", fillColor: "#6cb6ff", fillOpacity: 0.12, interactive: true, className: "caller-fix" })
    .bindTooltip(GT.tip(`신고자 위치 Caller location ± ${Math.round(radius)} m${source ? " · " + (LOCATION_SOURCES[source] || source) : ""}`));
};
