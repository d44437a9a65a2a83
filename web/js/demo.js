// Targets the page sets by itself: the start and "out of reach" targets, and the animated demo
// paths, which track.js plays, tracked. The paths lie in the arm's workspace, with an orientation
// the arm can hold: they run around the tip pose of a dexterous configuration (demoFrame), so the
// demo shows the arm following a path; "out of reach" shows the edge.
// This module owns the demo's frame (set for each arm by setDemoArm).

// Path parameter per second of the demo.
export const DEMO_SPEED = 0.55;

// The path's size: its radius as a share of the arm's reach.
const PATH_RADIUS = 0.12;

// In front of the arm, comfortably inside its reach.
export function initialTarget(arm) {
  const r = arm.reach;
  return [0.4 * r, 0.15 * r, 0.5 * r];
}

// 30 % beyond the reach: the arm stretches towards it.
export function outOfReachTarget(arm) {
  return [1.3 * arm.reach, 0.25 * arm.reach, 0.55 * arm.reach];
}

// A small seeded generator (the same paths on every load).
function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

// The determinant of a small square matrix (rows), by elimination with partial pivoting.
function determinant(a) {
  const m = a.map((row) => row.slice());
  let det = 1;
  for (let c = 0; c < m.length; ++c) {
    let p = c;
    for (let r = c + 1; r < m.length; ++r) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (m[p][c] === 0) return 0;
    if (p !== c) { [m[p], m[c]] = [m[c], m[p]]; det = -det; }
    det *= m[c][c];
    for (let r = c + 1; r < m.length; ++r) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < m.length; ++k) m[r][k] -= f * m[c][k];
    }
  }
  return det;
}

// The tip's twist rows of the Jacobian at q by central differences (position / reach, and the
// rotation for arms that take poses), and its manipulability sqrt(det(J J^T)).
function manipulability(kin, q, reach, rows) {
  const h = 1e-5;
  const columns = q.map((_, i) => {
    const plus = q.slice(), minus = q.slice();
    plus[i] += h; minus[i] -= h;
    const A = kin.frames(plus).pop().elements, B = kin.frames(minus).pop().elements;
    const dp = [12, 13, 14].map((k) => (A[k] - B[k]) / (2 * h * reach));
    if (rows === 3) return dp;
    // The rotation's rate from dR R^T (its skew part): x from (R' R^T)[2][1], and so on.
    const dR = (r, c) => (A[4 * c + r] - B[4 * c + r]) / (2 * h);
    const R = (r, c) => (A[4 * c + r] + B[4 * c + r]) / 2;
    const w = (r, c) => dR(r, 0) * R(c, 0) + dR(r, 1) * R(c, 1) + dR(r, 2) * R(c, 2);
    return [...dp, w(2, 1), w(0, 2), w(1, 0)];
  });
  const JJt = Array.from({ length: rows }, (_, r) => Array.from({ length: rows }, (__, c) => columns.reduce((s, col) => s + col[r] * col[c], 0)));
  return Math.sqrt(Math.max(determinant(JJt), 0));
}

let frame = null;  // the demo paths' centre, orientation and radius for the arm shown

// The demo's frame for `arm` (its /api/arm description) and `kin` (kinematics.js): among 256
// seeded configurations with every joint in the middle 60 % of its range, the tip pose of the most
// dexterous one (largest manipulability) whose tip is above the base's plane and away from its
// axis; the paths run around its position and keep its orientation.
export function setDemoArm(arm, kin) {
  const random = lcg(20251207);
  const rows = arm.dof >= 6 ? 6 : 3;
  const reach = Math.max(arm.reach, 1e-3);
  let best = null;
  for (let k = 0; k < 256; ++k) {
    const q = arm.joints.map((j) => {
      const lo = Math.max(j.lower, -Math.PI), hi = Math.min(j.upper, Math.PI);
      return lo + (0.2 + 0.6 * random()) * (hi - lo);
    });
    const tip = kin.frames(q).pop();
    const [x, y, z] = [12, 13, 14].map((i) => tip.elements[i]);
    if (z < 0.2 * reach || Math.hypot(x, y) < 0.3 * reach) continue;
    const score = manipulability(kin, q, reach, rows);
    if (!best || score > best.score) best = { score, q, tip };
  }
  if (!best) {
    const q = arm.home.slice();
    best = { q, tip: kin.frames(q).pop() };
  }
  const e = best.tip.elements;
  frame = { centre: [e[12], e[13], e[14]], quat: quatOf(e), radius: PATH_RADIUS * reach, reach, q: best.q };
}

// [w, x, y, z] of the rotation in a column-major 4x4 (three.js's elements).
function quatOf(e) {
  const [m00, m10, m20, m01, m11, m21, m02, m12, m22] = [e[0], e[1], e[2], e[4], e[5], e[6], e[8], e[9], e[10]];
  const t = m00 + m11 + m22;
  let q;
  if (t > 0) { const s = 0.5 / Math.sqrt(t + 1); q = [0.25 / s, (m21 - m12) * s, (m02 - m20) * s, (m10 - m01) * s]; }
  else if (m00 > m11 && m00 > m22) { const s = 2 * Math.sqrt(1 + m00 - m11 - m22); q = [(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s]; }
  else if (m11 > m22) { const s = 2 * Math.sqrt(1 + m11 - m00 - m22); q = [(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s]; }
  else { const s = 2 * Math.sqrt(1 + m22 - m00 - m11); q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s]; }
  const n = Math.hypot(...q);
  return q.map((v) => v / n);
}

// The paths' radius as a share of the reach (the browser test widens them past the reach).
export function setDemoRadius(share) { frame.radius = share * frame.reach; }

// The demo's orientation ([w, x, y, z], base frame) and the configuration it came from.
export const demoQuat = () => frame.quat.slice();
export const demoConfiguration = () => frame.q.slice();

// The demo path `kind` ('circle', 'eight') at parameter t (deepik's base frame, m): a circle in
// the horizontal plane around the frame's centre, rising and falling a little; a figure-eight in
// the upright plane across the direction from the base to the centre.
export function demoPoint(kind, t) {
  const { centre: [cx, cy, cz], radius: r } = frame;
  const d = Math.hypot(cx, cy);
  const [ax, ay] = [-cy / d, cx / d];  // across: horizontal, at right angles to the base's direction
  if (kind === 'circle') {
    return [cx + r * Math.cos(t), cy + r * Math.sin(t), cz + 0.25 * r * Math.sin(2 * t)];
  }
  const s = r * Math.sin(t), u = 0.6 * r * Math.sin(2 * t);
  return [cx + s * ax, cy + s * ay, cz + u];
}

// Points along both demo paths (a full period each) and the arm's own extent (its base and a
// stretched-up pose): what the camera frames at start.
export function framedPoints(arm) {
  const points = [[0, 0, 0], [0, 0, 0.9 * arm.reach], initialTarget(arm), outOfReachTarget(arm)];
  for (const kind of ['circle', 'eight']) {
    for (let i = 0; i < 120; ++i) points.push(demoPoint(kind, (2 * Math.PI * i) / 120));
  }
  return points;
}
