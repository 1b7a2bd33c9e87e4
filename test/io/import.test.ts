// PyTorch and safetensors checkpoints, read with no Python: every layout and dtype the
// reference script wrote (scripts/reference/make_checkpoints.py) loads to the logits PyTorch
// computed; files that cannot be used give one clear message naming the file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { CheckpointError } from '../../src/errors.ts';
import { exportModel } from '../../src/io/export.ts';
import { inferArchitecture } from '../../src/io/import/architecture.ts';
import { loadModel, type LoadedModel } from '../../src/io/import/load-model.ts';
import { canonicalNames } from '../../src/io/import/names.ts';
import { readWeightsFile } from '../../src/io/import/weights-file.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { ferForward } from '../../src/model/fer.ts';
import { SwinConstants } from '../../src/model/swin.ts';
import { expectOneLineError, rejectionOf } from '../helpers/errors.ts';
import { decode, decodeAll, maxDeviation, toleranceOf, variantFromFixture } from '../helpers/fixtures.ts';

const dir = fileURLToPath(new URL('../fixtures/torch/', import.meta.url));
const fixture = (name: string) => join(dir, name);
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8'));
const TOL = toleranceOf(expected);
const micro = expected.micro;
const knobs = expected.knobs;
const tmp = mkdtempSync(join(tmpdir(), 'mek-import-'));
const deviations: Record<string, number> = {};

/** A config describing the micro variant, with `extra` --set overrides. */
function microConfig(...extra: string[]): Config {
  return loadConfig(undefined, [
    'model.variant=swin_tiny_test',
    'model.img_size=28',
    'model.patch_size=2',
    'model.embed_dim=8',
    'model.depths=[2,2]',
    'model.num_heads=[1,2]',
    'model.window_size=7',
    ...extra,
  ]);
}

function logitsOf(model: LoadedModel, input: any): { logits: Float32Array; cams: Float32Array } {
  const consts = new SwinConstants(model.architecture);
  const x = decode(input);
  const out = tf.tidy(() => {
    const r = ferForward(model.store.params, tf.tensor(x.data, x.shape), consts, { training: false });
    return [r.logits.dataSync() as Float32Array, r.cams.dataSync() as Float32Array] as const;
  });
  consts.dispose();
  return { logits: out[0], cams: out[1] };
}

async function expectRejected(promise: Promise<unknown>, pattern: RegExp): Promise<string> {
  const { message } = expectOneLineError(await rejectionOf(promise), CheckpointError);
  expect(message).toMatch(pattern);
  return message;
}

beforeAll(async () => {
  await selectBackend('cpu');
});

afterAll(() => {
  console.log(`largest deviation from PyTorch per file: ${JSON.stringify(deviations)}`);
});

describe('files written by PyTorch load to PyTorch\'s logits', () => {
  const cases: [string, string][] = [
    ['micro_model.pt', 'logits'],
    ['micro_model_module.pt', 'logits'],
    ['micro_model_fp16.pt', 'logits_fp16'],
    ['micro_model_bf16.pt', 'logits_bf16'],
    ['micro_model_f64.pt', 'logits'],
    ['micro_model_p4.pt', 'logits'],
    ['micro_model_p5.pt', 'logits'],
    ['micro_views.pt', 'logits'],
    ['micro_model.safetensors', 'logits'],
  ];
  it.each(cases)('%s', async (file, key) => {
    const model = await loadModel(fixture(file), { purpose: 'use' });
    expect({ ...model.architecture, dropPathRate: 0 }).toEqual(variantFromFixture(micro.variant));
    const { logits, cams } = logitsOf(model, micro.input);
    const d = maxDeviation(logits, decode(micro[key]).data);
    deviations[file] = d;
    expect(d).toBeLessThan(TOL);
    if (key === 'logits') {
      expect(maxDeviation(cams, decode(micro.cams).data)).toBeLessThan(TOL);
      // float32 and float64 files hold the reference's float32 values exactly.
      const params = decodeAll(micro.params);
      const values = await model.store.values();
      for (const [name, v] of params) expect(Array.from(values.get(name)!), name).toEqual(Array.from(v));
    }
    model.store.dispose();
  });

  it('knobs_model.pt: the whole architecture comes from the file (no qkv bias, no patch norm, mlp 2, clamped window)', async () => {
    const model = await loadModel(fixture('knobs_model.pt'), { purpose: 'use' });
    expect({ ...model.architecture, dropPathRate: 0 }).toEqual(variantFromFixture(knobs.variant));
    expect(model.classes).toEqual(['class_0', 'class_1', 'class_2', 'class_3', 'class_4']);
    const { logits, cams } = logitsOf(model, knobs.input);
    deviations['knobs_model.pt'] = maxDeviation(logits, decode(knobs.logits).data);
    expect(deviations['knobs_model.pt']).toBeLessThan(TOL);
    expect(maxDeviation(cams, decode(knobs.cams).data)).toBeLessThan(TOL);
    model.store.dispose();
  });

  it('the release checkpoint layout: notes say which state dict was used and what was skipped', async () => {
    const model = await loadModel(fixture('micro_model.pt'), { purpose: 'use' });
    expect(model.notes.join('\n')).toMatch(/state_dict_model/);
    expect(model.notes.join('\n')).toMatch(/skipped \d+ stored buffers that mek recomputes/);
    expect(model.classes[0]).toBe('Surprise');
    model.store.dispose();
  });
});

