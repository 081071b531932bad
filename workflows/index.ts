export { dossierWorkflow } from './dossier';
export { complianceCountsWorkflow, complianceSnapshotWorkflow, reconcileReadModelWorkflow } from './compliance';
