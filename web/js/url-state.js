// The page's state in its address, so that reloading or sending the address reproduces the view:
//   ?mode=ik&solver=refined&target=0.8,0.3,1[&quat=w,x,y,z|none][&solutions=4]&camera=px,py,pz,tx,ty,tz[&demo=circle][&embed=1]
//   ?mode=fk&q=0.1,-0.5,...&camera=...
// and, when the server offers several arms or models, &model=NAME first (GET /api/models);
// &scene=... the obstacles (scene-format.js: b,x,y,z,sx,sy,sz;s,x,y,z,r;...), in either mode.
// target: deepik's base frame (m); camera: its position then the point it orbits, in three.js's
// world (y up, m); quat: the target's orientation (base frame; "none": a point target, on arms
// that take poses); solutions: how many solutions are drawn as ghosts (2, 4 or 8); q: joint values
// (rad, or m for prismatic joints). parseViewState and formatViewState are pure (node tests
// them); the page keeps the address up to date with history.replaceState, so the back button is
// not filled with every drag.

import { parseSceneParam, formatSceneParam } from './scene-format.js';

const numbers = (text, n) => {
  if (typeof text !== 'string') return null;
  const v = text.split(',').map(Number);
  return v.length === n && v.every(Number.isFinite) ? v : null;
};
const TARGET_BOUND = 1e4;  // m, as the JSON API

// What an address asks for, checked against the arm and the solvers on offer: anything malformed
// or out of range is left out (the page's defaults stand) and named in `ignored`.
export function parseViewState(search, { dof, joints, solvers }) {
  const params = new URLSearchParams(search);
  const view = { ignored: [] };
  const bad = (key) => view.ignored.push(key);
  const mode = params.get('mode');
  if (mode !== null) { if (mode === 'ik' || mode === 'fk') view.mode = mode; else bad('mode'); }
  const solver = params.get('solver');
  if (solver !== null) { if (solvers.includes(solver)) view.solver = solver; else bad('solver'); }
  if (params.has('target')) {
    const t = numbers(params.get('target'), 3);
    if (t && t.every((x) => Math.abs(x) <= TARGET_BOUND)) view.target = t; else bad('target');
  }
  if (params.has('quat')) {
    const text = params.get('quat');
    const w = numbers(text, 4);
    const norm = w ? Math.hypot(...w) : 0;
    if (text === 'none') view.quat = null;
    else if (w && Math.abs(norm - 1) < 1e-3) view.quat = w.map((x) => x / norm);
    else bad('quat');
  }
  if (params.has('camera')) {
    const c = numbers(params.get('camera'), 6);
    if (c && Math.hypot(c[0] - c[3], c[1] - c[4], c[2] - c[5]) > 1e-6) {
      view.camera = { position: c.slice(0, 3), target: c.slice(3) };
    } else {
      bad('camera');
    }
  }
  if (params.has('q')) {
    const q = numbers(params.get('q'), dof);
    // The address rounds to 1e-6, so a value at a limit may read a hair past it: clamped.
    const slack = 1e-5;
    if (q && q.every((v, i) => v >= joints[i].lower - slack && v <= joints[i].upper + slack)) {
      view.q = q.map((v, i) => Math.min(Math.max(v, joints[i].lower), joints[i].upper));
    } else {
      bad('q');
    }
  }
  const solutions = params.get('solutions');
  if (solutions !== null) { if (['2', '4', '8'].includes(solutions)) view.solutions = Number(solutions); else bad('solutions'); }
  const demo = params.get('demo');
  if (demo !== null) { if (['off', 'circle', 'eight'].includes(demo)) view.demo = demo; else bad('demo'); }
  if (params.has('scene')) {
    const obstacles = parseSceneParam(params.get('scene'));
    if (obstacles) view.obstacles = obstacles; else bad('scene');
  }
  view.embed = params.get('embed') === '1';
  return view;
}

// The arm or model the address names, if the server offers it (`names`); else null.
export function requestedModel(search, names) {
  const name = new URLSearchParams(search).get('model');
  return name !== null && names.includes(name) ? name : null;
}

// Shortest decimal of x to `digits` decimals (0.800000 -> 0.8).
const short = (x, digits) => String(Number(x.toFixed(digits)));

// The address's query for a view: the target in IK mode, the joint values in FK mode.
export function formatViewState({ model, mode, solver, target, quat, camera, q, demo, embed, solutions, obstacles }) {
  const parts = model ? [`model=${encodeURIComponent(model)}`, `mode=${mode}`] : [`mode=${mode}`];
  if (mode === 'ik') {
    parts.push(`solver=${encodeURIComponent(solver)}`);
    parts.push(`target=${target.map((x) => short(x, 6)).join(',')}`);
    if (quat === null) parts.push('quat=none');
    else if (quat !== undefined) parts.push(`quat=${quat.map((x) => short(x, 6)).join(',')}`);
    if (solutions >= 2) parts.push(`solutions=${solutions}`);
    if (demo && demo !== 'off') parts.push(`demo=${demo}`);
  } else {
    parts.push(`q=${q.map((x) => short(x, 6)).join(',')}`);
  }
  if (obstacles && obstacles.length) parts.push(`scene=${formatSceneParam(obstacles)}`);
  parts.push(`camera=${[...camera.position, ...camera.target].map((x) => short(x, 4)).join(',')}`);
  if (embed) parts.push('embed=1');
  return `?${parts.join('&')}`;
}

// Keeps the address in step with the page, at most four times a second (a drag or the demo
// changes the state every frame); `read` returns the view as formatViewState takes it.
export function makeAddressKeeper(read) {
  let last = 0, timer = null;
  const write = () => {
    timer = null;
    last = performance.now();
    const search = formatViewState(read());
    if (search !== window.location.search) {
      window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
    }
  };
  return () => {
    if (timer !== null) return;
    timer = setTimeout(write, Math.max(0, 250 - (performance.now() - last)));
  };
}