describe('backbones and other layouts as training start points', () => {
  const encoderParams = () => [...decodeAll(micro.params)].filter(([n]) => n.startsWith('encoder.') && !n.startsWith('encoder.feature.'));

  it.each(['micro_backbone.pt', 'micro_ms.pth', 'micro_timm.safetensors'])('%s loads the encoder; the FER head starts fresh', async (file) => {
    const model = await loadModel(fixture(file), { purpose: 'init', config: microConfig() });
    const values = await model.store.values();
    for (const [name, v] of encoderParams()) expect(Array.from(values.get(name)!), `${file} ${name}`).toEqual(Array.from(v));
    const notes = model.notes.join('\n');
    expect(notes).toMatch(/no FER head in the file/);
    if (file !== 'micro_backbone.pt') expect(notes).toMatch(/skipped the ImageNet classifier .* 10 classes/);
    if (file === 'micro_timm.safetensors') expect(notes).toMatch(/timm layout/);
    model.store.dispose();
  });

  it('a backbone alone cannot predict', async () => {
    await expectRejected(loadModel(fixture('micro_backbone.pt'), { purpose: 'use' }), /micro_backbone\.pt: holds a backbone only .*model\.init/);
  });

  it('a different class count keeps the backbone and re-initialises the head for training, and is refused for use', async () => {
    const config = microConfig('data.classes=[a,b,c]');
    const model = await loadModel(fixture('micro_model.pt'), { purpose: 'init', config });
    expect(model.architecture.numClasses).toBe(3);
    expect(model.notes.join('\n')).toMatch(/head has 7 classes, the config 3: backbone loaded, head initialised fresh/);
    const values = await model.store.values();
    expect(Array.from(values.get('norm.weight')!)).toEqual(Array.from(decodeAll(micro.params).get('norm.weight')!));
    model.store.dispose();
    await expectRejected(loadModel(fixture('micro_model.pt'), { purpose: 'use', config }), /head has 7 classes, the config's data.classes 3/);
  });

  it('the image size is read from the stored attention masks, and unknown without them', () => {
    const withMasks = inferArchitecture(canonicalNames(readSafetensors(readFileSync(fixture('micro_model.safetensors')))).tensors);
    expect(withMasks.imgSize).toBe(28);
    const timm = inferArchitecture(canonicalNames(readSafetensors(readFileSync(fixture('micro_timm.safetensors')))).tensors);
    expect(timm.imgSize).toBeNull();
    expect(timm.variant.depths).toEqual([2, 2]);
    expect(timm.numClasses).toBeNull();
  });
});

describe('files mek refuses, with one line naming the file', () => {
  it('a pickle naming a global outside the allow-list (argparse.Namespace)', async () => {
    await expectRejected(loadModel(fixture('args.pt'), { purpose: 'use' }), /args\.pt: its pickle names argparse\.Namespace, which is not on mek's allow-list/);
  });

  it('the legacy (pre-1.6) torch.save format', async () => {
    await expectRejected(loadModel(fixture('legacy.pt'), { purpose: 'use' }), /legacy \(pre-1\.6\) torch\.save format/);
  });

  it.each(['micro_model.pt', 'micro_model.safetensors'])('a truncated %s', async (file) => {
    const bytes = readFileSync(fixture(file));
    for (const keep of [0.5, 0.99]) {
      const path = join(tmp, `cut-${keep}-${file}`);
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * keep)));
      await expectRejected(loadModel(path, { purpose: 'use' }), /truncated/);
    }
  });

  it('a different architecture than the config: the message says which --set values would fit', async () => {
    const config = loadConfig(undefined, ['model.variant=swin_tiny_test']);
    const message = await expectRejected(loadModel(fixture('micro_model.pt'), { purpose: 'init', config }), /was built with/);
    expect(message).toMatch(/--set model\.embed_dim=8/);
    expect(message).toMatch(/--set model\.depths=\[2,2\]/);
    expect(message).toMatch(/--set model\.img_size=28/);
  });

  it('a missing file, and a file of another kind', async () => {
    await expectRejected(loadModel(join(tmp, 'absent.pt'), { purpose: 'use' }), /absent\.pt: no such file/);
    const text = join(tmp, 'notes.pt');
    writeFileSync(text, 'hello');
    await expectRejected(loadModel(text, { purpose: 'use' }), /is not a checkpoint mek reads/);
  });
});

describe('export', () => {
  it.each(['out.pt', 'out.safetensors'])('%s holds the reference state dict (names, order, shapes, dtypes) and reloads to the same logits', async (name) => {
    const model = await loadModel(fixture('micro_model.pt'), { purpose: 'use' });
    const path = join(tmp, name);
    await exportModel(path, model.architecture, await model.store.values());
    const file = await readWeightsFile(path);
    const keys = [...file.tensors].map(([n, t]) => [n, t.shape]);
    const reference: [string, number[]][] = micro.state_dict_keys;
    if (name.endsWith('.pt')) expect(keys).toEqual(reference);
    else expect(new Set(keys.map((k) => JSON.stringify(k)))).toEqual(new Set(reference.map((k) => JSON.stringify(k))));
    for (const [n, t] of file.tensors) expect(t.dtype, n).toBe(micro.state_dict_dtypes[n]);
    const original = await readWeightsFile(fixture('micro_model.pt'));
    for (const [n, t] of original.tensors) expect(Array.from(file.tensors.get(n)!.values), n).toEqual(Array.from(t.values));
    const again = await loadModel(path, { purpose: 'use' });
    expect(Array.from(logitsOf(again, micro.input).logits)).toEqual(Array.from(logitsOf(model, micro.input).logits));
    model.store.dispose();
    again.store.dispose();
  });
});
