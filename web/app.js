// deepik's page: the arm from /api/arm, solutions from /api/solve, the model from /api/model.
// This module only wires the parts in js/ together and runs the frame function; index.html loads
// it as a native ES module (no build step), and three.js comes through the import map there.
// Frames are drawn on demand (scene.js's requestRender): an idle page renders nothing.
import * as THREE from 'three';
import { fetchArm, fetchModel, fetchModels, useModel } from './js/api.js';
import { state } from './js/state.js';
import { makeKinematics } from './js/kinematics.js';
import {
  renderer, scene, camera, controls, resize, frameCamera, setFrameFunction, requestRender, cameraState,
  setCameraState,
} from './js/scene.js';
import { buildArm } from './js/arm.js';
import {
  buildPanel, bindControls, showError, showSolverChoice, showModeChoice, buildModelChoice,
  showPoseChoice, showSolutionsChoice, showGhostLegend, showClosestLegend, showSpheresChoice,
} from './js/panel.js';
import { forgetCollision, setSpheresShown } from './js/collision.js';
import {
  setTarget, setShowNetwork, targetForApi, hideGhost, forgetRequests, setSolver, setAvoidLimits, onAnswer,
} from './js/solve.js';
import { setPose, stepAnimation, setJoint, setJoints } from './js/animation.js';
import {
  installPoseControls, posesPossible, setGizmoMode, setTargetOrientation, DEFAULT_QUAT, fitGizmo,
} from './js/pose.js';
import { installTargetControls, hoverJoint, setDragging } from './js/controls.js';
import { toggleWorkspace, forgetWorkspace } from './js/workspace.js';
import { initialTarget, outOfReachTarget, framedPoints, setDemoArm } from './js/demo.js';
import { stepDemo, stopDemo, startDemo, forgetTrack } from './js/track.js';
import { setSolutionsK, pickSolution, hideSolutions, forgetSolutions, requestSolutions } from './js/solutions.js';
import { setMode, resetMode } from './js/fk-mode.js';
import { parseViewState, makeAddressKeeper, requestedModel } from './js/url-state.js';
import { installTestHook } from './js/test-hook.js';
import { installObstacles, setObstacles, bindObstacleControls } from './js/obstacles.js';

// The address as the page was opened with it (the page rewrites it as its state changes).
const openedWith = window.location.search;
let addressKept = false;  // from the moment the address's view is applied
const keepAddress = makeAddressKeeper(() => ({
  model: state.modelName, mode: state.mode, solver: state.solver, target: state.target.toArray(),
  quat: state.arm && posesPossible(state.arm) ? state.targetQuat : undefined, camera: cameraState(),
  q: state.q, demo: state.demo, embed: document.body.classList.contains('embed'), solutions: state.solutionsK,
  obstacles: state.obstacles,
}));

let lastFrame = performance.now();
function frame(now) {
  // Capped: a hidden tab must not jump the demo; and after an idle stretch the first frame
  // starts the clock again.
  const dt = Math.max(0, Math.min((now - lastFrame) / 1000, 0.1));
  lastFrame = now;
  stepDemo(dt);         // asks for the next frame while a demo plays
  stepAnimation(now);   // ... while the arm moves
  controls.update();    // ... while the orbit camera glides (its 'change' event)
  renderer.render(scene, camera);
  if (addressKept) keepAddress();
}

// A button that sets the target stops the demo path first, or the demo would move it away at once.
function stopDemoAndSetTarget(p) {
  stopDemo();
  setTarget(p);
}

function bindPanel() {
  bindControls({
    onSolver: (name) => setSolver(name),
    onWorkspace: (on) => toggleWorkspace(on).then(requestRender),
    onDemo: (kind) => {
      lastFrame = performance.now();
      // The tracked demo moves the arm itself: no ghosts of other answers meanwhile. Stopped, the
      // arm stays at the last row played (at once, not at the next frame).
      startDemo(kind);
      if (kind !== 'off') { hideGhost(); hideSolutions(); }
      requestRender();
    },
    onReset: () => stopDemoAndSetTarget(initialTarget(state.arm)),
    onStretch: () => stopDemoAndSetTarget(outOfReachTarget(state.arm)),
    onMode: (mode) => setMode(mode),
    onJoint: (i, v) => setJoint(i, v),
    onJointHover: (i) => hoverJoint(i),
    onShare: () => share(),
    onSheet: () => { document.body.classList.toggle('sheet-open'); },
    onPositionOnly: (on) => setPositionOnly(on),
    onGizmoMode: (mode) => { setGizmoMode(mode); showPoseChoice(state.targetQuat === null, state.gizmoMode); },
    onGhost: (on) => setShowNetwork(on),
    onSolutionsK: (k) => setSolutionsK(k, targetForApi(), state.q),
    onPickSolution: (k) => pickSolution(k),
    onAvoidLimits: (on) => setAvoidLimits(on),
    onSpheres: (on) => setSpheresShown(on),
  });
}

