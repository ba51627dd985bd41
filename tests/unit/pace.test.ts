import { PRODUCTS } from '../../generator/products';
import { paceFromName, parsePace, realProductOf, withPace } from '../../generator/products/pace';
import { sim, simApim470 } from '../../generator/products/sim';

describe("a stand-in at a JVM's pace", () => {
  test("is judged with its real product's timing, its boots WSO2's figures, its images its own with the pace in the tag", () => {
    const paced = withPace(sim, parsePace('jvm', undefined));
    const real = PRODUCTS['apim-4.3.0'];
    expect(realProductOf(sim).id).toBe('apim-4.3.0');
    expect(paced.timing).toEqual(real.timing);
    expect(paced.timing.bootSeconds).toEqual({ manager: 75, worker: 60, 'traffic-manager': 45 });
    expect(paced.timing).not.toEqual(sim.timing);
    expect(paced.roles.manager.image).toBe(`${sim.roles.manager.image}-jvm`);
    expect(paced.pace).toMatchObject({ name: 'jvm', from: { manager: sim.roles.manager.image } });
  });

  test("BOOT_S sets every role's boot and names the pace after it; the name reads back as the same choice", () => {
    const choice = parsePace('jvm', '20');
    const paced = withPace(simApim470, choice);
    expect(paced.timing.bootSeconds).toEqual({ manager: 20, worker: 20, 'traffic-manager': 20 });
    expect(paced.timing.rtoBoundMs).toBe(PRODUCTS['apim-4.7.0'].timing.rtoBoundMs);
    expect(paced.pace?.name).toBe('boot-20s');
    expect(paceFromName('boot-20s')).toEqual(choice);
    expect(paceFromName('jvm')).toEqual({ kind: 'jvm' });
    expect(paceFromName(undefined)).toEqual({ kind: 'native' });
    expect(() => paceFromName('boot-fast')).toThrow('which this carbon-labs does not know');
  });

  test('native is the stand-in itself; pacing twice changes nothing', () => {
    expect(withPace(sim, parsePace(undefined, undefined))).toBe(sim);
    const paced = withPace(sim, parsePace('jvm', undefined));
    expect(withPace(paced, parsePace('jvm', '30'))).toBe(paced);
  });
});
