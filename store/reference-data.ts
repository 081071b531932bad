import type { Db } from 'mongodb';
import type { Agency, CalendarYear, Courier, DossierContext, Procedure, Tariff } from '../domain/types';
import { COLLECTIONS, isDuplicateKey } from './db';

type WithId<T> = T & { _id: string | number };

function strip<T>(doc: WithId<T> | null): T | null {
  if (!doc) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest as T;
}

/** A submission's reference data as `ReferenceData.dossierContext` reads them: a part not on file is null. */
export type DossierContextParts = { procedure: Procedure | null; agency: Agency | null; tariff: Tariff | null; calendar: CalendarYear[] };

/** The parts as a dossier's context when none is missing (the calendar's years may be: the deadlines then say so). */
export function completeContext(parts: DossierContextParts): DossierContext | undefined {
  const { procedure, agency, tariff, calendar } = parts;
  return procedure && agency && tariff ? { procedure, agency, tariff, calendar } : undefined;
}

/** The catalogue, agencies, couriers, tariff and working calendar, as admins maintain them. */
export class ReferenceData {
  constructor(private readonly db: Db) {}

  async procedure(code: string): Promise<Procedure | null> {
    return strip(await this.db.collection<WithId<Procedure>>(COLLECTIONS.procedures).findOne({ _id: code }));
  }
  async procedures(): Promise<Procedure[]> {
    const docs = await this.db.collection<WithId<Procedure>>(COLLECTIONS.procedures).find().sort({ _id: 1 }).toArray();
    return docs.map((d) => strip(d)!);
  }
  async putProcedure(p: Procedure): Promise<void> {
    await this.db.collection<WithId<Procedure>>(COLLECTIONS.procedures).replaceOne({ _id: p.code }, { ...p }, { upsert: true });
  }

  async agency(id: string): Promise<Agency | null> {
    return strip(await this.db.collection<WithId<Agency>>(COLLECTIONS.agencies).findOne({ _id: id }));
  }
  async agencies(): Promise<Agency[]> {
    const docs = await this.db.collection<WithId<Agency>>(COLLECTIONS.agencies).find().sort({ _id: 1 }).toArray();
    return docs.map((d) => strip(d)!);
  }
  async putAgency(a: Agency): Promise<void> {
    await this.db.collection<WithId<Agency>>(COLLECTIONS.agencies).replaceOne({ _id: a.id }, { ...a }, { upsert: true });
  }

  async courier(id: string): Promise<Courier | null> {
    return strip(await this.db.collection<WithId<Courier>>(COLLECTIONS.couriers).findOne({ _id: id }));
  }
  async couriers(): Promise<Courier[]> {
    const docs = await this.db.collection<WithId<Courier>>(COLLECTIONS.couriers).find().sort({ _id: 1 }).toArray();
    return docs.map((d) => strip(d)!);
  }
  async putCourier(c: Courier): Promise<void> {
    await this.db.collection<WithId<Courier>>(COLLECTIONS.couriers).replaceOne({ _id: c.id }, { ...c }, { upsert: true });
  }

  async tariff(): Promise<Tariff | null> {
    return strip(await this.db.collection<WithId<Tariff>>(COLLECTIONS.tariffs).findOne({ _id: 'current' }));
  }
  async putTariff(t: Tariff): Promise<void> {
    await this.db.collection<WithId<Tariff>>(COLLECTIONS.tariffs).replaceOne({ _id: 'current' }, { ...t }, { upsert: true });
  }

  /** A submission's reference data, read together. */
  async dossierContext(procedureCode: string, agencyId: string, years: number[]): Promise<DossierContextParts> {
    const [procedure, agency, tariff, calendar] = await Promise.all([this.procedure(procedureCode), this.agency(agencyId), this.tariff(), this.calendars(years)]);
    return { procedure, agency, tariff, calendar };
  }

  async calendar(year: number): Promise<CalendarYear | null> {
    return strip(await this.db.collection<WithId<CalendarYear>>(COLLECTIONS.calendars).findOne({ _id: year }));
  }
  async calendars(years: number[]): Promise<CalendarYear[]> {
    const docs = await this.db.collection<WithId<CalendarYear>>(COLLECTIONS.calendars).find({ _id: { $in: years } }).toArray();
    return docs.map((d) => strip(d)!).sort((a, b) => a.year - b.year);
  }
  async putCalendar(c: CalendarYear): Promise<void> {
    await this.db.collection<WithId<CalendarYear>>(COLLECTIONS.calendars).replaceOne({ _id: c.year }, { ...c }, { upsert: true });
  }

  /** Loads the shipped reference data where nothing is there yet (admins' edits win). */
  async seed(data: { procedures: Procedure[]; agencies: Agency[]; couriers: Courier[]; tariff: Tariff; calendars: CalendarYear[] }): Promise<number> {
    let inserted = 0;
    const insertMissing = async <T>(collection: string, docs: WithId<T>[]) => {
      for (const doc of docs) {
        // insertOne, not an upsert with $setOnInsert: FerretDB 1.x drops empty arrays from $setOnInsert.
        try {
          await this.db.collection<WithId<T>>(collection).insertOne(doc as never);
          inserted += 1;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
    };
    await insertMissing(COLLECTIONS.procedures, data.procedures.map((p) => ({ _id: p.code, ...p })));
    await insertMissing(COLLECTIONS.agencies, data.agencies.map((a) => ({ _id: a.id, ...a })));
    await insertMissing(COLLECTIONS.couriers, data.couriers.map((c) => ({ _id: c.id, ...c })));
    await insertMissing(COLLECTIONS.tariffs, [{ _id: 'current', ...data.tariff }]);
    await insertMissing(COLLECTIONS.calendars, data.calendars.map((c) => ({ _id: c.year, ...c })));
    return inserted;
  }
}
