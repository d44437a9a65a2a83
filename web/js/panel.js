// The side panel: the IK/FK mode, subtitle, status with its error and latency, target and tip
// readouts, one bar (FK mode: one slider) per joint, the solver choice and the explore controls. It only shows things; what the
// controls do is passed in by the page (app.js).
import { $, el, DEG, fmtVec, fmtLength } from './util.js';
import { atLimit, rpyFromMatrixElements, fmtAngleDeg, jointDistance } from './format.js';
import { buildModelCard } from './model-card.js';
import { SOLUTION_COLORS } from './arm.js';


const SOLVER_LABELS = {
  network: 'network (learned, one pass)', refined: 'refined (network + LM)', analytic: 'analytic (closed form)',
  'kdl-nr': 'KDL Newton-Raphson', 'kdl-nr-restarts': 'KDL NR + restarts (MoveIt)',
  'kdl-lma': 'KDL Levenberg-Marquardt', 'kdl-lma-restarts': 'KDL LM + restarts',
  lm: 'lm (Levenberg-Marquardt, restarts)',
};

// Where joint value v sits on its bar (0 = lower limit, 1 = upper); mid-bar if the range is empty.
function barFraction(j, v) {
  const span = j.upper - j.lower;
  return span > 0 ? (v - j.lower) / span : 0.5;
}
const clamp01 = (x) => Math.min(Math.max(x, 0), 1);

// Revolute joints read in degrees, prismatic ones in millimetres.
function fmtJoint(j, v, digits) {
  return j.type === 'prismatic' ? `${(v * 1000).toFixed(digits)} mm` : `${(v * DEG).toFixed(digits)}°`;
}

function addJointBar(parent, j, i) {
  const knob = (part) => el('div', { class: part, id: `j${part[0]}${i}` });
  const slider = el('input', {
    type: 'range', class: 'slider', id: `js${i}`, 'data-i': i, min: j.lower, max: j.upper, step: 'any', 'aria-label': j.name,
  });
  const div = el('div', { class: 'joint', 'data-i': i }, [
    el('div', { class: 'head' }, [el('span', { class: 'name' }, [j.name]), el('span', { class: 'value', id: `jv${i}` }, ['–'])]),
    el('div', { class: 'track' }, [knob('fill'), knob('zero'), knob('knob')]),
    slider,
    el('div', { class: 'range' }, [el('span', {}, [fmtJoint(j, j.lower, 0)]), el('span', {}, [fmtJoint(j, j.upper, 0)])]),
  ]);
  parent.appendChild(div);
  $(`jz${i}`).style.left = `${clamp01(barFraction(j, 0)) * 100}%`;
}

function fillSolverChoice(solvers, defaultSolver) {
  const select = $('solver');
  for (const name of solvers) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = SOLVER_LABELS[name] || name;
    select.appendChild(option);
  }
  select.value = defaultSolver;
  return select.value;
}

// The arm-and-model choice, shown when the server offers more than one; choosing calls onChoose.
export function buildModelChoice(models, selected, onChoose) {
  if (models.length < 2) return;
  const select = $('model-select');
  for (const m of models) {
    const option = document.createElement('option');
    option.value = m.name;
    const arm = m.arm === m.name ? '' : ` (${m.arm})`;
    option.textContent = `${m.name}${arm} · ${m.dof} joints${m.has_model ? '' : ' · no model'}`;
    select.appendChild(option);
  }
  select.value = selected;
  $('model-choice').hidden = false;
  select.addEventListener('change', () => onChoose(select.value));
}

// Fills the panel for this arm and model; returns the solver selected at start.
export function buildPanel(arm, model) {
  $('subtitle').textContent = `${arm.name} arm · ${arm.dof} joints · reach ${arm.reach.toFixed(2)} m`;
  const jointsDiv = $('joints');
  jointsDiv.replaceChildren();  // another arm's rows
  $('solver').replaceChildren();
  arm.joints.forEach((j, i) => addJointBar(jointsDiv, j, i));
  const solver = fillSolverChoice(model.solvers, model.default_solver);
  buildModelCard(model);
  return solver;
}

// The joint bars fill from zero to the value; a joint near a limit is highlighted (a full-turn
// joint has no limit to be at: its -180 and +180 degrees are the same pose). The tip pose:
// position (m) and roll, pitch, yaw (degrees) of the tip frame X_BT (a three.js Matrix4).
export function updateReadouts(joints, q, tip, X_BT) {
  joints.forEach((j, i) => {
    const t = barFraction(j, q[i]);
    const zero = clamp01(barFraction(j, 0));
    const fill = $(`jf${i}`);
    fill.style.left = `${Math.min(zero, t) * 100}%`;
    fill.style.width = `${Math.abs(t - zero) * 100}%`;
    $(`jk${i}`).style.left = `${t * 100}%`;
    $(`jv${i}`).textContent = fmtJoint(j, q[i], 1);
    $(`jv${i}`).parentElement.parentElement.classList.toggle('at-limit', atLimit(j, q[i]));
    const slider = $(`js${i}`);
    if (document.activeElement !== slider) slider.value = String(q[i]);
  });
  $('tip-readout').textContent = fmtVec([tip.x, tip.y, tip.z]);
  const [roll, pitch, yaw] = rpyFromMatrixElements(X_BT.elements).map((a) => (a * DEG).toFixed(1));
  $('tip-pose').textContent = `${[tip.x, tip.y, tip.z].map((x) => x.toFixed(3)).join(', ')} m · `
    + `${roll}°, ${pitch}°, ${yaw}°`;
}

