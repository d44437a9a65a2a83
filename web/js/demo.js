// Targets the page sets by itself: the start and "out of reach" targets, and the animated demo
// paths, which sweep the target in and out of reach so the solver's behaviour at the edge shows
// (track.js plays them, tracked).
import { state } from './state.js';

// Path parameter per second of the demo.
export const DEMO_SPEED = 0.55;

// In front of the arm, comfortably inside its reach.
export function initialTarget(arm) {
  const r = arm.reach;
  return [0.4 * r, 0.15 * r, 0.5 * r];
}

// 30 % beyond the reach: the arm stretches towards it.
export function outOfReachTarget(arm) {
  return [1.3 * arm.reach, 0.25 * arm.reach, 0.55 * arm.reach];
}

// The demo path `kind` ('circle', 'eight') at parameter t (deepik's base frame, m).
export function demoPoint(kind, t) {
  const r = state.unit;
  if (kind === 'circle') {
    // A circle whose radius swells from inside the reach to beyond it.
    const radius = r * (0.65 + 0.5 * (0.5 + 0.5 * Math.sin(0.37 * t)));
    return [radius * Math.cos(t), radius * Math.sin(t), 0.45 * r + 0.25 * r * Math.sin(2 * t)];
  }
  // A figure-eight in front of the arm, its lobes reaching past the reach.
  return [1.2 * r * Math.sin(t), 0.6 * r * Math.sin(2 * t), 0.6 * r + 0.4 * r * Math.cos(t)];
}

// Points along both demo paths (a full period each) and the arm's own extent (its base and a
// stretched-up pose): what the camera frames at start.
export function framedPoints(arm) {
  const points = [[0, 0, 0], [0, 0, 0.9 * arm.reach], initialTarget(arm), outOfReachTarget(arm)];
  for (const kind of ['circle', 'eight']) {
    // The circle's radius swells over a period of 2 pi / 0.37: sample all of it.
    const period = kind === 'circle' ? (2 * Math.PI) / 0.37 : 2 * Math.PI;
    for (let i = 0; i < 240; ++i) points.push(demoPoint(kind, (period * i) / 240));
  }
  return points;
}
