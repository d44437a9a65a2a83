// End-to-end test of deepik's page in real headless Chromium (Debian's, driven by playwright-core):
// starts `deepik serve`, loads the page, moves the target with the mouse and the keys, waits for
// the arm to settle, reads the tip back from the three.js scene and checks it against the target
// (reachable, refined solver) and the closest reachable point (unreachable, analytic solver);
// saves a screenshot. The server is killed at the end whatever happens; the whole test is bounded.
//
//   node tests/web/e2e.mjs --deepik build/deepik --model models/seed-default.safetensors \
//        [--screenshot docs/screenshot.png] [--web-root web]   (run from web/, where node_modules is)
// Without --web-root the server serves the page folder compiled into the binary.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const TIME_LIMIT_MS = 90_000;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function argument(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}
const deepik = resolve(argument('deepik'));
const model = resolve(argument('model'));
const screenshot = resolve(argument('screenshot', '../docs/screenshot.png'));
const webRoot = argument('web-root', '');

let passed = 0, failed = 0;
function check(ok, what, detail = '') {
  if (ok) { passed += 1; console.log(`ok   ${what}`); } else { failed += 1; console.log(`FAIL ${what} ${detail}`); }
  return ok;
}
const distance = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const fmt = (v) => `[${v.map((x) => x.toFixed(5)).join(', ')}]`;

let server = null, context = null, userDataDir = null;

function startServer() {
  return new Promise((resolvePort, reject) => {
    const args = ['serve', '--model', model, '--port', '0'];
    if (webRoot) args.push('--web-root', resolve(webRoot));
    server = spawn(deepik, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`deepik serve printed no address in 30 s: ${out}`)), 30_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/serving (http:\/\/127\.0\.0\.1:(\d+)\/)/);
      if (m) { clearTimeout(timer); resolvePort(m[1]); }
    });
    server.stderr.on('data', (chunk) => process.stderr.write(`[deepik] ${chunk}`));
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`deepik serve exited (${code}): ${out}`)); });
  });
}

async function cleanup() {
  try { if (context) await context.close(); } catch { /* already gone */ }
  context = null;
  if (server && server.exitCode === null && server.signalCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const killed = await Promise.race([gone.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    if (!killed) server.kill('SIGKILL');
  }
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
}

const watchdog = setTimeout(async () => {
  console.log(`FAIL the test took more than ${TIME_LIMIT_MS / 1000} s`);
  await cleanup();
  process.exit(1);
}, TIME_LIMIT_MS);

async function solve(base, target, solver) {
  const response = await fetch(`${base}api/solve`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ target, solver }),
  });
  return response.json();
}

async function settle(page) {
  // settled() is true once the answer for the current target has come and the animation ended.
  await page.waitForFunction(() => window.deepik && window.deepik.settled(), null, { timeout: 20_000, polling: 50 });
  return page.evaluate(() => ({
    tip: window.deepik.tipPosition(), target: window.deepik.target(), last: window.deepik.lastSolve,
  }));
}

async function run() {
  const base = await startServer();
  console.log(`server at ${base}`);
  userDataDir = mkdtempSync(join(tmpdir(), 'deepik-e2e-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1600, height: 1000 },
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));

  await page.goto(base, { waitUntil: 'load' });
  await page.waitForFunction(() => window.deepik && window.deepik.ready, null, { timeout: 20_000 });
  await settle(page);
  check(await page.$eval('#solver', (s) => s.value) === 'refined', 'the page solves with refined by default');

  // 1. Move the target through the UI: drag the marker with the mouse, then fine moves by keys.
  const before = await page.evaluate(() => window.deepik.target());
  const [sx, sy] = await page.evaluate(() => window.deepik.targetScreenPosition());
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  for (let i = 1; i <= 10; ++i) await page.mouse.move(sx + 7 * i, sy - 4 * i);
  await page.mouse.up();
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
  const reachedState = await page.$eval('#status', (s) => ({ state: s.dataset.state, text: s.textContent }));
  check(reachedState.state === 'reached' && /converged/i.test(reachedState.text), 'the panel says converged',
    JSON.stringify(reachedState));

  // 2. An unreachable target: the arm stretches to the closest reachable point.
  const far = [3, 0, 1];
  await page.evaluate((p) => window.deepik.setTarget(p), far);
  const unreachable = await settle(page);
  const closest = await solve(base, far, 'analytic');
  check(closest.status === 'out of reach', 'the analytic solver calls [3,0,1] out of reach');
  const e2 = distance(unreachable.tip, closest.reached);
  check(e2 < 1e-3, `unreachable target: the drawn tip is within 1 mm of the closest point (${(e2 * 1e3).toFixed(6)} mm)`,
    `tip ${fmt(unreachable.tip)} closest ${fmt(closest.reached)}`);
  const state = await page.$eval('#status', (s) => ({ state: s.dataset.state, text: s.textContent }));
  check(state.state === 'out-of-reach' && /out of reach/i.test(state.text), 'the panel shows the out-of-reach state',
    JSON.stringify(state));
  check(await page.evaluate(() => window.deepik.lastSolve.status) === 'out of reach', 'the last answer is out of reach');

  // The network alone answers the same target with an approximate answer (it cannot tell an
  // unreachable target from its own error): the page uses the API's word.
  await page.selectOption('#solver', 'network');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.solver === 'network', null,
    { timeout: 20_000, polling: 50 });
  const approximate = await page.$eval('#status', (s) => ({ state: s.dataset.state, text: s.textContent }));
  check(await page.evaluate(() => window.deepik.lastSolve.status) === 'approximate'
    && approximate.state === 'approximate' && /approximate/i.test(approximate.text),
  'the network alone is approximate, in the API and on the panel', JSON.stringify(approximate));
  await page.selectOption('#solver', 'refined');
  await page.waitForFunction(() => window.deepik.settled() && window.deepik.lastSolve.solver === 'refined', null,
    { timeout: 20_000, polling: 50 });

  // 3. The workspace cloud through its toggle, then the screenshot.
  await page.click('label.toggle');
  await page.waitForFunction(() => window.deepik.workspacePoints() > 0, null, { timeout: 20_000 });
  check(await page.$eval('#workspace-toggle', (t) => t.checked), 'the workspace toggle is on');
  check(await page.evaluate(() => window.deepik.workspacePoints()) === 6000, 'the workspace cloud shows 6000 points');
  const curve = await page.$eval('#curve', (svg) => svg.querySelectorAll('path.val').length);
  check(curve === 1, 'the training curve is drawn');
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
  check(problems.length === 0, 'no page errors or failed requests', problems.join('; '));
}

let code = 1;
try {
  await run();
  code = failed === 0 ? 0 : 1;
} catch (err) {
  console.log(`FAIL ${err.stack || err}`);
  failed += 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? code : 1);