export function showTarget(p) {
  $('target-readout').textContent = fmtVec(p);
}

// The answer's status, in the words of the API and the command line (SolveStatus's ToString):
// converged, approximate, out of reach, failed. `state` is the CSS state of #status (which the
// end-to-end test reads); `text` what the panel says.
const STATUS = {
  converged: { state: 'reached', text: 'Converged', detail: (away, solver, pose) => `within ${away} of the target${pose ? ' pose' : ''}` },
  approximate: {
    state: 'approximate', text: 'Approximate',
    detail: (away, solver) => `the ${solver} solver's answer is ${away} away`,
  },
  'out of reach': {
    state: 'out-of-reach', text: 'Out of reach',
    detail: (away, solver, pose) => (pose ? `the closest pose reached is ${away} away` : `stretched to the closest point, ${away} away`),
  },
  failed: { state: 'failed', text: 'Failed', detail: (away, solver) => `the ${solver} solver gave up ${away} away` },
  // Collision-aware solving: reached only in collision (or closer than the clearance), or no clear
  // answer within the time budget; the arm shows the least penetrating answer.
  'in collision': {
    state: 'in-collision', text: 'In collision',
    detail: (away, solver, pose, answer) => `no clear answer: ${minDistanceText(answer)}, ${away} from the target`,
  },
};

// The answer's smallest distance between checked bodies (the sphere model's), in words.
function minDistanceText(answer) {
  const d = answer.min_distance;
  if (typeof d !== 'number') return 'the bodies touch';
  return d < 0 ? `bodies overlap by ${fmtLength(-d)}` : `bodies ${fmtLength(d)} apart, under the clearance`;
}

// The answer's error and server time, and its status in words. A pose target's answer has an
// angle error too (null for a point target: no orientation was asked).
export function showSolve(answer, roundTripMs) {
  const pose = answer.angle_error !== null && answer.angle_error !== undefined;
  $('error').textContent = fmtLength(answer.position_error);
  $('angle-error').textContent = pose ? fmtAngleDeg(answer.angle_error) : 'any';
  $('latency').textContent = answer.micros < 1000 ? `${answer.micros.toFixed(0)} µs` : `${(answer.micros / 1000).toFixed(1)} ms`;
  $('latency').title = `solver time on the server; round trip ${roundTripMs.toFixed(1)} ms`;
  const status = STATUS[answer.status] || STATUS.failed;
  $('status').dataset.state = status.state;
  $('status-text').textContent = status.text;
  const away = pose ? `${fmtLength(answer.position_error)} and ${fmtAngleDeg(answer.angle_error)}` : fmtLength(answer.position_error);
  let detail = status.detail(away, answer.solver, pose, answer);
  if (answer.status === 'converged' && typeof answer.min_distance === 'number') detail += `, clear by ${fmtLength(answer.min_distance)}`;
  if (answer.note) detail += ` (${answer.note})`;
  $('status-detail').textContent = detail;
  // A pose out of reach: the point may still be reachable, so the page offers to let go of the
  // orientation ("position only").
  $('release-orientation').hidden = !(pose && answer.status === 'out of reach');
}

// FK mode: the status says what moves the arm; there is no target, error or solve time.
export function showFkStatus() {
  $('status').dataset.state = 'fk';
  $('release-orientation').hidden = true;
  $('status-text').textContent = 'Forward kinematics';
  $('status-detail').textContent = 'the joint sliders move the arm; the tip pose is below';
  $('error').textContent = '–';
  $('angle-error').textContent = '–';
  $('latency').textContent = '–';
}

// The legend names the closest-point ring only while it is drawn.
export function showClosestLegend(on) {
  $('legend-closest').hidden = !on;
}

// The pair of links in self-collision (tinted in the view), or none.
export function showCollisionLegend(pair) {
  $('legend-collision').hidden = pair.length === 0;
  $('collision-pair').textContent = pair.join(' – ');
}

// The sphere model toggle: for arms that have one.
export function showSpheresChoice(available) {
  $('spheres-row').hidden = !available;
  $('spheres-toggle').checked = false;  // another arm's spheres start hidden
}

export function showGhostLegend(on) {
  $('legend-ghost').hidden = !on;
}

const cssColor = (hex) => `#${hex.toString(16).padStart(6, '0')}`;

