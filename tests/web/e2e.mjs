// End-to-end test of deepik's page in real headless Chromium (Debian's, driven by playwright-core):
// starts `deepik serve`, loads the page, moves the target with the mouse and the keys, waits for
// the arm to settle, reads the tip back from the three.js scene and checks it against the target
// (reachable, refined solver) and the closest reachable point (unreachable, analytic solver);
// the labels (error units, the closest-point ring), rendering on demand (no frames while idle),
// FK mode (joint sliders; the drawn tip and tool frame against /api/fk), the view state in the
// address (loaded and read back), and a phone (390x844, touch: the view's size, a touch drag of
// the target, pinch zoom, the bottom sheet); K solutions as ghost arms (on the target, distinct,
// picked from the list or by a click on a ghost); the tracked demo (POST /api/track: every step
// within its bound, the labels where the server marks out of reach or a reconfiguration). It
// measures the frame rate during the tracked demo, the solve round trip and that of K solutions
// seen by the page (printed as "bench:" lines) and saves screenshots of the desktop and phone
// layouts and of four solutions into --screenshots DIR. Then two more servers without a model: a
// URDF arm drawn from its boxes, cylinders and spheres beside a folder of models (lm; the tip
// follows a dragged target; the page's choice opens a model in place and back), and Panda with
// pose targets (reached in position and angle as read from the scene; "avoid joint limits"; the
// TransformControls gizmo by mouse; the closest pose for an unreachable one). The servers are
// killed at the end whatever happens; the whole test is bounded.
//
//   node tests/web/e2e.mjs --deepik build/deepik --model models/seed-default.safetensors \
//        --screenshots build/tests [--web-root web] [--only desktop,address,phone,solutions,track,urdf,panda]
//   (run from web/, where node_modules is)
// Without --web-root the server serves the page folder compiled into the binary.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fmtLength, fmtAngleDeg } from '../../web/js/format.js';
import {
  argument, check, distance, fmt, repo, startServer, solve, settle, openPage, DESKTOP, SMALL_DESKTOP, PHONE,
  statusOf, pageWait, median, dragMarker, qmul, qangle, compose, postJson, screenshots, model, run,
} from './harness.mjs';

// --only desktop,address,phone,solutions,track,urdf,panda: a subset of the sections (while working on one).
const only = argument('only', 'desktop,address,phone,solutions,track,urdf,panda').split(',');


