// The drawn joint values: the arm's pose and the animation towards an answer. This module owns
// state.q and the animation's fields; other modules draw a pose with setPose or start a move with
// animateTo.
import { state } from './state.js';
import { drawArm } from './arm.js';
import { updateReadouts } from './panel.js';
import { requestRender } from './scene.js';
import { checkCollision } from './collision.js';

let from = [], to = [], start = 0, duration = 450;

// Draws the arm at joint values q (the animation, if any, stops there) and updates the panel's
// joint bars and tip readout.
export function setPose(q) {
  state.animating = false;
  state.q = q.slice();
  drawPose();
}

function drawPose() {
  const frames = state.kin.frames(state.q);
  const tip = drawArm(frames);
  updateReadouts(state.arm.joints, state.q, tip, frames[frames.length - 1]);
  checkCollision(state.q);
  requestRender();
}

// Joint i to value v (rad, or m for a prismatic joint), within its limits.
export function setJoint(i, v) {
  const j = state.arm.joints[i];
  const q = state.q.slice();
  q[i] = Math.min(Math.max(v, j.lower), j.upper);
  setPose(q);
}

// The joints to values q, each within its limits.
export function setJoints(q) {
  setPose(q.map((v, i) => { const j = state.arm.joints[i]; return Math.min(Math.max(v, j.lower), j.upper); }));
}

// Animates the arm to joint values q (an answer, a picked solution); short moves while the
// target is dragged, so the arm keeps up with it.
export function animateTo(q) {
  from = state.q.slice();
  // Full-turn joints take the short way round; q and q + 2 pi are the same configuration.
  to = q.map((v, i) => {
    if (!state.arm.joints[i].continuous) return v;
    const d = Math.atan2(Math.sin(v - from[i]), Math.cos(v - from[i]));
    return from[i] + d;
  });
  start = performance.now();
  duration = state.dragging ? 140 : 450;
  state.animating = true;
  requestRender();
}

// Where the arm is going: the end of the animation, or the pose when none runs.
export const poseGoal = () => (state.animating ? to.slice() : state.q.slice());

// Ends a running animation at once, at its end (`finish`) or where it is.
export function stopAnimation(finish) {
  if (!state.animating) return;
  if (finish) setPose(to); else state.animating = false;
}

const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);  // cubic in-out

// One animation frame: the pose between the last drawn one and the answer.
export function stepAnimation(now) {
  if (!state.animating) return;
  const t = Math.min((now - start) / duration, 1);
  const k = ease(t);
  state.q = from.map((a, i) => a + (to[i] - a) * k);
  if (t >= 1) { state.q = to.slice(); state.animating = false; }
  drawPose();
}
