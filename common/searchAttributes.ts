import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes, registered by `lab server` and upserted as a run moves. */
export const LAB_TASK = defineSearchAttributeKey('LabTask', SearchAttributeType.KEYWORD);
export const LAB_MODEL = defineSearchAttributeKey('LabModel', SearchAttributeType.KEYWORD);
export const LAB_STAGE = defineSearchAttributeKey('LabStage', SearchAttributeType.KEYWORD);
export const LAB_STATUS = defineSearchAttributeKey('LabStatus', SearchAttributeType.KEYWORD);

/** The benchmark a run or review belongs to, so the UI and `lab report` find a batch's children. */
export const LAB_BENCH = defineSearchAttributeKey('LabBench', SearchAttributeType.KEYWORD);
/** What a workflow is for: `research`, `review:<kind>`, `benchmark`. */
export const LAB_KIND = defineSearchAttributeKey('LabKind', SearchAttributeType.KEYWORD);

export const LAB_SEARCH_ATTRIBUTES = [LAB_TASK, LAB_MODEL, LAB_STAGE, LAB_STATUS, LAB_BENCH, LAB_KIND];