async function desktop(base, problems) {
  const page = await openPage(base, DESKTOP, problems);
  await settle(page);
  check(await page.$eval('#solver', (s) => s.value) === 'refined', 'the page solves with refined by default');
  check(await page.evaluate(() => window.deepik.framedOnScreen()) === 1,
    'desktop: the camera frames the whole demo path and the arm');

  // 1. Move the target through the UI: drag the marker with the mouse, then fine moves by keys.
  const before = await dragMarker(page);
  const dragged = await page.evaluate(() => window.deepik.target());
  check(distance(before, dragged) > 0.05, 'dragging the marker moves the target',
    `${fmt(before)} -> ${fmt(dragged)}`);
  await page.locator('#view canvas').focus();
  for (const key of ['w', 'w', 'a', 'e', 'Shift+E']) await page.keyboard.press(key);
  const keyed = await page.evaluate(() => window.deepik.target());
  const expected = [dragged[0] + 0.04, dragged[1] + 0.02, dragged[2] + 0.02 + 0.10];  // 1 cm steps of a 2 m arm
  check(distance(keyed, expected) < 1e-9, 'W/A/E (and Shift) move the target in fine steps',
    `${fmt(keyed)} vs ${fmt(expected)}`);

  const reachable = await settle(page);
  const oracle = await solve(base, reachable.target, 'analytic');
  check(oracle.status === 'converged', 'the moved target is reachable (analytic)', JSON.stringify(oracle));
  const e1 = distance(reachable.tip, reachable.target);
  check(e1 < 1e-3, `reachable target: the drawn tip is within 1 mm (${(e1 * 1e3).toFixed(6)} mm)`,
    `tip ${fmt(reachable.tip)} target ${fmt(reachable.target)}`);
  check(reachable.last.solver === 'refined' && reachable.last.status === 'converged', 'refined converged',
    JSON.stringify(reachable.last));
  const reachedState = await statusOf(page);
  check(reachedState.state === 'reached' && /converged/i.test(reachedState.text), 'the panel says converged',
    JSON.stringify(reachedState));
  // Honest labels: the error in the unit that shows its digits (4.7 pm, not "0 nm").
  const errorText = await page.$eval('#error', (e) => e.textContent);
  const detail = await page.$eval('#status-detail', (e) => e.textContent);
  check(errorText === fmtLength(reachable.last.position_error) && !/(^|\D)0 (nm|mm|µm)/.test(detail)
    && detail.includes(fmtLength(reachable.last.position_error)),
  `the error reads in honest units (${errorText}; "${detail}")`, `position_error ${reachable.last.position_error}`);
  check(!(await page.evaluate(() => window.deepik.missShown() || window.deepik.closestShown())),
    'no miss markers for a converged answer');
  // Network vs refined: the network's own answer for the same target as a translucent ghost.
  const ghost = await page.evaluate(() => ({ shown: window.deepik.ghostShown(), tip: window.deepik.ghostTip(), answer: window.deepik.ghost }));
  const raw = await solve(base, reachable.target, 'network');
  const eGhost = distance(ghost.tip, raw.reached);
  check(ghost.shown && distance(ghost.answer.target, reachable.target) < 1e-12 && eGhost < 1e-9
    && await page.isVisible('#legend-ghost'),
  `the network's raw answer is drawn as a ghost arm (its tip ${fmtLength(eGhost)} from the network's reached point)`,
  JSON.stringify(ghost));
  await page.click('label:has(#ghost-toggle)');
  check(!(await page.evaluate(() => window.deepik.ghostShown())) && !(await page.isVisible('#legend-ghost')),
    'the toggle hides the ghost');
  await page.click('label:has(#ghost-toggle)');
  await settle(page);
  check(await page.evaluate(() => window.deepik.ghostShown()), 'and shows it again');

  // 2. An unreachable target: the arm stretches to the closest reachable point.
  const far = [3, 0, 1];
  await page.evaluate((p) => window.deepik.setTarget(p), far);
  const unreachable = await settle(page);
  const closest = await solve(base, far, 'analytic');
  check(closest.status === 'out of reach', 'the analytic solver calls [3,0,1] out of reach');
  const e2 = distance(unreachable.tip, closest.reached);
  check(e2 < 1e-3, `unreachable target: the drawn tip is within 1 mm of the closest point (${(e2 * 1e3).toFixed(6)} mm)`,
    `tip ${fmt(unreachable.tip)} closest ${fmt(closest.reached)}`);
  const state = await statusOf(page);
  check(state.state === 'out-of-reach' && /out of reach/i.test(state.text), 'the panel shows the out-of-reach state',
    JSON.stringify(state));
  check(await page.evaluate(() => window.deepik.lastSolve.status) === 'out of reach', 'the last answer is out of reach');
  check(await page.evaluate(() => window.deepik.closestShown()) && await page.isVisible('#legend-closest'),
    'out of reach: the closest-point ring and its legend are shown');

  // The network alone answers the same target with an approximate answer (it cannot tell an
  // unreachable target from its own error): the page uses the API's word, and draws no
  // "closest point" ring for a point that is not the closest.
  await page.selectOption('#solver', 'network');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.solver === 'network', null,
    { timeout: 20_000, polling: 50 });
  const approximate = await statusOf(page);
  check(await page.evaluate(() => window.deepik.lastSolve.status) === 'approximate'
    && approximate.state === 'approximate' && /approximate/i.test(approximate.text),
  'the network alone is approximate, in the API and on the panel', JSON.stringify(approximate));
  check(await page.evaluate(() => window.deepik.missShown() && !window.deepik.closestShown())
    && !(await page.isVisible('#legend-closest')), 'approximate: a miss line but no closest-point ring');
  await page.selectOption('#solver', 'refined');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.solver === 'refined', null,
    { timeout: 20_000, polling: 50 });

  // 3. The workspace cloud through its toggle, the training curve, then the screenshot.
  await page.click('label:has(#workspace-toggle)');
  await page.waitForFunction(() => window.deepik.workspacePoints() > 0, null, { timeout: 20_000 });
  check(await page.$eval('#workspace-toggle', (t) => t.checked), 'the workspace toggle is on');
  check(await page.evaluate(() => window.deepik.workspacePoints()) === 6000, 'the workspace cloud shows 6000 points');
  const curve = await page.$eval('#curve', (svg) => ({
    paths: svg.querySelectorAll('path.val').length,
    ticks: [...svg.querySelectorAll('text.tick')].map((t) => t.textContent),
    headline: (svg.querySelector('text.headline') || {}).textContent || '',
  }));
  const round = (t) => /^([125]|[125]0+|0\.0*[125]|[1-9]\d*[05])$/.test(t) || /^\d+(\.\d*[05])?$/.test(t) || /^[125]e-?\d+$/.test(t);
  check(curve.paths === 1 && curve.ticks.length >= 3 && curve.ticks.every(round),
    `the training curve is drawn with round ticks (${curve.ticks.join(' ')})`);
  const headline = await fetch(`${base}api/model`).then((r) => r.json()).then((m) => m.metrics.in_reach.median_m);
  check(curve.headline.includes(fmtLength(headline)), `the curve marks the headline figure (${curve.headline})`);
  await page.screenshot({ path: join(screenshots, 'screenshot.png') });

  // 4. Idle: once nothing moves, no frame is drawn.
  await page.waitForFunction(() => !window.deepik.frameScheduled() && window.deepik.settled(), null,
    { timeout: 20_000, polling: 50 });
  // The renderer's main-thread work (DevTools' TaskDuration, s) over the same second.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busy = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  const framesBefore = await page.evaluate(() => window.deepik.frames());
  const busyBefore = await busy();
  await pageWait(page, 1000);
  const idleBusyMs = (await busy() - busyBefore) * 1e3;
  const idleFrames = (await page.evaluate(() => window.deepik.frames())) - framesBefore;
  check(idleFrames === 0, `idle for 1 s: no frames rendered (${idleFrames})`);
  console.log(`bench: idle page (1600x1000): ${idleFrames} frames and ${idleBusyMs.toFixed(1)} ms of main-thread work in 1 s`);

  // 5. The demo path: frame rate and the solve round trip seen by the page.
  await page.click('label:has(#workspace-toggle)');  // workspace off: the demo as a visitor first sees it
  await page.selectOption('#demo', 'circle');
  const start = await page.evaluate(() => ({ t: performance.now(), frames: window.deepik.frames(), n: window.deepik.trackTrips().length }));
  const demoBusyBefore = await busy();
  await page.waitForFunction((t0) => performance.now() - t0 >= 2000, start.t, { timeout: 20_000, polling: 100 });
  const end = await page.evaluate(() => ({ t: performance.now(), frames: window.deepik.frames(), trips: window.deepik.trackTrips() }));
  const demoBusyMs = (await busy() - demoBusyBefore) * 1e3;
  await page.selectOption('#demo', 'off');
  await cdp.detach();
  const fps = ((end.frames - start.frames) * 1000) / (end.t - start.t);
  const trips = end.trips.slice(start.n);
  check(fps > 1 && trips.length >= 1, `the tracked demo renders (${fps.toFixed(1)} fps) and tracks (${trips.length} requests)`);
  console.log(`bench: tracked demo (circle, 1600x1000, software GL): ${fps.toFixed(1)} frames/s over ${((end.t - start.t) / 1000).toFixed(1)} s, `
    + `${(demoBusyMs / ((end.t - start.t) / 1000)).toFixed(0)} ms of main-thread work per s`);
  console.log(`bench: track request round trip seen by the page during the demo (refined, 20 rows each): median ${median(trips).toFixed(2)} ms, `
    + `max ${Math.max(...trips).toFixed(2)} ms, ${trips.length} requests`);

  // The round trip of single solves from a still page (no frames competing for the main thread).
  const quiet = [];
  for (let k = 0; k < 10; ++k) {
    const n = await page.evaluate((i) => { window.deepik.setTarget([0.8, 0.3 + 0.01 * i, 1.0]); return window.deepik.requestCount; }, k);
    await page.waitForFunction((m) => window.deepik.requestCount > m && window.deepik.settled(), n, { timeout: 20_000, polling: 50 });
    quiet.push(await page.evaluate(() => window.deepik.roundTrips().at(-1)));
  }
  console.log(`bench: solve round trip seen by the page, one solve at a time (refined): median ${median(quiet).toFixed(2)} ms, `
    + `max ${Math.max(...quiet).toFixed(2)} ms, ${quiet.length} solves`);

  await fkMode(base, page);
  await page.context().close();
}

