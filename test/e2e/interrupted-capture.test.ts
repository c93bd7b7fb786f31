// A pipeline `rill capture --scan --state S ROOT | rill replay DST` that dies mid-stream: replay
// applied part of change set A1, and capture (EPIPE) did not commit S. The next capture numbers a
// different change set A2 from the same base: replay must not skip A2's first seqs as applied (they
// are other events) but refuse it (exit 7) and change nothing; a --full capture resyncs. The same
// stream sent again still resumes; a full stream of the source from another run applies whole.
// Trees and volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/tree.js';
import { RILL, rill, sh, q } from '../helpers/cli.js';

const T = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z';

/** The header of a stream file (rill dump). */
function header(stream: string): { source: string; created: string; base?: number; full?: boolean } {
  const r = rill(['dump', stream]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString().split('\n', 1)[0]!) as { source: string; created: string; base?: number; full?: boolean };
}

/** seq of a stream's first event. */
function firstSeq(stream: string): number {
  const r = rill(['dump', stream]);
  return (JSON.parse(r.stdout.toString().split('\n')[1]!) as { seq: number }).seq;
}

/** Everything in a tree except rill's own files under .rill: names, types, sizes, contents. */
function view(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(rel === '' ? root : `${root}/${rel}`).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    if (path === '.rill') continue;
    const st = lstatSync(`${root}/${path}`);
    out.push(`${path} ${st.mode.toString(8)} ${st.size} ${st.isFile() ? readFileSync(`${root}/${path}`).toString('base64').slice(0, 40) : ''}`);
    if (st.isDirectory()) out.push(...view(root, path));
  }
  return out;
}

const replicaState = (root: string) => JSON.parse(readFileSync(`${root}/.rill/state.json`, 'utf8')) as { lastSeq: number; created?: string };
const markOf = (root: string) => {
  const text = readFileSync(`${root}/.rill/inflight`, 'utf8').trim();
  return text === '' ? undefined : (JSON.parse(text) as { seq: number; created?: string });
};

/** New directories d<i> with files of random data (several MB in all: far more than a pipe holds). */
function grow(src: string, dirs: number, files: number, size: number): void {
  for (let d = 0; d < dirs; d++) {
    mkdirSync(`${src}/d${d}`, { recursive: true });
    for (let f = 0; f < files; f++) writeFileSync(`${src}/d${d}/f${f}`, randomBytes(size));
  }
}

function ok(r: { code: number; stderr: string; stdout: Buffer }, what: string): void {
  assert.equal(r.code, 0, `${what} (${r.code}):\n${r.stdout.toString()}${r.stderr}`);
}

