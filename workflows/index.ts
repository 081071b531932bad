export { dossierWorkflow } from './dossier';
export { complianceSnapshotWorkflow, reconcileReadModelWorkflow } from './compliance';