// FK mode: sliders move the arm; the drawn tip and tool frame agree with /api/fk; leaving FK
// puts the target on the tip.
async function fkMode(base, page) {
  await page.click('label:has(#mode-fk)');
  await page.waitForFunction(() => window.deepik.mode() === 'fk', null, { timeout: 5_000 });
  check((await statusOf(page)).state === 'fk' && await page.isVisible('#js0') && !(await page.isVisible('#solver')),
    'FK mode: sliders instead of bars, no solver');
  const q = [-Math.PI + 1e-3, Math.PI / 2 - 1e-3, 1.0, -0.8];
  for (let i = 0; i < q.length; ++i) {
    await page.$eval(`#js${i}`, (el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', { bubbles: true })); }, q[i]);
  }
  const shown = await page.evaluate(() => ({ q: window.deepik.q(), tip: window.deepik.tipPosition(), axes: window.deepik.toolFrameAxes() }));
  check(shown.q.every((v, i) => Math.abs(v - q[i]) < 1e-9), 'the sliders set the joint values', JSON.stringify(shown.q));
  const fk = await fetch(`${base}api/fk`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ q }),
  }).then((r) => r.json());
  const eTip = distance(shown.tip, fk.tip);
  check(eTip < 1e-6, `FK mode: the drawn tip is /api/fk's tip (${eTip.toExponential(1)} m)`);
  const [w, x, y, z] = fk.frames[fk.frames.length - 1].quat;
  const R = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]];
  const eAxes = Math.max(...[0, 1, 2].flatMap((c) => [0, 1, 2].map((r) => Math.abs(shown.axes[c][r] - R[r][c]))));
  check(eAxes < 1e-6, `FK mode: the drawn tool frame is /api/fk's tip orientation (${eAxes.toExponential(1)})`);
  const limits = await page.$$eval('.joint', (els) => els.map((e) => e.classList.contains('at-limit')));
  check(!limits[0] && limits[1], 'a full-turn joint near -180 deg is not at a limit; a pitch joint near +90 deg is',
    JSON.stringify(limits));
  // Joint axes on hover: over the elbow (joints 2 and 3 share its origin) on screen, then over a
  // joint's row in the panel.
  const [jx, jy] = await page.evaluate(() => window.deepik.jointScreenPosition(3));
  await page.mouse.move(jx, jy);
  const overElbow = await page.evaluate(() => ({ joint: window.deepik.hoveredJoint(), shown: window.deepik.jointAxisShown(),
    label: document.getElementById('joint-label').hidden ? '' : document.getElementById('joint-label').textContent }));
  check([2, 3].includes(overElbow.joint) && overElbow.shown && /elbow/.test(overElbow.label),
    `the pointer over a joint shows its axis (${overElbow.label})`, JSON.stringify(overElbow));
  await page.hover('#joints .joint:nth-child(2)');
  check(await page.evaluate(() => window.deepik.hoveredJoint() === 1 && window.deepik.jointAxisShown()),
    'the pointer over a joint\'s row shows its axis');
  await page.mouse.move(5, 5);
  const pose = await page.$eval('#tip-pose', (e) => e.textContent);
  check(pose.startsWith(fk.tip.map((v) => v.toFixed(3)).join(', ')), `the panel shows the tip pose (${pose})`);

  // Back to IK: the target goes where the tip is, and the solver reaches it.
  await page.click('label:has(#mode-ik)');
  const ik = await settle(page);
  check(distance(ik.target, fk.tip) < 1e-9 && distance(ik.tip, ik.target) < 1e-3,
    'leaving FK mode puts the target on the tip, and the arm reaches it', `${fmt(ik.target)} tip ${fmt(ik.tip)}`);
}

// The view state in the address: a URL written by hand is read back as it says (target, solver,
// camera); the page's own address, after the user moved the camera and the joints in FK mode,
// reproduces mode, joints and camera.
async function addressState(base, problems) {
  const camera = { position: [3, 2.5, 4], target: [0.2, 0.8, 0] };
  const search = `?mode=ik&solver=analytic&target=0.5,-0.4,1.2&camera=${[...camera.position, ...camera.target].join(',')}`;
  const page = await openPage(`${base}${search}`, SMALL_DESKTOP, problems);
  const s = await settle(page);
  const view = await page.evaluate(() => ({
    solver: window.deepik.solver(), camera: window.deepik.camera(), select: document.getElementById('solver').value,
  }));
  check(distance(s.target, [0.5, -0.4, 1.2]) < 1e-12 && view.solver === 'analytic' && view.select === 'analytic'
    && s.last.solver === 'analytic', 'the address sets target and solver', JSON.stringify({ target: s.target, ...view }));
  check(distance(view.camera.position, camera.position) < 1e-9 && distance(view.camera.target, camera.target) < 1e-9,
    'the address sets the camera', JSON.stringify(view.camera));
  check(distance(s.tip, s.target) < 1e-6, 'and the arm reaches that target');

  // Orbit the camera with the mouse (a drag away from the target).
  const box = await page.locator('#view canvas').boundingBox();
  await page.mouse.move(box.x + 60, box.y + box.height - 80);
  await page.mouse.down();
  for (let i = 1; i <= 8; ++i) await page.mouse.move(box.x + 60 + 12 * i, box.y + box.height - 80 - 3 * i);
  await page.mouse.up();
  await page.waitForFunction(() => !window.deepik.frameScheduled(), null, { timeout: 20_000, polling: 50 });
  const moved = await page.evaluate(() => window.deepik.camera());
  check(distance(moved.position, camera.position) > 0.05, 'dragging the background orbits the camera');
  // Then FK mode with some joint values: the page's own address keeps mode, joints and camera.
  await page.click('label:has(#mode-fk)');
  const q = [0.4, -0.3, 1.1, 0.7];
  await page.evaluate((v) => window.deepik.setJoints(v), q);
  // Every frame may move the camera a hair more (the orbit's glide decays): compare the address
  // with the camera once the page is still and the address has caught up with it.
  await page.waitForFunction((want) => {
    const m = location.search.match(/[?&]q=([^&]+)/);
    const c = location.search.match(/camera=([^&]+)/);
    const cam = window.deepik.camera();
    return !window.deepik.frameScheduled() && /mode=fk/.test(location.search) && m && c
      && m[1].split(',').every((v, i) => Math.abs(Number(v) - want[i]) < 1e-6)
      && c[1].split(',').every((v, i) => Math.abs(Number(v) - [...cam.position, ...cam.target][i]) < 1e-4);
  }, q, { timeout: 10_000, polling: 100 });
  const tip = await page.evaluate(() => window.deepik.tipPosition());
  const still = await page.evaluate(() => window.deepik.camera());
  const url = await page.evaluate(() => location.href);
  // Opened embedded (&embed=1, as in an <iframe>): the same view, without the panel.
  const again = await openPage(`${url}&embed=1`, SMALL_DESKTOP, problems);
  const back = await again.evaluate(() => ({
    mode: window.deepik.mode(), q: window.deepik.q(), tip: window.deepik.tipPosition(), camera: window.deepik.camera(),
  }));
  const embedded = await again.evaluate(() => ({
    panel: document.getElementById('panel').getBoundingClientRect().width,
    view: document.querySelector('#view canvas').getBoundingClientRect().width,
  }));
  check(embedded.panel === 0 && embedded.view === 1000, 'embedded: the 3-D view alone, the full width',
    JSON.stringify(embedded));
  check(back.mode === 'fk' && back.q.every((v, i) => Math.abs(v - q[i]) < 1e-6) && distance(back.tip, tip) < 1e-5
    && distance(back.camera.position, still.position) < 1e-4 && distance(back.camera.target, still.target) < 1e-4,
  'the page\'s own address reproduces FK mode, the joint values and the camera',
  `${url} -> ${JSON.stringify(back)}; before: tip ${fmt(tip)} camera ${JSON.stringify(still)}`);
  await again.context().close();
  await page.context().close();
}

