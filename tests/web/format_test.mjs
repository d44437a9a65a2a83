// Unit tests of the page's pure helpers (web/js/format.js, web/js/url-state.js) in node, no
// browser: error lengths in honest units, the at-limit rule for full-turn joints, round axis
// ticks, the tip's roll-pitch-yaw, and the address's view state parsed and formatted.
//   node tests/web/format_test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fmtLength, atLimit, isFullTurn, linearTicks, logTicks, fmtTick, rpyFromMatrixElements, jointDistance,
} from '../../web/js/format.js';
import { parseViewState, formatViewState, requestedModel } from '../../web/js/url-state.js';
import { parseSceneParam, formatSceneParam, obstaclesFromScene, sceneForApi } from '../../web/js/scene-format.js';

test('lengths read in the unit that keeps them in [1, 1000), with significant digits', () => {
  assert.equal(fmtLength(4.7e-12), '4.7 pm');  // the refined solver's typical error: not "0 nm"
  assert.equal(fmtLength(4.67e-9), '4.67 nm');
  assert.equal(fmtLength(2.3e-7), '230 nm');
  assert.equal(fmtLength(1e-4), '100 µm');
  assert.equal(fmtLength(0.0037635), '3.76 mm');
  assert.equal(fmtLength(0.0009996), '1 mm');  // rounds up into the next unit, not "1000 µm"
  assert.equal(fmtLength(1.1577), '1.16 m');
  assert.equal(fmtLength(0), '0 m');
  assert.equal(fmtLength(1e-16), '< 1 fm');
  assert.equal(fmtLength(NaN), '–');
  assert.equal(fmtLength(4.7e-12, 2), '4.7 pm');
});

test('a full-turn joint near +-180 degrees is not at a limit; a limited one is', () => {
  const yaw = { type: 'revolute', lower: -Math.PI, upper: Math.PI, continuous: false };
  const pitch = { type: 'revolute', lower: -Math.PI / 2, upper: Math.PI / 2, continuous: false };
  const slide = { type: 'prismatic', lower: 0, upper: 10, continuous: false };
  assert.ok(isFullTurn(yaw));
  assert.ok(!isFullTurn(pitch));
  assert.ok(!isFullTurn(slide));  // 10 m of travel is not a turn
  assert.equal(atLimit(yaw, -Math.PI), false);
  assert.equal(atLimit(yaw, 3.14), false);
  assert.equal(atLimit(pitch, Math.PI / 2 - 1e-3), true);
  assert.equal(atLimit(pitch, 0), false);
  assert.equal(atLimit(slide, 9.95), true);
  assert.equal(atLimit({ ...pitch, lower: 0, upper: 0 }, 0), false);
});

const isRound = (v) => {
  const k = v / 10 ** Math.floor(Math.log10(Math.abs(v)) + 1e-12);
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 7.5, 8, 9].some((r) => Math.abs(k - r) < 1e-9);
};

test('linear ticks are round multiples of a 1-2-5 step and cover the data', () => {
  for (const [lo, hi] of [[77.19, 95.81], [0.1, 0.3], [3.2, 3.3], [1, 14], [0, 1e-3]]) {
    const { lo: a, hi: b, ticks, step } = linearTicks(lo, hi, 4);
    assert.ok(a <= lo && b >= hi, `[${a}, ${b}] covers [${lo}, ${hi}]`);
    assert.ok(ticks.length >= 3 && ticks.length <= 9, `${ticks}`);
    assert.ok(isRound(step), `step ${step}`);
    ticks.forEach((t) => assert.ok(Math.abs(t / step - Math.round(t / step)) < 1e-9, `${t} on the step ${step}`));
  }
  assert.deepEqual(linearTicks(77.19, 95.81).ticks, [75, 80, 85, 90, 95, 100]);
  assert.deepEqual(linearTicks(0.1, 0.3).ticks, [0.1, 0.15, 0.2, 0.25, 0.3]);  // no 0.30000000000000004
});

test('log ticks are 1, 2, 5 x 10^k (or decades) and cover the data', () => {
  assert.deepEqual(logTicks(3.76, 95.8).ticks, [2, 5, 10, 20, 50, 100]);
  for (const [lo, hi] of [[3.76, 95.8], [1e-6, 1], [0.02, 0.9]]) {
    const { lo: a, hi: b, ticks } = logTicks(lo, hi);
    assert.ok(a <= lo && b >= hi);
    assert.ok(ticks.length <= 8, `${ticks}`);
    ticks.forEach((t) => assert.ok(isRound(t), `${t}`));
  }
});

