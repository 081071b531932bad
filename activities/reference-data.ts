import { ApplicationFailure } from '@temporalio/common';
import type { CalendarYear, DossierContext } from '../domain/types';
import type { ReferenceData } from '../store/reference-data';

/** Reference data reaches the workflow through activities, so replays see what the run saw. */
export function createReferenceDataActivities(refs: ReferenceData) {
  return {
    async loadDossierContext(input: { procedureCode: string; agencyId: string; years: number[] }): Promise<DossierContext> {
      const { procedure, agency, tariff, calendar } = await refs.dossierContext(input.procedureCode, input.agencyId, input.years);
      const missing = !procedure ? `procedure ${input.procedureCode}` : !agency ? `agency ${input.agencyId}` : !tariff ? 'tariff' : null;
      if (missing) throw ApplicationFailure.nonRetryable(`${missing} is not in the reference data`, 'ReferenceDataMissing');
      return { procedure: procedure!, agency: agency!, tariff: tariff!, calendar };
    },

    async loadCalendar(input: { years: number[] }): Promise<CalendarYear[]> {
      return refs.calendars(input.years);
    },
  };
}
