// Obstacles around the arm (issue 23): boxes and spheres added, dragged with a gizmo and deleted
// on the panel, or the "table + boxes" example scene (GET /api/scenes/table-boxes); drawn in the
// view, carried by every solve (the API's "scene": lm and refined keep the arm clear of them) and
// by the exact collision check, and kept in the address (url-state.js). Only for an arm the server
// can keep clear (/api/arm's "collision" with a sphere model: a URDF arm served with --arm).
// This module owns state.obstacles and state.selectedObstacle.
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';
import { scene, camera, controls, renderer, requestRender } from './scene.js';
import { state } from './state.js';
import { useScene, fetchExampleScene } from './api.js';
import { requestSolve } from './solve.js';
import { showError } from './panel.js';
import { sceneForApi, obstaclesFromScene, MAX_PAGE_OBSTACLES } from './scene-format.js';
import { $ } from './util.js';
import { drawObstacles, obstacleMeshes } from './obstacle-view.js';
import { checkCollision } from './collision.js';

let gizmo = null;
let available = false;  // the served arm can be kept clear of obstacles
let onDragging = () => {};

// The requests carry the obstacles (none: the server's default, self-collision).
function publish() {
  useScene(state.obstacles.length > 0 ? sceneForApi(state.obstacles) : null);
}

// Redraws every obstacle and the panel's list, and asks for a solve that keeps clear of them.
function changed(ask = true) {
  drawObstacles(state.obstacles, state.selectedObstacle);
  attachGizmo();
  showList();
  publish();
  requestRender();
  if (state.q.length) checkCollision(state.q);  // the arm shown, among the new obstacles
  if (ask) requestSolve();
}

function attachGizmo() {
  if (!gizmo) return;
  const mesh = obstacleMeshes()[state.selectedObstacle];
  if (mesh) gizmo.attach(mesh); else gizmo.detach();
}

// The panel's list: each obstacle a button that selects it (the gizmo moves the selected one) and
// a button that deletes it. Text only (names come from files).
function showList() {
  const list = $('obstacle-list');
  list.replaceChildren(...state.obstacles.map((o, i) => {
    const row = document.createElement('div');
    row.className = 'obstacle-row';
    const pick = document.createElement('button');
    pick.type = 'button';
    pick.className = `obstacle${i === state.selectedObstacle ? ' selected' : ''}`;
    pick.dataset.index = String(i);
    pick.textContent = `${o.name || `${o.shape} ${i + 1}`} (${o.position.map((x) => x.toFixed(2)).join(', ')})`;
    pick.title = 'select: the gizmo moves it';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'delete-obstacle';
    remove.dataset.index = String(i);
    remove.textContent = '×';
    remove.title = 'delete this obstacle';
    row.append(pick, remove);
    return row;
  }));
  $('obstacle-count').textContent = state.obstacles.length ? String(state.obstacles.length) : '';
}

// Sets up the obstacles for this arm: the panel shows when the server can keep it clear. Another
// arm keeps no obstacle. `dragging(on)` is called as a gizmo drag starts and ends.
export function installObstacles(arm, dragging) {
  available = Boolean(arm.collision && arm.collision.spheres);
  onDragging = dragging;
  $('obstacles-card').hidden = !available;
  state.obstacles = [];
  state.selectedObstacle = -1;
  if (!gizmo) {
    gizmo = new TransformControls(camera, renderer.domElement);
    gizmo.setSize(0.8);
    scene.add(gizmo.getHelper());
    gizmo.addEventListener('change', requestRender);
    gizmo.addEventListener('dragging-changed', (e) => {
      controls.enabled = !e.value;
      onDragging(e.value);
    });
    gizmo.addEventListener('objectChange', () => {
      const o = state.obstacles[state.selectedObstacle];
      if (!o) return;
      const p = gizmo.object.position;
      o.position = [p.x, p.y, p.z];
      publish();
      showList();
      checkCollision(state.q);
      requestSolve();  // one in flight, the newest waits: a drag never floods the server
    });
  }
  changed(false);
}

// The obstacles (scene-format.js's form, checked), e.g. from the address; the first is selected.
export function setObstacles(list, ask = true) {
  if (!available) return;
  state.obstacles = list.slice(0, MAX_PAGE_OBSTACLES).map((o) => ({ ...o, position: o.position.slice() }));
  state.selectedObstacle = state.obstacles.length ? 0 : -1;
  changed(ask);
}

// A new box or sphere in front of the arm, selected (the gizmo moves it).
export function addObstacle(shape) {
  if (!available || state.obstacles.length >= MAX_PAGE_OBSTACLES) return;
  const unit = state.unit;
  const position = [0.45 * unit, 0.25 * unit * (state.obstacles.length % 2 ? -1 : 1), 0.25 * unit];
  const o = shape === 'sphere'
    ? { shape: 'sphere', position, rpy: [0, 0, 0], radius: 0.06 * unit }
    : { shape: 'box', position, rpy: [0, 0, 0], size: [0.12 * unit, 0.12 * unit, 0.12 * unit] };
  state.obstacles.push(o);
  state.selectedObstacle = state.obstacles.length - 1;
  changed();
}

export function deleteObstacle(i) {
  if (i < 0 || i >= state.obstacles.length) return;
  state.obstacles.splice(i, 1);
  state.selectedObstacle = Math.min(state.selectedObstacle, state.obstacles.length - 1);
  changed();
}

export function selectObstacle(i) {
  state.selectedObstacle = i >= 0 && i < state.obstacles.length ? i : -1;
  changed(false);
}

// Moves obstacle i to p (base frame): as the gizmo does.
export function moveObstacle(i, p) {
  if (!state.obstacles[i]) return;
  state.obstacles[i].position = p.slice();
  changed();
}

// The example scene shipped with deepik: a table under the base and three boxes.
export async function loadExampleScene(name = 'table-boxes') {
  try {
    setObstacles(obstaclesFromScene(await fetchExampleScene(name)));
  } catch (err) {
    showError(`example scene: ${err.message}`);
  }
}

// The panel's buttons.
export function bindObstacleControls() {
  $('add-box').addEventListener('click', () => addObstacle('box'));
  $('add-sphere').addEventListener('click', () => addObstacle('sphere'));
  $('example-scene').addEventListener('click', () => loadExampleScene());
  $('clear-obstacles').addEventListener('click', () => setObstacles([]));
  $('obstacle-list').addEventListener('click', (e) => {
    const button = e.target.closest('button');
    if (!button) return;
    const i = Number(button.dataset.index);
    if (button.classList.contains('delete-obstacle')) deleteObstacle(i); else selectObstacle(i);
  });
}

// The obstacles' gizmo handle under the pointer, or null (controls.js leaves the target alone then).
export const obstacleGizmoAxis = () => (gizmo && gizmo.object ? gizmo.axis : null);

// For the test hook: where the obstacle gizmo's arrow along three's `axis` ('x', 'y', 'z':
// deepik's x, z, -y) can be grabbed.
export function obstacleGizmoGrabPoint(axis) {
  const centre = gizmo.object.getWorldPosition(new THREE.Vector3());
  const factor = centre.distanceTo(camera.position) * Math.min(1.9 * Math.tan((Math.PI * camera.fov) / 360) / camera.zoom, 7);
  const unit = (factor * gizmo.size) / 4;
  const along = { x: [1, 0, 0], y: [0, 1, 0], z: [0, 0, 1] }[axis];
  return centre.add(new THREE.Vector3(...along).multiplyScalar(0.45 * unit));
}
export const obstaclesAvailable = () => available;
