// deepik's page: the arm from /api/arm, solutions from /api/solve, the model from /api/model.
// This module only wires the parts in js/ together and runs the frame loop; index.html loads it
// as a native ES module (no build step), and three.js comes through the import map there.
import { fetchArm, fetchModel } from './js/api.js';
import { state } from './js/state.js';
import { makeKinematics } from './js/kinematics.js';
import { renderer, scene, camera, controls, resize } from './js/scene.js';
import { buildArm, pulseTarget } from './js/arm.js';
import { buildPanel, bindControls, showDemoChoice, showError } from './js/panel.js';
import { setTarget, requestSolve, showPose, stepAnimation } from './js/solve.js';
import { installTargetControls } from './js/controls.js';
import { toggleWorkspace } from './js/workspace.js';
import { initialTarget, outOfReachTarget, stepDemo } from './js/demo.js';
import { installTestHook } from './js/test-hook.js';

let lastFrame = performance.now();
function frame(now) {
  const dt = Math.min((now - lastFrame) / 1000, 0.1);  // capped: a hidden tab must not jump the demo
  lastFrame = now;
  stepDemo(dt);
  stepAnimation(now);
  pulseTarget(now);
  controls.update();  // needed every frame for the orbit camera's damping
  renderer.render(scene, camera);
  requestAnimationFrame(frame);
}

// A button that sets the target stops the demo path first, or the demo would move it away at once.
function stopDemoAndSetTarget(p) {
  state.demo = 'off';
  showDemoChoice('off');
  setTarget(p);
}

function bindPanel(arm) {
  bindControls({
    onSolver: (name) => { state.solver = name; requestSolve(); },
    onWorkspace: (on) => toggleWorkspace(on),
    onDemo: (kind) => { state.demo = kind; },
    onReset: () => stopDemoAndSetTarget(initialTarget(arm)),
    onStretch: () => stopDemoAndSetTarget(outOfReachTarget(arm)),
  });
}

async function main() {
  installTargetControls();
  window.addEventListener('resize', resize);
  resize();
  const [arm, model] = await Promise.all([fetchArm(), fetchModel()]);
  state.arm = arm;
  state.model = model;
  state.kin = makeKinematics(arm);
  state.unit = Math.max(arm.reach, 0.2);  // a floor, so a tiny arm still gets visible markers
  buildArm(arm, state.unit);
  state.solver = buildPanel(arm, model);
  state.q = arm.home.slice();
  showPose(state.q);
  bindPanel(arm);

  setTarget(initialTarget(arm));
  requestAnimationFrame(frame);
  installTestHook();
}

main().catch((err) => {
  showError(`cannot load: ${err.message}`);
  console.error(err);
});
