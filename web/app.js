// deepik's page: the arm from /api/arm, solutions from /api/solve, the model from /api/model.
// Coordinates: deepik's base frame is z up; three.js is y up. Everything arm-related lives in
// `root`, a group rotated -90 deg about x, so its local coordinates are deepik's (x, y, z).
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const $ = (id) => document.getElementById(id);
const DEG = 180 / Math.PI;

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// ---------------------------------------------------------------- kinematics (from /api/arm)
function makeKinematics(arm) {
  const toMatrix = (pose) => new THREE.Matrix4().compose(
    new THREE.Vector3(...pose.p), new THREE.Quaternion(pose.quat[1], pose.quat[2], pose.quat[3], pose.quat[0]),
    new THREE.Vector3(1, 1, 1));
  const joints = arm.joints.map((j) => ({
    ...j, X_PJ: toMatrix(j.origin), axisVec: new THREE.Vector3(...j.axis).normalize(),
  }));
  const X_LT = toMatrix(arm.tip);
  const motion = new THREE.Matrix4();
  // Poses (in the base frame) of every joint's moving frame, then the tip: like deepik::JointFrames.
  function frames(q) {
    const out = [];
    const M = new THREE.Matrix4();
    joints.forEach((j, i) => {
      M.multiply(j.X_PJ);
      if (j.type === 'prismatic') {
        motion.makeTranslation(j.axisVec.x * q[i], j.axisVec.y * q[i], j.axisVec.z * q[i]);
      } else {
        motion.makeRotationAxis(j.axisVec, q[i]);
      }
      M.multiply(motion);
      out.push(M.clone());
    });
    out.push(M.clone().multiply(X_LT));
    return out;
  }
  return { joints, frames };
}

// ---------------------------------------------------------------- scene
const view = $('view');
const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setClearColor(0x0d1117);
view.appendChild(renderer.domElement);
renderer.domElement.tabIndex = 0;

const scene = new THREE.Scene();
scene.fog = new THREE.Fog(0x0d1117, 9, 22);
const camera = new THREE.PerspectiveCamera(45, 1, 0.01, 100);
const controls = new OrbitControls(camera, renderer.domElement);
controls.enableDamping = true;
controls.dampingFactor = 0.12;

scene.add(new THREE.HemisphereLight(0xcfe8ff, 0x1a1f29, 1.4));
const sun = new THREE.DirectionalLight(0xffffff, 2.2);
sun.position.set(4, 8, 5);
scene.add(sun);
const rim = new THREE.DirectionalLight(0x5cc8ff, 0.8);
rim.position.set(-6, 3, -5);
scene.add(rim);

const root = new THREE.Group();  // deepik's base frame
root.rotation.x = -Math.PI / 2;
scene.add(root);

const materials = {
  link: new THREE.MeshStandardMaterial({ color: 0xd8dee9, metalness: 0.35, roughness: 0.35 }),
  joint: new THREE.MeshStandardMaterial({ color: 0x2b3a4f, metalness: 0.6, roughness: 0.3 }),
  base: new THREE.MeshStandardMaterial({ color: 0x1f2a3a, metalness: 0.5, roughness: 0.5 }),
  tip: new THREE.MeshStandardMaterial({ color: 0x5cc8ff, emissive: 0x1a6a99, roughness: 0.3 }),
  target: new THREE.MeshStandardMaterial({ color: 0xff4d5e, emissive: 0x8a1020, roughness: 0.4 }),
  closest: new THREE.MeshBasicMaterial({ color: 0xffb547, transparent: true, opacity: 0.9 }),
};

const state = {
  arm: null, kin: null, model: null,
  q: [], qFrom: [], qTo: [], animStart: 0, animDuration: 450, animating: false,
  target: new THREE.Vector3(), solver: 'refined',
  inFlight: false, pending: false, lastSolve: null, dragging: false, demo: 'off', demoT: 0,
  requestCount: 0,
};

