// Moving the target by hand: drag the red marker with the pointer (in the plane facing the
// camera), or step it with the keys. Dragging anywhere else still orbits the camera; a click or
// tap (no drag) on a solution's ghost arm picks that solution.
import * as THREE from 'three';
import { renderer, camera, controls, root, screenPosition, requestRender } from './scene.js';
import { parts, showJointAxis, solutionGhostHit } from './arm.js';
import { state } from './state.js';
import { setTarget } from './solve.js';
import { pickSolution } from './solutions.js';
import { gizmoAxis } from './pose.js';
import { obstacleGizmoAxis } from './obstacles.js';

const canvas = renderer.domElement;
const raycaster = new THREE.Raycaster();
const pointer = new THREE.Vector2();
const dragPlane = new THREE.Plane();
const dragOffset = new THREE.Vector3();  // marker centre minus the grabbed point: no jump on grab
let dragPointer = null;  // the pointer (mouse, finger) that holds the marker

function setPointer(event) {
  const rect = canvas.getBoundingClientRect();
  pointer.set(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
  raycaster.setFromCamera(pointer, camera);
}

// On the marker, or (a finger is wider than a mouse pointer) within TOUCH_SLOP CSS pixels of its
// centre on screen. Only in IK mode: in FK mode the target is hidden and has no say.
const TOUCH_SLOP = 28;
function overTarget(event) {
  if (state.mode !== 'ik' || !parts.target) return false;
  // A gizmo handle under the pointer (its hover) wins: the marker is grabbed elsewhere.
  if (gizmoAxis() !== null || obstacleGizmoAxis() !== null) return false;
  // The marker and its halo; not the pose target's axes, which the gizmo's handles may cross.
  if (raycaster.intersectObjects([parts.target, parts.target.children[0]], false).length > 0) return true;
  if (event.pointerType !== 'touch') return false;
  const [x, y] = screenPosition(parts.target.getWorldPosition(new THREE.Vector3()));
  return Math.hypot(event.clientX - x, event.clientY - y) <= TOUCH_SLOP;
}

// Registered in the capture phase, so it runs before OrbitControls' own listener and can hide
// a drag that starts on the marker from it.
let press = null;  // where a press that may be a click began: { id, x, y }
const CLICK_SLOP = 6;  // CSS pixels a click may move

function onPointerDown(event) {
  if (!parts.target || !event.isPrimary) return;
  setPointer(event);
  press = { id: event.pointerId, x: event.clientX, y: event.clientY };
  if (!overTarget(event)) return;
  press = null;
  setDragging(true);
  dragPointer = event.pointerId;
  controls.enabled = false;
  canvas.setPointerCapture(event.pointerId);
  const world = parts.target.getWorldPosition(new THREE.Vector3());
  dragPlane.setFromNormalAndCoplanarPoint(camera.getWorldDirection(new THREE.Vector3()), world);
  const hit = new THREE.Vector3();
  if (raycaster.ray.intersectPlane(dragPlane, hit)) dragOffset.subVectors(world, hit);
  event.preventDefault();
  event.stopImmediatePropagation();  // the orbit camera must not see this drag
}

// A drag of the target (the marker here, the gizmo in pose.js) starts or ends; this module owns
// state.dragging.
export function setDragging(on) { state.dragging = on; }

// Shows joint i's axis and name (null: none); the panel's joint rows call it too.
let hovered = null;
export function hoverJoint(i, clientX, clientY) {
  const label = document.getElementById('joint-label');
  if (i !== null && clientX !== undefined) {
    const rect = canvas.getBoundingClientRect();
    label.textContent = `${state.arm.joints[i].name} · axis`;
    label.style.left = `${clientX - rect.left + 14}px`;
    label.style.top = `${clientY - rect.top + 10}px`;
  }
  label.hidden = i === null || clientX === undefined;
  if (i === hovered) return;
  hovered = i;
  showJointAxis(i);
  requestRender();
}
export const hoveredJoint = () => hovered;

function jointUnderPointer() {
  const hit = raycaster.intersectObjects(parts.joints, false)[0];
  return hit ? parts.joints.indexOf(hit.object) : null;
}

function onPointerMove(event) {
  setPointer(event);
  if (!state.dragging) {
    const onTarget = overTarget(event);
    canvas.style.cursor = onTarget ? 'grab' : '';
    if (event.pointerType === 'mouse' && state.arm) hoverJoint(onTarget ? null : jointUnderPointer(), event.clientX, event.clientY);
    return;
  }
  if (event.pointerId !== dragPointer) return;  // a second finger does not move the marker
  const hit = new THREE.Vector3();
  if (!raycaster.ray.intersectPlane(dragPlane, hit)) return;
  const local = root.worldToLocal(hit.add(dragOffset));
  setTarget([local.x, local.y, local.z]);
}

// A click or tap that did not drag: on a solution's ghost, that solution becomes the arm's.
function onPointerUp(event) {
  const click = press !== null && press.id === event.pointerId
    && Math.hypot(event.clientX - press.x, event.clientY - press.y) <= CLICK_SLOP;
  press = null;
  if (!click || state.mode !== 'ik') return;
  setPointer(event);
  const k = solutionGhostHit(raycaster);
  if (k >= 0) pickSolution(k);
}

function endDrag(event) {
  if (!state.dragging || event.pointerId !== dragPointer) return;
  setDragging(false);
  controls.enabled = true;
  if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
}

// The original app's keys: W/S along x, A/D along y, E/Q along z (deepik's base frame).
const keyMoves = { w: [1, 0, 0], s: [-1, 0, 0], a: [0, 1, 0], d: [0, -1, 0], e: [0, 0, 1], q: [0, 0, -1] };

// Steps of 1 % of the arm's size (state.unit), 5 % with Shift. Keys typed into the panel's
// select and checkbox are theirs, not the target's.
function onKeyDown(event) {
  if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) return;
  const move = keyMoves[event.key.toLowerCase()];
  if (!move || !state.arm || state.mode !== 'ik') return;
  const step = 0.01 * state.unit * (event.shiftKey ? 5 : 1);
  setTarget([state.target.x + move[0] * step, state.target.y + move[1] * step, state.target.z + move[2] * step]);
  event.preventDefault();
}

export function installTargetControls() {
  canvas.addEventListener('pointerdown', onPointerDown, { capture: true });
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('pointerleave', () => { if (state.arm) hoverJoint(null); });
  window.addEventListener('keydown', onKeyDown);
}
