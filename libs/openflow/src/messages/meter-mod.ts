/**
 * OFPT_METER_MOD (§7.3.4.4) and the ofp_meter_band_* structures, which the
 * meter-config multipart reply reuses.
 */
import { OFPMBT, OFPT } from '../constants.js';
import { OFPET, OFPMMFC, OfpError } from '../errors.js';
import { MessageCodec } from '../codec.js';
import { Reader, Writer } from '../wire.js';

type B = typeof OFPMBT;

export interface DropBand {
  type: B['DROP'];
  rate: number;
  burstSize: number;
}
export interface DscpRemarkBand {
  type: B['DSCP_REMARK'];
  rate: number;
  burstSize: number;
  /** Number of drop-precedence levels to add. */
  precLevel: number;
}
/** Kept opaque: `data` is everything after the experimenter id, re-encoded as is. */
export interface ExperimenterBand {
  type: B['EXPERIMENTER'];
  rate: number;
  burstSize: number;
  experimenter: number;
  data: Buffer;
}

export type MeterBand = DropBand | DscpRemarkBand | ExperimenterBand;

export interface MeterMod {
  type: (typeof OFPT)['METER_MOD'];
  xid: number;
  command: number;
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

/** Every band type shares this 16-byte size, the experimenter one before its data. */
const BAND_SIZE = 16;

function badBand(detail: string, at: number): OfpError {
  return new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND, detail, at);
}

/** Decodes one band; `r` is positioned at its header. */
export function decodeMeterBand(r: Reader): MeterBand {
  const start = r.pos;
  r.need(4, OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND, 'meter band header');
  const type = r.u16();
  const len = r.u16();
  if (len < BAND_SIZE) throw badBand(`meter band type ${type} has length ${len}`, start);
  const b = r.sub(len - 4, OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND, 'meter band');
  const rate = b.u32();
  const burstSize = b.u32();
  switch (type) {
    case OFPMBT.DROP:
      if (len !== BAND_SIZE) throw badBand(`drop band has length ${len}`, start);
      return { type, rate, burstSize };
    case OFPMBT.DSCP_REMARK:
      if (len !== BAND_SIZE) throw badBand(`dscp_remark band has length ${len}`, start);
      return { type, rate, burstSize, precLevel: b.u8() };
    case OFPMBT.EXPERIMENTER:
      return { type, rate, burstSize, experimenter: b.u32(), data: b.rest() };
    default:
      throw badBand(`unknown meter band type ${type}`, start);
  }
}

export function meterBandLength(band: MeterBand): number {
  return band.type === OFPMBT.EXPERIMENTER ? BAND_SIZE + band.data.length : BAND_SIZE;
}

export function encodeMeterBand(band: MeterBand, w: Writer): void {
  w.u16(band.type);
  w.u16(meterBandLength(band));
  w.u32(band.rate);
  w.u32(band.burstSize);
  switch (band.type) {
    case OFPMBT.DROP:
      w.zeros(4);
      return;
    case OFPMBT.DSCP_REMARK:
      w.u8(band.precLevel);
      w.zeros(3);
      return;
    case OFPMBT.EXPERIMENTER:
      w.u32(band.experimenter);
      w.bytes(band.data);
      return;
  }
}

/** A list of bands filling exactly `r`'s range. */
export function decodeMeterBands(r: Reader): MeterBand[] {
  const out: MeterBand[] = [];
  while (r.pos < r.end) out.push(decodeMeterBand(r));
  return out;
}

export function meterBandsLength(bands: readonly MeterBand[]): number {
  let len = 0;
  for (let i = 0; i < bands.length; i++) len += meterBandLength(bands[i]);
  return len;
}

export function encodeMeterBands(bands: readonly MeterBand[], w: Writer): void {
  for (let i = 0; i < bands.length; i++) encodeMeterBand(bands[i], w);
}

export const meterModCodec: MessageCodec<MeterMod> = {
  decode(r, xid) {
    r.need(8);
    const command = r.u16();
    const flags = r.u16();
    const meterId = r.u32();
    return { type: OFPT.METER_MOD, xid, command, flags, meterId, bands: decodeMeterBands(r) };
  },
  bodyLength: (m) => 8 + meterBandsLength(m.bands),
  encode(m, w) {
    w.u16(m.command);
    w.u16(m.flags);
    w.u32(m.meterId);
    encodeMeterBands(m.bands, w);
  },
};
