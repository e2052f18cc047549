'use strict';
/*
 * The `import/resolver` that eslint-plugin-boundaries uses to find which file an import names.
 * The sources use NodeNext specifiers, so './a.js' names './a.ts'; the stock node resolver
 * cannot map that. Packages stay unresolved on purpose: the plugin then classifies them by
 * name as external, or core for node: built-ins.
 */
const { statSync } = require('node:fs');
const { dirname, resolve } = require('node:path');

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

module.exports = {
  interfaceVersion: 2,
  resolve(source, file) {
    if (!source.startsWith('./') && !source.startsWith('../')) return { found: false };
    const target = resolve(dirname(file), source);
    const candidates = target.endsWith('.js') ? [`${target.slice(0, -3)}.ts`, target] : [target];
    const path = candidates.find(isFile);
    return path ? { found: true, path } : { found: false };
  },
};
