// Pose targets: on arms with 6 or more joints the target has an orientation too (its three short
// axes: red x, green y, blue z of the wanted tool frame), and three.js's TransformControls gizmo
// moves it (arrows and planes) or turns it (rings). "position only" drops the orientation: the
// target is a point again and any tool orientation will do. The solve request carries
// { p, quat: [w, x, y, z] } (deepik's base frame) for a pose target.
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';
import { scene, camera, controls, renderer, requestRender } from './scene.js';
import { parts, makeAxes } from './arm.js';
import { state } from './state.js';

let gizmo = null;
let onMoved = null;

// The tool pointing straight down (a turn of pi about x): where a gripper usually looks, and a
// pose most arms reach in front of them.
export const DEFAULT_QUAT = [0, 1, 0, 0];

// Arms with fewer than 6 joints cannot reach an arbitrary orientation: their targets are points.
export const posesPossible = (arm) => arm.dof >= 6;

// The target's axes, children of the target marker (which turns with the orientation).
function addTargetAxes(r) {
  const group = makeAxes(7 * r, 0.2 * r, { transparent: true, opacity: 0.75 });
  group.name = 'target-axes';
  parts.target.add(group);
  parts.targetAxes = group;
}

// Sets up the gizmo for this arm (none below 6 joints); `moved(p, quat)` is called as it drags.
// Another arm's gizmo goes first.
export function installPoseControls(arm, unit, moved) {
  if (gizmo) {
    gizmo.detach();
    scene.remove(gizmo.getHelper());
    gizmo.dispose();
    gizmo = null;
    controls.enabled = true;
  }
  onMoved = moved;
  if (!posesPossible(arm)) return;
  addTargetAxes(0.035 * unit);
  gizmo = new TransformControls(camera, renderer.domElement);
  gizmo.setSize(0.8);
  gizmo.attach(parts.target);
  scene.add(gizmo.getHelper());
  gizmo.addEventListener('change', requestRender);
  gizmo.addEventListener('dragging-changed', (e) => {
    controls.enabled = !e.value;  // the orbit camera must not turn while the gizmo drags
    state.dragging = e.value;
  });
  gizmo.addEventListener('objectChange', () => {
    const p = parts.target.position, q = parts.target.quaternion;
    onMoved([p.x, p.y, p.z], state.targetQuat ? [q.w, q.x, q.y, q.z] : null);
  });
  showPoseControls();
}

// The target's orientation ([w, x, y, z], base frame) or null for a point target.
export function setTargetOrientation(quat) {
  state.targetQuat = quat ? quat.slice() : null;
  if (parts.target) {
    if (quat) parts.target.quaternion.set(quat[1], quat[2], quat[3], quat[0]).normalize();
    else parts.target.quaternion.identity();
  }
  showPoseControls();
}

// Gizmo mode: 'translate' (move) or 'rotate' (turn; pose targets only).
export function setGizmoMode(mode) {
  if (!gizmo) return;
  state.gizmoMode = mode === 'rotate' && state.targetQuat ? 'rotate' : 'translate';
  showPoseControls();
}

// Shows the gizmo in IK mode only; the target's axes only for a pose target.
export function showPoseControls() {
  if (parts.targetAxes) parts.targetAxes.visible = state.targetQuat !== null;
  if (!gizmo) return;
  if (!state.targetQuat) state.gizmoMode = 'translate';
  gizmo.setMode(state.gizmoMode);
  gizmo.setSpace(state.gizmoMode === 'rotate' ? 'local' : 'world');
  const on = state.mode === 'ik';
  gizmo.enabled = on;
  gizmo.getHelper().visible = on;
  requestRender();
}

export const gizmoShown = () => gizmo !== null && gizmo.enabled && gizmo.getHelper().visible;

// A point of the gizmo's handles in three.js's world, for the end-to-end test to grab with the
// mouse: 'translate-x' on the x arrow (world axes), 'rotate-z' on the ring about the target's own
// z axis (at 45 degrees, off the other rings). The gizmo's size follows TransformControls: its
// unit is the distance to the camera times 1.9 tan(fov / 2), times size / 4.
export function gizmoGrabPoint(kind) {
  const centre = parts.target.getWorldPosition(new THREE.Vector3());
  const factor = centre.distanceTo(camera.position) * Math.min(1.9 * Math.tan((Math.PI * camera.fov) / 360) / camera.zoom, 7);
  const unit = (factor * gizmo.size) / 4;
  if (kind === 'translate-x') return centre.add(new THREE.Vector3(0.45 * unit, 0, 0));
  const local = new THREE.Vector3(Math.SQRT1_2, Math.SQRT1_2, 0).multiplyScalar(0.5 * unit);
  return centre.add(local.applyQuaternion(parts.target.getWorldQuaternion(new THREE.Quaternion())));
}
