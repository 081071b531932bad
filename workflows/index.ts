export { dossierWorkflow } from './dossier';
export { complianceCountsWorkflow } from './compliance-counts';
export { complianceSnapshotWorkflow, reconcileReadModelWorkflow } from './housekeeping';
