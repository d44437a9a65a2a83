// The 3-D view: renderer, camera, orbit controls, lights, the arm's root group, the framing of
// the camera and rendering on demand.
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
controls.dampingFactor = 0.2;  // the glide ends (and rendering stops) within about 50 frames

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

// Ground grid (three's xz plane = deepik's xy plane) and base axes, sized to the arm (another
// arm's grid goes).
let grid = null;
export function addGround(unit) {
  if (grid) { scene.remove(grid); grid.dispose(); }
  grid = new THREE.GridHelper(4 * unit, 20, 0x3a4a60, 0x1e2a38);
  scene.add(grid);
  root.add(new THREE.AxesHelper(0.35 * unit));  // red x, green y, blue z in deepik's frame
}

// Empties the arm's group (another arm is coming): every mesh's geometry and material go too.
export function clearRoot() {
  root.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    for (const m of [o.material].flat()) if (m && m.dispose) { if (m.map) m.map.dispose(); m.dispose(); }
  });
  root.clear();
}

// The camera looks from the front right (this direction, in three's world) at the middle of
// what it must show, just far enough back that every point of `points` (deepik's base frame) is
// in view, with a margin; so a narrow phone view steps back further than a wide desktop one.
const VIEW_DIRECTION = new THREE.Vector3(1.0, 0.95, 2.05).normalize();
const FRAME_MARGIN = 0.9;  // the points stay within 90 % of the half-width and half-height
let framedPoints = null;

export function frameCamera(points) {
  framedPoints = points;
  const world = points.map((p) => root.localToWorld(new THREE.Vector3(...p)));
  const box = new THREE.Box3().setFromPoints(world);
  const centre = box.getCenter(new THREE.Vector3());
  controls.target.copy(centre);
  // The smallest distance (bisection) at which every point projects inside the margin.
  const fits = (d) => {
    camera.position.copy(centre).addScaledVector(VIEW_DIRECTION, d);
    camera.lookAt(centre);
    camera.updateMatrixWorld(true);
    const v = new THREE.Vector3();
    return world.every((w) => {
      v.copy(w).project(camera);
      return v.z < 1 && Math.abs(v.x) <= FRAME_MARGIN && Math.abs(v.y) <= FRAME_MARGIN;
    });
  };
  let lo = 0, hi = box.getSize(new THREE.Vector3()).length() + 0.1;
  while (!fits(hi)) hi *= 2;
  for (let i = 0; i < 40; ++i) { const mid = (lo + hi) / 2; if (fits(mid)) hi = mid; else lo = mid; }
  fits(hi);
  camera.far = Math.max(100, hi * 10);
  // Zooming (wheel, pinch) stays between a close look at a joint and a few times this view.
  controls.minDistance = 0.02 * hi;
  controls.maxDistance = 10 * hi;
  scene.fog.near = 1.5 * hi;  // fog only well behind what is framed
  scene.fog.far = 5 * hi;
  camera.updateProjectionMatrix();
  controls.update();
  requestRender();
}

// The camera as the URL keeps it: its position and the point it orbits, in three's world.
export function cameraState() {
  return { position: camera.position.toArray(), target: controls.target.toArray() };
}

export function setCameraState({ position, target }) {
  framedPoints = null;  // the user's (or the URL's) view: resizing no longer reframes
  camera.position.fromArray(position);
  controls.target.fromArray(target);
  controls.update();
  requestRender();
}

// The user moved the camera: keep their view from now on.
controls.addEventListener('start', () => { framedPoints = null; });

// Render on demand: a frame is drawn only when something asked for one (a change of the scene,
// the orbit camera, a resize); the frame function (app.js) asks for the next one itself while
// anything still moves. So an idle page draws nothing and costs no CPU.
let frameFunction = null;
let frameScheduled = false;
export const renderStats = { frames: 0, scheduled: () => frameScheduled };

export function setFrameFunction(f) { frameFunction = f; }

export function requestRender() {
  if (frameScheduled || !frameFunction) return;
  frameScheduled = true;
  requestAnimationFrame((now) => {
    frameScheduled = false;
    frameFunction(now);
    renderStats.frames += 1;
  });
}
controls.addEventListener('change', requestRender);

export function resize() {
  const w = view.clientWidth, h = view.clientHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / Math.max(h, 1);
  camera.updateProjectionMatrix();
  if (framedPoints) frameCamera(framedPoints);
  requestRender();
}

// Where a world position is on screen (CSS pixels, page coordinates).
export function screenPosition(world) {
  const p = world.clone().project(camera);
  const rect = renderer.domElement.getBoundingClientRect();
  return [rect.left + ((p.x + 1) / 2) * rect.width, rect.top + ((1 - p.y) / 2) * rect.height];
}
