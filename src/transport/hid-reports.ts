/**
 * HID feature reports as a driver sees them, and the bridge between them and
 * the APDU-shaped transports (recording, replay): an 8-byte command is a
 * report the host writes (answered by nothing), an empty command is a report
 * the host reads (answered by its 8 bytes). So a HID session records into a
 * cassette with no new frame kind (docs/cassettes.md, "HID cassettes").
 */
import type { ApduTransport } from './types.js';

/** A HID device's feature-report interface, as node-hid offers it (without the report id byte). */
export interface FeatureReportPort {
  sendFeatureReport(report: Uint8Array): Promise<void>;
  getFeatureReport(): Promise<Uint8Array>;
  /** Waits between polls of a key that is busy (a replay or a simulator does not need to wait). */
  pause?(ms: number): Promise<void>;
}

/** What a recorded HID session's header names: the transport kind. */
export const HID_TRANSPORT_KIND = 'hid';

/** A report port seen as an APDU transport, so the recorder can wrap it. */
export function portAsFrames(port: FeatureReportPort, info: { readerName: string; kind?: string }): ApduTransport {
  const listeners = new Set<() => void>();
  return {
    readerName: info.readerName,
    atr: new Uint8Array(0),
    kind: info.kind ?? HID_TRANSPORT_KIND,
    async transmit(frame) {
      if (frame.length === 0) return port.getFeatureReport();
      await port.sendFeatureReport(frame);
      return new Uint8Array(0);
    },
    isPresent: () => true,
    onRemoved(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async close() {
      listeners.clear();
    },
  };
}

/** An APDU-shaped transport (a recorder, a replay) seen as a report port. */
export function framesAsPort(t: ApduTransport, pause?: (ms: number) => Promise<void>): FeatureReportPort {
  return {
    // A real key behind the frames is polled with a pause between looks; a replay needs none.
    ...(pause ? { pause } : {}),
    async sendFeatureReport(report) {
      await t.transmit(report);
    },
    getFeatureReport: () => t.transmit(new Uint8Array(0)),
  };
}
