// The arm in the 3-D view: base, links and joints placed from FK frames, the tip, the target
// marker, and the closest-point marker with its dashed line for answers that miss the target.
// A URDF arm's links are drawn from its visual boxes, cylinders and spheres (/api/arm's
// "visuals") and its visual meshes ("meshes", robot-meshes.js), each moving with its chain frame;
// a link without them (a DH arm, the seed) is a capsule. The sphere model and the tint of links in
// collision are drawn here too (collision.js asks for them).
import * as THREE from 'three';
import { root, addGround, clearRoot, requestRender } from './scene.js';
import { makeLinkMesh } from './robot-meshes.js';

const materials = {
  link: new THREE.MeshStandardMaterial({ color: 0xd8dee9, metalness: 0.35, roughness: 0.35 }),
  joint: new THREE.MeshStandardMaterial({ color: 0x2b3a4f, metalness: 0.6, roughness: 0.3 }),
  base: new THREE.MeshStandardMaterial({ color: 0x1f2a3a, metalness: 0.5, roughness: 0.5 }),
  tip: new THREE.MeshStandardMaterial({ color: 0x5cc8ff, emissive: 0x1a6a99, roughness: 0.3 }),
  target: new THREE.MeshStandardMaterial({ color: 0xff4d5e, emissive: 0x8a1020, roughness: 0.4 }),
  closest: new THREE.MeshBasicMaterial({ color: 0xffb547, transparent: true, opacity: 0.9 }),
};

// The meshes, filled in by buildArm(): other modules pick the tip and the target from here.
export const parts = {
  links: [], joints: [], tip: null, target: null, closest: null, missLine: null, toolFrame: null,
  jointAxis: null, frames: [], axes: [],  // the hover arrow; the last drawn frames; joint axes (unit)
  visuals: new Map(),  // chain frame (-1: base, i: joint i's moving frame) -> group of URDF shapes
  targetAxes: null,    // the pose target's axes (pose.js)
  ghost: null,         // the network's raw answer: { group, links, tip } (translucent capsules)
  solutions: [],       // ghosts of several solutions of one target (SOLUTION_COLORS, in order)
  meshGroups: new Map(),    // chain frame -> group of the URDF's visual meshes (robot-meshes.js)
  meshStatus: { total: 0, loaded: 0, failed: 0 },
  sphereGroups: new Map(),  // chain frame -> group of the sphere model's spheres (hidden at first)
  linkObjects: new Map(),   // URDF link name -> its drawn shapes and meshes (to tint them)
};

function addMesh(geometry, material, name) {
  const mesh = new THREE.Mesh(geometry, material);
  if (name) mesh.name = name;
  root.add(mesh);
  return mesh;
}

function addBase(r) {
  const base = addMesh(new THREE.CylinderGeometry(2.4 * r, 3 * r, 1.2 * r, 40), materials.base);
  base.rotation.x = Math.PI / 2;  // cylinder axis y -> deepik z
  base.position.z = 0.6 * r;
}

// One link more than joints: the last runs from the last joint to the tip. Links are capsules
// (rounded ends, so a chain of them reads as one arm, not a cluster of balls), built for their
// length when first drawn (a revolute chain's links keep it; a prismatic joint's link is rebuilt).
// With meshes, the joint spheres are not drawn (the real body shows its joints) but still catch
// the pointer (controls.js's hover over a joint).
const hiddenJoint = new THREE.MeshBasicMaterial({ visible: false });
function addLinksAndJoints(dof, r, meshes) {
  for (let i = 0; i <= dof; ++i) {
    const mesh = addMesh(new THREE.BufferGeometry(), materials.link);
    mesh.userData = { radius: r, length: -1 };
    parts.links.push(mesh);
  }
  const sphere = new THREE.SphereGeometry(1.55 * r, 28, 20);
  for (let i = 0; i < dof; ++i) {
    const mesh = addMesh(sphere, meshes ? hiddenJoint : materials.joint);
    mesh.name = `joint ${i}`;
    parts.joints.push(mesh);
  }
}

