// The space-time diagram of a trace: one lane per node, time along x.
//
// Why a canvas and not SVG: a view holds up to 200k steps and as many messages. One SVG
// element per arrow makes the DOM the bottleneck (memory, style and layout) even when
// most are off screen, and virtualising SVG means rebuilding nodes on every zoom step.
// On a canvas a redraw is a loop over what is visible, found by binary search in arrays
// sorted by time, and whatever lands on a pixel already drawn is skipped, so the cost of
// a frame follows the width of the screen rather than the length of the trace. The lanes
// stay DOM elements (their labels, and something a test can count); what the canvas
// actually drew is published as data-* counts on #diagram after every draw.
"use strict";
(function () {
  const LABEL_W = 80, RIGHT_PAD = 24, AXIS_H = 28, LANE_H = 64, BAND_H = 10;
  const STUB_PX = 30, SLIDER_MAX = 10000, MIN_SPAN_US = 5, HEADS_MAX = 3000;
  const ROLE_COLOURS = {
    leader: "#e0a100", candidate: "#e8590c", precandidate: "#f7b27a",
    follower: "#9bb7d4", learner: "#a8d8a8",
  };
  const OTHER_ROLE = "#cccccc";

  const model = JSON.parse(document.getElementById("model").textContent);
  const ix = buildIndex(model);
  const diagram = document.getElementById("diagram");
  const canvas = document.getElementById("canvas");
  const details = document.getElementById("details");
  const view = { a: 0, b: ix.total, selected: null, hits: [], markHits: [], width: 1, plotW: 1 };

  // ---- index: what a draw needs, sorted by time --------------------------------------

  function buildIndex(m) {
    const laneOf = new Map();
    m.nodes.forEach((n, l) => laneOf.set(n, l));
    const base = m.start_us;
    const total = Math.max(1, m.end_us - base);
    const lanes = m.nodes.map(() => ({ times: [], steps: [], runs: [] }));
    m.steps.forEach((s, i) => {
      const lane = lanes[laneOf.get(s.node)];
      if (lane) {
        lane.times.push(s.time_us - base);
        lane.steps.push(i);
      }
    });
    const marks = m.marks.filter((k) => laneOf.has(k.node));
    lanes.forEach((lane, l) => {
      const restarts = marks
        .filter((k) => k.kind === "start" && laneOf.get(k.node) === l)
        .map((k) => k.time_us - base);
      lane.runs = roleRuns(m, lane, restarts, total);
      lane.runEnds = lane.runs.map((r) => r.t1);
    });
    return {
      laneOf, base, total, lanes,
      msgs: messageIndex(m, laneOf, base),
      marks, markTimes: marks.map((k) => k.time_us - base),
      sentBy: groupBy(m.messages, (msg) => msg.send_step),
      receivedBy: groupBy(m.messages, (msg) => msg.recv_step),
    };
  }

  // Consecutive steps with the same role, term and incarnation become one run. A run
  // ends where the next begins; across a restart it ends at the restart instead (when
  // the node went down is not in the trace, so the old role is drawn up to then).
  function roleRuns(m, lane, restarts, total) {
    const runs = [];
    lane.steps.forEach((i, k) => {
      const s = m.steps[i];
      const t = lane.times[k];
      const last = runs[runs.length - 1];
      if (last && last.role === s.role && last.term === s.term && last.inc === s.incarnation) {
        return;
      }
      if (last) {
        const restart = last.inc !== s.incarnation
          ? restarts.find((r) => r > last.t0 && r <= t) : undefined;
        last.t1 = restart === undefined ? t : restart;
      }
      runs.push({ t0: t, t1: total, role: s.role, term: s.term, inc: s.incarnation });
    });
    return runs;
  }

  // Messages ordered by send time. A delivered message is visible when [sent, received]
  // meets the view; the few slow ones (above the 99th percentile of delay) are kept on a
  // list checked every frame, so the rest are found from a window of send times.
  function messageIndex(m, laneOf, base) {
    const order = m.messages
      .map((_, i) => i)
      .filter((i) => laneOf.has(m.messages[i].from) && laneOf.has(m.messages[i].to))
      .sort((x, y) => m.messages[x].sent_us - m.messages[y].sent_us);
    const sent = order.map((i) => m.messages[i].sent_us - base);
    const delays = order
      .map((i) => m.messages[i])
      .filter((msg) => msg.received_us !== null)
      .map((msg) => msg.received_us - msg.sent_us)
      .sort((x, y) => x - y);
    const slow = delays.length ? delays[Math.floor(0.99 * (delays.length - 1))] : 0;
    const isSlow = (i) => {
      const msg = m.messages[i];
      return msg.received_us !== null && msg.received_us - msg.sent_us > slow;
    };
    return { order, sent, slow, slowList: order.filter(isSlow), isSlow };
  }

  function groupBy(items, key) {
    const out = new Map();
    items.forEach((item, i) => {
      const k = key(item);
      if (k === null || k === undefined) return;
      if (!out.has(k)) out.set(k, []);
      out.get(k).push(i);
    });
    return out;
  }

  // First index whose value is >= t (values ascending).
  function lowerBound(values, t) {
    let lo = 0, hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // ---- geometry ----------------------------------------------------------------------

  // Read from the layout once per draw (prepareCanvas): xOf runs for every point drawn,
  // and asking the layout each time was most of the cost of a frame.
  function plotWidth() { return view.plotW; }
  function xOf(t) { return LABEL_W + ((t - view.a) / (view.b - view.a)) * plotWidth(); }
  function timeAt(x) { return view.a + ((x - LABEL_W) / plotWidth()) * (view.b - view.a); }
  function laneY(l) { return AXIS_H + l * LANE_H + LANE_H / 2; }

  function fmt(us) {
    const sign = us < 0 ? "-" : "";
    const v = Math.abs(us);
    if (v < 1000) return sign + trim(v.toFixed(1)) + " µs";
    if (v < 1e6) return sign + trim((v / 1000).toFixed(3)) + " ms";
    return sign + trim((v / 1e6).toFixed(6)) + " s";
  }
  function trim(s) { return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, ""); }

  // ---- drawing -----------------------------------------------------------------------

  function draw() {
    const ctx = prepareCanvas();
    const counts = { lanes: 0, arrows: 0, lost: 0, steps: 0, marks: 0 };
    view.hits = [];
    view.markHits = [];
    drawAxis(ctx);
    ix.lanes.forEach((lane, l) => drawLane(ctx, lane, l, counts));
    drawMarks(ctx, counts);
    drawMessages(ctx, counts);
    drawSelection(ctx);
    diagram.dataset.lanes = counts.lanes;
    diagram.dataset.arrows = counts.arrows;
    diagram.dataset.lost = counts.lost;
    diagram.dataset.steps = counts.steps;
    diagram.dataset.marks = counts.marks;
    diagram.dataset.draws = Number(diagram.dataset.draws || 0) + 1;
    syncControls();
  }

  function prepareCanvas() {
    const width = diagram.clientWidth;
    const height = AXIS_H + ix.lanes.length * LANE_H + 8;
    view.width = width;
    view.height = height;
    view.plotW = Math.max(1, width - LABEL_W - RIGHT_PAD);
    const dpr = window.devicePixelRatio || 1;
    diagram.style.height = height + "px";
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "10px monospace";
    return ctx;
  }

  function drawAxis(ctx) {
    const span = view.b - view.a;
    const raw = span / Math.max(1, plotWidth() / 110);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((f) => f * p).find((s) => s >= raw);
    ctx.strokeStyle = "#ddd";
    ctx.fillStyle = "#555";
    ctx.beginPath();
    for (let t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.moveTo(x, AXIS_H - 6);
      ctx.lineTo(x, view.height);
      ctx.fillText(fmt(t), x + 3, AXIS_H - 10);
    }
    ctx.stroke();
  }

  function drawLane(ctx, lane, l, counts) {
    const y = laneY(l);
    ctx.strokeStyle = "#bbb";
    ctx.beginPath();
    ctx.moveTo(LABEL_W, y + 0.5);
    ctx.lineTo(view.width - RIGHT_PAD, y + 0.5);
    ctx.stroke();
    counts.lanes++;
    drawRuns(ctx, lane, y);
    drawStepTicks(ctx, lane, y, counts);
  }

  // The first visible run is always labelled with its term, so the left edge says it.
  function drawRuns(ctx, lane, y) {
    const runs = lane.runs;
    let lastLabelX = -Infinity, prevTerm = null;
    let k = lowerBound(lane.runEnds, view.a);
    for (; k < runs.length && runs[k].t0 <= view.b; k++) {
      const r = runs[k];
      const x0 = Math.max(LABEL_W, xOf(r.t0));
      const x1 = Math.min(view.width - RIGHT_PAD, xOf(r.t1));
      if (x1 >= LABEL_W && x0 <= x1) {
        ctx.fillStyle = ROLE_COLOURS[r.role] || OTHER_ROLE;
        ctx.fillRect(x0, y - BAND_H / 2, Math.max(1, x1 - x0), BAND_H);
        // The term is labelled where it changes, unless the last label is too close.
        if (r.term !== prevTerm && x0 - lastLabelX > 34) {
          ctx.fillStyle = "#333";
          ctx.fillText("t" + r.term, x0 + 2, y - BAND_H / 2 - 3);
          lastLabelX = x0;
        }
      }
      prevTerm = r.term;
    }
  }

  // One tick per step, but once per pixel: after drawing at pixel p the next step
  // drawn is the first at or after pixel p + 1, found by binary search.
  function drawStepTicks(ctx, lane, y, counts) {
    ctx.strokeStyle = "#445";
    ctx.beginPath();
    let k = lowerBound(lane.times, view.a);
    while (k < lane.times.length && lane.times[k] <= view.b) {
      const px = Math.floor(xOf(lane.times[k]));
      ctx.moveTo(px + 0.5, y - BAND_H / 2 - 1);
      ctx.lineTo(px + 0.5, y + BAND_H / 2 + 1);
      counts.steps++;
      k = Math.max(k + 1, lowerBound(lane.times, timeAt(px + 1)));
    }
    ctx.stroke();
  }

  function drawMarks(ctx, counts) {
    const seen = new Set();
    let k = lowerBound(ix.markTimes, view.a);
    for (; k < ix.marks.length && ix.markTimes[k] <= view.b; k++) {
      const mark = ix.marks[k];
      const l = ix.laneOf.get(mark.node);
      const x = Math.round(xOf(ix.markTimes[k]));
      const key = l + " " + mark.kind + " " + x;
      if (seen.has(key)) continue;
      seen.add(key);
      const y = drawGlyph(ctx, mark.kind, x, laneY(l));
      view.markHits.push(x, y, k);
      counts.marks++;
    }
  }

  // Returns the y of the glyph's centre (for clicks).
  function drawGlyph(ctx, kind, x, y) {
    if (kind === "start") {
      ctx.strokeStyle = "#c00";
      ctx.fillStyle = "#c00";
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(x + 0.5, y - LANE_H / 2 + 4);
      ctx.lineTo(x + 0.5, y + LANE_H / 2 - 4);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillRect(x - 3, y + LANE_H / 2 - 10, 7, 7);
      return y + LANE_H / 2 - 7;
    }
    const gy = kind === "leader" ? y - BAND_H / 2 - 16 : y + BAND_H / 2 + (kind === "commit" ? 7 : 16);
    ctx.beginPath();
    if (kind === "leader") {
      ctx.fillStyle = ROLE_COLOURS.leader;
      ctx.moveTo(x, gy + 5); ctx.lineTo(x - 5, gy - 4); ctx.lineTo(x + 5, gy - 4);
    } else if (kind === "commit") {
      ctx.fillStyle = "#2a9d3a";
      ctx.moveTo(x, gy - 4); ctx.lineTo(x + 4, gy); ctx.lineTo(x, gy + 4); ctx.lineTo(x - 4, gy);
    } else {
      ctx.fillStyle = kind === "snapshot" ? "#7b3fb0" : "#666";
      ctx.rect(x - 3.5, gy - 3.5, 7, 7);
    }
    ctx.closePath();
    ctx.fill();
    return gy;
  }

  function drawMessages(ctx, counts) {
    const mi = ix.msgs;
    const seen = new Set();
    const delivered = new Path2D(), lost = new Path2D();
    const lo = lowerBound(mi.sent, view.a - mi.slow);
    const hi = lowerBound(mi.sent, view.b + 1e-9);
    // Thousands of arrows on one screen are a texture; their heads only add ink.
    const heads = hi - lo <= HEADS_MAX;
    const visit = (i) => {
      const drawn = drawMessage(i, seen, heads, delivered, lost);
      if (drawn === "lost") counts.lost++;
      if (drawn) counts.arrows++;
    };
    for (let k = lo; k < hi; k++) if (!mi.isSlow(mi.order[k])) visit(mi.order[k]);
    mi.slowList.forEach(visit);
    ctx.lineWidth = 1;
    ctx.strokeStyle = "rgba(40, 70, 140, 0.7)";
    ctx.stroke(delivered);
    ctx.strokeStyle = "#d22";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([4, 2]);
    ctx.stroke(lost);
    ctx.setLineDash([]);
    ctx.lineWidth = 1;
  }

  // Adds message i to its path unless it is out of view or an arrow with the same
  // pixels is already there; says what it drew.
  function drawMessage(i, seen, heads, delivered, lost) {
    const msg = model.messages[i];
    const s = msg.sent_us - ix.base;
    const r = msg.received_us === null ? null : msg.received_us - ix.base;
    if (s > view.b || (r === null ? s : r) < view.a) return null;
    const fl = ix.laneOf.get(msg.from), tl = ix.laneOf.get(msg.to);
    const x0 = Math.round(xOf(s)), y0 = laneY(fl), y1 = laneY(tl);
    const x1 = r === null ? x0 + STUB_PX : Math.round(xOf(r));
    const key = arrowKey(fl, tl, x0, x1, r === null);
    if (seen.has(key)) return null;
    seen.add(key);
    if (r === null) {
      // A stub towards the receiver ending in a cross: sent, never received.
      const ye = y0 + (y1 - y0) * 0.4;
      lost.moveTo(x0, y0); lost.lineTo(x1, ye);
      lost.moveTo(x1 - 5, ye - 5); lost.lineTo(x1 + 5, ye + 5);
      lost.moveTo(x1 - 5, ye + 5); lost.lineTo(x1 + 5, ye - 5);
      view.hits.push(x0, y0, x1, ye, i);
      return "lost";
    }
    delivered.moveTo(x0, y0); delivered.lineTo(x1, y1);
    if (heads) arrowHead(delivered, x0, y0, x1, y1);
    view.hits.push(x0, y0, x1, y1, i);
    return "delivered";
  }

  // Arrows with the same lanes and end pixels look the same, so one is drawn. Keys are
  // numbers while both ends are near the screen (the common case, and much cheaper
  // than strings) and strings otherwise, so that two keys never collide.
  function arrowKey(fl, tl, x0, x1, isLost) {
    const w = view.width + 2 * STUB_PX;
    if (x0 < -STUB_PX || x0 > w || x1 < -STUB_PX || x1 > w) {
      return fl + " " + tl + " " + x0 + " " + x1 + (isLost ? " lost" : "");
    }
    const lanes = ix.lanes.length, across = w + 2 * STUB_PX + 1;
    return (((fl * lanes + tl) * 2 + (isLost ? 1 : 0)) * across + x0 + STUB_PX) * across + x1 + STUB_PX;
  }

  function arrowHead(path, x0, y0, x1, y1) {
    const angle = Math.atan2(y1 - y0, x1 - x0);
    for (const side of [-0.45, 0.45]) {
      path.moveTo(x1, y1);
      path.lineTo(x1 - 8 * Math.cos(angle + side), y1 - 8 * Math.sin(angle + side));
    }
  }

  function drawSelection(ctx) {
    const sel = view.selected;
    if (!sel) return;
    ctx.strokeStyle = "#ff2d95";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    if (sel.kind === "step") {
      const s = model.steps[sel.i];
      ctx.arc(xOf(s.time_us - ix.base), laneY(ix.laneOf.get(s.node)), 6, 0, 2 * Math.PI);
    } else if (sel.kind === "msg") {
      const h = view.hits;
      for (let k = 0; k < h.length; k += 5) {
        if (h[k + 4] === sel.i) { ctx.moveTo(h[k], h[k + 1]); ctx.lineTo(h[k + 2], h[k + 3]); }
      }
    } else if (sel.kind === "mark") {
      const mark = ix.marks[sel.i];
      ctx.arc(xOf(ix.markTimes[sel.i]), laneY(ix.laneOf.get(mark.node)), 8, 0, 2 * Math.PI);
    }
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  // ---- picking -----------------------------------------------------------------------

  function hitTest(x, y) {
    let best = null, bestD = 6;
    const consider = (d, hit) => { if (d < bestD) { bestD = d; best = hit; } };
    const l = Math.floor((y - AXIS_H) / LANE_H);
    const lane = ix.lanes[l];
    if (lane && Math.abs(y - laneY(l)) <= BAND_H) {
      const k = lowerBound(lane.times, timeAt(x));
      for (const j of [k - 1, k]) {
        if (j >= 0 && j < lane.times.length) {
          consider(Math.abs(xOf(lane.times[j]) - x), { kind: "step", i: lane.steps[j] });
        }
      }
    }
    const mh = view.markHits;
    for (let k = 0; k < mh.length; k += 3) {
      consider(Math.hypot(mh[k] - x, mh[k + 1] - y), { kind: "mark", i: mh[k + 2] });
    }
    const h = view.hits;
    for (let k = 0; k < h.length; k += 5) {
      consider(segmentDistance(x, y, h[k], h[k + 1], h[k + 2], h[k + 3]) + 0.5, { kind: "msg", i: h[k + 4] });
    }
    return best;
  }

  function segmentDistance(px, py, x0, y0, x1, y1) {
    const dx = x1 - x0, dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
    return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
  }

  // ---- details panel -----------------------------------------------------------------

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function jump(label, hit) {
    const b = el("button", label);
    b.addEventListener("click", () => { select(hit); reveal(hit); });
    return b;
  }

  function showStep(i) {
    const s = model.steps[i];
    details.append(
      el("h2", "node " + s.node + " · step " + s.step + " of incarnation " + s.incarnation +
        " · " + fmt(s.time_us - ix.base)),
      el("p", "after it: " + s.role + ", term " + s.term + ", commit " + s.commit),
      el("div", "input"), el("pre", s.input), el("div", "output"), el("pre", s.output));
    (ix.receivedBy.get(i) || []).forEach((m) =>
      details.append(jump("← from " + model.messages[m].from, { kind: "msg", i: m })));
    (ix.sentBy.get(i) || []).forEach((m) =>
      details.append(jump("→ to " + model.messages[m].to, { kind: "msg", i: m })));
  }

  function showMessage(i) {
    const m = model.messages[i];
    const fate = m.received_us === null
      ? "never received (lost, or the receiver's trace ends first)"
      : "received at " + fmt(m.received_us - ix.base) + " (after " + fmt(m.received_us - m.sent_us) + ")";
    details.append(
      el("h2", "message " + m.from + " → " + m.to),
      el("p", "sent at " + fmt(m.sent_us - ix.base) + "; " + fate),
      el("pre", m.summary),
      jump("sending step", { kind: "step", i: m.send_step }));
    if (m.recv_step !== null) details.append(jump("receiving step", { kind: "step", i: m.recv_step }));
  }

  function showDetails(hit) {
    details.replaceChildren();
    if (!hit) {
      details.append(el("p", "Click a step (a tick on a lane), a message or a mark.", "hint"));
    } else if (hit.kind === "step") {
      showStep(hit.i);
    } else if (hit.kind === "msg") {
      showMessage(hit.i);
    } else {
      const mark = ix.marks[hit.i];
      details.append(el("h2", mark.kind + " · node " + mark.node + " · " + fmt(ix.markTimes[hit.i])),
        el("p", mark.text));
    }
  }

  function select(hit) {
    view.selected = hit;
    showDetails(hit);
    draw();
  }

  // Moves the view (same span) so that what was picked from the panel is on screen.
  function reveal(hit) {
    const t = hit.kind === "step"
      ? model.steps[hit.i].time_us - ix.base
      : model.messages[hit.i].sent_us - ix.base;
    if (t >= view.a && t <= view.b) return;
    setView(t - (view.b - view.a) / 2, t + (view.b - view.a) / 2);
  }

  // ---- controls ----------------------------------------------------------------------

  function setView(a, b) {
    const span = Math.min(ix.total, Math.max(MIN_SPAN_US, b - a));
    a = Math.max(0, Math.min(a, ix.total - span));
    view.a = a;
    view.b = a + span;
    draw();
  }

  function zoomAround(t, factor) {
    const span = Math.min(ix.total, Math.max(MIN_SPAN_US, (view.b - view.a) * factor));
    const f = (t - view.a) / (view.b - view.a);
    setView(t - f * span, t - f * span + span);
  }

  function syncControls() {
    document.getElementById("from").value = Math.round((view.a / ix.total) * SLIDER_MAX);
    document.getElementById("to").value = Math.round((view.b / ix.total) * SLIDER_MAX);
    document.getElementById("range-label").textContent = fmt(view.a) + " – " + fmt(view.b);
  }

  function onSlider() {
    const from = Number(document.getElementById("from").value);
    const to = Number(document.getElementById("to").value);
    const lo = Math.min(from, to), hi = Math.max(from, to);
    setView((lo / SLIDER_MAX) * ix.total, (hi / SLIDER_MAX) * ix.total);
  }

  function wire() {
    const mid = () => (view.a + view.b) / 2;
    document.getElementById("zoom-in").addEventListener("click", () => zoomAround(mid(), 0.5));
    document.getElementById("zoom-out").addEventListener("click", () => zoomAround(mid(), 2));
    document.getElementById("fit").addEventListener("click", () => setView(0, ix.total));
    document.getElementById("from").addEventListener("input", onSlider);
    document.getElementById("to").addEventListener("input", onSlider);
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      zoomAround(timeAt(e.offsetX), e.deltaY > 0 ? 1.25 : 0.8);
    }, { passive: false });
    wireDrag();
    let pending = false;
    window.addEventListener("resize", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; draw(); });
    });
  }

  // Dragging pans; a press and release without moving is a click that picks.
  function wireDrag() {
    let press = null;
    canvas.addEventListener("mousedown", (e) => {
      press = { x: e.offsetX, y: e.offsetY, a: view.a, b: view.b, moved: false };
    });
    canvas.addEventListener("mousemove", (e) => {
      if (!press || !(e.buttons & 1)) return;
      const dx = e.offsetX - press.x;
      if (Math.abs(dx) > 3) press.moved = true;
      if (!press.moved) return;
      const dt = (dx / plotWidth()) * (press.b - press.a);
      setView(press.a - dt, press.b - dt);
    });
    canvas.addEventListener("mouseup", (e) => {
      if (press && !press.moved) select(hitTest(e.offsetX, e.offsetY));
      press = null;
    });
  }

  function buildLanesAndLegend() {
    const lanes = document.getElementById("lanes");
    model.nodes.forEach((n, l) => {
      const lane = el("div", undefined, "lane");
      lane.dataset.node = n;
      lane.style.top = AXIS_H + l * LANE_H + "px";
      lane.style.height = LANE_H + "px";
      const label = el("span", "node " + n, "lane-label");
      label.style.top = LANE_H / 2 - 8 + "px";
      lane.append(label);
      lanes.append(lane);
    });
    const legend = document.getElementById("legend");
    Object.keys(ROLE_COLOURS).forEach((role) => {
      const sw = el("span", undefined, "swatch");
      sw.style.background = ROLE_COLOURS[role];
      const item = el("span", undefined, "legend");
      item.append(sw, role);
      legend.append(item);
    });
    document.getElementById("summary").textContent = model.nodes.length + " nodes · " +
      model.steps.length + " steps · " + model.messages.length + " messages · " +
      fmt(ix.total) + " from the first step to the last";
  }

  buildLanesAndLegend();
  wire();
  showDetails(null);
  // Drawn now rather than on the next frame, so the page is complete once loaded.
  draw();
})();
