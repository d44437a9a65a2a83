// The real robot in a real browser (issue 22): `deepik serve --arm ARM` for panda, ur5 and iiwa14
// in headless Chromium. For each arm:
// - every visual mesh loads (three's COLLADA, glTF loaders), and each mesh's pose read from the
//   three.js scene is X_BF(q) * X_FS (the chain frame from the library's FK, /api/fk, times the
//   URDF origin and scale from /api/arm) to 1e-6 relative, at a random configuration;
// - the drawn vertices lie within the arm's sphere model (fitted by the geometry layer to the
//   collision meshes read with assimp): a second reading of the same files, so a mesh turned by a
//   loader (COLLADA's Z_UP, glTF's y up) or scaled wrongly shows as vertices far outside;
// - (Panda) a colliding configuration is tinted: the pair the page tints and names is the one
//   `deepik collide` finds for the same row, and a free one is untinted; the sphere toggle shows
//   every sphere of the model and hides them again;
// - screenshots of the arm at 1600x1000 and 390x844 (robot-ARM.png, robot-ARM-phone.png).
// Run: node tests/web/robot.mjs --deepik build/deepik --model models/seed-default.safetensors \
//        --screenshots build/tests [--arms panda,ur5,iiwa14]   (from web/)
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  argument, deepik, screenshots, check, startServer, openPage, postJson, run, DESKTOP, PHONE, pageWait,
} from './harness.mjs';

const arms = argument('arms', 'panda,ur5,iiwa14').split(',');

// Poses { p, quat } as 4x4 column-major arrays (three.js's Matrix4.elements), and their product.
function matrixOf({ p, quat: [w, x, y, z] }, scale = [1, 1, 1]) {
  const R = [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ];
  const m = new Array(16).fill(0);
  for (let c = 0; c < 3; ++c) for (let r = 0; r < 3; ++r) m[4 * c + r] = R[r][c] * scale[c];
  m[12] = p[0]; m[13] = p[1]; m[14] = p[2]; m[15] = 1;
  return m;
}
function multiply(a, b) {
  const m = new Array(16).fill(0);
  for (let c = 0; c < 4; ++c) for (let r = 0; r < 4; ++r) for (let k = 0; k < 4; ++k) m[4 * c + r] += a[4 * k + r] * b[4 * c + k];
  return m;
}
const apply = (m, [x, y, z]) => [0, 1, 2].map((r) => m[r] * x + m[4 + r] * y + m[8 + r] * z + m[12 + r]);
const IDENTITY = matrixOf({ p: [0, 0, 0], quat: [1, 0, 0, 0] });

// A seeded configuration within the limits (mulberry32).
function randomQ(joints, seed) {
  let a = seed >>> 0;
  const next = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return joints.map((j) => j.lower + (j.upper - j.lower) * next());
}

async function meshesLoaded(page) {
  await page.waitForFunction(() => { const s = window.deepik.meshStatus(); return s.total > 0 && s.loaded + s.failed === s.total; },
    null, { timeout: 120_000, polling: 100 });
  return page.evaluate(() => window.deepik.meshStatus());
}