let linkMeshes = [], jointMeshes = [], tipMesh, targetMesh, closestMesh, missLine, workspacePoints = null;
let unit = 1;  // the arm's size scale (m)

function buildArm(arm) {
  unit = Math.max(arm.reach, 0.2);
  const r = 0.035 * unit;
  const base = new THREE.Mesh(new THREE.CylinderGeometry(2.4 * r, 3 * r, 1.2 * r, 40), materials.base);
  base.rotation.x = Math.PI / 2;  // cylinder axis y -> deepik z
  base.position.z = 0.6 * r;
  root.add(base);
  const cylinder = new THREE.CylinderGeometry(r, r, 1, 28);
  for (let i = 0; i <= arm.dof; ++i) {
    const link = new THREE.Mesh(cylinder, materials.link);
    root.add(link);
    linkMeshes.push(link);
  }
  const sphere = new THREE.SphereGeometry(1.55 * r, 28, 20);
  for (let i = 0; i < arm.dof; ++i) {
    const joint = new THREE.Mesh(sphere, materials.joint);
    root.add(joint);
    jointMeshes.push(joint);
  }
  tipMesh = new THREE.Mesh(new THREE.SphereGeometry(1.3 * r, 24, 16), materials.tip);
  tipMesh.name = 'tip';
  root.add(tipMesh);
  targetMesh = new THREE.Mesh(new THREE.SphereGeometry(1.6 * r, 28, 20), materials.target);
  targetMesh.name = 'target';
  root.add(targetMesh);
  const halo = new THREE.Mesh(new THREE.SphereGeometry(2.6 * r, 28, 20),
    new THREE.MeshBasicMaterial({ color: 0xff4d5e, transparent: true, opacity: 0.18, depthWrite: false }));
  targetMesh.add(halo);
  closestMesh = new THREE.Mesh(new THREE.TorusGeometry(2.2 * r, 0.35 * r, 12, 40), materials.closest);
  closestMesh.visible = false;
  root.add(closestMesh);
  const lineGeometry = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3()]);
  missLine = new THREE.Line(lineGeometry, new THREE.LineDashedMaterial({
    color: 0xffb547, dashSize: 0.04 * unit, gapSize: 0.03 * unit, transparent: true, opacity: 0.9 }));
  missLine.visible = false;
  root.add(missLine);

  // Ground grid (three's xz plane = deepik's xy plane) and base axes.
  const grid = new THREE.GridHelper(4 * unit, 20, 0x3a4a60, 0x1e2a38);
  scene.add(grid);
  const axes = new THREE.AxesHelper(0.35 * unit);  // red x, green y, blue z in deepik's frame
  root.add(axes);

  camera.position.set(1.55 * unit, 1.25 * unit, 2.35 * unit);
  controls.target.set(0.55 * unit, 0.3 * unit, 0);
  controls.update();
}

const yUp = new THREE.Vector3(0, 1, 0);
function placeLink(mesh, a, b) {
  const d = new THREE.Vector3().subVectors(b, a);
  const length = d.length();
  mesh.visible = length > 1e-6;
  if (!mesh.visible) return;
  mesh.position.copy(a).addScaledVector(d, 0.5);
  mesh.quaternion.setFromUnitVectors(yUp, d.divideScalar(length));
  mesh.scale.set(1, length, 1);
}

function drawArm(q) {
  const frames = state.kin.frames(q);
  const points = [new THREE.Vector3()];
  frames.forEach((M) => points.push(new THREE.Vector3().setFromMatrixPosition(M)));
  for (let i = 0; i < linkMeshes.length; ++i) placeLink(linkMeshes[i], points[i], points[i + 1]);
  jointMeshes.forEach((mesh, i) => mesh.position.copy(points[i + 1]));
  tipMesh.position.copy(points[points.length - 1]);
  updateReadouts(q, points[points.length - 1]);
}

