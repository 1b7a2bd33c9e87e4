// Checkpoint files from elsewhere on the command line: PyTorch .pt/.pth and safetensors files
// of the reference import, predict, evaluate and export; files mek cannot use, and weights
// that are not finite, are one line and exit 2.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.ts';
import { exportModel } from '../../src/io/export.ts';
import { initialValues, ParamStore } from '../../src/model/params.ts';
import { VARIANTS } from '../../src/model/variants.ts';
import { Rng } from '../../src/random.ts';
import { saveTestCheckpoint } from '../helpers/checkpoint.ts';
import { expectOneLineUsageError, spawnMekSync as mek } from '../helpers/cli.ts';
import { useCliWorkspace } from '../helpers/cli-workspace.ts';

const { root, data, image } = useCliWorkspace({ checkpoint: false });

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('PyTorch checkpoints from the command line: import, predict, eval, export', () => {
  // copies, so the ONNX export that eval and predict cache beside a checkpoint lands in the temp folder
  const torchFixture = (name: string) => {
    const copy = join(root, 'torch', name);
    if (!existsSync(copy)) cpSync(fileURLToPath(new URL(`../fixtures/torch/${name}`, import.meta.url)), copy);
    return copy;
  };

  it('predict on a release checkpoint (.pt, DDP prefix) equals predict on its import, and export round-trips', () => {
    const direct = mek('predict', '--ckpt', torchFixture('micro_model_module.pt'), '--json', image);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toMatch(/note: removed the DistributedDataParallel prefix 'module\.'/);
    const imported = join(root, 'imported', 'micro.json');
    const imp = mek('import', '--from', torchFixture('micro_model_module.pt'), '--out', imported);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/wrote .*micro\.json: Swin 28 px, patch 2, embed 8, depths \[2, 2\], 7 classes/);
    const viaJson = mek('predict', '--ckpt', imported, '--json', image);
    expect(JSON.parse(viaJson.stdout)[0].logits).toEqual(JSON.parse(direct.stdout)[0].logits);

    const exported = join(root, 'exported.pt');
    const exp = mek('export', '--ckpt', imported, '--out', exported);
    expect(exp.code, exp.stderr).toBe(0);
    const viaExport = mek('predict', '--ckpt', exported, '--json', image);
    expect(JSON.parse(viaExport.stdout)[0].logits).toEqual(JSON.parse(direct.stdout)[0].logits);
  });

  it('eval on a .pt with the default data settings: RAF-DB class names, a full report', () => {
    const r = mek('eval', '--ckpt', torchFixture('micro_model.pt'), '--json', '--set', `data.root=${data}`, '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).perClass.map((c: { name: string }) => c.name)[0]).toBe('Surprise');
  });

  it('unusable files are one line and exit 2', () => {
    expectOneLineUsageError(mek('predict', '--ckpt', torchFixture('args.pt'), image), /args\.pt: its pickle names argparse\.Namespace/);
    expectOneLineUsageError(mek('import', '--from', torchFixture('legacy.pt'), '--out', join(root, 'x.json')), /legacy \(pre-1\.6\) torch\.save format/);
    expectOneLineUsageError(mek('predict', '--ckpt', torchFixture('micro_backbone.pt'), image), /holds a backbone only/);
    expectOneLineUsageError(
      mek('predict', '--ckpt', torchFixture('micro_model.pt'), '--config', 'configs/demo.yaml', image),
      /micro_model\.pt: was built with model\.patch_size 2 \(config 4\).* would fit/,
    );
    const cut = join(root, 'cut.pt');
    writeFileSync(cut, readFileSync(torchFixture('micro_model.pt')).subarray(0, 5000));
    expectOneLineUsageError(mek('predict', '--ckpt', cut, image), /cut\.pt: .*truncated/);
    expectOneLineUsageError(mek('export', '--ckpt', torchFixture('micro_model.pt'), '--out', join(root, 'x.tflite')), /--out .*x\.tflite: the file name must end in \.pt, \.pth, \.safetensors, \.onnx/);
  });
});

describe('non-finite weights', () => {
  it('a checkpoint (mek, .pt or .safetensors) holding a NaN or an infinity is refused naming the tensor (exit 2)', async () => {
    const variant = VARIANTS.swin_tiny_test;
    const values = initialValues(variant, new Rng(3));
    values.get('head.weight')![5] = Number.NaN;
    const store = ParamStore.fromValues(variant, values);
    const nan = await saveTestCheckpoint(join(root, 'nan'), store);
    store.dispose();
    expectOneLineUsageError(mek('predict', '--ckpt', nan, image), /nan\/best\.json: head\.weight holds NaN \(element 5\): weights must be finite/);
    values.get('head.weight')![5] = 0;
    values.get('norm.bias')![0] = Number.POSITIVE_INFINITY;
    for (const ext of ['pt', 'safetensors']) {
      const file = join(root, `inf.${ext}`);
      await exportModel(file, variant, values);
      expectOneLineUsageError(mek('eval', '--ckpt', file, '--set', `data.root=${data}`, '--set', `data.label_file=${join(data, 'list_patition_label.txt')}`), /inf\.(pt|safetensors): norm\.bias holds Infinity \(element 0\)/);
    }
  });
});
