// The panel's model card: the network's shape, its training curve (an inline SVG drawn here,
// no chart library) and the accuracy metrics measured after training.
import { $, fmtLength } from './util.js';

export function buildModelCard(model) {
  $('model-name').textContent = model.path;
  $('model-summary').textContent = summary(model);
  drawCurve(model.history);
  $('metrics').innerHTML = metricRows(model).map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
}

function summary(model) {
  const n = model.network || {};
  const parts = [];
  if (n.depth) parts.push(`${n.depth} × ${n.width} ${n.activation || ''}`);
  if (n.head) parts.push(`${n.head} head`);
  parts.push(`${model.history.length} epochs`);
  return parts.join(' · ');
}

// Older model files lack some metrics: those show as dashes.
function metricRows(model) {
  const m = (model.metrics && model.metrics.in_reach) || {};
  const pct = (x) => (x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
  const len = (x) => (x === undefined ? '–' : fmtLength(x));
  const rows = [
    ['network alone: median', len(m.median_m)],
    ['p95 / p99', `${len(m.p95_m)} / ${len(m.p99_m)}`],
    ['within 1 cm / 1 mm', `${pct(m.share_within_1cm)} / ${pct(m.share_within_1mm)}`],
    ['limit violations', m.limit_violations === undefined ? '–' : String(m.limit_violations)],
  ];
  if (model.metrics && model.metrics.samples_per_second) {
    rows.push(['training speed', `${Math.round(model.metrics.samples_per_second).toLocaleString('en')} samples/s`]);
  }
  return rows;
}

// The SVG's size and margins (its viewBox is set in index.html).
const W = 320, H = 170, L = 44, R = 10, T = 20, B = 26;

// The error axis: logarithmic when the error falls by more than 8x over training (it usually
// does), else linear with a little room above and below.
function errorAxis(mm) {
  let lo = Math.min(...mm), hi = Math.max(...mm);
  const log = hi / lo > 8;
  const f = log ? Math.log10 : (x) => x;
  if (!log) { const pad = (hi - lo) * 0.1 || hi * 0.1 || 1; lo = Math.max(0, lo - pad); hi += pad; }
  const y0 = f(lo), y1 = f(hi) === f(lo) ? f(lo) + 1 : f(hi);
  return { lo, hi, log, y: (v) => T + (1 - (f(v) - y0) / (y1 - y0)) * (H - T - B), y0, y1 };
}

// 1-2-5 steps on a log axis, five even steps on a linear one.
function errorTicks({ lo, hi, log, y0, y1 }) {
  const ticks = [];
  if (log) {
    for (let p = Math.floor(y0); p <= Math.ceil(y1); ++p) {
      for (const k of [1, 2, 5]) { const v = k * 10 ** p; if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v); }
    }
  } else {
    for (let i = 0; i <= 4; ++i) ticks.push(lo + ((hi - lo) * i) / 4);
  }
  return ticks;
}

function gridAndAxes(axis) {
  let s = '';
  for (const v of errorTicks(axis)) {
    const y = axis.y(v).toFixed(1);
    s += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y}" y2="${y}"/>`;
    s += `<text x="${L - 5}" y="${(+y + 3).toFixed(1)}" text-anchor="end">${v < 1 ? v.toPrecision(2) : +v.toPrecision(3)}</text>`;
  }
  s += `<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${H - B}"/><line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`;
  return s;
}

function epochLabels(X, e0, e1) {
  let s = '';
  for (const e of [e0, Math.round((e0 + e1) / 2), e1]) {
    s += `<text x="${X(e).toFixed(1)}" y="${H - B + 13}" text-anchor="middle">${e}</text>`;
  }
  return s + `<text x="${W - R}" y="${H - 2}" text-anchor="end">epoch</text>`;
}

// The validation median error per epoch, its last value marked and labelled.
function drawCurve(history) {
  const svg = $('curve');
  const pts = history.filter((h) => h.validation_median > 0);
  if (pts.length === 0) { svg.innerHTML = '<text x="10" y="20">no training history</text>'; return; }
  const mm = pts.map((h) => h.validation_median * 1e3);
  const axis = errorAxis(mm);
  const e0 = pts[0].epoch, e1 = Math.max(pts[pts.length - 1].epoch, e0 + 1);
  const X = (e) => L + ((e - e0) / (e1 - e0)) * (W - L - R);
  let s = `<text class="title" x="${L}" y="12">validation median error (mm${axis.log ? ', log' : ''}) per epoch</text>`;
  s += gridAndAxes(axis);
  s += epochLabels(X, e0, e1);
  const path = pts.map((h, i) => `${i ? 'L' : 'M'}${X(h.epoch).toFixed(1)},${axis.y(mm[i]).toFixed(1)}`).join('');
  s += `<path class="val" d="${path}"/>`;
  const lastX = X(pts[pts.length - 1].epoch), lastY = axis.y(mm[mm.length - 1]);
  s += `<circle cx="${lastX.toFixed(1)}" cy="${lastY.toFixed(1)}" r="3" fill="#5cc8ff"/>`;
  s += `<text x="${(lastX - 4).toFixed(1)}" y="${(lastY - 7).toFixed(1)}" text-anchor="end" fill="#5cc8ff">${mm[mm.length - 1].toPrecision(3)} mm</text>`;
  svg.innerHTML = s;
}
