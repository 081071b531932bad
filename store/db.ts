import { MongoBulkWriteError, MongoClient, MongoServerError, type Db } from 'mongodb';
import { installDriverFix } from './driver-fix';

/** Collection names, in one place. */
export const COLLECTIONS = {
  dossiers: 'dossiers',
  deadlines: 'deadlines',
  courierJobs: 'courier_jobs',
  ledger: 'ledger',
  outbox: 'outbox',
  handoffs: 'handoffs',
  procedures: 'procedures',
  agencies: 'agencies',
  couriers: 'couriers',
  tariffs: 'tariffs',
  calendars: 'calendars',
  /** The local days that hold dossiers (store/dossier-list.ts). */
  dossierDays: 'dossier_days',
  /** The local hours that hold dossiers, by day (store/dossier-list.ts). */
  dossierHours: 'dossier_hours',
  /** Markers of one-off read-model migrations. */
  readModelMeta: 'read_model_meta',
} as const;

/** Bounds of the read model's client (config MONGODB_*). */
export interface MongoBounds {
  maxPoolSize: number;
  waitQueueTimeoutMS: number;
  serverSelectionTimeoutMS: number;
  socketTimeoutMS: number;
}

export const DEFAULT_MONGO_BOUNDS: MongoBounds = { maxPoolSize: 10, waitQueueTimeoutMS: 5000, serverSelectionTimeoutMS: 5000, socketTimeoutMS: 60000 };

export function mongoBounds(config: {
  MONGODB_MAX_POOL_SIZE: number;
  MONGODB_WAIT_QUEUE_TIMEOUT_MS: number;
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: number;
  MONGODB_SOCKET_TIMEOUT_MS: number;
}): MongoBounds {
  return {
    maxPoolSize: config.MONGODB_MAX_POOL_SIZE,
    waitQueueTimeoutMS: config.MONGODB_WAIT_QUEUE_TIMEOUT_MS,
    serverSelectionTimeoutMS: config.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    socketTimeoutMS: config.MONGODB_SOCKET_TIMEOUT_MS,
  };
}

/**
 * A client whose pool is bounded: the read model (FerretDB on SQLite, one
 * writer) only slows down with more connections, and a connection count that
 * grows with load is how the sustained-load stall began. With the driver
 * fix of store/driver-fix.ts (its monitor could stop for good after a server kill).
 */
export function boundedMongoClient(uri: string, bounds: MongoBounds = DEFAULT_MONGO_BOUNDS): MongoClient {
  installDriverFix();
  return new MongoClient(uri, {
    maxPoolSize: bounds.maxPoolSize,
    waitQueueTimeoutMS: bounds.waitQueueTimeoutMS,
    serverSelectionTimeoutMS: bounds.serverSelectionTimeoutMS,
    socketTimeoutMS: bounds.socketTimeoutMS,
    connectTimeoutMS: Math.min(5000, bounds.serverSelectionTimeoutMS),
  });
}

export async function connectMongo(uri: string, dbName: string, bounds?: MongoBounds): Promise<{ client: MongoClient; db: Db }> {
  const client = boundedMongoClient(uri, bounds);
  await client.connect();
  return { client, db: client.db(dbName) };
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/** A bulk write's per-statement errors (the driver gives one as itself, several as an array). */
export function writeErrors(err: MongoBulkWriteError): { index: number; code: number }[] {
  const e = err.writeErrors as unknown;
  return Array.isArray(e) ? e : e ? [e as { index: number; code: number }] : [];
}

/** A bulk write that failed only on duplicate keys (a retry, or a racing first insert). */
export function onlyDuplicateKeys(err: unknown): err is MongoBulkWriteError {
  if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) return false;
  const errors = writeErrors(err);
  return errors.length > 0 && errors.every((e) => e.code === 11000);
}

const INDEXES: { collection: string; key: Record<string, 1 | -1>; name: string }[] = [
  { collection: COLLECTIONS.dossiers, key: { agencyId: 1, submittedAt: -1 }, name: 'agency_submitted' },
  { collection: COLLECTIONS.dossiers, key: { status: 1, submittedAt: -1 }, name: 'status_submitted' },
  { collection: COLLECTIONS.dossiers, key: { submittedAt: -1, _id: -1 }, name: 'submitted' },
  { collection: COLLECTIONS.dossiers, key: { courierIds: 1 }, name: 'couriers' },
  // List pages: one bucket key per filter combination, each walked by equality (store/dossier-list.ts).
  { collection: COLLECTIONS.dossiers, key: { listHour: 1 }, name: 'list_hour' },
  { collection: COLLECTIONS.dossiers, key: { listAgencyDay: 1 }, name: 'list_agency_day' },
  { collection: COLLECTIONS.dossiers, key: { listStatusDay: 1 }, name: 'list_status_day' },
  { collection: COLLECTIONS.dossiers, key: { listAgencyStatusDay: 1 }, name: 'list_agency_status_day' },
  { collection: COLLECTIONS.dossiers, key: { listProcedureDay: 1 }, name: 'list_procedure_day' },
  // Reconciliation: a list hour's deadline docs, and the hours of a day that hold dossiers (store/reconcile.ts).
  { collection: COLLECTIONS.deadlines, key: { listHour: 1 }, name: 'list_hour' },
  { collection: COLLECTIONS.dossierHours, key: { day: 1 }, name: 'day' },
  { collection: COLLECTIONS.deadlines, key: { dueDay: 1, agencyId: 1 }, name: 'due_day_agency' },
  { collection: COLLECTIONS.deadlines, key: { state: 1, dueAt: 1 }, name: 'state_due' },
  { collection: COLLECTIONS.deadlines, key: { dossierCode: 1 }, name: 'dossier' },
  { collection: COLLECTIONS.courierJobs, key: { courierId: 1, status: 1 }, name: 'courier_status' },
  // A courier's open jobs: FerretDB searches on the first key only, and the open jobs stay
  // few while a courier's jobs grow with every dossier (api/routes/courier-jobs.ts).
  { collection: COLLECTIONS.courierJobs, key: { status: 1, courierId: 1 }, name: 'status_courier' },
  { collection: COLLECTIONS.courierJobs, key: { dossierCode: 1 }, name: 'dossier' },
  // A courier's open jobs, by the key only open jobs carry (store/courier-jobs.ts).
  { collection: COLLECTIONS.courierJobs, key: { openCourierId: 1 }, name: 'open_courier' },
  { collection: COLLECTIONS.ledger, key: { dossierCode: 1 }, name: 'dossier' },
  { collection: COLLECTIONS.outbox, key: { dossierCode: 1 }, name: 'dossier' },
  // Compliance: the overdue list filtered by agency, oldest first.
  { collection: COLLECTIONS.deadlines, key: { state: 1, agencyId: 1, dueAt: 1 }, name: 'state_agency_due' },
];

/**
 * Indexes that serve the API's reads. One createIndex call per index:
 * FerretDB 1.24 panics on a multi-index createIndexes whose indexes already exist.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const { collection, key, name } of INDEXES) {
    await db.collection(collection).createIndex(key, { name });
  }
}
