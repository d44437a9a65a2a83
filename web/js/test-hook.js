// window.deepik: the one global, read by the end-to-end test (tests/web/e2e.mjs) to drive the
// page and read the drawn arm back. Keep its names and meanings as they are.
import * as THREE from 'three';
import { scene, toBase, screenPosition } from './scene.js';
import { parts } from './arm.js';
import { state } from './state.js';
import { setTarget } from './solve.js';
import { workspacePointsShown } from './workspace.js';

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
  };
}
