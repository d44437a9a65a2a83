// The two modes. IK: the user moves a target and a solver answers. FK: a slider per joint moves
// the arm directly and the panel shows the tip pose, so the page also teaches what each joint
// does. Leaving FK mode puts the target on the tip, so the arm stays where the joints left it.
// This module owns state.mode.
import { state } from './state.js';
import { parts } from './arm.js';
import { requestRender } from './scene.js';
import { setTarget, hideMiss, hideGhost } from './solve.js';
import { stopAnimation } from './animation.js';
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
    stopAnimation(true);
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

// Another arm opens in IK mode (the page is rebuilt for it; nothing to carry over).
export function resetMode() {
  state.mode = 'ik';
}
