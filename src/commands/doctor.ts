// `mek doctor`: what this machine can run mek on. Missing optional backends and GPUs are
// findings, not failures, so the command exits 0 whatever it finds.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, probeBackends, selectBackend, type BackendName } from '../backend.ts';
import type { MekCommand } from './program.ts';
import { ortVersion } from '../infer/onnx.ts';

/** npm package that provides each backend. */
const BACKEND_PACKAGES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node-gpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const CORE_PACKAGE = '@tensorflow/tfjs-core';

export interface BackendStatus {
  ok: boolean;
  /** Installed version of the backend's package; null where it is not installed. */
  version: string | null;
  /** Why it does not load (first line); absent when ok. */
  reason?: string;
}

export interface DoctorReport {
  node: string;
  platform: string;
  tfjsCore: {
    version: string;
    /** The copy mek imports. */
    path: string;
    /** Every copy under the node_modules folder that holds it; more than one splits the engine. */
    copies: string[];
    single: boolean;
  };
  backends: Record<BackendName, BackendStatus>;
  /** Present when the wasm backend loads. */
  wasm: { simd: boolean; multithread: boolean; threads: number } | null;
  gpu: { visible: boolean; devices: string[]; reason?: string };
  /** ONNX Runtime (the inference engine of eval and predict): version and usable execution providers, or why it cannot load. */
  onnxruntime: { ok: true; version: string; providers: string[] } | { ok: false; reason: string };
  /** What `--backend auto` picks here; null when nothing loads. */
  auto: BackendName | null;
}

const require = createRequire(import.meta.url);

function packageJsonPath(name: string, from: NodeJS.Require = require): string | null {
  try {
    return from.resolve(`${name}/package.json`);
  } catch {
    return null;
  }
}

function packageVersion(name: string): string | null {
  const path = packageJsonPath(name);
  return path ? String(JSON.parse(readFileSync(path, 'utf8')).version) : null;
}

/**
 * Every installed copy of tfjs-core: a walk of the node_modules tree that holds mek's copy,
 * plus the copy each installed backend package resolves (which may sit elsewhere, e.g. in a
 * global install). A backend that registers with another copy is invisible to mek's engine.
 */
function findCoreCopies(corePath: string): string[] {
  const copies = new Set<string>([corePath]);
  const walk = (nodeModules: string): void => {
    for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
      const dir = join(nodeModules, entry.name);
      const packages = entry.name.startsWith('@')
        ? readdirSync(dir).map((name) => join(dir, name))
        : [dir];
      for (const pkg of packages) {
        if (pkg.endsWith(join('@tensorflow', 'tfjs-core'))) copies.add(realpathSync(pkg));
        const nested = join(pkg, 'node_modules');
        if (existsSync(nested)) walk(nested);
      }
    }
  };
  walk(dirname(dirname(corePath)));
  for (const name of Object.values(BACKEND_PACKAGES)) {
    const backendJson = packageJsonPath(name);
    if (!backendJson) continue;
    const coreJson = packageJsonPath(CORE_PACKAGE, createRequire(backendJson));
    if (coreJson) copies.add(realpathSync(dirname(coreJson)));
  }
  return [...copies].sort();
}

function probeGpu(): Promise<DoctorReport['gpu']> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'],
      { timeout: 10_000 },
      (err, stdout, stderr) => {
        if (err) {
          const reason =
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'nvidia-smi not found'
              : `nvidia-smi failed: ${(stderr || stdout || err.message).trim().split('\n')[0]}`;
          resolve({ visible: false, devices: [], reason });
          return;
        }
        const devices = stdout.split('\n').map((s) => s.trim()).filter(Boolean);
        resolve({ visible: devices.length > 0, devices });
      },
    );
  });
}

async function probeWasm(): Promise<DoctorReport['wasm']> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return {
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    multithread: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    threads: wasm.getThreadsCount(),
  };
}

export async function collectDoctorReport(): Promise<DoctorReport> {
  const corePath = realpathSync(dirname(require.resolve(`${CORE_PACKAGE}/package.json`)));
  const copies = findCoreCopies(corePath);
  const [loads, gpu, ort] = await Promise.all([probeBackends(), probeGpu(), ortVersion()]);
  const backends = {} as Record<BackendName, BackendStatus>;
  for (const name of BACKEND_NAMES) {
    backends[name] = { ...loads[name], version: packageVersion(BACKEND_PACKAGES[name]) };
  }
  // Ask the real selection rather than restating its order; every load is cached by now.
  const auto = BACKEND_NAMES.some((name) => backends[name].ok)
    ? (await selectBackend('auto')).name
    : null;
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    tfjsCore: { version: tf.version_core, path: corePath, copies, single: copies.length === 1 },
    backends,
    wasm: backends.wasm.ok ? await probeWasm() : null,
    gpu,
    onnxruntime: ort instanceof Error ? { ok: false, reason: ort.message.split('\n')[0]! } : { ok: true, ...ort },
    auto,
  };
}

export function formatDoctorReport(r: DoctorReport): string {
  const row = (label: string, value: string) => `${label.padEnd(18)}${value}`;
  const lines = [
    row('node', `${r.node} (${r.platform})`),
    row('tfjs-core', `${r.tfjsCore.version} at ${r.tfjsCore.path}`),
    row(
      'tfjs-core copies',
      r.tfjsCore.single
        ? '1 (ok)'
        : `${r.tfjsCore.copies.length}: PROBLEM, backends may register with another copy: ` +
            r.tfjsCore.copies.join(', '),
    ),
    'backends',
  ];
  for (const name of BACKEND_NAMES) {
    const b = r.backends[name];
    const version = b.version ? ` ${b.version}` : '';
    let detail = b.ok ? `ok${version}` : `unavailable: ${b.reason}`;
    if (name === 'wasm' && r.wasm) {
      const threads = `${r.wasm.threads} thread${r.wasm.threads === 1 ? '' : 's'}`;
      detail += ` (${r.wasm.simd ? 'SIMD' : 'no SIMD'}, ${threads})`;
    }
    lines.push(row(`  ${name}`, detail));
  }
  lines.push(
    row('gpu', r.gpu.visible ? r.gpu.devices.join('; ') : `none visible (${r.gpu.reason ?? 'no devices'})`),
    row('--backend auto', r.auto ? `picks ${r.auto}` : 'PROBLEM: no backend loads'),
    row(
      'onnxruntime',
      r.onnxruntime.ok
        ? `ok ${r.onnxruntime.version}, providers ${r.onnxruntime.providers.join(', ')} (eval and predict use it: --engine auto)${r.onnxruntime.providers.includes('cuda') ? '' : '; cuda: not installed'}`
        : `unavailable: ${r.onnxruntime.reason} (eval and predict use tfjs)`,
    ),
  );
  return lines.join('\n') + '\n';
}

export const doctorCommand: MekCommand = {
  command: 'doctor',
  describe: 'Report Node, tfjs and ONNX Runtime versions, which backends and providers load, and whether a GPU is visible',
  builder: (y) =>
    y.option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }),
  handler: async (argv) => {
    const report = await collectDoctorReport();
    process.stdout.write(argv.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report));
  },
};
