// Obstacles as the page keeps them, as the JSON API takes them (docs/SCENES.md: "scene") and as
// the address carries them. Pure functions (node tests them; no import).
//   an obstacle: { shape: 'box' | 'sphere' | 'cylinder' | 'capsule', position: [x, y, z] (m, base
//   frame), rpy: [roll, pitch, yaw] (rad), size: [x, y, z] (box, full extents), radius, length,
//   name (optional) }
// In the address: &scene=ITEM;ITEM;... with ITEM one of
//   b,x,y,z,sx,sy,sz[,roll,pitch,yaw]   s,x,y,z,r   c,x,y,z,r,l[,roll,pitch,yaw]   k,... (capsule, as c)

export const MAX_PAGE_OBSTACLES = 64;  // the page's own bound (the API takes 256)
const BOUND = 1000;  // m: as the scene parser's kMaxSceneValue

const SHAPES = { b: 'box', s: 'sphere', c: 'cylinder', k: 'capsule' };
const LETTERS = { box: 'b', sphere: 's', cylinder: 'c', capsule: 'k' };

const finite = (v) => Number.isFinite(v) && Math.abs(v) <= BOUND;
const positive = (v) => finite(v) && v > 0;

// One obstacle checked as the server would: null when it would be refused.
export function checkedObstacle(o) {
  if (!o || !LETTERS[o.shape] || !Array.isArray(o.position) || o.position.length !== 3 || !o.position.every(finite)) return null;
  const rpy = o.rpy === undefined ? [0, 0, 0] : o.rpy;
  if (!Array.isArray(rpy) || rpy.length !== 3 || !rpy.every(finite)) return null;
  const out = { shape: o.shape, position: o.position.slice(), rpy: rpy.slice() };
  if (typeof o.name === 'string' && o.name.length <= 256) out.name = o.name;
  if (o.shape === 'box') {
    if (!Array.isArray(o.size) || o.size.length !== 3 || !o.size.every(positive)) return null;
    out.size = o.size.slice();
  } else {
    if (!positive(o.radius)) return null;
    out.radius = o.radius;
    if (o.shape !== 'sphere') {
      if (!positive(o.length)) return null;
      out.length = o.length;
    }
  }
  return out;
}

// The obstacles of a scene file's JSON ({ obstacles: [...] }); those the page cannot take are left out.
export function obstaclesFromScene(json) {
  const items = json && Array.isArray(json.obstacles) ? json.obstacles : [];
  return items.slice(0, MAX_PAGE_OBSTACLES).map(checkedObstacle).filter((o) => o !== null);
}

// The API's "scene" for the obstacles.
export function sceneForApi(obstacles) {
  return {
    obstacles: obstacles.map((o) => {
      const item = { shape: o.shape, position: o.position.slice(), rpy: o.rpy.slice() };
      if (o.name) item.name = o.name;
      if (o.shape === 'box') item.size = o.size.slice();
      else item.radius = o.radius;
      if (o.shape === 'cylinder' || o.shape === 'capsule') item.length = o.length;
      return item;
    }),
  };
}

const short = (x) => String(Number(x.toFixed(4)));  // 0.1 mm, 1e-4 rad

export function formatSceneParam(obstacles) {
  return obstacles.map((o) => {
    const turned = o.rpy.some((a) => a !== 0);
    const values = [...o.position];
    if (o.shape === 'box') values.push(...o.size);
    else values.push(o.radius);
    if (o.shape === 'cylinder' || o.shape === 'capsule') values.push(o.length);
    if (turned && o.shape !== 'sphere') values.push(...o.rpy);
    return [LETTERS[o.shape], ...values.map(short)].join(',');
  }).join(';');
}

// The obstacles an address's scene parameter holds, or null when any item is malformed.
export function parseSceneParam(text) {
  if (typeof text !== 'string') return null;
  if (text === '') return [];
  const items = text.split(';');
  if (items.length > MAX_PAGE_OBSTACLES) return null;
  const out = [];
  for (const item of items) {
    const [letter, ...rest] = item.split(',');
    const shape = SHAPES[letter];
    const v = rest.map((x) => (x.trim() === '' ? NaN : Number(x)));
    const base = { box: 6, sphere: 4, cylinder: 5, capsule: 5 }[shape];
    if (!shape || !(v.length === base || (shape !== 'sphere' && v.length === base + 3))) return null;
    const o = { shape, position: v.slice(0, 3), rpy: v.length > base ? v.slice(base) : [0, 0, 0] };
    if (shape === 'box') o.size = v.slice(3, 6);
    else o.radius = v[3];
    if (shape === 'cylinder' || shape === 'capsule') o.length = v[4];
    const checked = checkedObstacle(o);
    if (checked === null) return null;
    out.push(checked);
  }
  return out;
}
