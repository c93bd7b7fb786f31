// rill ship [options] -- CMD ARGS... | rill ship --sink DIR: options → startShip / runSink → exit code (see man/rill-ship.1).
import type { CommandModule } from 'yargs';
import { describeError, exitCodeOf, EXIT, run } from '../cli-run.js';
import { parseDuration, parseSize } from '../cli-units.js';
import { RillError } from '../errors.js';

interface ShipArgs {
  from?: string;
  spool?: string;
  to?: string[];
  sink?: string;
  compress: string;
  bwlimit?: string;
  'ack-timeout': string;
  'retry-for'?: string;
  keep?: boolean;
  'segment-size': string;
  stats?: string;
  json?: boolean;
  progress?: boolean;
  verbose?: boolean;
}

export const shipCommand: CommandModule<object, ShipArgs> = {
  command: 'ship',
  describe: 'deliver a stream reliably to one or more sinks (ssh host rill replay --ack ROOT), or be a sink (--sink DIR)',
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .usage(
        'rill ship [options] -- CMD [ARGS...]\nrill ship --sink DIR\n\n' +
          'Deliver the rill stream on stdin (spooled to --spool DIR first), or the journal --from DIR followed live, to the sink that CMD runs ' +
          '(e.g. ssh standby rill replay --ack /data, or ssh backup rill ship --sink /inbox). The sink says what it holds, ship sends what follows, ' +
          'and the sink acknowledges what is durable; a transport that dies or stalls is restarted with back-off and resumes where the sink is. ' +
          'With --sink DIR, be that receiving end: store the stream as journal segments in DIR, fsync, acknowledge.\n\n' +
          'Exit 0 delivered, 2 usage, 3 bad stream, 5 I/O error or retries given up, 7 the sink refused the stream (another source, missing events), ' +
          '8 the spool or journal is in use by another rill, 130/143 stopped by SIGINT/SIGTERM. See rill-ship(1).',
      )
      .option('from', { type: 'string', requiresArg: true, describe: 'follow the journal DIR live instead of reading stdin (runs until stopped)' })
      .option('spool', { type: 'string', requiresArg: true, describe: 'spool stdin durably in DIR before it is forwarded (default: a temporary directory, removed when delivered)' })
      .option('to', { type: 'string', array: true, requiresArg: true, describe: 'another destination: a shell command line running a sink (repeatable; with or instead of -- CMD)' })
      .option('sink', { type: 'string', requiresArg: true, describe: 'be a sink: store the stream on stdin as journal segments in DIR, acknowledging on stdout' })
      .option('compress', { type: 'string', default: 'zstd', choices: ['zstd', 'gzip', 'none'], describe: 'payload codec of the frames sent, when the sink offers it' })
      .option('bwlimit', { type: 'string', requiresArg: true, describe: 'at most RATE bytes a second to each destination (e.g. 10M, 512K)' })
      .option('ack-timeout', { type: 'string', default: '30s', describe: 'nothing from the sink for this long: the transport is restarted' })
      .option('retry-for', { type: 'string', requiresArg: true, describe: 'give up (exit 5) after this long without progress (default: retry forever)' })
      .option('keep', { type: 'boolean', describe: 'never trim the journal or spool (keep segments for point-in-time use)' })
      .option('segment-size', { type: 'string', default: '64M', describe: 'rotate spool and sink journal segments at this size' })
      .option('stats', { type: 'string', requiresArg: true, describe: 'write statistics as JSON to FILE every few seconds and at exit' })
      .option('json', { type: 'boolean', describe: 'print the final statistics as one JSON line on stdout' })
      .option('progress', { type: 'boolean', describe: 'show progress on stderr (default: when stderr is a terminal)' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'log every session start and end' })
      .example('rill capture --scan --state s /data | rill ship --spool /var/spool/rill/data -- ssh standby rill replay --ack /data', '')
      .example('rill ship --from /var/lib/rill/data --to "ssh a rill replay --ack /data" --to "ssh b rill replay --ack /data"', '')
      .example('ssh backup rill ship --sink /backup/inbox/home < inc.rill > /dev/null', ''),
  handler: (argv) =>
    run(
      'ship',
      async () => {
        if (argv.sink !== undefined) return sink(argv);
        return ship(argv);
      },
      { ownSignals: true },
    ),
};