// The joint-space distance, full-turn joints (a range of 2 pi or more) modulo 2 pi, and the largest
// joint change, written here independently of the page's and the library's.
const wrapped = (joints, a, b) => a.map((v, i) => {
  const d = v - b[i];
  return joints[i].type !== 'prismatic' && (joints[i].continuous || joints[i].upper - joints[i].lower >= 2 * Math.PI - 1e-9)
    ? Math.atan2(Math.sin(d), Math.cos(d)) : d;
});
const jointDistanceOf = (joints, a, b) => Math.hypot(...wrapped(joints, a, b));
const jointStepOf = (joints, a, b) => Math.max(...wrapped(joints, a, b).map(Math.abs));

// "show K solutions": K ghosts drawn, each ghost's tip (read from the scene) on the target and at
// /api/fk's tip of its solution, the solutions pairwise distinct in joint space (the API's 0.1 rad);
// picking one (its row in the list, then a click on its ghost in the view) sets the arm to it.
async function solutions(base, problems) {
  // A closer camera than the page's own framing (the whole demo path), for the screenshot.
  const page = await openPage(`${base}?camera=1.6,1.9,2.9,0.35,0.75,0.2`, SMALL_DESKTOP, problems);
  await settle(page);
  const arm = await fetch(`${base}api/arm`).then((r) => r.json());
  const target = [0.7, -0.5, 1.1];
  await page.selectOption('#solutions-k', '4');
  await page.evaluate((p) => window.deepik.setTarget(p), target);
  await settle(page);
  const shown = await page.evaluate(() => ({
    n: window.deepik.solutionsShown(), tips: window.deepik.solutionTips(), answer: window.deepik.solutionsAnswer,
    rows: document.querySelectorAll('#solutions-list button.solution').length,
  }));
  const qs = shown.answer.solutions.map((x) => x.q);
  check(shown.n === 4 && shown.rows === 4 && shown.answer.exact && distance(shown.answer.target, target) < 1e-12
    && await page.isVisible('#legend-solutions'), `K = 4: four ghost arms and four rows (${shown.n}, ${shown.rows})`);
  const eTarget = Math.max(...shown.tips.map((t) => distance(t, target)));
  check(eTarget < 1e-8, `every ghost's tip, read from the scene, is on the target (${eTarget.toExponential(1)} m)`);
  let eFk = 0;
  for (let k = 0; k < qs.length; ++k) eFk = Math.max(eFk, distance((await postJson(`${base}api/fk`, { q: qs[k] })).tip, shown.tips[k]));
  check(eFk < 1e-9, `each ghost is drawn at its solution (tip ${eFk.toExponential(1)} m from /api/fk's)`);
  let closest = Infinity;
  for (let i = 0; i < qs.length; ++i) for (let k = 0; k < i; ++k) closest = Math.min(closest, jointDistanceOf(arm.joints, qs[i], qs[k]));
  check(closest >= 0.1 - 1e-12, `the solutions are pairwise distinct in joint space (closest pair ${closest.toFixed(3)} rad)`);

  await page.$eval('#solutions-list', (e) => e.scrollIntoView({ block: 'center' }));
  await page.screenshot({ path: join(screenshots, 'screenshot-solutions.png') });

  // Pick from the list: the third row.
  await page.click('#solutions-list button.solution[data-k="2"]');
  await settle(page);
  const picked = await page.evaluate(() => ({ q: window.deepik.q(), tip: window.deepik.tipPosition(),
    pressed: document.querySelector('#solutions-list button.solution[data-k="2"]').getAttribute('aria-pressed') }));
  const ePick = jointDistanceOf(arm.joints, picked.q, qs[2]);
  check(ePick < 1e-12 && distance(picked.tip, target) < 1e-8 && picked.pressed === 'true',
    `picking solution 3 in the list moves the arm to it (${ePick.toExponential(1)} rad; tip on the target)`);
  // Pick by a click on a ghost in the view: one that is not where the arm is.
  let clicked = -1;
  for (const k of [0, 1, 3]) {
    const at = await page.evaluate((i) => window.deepik.solutionScreenPosition(i), k);
    if (at === null) continue;
    await page.mouse.click(at[0], at[1]);
    clicked = k;
    break;
  }
  await settle(page);
  const afterClick = await page.evaluate(() => window.deepik.q());
  check(clicked >= 0 && jointDistanceOf(arm.joints, afterClick, qs[clicked]) < 1e-12,
    `a click on solution ${clicked + 1}'s ghost moves the arm to it`);
  check(distance(await page.evaluate(() => window.deepik.target()), target) < 1e-12, 'picking leaves the target where it was');

  // The round trip of K = 4 solutions seen by the page, one target at a time.
  // The request goes out as the arm starts moving to the target's answer, so its answer waits
  // for the frames of that animation: the server's own time is printed beside it.
  const n0 = await page.evaluate(() => window.deepik.solutionTrips().length);
  const serverMs = [];
  for (let i = 0; i < 10; ++i) {
    const c = await page.evaluate((k) => { window.deepik.setTarget([0.7, -0.5 + 0.02 * k, 1.1]); return window.deepik.requestCount; }, i);
    await page.waitForFunction((m) => window.deepik.requestCount > m && window.deepik.settled(), c, { timeout: 20_000, polling: 50 });
    serverMs.push(await page.evaluate(() => window.deepik.solutionsAnswer.micros / 1000));
  }
  const trips = (await page.evaluate(() => window.deepik.solutionTrips())).slice(n0);
  console.log(`bench: K = 4 solutions round trip seen by the page (refined, seed arm, 1000x700): median ${median(trips).toFixed(2)} ms, `
    + `max ${Math.max(...trips).toFixed(2)} ms, ${trips.length} requests; server time median ${median(serverMs).toFixed(2)} ms`);
  check(trips.length === 10 && await page.evaluate(() => window.deepik.solutionsShown()) === 4, 'each new target gets its solutions');

  // Out of reach there is no exact solution: no ghosts, and the list says why.
  await page.evaluate(() => window.deepik.setTarget([3, 0, 1]));
  await settle(page);
  check(await page.evaluate(() => window.deepik.solutionsShown()) === 0
    && /out of reach/.test(await page.$eval('#solutions-list', (e) => e.textContent)), 'out of reach: no solution ghosts, and a note why');

  // The network alone has no exact solutions to offer: the ghosts go and the list says why.
  await page.selectOption('#solver', 'network');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.solver === 'network', null, { timeout: 20_000, polling: 50 });
  check(await page.evaluate(() => window.deepik.solutionsShown()) === 0
    && /exact solver/.test(await page.$eval('#solutions-list', (e) => e.textContent)), 'with the network alone: no ghosts, and a note why');
  await page.selectOption('#solver', 'refined');
  await page.selectOption('#solutions-k', '0');
  await settle(page);
  check(await page.evaluate(() => window.deepik.solutionsShown()) === 0 && !(await page.isVisible('#solutions-list')),
    'K = one: no solution ghosts');
  await page.context().close();
}

