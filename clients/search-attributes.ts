/**
 * The custom search attributes the dossier workflow sets, derived from their
 * one definition (`searchAttributes` in workflows/messages.ts) in the shapes
 * the servers take: the CLI's type names (`temporal server start-dev
 * --search-attribute`, `temporal operator search-attribute create`; the
 * compose file's list is checked against these by
 * test/unit/docker-compose.test.ts) and the operator API's indexed value types.
 */
import { temporal } from '@temporalio/proto';
import type { SearchAttributeType } from '@temporalio/common';
import { searchAttributes } from '../workflows/messages';

/** `KEYWORD_LIST` → `KeywordList`, as the CLI spells the types. */
function cliTypeName(type: SearchAttributeType): string {
  return type
    .split('_')
    .map((word) => word[0]! + word.slice(1).toLowerCase())
    .join('');
}

/** Name → CLI type name, e.g. `{ DossierStatus: 'Keyword', NextDueAt: 'Datetime' }`. */
export const SEARCH_ATTRIBUTES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(searchAttributes).map((key) => [key.name, cliTypeName(key.type)]),
);

/** Name → `temporal.api.enums.v1.IndexedValueType`, for `operatorService.addSearchAttributes`. */
export const SEARCH_ATTRIBUTE_INDEXED_TYPES: Readonly<Record<string, temporal.api.enums.v1.IndexedValueType>> = Object.fromEntries(
  Object.values(searchAttributes).map((key) => [key.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
);