// ---------------------------------------------------------------- panel
function buildPanel(arm, model) {
  $('subtitle').textContent = `${arm.name} arm · ${arm.dof} joints · reach ${arm.reach.toFixed(2)} m`;
  const jointsDiv = $('joints');
  arm.joints.forEach((j, i) => {
    const prismatic = j.type === 'prismatic';
    const fmt = (v) => (prismatic ? `${(v * 1000).toFixed(0)} mm` : `${(v * DEG).toFixed(0)}°`);
    const div = document.createElement('div');
    div.className = 'joint';
    div.innerHTML = `<div class="head"><span class="name">${j.name}</span><span class="value" id="jv${i}">–</span></div>
      <div class="track"><div class="fill" id="jf${i}"></div><div class="zero" id="jz${i}"></div><div class="knob" id="jk${i}"></div></div>
      <div class="range"><span>${fmt(j.lower)}</span><span>${fmt(j.upper)}</span></div>`;
    jointsDiv.appendChild(div);
    const span = j.upper - j.lower;
    const zero = span > 0 ? Math.min(Math.max((0 - j.lower) / span, 0), 1) : 0.5;
    $(`jz${i}`).style.left = `${zero * 100}%`;
  });
  const select = $('solver');
  for (const name of model.solvers) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = {
      network: 'network (learned, one pass)', refined: 'refined (network + LM)', analytic: 'analytic (closed form)',
      'kdl-nr': 'KDL Newton-Raphson', 'kdl-lma': 'KDL Levenberg-Marquardt',
    }[name] || name;
    select.appendChild(option);
  }
  select.value = model.default_solver;
  state.solver = select.value;
  buildModelCard(model);
}

function updateReadouts(q, tip) {
  state.arm.joints.forEach((j, i) => {
    const span = j.upper - j.lower;
    const t = span > 0 ? (q[i] - j.lower) / span : 0.5;
    const zero = span > 0 ? Math.min(Math.max(-j.lower / span, 0), 1) : 0.5;
    const fill = $(`jf${i}`);
    fill.style.left = `${Math.min(zero, t) * 100}%`;
    fill.style.width = `${Math.abs(t - zero) * 100}%`;
    $(`jk${i}`).style.left = `${t * 100}%`;
    $(`jv${i}`).textContent = j.type === 'prismatic' ? `${(q[i] * 1000).toFixed(1)} mm` : `${(q[i] * DEG).toFixed(1)}°`;
    const atLimit = span > 0 && (t < 0.01 || t > 0.99) && !j.continuous;
    $(`jv${i}`).parentElement.parentElement.classList.toggle('at-limit', atLimit);
  });
  $('tip-readout').textContent = fmtVec([tip.x, tip.y, tip.z]);
}

const fmtVec = (v) => v.map((x) => x.toFixed(2)).join(', ');

function fmtLength(m) {
  if (m < 1e-6) return `${(m * 1e9).toFixed(0)} nm`;
  if (m < 1e-3) return `${(m * 1e6).toFixed(1)} µm`;
  if (m < 1) return `${(m * 1e3).toFixed(m < 0.01 ? 3 : 1)} mm`;
  return `${m.toFixed(3)} m`;
}

