// The panel's model card: the network's shape, its training curve (an inline SVG drawn here,
// no chart library) and the accuracy metrics measured after training.
import { $, fmtLength } from './util.js';
import { linearTicks, logTicks, fmtTick } from './format.js';

// Without a model (`deepik serve --arm`), the card says so and how the arm is solved instead; the
// curve and the metrics, which only a trained model has, are hidden.
export function buildModelCard(model) {
  const hasModel = model.path !== null;
  document.getElementById('model-card').classList.toggle('no-model', !hasModel);
  $('curve').style.display = hasModel ? '' : 'none';
  $('metrics').style.display = hasModel ? '' : 'none';
  if (!hasModel) {
    $('model-name').textContent = 'none';
    $('model-summary').textContent = `no trained model for this arm: it is solved by ${model.default_solver}`
      + ' (Levenberg-Marquardt with restarts, from the arm alone)';
    return;
  }
  $('model-name').textContent = model.path;
  $('model-summary').textContent = summary(model);
  drawCurve(model.history, model.metrics && model.metrics.in_reach && model.metrics.in_reach.median_m);
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

// The error axis (mm): logarithmic when the values span more than 8x, else linear; either way
// its ends and ticks are round numbers (format.js).
function errorAxis(values) {
  const lo = Math.min(...values), hi = Math.max(...values);
  const log = hi / lo > 8;
  const { lo: a, hi: b, ticks } = log ? logTicks(lo, hi) : linearTicks(lo, hi, 4);
  const f = log ? Math.log10 : (x) => x;
  const y0 = f(a), y1 = f(b);
  return { log, ticks, y: (v) => T + (1 - (f(v) - y0) / (y1 - y0)) * (H - T - B) };
}

function gridAndAxes(axis) {
  let s = '';
  for (const v of axis.ticks) {
    const y = axis.y(v).toFixed(1);
    s += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y}" y2="${y}"/>`;
    s += `<text class="tick" x="${L - 5}" y="${(+y + 3).toFixed(1)}" text-anchor="end">${fmtTick(v)}</text>`;
  }
  s += `<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${H - B}"/><line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`;
  return s;
}

function epochLabels(X, e0, e1) {
  let s = '';
  const { ticks } = linearTicks(e0, e1, 4);
  for (const e of ticks.filter((t) => t >= e0 && t <= e1 && Number.isInteger(t))) {
    s += `<text x="${X(e).toFixed(1)}" y="${H - B + 13}" text-anchor="middle">${e}</text>`;
  }
  return s + `<text x="${W - R}" y="${H - 2}" text-anchor="end">epoch</text>`;
}

// The curve per epoch, and the headline figure (the median error of the network alone on
// reachable targets never seen in training, measured after training) as a marked point at the
// last epoch. When the history has the in-reach median per epoch (validation_median_in_reach),
// the curve is that same figure; older files have only the median over the whole validation
// split, which includes targets out of reach (their distance to the closest point counts), so
// it sits well above the headline: the title says so rather than let the two look alike.
function drawCurve(history, headline) {
  const svg = $('curve');
  const inReach = history.length > 0 && history.every((h) => h.validation_median_in_reach > 0);
  const key = inReach ? 'validation_median_in_reach' : 'validation_median';
  const pts = history.filter((h) => h[key] > 0);
  if (pts.length === 0) { svg.innerHTML = '<text x="10" y="20">no training history</text>'; return; }
  const mm = pts.map((h) => h[key] * 1e3);
  const headMm = headline > 0 ? headline * 1e3 : null;
  const axis = errorAxis(headMm === null ? mm : [...mm, headMm]);
  const e0 = pts[0].epoch, e1 = Math.max(pts[pts.length - 1].epoch, e0 + 1);
  const X = (e) => L + ((e - e0) / (e1 - e0)) * (W - L - R);
  const what = inReach ? 'median error, reachable validation targets' : 'median error, all validation targets';
  let s = `<text class="title" x="${L}" y="12">${what} (mm${axis.log ? ', log' : ''})</text>`;
  s += gridAndAxes(axis);
  s += epochLabels(X, e0, e1);
  const path = pts.map((h, i) => `${i ? 'L' : 'M'}${X(h.epoch).toFixed(1)},${axis.y(mm[i]).toFixed(1)}`).join('');
  s += `<path class="val" d="${path}"/>`;
  const lastX = X(pts[pts.length - 1].epoch), lastY = axis.y(mm[mm.length - 1]);
  s += `<circle cx="${lastX.toFixed(1)}" cy="${lastY.toFixed(1)}" r="3" fill="#5cc8ff"/>`;
  s += `<text x="${(lastX - 5).toFixed(1)}" y="${(lastY - 6).toFixed(1)}" text-anchor="end" fill="#5cc8ff">${fmtLength(mm[mm.length - 1] / 1e3)}</text>`;
  if (headMm !== null) {
    // The headline: the same figure as an in-reach curve, on the kept weights and 10,000 targets
    // (the curve's points: 4,096); below the curve's last label so that the two stay legible.
    const hy = axis.y(headMm);
    const label = inReach ? 'headline' : 'reachable targets (headline)';
    s += `<circle class="headline" cx="${lastX.toFixed(1)}" cy="${hy.toFixed(1)}" r="3.5"/>`;
    s += `<text class="headline" x="${(lastX - 6).toFixed(1)}" y="${(hy + (inReach ? 14 : -6)).toFixed(1)}" text-anchor="end">${label}: ${fmtLength(headMm / 1e3)}</text>`;
  }
  svg.innerHTML = s;
}
