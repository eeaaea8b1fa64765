/**
 * Fuzzing benchmark (`npm run bench:fuzz`): the campaign of test/fuzz/ with
 * 1,000,000 mutated messages (FUZZ_MESSAGES), 1% of them framing mutations
 * on fresh connections, the rest body mutations on one connection, while
 * another tenant installs flows. Prints the seed (FUZZ_SEED), the rate and
 * the counts by outcome, one `name: value unit` per line; exits 1 if any
 * rule was broken (listing what).
 */
import { errorTypeName } from '../libs/openflow/src/index.js';
import { FRAMING_KINDS } from '../test/fuzz/mutate.js';
import { runFuzz } from '../test/fuzz/campaign.js';

const TOTAL = Number(process.env.FUZZ_MESSAGES ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);
const FRAMING = Math.max(FRAMING_KINDS.length, Math.round(TOTAL / 100 / FRAMING_KINDS.length) * FRAMING_KINDS.length);

console.log(`fuzz_seed: ${SEED} (0x${SEED.toString(16)})`);
const r = await runFuzz({ seed: SEED, bodyMessages: TOTAL - FRAMING, framingMessages: FRAMING });
const secs = r.elapsedMs / 1000;
const line = (name: string, value: number | string, unit: string) => console.log(`${name}: ${value} ${unit}`.trimEnd());
line('fuzz_messages', TOTAL, 'msgs');
line('fuzz_rate', Math.round(TOTAL / secs), 'msgs/s');
line('fuzz_elapsed', secs.toFixed(1), 's');
for (const [k, n] of Object.entries(r.body)) line(`fuzz_body_${k}`, n, 'msgs');
line('fuzz_body_replies', r.replies, 'msgs');
for (const [t, n] of Object.entries(r.errorsByType)) line(`fuzz_body_error_${t === 'experimenter' ? t : errorTypeName(Number(t)).toLowerCase()}`, n, 'msgs');
for (const [k, s] of Object.entries(r.framing)) {
  line(`fuzz_framing_${k.replace(/-/g, '_')}`, s.sent, 'connections');
  line(`fuzz_framing_${k.replace(/-/g, '_')}_errors`, s.errors, 'msgs');
  line(`fuzz_framing_${k.replace(/-/g, '_')}_closed`, s.closedByServer, 'connections');
}
line('fuzz_unsolicited', r.unsolicited, 'msgs');
line('fuzz_victim_flowmods', r.victim.flowMods, 'msgs');
line('fuzz_victim_errors', r.victim.errors, 'msgs');
line('fuzz_victim_missing', r.victim.missingOnNic, 'flows');
line('fuzz_alive', r.alive ? 1 : 0, '');
line('fuzz_problems', r.problems.length, '');
for (const p of r.problems) console.log(`problem: ${p}`);
process.exit(r.problems.length === 0 && r.alive ? 0 : 1);