function showSolve(answer, roundTripMs) {
  const status = $('status');
  const mm = answer.error * 1e3;
  $('error').textContent = `${mm < 0.001 ? mm.toExponential(1) : mm.toFixed(mm < 1 ? 4 : 1)} mm`;
  $('latency').textContent = answer.micros < 1000 ? `${answer.micros.toFixed(0)} µs` : `${(answer.micros / 1000).toFixed(1)} ms`;
  $('latency').title = `solver time on the server; round trip ${roundTripMs.toFixed(1)} ms`;
  let kind, text;
  if (answer.status === 'out of reach') {
    kind = 'out-of-reach';
    text = 'Out of reach';
  } else if (answer.status === 'converged') {
    kind = 'reached'; text = 'Reached';
  } else {
    kind = 'approximate'; text = 'Approximate';
  }
  status.dataset.state = kind;
  $('status-text').textContent = text;
  $('status-detail').textContent = {
    reached: `within ${fmtLength(answer.error)} of the target`,
    'out-of-reach': `stretched to the closest point, ${fmtLength(answer.error)} away`,
    approximate: `the ${answer.solver} solver stopped ${fmtLength(answer.error)} away`,
  }[kind];
  const miss = kind !== 'reached' && answer.error > 1e-4;
  closestMesh.visible = miss;
  missLine.visible = miss;
  if (miss) {
    const reached = new THREE.Vector3(...answer.reached);
    closestMesh.position.copy(reached);
    const towards = new THREE.Vector3().subVectors(state.target, reached).normalize();
    closestMesh.quaternion.setFromUnitVectors(new THREE.Vector3(0, 0, 1), towards);
    missLine.geometry.setFromPoints([reached, state.target.clone()]);
    missLine.computeLineDistances();
  }
}

function buildModelCard(model) {
  $('model-name').textContent = model.path;
  const n = model.network || {};
  const m = (model.metrics && model.metrics.in_reach) || {};
  const parts = [];
  if (n.depth) parts.push(`${n.depth} × ${n.width} ${n.activation || ''}`);
  if (n.head) parts.push(`${n.head} head`);
  parts.push(`${model.history.length} epochs`);
  $('model-summary').textContent = parts.join(' · ');
  drawCurve(model.history);
  const rows = [];
  const pct = (x) => (x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
  const len = (x) => (x === undefined ? '–' : fmtLength(x));
  rows.push(['network alone: median', len(m.median_m)]);
  rows.push(['p95 / p99', `${len(m.p95_m)} / ${len(m.p99_m)}`]);
  rows.push(['within 1 cm / 1 mm', `${pct(m.share_within_1cm)} / ${pct(m.share_within_1mm)}`]);
  rows.push(['limit violations', m.limit_violations === undefined ? '–' : String(m.limit_violations)]);
  if (model.metrics && model.metrics.samples_per_second) {
    rows.push(['training speed', `${Math.round(model.metrics.samples_per_second).toLocaleString('en')} samples/s`]);
  }
  $('metrics').innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
}

function drawCurve(history) {
  const svg = $('curve');
  const W = 320, H = 170, L = 44, R = 10, T = 20, B = 26;
  const pts = history.filter((h) => h.validation_median > 0);
  if (pts.length === 0) { svg.innerHTML = '<text x="10" y="20">no training history</text>'; return; }
  const mm = pts.map((h) => h.validation_median * 1e3);
  let lo = Math.min(...mm), hi = Math.max(...mm);
  const log = hi / lo > 8;
  const f = log ? Math.log10 : (x) => x;
  if (!log) { const pad = (hi - lo) * 0.1 || hi * 0.1 || 1; lo = Math.max(0, lo - pad); hi += pad; }
  const y0 = f(lo), y1 = f(hi) === f(lo) ? f(lo) + 1 : f(hi);
  const e0 = pts[0].epoch, e1 = Math.max(pts[pts.length - 1].epoch, e0 + 1);
  const X = (e) => L + ((e - e0) / (e1 - e0)) * (W - L - R);
  const Y = (v) => T + (1 - (f(v) - y0) / (y1 - y0)) * (H - T - B);
  let s = `<text class="title" x="${L}" y="12">validation median error (mm${log ? ', log' : ''}) per epoch</text>`;
  const ticks = [];
  if (log) {
    for (let p = Math.floor(y0); p <= Math.ceil(y1); ++p) {
      for (const k of [1, 2, 5]) { const v = k * 10 ** p; if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v); }
    }
  } else {
    for (let i = 0; i <= 4; ++i) ticks.push(lo + ((hi - lo) * i) / 4);
  }
  for (const v of ticks) {
    const y = Y(v).toFixed(1);
    s += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y}" y2="${y}"/>`;
    s += `<text x="${L - 5}" y="${(+y + 3).toFixed(1)}" text-anchor="end">${v < 1 ? v.toPrecision(2) : +v.toPrecision(3)}</text>`;
  }
  s += `<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${H - B}"/><line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`;
  for (const e of [e0, Math.round((e0 + e1) / 2), e1]) {
    s += `<text x="${X(e).toFixed(1)}" y="${H - B + 13}" text-anchor="middle">${e}</text>`;
  }
  s += `<text x="${W - R}" y="${H - 2}" text-anchor="end">epoch</text>`;
  const path = pts.map((h, i) => `${i ? 'L' : 'M'}${X(h.epoch).toFixed(1)},${Y(mm[i]).toFixed(1)}`).join('');
  s += `<path class="val" d="${path}"/>`;
  const last = pts[pts.length - 1];
  s += `<circle cx="${X(last.epoch).toFixed(1)}" cy="${Y(mm[mm.length - 1]).toFixed(1)}" r="3" fill="#5cc8ff"/>`;
  s += `<text x="${(X(last.epoch) - 4).toFixed(1)}" y="${(Y(mm[mm.length - 1]) - 7).toFixed(1)}" text-anchor="end" fill="#5cc8ff">${mm[mm.length - 1].toPrecision(3)} mm</text>`;
  svg.innerHTML = s;
}

