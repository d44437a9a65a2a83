// Small helpers shared by the panel modules: element lookup and number formatting.

export const $ = (id) => document.getElementById(id);

export const DEG = 180 / Math.PI;

// A position for the readouts: centimetre resolution is what a reader can take in.
export const fmtVec = (v) => v.map((x) => x.toFixed(2)).join(', ');

// Lengths with honest units and significant digits (format.js, unit-tested by node).
export { fmtLength } from './format.js';

// An element built from parts, never from markup: `attrs` become attributes (strings), and
// `children` (strings as text nodes, or elements) are appended. Names and figures from arm and
// model files go through here or textContent, so markup in a file stays text (issue 26).
export function el(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

// The same in the SVG namespace (the model card's training curve).
export function svgEl(tag, attrs = {}, children = []) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}
