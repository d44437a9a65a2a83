// The demo paths, tracked: the page sends the path ahead to the server in chunks (POST /api/track,
// the library's TrackPath; each chunk continues from the last row's joint values) and plays the
// rows back, so the arm follows the path without a jump: every step stays within the track's
// step bound (deepik/solve/track.hpp). Where the server reports a "reconfiguration" (the target
// is reachable, but not continuously: another branch, a limit or a singularity is in the way),
// the page restarts the path there with a fresh solve and shows that move slowly, labelled;
// "out of reach" rows show the closest point reached continuously. Both leave a mark on the path.
import * as THREE from 'three';
import { state } from './state.js';
import { trackPath } from './api.js';
import { root, requestRender } from './scene.js';
import { moveTarget, adoptAnswer } from './solve.js';
import { setPose, stopAnimation } from './animation.js';
import { showTrackLabel, showTrackLegend, showError, showDemoChoice } from './panel.js';
import { demoPoint, demoQuat, DEMO_SPEED } from './demo.js';
import { isFullTurn } from './format.js';

const ROW_STEP = 0.02;     // path parameter between rows: 27.5 rows per second at the demo's pace
const CHUNK_ROWS = 20;     // rows per request, about 0.7 s of path: short answers, a smooth stream
const AHEAD = 0.8;         // a request goes out when less path parameter than this is queued ahead
const MOVE_SECONDS = 0.6;  // a fresh solve (the start, a reconfiguration) is shown this slowly
const LABEL_SECONDS = 1.5; // a reconfiguration's label stays up at least this long
const MAX_MARKS = 400;

const run = {
  kind: null, generation: 0, rows: [], played: -1, nextT: 0, lastQ: null, continued: false,
  restarting: false, inFlight: false, stale: false, move: null, labelSince: 0,
};

// The full-turn joints take the short way round between two rows (q and q + 2 pi are one pose).
function lerpJoints(a, b, k) {
  return a.map((v, i) => {
    const d = b[i] - v;
    return v + k * (isFullTurn(state.arm.joints[i]) ? Math.atan2(Math.sin(d), Math.cos(d)) : d);
  });
}
const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);
const withinLimits = (q) => q.map((v, i) => Math.min(Math.max(v, state.arm.joints[i].lower), state.arm.joints[i].upper));

// The path's target at parameter t, with the target's orientation for a pose target.
const targetAt = (t) => {
  const p = demoPoint(run.kind, t);
  return state.targetQuat ? { p, quat: state.targetQuat.slice() } : p;
};
const positionOf = (target) => (Array.isArray(target) ? target : target.p);

// Marks on the path where a row was out of reach (amber), a reconfiguration (magenta) or reached
// only in collision (red).
let marks = null;
const markColors = {
  'out of reach': new THREE.Color(0xffb547), reconfiguration: new THREE.Color(0xff5cf0), 'in collision': new THREE.Color(0xff3b3b),
};
function clearMarks() {
  if (marks) { marks.userData.rows = []; updateMarks(); }
}
function addMark(row) {
  if (!marks) {
    marks = new THREE.Points(new THREE.BufferGeometry(), new THREE.PointsMaterial({
      size: 0.035 * state.unit, vertexColors: true, transparent: true, opacity: 0.85, depthWrite: false,
    }));
    marks.name = 'track-marks';
    marks.userData.rows = [];
    root.add(marks);
  }
  marks.userData.rows.push(row);
  if (marks.userData.rows.length > MAX_MARKS) marks.userData.rows.shift();
  updateMarks();
}
function updateMarks() {
  const rows = marks.userData.rows;
  marks.geometry.setAttribute('position', new THREE.Float32BufferAttribute(rows.flatMap((r) => positionOf(r.target)), 3));
  marks.geometry.setAttribute('color', new THREE.Float32BufferAttribute(rows.flatMap((r) => markColors[r.status].toArray()), 3));
  marks.visible = rows.length > 0;
  showTrackLegend(marks.visible);
}
export const trackMarksShown = () => (marks && marks.visible ? marks.userData.rows.length : 0);

// A new run from where the arm is, at the demo's current parameter.
function startRun() {
  run.kind = state.demo;
  run.generation += 1;
  run.rows = [];
  run.played = -1;
  run.nextT = state.demoT;
  run.lastQ = withinLimits(state.q);
  run.continued = false;
  run.restarting = false;
  run.inFlight = false;
  run.stale = false;
  run.move = null;
  stopAnimation(false);
  clearMarks();
  // A pose target takes the orientation the path is made for.
  if (state.targetQuat) moveTarget(demoPoint(run.kind, state.demoT), demoQuat());
}

// Another arm: the demo stops and its marks went with the old arm's group.
export function forgetTrack() {
  stopDemo();
  run.generation += 1;
  run.inFlight = false;
  marks = null;
  state.trackLog = [];
  showTrackLegend(false);
}

// Plays the demo path `kind` ('circle', 'eight'; 'off' stops it) from the next frame on.
export function startDemo(kind) {
  if (kind === 'off') { stopDemo(); return; }
  state.demo = kind;
  showDemoChoice(kind);
}

// The track's step_ratio (null: the server's default, 20); the browser test tightens it.
export function setTrackStepRatio(ratio) { state.trackStepRatio = ratio; }