/** The destinations named by -- CMD ARGS... and --to. */
function destinations(argv: ShipArgs): { name: string; argv: string[] }[] {
  const out: { name: string; argv: string[] }[] = [];
  const rest = ((argv as { '--'?: (string | number)[] })['--'] ?? []).map(String);
  if (rest.length > 0) out.push({ name: rest.join(' '), argv: rest });
  for (const line of argv.to ?? []) out.push({ name: line, argv: ['/bin/sh', '-c', line] });
  return out;
}

async function sink(argv: ShipArgs): Promise<number> {
  if (argv.from !== undefined || argv.spool !== undefined || destinations(argv).length > 0) {
    throw new RillError('usage', '--sink DIR receives on stdin: it takes no --from, --spool, --to or -- CMD');
  }
  const { Upstream } = await import('../ship/upstream.js');
  const { runSink } = await import('../ship/sink.js');
  const { readBatches } = await import('../stream/inputs.js');
  const up = new Upstream();
  try {
    const r = await runSink(argv.sink!, readBatches(['-']), up, { segmentBytes: parseSize(argv['segment-size'], '--segment-size', 64 * 1024, 2 ** 40) });
    if (argv.verbose) process.stderr.write(`rill ship --sink: stored ${r.events} events (${r.dropped} already held)\n`);
    return EXIT.ok;
  } catch (err) {
    up.error(err instanceof RillError ? err.kind : 'internal', exitCodeOf(err), describeError(err));
    throw err;
  }
}

async function ship(argv: ShipArgs): Promise<number> {
  const dests = destinations(argv);
  if (dests.length === 0) throw new RillError('usage', 'name the sink: rill ship [options] -- CMD ARGS... (e.g. -- ssh standby rill replay --ack /data), or --to "CMD"');
  if (argv.from !== undefined && argv.spool !== undefined) throw new RillError('usage', '--from DIR ships a journal; --spool DIR spools stdin: give one of them');
  const ackTimeoutMs = parseDuration(argv['ack-timeout'], '--ack-timeout');
  const retryForMs = argv['retry-for'] === undefined ? undefined : parseDuration(argv['retry-for'], '--retry-for');
  const segmentBytes = parseSize(argv['segment-size'], '--segment-size', 64 * 1024, 2 ** 40);
  const { startShip } = await import('../ship/ship.js');
  const { readBatches } = await import('../stream/inputs.js');
  const { ShipStats } = await import('../ship/stats.js');
  const { ShipProgress } = await import('../ship/progress.js');
  const { parseRate, RateLimit, PacedStream } = await import('../ship/rate.js');
  const rate = parseRate(argv.bwlimit);
  const progress = new ShipProgress({ force: argv.progress });
  const log = (line: string): void => progress.log(`rill ship: ${line}`);
  const stats = new ShipStats({ file: argv.stats, onWarning: log }).start();
  for (const d of dests) stats.add(d.name);
  const draw = setInterval(() => dests.forEach((d) => progress.update(d.name, stats.destination(d.name))), 500);
  draw.unref();
  const shipping = startShip({
    destinations: dests,
    from: argv.from,
    spool: argv.spool,
    input: argv.from === undefined ? readBatches(['-'], { allowEmpty: true }) : undefined,
    codec: argv.compress as 'zstd' | 'gzip' | 'none',
    pace: rate > 0 ? (source) => source.pipe(new PacedStream(new RateLimit(rate))) : undefined,
    ackTimeoutMs,
    retryForMs,
    keep: argv.keep,
    segmentBytes,
    log,
    observer: stats,
  });
  let signalled: number | undefined;
  const onSignal = (code: number) => (): void => {
    log(signalled === undefined ? 'stopping cleanly (signal again to stop at once)' : 'stopping at once');
    signalled ??= code;
    shipping.stop();
  };
  process.on('SIGINT', onSignal(EXIT.interrupted));
  process.on('SIGTERM', onSignal(EXIT.terminated));
  let status: number = EXIT.ok;
  try {
    await shipping.done;
    status = signalled ?? EXIT.ok;
    return status;
  } catch (err) {
    status = exitCodeOf(err);
    throw err;
  } finally {
    clearInterval(draw);
    dests.forEach((d) => progress.update(d.name, stats.destination(d.name)));
    progress.stop();
    stats.finish(status);
    if (argv.json) process.stdout.write(`${stats.jsonLine()}\n`);
  }
}