// ---------------------------------------------------------------- solving and animation
function setTarget(p) {
  state.target.set(p[0], p[1], p[2]);
  targetMesh.position.copy(state.target);
  $('target-readout').textContent = fmtVec(p);
  requestSolve();
}

function requestSolve() {
  if (state.inFlight) { state.pending = true; return; }
  state.inFlight = true;
  state.pending = false;
  const target = [state.target.x, state.target.y, state.target.z];
  const started = performance.now();
  api('/api/solve', { target, solver: state.solver })
    .then((answer) => {
      answer.target = target;
      state.lastSolve = answer;
      state.requestCount += 1;
      showSolve(answer, performance.now() - started);
      animateTo(answer.q);
    })
    .catch((err) => {
      $('status').dataset.state = 'error';
      $('status-text').textContent = err.message;
    })
    .finally(() => {
      state.inFlight = false;
      if (state.pending) requestSolve();
    });
}

function animateTo(q) {
  state.qFrom = state.q.slice();
  // Full-turn joints take the short way round; q and q + 2 pi are the same configuration.
  state.qTo = q.map((v, i) => {
    if (!state.arm.joints[i].continuous) return v;
    const d = Math.atan2(Math.sin(v - state.qFrom[i]), Math.cos(v - state.qFrom[i]));
    return state.qFrom[i] + d;
  });
  state.animStart = performance.now();
  state.animDuration = state.demo !== 'off' || state.dragging ? 140 : 450;
  state.animating = true;
}

const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);

function stepAnimation(now) {
  if (!state.animating) return;
  const t = Math.min((now - state.animStart) / state.animDuration, 1);
  const k = ease(t);
  state.q = state.qFrom.map((a, i) => a + (state.qTo[i] - a) * k);
  if (t >= 1) { state.q = state.qTo.slice(); state.animating = false; }
  drawArm(state.q);
}

// ---------------------------------------------------------------- input: drag and keys
const raycaster = new THREE.Raycaster();
const pointer = new THREE.Vector2();
const dragPlane = new THREE.Plane();
const dragOffset = new THREE.Vector3();

