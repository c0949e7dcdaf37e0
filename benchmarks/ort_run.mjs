#!/usr/bin/env node
// Run an ONNX model with ONNX Runtime (npm onnxruntime-node, installed in benchmarks/node_modules
// by `npm install --ignore-scripts` in benchmarks/) on .npy inputs and write .npy outputs, or time it.
//
//   node benchmarks/ort_run.mjs MODEL.onnx -i [NAME=]FILE.npy ... [-o OUTDIR] [--threads N]
//   node benchmarks/ort_run.mjs MODEL.onnx -i FILE.npy --iterations N [--warmup W] [--threads N]
//        -> prints one JSON line: {"runtime":"onnxruntime","version",...,"times_ms":[...]}
//   node benchmarks/ort_run.mjs MODEL.onnx -i FILE.npy --serve [--threads N]
//        -> persistent peer for compare.py: prints {"ready":true,...}, then answers stdin lines
//           "run N" with {"times_ms":[...]}, "out IN.npy OUT.npy" with {"ok":true}; "quit" ends.
//
// Sessions use graph optimization level "all" (QDQ models run as QLinear*/QGemm/... int8 kernels),
// intra-op threads = --threads, inter-op 1, sequential execution.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error('ort_run: onnxruntime-node is not installed (cd benchmarks && npm install --ignore-scripts)');
  process.exit(3);
}

const ORT_VERSION = (() => {
  try { return JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'package.json'))).version; }
  catch { return 'unknown'; }
})();

const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not an .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: fortran order not supported`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const dt = DTYPES[descr];
  if (!dt) throw new Error(`${file}: dtype ${descr} not supported`);
  const off = hstart + hlen;
  const bytes = buf.subarray(off);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  let data = new dt[1](copy.buffer, 0, bytes.length / dt[1].BYTES_PER_ELEMENT);
  let type = dt[0];
  if (type === 'float64') { data = Float32Array.from(data); type = 'float32'; }
  if (type === 'bool') data = Uint8Array.from(data);
  return new ort.Tensor(type, data, shape);
}

function writeNpy(file, tensor) {
  const map = { float32: '<f4', int64: '<i8', int32: '<i4', uint8: '|u1', int8: '|i1', bool: '|b1' };
  const descr = map[tensor.type];
  if (!descr) throw new Error(`cannot write ${tensor.type}`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(h, 0);
  h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8);
  const d = tensor.data;
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(d.buffer, d.byteOffset, d.byteLength)]));
}

function parseArgs(argv) {
  const a = { model: null, inputs: [], out: null, threads: 1, iterations: 0, warmup: 2, serve: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '-i' || k === '--input') a.inputs.push(argv[++i]);
    else if (k === '-o' || k === '--output-dir') a.out = argv[++i];
    else if (k === '--threads') a.threads = Number(argv[++i]);
    else if (k === '--iterations') a.iterations = Number(argv[++i]);
    else if (k === '--warmup') a.warmup = Number(argv[++i]);
    else if (k === '--serve') a.serve = true;
    else if (!a.model) a.model = k;
    else throw new Error(`unexpected argument ${k}`);
  }
  if (!a.model || a.inputs.length === 0) throw new Error('usage: ort_run.mjs MODEL.onnx -i [NAME=]FILE.npy ... [-o DIR] [--threads N] [--iterations N]');
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const loadMs = performance.now() - t0;
  const feeds = {};
  a.inputs.forEach((spec, idx) => {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : session.inputNames[idx];
    feeds[name] = readNpy(eq > 0 ? spec.slice(eq + 1) : spec);
  });
  if (a.serve) {
    for (let i = 0; i < 3; i++) await session.run(feeds);
    console.log(JSON.stringify({ ready: true, runtime: 'onnxruntime', version: ORT_VERSION, load_ms: loadMs }));
    const readline = await import('node:readline');
    const rl = readline.createInterface({ input: process.stdin });
    for await (const line of rl) {
      const cmd = line.trim().split(/\s+/);
      if (cmd[0] === 'quit') break;
      if (cmd[0] === 'run') {
        const times = [];
        for (let i = 0; i < Number(cmd[1]); i++) {
          const s = performance.now();
          await session.run(feeds);
          times.push(performance.now() - s);
        }
        console.log(JSON.stringify({ times_ms: times }));
      } else if (cmd[0] === 'out') {
        const name0 = session.inputNames[0];
        const r = await session.run({ [name0]: readNpy(cmd[1]) });
        writeNpy(cmd[2], r[session.outputNames[0]]);
        console.log(JSON.stringify({ ok: true }));
      }
    }
    rl.close();
    process.exit(0);
  }
  if (a.iterations > 0) {
    for (let i = 0; i < a.warmup; i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < a.iterations; i++) {
      const s = performance.now();
      await session.run(feeds);
      times.push(performance.now() - s);
    }
    console.log(JSON.stringify({ runtime: 'onnxruntime', version: ORT_VERSION, threads: a.threads,
                                 load_ms: loadMs, times_ms: times }));
    return;
  }
  const results = await session.run(feeds);
  for (const name of session.outputNames) {
    const t = results[name];
    if (a.out) {
      fs.mkdirSync(a.out, { recursive: true });
      writeNpy(path.join(a.out, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`), t);
    }
    console.log(`${name}: ${t.type} [${t.dims.join(', ')}]`);
  }
}

main().catch(e => { console.error(`ort_run: ${e.message ?? e}`); process.exit(1); });