// A point target (any tool orientation) or a pose target; the orientation comes back as the
// tip's current one, so the arm need not turn.
function setPositionOnly(on) {
  let quat = null;
  if (!on) {
    const tip = state.kin.frames(state.q).pop();
    const Q = new THREE.Quaternion().setFromRotationMatrix(tip);
    quat = [Q.w, Q.x, Q.y, Q.z];
  }
  setTarget(state.target.toArray(), quat);
  showPoseChoice(on, state.gizmoMode);
}

// Copies the address of this view (the address bar has it too).
function share() {
  const url = window.location.href;
  const button = document.getElementById('share');
  const done = (text) => { button.textContent = text; setTimeout(() => { button.textContent = 'copy link to this view'; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(() => done('link copied'), () => done('copy the address bar'));
  } else {
    done('copy the address bar');
  }
}

// The view the address (`search`) asks for, over the defaults.
function applyAddress(arm, model, search) {
  const view = parseViewState(search, { dof: arm.dof, joints: arm.joints, solvers: model.solvers });
  if (view.ignored.length) console.warn(`deepik: ignored in the address: ${view.ignored.join(', ')}`);
  document.body.classList.toggle('embed', view.embed);
  if (view.solver) { setSolver(view.solver, false); showSolverChoice(view.solver); }
  if (view.solutions) { setSolutionsK(view.solutions); showSolutionsChoice(view.solutions); }
  if (view.camera) setCameraState(view.camera);
  if (view.obstacles) setObstacles(view.obstacles, false);  // the solve below carries them
  // Arms with 6 or more joints start with a pose target (the tool pointing down), unless the
  // address says otherwise; the others with a point.
  const poses = posesPossible(arm);
  const quat = poses ? (view.quat !== undefined ? view.quat : DEFAULT_QUAT) : null;
  showPoseChoice(quat === null, state.gizmoMode);
  if (view.mode === 'fk') {
    setTargetOrientation(quat);
    setMode('fk');
    if (view.q) setJoints(view.q);
    return;
  }
  showModeChoice('ik');
  if (view.demo && view.demo !== 'off') startDemo(view.demo);
  setTarget(view.target || initialTarget(arm), quat);
}

async function main() {
  setFrameFunction(frame);
  // Each answer the arm moves to gets its K solutions, when they are shown.
  onAnswer((target, answer) => requestSolutions(target, answer.q));
  installTargetControls();
  new ResizeObserver(() => { resize(); fitGizmo(); }).observe(document.getElementById('view'));
  // Which of the server's arms and models: the address's, else the server's default. A choice on
  // the page opens that one in place (its own arm, solvers and view; switchModel).
  const { models, default: fallback } = await fetchModels();
  const names = models.map((m) => m.name);
  const chosen = requestedModel(openedWith, names) || fallback;
  state.modelName = names.length > 1 ? chosen : null;
  useModel(state.modelName);
  buildModelChoice(models, chosen, switchModel);
  bindPanel();
  bindObstacleControls();
  await openModel(openedWith);
  addressKept = true;
  installTestHook();
}

// Builds the page for the arm and model the API calls use now (api.js's useModel), in the view
// the address `search` asks for.
async function openModel(search) {
  const [arm, model] = await Promise.all([fetchArm(), fetchModel()]);
  state.arm = arm;
  state.model = model;
  state.kin = makeKinematics(arm);
  state.unit = Math.max(arm.reach, 0.2);  // a floor, so a tiny arm still gets visible markers
  buildArm(arm, state.unit);
  showSpheresChoice(Boolean(arm.collision && arm.collision.spheres));
  setSolver(buildPanel(arm, model), false);
  setPose(arm.home);
  document.body.classList.toggle('poses', posesPossible(arm));
  document.body.classList.toggle('has-model', model.path !== null);
  installPoseControls(arm, state.unit, (p, quat) => {
    stopDemo();
    setTarget(p, quat);
  }, setDragging);
  installObstacles(arm, setDragging);
  setDemoArm(arm, state.kin);
  frameCamera(framedPoints(arm));
  resize();
  fitGizmo();
  applyAddress(arm, model, search);
  requestRender();
}

// The page's choice of arm and model: the page is rebuilt for it in place (no reload), in IK mode
// with its defaults; answers still coming for the old arm are dropped (api.js).
async function switchModel(name) {
  hoverJoint(null);
  forgetTrack();
  state.modelName = name;
  useModel(name);
  forgetRequests();
  forgetSolutions();
  forgetWorkspace();
  forgetCollision();
  hideSolutions();
  showGhostLegend(false);
  showClosestLegend(false);
  resetMode();
  await openModel('');
  if (document.getElementById('workspace-toggle').checked) await toggleWorkspace(true);
  requestRender();
}

main().catch((err) => {
  showError(`cannot load: ${err.message}`);
  console.error(err);
});
