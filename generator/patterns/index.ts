import { LabError } from '../errors';
import type { LabSpec, PatternId } from '../model/lab';
import { PATTERN_IDS } from '../model/lab';
import type { PatternProps } from './common';
export type { PatternProps } from './common';
export { parseLabName, projectName } from './common';
export { parseManagers, parseWorkers, WORKER_COUNTS } from './scale';
import { pattern1 } from './pattern-1';
import { pattern2 } from './pattern-2';
import { pattern3 } from './pattern-3';

export const PATTERNS: Readonly<Record<PatternId, (props: PatternProps) => LabSpec>> = {
  1: pattern1,
  2: pattern2,
  3: pattern3,
};

/** Parses a user's PATTERN value; the error names the rule, the value and the fix. */
export function parsePattern(value: string | number | undefined): PatternId {
  const text = String(value ?? '').trim();
  const n = Number(text);
  if (text === '' || !PATTERN_IDS.includes(n as PatternId)) {
    throw new LabError(`PATTERN must be 1, 2 or 3 (got "${text}")`, 'make lab PATTERN=3');
  }
  return n as PatternId;
}

export function buildLab(pattern: PatternId, props: PatternProps): LabSpec {
  return PATTERNS[pattern](props);
}
