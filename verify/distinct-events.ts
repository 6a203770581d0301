/**
 * Copies of one event are harmless, contradictions are not: a relay may publish an outbox row
 * twice (a send whose acknowledgement was lost), and a consumer de-duplicates by event id, so
 * the checks count events by id and report an id whose copies differ in key or bytes.
 */
import type { Published } from './order-flow-model.ts';

/** The first copy of each event id, in topic order; every id published with different contents is a violation. */
export function distinctById<E>(published: ReadonlyArray<Published<E>>, idOf: (event: E) => string, violations: string[]): Array<Published<E>> {
  const first = new Map<string, Published<E>>();
  const contradicted = new Set<string>();
  for (const copy of published) {
    const id = idOf(copy.event);
    const seen = first.get(id);
    if (seen === undefined) first.set(id, copy);
    else if ((seen.key !== copy.key || seen.value !== copy.value) && !contradicted.has(id)) {
      contradicted.add(id);
      violations.push(`${id} was published twice with different contents`);
    }
  }
  return [...first.values()];
}