function setPointer(event) {
  const rect = renderer.domElement.getBoundingClientRect();
  pointer.set(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
  raycaster.setFromCamera(pointer, camera);
}

renderer.domElement.addEventListener('pointerdown', (event) => {
  if (!targetMesh) return;
  setPointer(event);
  if (raycaster.intersectObject(targetMesh, true).length === 0) return;
  state.dragging = true;
  controls.enabled = false;
  renderer.domElement.setPointerCapture(event.pointerId);
  const world = targetMesh.getWorldPosition(new THREE.Vector3());
  dragPlane.setFromNormalAndCoplanarPoint(camera.getWorldDirection(new THREE.Vector3()), world);
  const hit = new THREE.Vector3();
  if (raycaster.ray.intersectPlane(dragPlane, hit)) dragOffset.subVectors(world, hit);
  event.preventDefault();
  event.stopImmediatePropagation();  // the orbit camera must not see this drag
}, { capture: true });

renderer.domElement.addEventListener('pointermove', (event) => {
  setPointer(event);
  if (!state.dragging) {
    renderer.domElement.style.cursor = targetMesh && raycaster.intersectObject(targetMesh, true).length ? 'grab' : '';
    return;
  }
  const hit = new THREE.Vector3();
  if (!raycaster.ray.intersectPlane(dragPlane, hit)) return;
  const local = root.worldToLocal(hit.add(dragOffset));
  setTarget([local.x, local.y, local.z]);
});

function endDrag(event) {
  if (!state.dragging) return;
  state.dragging = false;
  controls.enabled = true;
  if (renderer.domElement.hasPointerCapture(event.pointerId)) renderer.domElement.releasePointerCapture(event.pointerId);
}
renderer.domElement.addEventListener('pointerup', endDrag);
renderer.domElement.addEventListener('pointercancel', endDrag);

// The original app's keys: W/S along x, A/D along y, E/Q along z (deepik's base frame).
const keyMoves = { w: [1, 0, 0], s: [-1, 0, 0], a: [0, 1, 0], d: [0, -1, 0], e: [0, 0, 1], q: [0, 0, -1] };
window.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) return;
  const move = keyMoves[event.key.toLowerCase()];
  if (!move || !state.arm) return;
  const step = 0.01 * unit * (event.shiftKey ? 5 : 1);
  setTarget([state.target.x + move[0] * step, state.target.y + move[1] * step, state.target.z + move[2] * step]);
  event.preventDefault();
});

// ---------------------------------------------------------------- workspace, demo, buttons
async function toggleWorkspace(on) {
  if (on && !workspacePoints) {
    const { points } = await api('/api/workspace?n=6000&seed=7');
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.Float32BufferAttribute(points.flat(), 3));
    const colors = new Float32Array(points.length * 3);
    const c = new THREE.Color();
    points.forEach((p, i) => {
      c.setHSL(0.55 + 0.12 * (p[2] / unit), 0.75, 0.6);
      colors.set([c.r, c.g, c.b], 3 * i);
    });
    geometry.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    workspacePoints = new THREE.Points(geometry, new THREE.PointsMaterial({
      size: 0.018 * unit, vertexColors: true, transparent: true, opacity: 0.6, depthWrite: false, sizeAttenuation: true,
      map: dotTexture(), alphaTest: 0.05,
    }));
    root.add(workspacePoints);
  }
  if (workspacePoints) workspacePoints.visible = on;
}

// A soft round dot for the point cloud (drawn here: no image files to fetch).
function dotTexture() {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const g = canvas.getContext('2d');
  const gradient = g.createRadialGradient(32, 32, 0, 32, 32, 32);
  gradient.addColorStop(0, 'rgba(255,255,255,1)');
  gradient.addColorStop(0.45, 'rgba(255,255,255,0.85)');
  gradient.addColorStop(1, 'rgba(255,255,255,0)');
  g.fillStyle = gradient;
  g.fillRect(0, 0, 64, 64);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  return texture;
}

