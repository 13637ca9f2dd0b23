// The hardware/runtime floor for HTTP: a bare node:http server answering the same JSON body
// as /api/health, with no framework, validation, database or headers. Run as a child process.
import { createServer } from 'node:http';

const body = JSON.stringify({ status: 'ok', version: '0.0.0', uptime_secs: 0, db: 'ok', broker: 'ok' });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`is running at http://127.0.0.1:${address.port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