// The joint axis shown while the pointer is over a joint: an arrow along the axis through the
// joint, both ways, and the joint's name beside it (controls.js finds the joint).
function addJointAxis(r) {
  const length = 12 * r;
  const shaft = new THREE.CylinderGeometry(0.25 * r, 0.25 * r, length, 12);
  const material = new THREE.MeshBasicMaterial({ color: 0xffd166, depthTest: false, transparent: true });
  const arrow = new THREE.Group();
  arrow.add(new THREE.Mesh(shaft, material));
  const head = new THREE.Mesh(new THREE.ConeGeometry(0.8 * r, 2.4 * r, 16), material);
  head.position.y = length / 2;
  arrow.add(head);
  arrow.renderOrder = 2;
  arrow.visible = false;
  root.add(arrow);
  parts.jointAxis = arrow;
}

// The target sphere wears a translucent halo (its child 0) that pulseTarget() breathes.
function addTipAndTarget(r) {
  parts.tip = addMesh(new THREE.SphereGeometry(1.3 * r, 24, 16), materials.tip, 'tip');
  parts.target = addMesh(new THREE.SphereGeometry(1.6 * r, 28, 20), materials.target, 'target');
  const halo = new THREE.Mesh(new THREE.SphereGeometry(2.6 * r, 28, 20),
    new THREE.MeshBasicMaterial({ color: 0xff4d5e, transparent: true, opacity: 0.18, depthWrite: false }));
  parts.target.add(halo);
}

// The tool frame: three short axes at the tip (red x, green y, blue z of the tip frame), so the
// tip's orientation shows, in FK mode above all.
// Three axes of `length` and shaft radius `radius` from the origin: red x, green y, blue z.
export function makeAxes(length, radius, materialOptions = {}) {
  const group = new THREE.Group();
  const shaft = new THREE.CylinderGeometry(radius, radius, length, 10);
  shaft.translate(0, length / 2, 0);
  const axes = [[0xff5d6c, [0, 0, -Math.PI / 2]], [0x3fd68f, [0, 0, 0]], [0x5c9dff, [Math.PI / 2, 0, 0]]];
  for (const [color, [rx, ry, rz]] of axes) {
    const mesh = new THREE.Mesh(shaft, new THREE.MeshBasicMaterial({ color, ...materialOptions }));
    mesh.rotation.set(rx, ry, rz);
    group.add(mesh);
  }
  return group;
}

function addToolFrame(r) {
  const group = makeAxes(9 * r, 0.22 * r);
  group.name = 'tool-frame';
  group.matrixAutoUpdate = false;
  root.add(group);
  parts.toolFrame = group;
}

// A ring at the closest point reached and a dashed line from it to the target, hidden until needed.
function addMissMarkers(r, unit) {
  parts.closest = addMesh(new THREE.TorusGeometry(2.2 * r, 0.35 * r, 12, 40), materials.closest);
  parts.closest.visible = false;
  const lineGeometry = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3()]);
  parts.missLine = new THREE.Line(lineGeometry, new THREE.LineDashedMaterial({
    color: 0xffb547, dashSize: 0.04 * unit, gapSize: 0.03 * unit, transparent: true, opacity: 0.9 }));
  parts.missLine.visible = false;
  root.add(parts.missLine);
}

// One URDF shape as a mesh, in its frame: a cylinder's axis is its z, as in URDF (three.js's is y).
function visualMesh(v) {
  let geometry;
  if (v.shape === 'box') {
    geometry = new THREE.BoxGeometry(v.size[0], v.size[1], v.size[2]);
  } else if (v.shape === 'cylinder') {
    geometry = new THREE.CylinderGeometry(v.size[0], v.size[0], v.size[1], 36).rotateX(Math.PI / 2);
  } else {
    geometry = new THREE.SphereGeometry(v.size[0], 32, 20);
  }
  const material = v.rgba
    ? new THREE.MeshStandardMaterial({
      color: new THREE.Color(v.rgba[0], v.rgba[1], v.rgba[2]), metalness: 0.3, roughness: 0.45,
      transparent: v.rgba[3] < 1, opacity: v.rgba[3],
    })
    : materials.link;
  const mesh = new THREE.Mesh(geometry, material);
  const [w, x, y, z] = v.origin.quat;
  mesh.position.set(...v.origin.p);
  mesh.quaternion.set(x, y, z, w);
  mesh.name = `visual ${v.link}`;
  return mesh;
}

