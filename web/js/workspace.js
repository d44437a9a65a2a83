// The workspace cloud: a sample of reachable tip positions from the server, coloured by height.
// Fetched the first time it is shown, then only hidden and shown again.
import * as THREE from 'three';
import { fetchWorkspace } from './api.js';
import { root } from './scene.js';
import { state } from './state.js';

let cloud = null;

// Another arm: its own cloud is fetched when shown (the old one went with the arm's group).
export function forgetWorkspace() {
  cloud = null;
}

export async function toggleWorkspace(on) {
  if (on && !cloud) {
    const { points } = await fetchWorkspace(6000, 7);  // a fixed seed: the same cloud every time
    cloud = makeCloud(points, state.unit);
    root.add(cloud);
  }
  if (cloud) cloud.visible = on;
}

/// How many workspace points are drawn now (0 while hidden or not loaded yet).
export function workspacePointsShown() {
  return cloud && cloud.visible ? cloud.geometry.getAttribute('position').count : 0;
}

function makeCloud(points, unit) {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(points.flat(), 3));
  const colors = new Float32Array(points.length * 3);
  const c = new THREE.Color();
  points.forEach((p, i) => {
    c.setHSL(0.55 + 0.12 * (p[2] / unit), 0.75, 0.6);
    colors.set([c.r, c.g, c.b], 3 * i);
  });
  geometry.setAttribute('color', new THREE.BufferAttribute(colors, 3));
  return new THREE.Points(geometry, new THREE.PointsMaterial({
    size: 0.018 * unit, vertexColors: true, transparent: true, opacity: 0.6, depthWrite: false, sizeAttenuation: true,
    map: dotTexture(), alphaTest: 0.05,
  }));
}

// A soft round dot for the point cloud (drawn here: no image files to fetch).
function dotTexture() {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const g = canvas.getContext('2d');
  const gradient = g.createRadialGradient(32, 32, 0, 32, 32, 32);
  gradient.addColorStop(0, 'rgba(255,255,255,1)');
  gradient.addColorStop(0.45, 'rgba(255,255,255,0.85)');
  gradient.addColorStop(1, 'rgba(255,255,255,0)');
  g.fillStyle = gradient;
  g.fillRect(0, 0, 64, 64);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  return texture;
}
