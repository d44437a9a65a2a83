// The page's shared state, in one place so every module reads the same target, pose and flags.
// Every module may read it; each field is written by one module only, its owner (STATE_OWNERS),
// and the others call the owner's functions (tests/web/structure_test.mjs checks the writes).
import * as THREE from 'three';

export const state = {
  arm: null, kin: null, model: null,
  modelName: null,  // the server's arm or model shown ("model": name), null when it offers only one
  unit: 1,  // the arm's size scale (m): sizes of markers, key steps and demo paths follow it
  q: [], animating: false,  // the drawn joint values; an animation towards an answer runs
  // What is asked (target, in deepik's base frame) and how (solver name, limit avoidance).
  target: new THREE.Vector3(), solver: 'refined', avoidLimits: false,
  targetQuat: null,         // the target's orientation [w, x, y, z] (base frame); null: a point
  gizmoMode: 'translate',   // the pose gizmo moves ('translate') or turns ('rotate') the target
  showNetwork: true,        // the network's raw answer as a ghost arm (a model is loaded)
  ghost: null,              // that answer ({ q, reached, ... }) for the latest target, or null
  lastSolve: null, requestCount: 0,  // the answer shown and the number of solves answered
  roundTrips: [],           // solve round trips seen by the page (ms), the latest 1000
  mode: 'ik',               // 'ik': drag a target; 'fk': joint sliders
  dragging: false,          // the target is being dragged (the marker or the gizmo)
  demo: 'off', demoT: 0,    // the demo path playing and its parameter
  trackTrips: [],           // round trips of the tracked demo's requests (ms), the latest 1000
  trackLog: [],             // the rows the tracked demo played, in order (the browser test reads it)
  trackStepRatio: null,     // the track's step_ratio (null: the server's default, 20)
  // "show K solutions": K (0: off), the latest answer and its solutions.
  solutionsK: 0, solutionsAnswer: null, solutions: [], solutionTrips: [],
  // Obstacles the arm keeps clear of (scene-format.js's form, base frame) and the one the gizmo moves (-1: none).
  obstacles: [], selectedObstacle: -1,
};

// The one module (under web/) that writes each field.
export const STATE_OWNERS = {
  arm: 'app.js', kin: 'app.js', model: 'app.js', modelName: 'app.js', unit: 'app.js',
  q: 'js/animation.js', animating: 'js/animation.js',
  target: 'js/solve.js', solver: 'js/solve.js', avoidLimits: 'js/solve.js', showNetwork: 'js/solve.js',
  ghost: 'js/solve.js', lastSolve: 'js/solve.js', requestCount: 'js/solve.js', roundTrips: 'js/solve.js',
  targetQuat: 'js/pose.js', gizmoMode: 'js/pose.js',
  mode: 'js/fk-mode.js',
  dragging: 'js/controls.js',
  demo: 'js/track.js', demoT: 'js/track.js', trackTrips: 'js/track.js', trackLog: 'js/track.js', trackStepRatio: 'js/track.js',
  solutionsK: 'js/solutions.js', solutionsAnswer: 'js/solutions.js', solutions: 'js/solutions.js', solutionTrips: 'js/solutions.js',
  obstacles: 'js/obstacles.js', selectedObstacle: 'js/obstacles.js',
};
