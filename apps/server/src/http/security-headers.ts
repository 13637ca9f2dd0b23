import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';

const PERMISSIONS_POLICY = [
  'camera=(self)',
  'microphone=(self)',
  'display-capture=(self)',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'interest-cohort=()',
].join(', ');

const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * Security headers on every response. Scripts may only come from this origin or be one of the
 * web app's own inline scripts, identified by hash (`scriptHashes`); never 'unsafe-inline' or
 * 'unsafe-eval'. HSTS is sent only when the request arrived over https (directly or through a
 * trusted proxy), since sending it over plain http to localhost would break local installs.
 *
 * Helmet decides the headers, but @fastify/helmet rebuilds helmet's middleware (parsing the
 * CSP directives again) on every request; these headers never depend on the request, so they
 * are worked out once at start and then set by one synchronous hook. Like helmet, the hook
 * sets them on the raw response, so a route's own value of a header (e.g. the sandboxing CSP
 * of public assets) still wins.
 */
export async function registerSecurityHeaders(app: FastifyInstance, scriptHashes: string[]): Promise<void> {
  const headers: [string, string][] = [
    ...(await helmetHeaders(helmetOptions(scriptHashes))),
    ['permissions-policy', PERMISSIONS_POLICY],
  ];
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw;
    for (const [name, value] of headers) res.setHeader(name, value);
    if (request.protocol === 'https') res.setHeader('strict-transport-security', HSTS);
    done();
  });
}

export function helmetOptions(scriptHashes: string[]): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'wasm-unsafe-eval'", ...scriptHashes.map((h) => `'${h}'`)],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        workerSrc: ["'self'", 'blob:'],
        manifestSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    xFrameOptions: { action: 'deny' },
  };
}

/**
 * The headers helmet sets with these options, read off one request to a private instance
 * (helmet's headers are the same for every request; only CSP nonces would vary, and they are
 * not used).
 */
export async function helmetHeaders(options: FastifyHelmetOptions): Promise<[string, string][]> {
  const probe = Fastify();
  try {
    await probe.register(helmet, options);
    let headers: [string, string][] = [];
    probe.get('/', (_request, reply) => {
      // Lower-case names, as Fastify writes its own (header names are case-insensitive).
      headers = Object.entries(reply.raw.getHeaders()).map(([name, value]) => [name, String(value)]);
      return reply.send();
    });
    await probe.inject({ method: 'GET', url: '/' });
    if (!headers.some(([name]) => name === 'content-security-policy')) throw new Error('helmet set no CSP');
    return headers;
  } finally {
    await probe.close();
  }
}
