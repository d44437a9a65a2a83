// The server's JSON API. Every call goes through request(), so a failed call always rejects
// with the server's own error message (the panel shows it) rather than a bare HTTP status.

async function request(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// The arm: joints (origin, axis, type, limits), tip pose, home pose, reach.
export const fetchArm = () => request('/api/arm');

// The loaded model: network shape, training history, metrics, the solvers on offer.
export const fetchModel = () => request('/api/model');

// One IK solve: { q, reached, error, status, solver, micros }.
export const solve = (target, solver) => request('/api/solve', { target, solver });

// A sample of reachable tip positions, for the workspace cloud.
export const fetchWorkspace = (n, seed) => request(`/api/workspace?n=${n}&seed=${seed}`);
