import assert from 'node:assert/strict';
import { test } from 'node:test';

import { median, spread } from './stats.mjs';

test('median of odd and even counts, ignoring what is not a number', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([NaN, 5, null, 7, undefined]), 6);
  assert.ok(Number.isNaN(median([])));
});

test('spread prints the median with the range over rounds', () => {
  assert.equal(spread([12.34, 10.01, 11.5], 1), '11.5 (10.0–12.3)');
  assert.equal(spread([2, 2.04], 1), '2.0');
  assert.equal(spread([NaN]), 'n/a');
});
