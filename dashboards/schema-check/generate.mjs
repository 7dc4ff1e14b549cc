// Writes generated/<name>.ts for every dashboard JSON file given: each panel
// as its own constant typed by its `type` (types.ts: Panels[type],
// GenericPanel or RowPanel), then the dashboard typed as Dashboard with its
// panels by reference. Object literals assigned to typed constants get
// TypeScript's excess property checks, so an unknown key is an error too.
// Beside each <name>.ts, <name>.map.json gives the dashboard file and the
// JSON path of every line, for report.mjs to turn tsc's positions into.
// Usage: node generate.mjs OUT_DIR FILE.json...

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const [outDir, ...files] = process.argv.slice(2);
if (!outDir || files.length === 0) {
  console.error('usage: node generate.mjs OUT_DIR FILE.json...');
  process.exit(2);
}

// The keys of `Panels` in types.ts (panel types with a published plugin schema).
const typesSource = readFileSync(new URL('./types.ts', import.meta.url), 'utf8');
const panelsBlock = typesSource.match(/export interface Panels \{([\s\S]*?)\n\}/);
if (!panelsBlock) {
  console.error('generate.mjs: no `export interface Panels` in types.ts');
  process.exit(2);
}
// Files are named relative to the repository root (dashboards/schema-check/../..).
const root = fileURLToPath(new URL('../..', import.meta.url));
const display = (file) => {
  const r = relative(root, file);
  return r && !r.startsWith('..') ? r : file;
};
const typed = new Set([...panelsBlock[1].matchAll(/^\s*'?([\w-]+)'?\s*:/gm)].map((m) => m[1]));

mkdirSync(outDir, { recursive: true });
for (const old of readdirSync(outDir)) {
  if (old.endsWith('.ts') || old.endsWith('.map.json')) rmSync(join(outDir, old));
}

/** Stands for a panel constant inside the dashboard literal. */
class Ref {
  constructor(name) {
    this.name = name;
  }
}

let failed = false;
const used = new Set();
for (const file of files) {
  const shown = display(file);
  let dashboard;
  try {
    dashboard = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${shown}: not valid JSON: ${e.message}`);
    failed = true;
    continue;
  }
  if (dashboard === null || typeof dashboard !== 'object' || Array.isArray(dashboard)) {
    console.error(`${shown}: not a JSON object`);
    failed = true;
    continue;
  }

  const lines = [];
  const paths = [];
  const line = (text, path = null) => {
    lines.push(text);
    paths.push(path);
  };
  line(`// Generated from ${shown} by generate.mjs: do not edit.`);
  line(`import type { Dashboard, GenericPanel, Panels, RowPanel } from '../types';`);
  line('');

  let n = 0;
  // Emits one panel constant (rows: their panels first); returns its Ref.
  const emit = (panel, path) => {
    const name = `panel${n++}`;
    const type = panel !== null && typeof panel === 'object' ? panel.type : undefined;
    let tsType = 'GenericPanel';
    let body = panel;
    if (type === 'row') {
      tsType = 'RowPanel';
      if (Array.isArray(panel.panels)) {
        body = { ...panel, panels: panel.panels.map((p, i) => emit(p, `${path}.panels[${i}]`)) };
      }
    } else if (typeof type === 'string' && typed.has(type)) {
      tsType = `Panels[${JSON.stringify(type)}]`;
    }
    const title = panel !== null && typeof panel === 'object' ? ` id ${panel.id} ${JSON.stringify(panel.title ?? '')}` : '';
    line(`// ${path}:${title} (${type ?? 'no type'})`, path);
    serialize(body, path, '', `const ${name}: ${tsType} = `, ';', line);
    line('');
    return new Ref(name);
  };

  let top = dashboard;
  if (Array.isArray(dashboard.panels)) {
    top = { ...dashboard, panels: dashboard.panels.map((p, i) => emit(p, `panels[${i}]`)) };
  }
  line('// The dashboard (its panels are checked above).');
  serialize(top, '', '', 'const dashboard: Dashboard = ', ';', line);
  line('');
  line('export default dashboard;');

  let out = basename(file).replace(/\.json$/, '').replace(/[^\w-]/g, '_');
  while (used.has(out)) out += '_';
  used.add(out);
  writeFileSync(join(outDir, `${out}.ts`), lines.join('\n') + '\n');
  writeFileSync(join(outDir, `${out}.map.json`), JSON.stringify({ file: shown, paths }));
}
process.exit(failed ? 1 : 0);

/** Pretty JSON (refs as bare names), one `line(text, jsonPath)` call per line. */
function serialize(value, path, indent, prefix, suffix, line) {
  const inner = indent + '  ';
  if (value instanceof Ref) {
    line(`${indent}${prefix}${value.name}${suffix}`, path);
  } else if (Array.isArray(value)) {
    if (value.length === 0) return line(`${indent}${prefix}[]${suffix}`, path);
    line(`${indent}${prefix}[`, path);
    value.forEach((v, i) => {
      serialize(v, `${path}[${i}]`, inner, '', i < value.length - 1 ? ',' : '', line);
    });
    line(`${indent}]${suffix}`, path);
  } else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return line(`${indent}${prefix}{}${suffix}`, path);
    line(`${indent}${prefix}{`, path);
    keys.forEach((k, i) => {
      const p = /^[A-Za-z_$][\w$]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`;
      serialize(value[k], p, inner, `${JSON.stringify(k)}: `, i < keys.length - 1 ? ',' : '', line);
    });
    line(`${indent}}${suffix}`, path);
  } else {
    line(`${indent}${prefix}${JSON.stringify(value)}${suffix}`, path);
  }
}
