// The zip container of torch.save files (the default since PyTorch 1.6): every record is
// stored uncompressed under one top-level folder (`archive/data.pkl`, `archive/data/0`, ...).
// fflate does the zip work; this module adds what a checkpoint reader needs on top: a check
// that every record holds the bytes the archive's directory claims (fflate returns a short
// record silently for a truncated file), and 64-byte aligned records on writing, as
// torch.save aligns them so that readers can map tensors in place.
import { unzipSync, zipSync, type UnzipFileInfo } from 'fflate';

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

const LOCAL_HEADER_BYTES = 30;
// torch.save stores every record uncompressed. A compressed record is read only if it cannot
// expand much: weights deflate to ~90% of their size, pickles to ~20%; 16x plus 1 MiB leaves
// room for both and refuses a 2 MB file that would inflate to gigabytes.
const MAX_EXPANSION = 16;
const EXPANSION_SLACK = 1 << 20;
const EXTRA_HEADER_BYTES = 4;
const ALIGNMENT = 64;
// PyTorch's own padding record id ("FB"); readers skip extra fields they do not know.
const PADDING_EXTRA_ID = 0x4246;
// A fixed timestamp keeps exported files byte-identical for identical weights.
const FIXED_MTIME = new Date(2000, 0, 1);

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Every record of a zip archive by name, each checked to hold the size the directory claims. */
export function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const claimed = new Map<string, number>();
  let records: Record<string, Uint8Array>;
  try {
    records = unzipSync(bytes, {
      filter: (file: UnzipFileInfo) => {
        if (file.compression !== 0 && file.originalSize > MAX_EXPANSION * file.size + EXPANSION_SLACK) {
          throw new ZipFormatError(
            `record ${file.name} claims ${file.originalSize} bytes from ${file.size} compressed: torch.save never compresses, and no checkpoint expands this much; refused`,
          );
        }
        claimed.set(file.name, file.originalSize);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ZipFormatError) throw err;
    throw new ZipFormatError(`not a readable zip archive, or truncated (${(err as Error).message})`);
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(records)) {
    const size = claimed.get(name);
    if (size !== data.length) {
      throw new ZipFormatError(`record ${name} holds ${data.length} bytes but the archive's directory claims ${size} (truncated file?)`);
    }
    out.set(name, data);
  }
  return out;
}

/** A zip archive of `records` (in order), stored uncompressed, each record's data 64-byte aligned. */
export function writeZip(records: [string, Uint8Array][]): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date; extra: Record<number, Uint8Array> }]> = {};
  let offset = 0;
  for (const [name, data] of records) {
    const nameBytes = new TextEncoder().encode(name).length;
    const unpadded = offset + LOCAL_HEADER_BYTES + nameBytes + EXTRA_HEADER_BYTES;
    const padding = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;
    files[name] = [data, { level: 0, mtime: FIXED_MTIME, extra: { [PADDING_EXTRA_ID]: new Uint8Array(padding) } }];
    offset = unpadded + padding + data.length;
  }
  return zipSync(files);
}
