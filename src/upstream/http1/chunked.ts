/**
 * The chunked transfer coding (RFC 9112 §7.1), decoded in place: the data of a read is moved
 * down over the framing in the same buffer, so a read that carries several chunks (a burst of
 * stream events) comes out as one contiguous run of bytes and nothing is allocated. The framing
 * is a byte-at-a-time state machine, so a size line or CRLF split across reads needs no carry.
 */
import { HttpProtocolError } from "./head.ts";

const CR = 13;
const LF = 10;

// Parser states, as plain numbers: the switch below runs for every framing byte of a stream.
const SIZE = 0;
const EXTENSION = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER_LINE = 7;
const TRAILER_LF = 8;
const DONE = 9;

/** Chunk sizes past this are refused (no upstream answer is near it; it keeps `size` exact). */
const MAX_CHUNK = 2 ** 40;

/** Result of decoding one read. */
export interface Decoded {
  /** The data ends here: the read's data is `buffer[start, end)`. */
  end: number;
  /** Bytes after the final chunk and its trailers (a protocol error if non-zero: no pipelining). */
  extra: number;
}

export class ChunkedDecoder {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;

  /** True once the last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Decodes `buffer[start, end)` in place. The data it carried ends up at `buffer[start, result.end)`.
   * Throws HttpProtocolError on a malformed coding.
   */
  decode(buffer: Uint8Array, start: number, end: number): Decoded {
    let out = start;
    let i = start;
    while (i < end) {
      switch (this.#state) {
        case DATA: {
          const n = Math.min(this.#remaining, end - i);
          if (out !== i) buffer.copyWithin(out, i, i + n);
          out += n;
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = DATA_CR;
          continue;
        }
        case SIZE: {
          const byte = buffer[i++];
          const digit = hexValue(byte);
          if (digit >= 0) {
            this.#size = this.#size * 16 + digit;
            if (++this.#digits > 11 || this.#size > MAX_CHUNK) {
              throw new HttpProtocolError("Chunk size too large");
            }
          } else if (this.#digits === 0) {
            throw new HttpProtocolError("Malformed chunk size");
          } else if (byte === CR) this.#state = SIZE_LF;
          else if (byte === 0x3b /* ; */ || byte === 0x20 || byte === 0x09) {
            this.#state = EXTENSION;
          } else throw new HttpProtocolError("Malformed chunk size");
          continue;
        }
        case EXTENSION: {
          const byte = buffer[i++];
          if (byte === CR) this.#state = SIZE_LF;
          else if (byte === LF) throw new HttpProtocolError("Bare LF in chunk size line");
          continue;
        }
        case SIZE_LF: {
          if (buffer[i++] !== LF) throw new HttpProtocolError("Chunk size line not ended by CRLF");
          this.#remaining = this.#size;
          this.#state = this.#size === 0 ? TRAILER_START : DATA;
          this.#size = 0;
          this.#digits = 0;
          continue;
        }
        case DATA_CR:
          if (buffer[i++] !== CR) throw new HttpProtocolError("Chunk data not ended by CRLF");
          this.#state = DATA_LF;
          continue;
        case DATA_LF:
          if (buffer[i++] !== LF) throw new HttpProtocolError("Chunk data not ended by CRLF");
          this.#state = SIZE;
          continue;
        case TRAILER_START: {
          // Either the blank line that ends the message, or a trailer field (read and dropped).
          const byte = buffer[i++];
          this.#state = byte === CR ? TRAILER_LF : TRAILER_LINE;
          if (byte === LF) throw new HttpProtocolError("Bare LF in trailer section");
          continue;
        }
        case TRAILER_LINE:
          if (buffer[i++] === LF) this.#state = TRAILER_START;
          continue;
        case TRAILER_LF:
          if (buffer[i++] !== LF) throw new HttpProtocolError("Trailer section not ended by CRLF");
          this.#state = DONE;
          return { end: out, extra: end - i };
        case DONE:
          return { end: out, extra: end - i };
      }
    }
    return { end: out, extra: 0 };
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
