// A workflow definition: the JSON file users write, its zod schema, and the checks run before it
// is saved (every message names the step). The format and its semantics are documented in
// docs/workflows.md.
//
//   {"name", "description"?, "steps": [{"id", "action"?, "when"?, "input"?, "set"?, "end"?}]}
//
// A step with `action` calls that registered action with `input` (target field → JSONata). A
// step without `action` only sets variables (`set`) and/or stops the run (`end`).
import { z } from 'zod';
import { compileExpression, ExpressionError } from '../../core/jsonata.ts';
import { getAction } from '../actions/index.ts';

/** Step ids and variable names are plain JSONata names, so `steps.<id>` and `vars.<name>` work unquoted. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(64, `${what} must be at most 64 characters`)
    .regex(IDENTIFIER, `${what} must be letters, digits or "_", not starting with a digit`);

const expression = z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters');

export const workflowStepSchema = z.strictObject({
  id: identifier('a step id'),
  /** a registered action (intake actions list); absent for a step that only sets or ends */
  action: z.string().trim().min(1, 'must not be empty').optional(),
  /** JSONata; a falsy result skips the step */
  when: expression.optional(),
  /** the action's target field → JSONata */
  input: z.record(z.string(), expression).optional(),
  /** variable → JSONata, evaluated after the step's action (it sees `steps.<this id>`) */
  set: z.record(identifier('a variable name'), expression).optional(),
  /** true, or JSONata evaluated after `set`: a truthy result ends the run (succeeded) after this step */
  end: z.union([z.boolean(), expression]).optional(),
});
export type WorkflowStep = z.output<typeof workflowStepSchema>;

const stepsSchema = z.array(workflowStepSchema).min(1, 'a workflow needs at least one step').max(100, 'at most 100 steps');

export const workflowDefinitionSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: z.string().max(2000, 'must be at most 2000 characters').nullish(),
  steps: stepsSchema,
});
export type WorkflowDefinition = z.output<typeof workflowDefinitionSchema>;

/** What is stored in intake.workflows.definition (name and description are columns). */
export const storedDefinitionSchema = z.object({ steps: stepsSchema });
export type StoredDefinition = z.output<typeof storedDefinitionSchema>;

export function toStored(definition: WorkflowDefinition): StoredDefinition {
  return { steps: definition.steps };
}

export type ValidationResult =
  | { ok: true; definition: WorkflowDefinition; errors: [] }
  | { ok: false; definition: null; errors: string[] };

/** `step "triage"` when the step at that index has a usable id, else `steps[2]`. */
function stepLabel(raw: unknown, index: number): string {
  const steps = (raw as { steps?: unknown } | null)?.steps;
  const id = Array.isArray(steps) ? (steps[index] as { id?: unknown } | null)?.id : undefined;
  return typeof id === 'string' && id !== '' ? `step ${JSON.stringify(id)}` : `steps[${index}]`;
}

function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path;
  if (path[0] === 'steps' && typeof path[1] === 'number') {
    const rest = path.slice(2).map(String).join('.');
    return `${stepLabel(raw, path[1])}: ${rest ? `${rest}: ` : ''}${issue.message}`;
  }
  return `${path.length ? path.map(String).join('.') : 'definition'}: ${issue.message}`;
}

function expressionProblem(where: string, source: string): string | null {
  try {
    compileExpression(source, { timeoutMs: 1000 });
    return null;
  } catch (error) {
    return `${where}: ${error instanceof ExpressionError ? error.message : String(error)}`;
  }
}

/** The checks that need the registry and the JSONata compiler, on a structurally valid step. */
function stepProblems(step: WorkflowStep): string[] {
  const problems: string[] = [];
  const expressions: [string, string][] = [];
  if (step.when !== undefined) expressions.push(['when', step.when]);

  if (step.action === undefined) {
    if (step.input !== undefined) problems.push('input: a step without "action" takes no input');
    if (step.set === undefined && step.end === undefined) problems.push('needs an "action", or "set" or "end"');
  } else {
    const action = getAction(step.action);
    if (!action) {
      problems.push(`unknown action ${JSON.stringify(step.action)} (see: intake actions list)`);
    } else {
      const input = step.input ?? {};
      const fields = action.definition.targetFields;
      const names = new Set(fields.map((f) => f.name));
      for (const field of Object.keys(input)) {
        if (!names.has(field)) {
          problems.push(`input.${field}: ${step.action} has no field ${JSON.stringify(field)} (fields: ${[...names].join(', ')})`);
        }
      }
      const missing = fields.filter((f) => f.required && !(f.name in input));
      if (missing.length) {
        problems.push(`input: ${step.action} needs ${missing.map((f) => JSON.stringify(f.name)).join(', ')}`);
      }
    }
    for (const [field, source] of Object.entries(step.input ?? {})) expressions.push([`input.${field}`, source]);
  }
  for (const [name, source] of Object.entries(step.set ?? {})) expressions.push([`set.${name}`, source]);
  if (typeof step.end === 'string') expressions.push(['end', step.end]);

  for (const [where, source] of expressions) {
    const problem = expressionProblem(where, source);
    if (problem) problems.push(problem);
  }
  return problems;
}

/**
 * Checks a definition file's content: its shape, unique step ids, each action is registered and
 * each step's input names that action's fields (all the required ones), and every JSONata
 * expression compiles. Each message names the step: `step "ticket": input.title: invalid JSONata
 * at position 7: …`.
 */
export function validateDefinition(raw: unknown): ValidationResult {
  const parsed = workflowDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, definition: null, errors: parsed.error.issues.map((issue) => describeIssue(raw, issue)) };
  }
  const definition = parsed.data;
  const errors: string[] = [];
  const seen = new Map<string, number>();
  definition.steps.forEach((step, index) => {
    const label = `step ${JSON.stringify(step.id)}`;
    const first = seen.get(step.id);
    if (first !== undefined) errors.push(`${label}: duplicate step id (steps[${first}] and steps[${index}])`);
    else seen.set(step.id, index);
    for (const problem of stepProblems(step)) errors.push(`${label}: ${problem}`);
  });
  return errors.length ? { ok: false, definition: null, errors } : { ok: true, definition, errors: [] };
}
