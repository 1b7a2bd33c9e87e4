// The ONNX export: the graph written from mek's named parameters, run by onnxruntime-node,
// against the PyTorch reference's golden logits and CAMs and against mek's own tfjs graph;
// the metadata a deployment reads; and what a bad .onnx file gets.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { onnxInfo } from '../../src/infer/select.ts';
import { toNchw } from '../../src/infer/onnx.ts';
import { decodeModel } from '../../src/io/onnx/graph.ts';
import { loadModel } from '../../src/io/import/load-model.ts';
import { onnxModel } from '../../src/io/onnx/export.ts';
import { classPrior } from '../../src/mek/prior.ts';
import { Model } from '../../src/model/model.ts';
import { ParamStore } from '../../src/model/params.ts';
import { VARIANTS, type SwinVariant } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { decode, decodeAll, loadFixture, maxDeviation, toleranceOf, variantFromFixture } from '../helpers/fixtures.ts';

// ONNX Runtime against mek's own tfjs graph: both float32, summing in different orders. Against
// PyTorch, each fixture's own tolerance applies.
const AGREEMENT = 1e-4;
const META = { classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], preprocessing: { imageSize: 56, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear' as const }, version: 'test', source: 'test' };

beforeAll(async () => {
  await selectBackend('wasm');
});

/** logits and cams of the exported graph for NHWC `input`. */
async function runOnnx(variant: SwinVariant, values: Map<string, Float32Array>, input: Float32Array, n: number) {
  const bytes = onnxModel(variant, values, { ...META, classes: Array.from({ length: variant.numClasses }, (_, i) => `c${i}`), preprocessing: { ...META.preprocessing, imageSize: variant.imgSize } });
  const session = await ort.InferenceSession.create(bytes);
  const s = variant.imgSize;
  const out = await session.run({ image: new ort.Tensor('float32', toNchw(input, n, s), [n, 3, s, s]) });
  await session.release();
  return { logits: out['logits']!.data as Float32Array, cams: out['cams']!.data as Float32Array, bytes };
}

async function runTfjs(variant: SwinVariant, values: Map<string, Float32Array>, input: Float32Array, n: number) {
  const model = Model.fromValues(variant, values);
  const x = tf.tensor4d(input, [n, variant.imgSize, variant.imgSize, 3]);
  const out = model.infer(x, 16);
  const result = { logits: (await out.logits.data()) as Float32Array, cams: (await out.cams.data()) as Float32Array };
  tf.dispose([x, out.logits, out.cams]);
  model.dispose();
  return result;
}

describe('the exported ONNX graph through onnxruntime-node', () => {
  for (const name of ['golden_tiny.json', 'golden_knobs.json']) {
    it(`${name}: logits and CAMs equal the PyTorch reference within the fixture's tolerance, and mek's tfjs graph within ${AGREEMENT}`, async () => {
      const fixture = loadFixture(name);
      const tol = toleranceOf(fixture);
      const variant = variantFromFixture(fixture.variant);
      const stored = decodeAll(fixture.params);
      // buffers mek recomputes are not in the fixture's params; the store needs every stored entry
      const values = ParamStore.fromValues(variant, new Map([...(await ParamStore.init(variant, new Rng(0)).values()), ...stored]));
      const all = await values.values();
      values.dispose();
      const input = decode(fixture.input);
      const n = input.shape[0]!;
      const onnx = await runOnnx(variant, all, input.data, n);
      const ours = await runTfjs(variant, all, input.data, n);
      expect(maxDeviation(onnx.logits, decode(fixture.logits).data)).toBeLessThan(tol);
      expect(maxDeviation(onnx.cams, decode(fixture.cams).data)).toBeLessThan(tol);
      expect(maxDeviation(onnx.logits, ours.logits)).toBeLessThan(AGREEMENT);
      expect(maxDeviation(onnx.cams, ours.cams)).toBeLessThan(AGREEMENT);
    });
  }

  it('a PyTorch release checkpoint (.pt) exported to ONNX gives the logits and CAMs PyTorch computed on it', async () => {
    const path = fileURLToPath(new URL('../fixtures/torch/micro_model.pt', import.meta.url));
    const expected = JSON.parse(readFileSync(new URL('../fixtures/torch/expected.json', import.meta.url), 'utf8'));
    const { micro } = expected;
    const tol = toleranceOf(expected);
    const model = await loadModel(path, { purpose: 'use' });
    const values = await model.store.values();
    model.store.dispose();
    const input = decode(micro.input);
    const onnx = await runOnnx(model.architecture, values, input.data, input.shape[0]!);
    expect(maxDeviation(onnx.logits, decode(micro.logits).data)).toBeLessThan(tol);
    expect(maxDeviation(onnx.cams, decode(micro.cams).data)).toBeLessThan(tol);
  });

  it(`the demo model and a full Swin-T (one image, a smoke check) equal the tfjs graph within ${AGREEMENT}, at any batch size`, async () => {
    for (const variant of [{ ...VARIANTS.swin_demo, numClasses: 7 }, { ...VARIANTS.swin_t, numClasses: 7 }]) {
      const rng = new Rng(4);
      const values = await (async () => {
        const s = ParamStore.init(variant, rng);
        const v = await s.values();
        s.dispose();
        // larger weights than the initialisation, so the outputs carry signal
        for (const [k, a] of v) if (!k.includes('norm')) for (let i = 0; i < a.length; i++) a[i]! += 0.03 * rng.normal();
        return v;
      })();
      const n = variant.imgSize > 100 ? 1 : 3;
      const input = Float32Array.from({ length: n * variant.imgSize ** 2 * 3 }, () => rng.normal());
      const onnx = await runOnnx(variant, values, input, n);
      const ours = await runTfjs(variant, values, input, n);
      expect(maxDeviation(onnx.logits, ours.logits)).toBeLessThan(AGREEMENT);
      expect(maxDeviation(onnx.cams, ours.cams)).toBeLessThan(AGREEMENT);
    }
  }, 120_000);

  it('writes what a deployment needs in the metadata; an .onnx without it, or not ONNX at all, is one line', async () => {
    const variant = { ...VARIANTS.swin_tiny_test, numClasses: 7 };
    const s = ParamStore.init(variant, new Rng(1));
    const values = await s.values();
    s.dispose();
    const prior = classPrior([10, 2, 5, 40, 20, 6, 25], 'shuffle');
    const bytes = onnxModel(variant, values, { ...META, prior, posthocTau: 0.5 });
    const model = decodeModel(bytes);
    expect(Number(model.opsetImport[0]!.version)).toBe(17);
    expect(model.producerName).toBe('mek');
    const info = onnxInfo('m.onnx', bytes);
    expect(info.classes).toEqual(META.classes);
    expect(info.preprocessing).toEqual(META.preprocessing);
    expect(info.grid).toBe(7);
    expect(info.prior!.probabilities).toEqual(prior.probabilities);
    expect(info.posthoc!.tau).toBe(0.5);
    expect(() => onnxInfo('junk.onnx', Uint8Array.from([8, 255, 255, 255, 255, 255]))).toThrow(/^junk\.onnx: not a readable ONNX file/);
    model.metadataProps = [];
    const foreign = onnxProto.onnx.ModelProto.encode(model).finish();
    expect(() => onnxInfo('foreign.onnx', foreign)).toThrow(/^foreign\.onnx: not a model exported by mek \(no mek\.classes metadata/);
  });
});
