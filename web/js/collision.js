// Collisions of the pose drawn (with itself, and with the page's obstacles): /api/collide for the configuration shown (one request in
// flight, the newest waits: latestRequest, as the solves), the colliding pair's links tinted and
// named in the legend; and the sphere model shown on demand. Only for an arm the server has
// collision geometry for (/api/arm's "collision"; a URDF arm served with --arm).
import { collide, latestRequest } from './api.js';
import { tintLinks, showSpheres } from './arm.js';
import { showCollisionLegend } from './panel.js';
import { requestRender } from './scene.js';
import { state } from './state.js';
import { tintObstacles } from './obstacle-view.js';

let last = null;  // the latest answer drawn: { q, answer }
const checks = latestRequest(async (q) => {
  // The exact check (FCL on the meshes) when the server has it, as `deepik collide`'s default.
  const answer = await collide(q, state.arm.collision.exact ? 'exact' : 'spheres');
  last = { q, answer };
  const pair = answer.in_collision ? [answer.link_a, answer.link_b] : [];
  tintLinks(pair);
  tintObstacles(pair);  // the pair's other body may be an obstacle (the exact check with the scene)
  showCollisionLegend(pair);
  requestRender();
});

// Asks whether the pose q (drawn now) is in self-collision (when the server can tell: the exact
// check or a sphere model).
export function checkCollision(q) {
  const collision = state.arm && state.arm.collision;
  if (collision && (collision.exact || collision.spheres)) checks.ask(q.slice());
}

// Another arm: its answers never come (api.js), nothing is tinted.
export function forgetCollision() {
  checks.forget();
  last = null;
  showCollisionLegend([]);
}

export const collisionBusy = () => checks.busy();
export const lastCollision = () => last;

export function setSpheresShown(on) {
  showSpheres(on);
  requestRender();
}
