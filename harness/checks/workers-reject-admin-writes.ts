import { ADMIN, ApimClient, PUBLISHER } from '../apim-client';
import { basic, bearer, Exchange, HttpClient } from '../http';
import { Check, CheckContext, paceOf, planOf } from '../check';
import { managers, workers } from '../../generator/model/lab';
import { isClassic } from '../../generator/products/product';
import { addUser, ClassicRestClient, pushApi } from '../classic-client';

const ok = (status: number) => status >= 200 && status < 300;

/** The admin writes of APIM 4.3: DCR, a token, an API, a gateway environment, and a Carbon admin service (SOAP). */
async function adminWrites(
  http: HttpClient,
  token: string,
  client: { clientId: string; clientSecret: string },
  tag: string,
): Promise<Record<string, Exchange>> {
  return {
    'DCR register': await http.request('POST', '/client-registration/v0.17/register', {
      headers: { authorization: basic('admin', 'admin') },
      data: { clientName: `probe-${tag}`, owner: 'admin', grantType: 'password client_credentials', saasApp: true },
    }),
    token: await http.request('POST', '/oauth2/token', {
      headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      data: 'grant_type=password&username=admin&password=admin&scope=apim:api_create',
    }),
    'create API': await http.request('POST', `${PUBLISHER}/apis`, {
      headers: { authorization: bearer(token) },
      data: { name: `Probe${tag}`, context: `/probe-${tag}`, version: '1.0.0' },
    }),
    'create environment': await http.request('POST', `${ADMIN}/environments`, {
      headers: { authorization: bearer(token) },
      data: { name: `probe-${tag}`, vhosts: [{ host: `probe-${tag}.example` }] },
    }),
    'SOAP addUser': await addUser(http, `probe${tag}`),
  };
}

export type RejectFigures = {
  /** HTTP status of every write, by target and write (0: no answer); the manager listener's row is the control. */
  statuses: Record<string, Record<string, number>>;
  /** The row of {@link statuses} sent through the manager balancer (the others went to workers). */
  managerListener: string;
  /** Why a write had no answer (`<write> on <target>`). */
  noAnswer: Record<string, string>;
  /** Whether the workers' admin services must refuse with worker mode's 403 (the classic product). */
  workerMode403: boolean;
  writesSentToWorkers: number;
  writesAcceptedByWorkers: number;
};

/** What each write's status says, by kind of finding (each `<write> on <target> (<status>)`). */
function rejectFindings(f: RejectFigures) {
  const accepted: string[] = [];
  const silent: string[] = [];
  const otherwise: string[] = [];
  for (const [name, sent] of Object.entries(f.statuses)) {
    if (name === f.managerListener) continue;
    for (const [write, status] of Object.entries(sent)) {
      if (ok(status)) accepted.push(`${write} on ${name} (${status})`);
      // No answer at all proves nothing about refusing: the node must be up and say no.
      else if (status === 0) silent.push(`${write} on ${name} (${f.noAnswer[`${write} on ${name}`] ?? 'no answer'})`);
      // The classic product's workers refuse admin services with Carbon's 403 (worker mode): any
      // other failure on a worker's servlet (a fault, a 404) proves nothing about worker mode.
      else if (f.workerMode403 && write.startsWith('SOAP') && name.endsWith(' servlet') && status !== 403)
        otherwise.push(`${write} on ${name} (${status})`);
    }
  }
  const refused = Object.entries(f.statuses[f.managerListener] ?? {})
    .filter(([, status]) => !ok(status))
    .map(([write, status]) => `${write} (${status})`);
  return { accepted, silent, otherwise, refused };
}