// The mesh poses drawn at q against the library's frames (/api/fk) and the URDF origins.
async function checkPoses(name, base, page, arm, q) {
  await page.evaluate((v) => window.deepik.setJoints(v), q);
  const fk = await postJson(`${base}api/fk`, { q });
  const drawn = await page.evaluate(() => window.deepik.meshPoses());
  let worst = 0;
  for (const [k, mesh] of drawn.entries()) {
    const entry = arm.meshes[k];
    const X_BF = mesh.frame < 0 ? IDENTITY : matrixOf(fk.frames[mesh.frame]);
    const expected = multiply(X_BF, matrixOf(entry.origin, entry.scale));
    for (let i = 0; i < 16; ++i) worst = Math.max(worst, Math.abs(mesh.matrix[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  check(drawn.length === arm.meshes.length && worst < 1e-6,
    `${name}: each of the ${drawn.length} meshes sits at its FK pose X_BF(q) * X_FS (worst ${worst.toExponential(1)}, relative)`);
  return fk;
}

// Share of the drawn vertices inside the link's spheres grown by `margin` (m), over every link.
async function checkInsideSpheres(name, page, arm, fk, margin) {
  let inside = 0, total = 0, worstLink = '', worstShare = 1;
  for (const set of arm.collision.spheres) {
    const X_BL = multiply(set.frame < 0 ? IDENTITY : matrixOf(fk.frames[set.frame]), matrixOf(set.origin));
    const spheres = set.spheres.map(([x, y, z, r]) => [...apply(X_BL, [x, y, z]), r + margin]);
    const vertices = await page.evaluate((link) => window.deepik.meshVertices(link, 7), set.link);
    let n = 0;
    for (const v of vertices) {
      if (spheres.some(([x, y, z, r]) => (v[0] - x) ** 2 + (v[1] - y) ** 2 + (v[2] - z) ** 2 <= r * r)) n += 1;
    }
    inside += n; total += vertices.length;
    const share = vertices.length ? n / vertices.length : 1;
    if (share < worstShare) { worstShare = share; worstLink = set.link; }
  }
  check(total > 1000 && inside / total >= 0.99 && worstShare >= 0.95,
    `${name}: the drawn vertices lie within the sphere model + ${margin * 1e3} mm (${(100 * inside / total).toFixed(2)} % of ${total}; worst link ${worstLink} ${(100 * worstShare).toFixed(1)} %)`);
}

// `deepik collide ARM` on one row: { in_collision, min_distance, link_a, link_b }.
function cliCollide(armName, q) {
  const dir = mkdtempSync(join(tmpdir(), 'deepik-robot-'));
  const input = join(dir, 'q.csv'), output = join(dir, 'out.csv');
  writeFileSync(input, `${q.map((_, i) => `q${i}`).join(',')}\n${q.map((v) => v.toPrecision(17)).join(',')}\n`);
  execFileSync(deepik, ['collide', armName, '-i', input, '-o', output], { stdio: 'pipe' });
  const [flag, distance, a, b] = readFileSync(output, 'utf8').trim().split('\n')[1].split(',');
  rmSync(dir, { recursive: true });
  return { in_collision: flag === '1', min_distance: Number(distance), link_a: a, link_b: b };
}

async function settledCollision(page, q) {
  await page.evaluate((v) => window.deepik.setJoints(v), q);
  await page.waitForFunction((v) => {
    const c = window.deepik.collision();
    return !window.deepik.collisionBusy() && c && c.q.every((x, i) => Math.abs(x - v[i]) < 1e-12);
  }, q, { timeout: 30_000, polling: 50 });
  return page.evaluate(() => ({ c: window.deepik.collision().answer, tinted: window.deepik.tintedLinks().sort(),
    legend: document.getElementById('legend-collision').hidden ? '' : document.getElementById('collision-pair').textContent }));
}

// Panda: a colliding row (panda_link1 against the hand, found by `deepik collide` on seeded random
// rows) and a free one; the page's answer and tint against the command's.
async function checkTint(page) {
  const colliding = [-1.2224, -0.5603, -1.5792, -2.8675, 0.5139, 1.0645, 1.7974];
  const cli = cliCollide('panda', colliding);
  const shown = await settledCollision(page, colliding);
  const pair = [cli.link_a, cli.link_b].sort();
  check(cli.in_collision && shown.c.in_collision && shown.c.link_a === cli.link_a && shown.c.link_b === cli.link_b
    && Math.abs(shown.c.min_distance - cli.min_distance) <= 1e-9,
  `panda: the page's /api/collide answer is deepik collide's (${cli.link_a} - ${cli.link_b})`, JSON.stringify([cli, shown.c]));
  check(JSON.stringify(shown.tinted) === JSON.stringify(pair) && shown.legend.includes(cli.link_a),
    `panda: the colliding links are tinted and named (${shown.tinted.join(', ')})`, JSON.stringify(shown));
  await page.screenshot({ path: join(screenshots, 'robot-panda-collision.png') });
  const free = [0, 0, 0, -1.5, 0, 1.5, 0.8];
  const cliFree = cliCollide('panda', free);
  const shownFree = await settledCollision(page, free);
  check(!cliFree.in_collision && !shownFree.c.in_collision && shownFree.tinted.length === 0 && shownFree.legend === ''
    && Math.abs(shownFree.c.min_distance - cliFree.min_distance) <= 1e-9,
  `panda: a free configuration is untinted, its clearance as deepik collide's (${cliFree.min_distance.toFixed(4)} m)`);
}

async function checkSphereToggle(page, arm) {
  const count = arm.collision.spheres.reduce((n, s) => n + s.spheres.length, 0);
  check(await page.evaluate(() => window.deepik.spheresShown()) === 0, 'panda: the sphere model is hidden at first');
  await page.click('label:has(#spheres-toggle)');
  check(await page.evaluate(() => window.deepik.spheresShown()) === count, `panda: the toggle shows the ${count} spheres of the model`);
  await page.screenshot({ path: join(screenshots, 'robot-panda-spheres.png') });
  await page.click('label:has(#spheres-toggle)');
  check(await page.evaluate(() => window.deepik.spheresShown()) === 0, 'panda: the toggle hides them again');
}

async function robotSection(name, problems) {
  const base = await startServer(['--arm', name]);
  const arm = await (await fetch(`${base}api/arm`)).json();
  const page = await openPage(base, DESKTOP, problems);
  const status = await meshesLoaded(page);
  check(status.failed === 0 && status.loaded === arm.meshes.length && arm.meshes_missing.length === 0,
    `${name}: all ${arm.meshes.length} visual meshes (${[...new Set(arm.meshes.map((m) => m.format))].join(', ')}) load`, JSON.stringify(status));
  check(await page.evaluate(() => window.deepik.capsulesShown()) === 0, `${name}: no capsule stands in for a link`);
  const fk = await checkPoses(name, base, page, arm, randomQ(arm.joints, name.length * 7919));
  await checkInsideSpheres(name, page, arm, fk, 0.005);
  if (name === 'panda') {
    await checkTint(page);
    await checkSphereToggle(page, arm);
  }
  // The screenshots: the page as it opens (IK mode, its first target), desktop and phone.
  const shot = await openPage(base, DESKTOP, problems);
  await meshesLoaded(shot);
  await pageWait(shot, 1500);
  await shot.screenshot({ path: join(screenshots, `robot-${name}.png`) });
  const phone = await openPage(base, PHONE, problems);
  await meshesLoaded(phone);
  await pageWait(phone, 1500);
  await phone.screenshot({ path: join(screenshots, `robot-${name}-phone.png`) });
  for (const p of [page, shot, phone]) await p.context().close();
}

run(arms.map((name) => [name, (problems) => robotSection(name, problems)]), 1_150_000);