// The demo path through tracking (POST /api/track): the rows the page played, checked here. Every
// step between successive rows is within the bound the server reports for its row, recomputed from
// the rows' q (a row solved afresh only at the start or at a reconfiguration); each tracked row's
// q puts the tip (/api/fk) on the path's point (the page's window.deepik.demoTarget); the label
// shows "out of reach" and "reconfiguration" at exactly the rows the server marked so. The paths
// are widened to the arm's reach around their centre for this (the page's own lie within it,
// page.mjs). Then a tight step ratio forces reconfigurations.
function checkTrackLog(log, joints, what) {
  let jumps = 0, badFresh = 0, badLabels = 0, worst = 0;
  for (let i = 0; i < log.length; ++i) {
    const b = log[i];
    if (b.status !== 'tracked' && !b.start && b.label !== b.status) badLabels += 1;
    if (i === 0) { if (!b.start) badFresh += 1; continue; }
    if (b.fresh) { if (b.status !== 'reconfiguration') badFresh += 1; continue; }
    const step = jointStepOf(joints, b.q, log[i - 1].q);
    worst = Math.max(worst, step / b.stepBound);
    if (b.status !== 'reconfiguration' && step > b.stepBound * (1 + 1e-9) + 1e-12) jumps += 1;
  }
  check(log.length > 20 && jumps === 0 && badFresh === 0,
    `${what}: ${log.length} rows, every step within its bound (largest step/bound ${worst.toFixed(3)}), fresh solves only at the start or a reconfiguration`,
    JSON.stringify({ jumps, badFresh }));
  check(badLabels === 0, `${what}: the label shows at each row the server marked out of reach or reconfiguration`, `${badLabels} rows without`);
}

async function tracked(base, problems) {
  const page = await openPage(base, SMALL_DESKTOP, problems);
  await settle(page);
  const arm = await fetch(`${base}api/arm`).then((r) => r.json());
  // The figure-eight from t = 0 to 3.9, as wide as the reach: out past it (its lobe near t = pi/2),
  // back in, and out again.
  await page.evaluate(() => window.deepik.setDemoRadius(1));
  const pathPoint = (t) => page.evaluate((x) => window.deepik.demoTarget('eight', x), t);
  await page.selectOption('#demo', 'eight');
  await page.waitForFunction(() => window.deepik.trackLog().filter((row) => row.run === window.deepik.trackLog().at(-1).run).at(-1)?.t >= 3.9,
    null, { timeout: 60_000, polling: 100 });
  await page.selectOption('#demo', 'off');
  const all = await page.evaluate(() => window.deepik.trackLog());
  const log = all.filter((row) => row.run === all[all.length - 1].run);
  checkTrackLog(log, arm.joints, 'figure-eight, tracked');
  // Every third row marked out of reach: the analytic solver (the seed arm's closed form) agrees.
  const outOfReach = log.filter((row) => row.status === 'out of reach');
  let disagree = 0;
  for (const row of outOfReach.filter((x, i) => i % 3 === 0)) {
    if ((await solve(base, await pathPoint(row.t), 'analytic')).status !== 'out of reach') disagree += 1;
  }
  check(outOfReach.length > 0 && disagree === 0 && log.some((row) => row.status === 'tracked'),
    `the rows marked out of reach are out of reach by the closed form too (${outOfReach.length} rows of ${log.length})`,
    `${disagree} disagree`);
  let eTracked = 0, n = 0;
  for (const row of log.filter((x, i) => x.status === 'tracked' && i % 4 === 0)) {
    eTracked = Math.max(eTracked, distance((await postJson(`${base}api/fk`, { q: row.q })).tip, await pathPoint(row.t)));
    n += 1;
  }
  check(n > 5 && eTracked < 1e-6, `tracked rows put the tip on the path (${n} rows, ${eTracked.toExponential(1)} m by /api/fk)`);
  // The ring marks a true closest point only: a tracked row's point is the closest reached
  // without a jump, so the tracked demo draws the miss line and the label, never the ring.
  check(await page.evaluate(() => !window.deepik.closestShown() && window.deepik.missShown()),
    'a tracked row out of reach: the miss line, no closest-point ring');
  const stopped = await settle(page);
  const last = log[log.length - 1];
  check(jointStepOf(arm.joints, await page.evaluate(() => window.deepik.q()), last.q) < 1e-12
    && distance(stopped.target, await pathPoint(last.t)) < 1e-9,
  'stopping the demo leaves the arm and the target at the last row played');

  // A tight bound (step ratio 0.8 instead of 20): the arm cannot follow the circle continuously
  // everywhere; the page shows each reconfiguration where the server reports one.
  await page.evaluate(() => window.deepik.setTrackStepRatio(0.8));
  await page.selectOption('#demo', 'circle');
  await page.waitForFunction(() => {
    const l = window.deepik.trackLog();
    const run = l.filter((row) => row.run === l.at(-1).run);
    return run.filter((row) => row.status === 'reconfiguration').length >= 2 && run.length > 40;
  }, null, { timeout: 60_000, polling: 100 });
  const marks = await page.evaluate(() => window.deepik.trackMarks());
  const shownLabel = await page.$eval('#track-label', (e) => e.dataset.kind || '');
  await page.selectOption('#demo', 'off');
  const all2 = await page.evaluate(() => window.deepik.trackLog());
  const log2 = all2.filter((row) => row.run === all2[all2.length - 1].run);
  checkTrackLog(log2, arm.joints, 'circle, step ratio 0.8');
  const reconfigurations = log2.filter((row) => row.status === 'reconfiguration').length;
  check(reconfigurations >= 2 && marks >= reconfigurations && shownLabel !== '',
    `a tight bound: ${reconfigurations} reconfigurations, labelled and marked on the path (${marks} marks)`);
  await page.context().close();
}

