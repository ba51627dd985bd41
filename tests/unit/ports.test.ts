import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { clip, formatPortList, labPortRanges, mergeRanges, parsePortList, reserveLabPorts } from '../../generator/runtime/ports';

const inside = (port: number, ranges: ReturnType<typeof labPortRanges>) => ranges.some((r) => r.first <= port && port <= r.last);

describe('the labs host ports kept out of the kernel choice of local ports', () => {
  test('ranges are parsed, joined when they meet, and written as the kernel reads them', () => {
    expect(parsePortList('8080, 40098-40099,,')).toEqual([
      { first: 8080, last: 8080 },
      { first: 40098, last: 40099 },
    ]);
    expect(() => parsePortList('80-')).toThrow('not a port');
    expect(formatPortList(mergeRanges(parsePortList('10-12,13,20,15-16,11')))).toBe('10-13,15-16,20');
    expect(clip(parsePortList('30000-33000,40000,61000-62000'), { first: 32768, last: 60999 })).toEqual(parsePortList('32768-33000,40000'));
  });

  test('every host port of every committed lab is one of them', () => {
    const ranges = labPortRanges();
    const ports: number[] = [];
    for (const product of readdirSync('labs'))
      for (const pattern of readdirSync(join('labs', product))) {
        const env = join('labs', product, pattern, '.env');
        if (!existsSync(env)) continue;
        for (const m of readFileSync(env, 'utf8').matchAll(/^\w+_PORT=(\d+)$/gm)) ports.push(Number(m[1]));
      }
    expect(ports.length).toBeGreaterThan(100);
    expect(ports.filter((p) => !inside(p, ranges))).toEqual([]);
    // A named lab of the last slot, at its largest, too; and not the ports between a block's listeners.
    expect(inside(64443, ranges) && inside(64353, ranges) && !inside(64300, ranges) && !inside(64100, ranges)).toBe(true);
  });

  test('adds the labs ports inside the ephemeral range to those reserved, keeps the rest, and writes nothing twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ports-'));
    const files = { reserved: join(dir, 'reserved'), ephemeral: join(dir, 'range') };
    writeFileSync(files.ephemeral, '32768\t60999\n');
    writeFileSync(files.reserved, '8080,44300\n');
    const dry = reserveLabPorts({ ...files, dryRun: true });
    expect(readFileSync(files.reserved, 'utf8')).toBe('8080,44300\n');
    const first = reserveLabPorts(files);
    expect(first).toEqual(dry);
    const written = parsePortList(readFileSync(files.reserved, 'utf8'));
    expect(written[0]).toEqual({ first: 8080, last: 8080 });
    expect(inside(44300, written) && inside(44314, written) && inside(33443, written)).toBe(true);
    // Below and above the ephemeral range: not the kernel's to hand out, not written.
    expect(inside(22443, written) || inside(61443, written)).toBe(false);
    expect(first.added).toBeGreaterThan(300);
    expect(reserveLabPorts(files).added).toBe(0);
  });
});
