/**
 * Data sets that Python packages ship inside themselves. A competition whose test split comes from
 * one of them (digits-rotated, cancer-diagnosis) would be gameable if a method could reload it and
 * look its rows up, so untrusted competition runs see these folders empty (`hideBundledData`).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Folders, relative to a site-packages folder, that hold bundled data sets. */
export const BUNDLED_DATA_DIRS = [
  'sklearn/datasets/data',
  'sklearn/datasets/images',
  'sklearn/datasets/descr',
  'sklearn/datasets/tests/data',
  'matplotlib/mpl-data/sample_data',
  'scipy/datasets/_data',
  'statsmodels/datasets',
  'seaborn-data',
] as const;

/** Every existing bundled-data folder under the site-packages of the given installation prefixes. */
export function bundledDataFolders(prefixes: string[]): string[] {
  const found: string[] = [];
  for (const prefix of prefixes) {
    const lib = path.join(prefix, 'lib');
    let versions: string[] = [];
    try {
      versions = readdirSync(lib).filter((name) => /^python3(\.\d+)?$/.test(name));
    } catch {
      continue;
    }
    for (const version of versions) {
      for (const site of ['site-packages', 'dist-packages']) {
        for (const rel of BUNDLED_DATA_DIRS) {
          const dir = path.join(lib, version, site, rel);
          if (existsSync(dir)) found.push(dir);
        }
      }
    }
  }
  return found;
}
