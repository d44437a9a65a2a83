// The panel's model card: the network's shape, its training curve (an inline SVG drawn here,
// no chart library) and the accuracy metrics measured after training.
import { $, el, svgEl, fmtLength } from './util.js';
import { linearTicks, logTicks, fmtTick, fmtAngleDeg } from './format.js';

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
  $('metrics').replaceChildren(...metricRows(model).map(([k, v]) => el('tr', {}, [el('td', {}, [k]), el('td', {}, [v])])));
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
  // A pose model's orientation error on the same targets (in_reach_angle).
  const a = model.metrics && model.metrics.in_reach_angle;
  if (a) {
    const deg = (x) => (x === undefined ? '–' : fmtAngleDeg(x));
    rows.splice(1, 0, ['network alone: median angle', deg(a.median_rad)], ['angle p95 / p99', `${deg(a.p95_rad)} / ${deg(a.p99_rad)}`]);
  }
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
  const out = [];
  for (const v of axis.ticks) {
    const y = axis.y(v).toFixed(1);
    out.push(svgEl('line', { class: 'grid', x1: L, x2: W - R, y1: y, y2: y }));
    out.push(svgEl('text', { class: 'tick', x: L - 5, y: (+y + 3).toFixed(1), 'text-anchor': 'end' }, [fmtTick(v)]));
  }
  out.push(svgEl('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  out.push(svgEl('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  return out;
}

function epochLabels(X, e0, e1) {
  const { ticks } = linearTicks(e0, e1, 4);
  const out = ticks.filter((t) => t >= e0 && t <= e1 && Number.isInteger(t))
    .map((e) => svgEl('text', { x: X(e).toFixed(1), y: H - B + 13, 'text-anchor': 'middle' }, [String(e)]));
  out.push(svgEl('text', { x: W - R, y: H - 2, 'text-anchor': 'end' }, ['epoch']));
  return out;
}

// The curve per epoch, and the headline figure (the median error of the network alone on
// reachable targets never seen in training, measured after training) as a marked point at the
// last epoch. When the history has the in-reach median per epoch (validation_median_in_reach),
// the curve is that same figure; older files have only the median over the whole validation
// split, which includes targets out of reach (their distance to the closest point counts), so
// it sits well above the headline: the title says so rather than let the two look alike.
function drawCurve(history, headline) {
  const svg = $('curve');
  // A pose model's validation targets are FK poses, all reachable: its plain median is in reach.
  const pose = history.some((h) => h.validation_angle_median > 0);
  const perEpoch = history.length > 0 && history.every((h) => h.validation_median_in_reach > 0);
  const inReach = pose || perEpoch;
  const key = perEpoch ? 'validation_median_in_reach' : 'validation_median';
  const pts = history.filter((h) => h[key] > 0);
  if (pts.length === 0) { svg.replaceChildren(svgEl('text', { x: 10, y: 20 }, ['no training history'])); return; }
  const mm = pts.map((h) => h[key] * 1e3);
  const headMm = headline > 0 ? headline * 1e3 : null;
  const axis = errorAxis(headMm === null ? mm : [...mm, headMm]);
  const e0 = pts[0].epoch, e1 = Math.max(pts[pts.length - 1].epoch, e0 + 1);
  const X = (e) => L + ((e - e0) / (e1 - e0)) * (W - L - R);
  const what = pose ? 'median position error, validation poses'
    : (inReach ? 'median error, reachable validation targets' : 'median error, all validation targets');
  const parts = [svgEl('text', { class: 'title', x: L, y: 12 }, [`${what} (mm${axis.log ? ', log' : ''})`])];
  parts.push(...gridAndAxes(axis), ...epochLabels(X, e0, e1));
  const path = pts.map((h, i) => `${i ? 'L' : 'M'}${X(h.epoch).toFixed(1)},${axis.y(mm[i]).toFixed(1)}`).join('');
  parts.push(svgEl('path', { class: 'val', d: path }));
  const lastX = X(pts[pts.length - 1].epoch), lastY = axis.y(mm[mm.length - 1]);
  parts.push(svgEl('circle', { cx: lastX.toFixed(1), cy: lastY.toFixed(1), r: 3, fill: '#5cc8ff' }));
  parts.push(svgEl('text', { x: (lastX - 5).toFixed(1), y: (lastY - 6).toFixed(1), 'text-anchor': 'end', fill: '#5cc8ff' },
    [fmtLength(mm[mm.length - 1] / 1e3)]));
  if (headMm !== null) {
    // The headline: the same figure as an in-reach curve, on the kept weights and 10,000 targets
    // (the curve's points: 4,096), marked at the last epoch; its label goes inside the plot, at the
    // top or the bottom, whichever is farther from the curve's end (so it never sits on the curve,
    // its last label or the axis labels).
    const hy = axis.y(headMm);
    const label = inReach ? 'headline' : 'reachable targets (headline)';
    const top = T + 10, bottom = H - B - 5;
    const near = Math.min(lastY, hy) - top > bottom - Math.max(lastY, hy) ? top : bottom;
    parts.push(svgEl('circle', { class: 'headline', cx: lastX.toFixed(1), cy: hy.toFixed(1), r: 3.5 }));
    parts.push(svgEl('text', { class: 'headline', x: W - R - 2, y: near, 'text-anchor': 'end' }, [`${label}: ${fmtLength(headMm / 1e3)}`]));
  }
  svg.replaceChildren(...parts);
}
