/**
 * The Graph calls tokensmith makes about hardware OATH tokens (beta API): list the inventory, create in bulk
 * (the `#$delta` form), look users up by UPN or mail, assign, activate, and assign-and-activate by serial.
 */
import type { GraphClient } from './graph.js';
import { GraphError } from './graph.js';

const DEVICES = '/directory/authenticationMethodDevices/hardwareOathDevices';

export type EntraDeviceStatus = 'available' | 'assigned' | 'activated' | 'failedActivation';

/** A hardwareOathTokenAuthenticationMethodDevice as Graph returns it (secretKey always null). */
export interface GraphDevice {
  id: string;
  serialNumber: string;
  manufacturer?: string | null;
  model?: string | null;
  displayName?: string | null;
  timeIntervalInSeconds?: number | null;
  hashFunction?: string | null;
  status: EntraDeviceStatus;
  assignedTo?: { id: string; displayName?: string | null } | null;
}

/** What a create sends for one token. */
export interface NewGraphDevice {
  serialNumber: string;
  manufacturer: string;
  model: string;
  secretKey: string;
  timeIntervalInSeconds: number;
  hashFunction: 'hmacsha1' | 'hmacsha256';
  displayName?: string;
}

/** The whole inventory, by serial number. */
export async function listDevices(graph: GraphClient): Promise<Map<string, GraphDevice>> {
  const all = await graph.list<GraphDevice>(DEVICES, 'listing hardware OATH tokens');
  return new Map(all.map((d) => [d.serialNumber, d]));
}

/** Creates one chunk in one request; the devices Graph made, as it returned them. */
export async function createDevices(graph: GraphClient, chunk: NewGraphDevice[]): Promise<GraphDevice[]> {
  const body = { '@context': '#$delta', value: chunk.map((d, i) => ({ '@contentId': String(i + 1), ...d })) };
  const res = await graph.request<{ value?: { id: string; device?: GraphDevice }[] }>(
    'POST',
    DEVICES,
    `creating ${chunk.length} hardware OATH tokens`,
    body,
  );
  return (res.body?.value ?? []).flatMap((m) => (m.device ? [m.device] : []));
}

/** The Entra user's object id, found by UPN, else by mail; null when neither finds one. */
export async function findUser(graph: GraphClient, upn: string | null, mail: string | null): Promise<string | null> {
  if (upn) {
    try {
      const r = await graph.request<{ id: string }>(
        'GET',
        `/users/${encodeURIComponent(upn)}?$select=id,userPrincipalName`,
        `finding user ${upn}`,
      );
      return r.body.id;
    } catch (err) {
      if (!(err instanceof GraphError) || err.status !== 404) throw err;
    }
  }
  if (!mail) return null;
  const filter = encodeURIComponent(`mail eq '${mail.replace(/'/g, "''")}'`);
  const found = await graph.list<{ id: string }>(`/users?$filter=${filter}&$select=id,mail`, `finding user ${mail}`);
  return found.length === 1 ? found[0]!.id : null;
}

const methods = (userId: string) => `/users/${encodeURIComponent(userId)}/authentication/hardwareOathMethods`;

/** Assigns the device to the user without activating it; the method's id. */
export async function assignDevice(
  graph: GraphClient,
  userId: string,
  deviceId: string,
  what: string,
): Promise<string> {
  const r = await graph.request<{ id: string }>('POST', methods(userId), `assigning ${what}`, {
    device: { id: deviceId },
  });
  return r.body?.id ?? deviceId;
}

/** Activates an assigned token with a code it shows now. */
export async function activateDevice(
  graph: GraphClient,
  userId: string,
  methodId: string,
  code: string,
  displayName: string,
): Promise<void> {
  await graph.request(
    'POST',
    `${methods(userId)}/${encodeURIComponent(methodId)}/activate`,
    `activating ${displayName}`,
    {
      verificationCode: code,
      displayName,
    },
  );
}

/** Assigns and activates in one call, by serial number. */
export async function assignAndActivateBySerial(
  graph: GraphClient,
  userId: string,
  serialNumber: string,
  code: string,
  displayName: string,
): Promise<void> {
  await graph.request(
    'POST',
    `${methods(userId)}/assignAndActivateBySerialNumber`,
    `assigning and activating ${serialNumber}`,
    {
      serialNumber,
      verificationCode: code,
      displayName,
    },
  );
}

/** The server's current time: the last Date header seen, carried forward on our clock. */
export function serverNow(graph: GraphClient): number {
  return Date.now() + graph.clockOffsetMs;
}
