// window.deepik: the one global, read by the end-to-end test (tests/web/e2e.mjs) to drive the
// page and read the drawn arm back. Keep its names and meanings as they are.
import * as THREE from 'three';
import {
  scene, camera, renderer, toBase, screenPosition, cameraState, renderStats, root,
} from './scene.js';
import { parts, solutionGhostHit } from './arm.js';
import { state } from './state.js';
import { setTarget, ghostBusy, solveBusy } from './solve.js';
import { setJoints } from './animation.js';
import { framedPoints, demoPoint, demoQuat, setDemoRadius } from './demo.js';
import { workspacePointsShown } from './workspace.js';
import { hoveredJoint } from './controls.js';
import { gizmoShown, setGizmoMode, gizmoGrabPoint, gizmoAxis } from './pose.js';
import { solutionsBusy } from './solutions.js';
import { trackMarksShown, setTrackStepRatio } from './track.js';
import { lastCollision, collisionBusy } from './collision.js';
import { obstacleGizmoGrabPoint, setObstacles } from './obstacles.js';
import { drawnObstacles } from './obstacle-view.js';

// A matrix of `object` in deepik's base frame (the arm's root group), from the scene.
function inBase(object) {
  scene.updateMatrixWorld(true);
  return new THREE.Matrix4().copy(root.matrixWorld).invert().multiply(object.matrixWorld);
}
const quatOf = (m) => { const Q = new THREE.Quaternion().setFromRotationMatrix(m); return [Q.w, Q.x, Q.y, Q.z]; };

