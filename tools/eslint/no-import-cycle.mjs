/**
 * `project/no-import-cycle`: an import that leads, through the project's own
 * modules, back to the file that makes it. Every import counts, `import type`
 * included: eslint-plugin-import-x's `no-cycle` skips type-only imports, yet a
 * type cycle still ties two layers together. Relative imports are resolved as
 * TypeScript resolves them (extensionless, folder index); packages are not
 * followed.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const options = { moduleResolution: ts.ModuleResolutionKind.Node10, resolveJsonModule: true };
/** file -> { mtime, targets } */
const graph = new Map();

function resolve(from, spec) {
  if (!spec.startsWith('.')) return null;
  const r = ts.resolveModuleName(spec, from, options, ts.sys).resolvedModule;
  return r && !r.isExternalLibraryImport && /\.tsx?$/.test(r.resolvedFileName) && !r.resolvedFileName.endsWith('.d.ts') ? path.resolve(r.resolvedFileName) : null;
}

function importsOf(file) {
  let mtime;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const cached = graph.get(file);
  if (cached?.mtime === mtime) return cached.targets;
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const targets = [...new Set(importedFiles.map((f) => resolve(file, f.fileName)).filter((t) => t && t !== file))];
  graph.set(file, { mtime, targets });
  return targets;
}

/** The shortest route from `start` back to `file`, or null. */
function routeBack(start, file) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift();
    for (const next of importsOf(at)) {
      if (next === file) {
        const route = [];
        for (let n = at; n; n = previous.get(n)) route.unshift(n);
        return route;
      }
      if (!previous.has(next)) {
        previous.set(next, at);
        queue.push(next);
      }
    }
  }
  return null;
}

export const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles between project modules, type-only imports included' },
    schema: [],
    messages: { cycle: 'Import cycle: {{route}}' },
  },
  create(context) {
    const file = path.resolve(context.physicalFilename);
    const root = context.cwd;
    const check = (node) => {
      if (!node.source || typeof node.source.value !== 'string') return;
      const target = resolve(file, node.source.value);
      if (!target) return;
      const route = target === file ? null : routeBack(target, file);
      if (route) context.report({ node, messageId: 'cycle', data: { route: [file, ...route, file].map((f) => path.relative(root, f)).join(' -> ') } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, TSImportEqualsDeclaration: (n) => n.moduleReference.expression && check({ ...n, source: n.moduleReference.expression }) };
  },
};

export default { rules: { 'no-import-cycle': noImportCycle } };
