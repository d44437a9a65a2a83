// The browser tests' harness (tests/web/e2e.mjs, tests/web/page.mjs): the command line
// (--deepik, --model, --screenshots, --web-root), `deepik serve` on a free port, headless Chromium
// (Debian's, through playwright-core), pages with their errors collected, check() and its counts,
// the wait for a settled arm, and small geometry helpers. run(sections) starts the browser, runs
// the sections, kills every server whatever happens, and exits with the test's verdict.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function argument(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}
export const deepik = resolve(argument('deepik'));
export const model = resolve(argument('model'));
export const screenshots = resolve(argument('screenshots'));  // never a tracked folder by default
export const webRoot = argument('web-root', '');

let passed = 0, failed = 0;
export function check(ok, what, detail = '') {
  if (ok) { passed += 1; console.log(`ok   ${what}`); } else { failed += 1; console.log(`FAIL ${what} ${detail}`); }
  return ok;
}
export const distance = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
export const fmt = (v) => `[${v.map((x) => x.toFixed(5)).join(', ')}]`;

let browser = null;
const servers = [];
// The repository (this file is tests/web/harness.mjs): the robots and the test arm.
export const repo = fileURLToPath(new URL('../../', import.meta.url));

// `deepik serve` with these arguments (what to serve) on a free port; resolves to its address.
export function startServer(what) {
  return new Promise((resolvePort, reject) => {
    const args = ['serve', ...what, '--port', '0'];
    if (webRoot) args.push('--web-root', resolve(webRoot));
    const server = spawn(deepik, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(server);
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
  try { if (browser) await browser.close(); } catch { /* already gone */ }
  browser = null;
  for (const server of servers) {
    if (server.exitCode !== null || server.signalCode !== null) continue;
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const killed = await Promise.race([gone.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    if (!killed) server.kill('SIGKILL');
  }
}


export async function solve(base, target, solver) {
  const response = await fetch(`${base}api/solve`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ target, solver }),
  });
  return response.json();
}

export async function settle(page) {
  // settled() is true once the answer for the current target has come and the animation ended.
  await page.waitForFunction(() => window.deepik && window.deepik.settled(), null, { timeout: 20_000, polling: 50 });
  return page.evaluate(() => ({
    tip: window.deepik.tipPosition(), target: window.deepik.target(), last: window.deepik.lastSolve,
  }));
}

// A page in a fresh browser context, with every page error, console error and failed request
// collected into `problems`.
export async function openPage(url, options, problems) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  await page.waitForFunction(() => window.deepik && window.deepik.ready, null, { timeout: 20_000 });
  return page;
}

export const DESKTOP = { viewport: { width: 1600, height: 1000 } };
export const SMALL_DESKTOP = { viewport: { width: 1000, height: 700 } };  // fewer pixels for software GL: a faster test
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, isMobile: true };

export async function statusOf(page) {
  return page.$eval('#status', (s) => ({ state: s.dataset.state, text: s.textContent }));
}

// Waits in the page (no fixed sleep in the test's own clock): resolves after ms of page time.
export const pageWait = (page, ms) => page.evaluate((t) => new Promise((r) => setTimeout(r, t)), ms);

export const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
export const quantile = (v, q) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

// Drags the target marker with the mouse, 30 px left and 20 px down; returns the target before.
export async function dragMarker(page) {
  const before = await page.evaluate(() => window.deepik.target());
  const [sx, sy] = await page.evaluate(() => window.deepik.targetScreenPosition());
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  for (let i = 1; i <= 10; ++i) await page.mouse.move(sx - 3 * i, sy + 2 * i);
  await page.mouse.up();
  return before;
}


// Quaternions [w, x, y, z]: product, rotation of a vector, the angle between two orientations.
export const qmul = ([aw, ax, ay, az], [bw, bx, by, bz]) => [aw * bw - ax * bx - ay * by - az * bz,
  aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw];
export const qrot = (q, [x, y, z]) => qmul(qmul(q, [0, x, y, z]), [q[0], -q[1], -q[2], -q[3]]).slice(1);
// The angle from the relative rotation's vector part (atan2: acos loses digits near 0).
export const qangle = (a, b) => {
  const r = qmul([a[0], -a[1], -a[2], -a[3]], b);
  return 2 * Math.atan2(Math.hypot(r[1], r[2], r[3]), Math.abs(r[0]));
};
// The pose F * S of poses { p, quat }.
export const compose = (F, S) => ({ p: qrot(F.quat, S.p).map((v, i) => v + F.p[i]), quat: qmul(F.quat, S.quat) });
export const postJson = (url, body) => fetch(url, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
}).then((r) => r.json());

// Runs `sections` (async functions of the problems list) in one browser within `timeLimitMs`,
// then checks that the pages raised no errors; exits 0 when every check passed.
export async function run(sections, timeLimitMs) {
  const watchdog = setTimeout(async () => {
    console.log(`FAIL the test took more than ${timeLimitMs / 1000} s`);
    await cleanup();
    process.exit(1);
  }, timeLimitMs);
  try {
    mkdirSync(screenshots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const problems = [];
    const t0 = Date.now();
    for (const [what, section] of sections) {
      await section(problems);
      console.log(`# ${what} done at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    check(problems.length === 0, 'no page errors or failed requests', problems.join('; '));
  } catch (err) {
    console.log(`FAIL ${err.stack || err}`);
    failed += 1;
  } finally {
    await cleanup();
    clearTimeout(watchdog);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