test('tick labels are the shortest exact form', () => {
  assert.deepEqual([0, 0.02, 5, 200, 1e-5, 0.30000000000000004, 1e6, 75].map(fmtTick),
    ['0', '0.02', '5', '200', '1e-5', '0.3', '1e6', '75']);
});

// R = Rz(yaw) Ry(pitch) Rx(roll) as three.js's column-major Matrix4 elements.
function elements(roll, pitch, yaw) {
  const [cr, sr, cp, sp, cy, sy] = [Math.cos(roll), Math.sin(roll), Math.cos(pitch), Math.sin(pitch), Math.cos(yaw), Math.sin(yaw)];
  const R = [
    [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
    [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
    [-sp, cp * sr, cp * cr]];
  return [R[0][0], R[1][0], R[2][0], 0, R[0][1], R[1][1], R[2][1], 0, R[0][2], R[1][2], R[2][2], 0, 0, 0, 0, 1];
}

test('roll, pitch, yaw read back from a rotation (and at gimbal lock the same rotation)', () => {
  for (const rpy of [[0.3, -0.4, 2.5], [-3, 1.2, -0.1], [0, 0, 0]]) {
    rpyFromMatrixElements(elements(...rpy)).forEach((a, i) => assert.ok(Math.abs(a - rpy[i]) < 1e-12));
  }
  for (const pitch of [Math.PI / 2, -Math.PI / 2]) {
    const e = elements(0.7, pitch, 0.2);
    const back = elements(...rpyFromMatrixElements(e));
    e.forEach((x, i) => assert.ok(Math.abs(x - back[i]) < 1e-9, `element ${i}: ${x} vs ${back[i]}`));
  }
});

const arm = {
  dof: 2,
  joints: [{ lower: -Math.PI, upper: Math.PI }, { lower: -1, upper: 1 }],
  solvers: ['network', 'refined', 'analytic'],
};

test('the address round trip keeps mode, solver, target, camera and joint values', () => {
  const ik = {
    mode: 'ik', solver: 'analytic', target: [0.8, 0.3, 1], demo: 'off', embed: false,
    camera: { position: [2.5575, 3.3346, 5.1438], target: [0.1, 1, 0.106] }, q: [0, 0],
  };
  const search = formatViewState(ik);
  assert.equal(search, '?mode=ik&solver=analytic&target=0.8,0.3,1&camera=2.5575,3.3346,5.1438,0.1,1,0.106');
  const back = parseViewState(search, arm);
  assert.deepEqual(back, {
    ignored: [], mode: 'ik', solver: 'analytic', target: [0.8, 0.3, 1], camera: ik.camera, embed: false,
  });
  const fk = { ...ik, mode: 'fk', q: [Math.PI, -0.25], embed: true };
  const fkBack = parseViewState(formatViewState(fk), arm);
  assert.equal(fkBack.mode, 'fk');
  assert.equal(fkBack.q[0], Math.PI);  // rounded to 3.141593 in the address, clamped back to the limit
  assert.equal(fkBack.q[1], -0.25);
  assert.equal(fkBack.embed, true);
});

test('a malformed or out-of-range address is ignored field by field, never applied', () => {
  const v = parseViewState('?mode=xyz&solver=rm%20-rf&target=1,2&camera=1,1,1,1,1,1&q=0,5&solutions=3&demo=spin', arm);
  assert.deepEqual(v.ignored, ['mode', 'solver', 'target', 'camera', 'q', 'solutions', 'demo']);
  assert.deepEqual(Object.keys(v).sort(), ['embed', 'ignored']);
  assert.deepEqual(parseViewState('?target=1e5,0,0', arm).ignored, ['target']);
  assert.deepEqual(parseViewState('?target=NaN,0,0', arm).ignored, ['target']);
  assert.deepEqual(parseViewState('', arm), { ignored: [], embed: false });
});

test('a pose target\'s orientation and the chosen model go through the address', () => {
  const half = Math.SQRT1_2;
  const view = {
    model: 'panda', mode: 'ik', solver: 'lm', target: [0.4, 0.1, 0.5], quat: [0, half, half, 0],
    camera: { position: [2, 2, 2], target: [0, 0.5, 0] }, q: [0, 0],
  };
  const search = formatViewState(view);
  assert.equal(search, '?model=panda&mode=ik&solver=lm&target=0.4,0.1,0.5&quat=0,0.707107,0.707107,0&camera=2,2,2,0,0.5,0');
  const back = parseViewState(search, { ...arm, solvers: ['lm'] });
  assert.deepEqual(back.ignored, []);
  back.quat.forEach((x, i) => assert.ok(Math.abs(x - view.quat[i]) < 1e-6, `${back.quat} vs ${view.quat}`));
  assert.ok(Math.abs(Math.hypot(...back.quat) - 1) < 1e-15, 'normalised');
  assert.equal(requestedModel(search, ['seed', 'panda']), 'panda');
  assert.equal(requestedModel(search, ['seed']), null);  // a model the server does not offer
  assert.equal(requestedModel('?mode=ik', ['seed']), null);
  // A point target on an arm that takes poses: quat=none, read back as null (not left out).
  const point = formatViewState({ ...view, model: null, quat: null });
  assert.ok(point.includes('&quat=none&') && !point.includes('model='), point);
  assert.equal(parseViewState(point, arm).quat, null);
  // Arms that take no poses: no quat at all.
  assert.ok(!formatViewState({ ...view, quat: undefined }).includes('quat'));
  // Not a unit quaternion, or not four numbers: ignored.
  assert.deepEqual(parseViewState('?quat=1,1,0,0', arm).ignored, ['quat']);
  assert.deepEqual(parseViewState('?quat=1,0,0', arm).ignored, ['quat']);
});

test('"show K solutions" goes through the address', () => {
  const view = {
    mode: 'ik', solver: 'analytic', target: [0.8, 0.3, 1], camera: { position: [2, 2, 2], target: [0, 0.5, 0] }, solutions: 4,
  };
  const search = formatViewState(view);
  assert.ok(search.includes('&solutions=4&'), search);
  assert.equal(parseViewState(search, arm).solutions, 4);
  assert.ok(!formatViewState({ ...view, solutions: 0 }).includes('solutions'));
});

test('the joint distance takes a full-turn joint\'s difference modulo 2 pi, as the library', () => {
  const yaw = { type: 'revolute', lower: -Math.PI, upper: Math.PI, continuous: false };
  const pitch = { type: 'revolute', lower: -Math.PI / 2, upper: Math.PI / 2, continuous: false };
  // -3 and 3 rad on a full turn are 2 pi - 6 apart; on a limited joint, 6.
  assert.ok(Math.abs(jointDistance([yaw], [3], [-3]) - (2 * Math.PI - 6)) < 1e-12);
  assert.ok(Math.abs(jointDistance([pitch, pitch], [0.3, 0], [0, 0.4]) - 0.5) < 1e-12);
  assert.equal(jointDistance([yaw, pitch], [1, 0.2], [1, 0.2]), 0);
});

test('obstacles go through the address and into the API\'s scene', () => {
  const file = { obstacles: [
    { name: 'table', shape: 'box', size: [2, 2, 0.02], position: [0, 0, -0.02] },
    { shape: 'box', size: [0.15, 0.15, 0.2], position: [0.45, -0.35, 0.09], rpy: [0, 0, 0.4] },
    { shape: 'sphere', radius: 0.05, position: [0.3, 0, 0.6] },
    { shape: 'cylinder', radius: 0.04, length: 0.5, position: [0, 0.5, 0.25] },
    { shape: 'cone', radius: 1, position: [0, 0, 0] },  // unknown: left out
  ] };
  const obstacles = obstaclesFromScene(file);
  assert.equal(obstacles.length, 4);
  const text = formatSceneParam(obstacles);
  assert.equal(text, 'b,0,0,-0.02,2,2,0.02;b,0.45,-0.35,0.09,0.15,0.15,0.2,0,0,0.4;s,0.3,0,0.6,0.05;c,0,0.5,0.25,0.04,0.5');
  const back = parseSceneParam(text);
  assert.deepEqual(back.map((o) => o.position), obstacles.map((o) => o.position));
  assert.deepEqual(back[1].rpy, [0, 0, 0.4]);
  assert.deepEqual(sceneForApi(back).obstacles[2], { shape: 'sphere', position: [0.3, 0, 0.6], rpy: [0, 0, 0], radius: 0.05 });
  for (const bad of ['b,0,0,0,1,1', 'b,0,0,0,1,-1,1', 's,0,0,0,0', 'x,0,0,0,1', 'b,0,0,nan,1,1,1', 's,0,0,2000,1', 'b,0,0,0,1,1,1;']) {
    assert.equal(parseSceneParam(bad), null, bad);
  }
  const args = { dof: 7, joints: [], solvers: ['lm'] };
  assert.equal(parseViewState(`?scene=${encodeURIComponent(text)}`, args).obstacles.length, 4);
  assert.deepEqual(parseViewState('?scene=s,0,0,0,-1', args).ignored, ['scene']);
  const search = formatViewState({ mode: 'ik', solver: 'lm', target: [0.5, 0, 0.5], camera: { position: [1, 1, 1], target: [0, 0, 0] }, obstacles: back });
  assert.deepEqual(parseViewState(search, args).obstacles, back);
});