// A URDF arm served without a model (--arm), beside a folder of models (--models): lm solves it,
// the model card says there is none, each link is drawn from its URDF shapes where they are
// (checked against /api/fk's frames and the shapes' origins), the target follows a mouse drag
// and the tip follows it; then the page's choice switches to a model.
async function urdfArm(base, problems) {
  const page = await openPage(base, SMALL_DESKTOP, problems);
  await settle(page);
  const card = await page.evaluate(() => ({
    name: document.getElementById('model-name').textContent,
    curve: getComputedStyle(document.getElementById('curve')).display,
    solver: document.getElementById('solver').value,
    solvers: [...document.getElementById('solver').options].map((o) => o.value),
    choice: [...document.getElementById('model-select').options].map((o) => o.value),
  }));
  check(card.name === 'none' && card.curve === 'none' && card.solver === 'lm'
    && !card.solvers.includes('network') && !card.solvers.includes('refined') && !(await page.isVisible('#ghost-toggle')),
  'without a model: lm solves, no network solver, no training curve, no ghost', JSON.stringify(card));
  const files = readdirSync(join(repo, 'models')).filter((f) => f.endsWith('.safetensors')).sort()
    .map((f) => f.slice(0, -'.safetensors'.length));
  check(await page.isVisible('#model-select') && card.choice.join() === ['box_arm', ...files].join(),
    'the page offers the arm and every model of the folder', card.choice.join());

  const arm = await fetch(`${base}api/arm`).then((r) => r.json());
  const q = await page.evaluate(() => window.deepik.q());
  const fk = await postJson(`${base}api/fk`, { q });
  const byFrame = new Map();
  for (const v of arm.visuals) { if (!byFrame.has(v.frame)) byFrame.set(v.frame, []); byFrame.get(v.frame).push(v); }
  const expected = [...byFrame.values()].flat()
    .map((v) => compose(v.frame < 0 ? { p: [0, 0, 0], quat: [1, 0, 0, 0] } : fk.frames[v.frame], v.origin));
  const drawn = await page.evaluate(() => window.deepik.visualPoses());
  const eShapes = Math.max(...drawn.map((d, i) => Math.max(distance(d.p, expected[i].p), qangle(d.quat, expected[i].quat))));
  check(arm.visuals.length === 10 && arm.meshes_not_drawn === 1 && drawn.length === 10 && eShapes < 1e-9,
    `the URDF's boxes, cylinders and spheres sit on their links (${eShapes.toExponential(1)} m/rad from FK)`);
  check(await page.evaluate(() => window.deepik.capsulesShown()) === 0, 'every link is drawn from its shapes: no capsules');

  // Six joints: a pose target with the gizmo; "position only" makes it a point.
  check(await page.evaluate(() => window.deepik.gizmoShown() && window.deepik.targetQuat() !== null
    && window.deepik.targetAxesShown()), 'a six-joint arm gets a pose target and the gizmo');
  await page.click('label:has(#position-only)');
  await settle(page);
  check(await page.evaluate(() => window.deepik.targetQuat() === null && !window.deepik.targetAxesShown())
    && (await page.$eval('#angle-error', (e) => e.textContent)) === 'any',
  'position only: the target is a point');

  const before = await dragMarker(page);
  const s = await settle(page);
  check(distance(before, s.target) > 0.03, 'dragging the marker moves the target', `${fmt(before)} -> ${fmt(s.target)}`);
  const e = distance(s.tip, s.target);
  check(s.last.solver === 'lm' && s.last.status === 'converged' && e < 1e-6,
    `URDF arm without a model: the tip follows the dragged target (${e.toExponential(1)} m)`, JSON.stringify(s.last));
  await page.screenshot({ path: join(screenshots, 'screenshot-urdf.png') });

  // The choice opens a model in place (no reload: a mark left on the window stays): its arm, its
  // solvers, its joint rows, the arm drawn where /api/fk puts it (capsules for its two 1 m links, no
  // URDF shapes left, no gizmo for 4 joints), the address naming it; the target dragged again is
  // followed by the new arm.
  await page.evaluate(() => { window.notReloaded = true; });
  await page.selectOption('#model-select', 'seed-default');
  await page.waitForFunction(() => document.getElementById('model-name').textContent === 'seed-default.safetensors'
    && window.deepik.settled() && /model=seed-default/.test(location.search), null, { timeout: 20_000, polling: 50 });
  const chosen = await settle(page);
  const after = await page.evaluate(() => ({
    kept: window.notReloaded === true, dof: window.deepik.q().length, solver: window.deepik.solver(),
    rows: document.querySelectorAll('#joints .joint').length, capsules: window.deepik.capsulesShown(),
    shapes: window.deepik.visualPoses().length, gizmo: window.deepik.gizmoShown(), q: window.deepik.q(),
  }));
  const seedTip = (await fetch(`${base}api/fk`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ q: after.q, model: 'seed-default' }),
  }).then((r) => r.json())).tip;
  check(after.kept && after.dof === 4 && after.solver === 'refined' && after.rows === 4 && after.shapes === 0
    && after.capsules === 2 && !after.gizmo && chosen.last.status === 'converged' && distance(chosen.tip, seedTip) < 1e-9
    && distance(chosen.tip, chosen.target) < 1e-6,
  'choosing a model opens its arm and its solvers in place, without a reload', JSON.stringify(after));
  const moved = await dragMarker(page);
  const followed = await settle(page);
  check(distance(moved, followed.target) > 0.05 && followed.last.status === 'converged' && distance(followed.tip, followed.target) < 1e-6,
    'and the new arm follows a dragged target');
  // Back to the URDF arm while the demo plays and the workspace is shown: the demo stops, a
  // workspace cloud is fetched again (the old one went with the old arm), the gizmo is back, and
  // the arm reaches its default pose target.
  await page.click('label:has(#workspace-toggle)');
  await page.waitForFunction(() => window.deepik.workspacePoints() > 0, null, { timeout: 20_000 });
  await page.selectOption('#demo', 'circle');
  await page.waitForFunction(() => window.deepik.trackLog().length > 3, null, { timeout: 20_000, polling: 50 });
  await page.selectOption('#model-select', 'box_arm');
  await page.waitForFunction(() => document.getElementById('model-name').textContent === 'none' && window.deepik.settled()
    && window.deepik.workspacePoints() > 0, null, { timeout: 20_000, polling: 50 });
  const back = await settle(page);
  const armBack = await page.evaluate(() => ({
    dof: window.deepik.q().length, gizmo: window.deepik.gizmoShown(), demo: document.getElementById('demo').value,
    shapes: window.deepik.visualPoses().length, quat: window.deepik.targetQuat(), tipQuat: window.deepik.tipQuat(),
  }));
  const eBack = Math.max(distance(back.tip, back.target), qangle(armBack.tipQuat, armBack.quat));
  check(armBack.dof === 6 && armBack.gizmo && armBack.demo === 'off' && armBack.shapes === 10 && back.last.solver === 'lm'
    && back.last.status === 'converged' && eBack < 1e-6,
  `switching back during the demo: the URDF arm again, the demo off, its pose target reached (${eBack.toExponential(1)})`,
  JSON.stringify(armBack));
  await page.context().close();
}

