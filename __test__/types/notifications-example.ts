// Typings of o.subscribe() / o.events() (checked by tsc --noEmit with the rest of __test__/types).
import { TenantOrchestrator, type NotificationEvent, type NotificationSubscription } from '../../lib/index.js';

export async function notifications(o: TenantOrchestrator): Promise<number> {
  const ac = new AbortController();
  const sub: NotificationSubscription = await o.subscribe<{ seq: number }>(
    'acme',
    ['v2.users.x.presence'],
    (e: NotificationEvent<{ seq: number }>) => void e.eventBody.seq.toFixed(0),
    { signal: ac.signal },
  );
  await sub.add(['v2.users.y.presence']);
  await sub.remove(['v2.users.x.presence']);
  const lost: number = sub.dropped;
  await sub.close();
  let n = 0;
  for await (const e of o.events<{ seq: number }>('acme', ['v2.users.x.presence'])) {
    n += e.eventBody.seq + (e.tenantId === 'acme' ? 1 : 0) + Object.keys(e.metadata).length;
    if (n > 10) break;
  }
  // @ts-expect-error topics is an array of strings
  await o.subscribe('acme', 'v2.users.x.presence', () => {});
  return n + lost + o.events('acme', []).dropped;
}
