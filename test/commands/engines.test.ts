// The inference engines from the command line: predict and eval give the same answers on ONNX
// Runtime and tfjs, the ONNX export is cached beside the checkpoint, an exported .onnx runs as
// --ckpt, and the README's deployment example is the shipped file and agrees with mek predict.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, runDir, ckpt, image } = useCliWorkspace({ checkpoint: true });

describe('inference engines: ONNX Runtime and tfjs', () => {
  it('predict and eval give the same answers on both; the ONNX export is cached beside the checkpoint', () => {
    const dir = join(root, 'engines');
    // the checkpoint alone: earlier tests may have cached an export beside the original
    cpSync(runDir, dir, { recursive: true, filter: (f) => !f.endsWith('.onnx') });
    const best = join(dir, 'best.json');
    writeFileSync(join(dir, 'best.0123456789abcdef.onnx'), 'an export of an older version of this checkpoint');
    const viaOnnx = mek('predict', '--engine', 'onnx', '--json', '--ckpt', best, image);
    expect(viaOnnx.code, viaOnnx.stderr).toBe(0);
    expect(viaOnnx.stderr).toMatch(/^engine: onnxruntime-node [\d.]+ \(cpu, 1 thread\)/);
    expect(viaOnnx.stderr).toMatch(/note: exported the model to ONNX, cached as .*best\.[0-9a-f]{16}\.onnx/);
    const caches = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
    expect(caches).toHaveLength(1);
    expect(caches[0]).not.toBe('best.0123456789abcdef.onnx');
    const viaTfjs = mek('predict', '--engine', 'tfjs', '--json', '--ckpt', best, image);
    expect(viaTfjs.stderr).toMatch(/^engine: tfjs/);
    const [a] = JSON.parse(viaOnnx.stdout);
    const [b] = JSON.parse(viaTfjs.stdout);
    expect(a.label).toBe(b.label);
    a.logits.forEach((v: number, i: number) => expect(Math.abs(v - b.logits[i])).toBeLessThan(1e-4));
    // the second time the cache is used, not written
    const again = mek('predict', '--json', '--ckpt', best, image);
    expect(again.stderr).not.toMatch(/exported/);
    expect(JSON.parse(again.stdout)[0].logits).toEqual(a.logits);
    const evals = ['onnx', 'tfjs'].map((engine) => JSON.parse(mek('eval', '--engine', engine, '--json', '--ckpt', best).stdout));
    expect(evals[0].engine).toBe('onnx');
    expect(evals[0].confusion).toEqual(evals[1].confusion);
    expect(existsSync(join(dir, caches[0]!))).toBe(true);
  });

  it('an exported .onnx runs as --ckpt; a corrupt or foreign one, tfjs on an .onnx, or a missing CUDA provider is one line', () => {
    const out = join(root, 'model.onnx');
    expect(mek('export', '--ckpt', ckpt, '--out', out).code).toBe(0);
    const direct = mek('predict', '--json', '--ckpt', out, image);
    expect(direct.code, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout)[0].label).toBe(JSON.parse(mek('predict', '--json', '--engine', 'tfjs', '--ckpt', ckpt, image).stdout)[0].label);
    const corrupt = join(root, 'corrupt.onnx');
    writeFileSync(corrupt, 'not protobuf at all');
    expectOneLineUsageError(mek('predict', '--ckpt', corrupt, image), /corrupt\.onnx: not a (readable ONNX file|model exported by mek)/);
    expectOneLineUsageError(mek('predict', '--engine', 'tfjs', '--ckpt', out, image), /model\.onnx: an \.onnx file runs on ONNX Runtime: use --engine onnx/);
    expectOneLineUsageError(mek('predict', '--device', 'cuda', '--ckpt', out, image), /the CUDA execution provider of ONNX Runtime is not installed or cannot start .*README "GPU setup"/);
    expectOneLineUsageError(mek('eval', '--device', 'cuda', '--engine', 'tfjs', '--ckpt', ckpt), /--device cuda runs on ONNX Runtime/);
  });
});

describe('the README\'s deployment example', () => {
  it('is examples/classify.mjs word for word, and gives mek predict\'s label', async () => {
    const example = readFileSync('examples/classify.mjs', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('```js\n' + example + '```');
    const out = join(root, 'deploy.onnx');
    expect(mek('export', '--ckpt', ckpt, '--out', out).code).toBe(0);
    // an image at the model's size: no resampling on either side
    const face = join(root, 'face56.png');
    const sharp = (await import('sharp')).default;
    await sharp(image).resize(56, 56, { fit: 'fill' }).png().toFile(face);
    const r = spawnSync(process.execPath, ['examples/classify.mjs', out, face], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(mek('predict', '--json', '--ckpt', out, face).stdout)[0].label);
  });
});
