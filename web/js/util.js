// Small helpers shared by the panel modules: element lookup and number formatting.

export const $ = (id) => document.getElementById(id);

export const DEG = 180 / Math.PI;

// A position for the readouts: centimetre resolution is what a reader can take in.
export const fmtVec = (v) => v.map((x) => x.toFixed(2)).join(', ');

// A length in the unit that keeps it readable, from nanometres (refined solves) to metres.
export function fmtLength(m) {
  if (m < 1e-6) return `${(m * 1e9).toFixed(0)} nm`;
  if (m < 1e-3) return `${(m * 1e6).toFixed(1)} µm`;
  if (m < 1) return `${(m * 1e3).toFixed(m < 0.01 ? 3 : 1)} mm`;
  return `${m.toFixed(3)} m`;
}
