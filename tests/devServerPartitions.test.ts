import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devServerArgs, readPartitionsFor } from '../scripts/lib/devServer.js';
import { tempDir } from './helpers/temporal.js';

const dynamicConfig = (args: string[]) => args.filter((_, i) => args[i - 1] === '--dynamic-config-value');

describe('dev server task queue partitions', () => {
  it('a new database gets one partition, read and written, and is marked so its next start keeps it', () => {
    const db = path.join(tempDir('devdb'), 'temporal.db');
    expect(readPartitionsFor(db)).toBe(1);
    expect(existsSync(`${db}.one-partition`)).toBe(true);
    writeFileSync(db, '');
    expect(readPartitionsFor(db)).toBe(1);
    expect(dynamicConfig(devServerArgs({ port: 1, uiPort: 2, dbFile: db, readPartitions: 1 }))).toEqual(
      expect.arrayContaining(['matching.numTaskqueueWritePartitions=1', 'matching.numTaskqueueReadPartitions=1']),
    );
  });

  it('a database an older version made keeps reading 4 partitions, so tasks waiting in them still arrive', () => {
    const db = path.join(tempDir('devdb'), 'temporal.db');
    writeFileSync(db, '');
    expect(readPartitionsFor(db)).toBe(4);
    expect(existsSync(`${db}.one-partition`)).toBe(false);
    expect(dynamicConfig(devServerArgs({ port: 1, uiPort: 2, dbFile: db, readPartitions: 4 }))).toEqual(
      expect.arrayContaining(['matching.numTaskqueueWritePartitions=1', 'matching.numTaskqueueReadPartitions=4']),
    );
  });
});