function demoPoint(kind, t) {
  const r = unit;
  if (kind === 'circle') {
    // A circle whose radius swells from inside the reach to beyond it.
    const radius = r * (0.65 + 0.5 * (0.5 + 0.5 * Math.sin(0.37 * t)));
    return [radius * Math.cos(t), radius * Math.sin(t), 0.45 * r + 0.25 * r * Math.sin(2 * t)];
  }
  // A figure-eight in front of the arm, its lobes reaching past the reach.
  return [1.2 * r * Math.sin(t), 0.6 * r * Math.sin(2 * t), 0.6 * r + 0.4 * r * Math.cos(t)];
}

function initialTarget(arm) {
  const r = arm.reach;
  return [0.4 * r, 0.15 * r, 0.5 * r];
}

// ---------------------------------------------------------------- main loop and test hooks
function resize() {
  const w = view.clientWidth, h = view.clientHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / Math.max(h, 1);
  camera.updateProjectionMatrix();
}
window.addEventListener('resize', resize);

let lastFrame = performance.now();
function frame(now) {
  const dt = Math.min((now - lastFrame) / 1000, 0.1);
  lastFrame = now;
  if (state.demo !== 'off' && !state.dragging) {
    state.demoT += dt * 0.55;
    setTarget(demoPoint(state.demo, state.demoT));
  }
  stepAnimation(now);
  if (targetMesh) {
    const pulse = 1 + 0.06 * Math.sin(now / 220);
    targetMesh.children[0].scale.setScalar(pulse);
  }
  controls.update();
  renderer.render(scene, camera);
  requestAnimationFrame(frame);
}

const toBase = (v) => [v.x, -v.z, v.y];  // three's world (y up) -> deepik's base frame (z up)

async function main() {
  resize();
  const [arm, model] = await Promise.all([api('/api/arm'), api('/api/model')]);
  state.arm = arm;
  state.model = model;
  state.kin = makeKinematics(arm);
  buildArm(arm);
  buildPanel(arm, model);
  state.q = arm.home.slice();
  drawArm(state.q);

  $('solver').addEventListener('change', (e) => { state.solver = e.target.value; requestSolve(); e.target.blur(); });
  $('workspace-toggle').addEventListener('change', (e) => toggleWorkspace(e.target.checked));
  $('demo').addEventListener('change', (e) => { state.demo = e.target.value; e.target.blur(); });
  $('reset').addEventListener('click', () => { state.demo = 'off'; $('demo').value = 'off'; setTarget(initialTarget(arm)); });
  $('stretch').addEventListener('click', () => {
    state.demo = 'off'; $('demo').value = 'off';
    setTarget([1.3 * arm.reach, 0.25 * arm.reach, 0.55 * arm.reach]);
  });

  setTarget(initialTarget(arm));
  requestAnimationFrame(frame);

  window.deepik = {
    ready: true,
    setTarget: (p) => setTarget(p),
    target: () => [state.target.x, state.target.y, state.target.z],
    // The drawn tip's world position, read from the scene and expressed in deepik's base frame.
    tipPosition: () => {
      scene.updateMatrixWorld(true);
      return toBase(tipMesh.getWorldPosition(new THREE.Vector3()));
    },
    // Where the target marker is on screen (CSS pixels, page coordinates), for driving the mouse.
    targetScreenPosition: () => {
      scene.updateMatrixWorld(true);
      const p = targetMesh.getWorldPosition(new THREE.Vector3()).project(camera);
      const rect = renderer.domElement.getBoundingClientRect();
      return [rect.left + ((p.x + 1) / 2) * rect.width, rect.top + ((1 - p.y) / 2) * rect.height];
    },
    settled: () => !state.animating && !state.inFlight && !state.pending && !state.dragging
      && state.lastSolve !== null && state.demo === 'off',
    get lastSolve() { return state.lastSolve; },
    get requestCount() { return state.requestCount; },
  };
}

main().catch((err) => {
  $('status').dataset.state = 'error';
  $('status-text').textContent = `cannot load: ${err.message}`;
  console.error(err);
});