/** Workers are read-only: no admin write succeeds on a worker, directly or through the worker balancer. */
export const workersRejectAdminWrites: Check<RejectFigures> = {
  id: 'workers-reject-admin-writes',
  title:
    'Workers refuse admin writes (DCR, token, publisher, admin REST, SOAP admin services; on the classic product its admin services APIGatewayAdmin and the user store, DCR and publisher REST v0.14), directly and through the worker balancer; managers accept them',
  headline: (f) => `${f.writesAcceptedByWorkers ?? '?'} of ${f.writesSentToWorkers ?? '?'} writes accepted by workers`,
  plan(lab) {
    const { call, timing } = paceOf(lab);
    const writes = (workers(lab).length * 2 + 2) * 5;
    return planOf({
      floorMs: 0,
      workMs: (writes + 3) * call,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `${writes} admin writes and a login, ${call} ms a call`,
      worstMs: ((writes + 3) * timing.requestTimeoutMs) / 4,
    });
  },
  async run(ctx: CheckContext<RejectFigures>) {
    const { lab } = ctx;
    let writes: (http: HttpClient, tag: string) => Promise<Record<string, Exchange>>;
    if (isClassic(lab.product)) {
      // The classic product: its admin services, as its publisher pushes APIs and a user adds users;
      // and its REST v0.14, with a token the managers issued (tokens are in the shared database).
      const manager = (await ctx.controlPlane()) as ClassicRestClient;
      const token = manager.accessToken!;
      writes = async (http, tag) => {
        const rest = new ClassicRestClient(http);
        rest.accessToken = token;
        return {
          'SOAP APIGatewayAdmin addApi': await pushApi(http, {
            name: `Probe${tag}`,
            context: `/probe-${tag}`,
            version: '1.0.0',
            backendUrl: lab.backendUrl,
          }),
          'SOAP addUser': await addUser(http, `probe${tag}`),
          'DCR register (v0.14)': await rest.tryRegister(),
          'REST v0.14 create API': await rest.tryCreateApi({
            name: `Probe${tag}`,
            context: `/probe-rest-${tag}`,
            version: '1.0.0',
            backendUrl: lab.backendUrl,
          }),
        };
      };
    } else {
      const manager: ApimClient = await ctx.managerClient();
      // Credentials valid on every node: a worker must refuse the write itself, not the credentials.
      const token = manager.accessToken!;
      const client = (await manager.tryRegister()).body as { clientId: string; clientSecret: string };
      writes = (http, tag) => adminWrites(http, token, client, tag);
    }
    const targets: [string, string][] = [
      ...lab.workers.flatMap(
        (w) =>
          [
            [`${w.name} servlet`, lab.workerServletUrl(w.name)],
            [`${w.name} gateway`, lab.workerApiUrl(w.name)],
          ] as [string, string][],
      ),
      [`${lab.workerBalancer} worker listener`, lab.apiUrl()],
    ];
    const statuses: Record<string, Record<string, number>> = {};
    const noAnswer: Record<string, string> = {};
    const managerListener = `${lab.managerBalancer} manager listener`;
    for (const [name, url] of targets) {
      ctx.alive();
      const sent = await writes(lab.http(url), ctx.unique('w'));
      statuses[name] = Object.fromEntries(Object.entries(sent).map(([k, e]) => [k, e.status]));
      for (const [write, e] of Object.entries(sent)) {
        ctx.record(e);
        if (e.status === 0) noAnswer[`${write} on ${name}`] = e.error ?? 'no answer';
      }
    }
    // The same writes through the manager balancer must succeed: the check cannot pass on a dead lab.
    const control = await writes(lab.http(lab.adminUrl()), ctx.unique('m'));
    statuses[managerListener] = Object.fromEntries(Object.entries(control).map(([k, e]) => [k, e.status]));
    for (const e of Object.values(control)) if (!ok(e.status)) ctx.record(e);
    Object.assign(ctx.figures, {
      statuses,
      managerListener,
      noAnswer,
      workerMode403: isClassic(lab.product),
      writesSentToWorkers: targets.length * Object.keys(control).length,
    });
    ctx.figures.writesAcceptedByWorkers = rejectFindings(ctx.figures as RejectFigures).accepted.length;
  },
  problems(f) {
    const { accepted, silent, otherwise, refused } = rejectFindings(f);
    return [
      ...(accepted.length ? [`workers accepted admin writes: ${accepted.join('; ')}`] : []),
      ...(silent.length ? [`workers did not answer, so their refusal is unproven: ${silent.join('; ')}`] : []),
      ...(otherwise.length
        ? [`workers refused admin services otherwise than worker mode's 403, so worker mode is unproven: ${otherwise.join('; ')}`]
        : []),
      ...(refused.length ? [`the manager balancer refused admin writes, so the lab is not working: ${refused.join('; ')}`] : []),
    ];
  },
  suspects: (f, lab) => {
    const { refused, ...onWorkers } = rejectFindings(f);
    return Object.values(onWorkers).some((found) => found.length) || !refused.length
      ? workers(lab).map((w) => w.name)
      : managers(lab).map((m) => m.name);
  },
};
