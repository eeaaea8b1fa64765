/**
 * The symmetric and header-only messages (§7.1, §7.5): HELLO with its
 * elements, ERROR, ECHO, EXPERIMENTER, BARRIER, and the bodiless requests.
 */
import { OFPHET, OFPT } from '../constants.js';
import { OFPBRC, OFPET, OfpError } from '../errors.js';
import { MessageCodec } from '../codec.js';
import { pad8, Reader, Writer } from '../wire.js';

type T = typeof OFPT;

/** A version bitmap element, or any other element kept as its raw body. */
export type HelloElement = { type: (typeof OFPHET)['VERSIONBITMAP']; bitmaps: number[] } | { type: number; data: Buffer };

export interface Hello {
  type: T['HELLO'];
  xid: number;
  /** The highest version the sender supports (the header's version field). */
  version: number;
  elements: HelloElement[];
}

export interface ErrorMessage {
  type: T['ERROR'];
  xid: number;
  errorType: number;
  code: number;
  /** At least 64 bytes of the offending request, or ASCII text for HELLO_FAILED. */
  data: Buffer;
}

export interface ExperimenterError {
  type: T['ERROR'];
  xid: number;
  errorType: typeof OFPET.EXPERIMENTER;
  expType: number;
  experimenter: number;
  data: Buffer;
}

export interface EchoMessage {
  type: T['ECHO_REQUEST'] | T['ECHO_REPLY'];
  xid: number;
  data: Buffer;
}

export interface ExperimenterMessage {
  type: T['EXPERIMENTER'];
  xid: number;
  experimenter: number;
  expType: number;
  data: Buffer;
}

/** Messages that are a header and nothing else. */
export interface HeaderOnlyMessage {
  type:
    | T['FEATURES_REQUEST']
    | T['GET_CONFIG_REQUEST']
    | T['BARRIER_REQUEST']
    | T['BARRIER_REPLY']
    | T['GET_ASYNC_REQUEST'];
  xid: number;
}

const VERSIONBITMAP = OFPHET.VERSIONBITMAP;

function isBitmap(e: HelloElement): e is { type: typeof VERSIONBITMAP; bitmaps: number[] } {
  return e.type === VERSIONBITMAP && 'bitmaps' in e;
}

function helloElementLength(e: HelloElement): number {
  return 4 + (isBitmap(e) ? 4 * e.bitmaps.length : (e as { data: Buffer }).data.length);
}

export const helloCodec: MessageCodec<Hello> = {
  decode(r, xid, version) {
    const elements: HelloElement[] = [];
    while (r.remaining > 0) {
      const start = r.pos;
      r.need(4, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'hello element header');
      const type = r.u16();
      const len = r.u16();
      if (len < 4) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `hello element length ${len} < 4`, start);
      const body = r.sub(len - 4, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'hello element');
      if (type === VERSIONBITMAP && len % 4 === 0) {
        const bitmaps: number[] = [];
        while (body.remaining > 0) bitmaps.push(body.u32());
        elements.push({ type, bitmaps });
      } else {
        elements.push({ type, data: body.rest() });
      }
      // Elements are padded to 8 bytes; the last one may omit its padding.
      const padding = Math.min(pad8(len), r.remaining);
      r.skip(padding);
    }
    return { type: OFPT.HELLO, xid, version, elements };
  },
  bodyLength(m) {
    let len = 0;
    for (const e of m.elements) len += helloElementLength(e) + pad8(helloElementLength(e));
    return len;
  },
  encode(m, w) {
    for (const e of m.elements) {
      const len = helloElementLength(e);
      w.u16(e.type);
      w.u16(len);
      if (isBitmap(e)) for (const b of e.bitmaps) w.u32(b);
      else w.bytes((e as { data: Buffer }).data);
      w.zeros(pad8(len));
    }
  },
};

export const errorCodec: MessageCodec<ErrorMessage | ExperimenterError> = {
  decode(r, xid) {
    const errorType = r.u16();
    if (errorType === OFPET.EXPERIMENTER) {
      const expType = r.u16();
      const experimenter = r.u32();
      return { type: OFPT.ERROR, xid, errorType, expType, experimenter, data: r.rest() };
    }
    const code = r.u16();
    return { type: OFPT.ERROR, xid, errorType, code, data: r.rest() };
  },
  bodyLength(m) {
    return (m.errorType === OFPET.EXPERIMENTER ? 8 : 4) + m.data.length;
  },
  encode(m, w) {
    w.u16(m.errorType);
    if ('experimenter' in m) {
      w.u16(m.expType);
      w.u32(m.experimenter);
    } else {
      w.u16(m.code);
    }
    w.bytes(m.data);
  },
};

function echoCodec(type: EchoMessage['type']): MessageCodec<EchoMessage> {
  return {
    decode: (r, xid) => ({ type, xid, data: r.rest() }),
    bodyLength: (m) => m.data.length,
    encode: (m, w) => w.bytes(m.data),
  };
}

export const experimenterCodec: MessageCodec<ExperimenterMessage> = {
  decode(r, xid) {
    const experimenter = r.u32();
    const expType = r.u32();
    return { type: OFPT.EXPERIMENTER, xid, experimenter, expType, data: r.rest() };
  },
  bodyLength: (m) => 8 + m.data.length,
  encode(m, w) {
    w.u32(m.experimenter);
    w.u32(m.expType);
    w.bytes(m.data);
  },
};

function headerOnlyCodec(type: HeaderOnlyMessage['type']): MessageCodec<HeaderOnlyMessage> {
  return {
    decode: (_r: Reader, xid: number) => ({ type, xid }),
    bodyLength: () => 0,
    encode: (_m: HeaderOnlyMessage, _w: Writer) => undefined,
  };
}

export const basicCodecs = {
  [OFPT.HELLO]: helloCodec,
  [OFPT.ERROR]: errorCodec,
  [OFPT.ECHO_REQUEST]: echoCodec(OFPT.ECHO_REQUEST),
  [OFPT.ECHO_REPLY]: echoCodec(OFPT.ECHO_REPLY),
  [OFPT.EXPERIMENTER]: experimenterCodec,
  [OFPT.FEATURES_REQUEST]: headerOnlyCodec(OFPT.FEATURES_REQUEST),
  [OFPT.GET_CONFIG_REQUEST]: headerOnlyCodec(OFPT.GET_CONFIG_REQUEST),
  [OFPT.BARRIER_REQUEST]: headerOnlyCodec(OFPT.BARRIER_REQUEST),
  [OFPT.BARRIER_REPLY]: headerOnlyCodec(OFPT.BARRIER_REPLY),
  [OFPT.GET_ASYNC_REQUEST]: headerOnlyCodec(OFPT.GET_ASYNC_REQUEST),
};