export function installTestHook() {
  window.deepik = {
    ready: true,
    // p: [x, y, z]; quat: [w, x, y, z] turns the target, null makes it a point, left out keeps it.
    setTarget: (p, quat) => setTarget(p, quat),
    target: () => [state.target.x, state.target.y, state.target.z],
    // The target's orientation as asked ([w, x, y, z], base frame), or null for a point target;
    // and as drawn (the marker's orientation, read from the scene).
    targetQuat: () => (state.targetQuat ? state.targetQuat.slice() : null),
    drawnTargetQuat: () => quatOf(inBase(parts.target)),
    // The drawn tool frame's orientation ([w, x, y, z], base frame), read from the scene.
    tipQuat: () => quatOf(inBase(parts.toolFrame)),
    gizmoShown: () => gizmoShown(),
    gizmoMode: () => state.gizmoMode,
    // Where to grab the gizmo on screen: 'translate-x', '-y', '-z' (its arrows along deepik's base
    // axes) or 'rotate-z' (its ring about the target's z).
    gizmoScreenPosition: (kind) => { scene.updateMatrixWorld(true); return screenPosition(gizmoGrabPoint(kind)); },
    setGizmoMode: (mode) => setGizmoMode(mode),
    gizmoAxis: () => gizmoAxis(),
    targetAxesShown: () => Boolean(parts.targetAxes && parts.targetAxes.visible),
    // The network's ghost arm: shown or not, and its tip (base frame) read from the scene.
    ghostShown: () => Boolean(parts.ghost && parts.ghost.group.visible),
    ghostTip: () => {
      scene.updateMatrixWorld(true);
      return toBase(parts.ghost.tip.getWorldPosition(new THREE.Vector3()));
    },
    get ghost() { return state.ghost; },
    // "show K solutions": the ghosts drawn and their tips (base frame) read from the scene; the
    // answer they were drawn from ({ solutions: [{ q, ... }], exact, target }).
    solutionsShown: () => parts.solutions.filter((g) => g.group.visible).length,
    solutionTips: () => {
      scene.updateMatrixWorld(true);
      return parts.solutions.filter((g) => g.group.visible).map((g) => toBase(g.tip.getWorldPosition(new THREE.Vector3())));
    },
    get solutionsAnswer() { return state.solutionsAnswer; },
    // A point on screen (CSS pixels) where a click lands on solution k's ghost first, away from the
    // target marker; null if none of its links shows.
    solutionScreenPosition: (k) => {
      scene.updateMatrixWorld(true);
      const ghost = parts.solutions[k];
      const [tx, ty] = screenPosition(parts.target.getWorldPosition(new THREE.Vector3()));
      const rect = renderer.domElement.getBoundingClientRect();
      const raycaster = new THREE.Raycaster();
      for (const link of ghost.links.filter((l) => l.visible)) {
        for (const f of [0.5, 0.3, 0.7, 0.15, 0.85]) {
          // Along the capsule's axis (its local y), from one end to the other.
          const half = link.userData.length / 2;
          const p = link.localToWorld(new THREE.Vector3(0, (2 * f - 1) * half, 0));
          const [x, y] = screenPosition(p);
          if (Math.hypot(x - tx, y - ty) < 40 || x < rect.left || x > rect.right || y < rect.top || y > rect.bottom) continue;
          raycaster.setFromCamera(new THREE.Vector2(((x - rect.left) / rect.width) * 2 - 1, -((y - rect.top) / rect.height) * 2 + 1), camera);
          if (solutionGhostHit(raycaster) === k) return [x, y];
        }
      }
      return null;
    },
    // The tracked demo: the rows played ({ run, t, q, status, stepBound, fresh, start, label }),
    // the round trips of its requests (ms), the marks drawn; the step ratio asked for (null: 20).
    trackLog: () => state.trackLog.slice(),
    // The demo paths: the target at parameter t (a point, or { p, quat } on an arm that takes
    // poses, as the page asks for it), and their radius as a share of the reach (default 0.12).
    demoTarget: (kind, t) => (state.targetQuat ? { p: demoPoint(kind, t), quat: demoQuat() } : demoPoint(kind, t)),
    setDemoRadius: (share) => setDemoRadius(share),
    trackTrips: () => state.trackTrips.slice(),
    trackMarks: () => trackMarksShown(),
    setTrackStepRatio: (r) => setTrackStepRatio(r),
    solutionTrips: () => state.solutionTrips.slice(),
    // The URDF shapes drawn: per shape, its chain frame and its pose in the base frame (scene).
    visualPoses: () => [...parts.visuals.entries()].flatMap(([frame, group]) => group.children.map((mesh) => {
      const m = inBase(mesh);
      return { frame, name: mesh.name, p: [m.elements[12], m.elements[13], m.elements[14]], quat: quatOf(m) };
    })),
    // The URDF's visual meshes: how many, loaded, failed; per mesh its link, chain frame and its
    // holder's matrix in the base frame (the URDF origin and scale in the frame, read from the
    // scene; column-major, as three.js keeps it).
    meshStatus: () => ({ ...parts.meshStatus }),
    meshPoses: () => [...parts.meshGroups.entries()].flatMap(([frame, group]) => group.children.map((holder) => ({
      link: holder.userData.link, frame, loaded: holder.userData.loaded, matrix: inBase(holder).elements.slice(),
    }))),
    // Vertices of the loaded meshes of `link` in the base frame (every `stride`-th), from the scene.
    meshVertices: (link, stride = 1) => {
      scene.updateMatrixWorld(true);
      const toBaseFrame = new THREE.Matrix4().copy(root.matrixWorld).invert();
      const out = [];
      const v = new THREE.Vector3();
      for (const group of parts.meshGroups.values()) {
        for (const holder of group.children.filter((h) => h.userData.link === link)) {
          holder.traverse((o) => {
            if (!o.isMesh) return;
            const position = o.geometry.getAttribute('position');
            const M = new THREE.Matrix4().multiplyMatrices(toBaseFrame, o.matrixWorld);
            for (let i = 0; i < position.count; i += stride) out.push(v.fromBufferAttribute(position, i).applyMatrix4(M).toArray());
          });
        }
      }
      return out;
    },
    // The latest self-collision answer drawn ({ q, answer }) and whether one is coming; the links
    // drawn tinted; the sphere model's spheres shown.
    collision: () => lastCollision(),
    // Obstacles (issue 23): as kept (scene-format.js's form), as drawn (base frame, read from the
    // scene), and where the obstacle gizmo's arrow along three's x, y or z can be grabbed.
    obstacles: () => JSON.parse(JSON.stringify(state.obstacles)),
    selectedObstacle: () => state.selectedObstacle,
    drawnObstacles: () => drawnObstacles(),
    obstacleGizmoScreenPosition: (axis) => { scene.updateMatrixWorld(true); return screenPosition(obstacleGizmoGrabPoint(axis)); },
    setObstacles: (list) => setObstacles(list),
    collisionBusy: () => collisionBusy(),
    tintedLinks: () => [...parts.linkObjects.entries()].filter(([, objects]) => objects.some((object) => {
      let tinted = false;
      object.traverse((o) => { if (o.isMesh && o.userData.ownMaterial !== undefined && o.material !== o.userData.ownMaterial) tinted = true; });
      return tinted;
    })).map(([link]) => link),
    spheresShown: () => [...parts.sphereGroups.values()].filter((g) => g.visible)
      .reduce((n, g) => n + g.children.reduce((m, link) => m + link.children.length, 0), 0),
    // Capsules drawn (visible) for links.
    capsulesShown: () => parts.links.filter((l) => l.visible).length,
    // The drawn tip's world position, read from the scene and expressed in deepik's base frame.
    tipPosition: () => {
      scene.updateMatrixWorld(true);
      return toBase(parts.tip.getWorldPosition(new THREE.Vector3()));
    },
    // The drawn tool frame's axes (unit x, y, z of the tip frame, in deepik's base frame).
    toolFrameAxes: () => {
      scene.updateMatrixWorld(true);
      const m = new THREE.Matrix4().copy(root.matrixWorld).invert().multiply(parts.toolFrame.matrixWorld);
      const e = m.elements;
      return [[e[0], e[1], e[2]], [e[4], e[5], e[6]], [e[8], e[9], e[10]]];
    },
    // Where the target marker is on screen (CSS pixels, page coordinates), for driving the mouse.
    targetScreenPosition: () => {
      scene.updateMatrixWorld(true);
      return screenPosition(parts.target.getWorldPosition(new THREE.Vector3()));
    },
    // True once the answer for the current target has come and the arm has stopped moving.
    settled: () => !state.animating && !solveBusy() && !state.dragging
      && state.lastSolve !== null && state.demo === 'off' && !ghostBusy() && !solutionsBusy(),
    get lastSolve() { return state.lastSolve; },
    get requestCount() { return state.requestCount; },
    // Points of the workspace cloud on screen (0 until it has been fetched and shown).
    workspacePoints: () => workspacePointsShown(),
    // The view as the address keeps it.
    mode: () => state.mode,
    solver: () => state.solver,
    q: () => state.q.slice(),
    setJoints: (q) => setJoints(q),
    camera: () => cameraState(),
    // Rendering on demand: frames drawn so far, and whether one is asked for.
    frames: () => renderStats.frames,
    frameScheduled: () => renderStats.scheduled(),
    // Solve round trips seen by the page (ms), the latest 1000.
    roundTrips: () => state.roundTrips.slice(),
    closestShown: () => parts.closest.visible,
    // The joint whose axis is shown (pointer over it), or null; where joint i is on screen.
    hoveredJoint: () => hoveredJoint(),
    jointAxisShown: () => parts.jointAxis.visible,
    jointScreenPosition: (i) => {
      scene.updateMatrixWorld(true);
      return screenPosition(parts.joints[i].getWorldPosition(new THREE.Vector3()));
    },
    missShown: () => parts.missLine.visible,
    tipScreenPosition: () => {
      scene.updateMatrixWorld(true);
      return screenPosition(parts.tip.getWorldPosition(new THREE.Vector3()));
    },
    // The share of the framed points (demo paths, arm) that project inside the view.
    framedOnScreen: () => {
      scene.updateMatrixWorld(true);
      const pts = framedPoints(state.arm);
      const inside = pts.filter((p) => {
        const v = root.localToWorld(new THREE.Vector3(...p)).project(camera);
        return Math.abs(v.x) <= 1 && Math.abs(v.y) <= 1 && v.z < 1;
      });
      return inside.length / pts.length;
    },
  };
}
