/**
 * The compliance counts: the summary's figures and the deadline lists kept
 * ahead of time per due month, by one aggregator (docs/COMPLIANCE-PERFORMANCE.md).
 * - tables.ts: the collections and their stored documents;
 * - codec.ts: the key, lines and text tables those documents hold;
 * - changes.ts: what the projection and reconciliation write for the aggregator;
 * - planner.ts, reads.ts: the summary and the lists read from the counts;
 * - aggregator.ts: the single writer and its crash healing.
 */
export { COUNTS_COLLECTIONS, countsCollection, countsTables, type CountsState } from './tables';
export type { CountsKey, ListedDeadline } from './codec';
export { changeOf, countsReady, countsState, recordDeadlineChange, recordDeadlineChanges, requestCountsVerification, type CountedRecord } from './changes';
export { countsPathFor, monthsBetween, type CountsPath } from './planner';
export { countsAtRisk, countsOverdue, countsSummary } from './reads';
export { CountsAggregator, CountsConflictError, PASS_BATCH, type PassResult, type VerifyResult } from './aggregator';
