// Reads tsc's output (--pretty false) on stdin and prints it with each
// position in generated/<name>.ts turned into the dashboard file and the JSON
// path of the offending key, keeping the generated position at the end.

import { existsSync, readFileSync } from 'node:fs';

const maps = new Map();
const mapFor = (ts) => {
  if (!maps.has(ts)) {
    const map = ts.replace(/\.ts$/, '.map.json');
    maps.set(ts, existsSync(map) ? JSON.parse(readFileSync(map, 'utf8')) : null);
  }
  return maps.get(ts);
};

const input = readFileSync(0, 'utf8');
for (const text of input.split('\n')) {
  const m = text.match(/^(generated\/[^(]+\.ts)\((\d+),(\d+)\): (.*)$/);
  const map = m && mapFor(m[1]);
  if (!map) {
    if (text !== '') console.log(text);
    continue;
  }
  const path = map.paths[Number(m[2]) - 1];
  console.log(`${map.file}: ${path || '(top level)'}: ${m[4]}  [${m[1]}:${m[2]}:${m[3]}]`);
}
