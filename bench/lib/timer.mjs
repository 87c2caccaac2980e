// node bench/lib/timer.mjs '{"cmd":…,"args":[…],"warmup":1,"reps":5,"cwd":…,"capture":false}'
//
// Runs a command warmup + reps times from this small process (cheap fork) and prints the
// timed runs as JSON: [{ ms, rssKb, stdout }]. Used by harness.measureCmd / measureTask.
import { runOnce } from './harness.mjs';

const { cmd, args, warmup = 1, reps = 5, cwd, capture = false } = JSON.parse(process.argv[2]);
for (let i = 0; i < warmup; i++) runOnce(cmd, args, { cwd, capture });
const runs = [];
for (let i = 0; i < reps; i++) runs.push(runOnce(cmd, args, { cwd, capture }));
process.stdout.write(JSON.stringify(runs));
