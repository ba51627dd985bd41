/**
 * An error a user can act on: it names the thing, the rule, the value and the fix.
 * The CLI prints `message` alone (no stack) and exits non-zero.
 */
export class LabError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message}. Try: ${fix}` : message);
    this.name = 'LabError';
  }
}

/** Several whole-model rule violations, reported together, each prefixed with where it is. */
export class LabValidationError extends LabError {
  constructor(readonly problems: readonly string[]) {
    super(`the lab model is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'LabValidationError';
  }
}

/** The lab answered, and the answer is no: a conformance check failed, or the lab is not healthy. Exit 1. */
export class ChecksFailed extends LabError {
  constructor(message: string) {
    super(message);
    this.name = 'ChecksFailed';
  }
}
