// Small helpers shared by the panel modules: element lookup and number formatting.

export const $ = (id) => document.getElementById(id);

export const DEG = 180 / Math.PI;

// A position for the readouts: centimetre resolution is what a reader can take in.
export const fmtVec = (v) => v.map((x) => x.toFixed(2)).join(', ');

// Lengths with honest units and significant digits (format.js, unit-tested by node).
export { fmtLength } from './format.js';
