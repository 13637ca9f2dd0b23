import { isIPv4, isIPv6 } from 'node:net';

/**
 * The rate-limit identity of a client address. IPv4 addresses (also when written IPv4-mapped,
 * `::ffff:1.2.3.4`) count as themselves; IPv6 addresses count per /64, since one subscriber
 * usually holds a whole /64 and could otherwise rotate through it to dodge every limit.
 * Anything else (e.g. a Unix socket's empty address) is returned unchanged.
 */
export function clientKey(ip: string): string {
  const address = ip.split('%')[0]!; // drop an IPv6 zone id
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return ip;
  const groups = expandIPv6(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (which `isIPv6` has accepted). */
function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part stands for the last two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