// The group that moves with chain frame `frame` in `groups` (made on first use), placed by drawArm.
function frameGroup(groups, frame) {
  if (!groups.has(frame)) {
    const group = new THREE.Group();
    group.matrixAutoUpdate = false;
    root.add(group);
    groups.set(frame, group);
  }
  return groups.get(frame);
}

function addLinkObject(link, object) {
  if (!parts.linkObjects.has(link)) parts.linkObjects.set(link, []);
  parts.linkObjects.get(link).push(object);
}

// Groups of the URDF's shapes, one per chain frame, placed by drawArm. A frame with shapes no
// longer needs the capsule that stands for its link (capsule f + 1 runs from frame f onwards), nor
// the base (frame -1) its plinth.
function addVisuals(visuals) {
  for (const v of visuals) {
    const mesh = visualMesh(v);
    frameGroup(parts.visuals, v.frame).add(mesh);
    addLinkObject(v.link, mesh);
  }
  for (const frame of parts.visuals.keys()) parts.links[frame + 1].userData.covered = true;
}

// The URDF's visual meshes (robot-meshes.js), loaded in the background; a frame whose meshes all
// fail to load gets its capsule back.
function addMeshes(meshes) {
  const status = parts.meshStatus;
  status.total = meshes.length;
  const left = new Map();  // chain frame -> its meshes not failed
  for (const entry of meshes) left.set(entry.frame, (left.get(entry.frame) || 0) + 1);
  for (const entry of meshes) {
    const holder = makeLinkMesh(entry, (ok) => {
      if (parts.meshStatus !== status) return;  // another arm was built meanwhile
      status[ok ? 'loaded' : 'failed'] += 1;
      if (!ok) left.set(entry.frame, left.get(entry.frame) - 1);
      if (!ok && left.get(entry.frame) === 0 && !parts.visuals.has(entry.frame)) {
        parts.links[entry.frame + 1].userData.covered = false;
        if (parts.frames.length) drawArm(parts.frames);
      }
      requestRender();
    });
    frameGroup(parts.meshGroups, entry.frame).add(holder);
    addLinkObject(entry.link, holder);
  }
  for (const frame of parts.meshGroups.keys()) parts.links[frame + 1].userData.covered = true;
}

// The sphere model (/api/arm's collision.spheres: per link its spheres in the link frame, and the
// link's pose in its chain frame), hidden until showSpheres(true).
const sphereMaterial = new THREE.MeshStandardMaterial({
  color: 0x5cc8ff, transparent: true, opacity: 0.35, depthWrite: false, roughness: 0.6,
});
function addSpheres(collision) {
  if (!collision || !collision.spheres) return;
  const unitSphere = new THREE.SphereGeometry(1, 20, 14);
  for (const set of collision.spheres) {
    const link = new THREE.Group();
    const [w, x, y, z] = set.origin.quat;
    link.position.set(...set.origin.p);
    link.quaternion.set(x, y, z, w);
    link.name = `spheres ${set.link}`;
    for (const [cx, cy, cz, radius] of set.spheres) {
      const sphere = new THREE.Mesh(unitSphere, sphereMaterial);
      sphere.position.set(cx, cy, cz);
      sphere.scale.setScalar(radius);
      link.add(sphere);
    }
    frameGroup(parts.sphereGroups, set.frame).add(link);
  }
  for (const group of parts.sphereGroups.values()) group.visible = false;
}

// Shows or hides the sphere model.
export function showSpheres(on) {
  for (const group of parts.sphereGroups.values()) group.visible = on;
}

