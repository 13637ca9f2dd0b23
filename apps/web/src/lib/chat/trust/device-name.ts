import { deviceNameFromUserAgent } from '@chatalot/protocol';

/** How this browser names itself to the device that approves linking it ("Firefox on Linux"). */
export function browserName(userAgent: string = typeof navigator === 'undefined' ? '' : navigator.userAgent): string {
  return deviceNameFromUserAgent(userAgent, 'A new browser');
}
