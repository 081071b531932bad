/**
 * The prebuilt workflow bundle (workers/workflow-bundle.ts) is used only while
 * it is current: a source it was built from that changed or went away, or a
 * bundle without its list of sources, makes the worker bundle the code itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleIsCurrent } from '../../workers/workflow-bundle';

let dir: string;
let bundle: string;
let source: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(process.env.TEST_TMP_DIR ?? os.tmpdir(), 'bundle-'));
  bundle = path.join(dir, 'workflow-bundle.js');
  source = path.join(dir, 'dossier.ts');
  fs.writeFileSync(source, 'export {};\n');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(source, past, past);
  fs.writeFileSync(bundle, '// bundled\n');
  fs.writeFileSync(`${bundle}.sources.json`, JSON.stringify([source]));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a bundle newer than every source it lists is current', () => {
  expect(bundleIsCurrent(bundle)).toBe(true);
});

test('a source changed after the bundle makes it stale', () => {
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(source, later, later);
  expect(bundleIsCurrent(bundle)).toBe(false);
});

test('a source gone, a list of sources gone or no bundle at all makes it stale', () => {
  fs.rmSync(source);
  expect(bundleIsCurrent(bundle)).toBe(false);
  fs.writeFileSync(source, 'export {};\n');
  fs.utimesSync(source, new Date(0), new Date(0));
  fs.rmSync(`${bundle}.sources.json`);
  expect(bundleIsCurrent(bundle)).toBe(false);
  expect(bundleIsCurrent(path.join(dir, 'absent.js'))).toBe(false);
});
