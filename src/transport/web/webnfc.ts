/**
 * Web NFC (NDEFReader, Chrome on Android): reads a tag's serial number (its
 * NFC UID) and its NDEF records. That is all a page gets: Web NFC cannot send
 * the ISO-DEP commands that program a token, so the pages use it only to
 * identify a card by tapping it.
 */
import { DeviceError } from '../../core/errors.js';
import type { FeatureReport } from './bridge.js';

export interface NfcRecord {
  recordType: string;
  mediaType?: string;
  /** Decoded text for text and URL records. */
  text?: string;
  bytes: Uint8Array;
}

export interface NfcTag {
  /** The tag's UID as the browser gives it ("04:a2:..."). */
  serialNumber: string;
  records: NfcRecord[];
}

/* The parts of the Web NFC API we use (lib.dom has no Web NFC types). */
interface NdefRecordLike {
  recordType: string;
  mediaType?: string;
  encoding?: string;
  data?: DataView;
}
interface NdefReadingEventLike extends Event {
  serialNumber: string;
  message: { records: NdefRecordLike[] };
}
export interface NdefReaderLike extends EventTarget {
  scan(opts?: { signal?: AbortSignal }): Promise<void>;
}
export type NdefReaderCtor = new () => NdefReaderLike;

export function webNfcSupport(g: { NDEFReader?: unknown } = globalThis as never): FeatureReport {
  if (typeof g.NDEFReader !== 'function') {
    return {
      available: false,
      why: 'This browser has no Web NFC (only Chrome on Android has it), so the card cannot be tapped here. Type the serial printed on the back of the token instead.',
    };
  }
  return { available: true };
}

/** What the page should always say: Web NFC identifies, it never programs. */
export const WEB_NFC_LIMIT =
  'Web NFC reads NDEF only: it can tell which card was tapped, but it cannot send the commands that program a token.';

function decodeRecord(r: NdefRecordLike): NfcRecord {
  const bytes = r.data
    ? new Uint8Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.byteLength))
    : new Uint8Array();
  const out: NfcRecord = { recordType: r.recordType, bytes };
  if (r.mediaType) out.mediaType = r.mediaType;
  if (r.recordType === 'text' || r.recordType === 'url' || r.recordType === 'absolute-url')
    out.text = new TextDecoder(r.encoding ?? 'utf-8').decode(bytes);
  return out;
}

/** Waits for one tag; asks for permission on first use (needs a click). */
export async function scanTag(
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  Reader: NdefReaderCtor | undefined = (globalThis as { NDEFReader?: NdefReaderCtor }).NDEFReader,
): Promise<NfcTag> {
  const support = webNfcSupport({ NDEFReader: Reader });
  if (!support.available) throw new DeviceError(support.why!, { code: 'no-webnfc' });
  const reader = new Reader!();
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort());
  try {
    return await new Promise<NfcTag>((resolve, reject) => {
      const timer = opts.timeoutMs
        ? setTimeout(
            () =>
              reject(
                new DeviceError(
                  `no card was tapped within ${Math.round(opts.timeoutMs! / 1000)} s; hold the card against the back of the phone`,
                  { code: 'no-token' },
                ),
              ),
            opts.timeoutMs,
          )
        : undefined;
      reader.addEventListener('reading', (ev) => {
        clearTimeout(timer);
        const e = ev as NdefReadingEventLike;
        resolve({ serialNumber: e.serialNumber, records: (e.message?.records ?? []).map(decodeRecord) });
      });
      reader.addEventListener('readingerror', () => {
        clearTimeout(timer);
        reject(
          new DeviceError('the card was seen but could not be read as NDEF; tap it again, or type its serial', {
            code: 'nfc-read-failed',
          }),
        );
      });
      reader.scan({ signal: stop.signal }).catch((e: Error) => {
        clearTimeout(timer);
        reject(
          new DeviceError(
            e.name === 'NotAllowedError'
              ? 'the browser was not allowed to use NFC; allow it in the site settings, or type the serial'
              : `NFC scan failed: ${e.message}`,
            {
              code: 'nfc-refused',
            },
          ),
        );
      });
    });
  } finally {
    stop.abort();
  }
}

/** The token serial a tag carries in a text or URL record (8 or more digits), when it carries one. */
export function tokenSerialFromTag(tag: NfcTag): string | null {
  for (const r of tag.records) {
    const m = r.text && /(?:^|\D)(\d{8,20})(?:\D|$)/.exec(r.text);
    if (m) return m[1]!;
  }
  return null;
}
