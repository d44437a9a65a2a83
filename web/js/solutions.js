// Several solutions of one target: "show K solutions" asks the API for up to K distinct exact
// solutions ("solutions": K, the closest to the arm's own answer first) and draws each as a
// translucent ghost arm in its own colour; the panel lists them, and picking one (a click or tap
// on its ghost, or its row in the list) moves the arm to it. One request at a time; a newer
// target meanwhile replaces the waiting one (api.js's latestRequest). This module owns K and the
// solutions shown.
import { state } from './state.js';
import { solveMany, latestRequest } from './api.js';
import { drawSolutionGhosts, MAX_SOLUTION_GHOSTS } from './arm.js';
import { showSolutionList } from './panel.js';
import { requestRender } from './scene.js';
import { animateTo, poseGoal } from './animation.js';
import { adoptAnswer } from './solve.js';

export { MAX_SOLUTION_GHOSTS };

const withinLimits = (q) => q.map((v, i) => Math.min(Math.max(v, state.arm.joints[i].lower), state.arm.joints[i].upper));

// Whether the page shows several solutions now: K >= 2 asked, IK mode, no demo, an exact solver.
const wanted = () => state.solutionsK >= 2 && state.mode === 'ik' && state.demo === 'off' && state.solver !== 'network';

const requests = latestRequest((target, qStart) => {
  if (!wanted()) { hideSolutions(); return null; }
  const started = performance.now();
  return solveMany(target, state.solver, state.solutionsK, withinLimits(qStart))
    .then((answer) => {
      state.solutionTrips.push(performance.now() - started);
      if (state.solutionTrips.length > 1000) state.solutionTrips.shift();
      if (!wanted() || requests.superseded()) return;  // a newer target's solutions come next
      answer.target = target;
      state.solutionsAnswer = answer;
      state.solutions = answer.exact ? answer.solutions : [];
      drawSolutionGhosts(state.solutions.map((s) => state.kin.frames(s.q)));
      // Without exact solutions the one entry is the solver's own answer: say what it was.
      const why = answer.solutions[0].status === 'out of reach'
        ? 'no exact solution: the target is out of reach' : `no exact solution found (${answer.solutions[0].status})`;
      showSolutionList(state.solutions, poseGoal(), state.arm.joints, answer.exact ? '' : why);
      requestRender();
    })
    .catch((err) => { hideSolutions(); showSolutionList([], [], [], err.message); });
});

// Asks for the solutions of `target` (as the API takes it), closest to qStart (the arm's answer)
// first; hides the ghosts when they are not wanted.
export function requestSolutions(target, qStart) {
  if (!wanted()) { hideSolutions(); return; }
  requests.ask(target, qStart);
}

// Another arm: no request in flight (api.js drops the old arm's answers), no solutions.
export function forgetSolutions() {
  requests.forget();
  state.solutions = [];
  state.solutionsAnswer = null;
}

// True while solutions are asked for or wait to be.
export const solutionsBusy = () => requests.busy();

export function hideSolutions() {
  state.solutions = [];
  state.solutionsAnswer = null;
  drawSolutionGhosts([]);
  showSolutionList([], [], [], state.solutionsK >= 2 && state.solver === 'network'
    ? 'several solutions need an exact solver (refined, lm, kdl-*)' : '');
  requestRender();
}

// Solution k becomes the arm's pose: the arm moves to it, and the panel shows its errors.
export function pickSolution(k) {
  const s = state.solutions[k];
  if (!s) return;
  adoptAnswer({ ...s, target: state.solutionsAnswer.target, picked: k }, 0);
  animateTo(s.q);
  showSolutionList(state.solutions, s.q, state.arm.joints, '');
}

// "show K solutions": 0 or 1 is off. Asks for the solutions of `target` when given.
export function setSolutionsK(k, target, qStart) {
  state.solutionsK = Math.min(k, MAX_SOLUTION_GHOSTS);
  if (target !== undefined) requestSolutions(target, qStart);
}
