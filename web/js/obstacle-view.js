// The obstacles in the view (obstacles.js owns them; collision.js tints the one in collision):
// their meshes in a group of their own in deepik's base frame, kept when the arm is rebuilt.
import * as THREE from 'three';
import { scene, requestRender } from './scene.js';

// deepik's base frame (z up) in three's world (y up), as scene.js's root; not cleared with the arm.
const group = new THREE.Group();
group.name = 'obstacles';
group.rotation.x = -Math.PI / 2;
scene.add(group);

const MATERIAL = { color: 0xd69e2e, transparent: true, opacity: 0.55, roughness: 0.8, metalness: 0 };
// The obstacle's surface as a three.js mesh in the base frame (a cylinder's or capsule's axis is
// its z, three's own is y: turned a quarter about x inside).
function makeMesh(o) {
  let geometry;
  if (o.shape === 'box') geometry = new THREE.BoxGeometry(...o.size);
  else if (o.shape === 'sphere') geometry = new THREE.SphereGeometry(o.radius, 32, 16);
  else if (o.shape === 'cylinder') geometry = new THREE.CylinderGeometry(o.radius, o.radius, o.length, 32).rotateX(Math.PI / 2);
  else geometry = new THREE.CapsuleGeometry(o.radius, o.length, 8, 24).rotateX(Math.PI / 2);
  const mesh = new THREE.Mesh(geometry, new THREE.MeshStandardMaterial(MATERIAL));
  mesh.position.set(...o.position);
  mesh.rotation.set(o.rpy[0], o.rpy[1], o.rpy[2], 'ZYX');  // R = Rz(yaw) Ry(pitch) Rx(roll), as URDF
  mesh.name = 'obstacle';
  return mesh;
}

// Draws `obstacles` (scene-format.js's form), the `selected` one lit.
export function drawObstacles(obstacles, selected) {
  for (const child of [...group.children]) {
    group.remove(child);
    child.geometry.dispose();
    child.material.dispose();
  }
  obstacles.forEach((o, i) => {
    const mesh = makeMesh(o);
    mesh.userData.name = o.name || `obstacles[${i}]`;  // the server's name for one without
    if (i === selected) mesh.material.emissive.setHex(0x3a2a00);
    group.add(mesh);
  });
}

export const obstacleMeshes = () => group.children;

// Obstacles named in `names` (a colliding pair from /api/collide) are drawn red; the others in
// their own colour.
export function tintObstacles(names) {
  const hit = new Set(names);
  for (const mesh of group.children) {
    mesh.material.color.setHex(mesh.userData.name && hit.has(mesh.userData.name) ? 0xe53e3e : MATERIAL.color);
  }
  requestRender();
}

// For the test hook: the drawn obstacles (base frame, read from the scene).
export function drawnObstacles() {
  scene.updateMatrixWorld(true);
  const inverse = group.matrixWorld.clone().invert();
  return group.children.map((mesh) => {
    const p = mesh.getWorldPosition(new THREE.Vector3()).applyMatrix4(inverse);
    // The surface's own extents (unturned, in the obstacle's frame; a cylinder's length along its z).
    mesh.geometry.computeBoundingBox();
    const size = mesh.geometry.boundingBox.getSize(new THREE.Vector3());
    return { position: [p.x, p.y, p.z], size: [size.x, size.y, size.z], selected: mesh.material.emissive.getHex() !== 0 };
  });
}
