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

// The tip's Jacobian at q by central differences, as columns: the position rate / reach, and for
// arms that take poses (`rows` 6) the rotation rate (the axial vector of dR R^T).
function jacobian(kin, q, reach, rows) {
  const h = 1e-5;
  return q.map((_, i) => {
    const plus = q.slice(), minus = q.slice();
    plus[i] += h; minus[i] -= h;
    const A = kin.frames(plus).pop().elements, B = kin.frames(minus).pop().elements;
    const dp = [12, 13, 14].map((k) => (A[k] - B[k]) / (2 * h * reach));
    if (rows === 3) return dp;
    const dR = (r, c) => (A[4 * c + r] - B[4 * c + r]) / (2 * h);
    const R = (r, c) => (A[4 * c + r] + B[4 * c + r]) / 2;
    const w = (r, c) => dR(r, 0) * R(c, 0) + dR(r, 1) * R(c, 1) + dR(r, 2) * R(c, 2);
    return [...dp, w(2, 1), w(0, 2), w(1, 0)];
  });
}

// J J^T of Jacobian columns.
const gram = (columns, rows) => Array.from({ length: rows }, (_, r) => Array.from({ length: rows },
  (__, c) => columns.reduce((s, col) => s + col[r] * col[c], 0)));

// The manipulability sqrt(det(J J^T)).
function manipulability(kin, q, reach, rows) {
  return Math.sqrt(Math.max(determinant(gram(jacobian(kin, q, reach, rows), rows)), 0));
}

// x of A x = b (A square, rows), by elimination with partial pivoting.
function solveLinear(A, b) {
  const m = A.map((row, i) => [...row, b[i]]);
  const n = m.length;
  for (let c = 0; c < n; ++c) {
    let p = c;
    for (let r = c + 1; r < n; ++r) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[p], m[c]] = [m[c], m[p]];
    for (let r = c + 1; r < n; ++r) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; ++k) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; --r) {
    let v = m[r][n];
    for (let k = r + 1; k < n; ++k) v -= m[r][k] * x[k];
    x[r] = v / m[r][r];
  }
  return x;
}

// The tip's error from position p and rotation T (column-major elements) at elements M: the
// position / reach and, for poses, half the sum of the columns' cross products (R_i x T_i).
function tipError(M, p, T, reach, rows) {
  const e = [0, 1, 2].map((k) => (p[k] - M[12 + k]) / reach);
  if (rows === 3) return e;
  const w = [0, 0, 0];
  for (let c = 0; c < 3; ++c) {
    const [a, b] = [[M[4 * c], M[4 * c + 1], M[4 * c + 2]], [T[4 * c], T[4 * c + 1], T[4 * c + 2]]];
    w[0] += 0.5 * (a[1] * b[2] - a[2] * b[1]);
    w[1] += 0.5 * (a[2] * b[0] - a[0] * b[2]);
    w[2] += 0.5 * (a[0] * b[1] - a[1] * b[0]);
  }
  return [...e, ...w];
}

// The share of `points` the arm reaches in turn from q (damped least squares within the limits,
// each point from the last one's joints), holding the orientation T: a check, in the page, that a
// candidate path lies in the workspace at an orientation the arm can hold.
function shareReached(kin, arm, q0, points, T, reach, rows) {
  let q = q0.slice(), reached = 0;
  const clamp = (v, j) => Math.min(Math.max(v, j.lower), j.upper);
  for (const p of points) {
    let e = tipError(kin.frames(q).pop().elements, p, T, reach, rows);
    for (let it = 0; it < 15 && Math.hypot(...e) > 1e-7; ++it) {
      const J = jacobian(kin, q, reach, rows);
      const A = gram(J, rows).map((row, i) => row.map((v, k) => v + (i === k ? 1e-4 : 0)));
      const y = solveLinear(A, e);
      q = q.map((v, i) => clamp(v + J[i].reduce((s, x, r) => s + x * y[r], 0), arm.joints[i]));
      e = tipError(kin.frames(q).pop().elements, p, T, reach, rows);
    }
    if (Math.hypot(...e) < 1e-5) reached += 1;
  }
  return reached / points.length;
}

let frame = null;  // the demo paths' centre, orientation and radius for the arm shown

// The demo's frame for `arm` (its /api/arm description) and `kin` (kinematics.js): among 128
// seeded configurations with every joint in the middle 60 % of its range, whose tip is above the
// base's plane and away from its axis, the most dexterous (largest manipulability) whose paths the
// arm follows (shareReached: 98 % of 24 points of each, at the tip's orientation); the paths run
// around its tip position and keep its orientation. Without one, the most dexterous.
export function setDemoArm(arm, kin) {
  const random = lcg(20251207);
  const rows = arm.dof >= 6 ? 6 : 3;
  const reach = Math.max(arm.reach, 1e-3);
  const candidates = [];
  for (let k = 0; k < 128; ++k) {
    const q = arm.joints.map((j) => {
      const lo = Math.max(j.lower, -Math.PI), hi = Math.min(j.upper, Math.PI);
      return lo + (0.2 + 0.6 * random()) * (hi - lo);
    });
    const tip = kin.frames(q).pop();
    const [x, y, z] = [12, 13, 14].map((i) => tip.elements[i]);
    if (z < 0.2 * reach || Math.hypot(x, y) < 0.3 * reach) continue;
    candidates.push({ score: manipulability(kin, q, reach, rows), q, tip });
  }
  candidates.sort((a, b) => b.score - a.score);
  const frameOf = ({ q, tip }) => {
    const e = tip.elements;
    return { centre: [e[12], e[13], e[14]], quat: quatOf(e), radius: PATH_RADIUS * reach, reach, q };
  };
  const follows = (c) => {
    const f = frameOf(c);
    return ['circle', 'eight'].every((kind) => shareReached(kin, arm, c.q,
      Array.from({ length: 24 }, (_, i) => pathPoint(f, kind, (2 * Math.PI * i) / 24)), c.tip.elements, reach, rows) >= 0.98);
  };
  const chosen = candidates.slice(0, 16).find(follows) || candidates[0]
    || { q: arm.home.slice(), tip: kin.frames(arm.home).pop() };
  frame = frameOf(chosen);
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
export const demoPoint = (kind, t) => pathPoint(frame, kind, t);

function pathPoint({ centre: [cx, cy, cz], radius: r }, kind, t) {
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
