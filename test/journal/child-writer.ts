// A writer in a process of its own, for the lock, follow and kill -9 tests:
//   hold DIR            open the journal, print "ready PID", keep it until stdin ends
//   stream DIR N MS     write a stream of N events (events(1, N)), one every MS ms, sync each, print "synced SEQ"; end it
//   forever DIR         write events as fast as it can, print "synced SEQ" after each sync, until killed
import { JournalWriter } from '../../src/journal/index.js';
import { events, header } from './helpers.js';

const [mode, dir, a, b] = process.argv.slice(2);
const say = (line: string): void => void process.stdout.write(`${line}\n`);

if (mode === 'hold') {
  const w = await JournalWriter.open(dir!);
  say(`ready ${process.pid}`);
  process.stdin.resume();
  process.stdin.on('end', () => void w.close().then(() => process.exit(0)));
} else if (mode === 'stream') {
  const w = await JournalWriter.open(dir!, { segmentBytes: 50_000 });
  w.beginStream(header({ full: true }));
  for (const e of events(1, Number(a))) {
    w.append(e);
    say(`synced ${(await w.sync())!.seq}`);
    await new Promise((r) => setTimeout(r, Number(b)));
  }
  w.endStream();
  await w.close();
} else if (mode === 'forever') {
  const w = await JournalWriter.open(dir!, { frameBytes: 16 * 1024 });
  w.beginStream(header({ full: true }));
  let seq = 0;
  for (;;) {
    for (const e of events(seq + 1, 20)) w.append(e);
    seq += 20;
    say(`synced ${(await w.sync())!.seq}`);
  }
}
