// What `ferkit batch` reads from its arguments: folders recursively, list files (relative paths,
// URLs, comments, folders), globs; unknown and missing list entries kept as items that will fail.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectSources, sourcesOf } from '../../src/batch/inputs.js';
import { tempDir } from '../data/data-fixtures.js';

describe('batch inputs', () => {
  let root: string;
  before(() => {
    root = tempDir('batch-inputs');
    for (const f of ['a/x.jpg', 'a/b/y.PNG', 'a/b/c/clip.mp4', 'a/notes.txt', 'a/b/readme.md', 'z.jpeg']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    writeFileSync(join(root, 'list.txt'), ['# photos', 'a/x.jpg', '', '  z.jpeg  ', 'https://example.org/p/face.jpg?size=2', 'http://127.0.0.1:9/stream', 'missing.jpg', 'doc.pdf', 'a/b', `${root}/a/b/y.PNG`].join('\n'));
  });

  it('walks a folder recursively, media files only, sorted, as absolute paths', async () => {
    const s = await sourcesOf(join(root, 'a'));
    assert.deepEqual(s, [
      { source: join(root, 'a/b/c/clip.mp4'), kind: 'video' },
      { source: join(root, 'a/b/y.PNG'), kind: 'image' },
      { source: join(root, 'a/x.jpg'), kind: 'image' },
    ]);
  });

  it('reads a list: paths relative to it, URLs, folders expanded, comments and blanks skipped, unknown and missing kept', async () => {
    const s = await sourcesOf(join(root, 'list.txt'));
    assert.deepEqual(s, [
      { source: join(root, 'a/x.jpg'), kind: 'image' },
      { source: join(root, 'z.jpeg'), kind: 'image' },
      { source: 'https://example.org/p/face.jpg?size=2', kind: 'image' },
      { source: 'http://127.0.0.1:9/stream', kind: 'auto' },
      { source: join(root, 'missing.jpg'), kind: 'image' },
      { source: join(root, 'doc.pdf'), kind: 'unknown' },
      { source: join(root, 'a/b/c/clip.mp4'), kind: 'video' },
      { source: join(root, 'a/b/y.PNG'), kind: 'image' },
      { source: join(root, 'a/b/y.PNG'), kind: 'image' },
    ]);
  });

  it('matches globs and drops duplicates across arguments', async () => {
    const s = await collectSources([`${root}/**/*.{jpg,jpeg}`, join(root, 'list.txt')]);
    assert.deepEqual(
      s.map((x) => x.source.replace(root, '')),
      ['/a/x.jpg', '/z.jpeg', 'https://example.org/p/face.jpg?size=2', 'http://127.0.0.1:9/stream', '/missing.jpg', '/doc.pdf', '/a/b/c/clip.mp4', '/a/b/y.PNG'],
    );
  });

  it('refuses arguments that name nothing usable, saying what to give', async () => {
    await assert.rejects(sourcesOf(join(root, 'nope')), /nope: no such file or folder; give a folder, a list file/);
    await assert.rejects(sourcesOf(join(root, 'a/b/readme.md')), /unknown file type "\.md"/);
    await assert.rejects(sourcesOf(`${root}/**/*.gif`), /the glob matches no images or videos/);
    mkdirSync(join(root, 'empty'));
    await assert.rejects(sourcesOf(join(root, 'empty')), /no images or videos under the folder/);
  });
});