// Links drawn tinted (in collision): every mesh of theirs wears the tint, the others their own
// materials again.
const tintMaterial = new THREE.MeshStandardMaterial({ color: 0xff4d5e, emissive: 0x7a1020, roughness: 0.5 });
export function tintLinks(links) {
  const tinted = new Set(links);
  for (const [link, objects] of parts.linkObjects) {
    for (const object of objects) {
      object.traverse((o) => {
        if (!o.isMesh) return;
        if (o.userData.ownMaterial === undefined) o.userData.ownMaterial = o.material;
        o.material = tinted.has(link) ? tintMaterial : o.userData.ownMaterial;
      });
    }
  }
}

// A ghost arm: translucent capsules and a tip in `color`, hidden until drawGhostArm places it.
// Joint spheres and URDF shapes are left out: a ghost shows where the links go, lightly.
function makeGhost(dof, r, color, name) {
  const material = new THREE.MeshStandardMaterial({
    color, transparent: true, opacity: 0.28, depthWrite: false, roughness: 0.6,
  });
  const group = new THREE.Group();
  group.name = name;
  group.visible = false;
  const links = [];
  for (let i = 0; i <= dof; ++i) {
    const mesh = new THREE.Mesh(new THREE.BufferGeometry(), material);
    mesh.userData = { radius: 0.8 * r, length: -1 };
    group.add(mesh);
    links.push(mesh);
  }
  const tip = new THREE.Mesh(new THREE.SphereGeometry(1.1 * r, 20, 14), material);
  group.add(tip);
  root.add(group);
  return { group, links, tip, material };
}

// Draws a ghost from FK frames (base first, tip last), or hides it (null).
export function drawGhostArm(ghost, frames) {
  ghost.group.visible = frames !== null;
  if (frames === null) return;
  const points = [new THREE.Vector3(), ...frames.map((M) => new THREE.Vector3().setFromMatrixPosition(M))];
  ghost.links.forEach((mesh, i) => placeLink(mesh, points[i], points[i + 1]));
  ghost.tip.position.copy(points[points.length - 1]);
}

// The network's raw answer as a ghost (or hidden for null).
export function drawGhost(frames) {
  drawGhostArm(parts.ghost, frames);
}

// The colours of the "several solutions" ghosts, one per solution (the panel's list uses them).
export const SOLUTION_COLORS = [0x4fd1c5, 0xf6ad55, 0xf687b3, 0x90cdf4, 0xc6f68d, 0xfbd38d, 0xb794f4, 0xfc8181];
export const MAX_SOLUTION_GHOSTS = SOLUTION_COLORS.length;

// Draws the solutions' ghosts from their FK frames (a list, one per solution); hides the rest.
export function drawSolutionGhosts(framesList) {
  parts.solutions.forEach((ghost, k) => drawGhostArm(ghost, k < framesList.length ? framesList[k] : null));
}

// The solution ghost under a ray (a THREE.Raycaster), nearest first; -1 for none.
export function solutionGhostHit(raycaster) {
  const shown = parts.solutions.filter((g) => g.group.visible).map((g) => g.group);
  const hit = raycaster.intersectObjects(shown, true)[0];
  return hit ? parts.solutions.findIndex((g) => g.group === hit.object.parent) : -1;
}

