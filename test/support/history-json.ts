/**
 * History <-> proto3 JSON (the format of `temporal workflow show --output json`).
 *
 * `@temporalio/common/lib/proto-utils` cannot be used as is in this install:
 * `@temporalio/common` and `@temporalio/proto` each carry their own copy of
 * protobufjs 8, and protojson's `toJson`/`fromJson` from one copy reject the
 * message types of the other ("type must be a Type"). Here both come from the
 * copy `@temporalio/proto` is built with.
 */
import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protojson = createRequire(require.resolve('@temporalio/proto/package.json'))('protobufjs/ext/protojson') as ProtoJson;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const historyType = (patchProtobufRoot(proto) as any).lookupType('temporal.api.history.v1.History');

export function historyToJSON(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJSON(json: unknown): History {
  const loaded = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!loaded) throw new TypeError('invalid history JSON');
  return loaded as History;
}

/** An event of a history in proto3 JSON, as far as `historyFacts` reads it. */
type JsonEvent = {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  markerRecordedEventAttributes?: { markerName: string; details: Record<string, { payloads: { data: string }[] }> };
};

/** A history's events (proto3 JSON), with what its markers and scheduled activities say (of all events, or of `among`). */
export function historyFacts(json: unknown) {
  const { events } = json as { events: JsonEvent[] };
  const markers = (among: JsonEvent[], name: string, key: string) =>
    among.flatMap((e) => (e.markerRecordedEventAttributes?.markerName === name ? [JSON.parse(Buffer.from(e.markerRecordedEventAttributes.details[key]!.payloads[0]!.data, 'base64').toString('utf8')) as Record<string, unknown>] : []));
  return {
    events,
    /** The events up to the end of the first workflow task (its commands included). */
    firstTask: events.slice(0, events.findIndex((e, i) => i > 1 && e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED')),
    patches: (among = events) => markers(among, 'core_patch', 'patch-data').map((d) => d.id as string),
    localActivities: (among = events) => markers(among, 'core_local_activity', 'data').map((d) => d.activity_type as string),
    queued: events.map((e) => e.activityTaskScheduledEventAttributes?.activityType.name).filter((n): n is string => n !== undefined),
  };
}
