/**
 * Starts and stops the local servers (FerretDB, the Temporal dev server) and
 * other child processes for `npm start` (scripts/start.ts), jest's global
 * setup and the benchmarks: one module a server, and the process helpers they
 * share.
 */
export * from './processes';
export { startFerretDB } from './ferretdb';
export { SEARCH_ATTRIBUTES, startTemporalDevServer } from './temporal-server';
