/** Loads the shipped reference data (calendars, procedures, agencies, couriers, tariff) where absent. */
import { ConfigError, loadConfig } from '../config/config';
import * as referenceData from '../reference-data';
import { connectMongo, ensureIndexes } from '../store/db';
import { ReferenceData } from '../store/reference-data';

async function main(): Promise<void> {
  const env = { ...process.env, AUTH_JWT_SECRET: process.env.AUTH_JWT_SECRET ?? 'x'.repeat(32) };
  const config = loadConfig(env);
  const { client, db } = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  try {
    await ensureIndexes(db);
    const inserted = await new ReferenceData(db).seed(structuredClone(referenceData));
    console.log(inserted ? `seed: loaded ${inserted} reference records` : 'seed: reference data already present');
  } finally {
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `seed: ${(err as Error).message}`);
  process.exit(1);
});