test('a tree: the change set after a pipeline that died (capture did not commit) is refused, exit 7, nothing changed; --full resyncs', () => {
  const { dir, cleanup } = tempDir('rill-interrupted-');
  try {
    const src = `${dir}/src`;
    const rep = `${dir}/rep`;
    const state = `${dir}/state`;
    mkdirSync(src);
    writeFileSync(`${src}/old`, 'old file');
    ok(sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)} && rill verify ${q(src)} ${q(rep)}`), 'first round');
    const base = replicaState(rep).lastSeq;
    const committed = readFileSync(state);

    // A1: about 10 MB of new files; the pipeline dies after 2 MB (head exits, capture gets EPIPE).
    grow(src, 8, 6, 200_000);
    const cut = sh(`rill capture --scan --state ${q(state)} ${q(src)} | head -c 2000000 | rill replay ${q(rep)}`);
    assert.equal(cut.code, 3, `replay of the cut stream: ${cut.stderr}`);
    assert.ok(readFileSync(state).equals(committed), 'capture did not commit its state');
    assert.equal(replicaState(rep).lastSeq, base, 'a tree scan commits at its end only');
    const mark = markOf(rep);
    assert.ok(mark !== undefined && mark.seq > base && mark.created !== undefined, `the mark names A1 and how far it got: ${JSON.stringify(mark)}`);
    assert.ok(existsSync(`${rep}/d0`), 'part of A1 is in the replica');

    // The source changes on: d0 goes away. A2 numbers from base + 1 again, with other events.
    rmSync(`${src}/d0`, { recursive: true });
    writeFileSync(`${src}/old`, 'changed');
    const before = view(rep);
    const beforeState = readFileSync(`${rep}/.rill/state.json`);
    const beforeMark = readFileSync(`${rep}/.rill/inflight`);
    const a2 = sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)}`);
    assert.equal(a2.code, 7, a2.stderr);
    assert.match(
      a2.stderr,
      new RegExp(
        `has applied seqs ${base + 1}\\.\\.${mark.seq} \\(and maybe part of later ones: a replay of it stopped there\\) of another stream of source [-0-9a-f]+ ` +
          `\\(created ${T}, an interrupted run whose capture did not commit its state\\), which this change set \\(created ${T}, on top of seq ${base}\\) does not build on`,
      ),
    );
    assert.match(a2.stderr, /rill capture --scan --state FILE --full/);
    assert.deepEqual(view(rep), before, 'nothing applied');
    assert.ok(readFileSync(`${rep}/.rill/state.json`).equals(beforeState) && readFileSync(`${rep}/.rill/inflight`).equals(beforeMark), 'nothing recorded');

    // Resync with a full stream of the source, then change sets follow on.
    const full = sh(`rill capture --scan --state ${q(state)} --full ${q(src)} | rill replay ${q(rep)} && rill verify ${q(src)} ${q(rep)}`);
    ok(full, 'the full capture');
    assert.match(full.stderr, /from another stream of it \(created .*\); this full stream \(created .*\) is applied whole, nothing skipped/);
    assert.doesNotMatch(full.stderr, /skipped \d+ events/);
    writeFileSync(`${src}/new`, 'after the resync');
    ok(sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)} && rill verify ${q(src)} ${q(rep)}`), 'the next change set');
  } finally {
    cleanup();
  }
});

test('a tree: the same stream sent again after a kill -9 resumes (skips what was applied); a full stream of the source from another run applies whole', async () => {
  const { dir, cleanup } = tempDir('rill-interrupted-');
  try {
    const src = `${dir}/src`;
    const rep = `${dir}/rep`;
    const state = `${dir}/state`;
    mkdirSync(src);
    writeFileSync(`${src}/old`, 'old file');
    ok(sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)}`), 'first round');
    const base = replicaState(rep).lastSeq;
    grow(src, 8, 6, 200_000);
    const a1 = `${dir}/a1.rill`;
    ok(sh(`rill capture --scan --state ${q(state)} ${q(src)} > ${q(a1)}`), 'capture A1');
    const bytes = readFileSync(a1);

    // Replay half of A1, wait until it marked progress past the base, kill -9.
    const child = spawn(RILL, ['replay', rep], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdin.on('error', () => {});
    child.stdin.write(bytes.subarray(0, bytes.length >> 1));
    for (let i = 0; i < 400 && (markOf(rep)?.seq ?? 0) <= base + 2; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const mark = markOf(rep);
    assert.ok(mark !== undefined && mark.seq > base, 'progress past the base was marked');
    assert.equal(mark.created, header(a1).created, 'the mark names the stream');

    const again = sh(`rill replay ${q(rep)} < ${q(a1)} && rill verify ${q(src)} ${q(rep)}`);
    ok(again, 'A1 again');
    assert.match(again.stderr, new RegExp(`skipped \\d+ events already applied \\(source .*, seq <= ${mark.seq}`));
    assert.equal(replicaState(rep).created, header(a1).created);

    // Two full captures of the source from the same state: the first one's capture "did not commit",
    // so the second numbers from the same seq with other events (the source changed in between).
    copyFileSync(state, `${state}.bak`);
    const f1 = `${dir}/f1.rill`;
    const f2 = `${dir}/f2.rill`;
    ok(sh(`rill capture --scan --state ${q(state)} --full ${q(src)} > ${q(f1)} && rill replay ${q(rep)} < ${q(f1)} && rill verify ${q(src)} ${q(rep)}`), 'full stream F1');
    writeFileSync(`${src}/old`, 'changed in between');
    writeFileSync(`${src}/d3/f2`, randomBytes(200_000));
    rmSync(`${src}/d5`, { recursive: true });
    copyFileSync(`${state}.bak`, state);
    ok(sh(`rill capture --scan --state ${q(state)} --full ${q(src)} > ${q(f2)}`), 'full stream F2');
    assert.equal(header(f2).source, header(f1).source);
    assert.equal(firstSeq(f2), firstSeq(f1), 'F2 numbers its events from the same seq as F1');
    assert.notEqual(header(f2).created, header(f1).created);
    const f = sh(`rill replay ${q(rep)} < ${q(f2)} && rill verify ${q(src)} ${q(rep)}`);
    ok(f, 'full stream F2');
    assert.match(f.stderr, /is applied whole, nothing skipped/);
    assert.doesNotMatch(f.stderr, /skipped \d+ events/);
    // F1 again now is another stream than the replica's: applied whole too (it makes the replica F1's tree).
    const back = sh(`rill replay ${q(rep)} < ${q(f1)}`);
    ok(back, 'F1 again');
    assert.match(back.stderr, /is applied whole, nothing skipped/);
    assert.equal(readFileSync(`${rep}/old`, 'utf8'), 'old file');
    assert.ok(existsSync(`${rep}/d5`));
  } finally {
    cleanup();
  }
});

