// Asking the server for a solution and animating the arm to it. One solve is in flight at a time
// (api.js's latestRequest): targets that arrive meanwhile (a drag sends one per mouse move)
// collapse into one follow-up request for the latest target, so the server is never flooded.
// This module owns the target's position, the solver and its objectives, the latest answer and
// the network's ghost answer; solutions.js and track.js show their answers through adoptAnswer.
import { state } from './state.js';
import { solve, latestRequest } from './api.js';
import { placeTarget, showMiss, drawGhost } from './arm.js';
import { showSolve, showError, showTarget, showClosestLegend, showGhostLegend } from './panel.js';
import { requestRender } from './scene.js';
import { setTargetOrientation } from './pose.js';
import { animateTo } from './animation.js';

// Called with (target, answer) after each solve the arm moves to (app.js: the K solutions).
const answerListeners = [];
export const onAnswer = (listener) => answerListeners.push(listener);

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

// The solver (a name of /api/model's "solvers") and "avoid joint limits"; each asks again
// (the solver chosen while the page is built: `ask` false).
export function setSolver(name, ask = true) { state.solver = name; if (ask) requestSolve(); }
export function setAvoidLimits(on) { state.avoidLimits = on; requestSolve(); }

const solves = latestRequest(() => {
  const target = targetForApi();
  const started = performance.now();
  // Avoiding the limits chooses among exact solutions: the network alone has none to choose from.
  const objectives = state.avoidLimits && state.solver !== 'network' ? { avoid_limits: 1 } : {};
  return solve(target, state.solver, objectives)
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
      ghosts.ask(target);
      for (const listener of answerListeners) listener(target, answer);
    })
    .catch((err) => showError(err.message));
});

export const requestSolve = () => solves.ask();

// An answer from elsewhere (a picked solution, a tracked row) becomes the latest one, shown on
// the panel (`ring`: see showAnswer); the caller moves the arm.
export function adoptAnswer(answer, roundTripMs, ring = true) {
  state.lastSolve = answer;
  showAnswer(answer, roundTripMs, ring);
}

// The panel's status, and in the view the miss when the answer is off by more than 0.1 mm: a
// dashed line to the target, and the closest-point ring only for an "out of reach" answer of a
// solve (`ring` false: a tracked row, whose point is the closest reached without a jump, not
// necessarily the closest of all).
function showAnswer(answer, roundTripMs, ring = true) {
  // Honest about obstacles a solver did not see (only lm and refined avoid them).
  if (state.obstacles.length && answer.collisions !== 'all') answer.note = `obstacles ignored by ${answer.solver}`;
  showSolve(answer, roundTripMs);
  const miss = answer.status !== 'converged' && answer.position_error > 1e-4;
  const closest = ring && answer.status === 'out of reach';
  showMiss(miss, closest, answer.reached, state.target);
  showClosestLegend(miss && closest);
  requestRender();
}

// The network's raw answer for the same target, drawn as a translucent ghost beside the refined
// one: only when a model is loaded, the refined solver answers and the toggle is on.
const ghostWanted = () => state.showNetwork && state.model && state.model.path !== null && state.solver === 'refined';
const ghosts = latestRequest((target) => {
  if (!ghostWanted()) { hideGhost(); return null; }
  // A position network (the model's "target" is not "pose") answers the position of a pose target,
  // as refined starts from it.
  const poseNetwork = state.model.network && state.model.network.target === 'pose';
  const asked = Array.isArray(target) || poseNetwork ? target : target.p;
  return solve(asked, 'network')
    .then((answer) => {
      if (state.mode !== 'ik' || !ghostWanted()) { hideGhost(); return; }
      answer.target = target;
      state.ghost = answer;
      drawGhost(state.kin.frames(answer.q));
      showGhostLegend(true);
      requestRender();
    })
    .catch(() => hideGhost());
});

// Another arm: requests in flight for the old one never answer (api.js), so none is in flight.
export function forgetRequests() {
  solves.forget();
  ghosts.forget();
  state.lastSolve = null;
  state.ghost = null;
}

// True while a solve or a ghost answer is asked for or waits to be.
export const solveBusy = () => solves.busy();
export const ghostBusy = () => ghosts.busy();

export function hideGhost() {
  state.ghost = null;
  drawGhost(null);
  showGhostLegend(false);
  requestRender();
}

// The ghost on or off (the panel's toggle); on asks for the current target at once.
export function setShowNetwork(on) {
  state.showNetwork = on;
  if (on) ghosts.ask(targetForApi()); else hideGhost();
}

// Hides the miss markers (FK mode has no target to miss).
export function hideMiss() {
  showMiss(false, false, [0, 0, 0], state.target);
  showClosestLegend(false);
  requestRender();
}
