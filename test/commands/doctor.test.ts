// `mek doctor`: what a user pastes into a bug report (versions, backends, GPU, the backend
// --backend auto would pick, ONNX Runtime), as text and as one JSON object. Spawns the real
// `node bin/mek.js`, concurrently.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/commands/doctor.ts';
import { spawnMek as mek } from '../helpers/cli.ts';

describe.concurrent('mek doctor', () => {
  it('doctor reports versions, backends, GPU and the auto pick', async () => {
    const r = await mek('doctor');
    expect(r.code).toBe(0);
    for (const label of ['node', 'tfjs-core', 'tfjs-core copies', 'tensorflow', 'wasm', 'cpu', 'gpu', '--backend auto', 'onnxruntime']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s*${label}\\s{2,}\\S`, 'm'));
    }
    expect(r.stdout).toMatch(/^\s+cpu\s+ok/m);
  });

  it('doctor --json prints one parseable object', async () => {
    const r = await mek('doctor', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    let hasNodeGpu = true;
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
    } catch {
      hasNodeGpu = false;
    }
    expect(report.node).toBe(process.version);
    expect(report.tfjsCore).toMatchObject({ version: '4.22.0', single: true });
    expect(report.tfjsCore.copies).toEqual([report.tfjsCore.path]);
    expect(report.backends.cpu).toMatchObject({ ok: true, version: '4.22.0' });
    expect(report.backends.wasm).toMatchObject({ ok: true, version: '4.22.0' });
    expect(report.backends.tensorflow.ok).toBe(hasNodeGpu);
    expect(report.wasm?.threads).toBeGreaterThanOrEqual(1);
    expect(typeof report.gpu.visible).toBe('boolean');
    expect(report.auto).toBe(hasNodeGpu ? 'tensorflow' : 'wasm');
    expect(report.onnxruntime).toMatchObject({ ok: true, version: '1.30.0' });
    expect(report.onnxruntime.ok && report.onnxruntime.providers).toContain('cpu');
  });
});
