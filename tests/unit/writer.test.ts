import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { LabSpec } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { MANIFEST, synthLab } from '../../generator/synth/writer';
import { tempDir } from '../support/labs';

describe('the writer', () => {
  const lab = buildLab(2, { product: sim });

  test('writes a new lab with a manifest of every generated file, and an executable db init', () => {
    const dir = join(tempDir(), 'lab');
    const result = synthLab(lab, dir);
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual(result.written.filter((p) => p !== MANIFEST).sort());
    expect(manifest.command).toBe('carbon-labs generate --pattern 2 --product sim');
    expect(statSync(join(dir, 'db/init/00-carbon-labs.sh')).mode & 0o111).not.toBe(0);
  });

  test('a re-run changes nothing and keeps files the user added', () => {
    const dir = join(tempDir(), 'lab');
    synthLab(lab, dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const again = synthLab(lab, dir);
    expect(again.written).toEqual([]);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  test('a generated file the user edited blocks regeneration, and --force overwrites it', () => {
    const dir = join(tempDir(), 'lab');
    synthLab(lab, dir);
    const edited = join(dir, 'nginx/lb.conf');
    writeFileSync(edited, 'my own balancer\n');
    const changed: LabSpec = { ...lab, timeouts: { ...lab.timeouts, connectMs: 500 } };
    expect(() => synthLab(changed, dir)).toThrow(/you edited generated files of .*: nginx\/lb\.conf; nothing was written\. Try: .*--force/);
    expect(readFileSync(edited, 'utf8')).toBe('my own balancer\n');
    synthLab(changed, dir, { force: true });
    expect(readFileSync(edited, 'utf8')).toContain('proxy_connect_timeout 500ms;');
  });

  test('a file no longer generated is removed; an unmanaged folder is refused', () => {
    const dir = join(tempDir(), 'lab');
    synthLab(lab, dir);
    const smaller = buildLab(1, { product: sim });
    const result = synthLab(smaller, dir);
    expect(result.removed).toContain('nodes/manager-2/repository/conf/deployment.toml');
    expect(existsSync(join(dir, 'nodes/manager-2/repository/conf/deployment.toml'))).toBe(false);
    expect(existsSync(join(dir, 'nodes/manager-2'))).toBe(false); // no empty folder of a removed node
    synthLab(lab, dir);
    writeFileSync(join(dir, 'nodes/manager-2/notes.txt'), 'mine\n');
    synthLab(smaller, dir);
    expect(readdirSync(join(dir, 'nodes/manager-2'))).toEqual(['notes.txt']); // a folder holding the user's file stays

    const foreign = tempDir();
    writeFileSync(join(foreign, 'docker-compose.yml'), 'services: {}\n');
    expect(() => synthLab(lab, foreign)).toThrow(/is not a carbon-labs lab \(no \.carbon-labs-manifest\.json\); nothing was written/);
    expect(readdirSync(foreign)).toEqual(['docker-compose.yml']);
  });

  test('an invalid model reports every problem with where it is, and writes nothing', () => {
    const broken: LabSpec = {
      ...lab,
      nodes: lab.nodes.map((n) => (n.name === 'manager-2' ? { ...n, attachments: [...n.attachments, { network: 'public', host: 12 }] } : n)),
      balancers: lab.balancers.map((b) => ({ ...b, upstreams: b.upstreams.map((u) => ({ ...u, servers: u.servers.map((s) => ({ ...s, backup: false })) })) })),
    };
    const dir = join(tempDir(), 'lab');
    let message = '';
    try { synthLab(broken, dir); } catch (err) { message = (err as Error).message; }
    expect(message).toContain('[carbon-labs-sim-p2/services/manager-2] a manager is on the public network');
    expect(message).toContain('[carbon-labs-sim-p2/services/lb/upstream/managers] 2 active managers');
    expect(existsSync(dir)).toBe(false);
  });
});
