import { inCliWords, speak, VIA_MAKE } from '../../generator/hints';

describe('hints in the words of the command the user ran', () => {
  test.each([
    [
      'PATTERN must be 1, 2 or 3 (got "7"). Try: make lab PATTERN=3',
      'generate',
      'PATTERN must be 1, 2 or 3 (got "7"). Try: carbon-labs generate --pattern 3',
    ],
    [
      'carbon-labs-sim-p3 is not running. Try: make lab PATTERN=3 PRODUCT=sim',
      'status',
      'carbon-labs-sim-p3 is not running. Try: carbon-labs up --pattern 3 --product sim',
    ],
    [
      'Try: make down NAME=a, remove x, then make lab PATTERN=3 PRODUCT=sim NAME=a (a free slot is chosen)',
      undefined,
      'Try: carbon-labs down --name a, remove x, then carbon-labs up --pattern 3 --product sim --name a (a free slot is chosen)',
    ],
    [
      '  Stop         make down PATTERN=1 PRODUCT=sim PACE=jvm BOOT_S=20',
      undefined,
      '  Stop         carbon-labs down --pattern 1 --product sim --pace jvm --boot-seconds 20',
    ],
    [
      '  Stop         make stop NAME=a  (kept: make start NAME=a brings it back)',
      undefined,
      '  Stop         carbon-labs stop --name a  (kept: carbon-labs start --name a brings it back)',
    ],
    [
      'Try: make lab PATTERN=2, or PATTERN=3, for two managers active/passive',
      undefined,
      'Try: carbon-labs up --pattern 2, or carbon-labs up --pattern 3, for two managers active/passive',
    ],
    ['Try: make lab PATTERN=N TARGET=swarm PUBLISH=1', undefined, 'Try: carbon-labs up --pattern N --target swarm --publish'],
    [
      'to say which lab. Try: make list (every lab on this engine, with its pattern and name)',
      'status',
      'to say which lab. Try: carbon-labs list (every lab on this engine, with its pattern and name)',
    ],
    // No CLI command is `make swarm`: it stays make's.
    ['Try: make swarm (a one-node swarm)', undefined, 'Try: make swarm (a one-node swarm)'],
  ])('%s (asked %s)', (text, asked, expected) => {
    expect(inCliWords(text, asked)).toBe(expected);
  });

  test("through make, make's words stay", () => {
    const text = 'Try: make lab PATTERN=3';
    expect(speak(text, 'generate', { [VIA_MAKE]: '1' })).toBe(text);
    expect(speak(text, 'generate', {})).toBe('Try: carbon-labs generate --pattern 3');
  });
});
