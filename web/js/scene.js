// The 3-D view: renderer, camera, orbit controls, lights and the arm's root group.
// Coordinates: deepik's base frame is z up; three.js is y up. Everything arm-related lives in
// `root`, a group rotated -90 deg about x, so its local coordinates are deepik's (x, y, z).
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const view = document.getElementById('view');

// preserveDrawingBuffer keeps the last frame readable, so screenshots of the canvas work.
export const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setClearColor(0x0d1117);
view.appendChild(renderer.domElement);
renderer.domElement.tabIndex = 0;  // focusable, so the keys reach the page after a click

export const scene = new THREE.Scene();
scene.fog = new THREE.Fog(0x0d1117, 9, 22);
export const camera = new THREE.PerspectiveCamera(45, 1, 0.01, 100);
export const controls = new OrbitControls(camera, renderer.domElement);
controls.enableDamping = true;
controls.dampingFactor = 0.12;

scene.add(new THREE.HemisphereLight(0xcfe8ff, 0x1a1f29, 1.4));
const sun = new THREE.DirectionalLight(0xffffff, 2.2);
sun.position.set(4, 8, 5);
scene.add(sun);
const rim = new THREE.DirectionalLight(0x5cc8ff, 0.8);
rim.position.set(-6, 3, -5);
scene.add(rim);

export const root = new THREE.Group();  // deepik's base frame
root.rotation.x = -Math.PI / 2;
scene.add(root);

// three's world (y up) -> deepik's base frame (z up), for positions read back from the scene.
export const toBase = (v) => [v.x, -v.z, v.y];

// Ground grid (three's xz plane = deepik's xy plane) and base axes, sized to the arm.
export function addGround(unit) {
  scene.add(new THREE.GridHelper(4 * unit, 20, 0x3a4a60, 0x1e2a38));
  root.add(new THREE.AxesHelper(0.35 * unit));  // red x, green y, blue z in deepik's frame
}

// A view from the front right, looking at the middle of the arm's reach.
export function frameCamera(unit) {
  camera.position.set(1.55 * unit, 1.25 * unit, 2.35 * unit);
  controls.target.set(0.55 * unit, 0.3 * unit, 0);
  controls.update();
}

export function resize() {
  const w = view.clientWidth, h = view.clientHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / Math.max(h, 1);
  camera.updateProjectionMatrix();
}

// Where a world position is on screen (CSS pixels, page coordinates).
export function screenPosition(world) {
  const p = world.clone().project(camera);
  const rect = renderer.domElement.getBoundingClientRect();
  return [rect.left + ((p.x + 1) / 2) * rect.width, rect.top + ((1 - p.y) / 2) * rect.height];
}