// Panda (robots/panda.urdf, no model, lm): a pose target from the address, made by FK of joint
// values within the limits (so reachable), is reached within lm's tolerance (1e-9 m and rad) in
// position and orientation, both read back from the scene; an unreachable pose shows the closest
// pose reached.
async function pandaPose(base, problems) {
  const q = [0.3, -0.4, 0.2, -2.0, 0.1, 1.8, 0.5];
  const tip = (await postJson(`${base}api/fk`, { q })).frames.at(-1);
  const url = `${base}?mode=ik&solver=lm&target=${tip.p.join(',')}&quat=${tip.quat.join(',')}`;
  const page = await openPage(url, DESKTOP, problems);
  const s = await settle(page);
  const pose = await page.evaluate(() => ({
    tipQuat: window.deepik.tipQuat(), targetQuat: window.deepik.targetQuat(), drawnTargetQuat: window.deepik.drawnTargetQuat(),
    gizmo: window.deepik.gizmoShown(), axes: window.deepik.targetAxesShown(),
    angleText: document.getElementById('angle-error').textContent, detail: document.getElementById('status-detail').textContent,
  }));
  // The target is the page's: the address's, its quaternion normalised.
  check(distance(s.target, tip.p) < 1e-5 && qangle(pose.targetQuat, tip.quat) < 1e-5
    && qangle(pose.drawnTargetQuat, pose.targetQuat) < 1e-12 && pose.gizmo && pose.axes,
  'panda: the address sets a pose target, drawn with its axes and the gizmo',
  JSON.stringify({ target: s.target, tip, ...pose }));
  const ep = distance(s.tip, s.target), ea = qangle(pose.tipQuat, pose.targetQuat);
  check(s.last.solver === 'lm' && s.last.status === 'converged' && ep <= 1e-9 && ea <= 1e-9,
    `panda: the pose target is reached (${ep.toExponential(1)} m, ${ea.toExponential(1)} rad, read from the scene)`,
    JSON.stringify(s.last));
  check(pose.angleText === fmtAngleDeg(s.last.angle_error) && /of the target pose/.test(pose.detail),
    `the panel shows the angle error (${pose.angleText}; "${pose.detail}")`);
  await page.screenshot({ path: join(screenshots, 'screenshot-panda.png') });

  // "avoid joint limits" (the API's avoid_limits): the same pose, reached as exactly, with joints
  // farther from their limits: the limit-avoidance cost (computed here from q and /api/arm's
  // limits) is lower than without it.
  const arm = await fetch(`${base}api/arm`).then((r) => r.json());
  const limitCost = (v) => v.reduce((sum, x, i) => {
    const j = arm.joints[i], half = (j.upper - j.lower) / 2;
    return j.continuous || half >= Math.PI - 1e-9 ? sum : sum + ((x - (j.upper + j.lower) / 2) / half) ** 2;
  }, 0);
  await page.click('label:has(#avoid-limits)');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.objectives.avoid_limits === 1, null,
    { timeout: 20_000, polling: 50 });
  const avoided = await settle(page);
  const avoidedQuat = await page.evaluate(() => window.deepik.tipQuat());
  const eAvoid = Math.max(distance(avoided.tip, avoided.target), qangle(avoidedQuat, pose.targetQuat));
  check(avoided.last.status === 'converged' && eAvoid <= 1e-9 && limitCost(avoided.last.q) < limitCost(s.last.q),
    `avoid joint limits: the pose is still reached (${eAvoid.toExponential(1)}), limit cost ${limitCost(s.last.q).toFixed(5)} -> ${limitCost(avoided.last.q).toFixed(5)}`);
  await page.click('label:has(#avoid-limits)');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.objectives.avoid_limits === undefined, null,
    { timeout: 20_000, polling: 50 });
  // The gizmo draws nothing by itself: a still page with it renders no frames.
  await page.waitForFunction(() => !window.deepik.frameScheduled(), null, { timeout: 20_000, polling: 50 });
  const framesBefore = await page.evaluate(() => window.deepik.frames());
  await pageWait(page, 1000);
  const idle = (await page.evaluate(() => window.deepik.frames())) - framesBefore;
  check(idle === 0, `panda with the gizmo, idle for 1 s: no frames rendered (${idle})`);

  // The gizmo with the mouse: its x arrow moves the target along x alone; in rotate mode, its z
  // ring turns the target about the target's own z axis alone. The arm follows both.
  const dragFrom = async (kind, direction) => {
    const [gx, gy] = await page.evaluate((k) => window.deepik.gizmoScreenPosition(k), kind);
    const [cx, cy] = await page.evaluate(() => window.deepik.targetScreenPosition());
    const n = Math.hypot(gx - cx, gy - cy);
    const [dx, dy] = direction === 'along' ? [(gx - cx) / n, (gy - cy) / n] : [-(gy - cy) / n, (gx - cx) / n];
    await page.mouse.move(gx, gy);
    await page.mouse.down();
    for (let i = 1; i <= 8; ++i) await page.mouse.move(gx + 5 * i * dx, gy + 5 * i * dy);
    await page.mouse.up();
    return settle(page);
  };
  const t0 = { p: s.target, quat: pose.targetQuat };
  const moved = await dragFrom('translate-x', 'along');
  const quat1 = await page.evaluate(() => window.deepik.targetQuat());
  check(Math.abs(moved.target[0] - t0.p[0]) > 0.01 && Math.abs(moved.target[1] - t0.p[1]) < 1e-9
    && Math.abs(moved.target[2] - t0.p[2]) < 1e-9 && qangle(quat1, t0.quat) < 1e-12,
  `the gizmo's x arrow moves the target along x alone (${fmt(t0.p)} -> ${fmt(moved.target)})`);
  await page.click('label:has(#gizmo-rotate)');
  check(await page.evaluate(() => window.deepik.gizmoMode()) === 'rotate', 'the rotate button turns the gizmo into rings');
  const turned = await dragFrom('rotate-z', 'across');
  const quat2 = await page.evaluate(() => window.deepik.targetQuat());
  const rel = qmul([quat1[0], -quat1[1], -quat1[2], -quat1[3]], quat2);
  const tipQuat2 = await page.evaluate(() => window.deepik.tipQuat());
  check(qangle(quat1, quat2) > 0.02 && Math.hypot(rel[1], rel[2]) < 1e-9 && distance(turned.target, moved.target) < 1e-12,
    `the gizmo's z ring turns the target about its own z alone (${(qangle(quat1, quat2) * 180 / Math.PI).toFixed(1)} deg)`,
    JSON.stringify({ quat1, quat2 }));
  const e2p = distance(turned.tip, turned.target), e2a = qangle(tipQuat2, quat2);
  check(turned.last.status === 'converged' && e2p <= 1e-9 && e2a <= 1e-9,
    `and the arm follows the moved and turned pose (${e2p.toExponential(1)} m, ${e2a.toExponential(1)} rad)`,
    JSON.stringify(turned.last));

  // The "position only" offer (a pose out of reach) is not made while the pose is reached.
  const offer = () => page.evaluate(() => {
    const b = document.getElementById('release-orientation');
    return { shown: !b.hidden && b.getBoundingClientRect().height > 0, text: b.textContent };
  });
  check(turned.last.status === 'converged' && !(await offer()).shown && (await offer()).text.includes('position only'),
    'no "position only" offer while the pose is reached');

  // Out of reach (1.5 m away; Panda reaches about 1 m): the closest pose reached is drawn.
  await page.evaluate((quat) => window.deepik.setTarget([1.5, 0.2, 0.6], quat), tip.quat);
  const far = await settle(page);
  const farPose = await page.evaluate(() => ({
    tipQuat: window.deepik.tipQuat(), detail: document.getElementById('status-detail').textContent,
    state: document.getElementById('status').dataset.state,
  }));
  const eReached = Math.max(distance(far.tip, far.last.reached), qangle(farPose.tipQuat, far.last.reached_quat));
  check(far.last.status === 'out of reach' && farPose.state === 'out-of-reach' && /closest pose reached/.test(farPose.detail)
    && eReached < 1e-9 && await page.evaluate(() => window.deepik.closestShown()),
  `panda: an unreachable pose shows the closest pose reached (drawn within ${eReached.toExponential(1)})`,
  JSON.stringify({ last: far.last, ...farPose }));

  // A pose whose point Panda reaches but whose orientation it cannot hold there (the tool straight
  // down, 0.8 m out, 0.1 m up: the dragged pose): out of reach, and the page offers to
  // release the orientation; the offer makes the target a point, which the arm then reaches.
  await page.evaluate(() => window.deepik.setTarget([0.8, 0, 0.1], [0, 1, 0, 0]));
  const down = await settle(page);
  const downOffer = await offer();
  check(down.last.status === 'out of reach' && down.last.angle_error > 1e-3 && downOffer.shown,
    `panda: the tool-down pose is out of reach (closest pose ${fmtLength(down.last.position_error)}, `
    + `${fmtAngleDeg(down.last.angle_error)} away) and the page offers "${downOffer.text}"`, JSON.stringify(down.last));
  await page.screenshot({ path: join(screenshots, 'screenshot-panda-out-of-reach.png') });
  await page.click('#release-orientation');
  const released = await settle(page);
  const after = await page.evaluate(() => ({
    quat: window.deepik.targetQuat(), checked: document.getElementById('position-only').checked,
  }));
  const eReleased = distance(released.tip, released.target);
  check(after.quat === null && after.checked && released.last.status === 'converged' && released.last.angle_error === null
    && distance(released.target, [0.8, 0, 0.1]) < 1e-12 && eReleased < 1e-9 && !(await offer()).shown,
  `"position only" releases the orientation: the point is reached (${eReleased.toExponential(1)} m), the offer gone`,
  JSON.stringify({ last: released.last, ...after }));
  await page.context().close();
}

