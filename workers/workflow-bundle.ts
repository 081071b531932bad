/**
 * The workflow code bundled once to a file, for workers to load with
 * `workflowBundle: { codePath }`: bundling takes 8–20 s of CPU, which a worker
 * started again after a crash would otherwise spend before polling. Beside the
 * bundle, `<file>.sources.json` lists the source files webpack read; the bundle
 * is built again when one of them is newer than it, or missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const REPO_ROOT = path.resolve(__dirname, '..');
const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

const isFile = (file: string) => {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

const sourcesFile = (file: string) => `${file}.sources.json`;

/** The bundle is there and no source it was built from changed since (or is gone). */
export function bundleIsCurrent(file: string): boolean {
  let builtAt: number;
  let sources: string[];
  try {
    builtAt = fs.statSync(file).mtimeMs;
    sources = JSON.parse(fs.readFileSync(sourcesFile(file), 'utf8')) as string[];
  } catch {
    return false;
  }
  return sources.every((source) => {
    try {
      return fs.statSync(path.resolve(REPO_ROOT, source)).mtimeMs <= builtAt;
    } catch {
      return false;
    }
  });
}

/** Bundles the workflows into `file` (written whole or not at all), with the list of sources beside it. */
export async function buildWorkflowBundle(file: string): Promise<void> {
  const began = new Date();
  const sources = new Set<string>();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: quiet,
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.done.tap('workflow-sources', (stats) => {
              for (const dep of stats.compilation.fileDependencies) {
                // Our own source files: not the folders webpack looked in, not the SDK's generated entry point.
                if (dep.startsWith(REPO_ROOT) && !dep.includes(`${path.sep}node_modules${path.sep}`) && isFile(dep)) sources.add(path.relative(REPO_ROOT, dep));
              }
            });
          },
        },
      ],
    }),
  });
  // An SDK upgrade changes the bundle too.
  sources.add('package-lock.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  // Dated when bundling began: a source saved while webpack ran makes it stale.
  fs.utimesSync(tmp, began, began);
  fs.writeFileSync(sourcesFile(file), `${JSON.stringify([...sources].sort(), null, 1)}\n`);
  fs.renameSync(tmp, file);
}

/** Builds the bundle unless it is current; says which. */
export async function ensureWorkflowBundle(file: string): Promise<'reused' | 'built'> {
  if (bundleIsCurrent(file)) return 'reused';
  await buildWorkflowBundle(file);
  return 'built';
}
