// Caller media in the incident panel: send the SMS link, watch the caller's live video
// (WebRTC answerer; offer/answer through the console), caller position with its accuracy
// circle on the map, snapshots kept with the incident.
"use strict";
const GTMedia = {
  incidentId: null,
  sessions: [],
  viewers: new Map(), // call_id -> { pc, viewerId, video, state }
  box: null,
  layer: null,
  timer: null,
  status: "",

  root() {
    if (!this.box) this.box = GT.el("div", { id: "media-box", class: "media-box" });
    return this.box;
  },

  // The panel section: the same node across re-renders, so a playing video keeps playing.
  section() {
    return GT.el("div", { class: "block" }, GT.el("h3", {}, "📹 발신자 영상·위치 Caller video & location"), this.root());
  },

  linkButton(call) {
    return GT.el("button", { type: "button", class: "small secondary media-link", "data-call": call.id,
      onclick: () => this.sendLink(call) }, "📹 영상 링크 Video link");
  },

  async sendLink(call) {
    const phone = prompt("발신자 번호 Caller's number (SMS)", call.caller || "");
    if (phone === null) return;
    const res = await GT.post(`/api/calls/${encodeURIComponent(call.id)}/media-link`, phone.trim() ? { phone: phone.trim() } : {});
    this.status = res.ok
      ? `링크 전송 Link sent (SMS: ${res.data.sms_status}) · ${new Date(res.data.expires_at).toLocaleTimeString("ko-KR")}까지 until`
      : `링크 오류 Link error ${res.status}: ${JSON.stringify(res.data.detail || res.data)}`;
    this.lastUrl = res.ok ? res.data.url : null;
    this.render();
    this.refresh();
  },

  follow(incidentId) {
    if (incidentId === this.incidentId) return;
    this.stopAll();
    this.incidentId = incidentId;
    this.sessions = [];
    this.status = "";
    this.render();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh(), 1000);
    this.refresh();
  },

  async refresh() {
    const id = this.incidentId;
    if (!id) return;
    let sessions;
    try { sessions = await GT.get(`/api/incidents/${encodeURIComponent(id)}/media`); } catch (e) { return; }
    if (id !== this.incidentId) return;
    this.sessions = sessions;
    for (const s of sessions) {
      const v = this.viewers.get(s.call_id);
      // Watch as soon as a link exists: the caller's first poll then finds this page
      // waiting and sends its offer at once.
      if (s.state !== "ended" && (!v || v.failed)) this.watch(s.call_id);
      if (s.state === "ended" && v) { v.pc?.close(); v.ended = true; }
    }
    this.render();
    this.drawLocations();
  },

  async watch(callId) {
    const old = this.viewers.get(callId);
    const video = old?.video || GT.el("video", { autoplay: true, muted: true, playsinline: true, class: "caller-video", "data-call": callId, "aria-label": "발신자 영상 Caller video" });
    video.muted = true;
    const v = { video, pc: null, failed: false, viewerId: null };
    this.viewers.set(callId, v);
    const base = `/api/calls/${encodeURIComponent(callId)}/media/watch`;
    const start = await GT.post(base, {});
    if (!start.ok) { v.failed = true; return; }
    v.viewerId = start.data.viewer_id;
    let offer = null;
    for (let i = 0; i < 200 && !offer && this.viewers.get(callId) === v; i++) {
      try { offer = (await GT.get(`${base}/${v.viewerId}`)).offer; } catch (e) { break; }
      if (!offer) await new Promise((r) => setTimeout(r, 200));
    }
    if (!offer) { v.failed = true; return; }
    const pc = new RTCPeerConnection({ iceServers: start.data.ice_servers || [] });
    v.pc = pc;
    pc.addEventListener("track", (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); video.play().catch(() => {}); });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" || pc.connectionState === "disconnected") v.failed = true;
    });
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== "complete") {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 3000);
        pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") { clearTimeout(t); resolve(); } });
      });
    }
    const sent = await GT.post(`${base}/${v.viewerId}/answer`, { sdp: pc.localDescription.sdp });
    if (!sent.ok) v.failed = true;
    this.render();
  },

  async snapshot(callId) {
    const v = this.viewers.get(callId);
    if (!v || !v.video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = v.video.videoWidth; canvas.height = v.video.videoHeight;
    canvas.getContext("2d").drawImage(v.video, 0, 0);
    const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85));
    const headers = { "content-type": "image/jpeg" };
    if (GT.me && GT.me.csrf_token) headers["x-csrf-token"] = GT.me.csrf_token;
    const res = await fetch(`/api/calls/${encodeURIComponent(callId)}/media/snapshots`, { method: "POST", credentials: "same-origin", headers, body: blob });
    this.status = res.ok ? "스냅샷 저장 Snapshot kept" : `스냅샷 오류 Snapshot error ${res.status}`;
    this.refresh();
  },

  async recording(callId, on) {
    const res = await GT.post(`/api/calls/${encodeURIComponent(callId)}/media/recording`, { on });
    this.status = res.ok ? `녹화 Recording ${on ? "허용 allowed" : "꺼짐 off"}` : `녹화 오류 Recording error ${res.status}`;
    this.refresh();
  },

  stopAll() {
    for (const v of this.viewers.values()) v.pc?.close();
    this.viewers.clear();
    if (this.layer) this.layer.clearLayers();
  },

  drawLocations() {
    if (typeof map === "undefined") return;
    if (!this.layer) this.layer = L.layerGroup().addTo(map);
    this.layer.clearLayers();
    for (const s of this.sessions) {
      const l = s.location;
      if (!l) continue;
      L.circle([l.lat, l.lon], { radius: l.accuracy_m, color: "#2f9bff", weight: 1, fillOpacity: 0.15, className: "caller-accuracy" }).addTo(this.layer);
      L.circleMarker([l.lat, l.lon], { radius: 6, color: "#fff", weight: 2, fillColor: "#2f9bff", fillOpacity: 1, className: "caller-position" })
        .bindTooltip(GT.tip(`발신자 위치 Caller ±${Math.round(l.accuracy_m)} m`)).addTo(this.layer);
    }
  },

  render() {
    const box = this.root();
    const supervisor = GT.me && GT.me.roles.includes("supervisor");
    const items = this.sessions.map((s) => {
      const v = this.viewers.get(s.call_id);
      const l = s.location;
      return GT.el("div", { class: `media-session state-${s.state}`, "data-call": s.call_id, "data-state": s.state },
        GT.el("div", {}, GT.el("b", {}, { waiting: "대기 Waiting", live: "● 실시간 Live", ended: "종료 Ended" }[s.state] || s.state), ` · ${s.call_id}`,
          s.recording ? GT.el("span", { class: "gt-warn" }, " · 녹화 허용 recording allowed") : null),
        v && s.state !== "ended" ? v.video : null,
        GT.el("div", { class: "media-location" }, l
          ? `📍 ${l.lat.toFixed(5)}, ${l.lon.toFixed(5)} · 정확도 accuracy ±${Math.round(l.accuracy_m)} m · ${new Date(l.at).toLocaleTimeString("ko-KR")}`
          : "위치 없음 · no position yet"),
        GT.el("div", { class: "actions" },
          GT.el("button", { type: "button", class: "small", disabled: s.state !== "live", onclick: () => this.snapshot(s.call_id) }, "📸 스냅샷 Snapshot"),
          s.recording_chunks ? GT.el("a", { href: `/api/calls/${encodeURIComponent(s.call_id)}/media/recording`, target: "_blank", rel: "noopener", class: "recording-link" }, `🎞 녹화 Recording (${s.recording_chunks})`) : null,
          supervisor ? GT.el("button", { type: "button", class: "small secondary", onclick: () => this.recording(s.call_id, !s.recording) }, s.recording ? "녹화 끄기 Recording off" : "녹화 허용 Allow recording") : null),
        s.snapshots.length ? GT.el("div", { class: "media-snapshots" }, s.snapshots.map((p) =>
          GT.el("a", { href: p.url, target: "_blank", rel: "noopener" }, GT.el("img", { src: p.url, alt: `${p.source} ${p.at}`, class: "snapshot", loading: "lazy" })))) : null);
    });
    GT.fill(box,
      items.length ? items : GT.el("p", { class: "muted" }, "신고 목록의 📹 버튼으로 링크를 보내세요 · Send a link with 📹 on a call."),
      this.status ? GT.el("p", { class: "muted small", id: "media-status" }, this.status) : null,
      this.lastUrl ? GT.el("p", { class: "muted small" }, GT.el("code", { id: "media-url" }, this.lastUrl)) : null);
  },
};