// Builds everything once, sized to the arm (`unit` = its reach); another arm's parts go first.
export function buildArm(arm, unit) {
  clearRoot();
  Object.assign(parts, {
    links: [], joints: [], tip: null, target: null, closest: null, missLine: null, toolFrame: null,
    jointAxis: null, frames: [], axes: [], visuals: new Map(), targetAxes: null, ghost: null, solutions: [],
    meshGroups: new Map(), meshStatus: { total: 0, loaded: 0, failed: 0 }, sphereGroups: new Map(),
    linkObjects: new Map(),
  });
  const r = 0.035 * unit;
  parts.axes = arm.joints.map((j) => new THREE.Vector3(...j.axis).normalize());
  const visuals = arm.visuals || [];
  const meshes = arm.meshes || [];
  const shaped = visuals.length + meshes.length > 0;
  if (!visuals.some((v) => v.frame === -1) && !meshes.some((m) => m.frame === -1)) addBase(r);
  addLinksAndJoints(arm.dof, shaped ? 0.6 * r : r, meshes.length > 0);
  addVisuals(visuals);
  addMeshes(meshes);
  addSpheres(arm.collision);
  const ghostRadius = shaped ? 0.6 * r : r;
  parts.ghost = makeGhost(arm.dof, ghostRadius, 0xaa8cff, 'ghost');
  parts.solutions = SOLUTION_COLORS.map((color, k) => makeGhost(arm.dof, ghostRadius, color, `solution ${k}`));
  addTipAndTarget(r);
  addMissMarkers(r, unit);
  addToolFrame(r);
  addJointAxis(r);
  addGround(unit);
}

// A capsule (along y) from a to b.
const yUp = new THREE.Vector3(0, 1, 0);
function placeLink(mesh, a, b) {
  const d = new THREE.Vector3().subVectors(b, a);
  const length = d.length();
  mesh.visible = length > 1e-6 && !mesh.userData.covered;
  if (!mesh.visible) return;
  if (Math.abs(length - mesh.userData.length) > 1e-6) {
    mesh.geometry.dispose();
    mesh.geometry = new THREE.CapsuleGeometry(mesh.userData.radius, length, 8, 28);
    mesh.userData.length = length;
  }
  mesh.position.copy(a).addScaledVector(d, 0.5);
  mesh.quaternion.setFromUnitVectors(yUp, d.divideScalar(length));
}

// The axis arrow at joint i (or hidden for null), from the last drawn frames.
export function showJointAxis(i) {
  const arrow = parts.jointAxis;
  arrow.visible = i !== null;
  if (i === null) return;
  const axis = parts.axes[i].clone().transformDirection(parts.frames[i]);
  arrow.position.setFromMatrixPosition(parts.frames[i]);
  arrow.quaternion.setFromUnitVectors(yUp, axis);
}

// Poses the arm from FK frames (base first, tip last); returns the tip position (base frame).
export function drawArm(frames) {
  parts.frames = frames;
  const points = [new THREE.Vector3()];
  frames.forEach((M) => points.push(new THREE.Vector3().setFromMatrixPosition(M)));
  for (let i = 0; i < parts.links.length; ++i) placeLink(parts.links[i], points[i], points[i + 1]);
  parts.joints.forEach((mesh, i) => mesh.position.copy(points[i + 1]));
  for (const groups of [parts.visuals, parts.meshGroups, parts.sphereGroups]) {
    for (const [frame, group] of groups) {
      if (frame >= 0) group.matrix.copy(frames[frame]);
      group.matrixWorldNeedsUpdate = true;
    }
  }
  const tip = points[points.length - 1];
  parts.tip.position.copy(tip);
  parts.toolFrame.matrix.copy(frames[frames.length - 1]);
  parts.toolFrame.matrixWorldNeedsUpdate = true;
  return tip;
}

export function placeTarget(target) {
  parts.target.position.copy(target);
}

// Shows where a missing answer ended up: the dashed line joins it to the target, and the ring
// (facing the target) marks it only when it is the closest reachable point (`closest`: the
// status is "out of reach"), not when a solver merely fell short.
export function showMiss(miss, closest, reachedPoint, target) {
  parts.closest.visible = miss && closest;
  parts.missLine.visible = miss;
  if (!miss) return;
  const reached = new THREE.Vector3(...reachedPoint);
  parts.closest.position.copy(reached);
  const towards = new THREE.Vector3().subVectors(target, reached).normalize();
  parts.closest.quaternion.setFromUnitVectors(new THREE.Vector3(0, 0, 1), towards);
  parts.missLine.geometry.setFromPoints([reached, target.clone()]);
  parts.missLine.computeLineDistances();
}
