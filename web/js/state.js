// The page's shared state, in one place so every module reads the same target, pose and flags.
import * as THREE from 'three';

export const state = {
  arm: null, kin: null, model: null,
  modelName: null,  // the server's arm or model shown ("model": name), null when it offers only one
  unit: 1,  // the arm's size scale (m): sizes of markers, key steps and demo paths follow it
  // The drawn joint values and the animation towards the latest answer (solve.js).
  q: [], qFrom: [], qTo: [], animStart: 0, animDuration: 450, animating: false,
  // What is asked (target, in deepik's base frame) and how (solver name, limit avoidance).
  target: new THREE.Vector3(), solver: 'refined', avoidLimits: false,
  targetQuat: null,         // the target's orientation [w, x, y, z] (base frame); null: a point (pose.js)
  gizmoMode: 'translate',   // the pose gizmo moves ('translate') or turns ('rotate') the target
  showNetwork: true,        // the network's raw answer as a ghost arm (a model is loaded)
  ghost: null,              // that answer ({ q, reached, ... }) for the latest target, or null
  // At most one solve in flight; a newer target while one is out is remembered in `pending`.
  inFlight: false, pending: false, lastSolve: null, requestCount: 0,
  roundTrips: [],           // solve round trips seen by the page (ms), the latest 1000
  mode: 'ik',               // 'ik': drag a target; 'fk': joint sliders (fk-mode.js)
  dragging: false,          // the target is being dragged (controls.js)
  demo: 'off', demoT: 0,    // the demo path playing and its parameter (demo.js, track.js)
  trackTrips: [],           // round trips of the tracked demo's requests (ms), the latest 1000
  trackLog: [],             // the rows the tracked demo played, in order (the browser test reads it)
  trackStepRatio: null,     // the track's step_ratio (null: the server's default, 20)
  // "show K solutions" (solutions.js): K (0: off), the latest answer and its solutions.
  solutionsK: 0, solutionsAnswer: null, solutions: [], solutionTrips: [],
};
