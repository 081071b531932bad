import { MongoClient, type Db } from 'mongodb';
import * as referenceData from '../../reference-data';
import { ensureIndexes } from '../../store/db';
import { ReferenceData } from '../../store/reference-data';

/** A fresh database on the run's FerretDB, with the shipped reference data loaded. */
export async function freshDatabase(label: string): Promise<{ client: MongoClient; db: Db; name: string }> {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('TEST_MONGODB_URI is not set: the jest global setup did not run');
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const name = `t_${label.replace(/[^A-Za-z0-9]/g, '_').slice(0, 20)}_${process.pid}_${Date.now().toString(36)}`;
  const db = client.db(name);
  await ensureIndexes(db);
  await new ReferenceData(db).seed(structuredClone(referenceData));
  return { client, db, name };
}
