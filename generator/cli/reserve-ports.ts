import type { Command } from 'commander';
import { LabError } from '../errors';
import { RESERVED_PORTS, reserveLabPorts } from '../runtime/ports';
import { log } from './output';

/** `carbon-labs reserve-ports`: the labs' host ports out of the kernel's choice of local ports. */
export function registerReservePorts(program: Command): void {
  program
    .command('reserve-ports')
    .description("keep the labs' host ports out of the ports Linux gives outgoing connections (root; adds to what is reserved)")
    .option('--dry-run', 'print the value it would write, write nothing')
    .option('--soft', 'without root, say so and succeed (make test on a machine that is not yours)')
    .action((o: { dryRun?: boolean; soft?: boolean }) => {
      const asRoot = process.getuid?.() === 0;
      const r = reserveLabPorts({ dryRun: o.dryRun || !asRoot });
      if (r.added === 0) log(`the labs' host ports are already out of the kernel's choice of local ports (${RESERVED_PORTS})`);
      else if (o.dryRun) log(`would write ${RESERVED_PORTS} (${r.added} ports added): ${r.value}`);
      else if (asRoot)
        log(`reserved ${r.added} of the labs' host ports in ${RESERVED_PORTS}: outgoing connections no longer take them as local ports`);
      else {
        const said = `${r.added} of the labs' host ports lie in the kernel's ephemeral range, where an outgoing connection can hold one as a lab starts`;
        if (!o.soft) throw new LabError(said, 'as root: carbon-labs reserve-ports (--dry-run prints the sysctl value)');
        log(`${said} (not root: left as they are)`);
      }
    });
}
