import {
  AckDeviceMessages,
  DeviceInboxQuery,
  DeviceMessageList,
  DeviceSendResult,
  SendDeviceMessages,
} from '@chatalot/protocol';
import { addRoute, type RouteContext } from '../http/route.js';
import type { DeviceMessageService } from './service.js';

/** The device inbox over REST (the WebSocket has the same as `device.send` / `device.ack`). */
export function registerDeviceMessageRoutes(ctx: RouteContext, service: DeviceMessageService): void {
  const tags = ['keys'];

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/device-messages',
      summary:
        'Send pairwise ciphertext to devices of people you may contact (Sender Key distribution, session setup); stored until each device acknowledges it',
      tags,
      auth: true,
      body: SendDeviceMessages,
      response: DeviceSendResult,
      errors: [400, 404],
    },
    async ({ actor, body }) => service.send(actor, body),
  );

  addRoute(
    ctx,
    {
      method: 'GET',
      url: '/api/device-messages',
      summary: 'The oldest undelivered device messages of one of your devices',
      tags,
      auth: true,
      query: DeviceInboxQuery,
      response: DeviceMessageList,
      errors: [400, 404],
    },
    async ({ actor, query }) => service.fetch(actor, query.device_id, query.limit),
  );

  addRoute(
    ctx,
    {
      method: 'POST',
      url: '/api/device-messages/ack',
      summary: 'Acknowledge (delete) device messages your device has processed',
      tags,
      auth: true,
      body: AckDeviceMessages,
      status: 204,
      errors: [400, 404],
    },
    async ({ actor, body }) => {
      await service.ack(actor, body.device_id, body.ids);
    },
  );
}
