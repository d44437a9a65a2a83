// Pure formatting and axis helpers (no DOM, no three.js), so that node can unit-test them
// (tests/web/format_test.mjs) and the page and the test agree on every label.

const LENGTH_UNITS = [[1, 'm'], [1e-3, 'mm'], [1e-6, 'µm'], [1e-9, 'nm'], [1e-12, 'pm'], [1e-15, 'fm']];

// A length (m) in the unit that puts it in [1, 1000), with `digits` significant digits: an error
// of 4.7e-12 m reads "4.7 pm", never "0 nm". Zero is "0 m"; below a femtometre "< 1 fm".
export function fmtLength(m, digits = 3) {
  if (!Number.isFinite(m)) return '–';
  if (m === 0) return '0 m';
  if (Math.abs(m) < 1e-15) return '< 1 fm';
  for (const [scale, unit] of LENGTH_UNITS) {
    // Rounded first, so 0.9996 mm reads "1 mm", not "1000 µm"; Number() drops trailing zeros.
    const v = Number((m / scale).toPrecision(digits));
    if (Math.abs(v) >= 1) return `${v} ${unit}`;
  }
  return '< 1 fm';
}

// An angle (rad) in degrees with `digits` significant digits below 1 degree, one decimal above.
export function fmtAngleDeg(rad) {
  if (!Number.isFinite(rad)) return '–';
  const d = (rad * 180) / Math.PI;
  return Math.abs(d) >= 1 || d === 0 ? `${d.toFixed(1)}°` : `${d.toPrecision(2)}°`;
}

// A full-turn revolute joint (range of 2 pi or more, like the seed arm's yaw joints) has no limit
// to be at: its -180 and +180 degrees are the same pose.
export function isFullTurn(j) {
  return j.type !== 'prismatic' && (j.continuous || j.upper - j.lower >= 2 * Math.PI - 1e-9);
}

// The joint-space distance between two configurations (rad or m): the Euclidean norm of a - b,
// a full-turn joint's difference taken modulo 2 pi into [-pi, pi] (as the library's JointDistance).
export function jointDistance(joints, a, b) {
  return Math.hypot(...a.map((v, i) => {
    const d = v - b[i];
    return isFullTurn(joints[i]) ? Math.atan2(Math.sin(d), Math.cos(d)) : d;
  }));
}

// True when joint value v is within 1 % of its range from a limit that really stops the joint.
export function atLimit(j, v) {
  const span = j.upper - j.lower;
  if (!(span > 0) || isFullTurn(j)) return false;
  const t = (v - j.lower) / span;
  return t < 0.01 || t > 0.99;
}

// A step of 1, 2 or 5 times a power of ten, close to `span / count`.
function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const k = raw / p;
  return (k < 1.5 ? 1 : k < 3.5 ? 2 : k < 7.5 ? 5 : 10) * p;
}

// Removes binary noise from a tick value (0.30000000000000004 -> 0.3).
const clean = (v, step) => Number((Math.round(v / step) * step).toPrecision(12));

// Round ticks for a linear axis covering [lo, hi]: about `count` steps of 1, 2 or 5 x 10^k; the
// axis is widened to the ticks just outside, so the first and last ticks sit on its ends.
export function linearTicks(lo, hi, count = 4) {
  if (!(hi > lo)) { const pad = Math.abs(lo) * 0.1 || 1; lo -= pad; hi += pad; }
  const step = niceStep(hi - lo, count);
  const first = Math.floor(lo / step + 1e-9) * step, last = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = first; v <= last + step * 1e-6; v += step) ticks.push(clean(v, step));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks, step };
}

// Round ticks for a logarithmic axis covering [lo, hi] (both > 0): 1, 2 and 5 x 10^k, thinned to
// powers of ten when there would be too many; the axis is widened to the ticks just outside.
export function logTicks(lo, hi) {
  const all = [];
  for (let p = Math.floor(Math.log10(lo)) - 1; p <= Math.ceil(Math.log10(hi)) + 1; ++p) {
    for (const k of [1, 2, 5]) all.push(Number((k * 10 ** p).toPrecision(12)));
  }
  const below = all.filter((v) => v <= lo * (1 + 1e-9)), above = all.filter((v) => v >= hi * (1 - 1e-9));
  const a = below[below.length - 1], b = above[0];
  let ticks = all.filter((v) => v >= a && v <= b);
  if (ticks.length > 7) {
    const decades = ticks.filter((v) => Number.isInteger(Math.round(Math.log10(v) * 1e9) / 1e9));
    ticks = [a, ...decades.filter((v) => v > a && v < b), b];
  }
  return { lo: a, hi: b, ticks };
}

// A tick label: the shortest exact form of a round number (0.02, 5, 200, 1e-5).
export function fmtTick(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(6)));
  return v.toExponential().replace(/\.?0+e/, 'e').replace('e+', 'e');
}

// Roll, pitch and yaw (rad; R = Rz(yaw) Ry(pitch) Rx(roll)) of the rotation in a column-major 4x4
// matrix (three.js's Matrix4.elements), for reading a tip orientation.
export function rpyFromMatrixElements(e) {
  const r11 = e[0], r21 = e[1], r31 = e[2], r32 = e[6], r33 = e[10];
  const pitch = Math.asin(Math.max(-1, Math.min(1, -r31)));
  if (Math.abs(r31) > 1 - 1e-12) {
    // Gimbal lock: only roll - yaw (or roll + yaw) is defined; report it as roll with yaw 0.
    const r12 = e[4], r22 = e[5];
    return [Math.atan2(r12 * Math.sign(-r31), r22), pitch, 0];
  }
  return [Math.atan2(r32, r33), pitch, Math.atan2(r21, r11)];
}
