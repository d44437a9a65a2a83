// Obstacles on the page (issue 23): `deepik serve --arm panda` in headless Chromium.
// - the "table + boxes" button loads robots/scenes/table-boxes.json: its obstacles are drawn where
//   and as large as the file says (read back from the three.js scene), and the address carries
//   them: a page opened with that address draws the same obstacles;
// - "+ box" adds a box; dragging the obstacle gizmo's x arrow with the mouse moves it along x alone,
//   and the next solve carries it (the server's answer is computed with it); its delete button
//   removes it;
// - the tracked demo sends the obstacles (/api/track tracks the path clear of them);
// - a pose target just above a box is reached clear: status converged on the panel, and the exact
//   check of POST /api/collide with the page's scene finds the shown configuration clear;
// - a target inside a box is shown 'In collision', and /api/collide finds the shown configuration
//   in collision; a solver that does not avoid obstacles (kdl-nr) says so on the panel.
// Run: node tests/web/obstacles.mjs --deepik build/deepik --model models/seed-default.safetensors \
//        --screenshots build/tests   (from web/)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  check, startServer, openPage, postJson, run, settle, statusOf, repo, screenshots, SMALL_DESKTOP, fmt,
} from './harness.mjs';

const close = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
const example = JSON.parse(readFileSync(join(repo, 'robots/scenes/table-boxes.json'), 'utf8'));

async function meshesLoaded(page) {
  await page.waitForFunction(() => { const s = window.deepik.meshStatus(); return s.total > 0 && s.loaded + s.failed === s.total; },
    null, { timeout: 120_000, polling: 100 });
}

// The page's answer for the target shown, once the arm has settled, with the exact check of its
// configuration among the page's obstacles (a second route: FCL, not the solver's sphere model).
async function settledAnswer(page, base) {
  const { last } = await settle(page);
  const obstacles = await page.evaluate(() => window.deepik.obstacles());
  const scene = { obstacles: obstacles.map(({ shape, position, rpy, size, radius }) => (shape === 'box'
    ? { shape, position, rpy, size } : { shape, position, rpy, radius })) };
  const collide = await postJson(`${base}api/collide`, { q: last.q, scene });
  return { last, collide, status: await statusOf(page) };
}

async function exampleScene(base, page) {
  await page.click('#example-scene');
  await page.waitForFunction(() => window.deepik.obstacles().length === 4, null, { timeout: 20_000 });
  const drawn = await page.evaluate(() => window.deepik.drawnObstacles());
  const want = example.obstacles;
  let ok = drawn.length === want.length;
  for (const [k, o] of want.entries()) {
    const d = drawn[k];
    // Sizes are the drawn surface's own extents (float32 in three.js).
    ok = ok && d && close(d.position, o.position, 1e-9) && close(d.size, o.size, 1e-6);
  }
  check(ok, `the example scene's ${want.length} obstacles are drawn at the file's positions and sizes`, JSON.stringify(drawn));
  // The address carries them: a page opened with it draws the same.
  await page.waitForFunction(() => window.location.search.includes('scene='), null, { timeout: 5_000 });
  const address = await page.evaluate(() => window.location.href);
  const again = await openPage(address, SMALL_DESKTOP, []);
  const reopened = await again.evaluate(() => window.deepik.drawnObstacles());
  check(reopened.length === 4 && reopened.every((d, k) => close(d.position, drawn[k].position, 1e-4)),
    'the address carries the obstacles: a page opened with it draws them again', address);
  await again.context().close();
  // The tracked demo sends them too: the server tracks the path clear of them (/api/track).
  const trackRequest = page.waitForRequest((r) => r.url().endsWith('/api/track'), { timeout: 20_000 });
  await page.selectOption('#demo', 'circle');
  const request = await trackRequest;
  const sent = JSON.parse(request.postData());
  const tracked = await (await request.response()).json();
  await page.selectOption('#demo', 'off');
  await settle(page);
  check(sent.scene && sent.scene.obstacles.length === 4 && tracked.collisions === 'all'
    && Number.isInteger(tracked.summary.in_collision),
  'the tracked demo sends the obstacles and is tracked clear of them ("collisions": "all")',
  JSON.stringify({ scene: sent.scene, collisions: tracked.collisions, summary: tracked.summary }));
}

