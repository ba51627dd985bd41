import { randomUUID } from 'crypto';
import type { NodeConfig } from './config';
import type { Handler, Req, Res } from './http';

const PORTALS = ['publisher', 'devportal', 'admin'] as const;
const TITLES: Record<(typeof PORTALS)[number], string> = { publisher: 'Publisher', devportal: 'Developer Portal', admin: 'Admin' };

/**
 * The portals' login as the product does it: the single-page app sends the browser to
 * `/<portal>/services/auth/login`, which redirects to `/oauth2/authorize` and on to
 * `/authenticationendpoint/login.do`. Every absolute redirect is built on the node's public
 * origin, `[server] hostname` and `[transport.https.properties] proxyPort`: with values the browser
 * cannot reach, the login leads nowhere, as on the product.
 */
export function withPortals(config: NodeConfig, next: Handler): Handler {
  const origin = config.publicOrigin;
  return async (req: Req): Promise<Res> => {
    if (req.method !== 'GET') return next(req);
    const portal = PORTALS.find((p) => req.path === `/${p}` || req.path === `/${p}/`);
    if (portal) {
      // The app itself is relative to where it was loaded from; only its login is absolute.
      return html(
        200,
        `WSO2 API Manager - ${TITLES[portal]}`,
        `<script>window.location.replace('/${portal}/services/auth/login');</script><noscript>JavaScript is needed.</noscript>`,
      );
    }
    const login = PORTALS.find((p) => req.path === `/${p}/services/auth/login`);
    if (login) {
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: `apim_${login}_client`,
        scope: 'apim:api_view openid',
        redirect_uri: `${origin}/${login}/services/auth/callback/login`,
      });
      return redirect(`${origin}/oauth2/authorize?${query}`);
    }
    if (req.path === '/oauth2/authorize') {
      const query = new URLSearchParams({
        ...Object.fromEntries(req.query.entries()),
        commonAuthCallerPath: '/oauth2/authorize',
        forceAuth: 'false',
        passiveAuth: 'false',
        tenantDomain: 'carbon.super',
        sessionDataKey: randomUUID(),
        type: 'oidc',
      });
      return redirect(`${origin}/authenticationendpoint/login.do?${query}`);
    }
    if (req.path === '/authenticationendpoint/login.do') {
      const key = escapeHtml(req.query.get('sessionDataKey') ?? '');
      return html(
        200,
        'WSO2 API Manager - Sign In',
        `<h1>Sign In</h1>
<form action="../commonauth" method="post" id="loginForm">
<input id="usernameUserInput" name="username" type="text" autocomplete="username">
<input id="password" name="password" type="password" autocomplete="current-password">
<input type="hidden" name="sessionDataKey" value="${key}">
<button type="submit">Sign In</button>
</form>`,
      );
    }
    return next(req);
  };
}

const redirect = (location: string): Res => ({ status: 302, headers: { location } });
const html = (status: number, title: string, body: string): Res => ({
  status,
  contentType: 'text/html; charset=utf-8',
  body: `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`,
});
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