// A touch gesture through the DevTools protocol (playwright's touchscreen only taps): `steps`
// moves from `from` to `to`, each a list of finger positions.
async function touchGesture(page, from, to, steps = 8) {
  const cdp = await page.context().newCDPSession(page);
  const at = (k) => from.map(([x, y], i) => ({ x: x + ((to[i][0] - x) * k) / steps, y: y + ((to[i][1] - y) * k) / steps, id: i }));
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0) });
  for (let k = 1; k <= steps; ++k) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(k) });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

// A phone: the 3-D view keeps most of the width, the panel is a bottom sheet, a finger drags the
// target and the tip follows, two fingers pinch to zoom.
async function phone(base, problems) {
  const page = await openPage(base, PHONE, problems);
  await settle(page);
  const layout = await page.evaluate(() => {
    const r = (id) => document.getElementById(id).getBoundingClientRect().toJSON();
    return { canvas: document.querySelector('#view canvas').getBoundingClientRect().toJSON(), panel: r('panel') };
  });
  check(layout.canvas.width >= 300 && layout.canvas.height >= 300,
    `phone: the 3-D view is ${layout.canvas.width.toFixed(0)}x${layout.canvas.height.toFixed(0)} px`);
  check(layout.panel.top >= layout.canvas.bottom - 1 && layout.panel.width >= 389, 'phone: the panel is a bottom sheet',
    JSON.stringify(layout.panel));
  check(await page.evaluate(() => window.deepik.framedOnScreen()) === 1, 'phone: the camera frames the whole demo path');
  await page.screenshot({ path: join(screenshots, 'screenshot-phone.png') });

  const before = await page.evaluate(() => window.deepik.target());
  const [sx, sy] = await page.evaluate(() => window.deepik.targetScreenPosition());
  await touchGesture(page, [[sx + 6, sy + 4]], [[sx - 12, sy + 12]]);  // 6 px off centre: a finger is not exact
  const dragged = await settle(page);
  check(distance(before, dragged.target) > 0.05, 'phone: a finger drags the target', `${fmt(before)} -> ${fmt(dragged.target)}`);
  const e = distance(dragged.tip, dragged.target);
  check(dragged.last.status === 'converged' && e < 1e-6, `phone: the tip follows the target (${e.toExponential(1)} m)`,
    JSON.stringify(dragged.last));

  const cam = await page.evaluate(() => window.deepik.camera());
  const d0 = distance(cam.position, cam.target);
  const box = await page.locator('#view canvas').boundingBox();
  const cx = box.x + box.width / 2, cy = box.y + box.height * 0.2;  // above the arm: no finger on the target
  await touchGesture(page, [[cx - 30, cy], [cx + 30, cy]], [[cx - 120, cy], [cx + 120, cy]]);
  await page.waitForFunction(() => !window.deepik.frameScheduled(), null, { timeout: 20_000, polling: 50 });
  const cam2 = await page.evaluate(() => window.deepik.camera());
  const d1 = distance(cam2.position, cam2.target);
  check(d1 < 0.8 * d0, `phone: pinching out zooms in (${d0.toFixed(2)} -> ${d1.toFixed(2)} m)`);
  check(distance(await page.evaluate(() => window.deepik.target()), dragged.target) < 1e-12, 'phone: the pinch leaves the target');

  await page.tap('#sheet-handle');
  await page.waitForFunction(() => document.body.classList.contains('sheet-open'), null, { timeout: 5_000 });
  await page.waitForFunction(() => document.getElementById('panel').getBoundingClientRect().height > 0.7 * innerHeight,
    null, { timeout: 5_000 });
  check(true, 'phone: the handle opens the sheet');
  await page.context().close();
}

// The seed model's server is shared by the first five sections (started once, when first needed).
let seedServer = null;
const seed = async () => { seedServer = seedServer || await startServer(['--model', model]); return seedServer; };
const sections = [
  ['desktop', 'desktop and FK mode', async (problems) => desktop(await seed(), problems)],
  ['address', 'address', async (problems) => addressState(await seed(), problems)],
  ['phone', 'phone', async (problems) => phone(await seed(), problems)],
  ['solutions', 'K solutions', async (problems) => solutions(await seed(), problems)],
  ['track', 'tracked demo', async (problems) => tracked(await seed(), problems)],
  // Arms without a model: a URDF drawn from its shapes beside a folder of models; Panda's poses.
  ['urdf', 'URDF arm without a model, the model choice', async (problems) => urdfArm(await startServer([
    '--arm', join(repo, 'tests/web/box_arm.urdf'), '--base', 'base', '--tip', 'tool', '--models', join(repo, 'models')]), problems)],
  ['panda', 'panda pose targets', async (problems) => pandaPose(await startServer([
    '--arm', join(repo, 'robots/panda.urdf'), '--base', 'panda_link0', '--tip', 'panda_link8', '--timeout', '1000']), problems)],
];
console.log(`screenshots into ${screenshots}: screenshot, screenshot-phone, screenshot-solutions, screenshot-urdf, screenshot-panda, screenshot-panda-out-of-reach (.png)`);
await run(sections.filter(([key]) => only.includes(key)).map(([, what, section]) => [what, section]), 540_000);
