// Assembles the hand-written WebAssembly kernels (src/kernels/*.wat) into the .wasm files
// committed beside them, with wabt (a devDependency: nothing here runs when mek runs).
//   npm run build:kernels
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KERNEL_SOURCES = ['batch-matmul.wat'] as const;

/** The binary for one .wat source: SIMD and bulk memory on, no names section. */
export async function assemble(name: string, text: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const module = wabt.parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    module.validate();
    return module.toBinary({ canonicalize_lebs: true, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

export function kernelPath(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const source of KERNEL_SOURCES) {
    const bytes = await assemble(source, readFileSync(kernelPath(source), 'utf8'));
    const target = source.replace(/\.wat$/, '.wasm');
    writeFileSync(kernelPath(target), bytes);
    console.log(`${target}: ${bytes.length} bytes`);
  }
}
