/**
 * The hallucination check of a foreign folder reads the integrity check's findings, as the judges
 * of a run do (a run's paper ends with them): the paper stored for the review gets the same
 * closing section, counts by verdict and the flagged result claims.
 */
import type { ReviewDocuments } from '../../common/reviews.js';
import type { ArtifactStore } from '../artifacts.js';
import { checkDocuments } from '../integrity/check/engine.js';
import { readPaperFolder } from '../integrity/check/folder.js';
import { INTEGRITY_HEADING, integritySection } from '../integrity/check/summary.js';

export async function withIntegrityEvidence(store: ArtifactStore, storeId: string, folder: string, docs: ReviewDocuments): Promise<ReviewDocuments> {
  if (!docs.paper) return docs;
  const paper = await store.getText(docs.paper);
  if (paper.includes(`## ${INTEGRITY_HEADING}`)) return docs;
  let section: string;
  try {
    section = integritySection(checkDocuments(await readPaperFolder(folder)), '`lab check` on the folder');
  } catch (err) {
    // Evidence the check could not give is said, not invented.
    section = `\n\n---\n\n## ${INTEGRITY_HEADING}\n\n> The integrity check could not run on this folder (${(err as Error).message}); no number was checked.\n`;
  }
  const name = docs.paper.path.split('/').pop()!.replace(/(\.\w+)?$/, '-with-integrity-check$1');
  return { ...docs, paper: await store.put(storeId, `inputs/${name}`, `${paper}${section}`, docs.paper.mediaType) };
}
