// The server's JSON API. Every call goes through request(), so a failed call always rejects
// with the server's own error message (the panel shows it) rather than a bare HTTP status.

// The arm or model every call asks about (the server's "model": name); null: the server's default.
let modelName = null;
export function useModel(name) { modelName = name; }
const query = () => (modelName === null ? '' : `model=${encodeURIComponent(modelName)}`);
const withModel = (body) => (modelName === null ? body : { ...body, model: modelName });

// The obstacles the arm keeps clear of (the API's "scene", scene-format.js's sceneForApi); null:
// none, the server's own default (self-collision) applies. Sent with the solves of the solvers
// that avoid collisions (lm, refined) and with the exact collision check.
let scene = null;
export function useScene(value) { scene = value; }
const avoids = (solver) => solver === 'lm' || solver === 'refined';
const withScene = (body) => (scene !== null && avoids(body.solver) ? { ...body, scene } : body);

// An answer about an arm the page no longer shows (another was chosen meanwhile) never arrives:
// the promise stays pending, so no caller draws it (the page resets its requests in flight).
async function request(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const asked = modelName;
  const response = await fetch(path, init);
  const answer = await response.json();
  if (modelName !== asked) return new Promise(() => {});
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// The arm: joints (origin, axis, type, limits), tip pose, home pose, reach.
export const fetchArm = () => request(`/api/arm?${query()}`);

// The loaded model: network shape, training history, metrics, the solvers on offer (without a
// model: path, network and metrics are null).
export const fetchModel = () => request(`/api/model?${query()}`);

// What the server offers: { models: [{ name, arm, dof, has_model, solvers }], default }.
export const fetchModels = () => request('/api/models');

// One IK solve: { q, reached, reached_quat, position_error, angle_error, status, solver, micros }. `target`
// is [x, y, z] or { p: [x, y, z], quat: [w, x, y, z] }; `objectives` adds the API's posture fields
// ({ avoid_limits: 1 }).
export const solve = (target, solver, objectives = {}) => request('/api/solve', withModel(withScene({ target, solver, ...objectives })));

// A sample of reachable tip positions, for the workspace cloud.
export const fetchWorkspace = (n, seed) => request(`/api/workspace?n=${n}&seed=${seed}&${query()}`);

// Up to k distinct exact solutions of one target, closest to q_start first: { solutions: [answer,
// ...], exact, starts, micros, solver } (exact false: the one entry is the solver's unconverged answer).
export const solveMany = (target, solver, k, qStart) => {
  const t = Array.isArray(target) ? { p: target } : { ...target };
  t.q_start = qStart;
  return request('/api/solve', withModel(withScene({ target: t, solver, solutions: k })));
};

// A path tracked by the library's TrackPath: { targets, q_start, continue, solver, step_ratio? } ->
// { points: [{ q, reached, position_error, angle_error, status, solve_status, joint_step, step_bound }], summary }.
// The obstacles go along, as with a solve: the server tracks the path clear of them.
export const trackPath = (body) => request('/api/track', withModel(withScene(body)));

// Self-collision of joint values q: { in_collision, min_distance (m), link_a, link_b, collision_model }
// (the colliding or the closest pair); `kind` is 'exact' (FCL on the meshes, and the obstacles:
// an obstacle's name is then link_b) or 'spheres'.
export const collide = (q, kind) => request('/api/collide', withModel(
  kind === 'exact' && scene !== null ? { q, collision_model: kind, scene } : { q, collision_model: kind }));

// An example scene shipped with deepik (robots/scenes/NAME.json), as its file says.
export const fetchExampleScene = (name) => request(`/api/scenes/${encodeURIComponent(name)}`);

// "One request in flight, the newest waits": `send(...args)` (returning a promise that settles when
// its answer has been used) runs for one call at a time; calls meanwhile replace each other, and
// the last of them is sent when the one in flight settles, so a drag (one call per mouse move)
// never floods the server. `superseded()` tells an answer's handler that a newer call waits (its
// answer is about to be replaced); `forget()` drops the call in flight and the waiting one (another
// arm: api.js never delivers the old arm's answers).
export function latestRequest(send) {
  let inFlight = false, waiting = null, generation = 0;
  function ask(...args) {
    if (inFlight) { waiting = args; return; }
    inFlight = true;
    const mine = generation;
    Promise.resolve().then(() => send(...args)).catch(() => {}).finally(() => {
      if (mine !== generation) return;
      inFlight = false;
      if (waiting !== null) { const next = waiting; waiting = null; ask(...next); }
    });
  }
  return {
    ask,
    busy: () => inFlight || waiting !== null,
    superseded: () => waiting !== null,
    forget: () => { generation += 1; inFlight = false; waiting = null; },
  };
}
