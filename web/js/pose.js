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
let onMoved = null, onDragging = null;
// What the gizmo moves: in translate mode a handle at the target's position with the base frame's
// axes (a child of the arm's root, unturned), so its red, green and blue arrows move the target
// along deepik's x, y and z (z up), as the tool frame and the W/A/S/D/E/Q keys do; three.js's own
// world axes are y up. In rotate mode the target itself, whose rings turn about its own axes.
let handle = null;

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

// Sets up the gizmo for this arm (none below 6 joints); `moved(p, quat)` is called as it drags,
// `dragging(on)` as a drag starts and ends. Another arm's gizmo goes first.
export function installPoseControls(arm, unit, moved, dragging) {
  if (gizmo) {
    gizmo.detach();
    scene.remove(gizmo.getHelper());
    gizmo.dispose();
    gizmo = null;
    controls.enabled = true;
  }
  onMoved = moved;
  onDragging = dragging;
  if (!posesPossible(arm)) return;
  addTargetAxes(0.035 * unit);
  handle = new THREE.Object3D();
  handle.name = 'gizmo-handle';
  // Always at the target: placed before each frame's matrices are computed.
  handle.updateMatrixWorld = function place(force) {
    this.position.copy(parts.target.position);
    THREE.Object3D.prototype.updateMatrixWorld.call(this, force);
  };
  parts.target.parent.add(handle);
  gizmo = new TransformControls(camera, renderer.domElement);
  fitGizmo();
  gizmo.attach(handle);
  scene.add(gizmo.getHelper());
  gizmo.addEventListener('change', requestRender);
  gizmo.addEventListener('dragging-changed', (e) => {
    controls.enabled = !e.value;  // the orbit camera must not turn while the gizmo drags
    onDragging(e.value);
  });
  gizmo.addEventListener('objectChange', () => {
    const p = gizmo.object.position, q = parts.target.quaternion;
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
  const object = state.gizmoMode === 'rotate' ? parts.target : handle;
  if (gizmo.object !== object) gizmo.attach(object);
  gizmo.setSpace('local');
  const on = state.mode === 'ik';
  gizmo.enabled = on;
  gizmo.getHelper().visible = on;
  requestRender();
}

// The gizmo's size follows the view's shape: TransformControls draws it as a share of the view's
// height, while the camera frames the arm by the narrower side; so in a tall, narrow view (a
// phone) the arm is small and a full-size gizmo would dwarf it. 0.8 in a view 1.2 times as wide
// as high or wider, less in proportion below (never under 0.35).
export function fitGizmo() {
  if (!gizmo) return;
  const aspect = camera.aspect;
  gizmo.setSize(Math.max(0.35, Math.min(0.8, (0.8 * aspect) / 1.2)));
}

// The gizmo's handle under the pointer ('X', 'Y', 'Z', 'XY', ... or null), what a drag would move.
export const gizmoAxis = () => (gizmo ? gizmo.axis : null);

export const gizmoShown = () => gizmo !== null && gizmo.enabled && gizmo.getHelper().visible;

// A point of the gizmo's handles in three.js's world, for the end-to-end test to grab with the
// mouse: 'translate-x', 'translate-y', 'translate-z' on the arrows of deepik's base axes,
// 'rotate-z' on the ring about the target's own
// z axis (at 45 degrees, off the other rings). The gizmo's size follows TransformControls: its
// unit is the distance to the camera times 1.9 tan(fov / 2), times size / 4.
export function gizmoGrabPoint(kind) {
  const centre = parts.target.getWorldPosition(new THREE.Vector3());
  const factor = centre.distanceTo(camera.position) * Math.min(1.9 * Math.tan((Math.PI * camera.fov) / 360) / camera.zoom, 7);
  const unit = (factor * gizmo.size) / 4;
  // deepik's base frame in three's world: x is x, y is -z, z is y.
  const along = { 'translate-x': [1, 0, 0], 'translate-y': [0, 0, -1], 'translate-z': [0, 1, 0] }[kind];
  if (along) return centre.add(new THREE.Vector3(...along).multiplyScalar(0.45 * unit));
  const local = new THREE.Vector3(Math.SQRT1_2, Math.SQRT1_2, 0).multiplyScalar(0.5 * unit);
  return centre.add(local.applyQuaternion(parts.target.getWorldQuaternion(new THREE.Quaternion())));
}
