// XMPP servers as reference points (ejabberd, Prosody): not installed on this machine, so
// these adapters only say why they are skipped. To add one: start the server on 127.0.0.1
// and a free port with a generated config, create accounts and a MUC room, and implement
// BenchSocket over an XMPP WebSocket (RFC 7395) client whose message id carries the index.
import { execFileSync } from 'node:child_process';
import type { Target } from './target.js';

function installed(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function xmppTarget(name: string, command: string): Target {
  return {
    name,
    description: `${name} (XMPP, MUC room over WebSocket)`,
    unavailable: async () =>
      installed(command)
        ? `${command} is installed but the ${name} adapter is not written yet (bench/targets/xmpp.ts)`
        : `${command} not installed: skipped (the adapter interface is ready: bench/targets/target.ts)`,
    start: () => Promise.reject(new Error(`${name}: no adapter`)),
  };
}

export const ejabberd = xmppTarget('ejabberd', 'ejabberdctl');
export const prosody = xmppTarget('prosody', 'prosodyctl');