test('a volume: the change set after a pipeline that died is refused (exit 7), as is one after another run’s applied change set; --full resyncs', () => {
  const { dir, cleanup } = tempDir('rill-interrupted-');
  try {
    const img = `${dir}/vm.img`;
    const copy = `${dir}/copy.img`;
    const state = `${dir}/vm.state`;
    const copyState = `${dir}/.copy.img.rill-state`;
    const size = 16 << 20;
    writeFileSync(img, randomBytes(size));
    ok(sh(`rill capture --scan --state ${q(state)} ${q(img)} | rill replay ${q(copy)} && cmp ${q(img)} ${q(copy)}`), 'first round');
    const base = (JSON.parse(readFileSync(copyState, 'utf8')) as { lastSeq: number }).lastSeq;
    const committed = readFileSync(state);
    const volumeState = () => JSON.parse(readFileSync(copyState, 'utf8')) as { lastSeq: number; created?: string; partial?: boolean };

    // A1 rewrites 12 MB; the pipeline dies after 2 MB, before any commit (volumes commit every GiB).
    const data = readFileSync(img);
    randomBytes(12 << 20).copy(data, 2 << 20);
    writeFileSync(img, data);
    const cut = sh(`rill capture --scan --state ${q(state)} ${q(img)} | head -c 2000000 | rill replay ${q(copy)}`);
    assert.equal(cut.code, 3, cut.stderr);
    assert.ok(readFileSync(state).equals(committed), 'capture did not commit its state');
    const partial = volumeState();
    assert.deepEqual([partial.lastSeq, partial.partial], [base, true], 'the state says a stream other than the recorded one was begun');
    assert.ok(partial.created !== undefined);

    randomBytes(4096).copy(data, 0);
    writeFileSync(img, data);
    const before = readFileSync(copy);
    const a2 = sh(`rill capture --scan --state ${q(state)} ${q(img)} | rill replay ${q(copy)}`);
    assert.equal(a2.code, 7, a2.stderr);
    assert.match(
      a2.stderr,
      new RegExp(`has applied part of the events after seq ${base} \\(a replay of it stopped there\\) of another stream of source .* \\(created ${T}, an interrupted run whose capture did not commit its state\\), which this change set .* does not build on`),
    );
    assert.ok(readFileSync(copy).equals(before), 'nothing applied');
    assert.deepEqual(volumeState(), partial, 'nothing recorded');

    const full = sh(`rill capture --scan --state ${q(state)} --full ${q(img)} | rill replay ${q(copy)} && cmp ${q(img)} ${q(copy)}`);
    ok(full, 'the full capture');
    assert.match(full.stderr, /is applied whole, nothing skipped/);
    assert.equal(volumeState().partial, undefined);

    // A1' applied completely, but its capture did not commit (the state is put back): the next
    // change set numbers from the same base, below the replica's seq.
    const base2 = volumeState().lastSeq;
    copyFileSync(state, `${state}.bak`);
    randomBytes(1 << 20).copy(data, 5 << 20);
    writeFileSync(img, data);
    const a1 = `${dir}/a1.rill`;
    ok(sh(`rill capture --scan --state ${q(state)} ${q(img)} > ${q(a1)} && rill replay ${q(copy)} < ${q(a1)}`), "A1'");
    const applied = volumeState().lastSeq;
    assert.ok(applied > base2);
    copyFileSync(`${state}.bak`, state);
    randomBytes(4096).copy(data, 9 << 20);
    writeFileSync(img, data);
    const after = readFileSync(copy);
    const a3 = sh(`rill capture --scan --state ${q(state)} ${q(img)} | rill replay ${q(copy)}`);
    assert.equal(a3.code, 7, a3.stderr);
    assert.match(a3.stderr, new RegExp(`has applied seqs ${base2 + 1}\\.\\.${applied} of another stream of source .* which this change set \\(created ${T}, on top of seq ${base2}\\) does not build on`));
    assert.ok(readFileSync(copy).equals(after), 'nothing applied');
    // The same stream again is skipped as applied, as before.
    const again = sh(`rill replay ${q(copy)} < ${q(a1)}`);
    ok(again, "A1' again");
    assert.match(again.stderr, new RegExp(`skipped \\d+ events already applied \\(source .*, seq <= ${applied}`));
    ok(sh(`rill capture --scan --state ${q(state)} --full ${q(img)} | rill replay ${q(copy)} && cmp ${q(img)} ${q(copy)}`), 'the full capture');
  } finally {
    cleanup();
  }
});
