// Runs an exported deepik network in onnxruntime-node (installed from web/package-lock.json):
//   node tests/web/onnx_run.mjs MODEL.onnx TARGETS.csv OUTPUT.csv
// TARGETS.csv: a header (x,y,z; or 9 columns for a pose model: x,y,z and the first two columns of
// R_BT), then one target per line (m); OUTPUT.csv: the output 'joints', one row
// per target, as float32 values printed with 9 significant digits. onnxruntime-node is resolved from
// web/ (web/package-lock.json), whatever the working directory.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const ort = require('onnxruntime-node');

const [modelPath, targetsPath, outputPath] = process.argv.slice(2);
if (!outputPath) {
  console.error('usage: node onnx_run.mjs MODEL.onnx TARGETS.csv OUTPUT.csv');
  process.exit(2);
}
const [header, ...lines] = readFileSync(targetsPath, 'utf8').trim().split('\n');
const columns = header.split(',').length;
const targets = new Float32Array(lines.length * columns);
lines.forEach((line, i) => line.split(',').forEach((v, j) => { targets[columns * i + j] = Number(v); }));

const session = await ort.InferenceSession.create(modelPath);
if (session.inputNames[0] !== 'targets' || session.outputNames[0] !== 'joints') {
  console.error(`expected input 'targets' and output 'joints', got ${session.inputNames} and ${session.outputNames}`);
  process.exit(1);
}
const result = await session.run({ targets: new ort.Tensor('float32', targets, [lines.length, columns]) });
const joints = result.joints;
const dof = joints.dims[1];
const rows = [];
for (let i = 0; i < joints.dims[0]; ++i) {
  rows.push(Array.from(joints.data.subarray(i * dof, (i + 1) * dof), (v) => v.toPrecision(9)).join(','));
}
writeFileSync(outputPath, rows.join('\n') + '\n');
console.error(`onnx_run: ${joints.dims[0]} x ${dof} joint values (onnxruntime-node ${ort.env.versions?.common ?? ''})`);
