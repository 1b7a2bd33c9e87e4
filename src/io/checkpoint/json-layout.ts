// The checkpoint JSON as people read it: two-space JSON in which a list or object that fits on
// one line (shapes, manifest entries) takes one.
import { isRecord } from './guards.ts';

const JSON_WIDTH = 160;

/** JSON.stringify's output for `value`, laid out as the file comment describes. */
export function formatJson(value: unknown, indent = ''): string {
  if (isRecord(value) && typeof value['toJSON'] === 'function') value = (value['toJSON'] as () => unknown)();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((v) => formatJson(v, inner))
    : Object.entries(value)
        .filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
        .map(([k, v]) => `${JSON.stringify(k)}: ${formatJson(v, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  const line = `${open}${items.join(', ')}${close}`;
  if (!line.includes('\n') && indent.length + line.length <= JSON_WIDTH) return line;
  return `${open}\n${items.map((item) => inner + item).join(',\n')}\n${indent}${close}`;
}
