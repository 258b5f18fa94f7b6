// Writes plotly.js's global style rules (what it would inject as a <style> element) as a stylesheet:
// node tools/plotly-css.js static/vendor/plotly/plotly-basic.min.js > static/vendor/plotly/plotly.css
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
// The rules are an object literal whose first key is "X,X div"; the variable's minified name varies.
const start = src.indexOf("={\"X,X div\"") + 1;
let depth = 0, i = start, inStr = null;
for (; i < src.length; i++) {
  const c = src[i];
  if (inStr) { if (c === "\\") { i++; continue; } if (c === inStr) inStr = null; continue; }
  if (c === '"' || c === "'" || c === "`") { inStr = c; continue; }
  if (c === "{") depth++;
  if (c === "}") { depth--; if (depth === 0) break; }
}
const rules = eval("(" + src.slice(start, i + 1) + ")");
let out = "/* plotly.js's own rules, from the bundle it ships with (make vendor-plotly); loaded as a file\n   because the Content Security Policy refuses the <style> element plotly would inject. */\n";
for (const key in rules) {
  const sel = key.replace(/^,/, " ,").replace(/X/g, ".js-plotly-plot .plotly").replace(/Y/g, ".plotly-notifier");
  out += `${sel}{${rules[key]}}\n`;
}
process.stdout.write(out);
