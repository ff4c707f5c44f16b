// Outbound webhooks in tests: a real HTTP receiver on loopback that verifies every request with
// the `standardwebhooks` library (as a subscriber would), subscriptions made the way the CLI
// makes them, and the delivery options the worker uses, allowing loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createSubscription } from '../../core/outbound.ts';
import { guardedAgent, parseAllowCidrs } from '../../core/outboundAddress.ts';
import type { OutboundPolicy } from '../../core/outboundSubscriptions.ts';
import type { OutboundDeliverOptions } from '../../worker/outbound/deliver.ts';
import { testMasterKey } from './server.ts';

export const LOOPBACK_POLICY: OutboundPolicy = { allowHttp: true, allowCidrs: parseAllowCidrs('127.0.0.0/8,::1/128') };

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** which of the receiver's secrets verified it (standardwebhooks' Webhook.verify), by index; -1: none */
  verifiedBy: number[];
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** never answer (a receiver that hangs) */
  hang?: boolean;
}

export interface TestReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** the secrets requests are verified with */
  secrets: string[];
  /** what to answer the next requests (default 200) */
  answer: (req: ReceivedRequest) => Answer;
  close(): Promise<void>;
}

export async function startReceiver(secrets: string[] = []): Promise<TestReceiver> {
  const receiver: TestReceiver = {
    url: '',
    requests: [],
    secrets,
    answer: () => ({ status: 200, body: 'ok' }),
    close: async () => {},
  };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verifiedBy: number[] = [];
      receiver.secrets.forEach((secret, i) => {
        try {
          new Webhook(secret).verify(body, req.headers as Record<string, string>);
          verifiedBy.push(i);
        } catch {
          // not signed with this one
        }
      });
      const received: ReceivedRequest = { path: req.url ?? '', headers: req.headers, body, verifiedBy, at: Date.now() };
      receiver.requests.push(received);
      const answer = receiver.answer(received);
      if (answer.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => {
    for (const res of hanging) res.destroy();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return receiver;
}

export async function makeSubscription(pool: pg.Pool, tenantSlug: string, input: Record<string, unknown>) {
  const client = await pool.connect();
  try {
    return await createSubscription(client, Buffer.from(testMasterKey, 'base64'), LOOPBACK_POLICY, tenantSlug, input);
  } finally {
    client.release();
  }
}

/** What the worker passes to deliverOutbound, allowing loopback; close the agent after. */
export function deliverOptions(overrides: Partial<OutboundDeliverOptions> = {}): OutboundDeliverOptions {
  return {
    masterKey: Buffer.from(testMasterKey, 'base64'),
    agent: guardedAgent(LOOPBACK_POLICY.allowCidrs),
    allowCidrs: LOOPBACK_POLICY.allowCidrs,
    allowHttp: true,
    timeoutMs: 15_000,
    disableAfterHours: 120,
    ...overrides,
  };
}

/** The outbound_deliver job of a delivery (graphile_worker.jobs), or undefined. */
export async function deliverJob(pool: pg.Pool, deliveryId: string) {
  const { rows } = await pool.query(`select id, run_at, attempts, locked_at from graphile_worker.jobs where key = $1`, [`outbound_delivery:${deliveryId}`]);
  return rows[0] as { id: string; run_at: Date; attempts: number; locked_at: Date | null } | undefined;
}