// The solutions on show, one row each in its ghost's colour with its joint-space distance from
// the arm's pose (`q`); the row of the pose the arm has is pressed. `note` says why there are
// none (empty: nothing to say).
export function showSolutionList(solutions, q, joints, note) {
  const list = $('solutions-list');
  list.replaceChildren();
  solutions.forEach((s, k) => {
    const d = jointDistance(joints, s.q, q);
    const dot = el('i', { class: 'dot' });
    dot.style.background = cssColor(SOLUTION_COLORS[k]);
    list.appendChild(el('button', { type: 'button', class: 'solution', 'data-k': k, 'aria-pressed': d < 1e-9 }, [
      dot, `solution ${k + 1}`, el('small', {}, [d < 1e-9 ? 'the arm is here' : `${d.toFixed(2)} rad away`]),
    ]));
  });
  if (note) {
    const p = document.createElement('div');
    p.className = 'note';
    p.textContent = note;
    list.appendChild(p);
  }
  list.hidden = solutions.length === 0 && !note;
  $('legend-solutions').hidden = solutions.length === 0;
}

// The legend of the tracked demo's marks, while there are some.
export function showTrackLegend(on) {
  $('legend-track').hidden = !on;
}

// The tracked demo's label in the view: 'reconfiguration', 'out of reach', 'in collision', or hidden (null).
const TRACK_LABELS = {
  reconfiguration: 'reconfiguration: the arm cannot follow continuously and changes branch',
  'out of reach': 'out of reach: the closest point reached without a jump',
  'in collision': 'in collision: no clear continuation; the arm holds its last clear joints',
};
export function showTrackLabel(kind) {
  const label = $('track-label');
  label.hidden = kind === null;
  if (kind === null) return;
  label.dataset.kind = kind;
  label.textContent = TRACK_LABELS[kind] || kind;
}

// The pose controls as the state has them: position only, and the gizmo's mode (turning needs
// an orientation).
export function showPoseChoice(positionOnly, gizmoMode) {
  $('position-only').checked = positionOnly;
  $('gizmo-rotate').disabled = positionOnly;
  $(`gizmo-${gizmoMode}`).checked = true;
}

export function showModeChoice(mode) {
  $(`mode-${mode}`).checked = true;
  document.body.classList.toggle('fk', mode === 'fk');
}

export function showSolverChoice(name) {
  $('solver').value = name;
}

export function showError(message) {
  $('status').dataset.state = 'error';
  $('release-orientation').hidden = true;
  $('status-text').textContent = message;
}

export function showDemoChoice(kind) {
  $('demo').value = kind;
}

export function showSolutionsChoice(k) {
  $('solutions-k').value = String(k);
}

// Wires the controls to the page's actions. A select gives focus back after a choice, so the
// W/A/S/D/E/Q keys move the target again instead of changing the selection.
export function bindControls({
  onSolver, onWorkspace, onDemo, onReset, onStretch, onMode, onJoint, onJointHover, onShare, onSheet,
  onPositionOnly, onGizmoMode, onGhost, onSolutionsK, onPickSolution, onAvoidLimits, onSpheres,
}) {
  $('spheres-toggle').addEventListener('change', (e) => onSpheres(e.target.checked));
  $('avoid-limits').addEventListener('change', (e) => onAvoidLimits(e.target.checked));
  $('solutions-k').addEventListener('change', (e) => { onSolutionsK(Number(e.target.value)); e.target.blur(); });
  $('solutions-list').addEventListener('click', (e) => {
    const button = e.target.closest('button.solution');
    if (button) onPickSolution(Number(button.dataset.k));
  });
  $('position-only').addEventListener('change', (e) => onPositionOnly(e.target.checked));
  $('release-orientation').addEventListener('click', (e) => { onPositionOnly(true); e.target.blur(); });
  for (const mode of ['translate', 'rotate']) {
    $(`gizmo-${mode}`).addEventListener('change', (e) => { if (e.target.checked) onGizmoMode(mode); });
  }
  $('ghost-toggle').addEventListener('change', (e) => onGhost(e.target.checked));
  // The joint rows are rebuilt for another arm: their events are taken where they bubble to.
  const joints = $('joints');
  joints.addEventListener('pointerover', (e) => {
    const row = e.target.closest('.joint');
    onJointHover(row ? Number(row.dataset.i) : null);
  });
  joints.addEventListener('pointerleave', () => onJointHover(null));
  joints.addEventListener('input', (e) => {
    if (e.target.matches('input.slider')) onJoint(Number(e.target.dataset.i), Number(e.target.value));
  });
  for (const mode of ['ik', 'fk']) $(`mode-${mode}`).addEventListener('change', (e) => { if (e.target.checked) onMode(mode); });
  $('share').addEventListener('click', onShare);
  $('sheet-handle').addEventListener('click', onSheet);
  $('solver').addEventListener('change', (e) => { onSolver(e.target.value); e.target.blur(); });
  $('workspace-toggle').addEventListener('change', (e) => onWorkspace(e.target.checked));
  $('demo').addEventListener('change', (e) => { onDemo(e.target.value); e.target.blur(); });
  $('reset').addEventListener('click', onReset);
  $('stretch').addEventListener('click', onStretch);
}
