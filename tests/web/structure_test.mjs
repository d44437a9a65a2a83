// The page's structure, read from its sources (node --test): the ES modules import each other
// without a cycle, each field of the shared state is written only by its owner module
// (web/js/state.js's STATE_OWNERS), and no module inserts markup with innerHTML and the like
// (names and figures from arm and model files must stay text: issue 26).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname, normalize, relative } from 'node:path';

const web = fileURLToPath(new URL('../../web/', import.meta.url));
const modules = ['app.js', ...readdirSync(join(web, 'js')).filter((f) => f.endsWith('.js')).map((f) => `js/${f}`)];
const source = (m) => readFileSync(join(web, m), 'utf8');

// The page's own imports of module m (relative paths), as paths under web/.
function importsOf(m) {
  return [...source(m).matchAll(/^\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)]
    .map((x) => relative(web, normalize(join(web, dirname(m), x[1]))));
}

test('the modules import each other without a cycle', () => {
  const graph = new Map(modules.map((m) => [m, importsOf(m)]));
  assert.ok(graph.get('js/solve.js').includes('js/api.js'), 'the import reader finds imports');
  const done = new Set(), path = [];
  const visit = (m) => {
    if (path.includes(m)) assert.fail(`import cycle: ${[...path.slice(path.indexOf(m)), m].join(' -> ')}`);
    if (done.has(m)) return;
    path.push(m);
    for (const n of graph.get(m) || []) visit(n);
    path.pop();
    done.add(m);
  };
  for (const m of modules) visit(m);
});

// Writes of state.FIELD: assignment (=, +=, ...), an element assignment, or a mutating call.
const WRITE = /\bstate\.(\w+)(?:\[[^\]]*\])?\s*(?:[-+*/]?=(?!=)|\+\+|--)|\bstate\.(\w+)\.(?:push|shift|pop|unshift|splice|set|copy|fill)\(/g;

test('each field of the state is written by its owner only', async () => {
  const { state, STATE_OWNERS } = await import(join(web, 'js/state.js'));
  assert.deepEqual(Object.keys(STATE_OWNERS).sort(), Object.keys(state).sort(), 'every field has one owner');
  const strays = [];
  let writes = 0;
  for (const m of modules) {
    for (const x of source(m).matchAll(WRITE)) {
      const field = x[1] || x[2];
      writes += 1;
      if (STATE_OWNERS[field] !== m) strays.push(`${m} writes state.${field} (owner: ${STATE_OWNERS[field]})`);
    }
  }
  assert.ok(writes > 30, `the write reader finds writes (${writes})`);
  assert.deepEqual(strays, []);
});

test('no module inserts markup', () => {
  const found = modules.flatMap((m) => (/\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write/.test(source(m)) ? [m] : []));
  assert.deepEqual(found, []);
});
