// Asking the server for a solution and animating the arm to it. Only one solve is in flight at
// a time: targets that arrive meanwhile (a drag sends one per mouse move) collapse into one
// follow-up request for the latest target, so the server is never flooded.
import { state } from './state.js';
import { solve } from './api.js';
import { drawArm, placeTarget, showMiss, drawGhost } from './arm.js';
import { showSolve, showError, showTarget, updateReadouts, showClosestLegend, showGhostLegend } from './panel.js';
import { requestRender } from './scene.js';
import { setTargetOrientation } from './pose.js';
import { requestSolutions } from './solutions.js';

// Moves the target (deepik's base frame) and asks for a solution. `quat` ([w, x, y, z]) turns it
// too; null makes it a point; left out, the target keeps its orientation.
export function setTarget(p, quat) {
  moveTarget(p, quat);
  if (state.mode === 'ik') requestSolve();
}

// Moves the target marker (and its readout) without asking for a solution: the tracked demo
// (track.js) has its answers already.
export function moveTarget(p, quat) {
  state.target.set(p[0], p[1], p[2]);
  if (quat !== undefined) setTargetOrientation(quat);
  placeTarget(state.target);
  showTarget(p);
  requestRender();
}

// The target as the API takes it: [x, y, z], or { p, quat } with an orientation.
export function targetForApi() {
  const p = [state.target.x, state.target.y, state.target.z];
  return state.targetQuat ? { p, quat: state.targetQuat.slice() } : p;
}

export function requestSolve() {
  if (state.inFlight) { state.pending = true; return; }
  state.inFlight = true;
  state.pending = false;
  const target = targetForApi();
  const started = performance.now();
  // Avoiding the limits chooses among exact solutions: the network alone has none to choose from.
  const objectives = state.avoidLimits && state.solver !== 'network' ? { avoid_limits: 1 } : {};
  solve(target, state.solver, objectives)
    .then((answer) => {
      answer.objectives = objectives;
      answer.target = target;  // the target this answer is for (the test hook reports it)
      state.lastSolve = answer;
      state.requestCount += 1;
      const roundTripMs = performance.now() - started;
      state.roundTrips.push(roundTripMs);
      if (state.roundTrips.length > 1000) state.roundTrips.shift();
      if (state.mode !== 'ik') return;  // FK mode took over while this was out
      if (state.demo !== 'off' && !state.dragging) return;  // the tracked demo moves the arm
      showAnswer(answer, roundTripMs);
      animateTo(answer.q);
      requestGhost(target);
      requestSolutions(target, answer.q);
    })
    .catch((err) => showError(err.message))
    .finally(() => {
      state.inFlight = false;
      if (state.pending) requestSolve();
    });
}

// The panel's status, and in the view the miss when the answer is off by more than 0.1 mm: a
// dashed line to the target, and the closest-point ring only for an "out of reach" answer of a
// solve (`ring` false: a tracked row, whose point is the closest reached without a jump, not
// necessarily the closest of all).
export function showAnswer(answer, roundTripMs, ring = true) {
  showSolve(answer, roundTripMs);
  const miss = answer.status !== 'converged' && answer.position_error > 1e-4;
  const closest = ring && answer.status === 'out of reach';
  showMiss(miss, closest, answer.reached, state.target);
  showClosestLegend(miss && closest);
  requestRender();
}

// The network's raw answer for the same target, drawn as a translucent ghost beside the refined
// one: only when a model is loaded, the refined solver answers and the toggle is on. One request
// at a time; a newer target meanwhile replaces the waiting one.
let ghostInFlight = false, ghostWaiting = null;
function requestGhost(target) {
  const wanted = state.showNetwork && state.model && state.model.path !== null && state.solver === 'refined';
  if (!wanted) { hideGhost(); return; }
  if (ghostInFlight) { ghostWaiting = target; return; }
  ghostInFlight = true;
  // A position-only network answers the position of a pose target (as refined starts from it).
  const ask = (t) => solve(t, 'network');
  ask(target)
    .catch((err) => (typeof target === 'object' && !Array.isArray(target) ? ask(target.p) : Promise.reject(err)))
    .then((answer) => {
      if (state.mode !== 'ik' || state.solver !== 'refined' || !state.showNetwork) { hideGhost(); return; }
      answer.target = target;
      state.ghost = answer;
      drawGhost(state.kin.frames(answer.q));
      showGhostLegend(true);
      requestRender();
    })
    .catch(() => hideGhost())
    .finally(() => {
      ghostInFlight = false;
      if (ghostWaiting !== null) { const t = ghostWaiting; ghostWaiting = null; requestGhost(t); }
    });
}

// Another arm: requests in flight for the old one never answer (api.js), so none is in flight.
export function forgetRequests() {
  state.inFlight = false;
  state.pending = false;
  state.lastSolve = null;
  state.ghost = null;
  state.animating = false;
  ghostInFlight = false;
  ghostWaiting = null;
}

// True while a ghost answer is asked for or waits to be.
export const ghostBusy = () => ghostInFlight || ghostWaiting !== null;

export function hideGhost() {
  state.ghost = null;
  drawGhost(null);
  showGhostLegend(false);
  requestRender();
}

// The ghost on or off (the panel's toggle); on asks for the current target at once.
export function setShowNetwork(on) {
  state.showNetwork = on;
  if (on) requestGhost(targetForApi()); else hideGhost();
}

// Hides the miss markers (FK mode has no target to miss).
export function hideMiss() {
  showMiss(false, false, [0, 0, 0], state.target);
  showClosestLegend(false);
  requestRender();
}

// Draws the arm at joint values q and updates the panel's joint bars and tip readout.
export function showPose(q) {
  const frames = state.kin.frames(q);
  const tip = drawArm(frames);
  updateReadouts(state.arm.joints, q, tip, frames[frames.length - 1]);
  requestRender();
}

// Animates the arm to joint values q (an answer, a picked solution).
export function animateTo(q) {
  state.qFrom = state.q.slice();
  // Full-turn joints take the short way round; q and q + 2 pi are the same configuration.
  state.qTo = q.map((v, i) => {
    if (!state.arm.joints[i].continuous) return v;
    const d = Math.atan2(Math.sin(v - state.qFrom[i]), Math.cos(v - state.qFrom[i]));
    return state.qFrom[i] + d;
  });
  state.animStart = performance.now();
  // Short moves while the target keeps moving (a drag), so the arm keeps up with it.
  state.animDuration = state.dragging ? 140 : 450;
  state.animating = true;
  requestRender();
}

const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);  // cubic in-out

// One animation frame: the pose between the last drawn one and the answer.
export function stepAnimation(now) {
  if (!state.animating) return;
  const t = Math.min((now - state.animStart) / state.animDuration, 1);
  const k = ease(t);
  state.q = state.qFrom.map((a, i) => a + (state.qTo[i] - a) * k);
  if (t >= 1) { state.q = state.qTo.slice(); state.animating = false; }
  showPose(state.q);
}
