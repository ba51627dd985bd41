// Node 20 puts Symbol.dispose/asyncDispose on its main realm's Symbol only; Jest runs each test
// file in a vm context with a Symbol of its own, where `await using` would find neither.
const symbols = Symbol as unknown as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
symbols.dispose ??= Symbol.for('nodejs.dispose');
