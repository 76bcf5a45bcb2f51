/**
 * Transport failures. They are device errors (exit 3) and say what to do next;
 * drivers add what the interrupted step means for the token.
 */
import { DataError, DeviceError } from '../core/errors.js';

export class CardRemovedError extends DeviceError {
  constructor(reader: string, cause?: unknown) {
    super(`the token left the reader (${reader}) during the command; put it back on the reader and hold it still`, {
      code: 'card-removed',
      where: reader,
      cause,
    });
  }
}

export class TransmitTimeoutError extends DeviceError {
  constructor(reader: string, ms: number) {
    super(`the token on ${reader} did not answer within ${ms} ms; hold it still on the reader and try again`, {
      code: 'transmit-timeout',
      where: reader,
    });
  }
}

export class NoReaderError extends DeviceError {
  constructor(message: string) {
    super(message, { code: 'no-reader' });
  }
}

export class NoTokenError extends DeviceError {
  constructor(message: string) {
    super(message, { code: 'no-token' });
  }
}

export class PcscUnavailableError extends DeviceError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'pcsc-unavailable', cause });
  }
}

/** A replayed session went another way than the recording (exit 4: the data disagrees). */
export class CassetteMismatchError extends DataError {
  constructor(message: string, where?: string) {
    super(message, { code: 'cassette-mismatch', where });
  }
}