async function addDragDelete(base, page) {
  const before = await page.evaluate(() => window.deepik.obstacles().length);
  await page.click('#add-box');
  const added = await page.evaluate(() => window.deepik.obstacles());
  check(added.length === before + 1 && added[before].shape === 'box'
    && await page.evaluate(() => window.deepik.selectedObstacle()) === before, '"+ box" adds a box, selected');
  await settle(page);
  // The obstacle gizmo's x arrow, grabbed with the mouse, moves the box along x alone.
  const [gx, gy] = await page.evaluate(() => window.deepik.obstacleGizmoScreenPosition('x'));
  const start = added[before].position;
  await page.mouse.move(gx, gy);
  await page.mouse.down();
  for (let i = 1; i <= 8; ++i) await page.mouse.move(gx + 6 * i, gy);
  await page.mouse.up();
  const { last } = await settle(page);
  const moved = (await page.evaluate(() => window.deepik.obstacles()))[before].position;
  const drawn = (await page.evaluate(() => window.deepik.drawnObstacles()))[before].position;
  check(Math.abs(moved[0] - start[0]) > 0.005 && Math.abs(moved[1] - start[1]) < 1e-9 && Math.abs(moved[2] - start[2]) < 1e-9
    && close(drawn, moved, 1e-9), `dragging the gizmo's x arrow moves the box along x alone (${fmt(start)} -> ${fmt(moved)})`);
  check(last.collisions === 'all', 'the solve after the drag carried the obstacles ("collisions": "all")', JSON.stringify(last));
  await page.click(`button.delete-obstacle[data-index="${before}"]`);
  check(await page.evaluate(() => window.deepik.obstacles().length) === before
    && await page.evaluate(() => window.deepik.drawnObstacles().length) === before, 'its delete button removes it');
}

async function clearAndInCollision(base, page) {
  // Just above box-front-left (top at z = 0.29 m), the tool pointing down.
  await page.evaluate(() => window.deepik.setTarget([0.5, 0.3, 0.45], [0, 1, 0, 0]));
  const beside = await settledAnswer(page, base);
  check(beside.last.status === 'converged' && beside.status.text.startsWith('Converged')
    && beside.last.collisions === 'all' && !(beside.last.min_distance <= 0),
  'a pose target just above a box is reached: Converged on the panel', JSON.stringify(beside.last));
  check(!beside.collide.in_collision && beside.collide.min_distance > 0,
    `the exact check (/api/collide with the page's scene) finds the shown arm clear (${beside.collide.min_distance.toFixed(4)} m, ${beside.collide.link_a} - ${beside.collide.link_b})`,
    JSON.stringify(beside.collide));
  await page.screenshot({ path: join(screenshots, 'obstacles-clear.png') });
  // Inside box-front-left.
  await page.evaluate(() => window.deepik.setTarget([0.5, 0.3, 0.14], null));
  const inside = await settledAnswer(page, base);
  check(inside.last.status === 'in collision' && inside.status.state === 'in-collision' && inside.status.text.startsWith('In collision'),
    'a target inside a box is shown In collision', JSON.stringify([inside.last.status, inside.status]));
  check(inside.collide.in_collision, `the exact check finds the shown arm in collision (${inside.collide.link_a} - ${inside.collide.link_b})`,
    JSON.stringify(inside.collide));
  // Without the obstacles the same target is reached clear: the box made the difference.
  const free = await postJson(`${base}api/solve`, { target: [0.5, 0.3, 0.14], solver: 'lm', collisions: 'self' });
  check(free.status === 'converged', 'without the obstacles the same target converges', JSON.stringify(free));
  await page.screenshot({ path: join(screenshots, 'obstacles-in-collision.png') });
  // A solver that does not avoid obstacles: its answer says so.
  await page.selectOption('#solver', 'kdl-nr');
  await settle(page);
  const detail = await page.$eval('#status-detail', (e) => e.textContent);
  check(detail.includes('obstacles ignored by kdl-nr'), `a solver that does not avoid them says so ("${detail}")`);
  await page.selectOption('#solver', 'lm');
}

async function obstaclesSection(problems) {
  const base = await startServer(['--arm', 'panda', '--timeout', '50']);
  const page = await openPage(base, SMALL_DESKTOP, problems);
  await meshesLoaded(page);
  check(await page.isVisible('#obstacles-card'), 'panda served with --arm offers obstacles');
  await exampleScene(base, page);
  await addDragDelete(base, page);
  await clearAndInCollision(base, page);
  await page.context().close();
  // An arm the server cannot keep clear (the seed model): no obstacle controls.
  const seed = await startServer(['--arm', 'seed']);
  const plain = await openPage(seed, SMALL_DESKTOP, problems);
  check(!(await plain.isVisible('#obstacles-card')), 'an arm without collision geometry offers no obstacles');
  await plain.context().close();
}

run([['obstacles', obstaclesSection]], 560_000);