// Stops the demo (the page's controls that set the target, FK mode, the choice "off"): the arm
// and the target stay at the last row played, at once.
export function stopDemo() {
  state.demo = 'off';
  showDemoChoice('off');
  if (run.kind !== null) stopRun();
}

function stopRun() {
  const last = run.rows[run.played];
  run.kind = null;
  run.generation += 1;
  run.move = null;
  if (last) { setPose(last.q); moveTarget(positionOf(last.target)); }
  showTrackLabel(null);
  clearMarks();
}

// Asks for the next chunk of the path when little is queued ahead.
function fill() {
  const queuedUntil = run.rows.length ? run.rows[run.rows.length - 1].t : -Infinity;
  if (run.inFlight || queuedUntil - state.demoT > AHEAD) return;
  const ts = Array.from({ length: CHUNK_ROWS }, (_, k) => run.nextT + k * ROW_STEP);
  const targets = ts.map(targetAt);
  const body = { targets, q_start: run.lastQ, continue: run.continued, solver: state.solver };
  if (state.trackStepRatio !== null) body.step_ratio = state.trackStepRatio;
  const generation = run.generation;
  const started = performance.now();
  run.inFlight = true;
  trackPath(body)
    .then((answer) => {
      if (generation !== run.generation) return;
      const roundTripMs = performance.now() - started;
      state.trackTrips.push(roundTripMs);
      if (state.trackTrips.length > 1000) state.trackTrips.shift();
      queue(answer, ts, targets, roundTripMs / ts.length);
    })
    .catch((err) => {
      if (generation !== run.generation) return;
      stopDemo();
      showError(err.message);
    })
    .finally(() => {
      if (generation === run.generation) run.inFlight = false;
      requestRender();
    });
}

// Queues the rows of an answer up to the first reconfiguration; there the path restarts (the next
// request solves that row afresh from the last queued q, and its row is played as the
// reconfiguration).
function queue(answer, ts, targets, msPerRow) {
  for (let k = 0; k < answer.points.length; ++k) {
    const p = answer.points[k];
    const fresh = p.step_bound === null;  // solved afresh: the run's start or a restart
    if (p.status === 'reconfiguration' && !fresh) {
      run.nextT = ts[k];
      run.continued = false;
      run.restarting = true;
      return;
    }
    const start = fresh && !run.restarting;
    run.rows.push({
      t: ts[k], target: targets[k], q: p.q, status: fresh && run.restarting ? 'reconfiguration' : p.status,
      fresh, start, stepBound: p.step_bound, jointStep: p.joint_step, msPerRow,
      answer: {
        q: p.q, reached: p.reached, reached_quat: p.reached_quat, position_error: p.position_error,
        angle_error: p.angle_error, status: p.solve_status, micros: answer.micros / answer.points.length,
        solver: answer.solver, target: targets[k],
      },
    });
    run.restarting = false;
    run.lastQ = withinLimits(p.q);
  }
  run.nextT = ts[ts.length - 1] + ROW_STEP;
  run.continued = true;
}

// A row becomes the arm's: the panel, the label, the marks, and the log the browser test reads.
function enterRow(row) {
  run.played += 1;
  moveTarget(positionOf(row.target));
  adoptAnswer(row.answer, row.msPerRow, false);
  const event = row.start || row.status === 'tracked' ? null : row.status;
  const now = performance.now();
  if (event !== null) {
    showTrackLabel(event);
    run.labelSince = now;
    addMark(row);
  } else if (now - run.labelSince > LABEL_SECONDS * 1000) {
    showTrackLabel(null);
  }
  const label = document.getElementById('track-label');
  state.trackLog.push({
    run: run.generation, t: row.t, q: row.q, status: row.status, stepBound: row.stepBound, fresh: row.fresh,
    start: row.start, label: label.hidden ? '' : label.dataset.kind,
  });
  if (state.trackLog.length > 5000) state.trackLog.shift();
}

// One frame of the demo: dt seconds of path, played from the rows the server sent. Without rows
// ahead (the server is still answering) the path waits; a fresh row stops the path while the arm
// moves to it.
export function stepDemo(dt) {
  if (state.demo === 'off') { if (run.kind !== null) stopRun(); return; }
  if (state.dragging) { run.stale = true; return; }  // a drag takes over the target while it lasts
  if (run.kind !== state.demo || run.stale) startRun();
  requestRender();  // the demo plays on: the next frame
  fill();
  if (run.move) {
    run.move.elapsed += dt;
    const k = Math.min(run.move.elapsed / MOVE_SECONDS, 1);
    setPose(lerpJoints(run.move.from, run.move.to, ease(k)));
    if (k >= 1) run.move = null;
    return;
  }
  if (run.played + 1 >= run.rows.length) return;
  state.demoT = Math.min(state.demoT + dt * DEMO_SPEED, run.rows[run.rows.length - 1].t);
  while (run.played + 1 < run.rows.length && run.rows[run.played + 1].t <= state.demoT) {
    const row = run.rows[run.played + 1];
    const from = state.q.slice();
    enterRow(row);
    if (row.fresh) {
      state.demoT = row.t;
      moveTarget(positionOf(row.target));
      run.move = { from, to: row.q, elapsed: 0 };
      return;
    }
  }
  const a = run.rows[run.played], b = run.rows[run.played + 1];
  setPose(b && !b.fresh ? lerpJoints(a.q, b.q, (state.demoT - a.t) / (b.t - a.t)) : a.q);
  moveTarget(demoPoint(run.kind, state.demoT));
}
