// The two modes. IK: the user moves a target and a solver answers. FK: a slider per joint moves
// the arm directly and the panel shows the tip pose, so the page also teaches what each joint
// does. Leaving FK mode puts the target on the tip, so the arm stays where the joints left it.
import { state } from './state.js';
import { parts } from './arm.js';
import { requestRender } from './scene.js';
import { setTarget, showPose, hideMiss, hideGhost } from './solve.js';
import { showModeChoice, showFkStatus } from './panel.js';
import { stopDemo } from './track.js';
import { showPoseControls } from './pose.js';
import { hideSolutions } from './solutions.js';
import * as THREE from 'three';

export function setMode(mode) {
  showModeChoice(mode);
  if (mode === state.mode) return;
  state.mode = mode;
  if (mode === 'fk') {
    stopDemo();
    if (state.animating) { state.animating = false; state.q = state.qTo.slice(); showPose(state.q); }
    parts.target.visible = false;
    hideMiss();
    hideGhost();
    hideSolutions();
    showFkStatus();
  } else {
    parts.target.visible = true;
    // The target takes the tip's pose: its position, and its orientation for a pose target.
    const tip = state.kin.frames(state.q).pop();
    const Q = new THREE.Quaternion().setFromRotationMatrix(tip);
    setTarget([tip.elements[12], tip.elements[13], tip.elements[14]], state.targetQuat ? [Q.w, Q.x, Q.y, Q.z] : null);
  }
  showPoseControls();
  requestRender();
}

// Joint i to value v (rad, or m for a prismatic joint), within its limits.
export function setJoint(i, v) {
  const j = state.arm.joints[i];
  state.q[i] = Math.min(Math.max(v, j.lower), j.upper);
  showPose(state.q);
}

export function setJoints(q) {
  q.forEach((v, i) => { const j = state.arm.joints[i]; state.q[i] = Math.min(Math.max(v, j.lower), j.upper); });
  showPose(state.q);
}
