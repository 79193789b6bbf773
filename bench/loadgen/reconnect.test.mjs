import assert from 'node:assert/strict';
import { test } from 'node:test';

import { nextNode, reconnectDelay } from './reconnect.mjs';

test('reconnection delays double from 1 s to 5 s with ±50% jitter', () => {
  assert.equal(reconnectDelay(0, 0), 500);
  assert.equal(reconnectDelay(0, 1), 1500);
  assert.equal(reconnectDelay(1, 0.5), 2000);
  assert.equal(reconnectDelay(2, 0.5), 4000);
  assert.equal(reconnectDelay(9, 0.5), 5000);
});

test('the next node is another one, any of them, or the only one', () => {
  assert.equal(nextNode(0, 1, 0.9), 0);
  const seen = new Set();
  for (const r of [0, 0.49, 0.5, 0.99]) {
    const n = nextNode(0, 3, r);
    assert.notEqual(n, 0);
    seen.add(n);
  }
  assert.deepEqual([...seen].sort(), [1, 2]);
  assert.equal(nextNode(2, 3, 0), 0);
});
