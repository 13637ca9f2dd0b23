// `npm start`: build the web app if needed, then run the server from its TypeScript sources.
import { ensureWebBuild } from './ensure-web-build.mjs';

ensureWebBuild();
const { register } = await import('tsx/esm/api');
register();
await import('../apps/server/src/main.ts');
