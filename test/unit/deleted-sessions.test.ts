import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeletedSessions } from '../../src/server/deleted-sessions.js';
import { Session } from '../../src/server/state/session.js';
import type { Connection } from '../../src/server/connection.js';

const conn = (): Connection => ({ signingAlgorithmId: 1 }) as unknown as Connection;

function sessionWith(id: bigint, ...conns: Connection[]): Session {
  const s = new Session(id);
  s.signingAlgorithmId = 1;
  s.signingKey = Buffer.alloc(16, 7);
  for (const c of conns) s.channels.set(c, { connection: c, signingKey: Buffer.alloc(16, Number(id)) });
  return s;
}

test('deleted sessions keep a signer per channel until the connection closes', () => {
  const a = conn();
  const b = conn();
  const table = new DeletedSessions();
  table.remember(sessionWith(5n, a, b));
  assert.ok(table.signerFor(5n, a));
  assert.ok(table.signerFor(5n, b));
  assert.equal(table.signerFor(5n, conn()), undefined, 'not a channel of the session');
  assert.equal(table.signerFor(6n, a), undefined);
  table.forgetConnection(a);
  assert.equal(table.signerFor(5n, a), undefined);
  assert.ok(table.signerFor(5n, b));
});

test('deleted sessions: the oldest go beyond the limit', () => {
  const a = conn();
  const table = new DeletedSessions(2);
  for (const id of [1n, 2n, 3n]) table.remember(sessionWith(id, a));
  assert.equal(table.signerFor(1n, a), undefined);
  assert.ok(table.signerFor(2n, a));
  assert.ok(table.signerFor(3n, a));
});
