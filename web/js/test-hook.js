// window.deepik: the one global, read by the end-to-end test (tests/web/e2e.mjs) to drive the
// page and read the drawn arm back. Keep its names and meanings as they are.
import * as THREE from 'three';
import { scene, camera, toBase, screenPosition, cameraState, renderStats, root } from './scene.js';
import { parts } from './arm.js';
import { state } from './state.js';
import { setTarget } from './solve.js';
import { setJoints } from './fk-mode.js';
import { framedPoints } from './demo.js';
import { workspacePointsShown } from './workspace.js';
import { hoveredJoint } from './controls.js';

export function installTestHook() {
  window.deepik = {
    ready: true,
    setTarget: (p) => setTarget(p),
    target: () => [state.target.x, state.target.y, state.target.z],
    // The drawn tip's world position, read from the scene and expressed in deepik's base frame.
    tipPosition: () => {
      scene.updateMatrixWorld(true);
      return toBase(parts.tip.getWorldPosition(new THREE.Vector3()));
    },
    // The drawn tool frame's axes (unit x, y, z of the tip frame, in deepik's base frame).
    toolFrameAxes: () => {
      scene.updateMatrixWorld(true);
      const m = new THREE.Matrix4().copy(root.matrixWorld).invert().multiply(parts.toolFrame.matrixWorld);
      const e = m.elements;
      return [[e[0], e[1], e[2]], [e[4], e[5], e[6]], [e[8], e[9], e[10]]];
    },
    // Where the target marker is on screen (CSS pixels, page coordinates), for driving the mouse.
    targetScreenPosition: () => {
      scene.updateMatrixWorld(true);
      return screenPosition(parts.target.getWorldPosition(new THREE.Vector3()));
    },
    // True once the answer for the current target has come and the arm has stopped moving.
    settled: () => !state.animating && !state.inFlight && !state.pending && !state.dragging
      && state.lastSolve !== null && state.demo === 'off',
    get lastSolve() { return state.lastSolve; },
    get requestCount() { return state.requestCount; },
    // Points of the workspace cloud on screen (0 until it has been fetched and shown).
    workspacePoints: () => workspacePointsShown(),
    // The view as the address keeps it.
    mode: () => state.mode,
    solver: () => state.solver,
    q: () => state.q.slice(),
    setJoints: (q) => setJoints(q),
    camera: () => cameraState(),
    // Rendering on demand: frames drawn so far, and whether one is asked for.
    frames: () => renderStats.frames,
    frameScheduled: () => renderStats.scheduled(),
    // Solve round trips seen by the page (ms), the latest 1000.
    roundTrips: () => state.roundTrips.slice(),
    closestShown: () => parts.closest.visible,
    // The joint whose axis is shown (pointer over it), or null; where joint i is on screen.
    hoveredJoint: () => hoveredJoint(),
    jointAxisShown: () => parts.jointAxis.visible,
    jointScreenPosition: (i) => {
      scene.updateMatrixWorld(true);
      return screenPosition(parts.joints[i].getWorldPosition(new THREE.Vector3()));
    },
    missShown: () => parts.missLine.visible,
    // The share of the framed points (demo paths, arm) that project inside the view.
    framedOnScreen: () => {
      scene.updateMatrixWorld(true);
      const pts = framedPoints(state.arm);
      const inside = pts.filter((p) => {
        const v = root.localToWorld(new THREE.Vector3(...p)).project(camera);
        return Math.abs(v.x) <= 1 && Math.abs(v.y) <= 1 && v.z < 1;
      });
      return inside.length / pts.length;
    },
  };
}
