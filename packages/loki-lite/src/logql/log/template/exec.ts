import { type Arg, type Node, type Pipeline, parseTemplate, TemplateError } from './parse.js';
import { FUNCTIONS, type GoValue, GoTime, printValue, truth } from './functions.js';

/** What a template sees: the line's labels (missing ones are ""), the line and its timestamp. */
export interface TemplateContext {
  readonly data: ReadonlyMap<string, string>;
  readonly line: string;
  readonly timestamp: bigint;
}

export interface CompiledTemplate {
  /** Runs the template; throws TemplateError with Go's wording when execution fails. */
  execute(ctx: TemplateContext): string;
  /** True if the template uses no field, variable or function that depends on the line. */
  readonly constant: boolean;
}

class Exec {
  private readonly vars = new Map<string, GoValue>();
  constructor(
    private readonly ctx: TemplateContext,
    private readonly name: string,
  ) {
    this.vars.set('$', ctx.data);
  }

  nodes(list: readonly Node[], dot: GoValue, out: string[]): void {
    for (const n of list) {
      switch (n.kind) {
        case 'text':
          out.push(n.text);
          break;
        case 'action': {
          const v = this.pipeline(n.pipeline, dot);
          if (n.pipeline.decl === undefined) out.push(printValue(v));
          break;
        }
        case 'if':
        case 'with': {
          const v = this.pipeline(n.pipeline, dot);
          if (truth(v)) this.nodes(n.then, n.kind === 'with' ? v : dot, out);
          else this.nodes(n.otherwise, dot, out);
          break;
        }
        case 'range': {
          const v = this.pipeline(n.pipeline, dot);
          const items = v instanceof Map ? [...v.values()] : Array.isArray(v) ? v : [];
          if (items.length === 0) this.nodes(n.otherwise, dot, out);
          for (const item of items) this.nodes(n.then, item as GoValue, out);
          break;
        }
      }
    }
  }

  pipeline(p: Pipeline, dot: GoValue): GoValue {
    let value: GoValue | undefined;
    for (const cmd of p.commands) value = this.command(cmd.args, dot, value);
    if (p.decl !== undefined) this.vars.set(p.decl, value!);
    return value!;
  }

  private command(args: readonly Arg[], dot: GoValue, piped: GoValue | undefined): GoValue {
    const head = args[0]!;
    if (head.kind === 'ident') {
      const values = args.slice(1).map((a) => this.arg(a, dot));
      if (piped !== undefined) values.push(piped);
      return this.call(head.name, values);
    }
    if (args.length > 1 || piped !== undefined) {
      throw new TemplateError(`template: ${this.name}:1: can't give argument to non-function ${describe(head)}`);
    }
    return this.arg(head, dot);
  }

  /** Calls a function; what it throws (wrong arguments, division by zero) is an execution error, as in Go. */
  private call(name: string, values: GoValue[]): GoValue {
    const fn = this.fn(name);
    try {
      return fn(values);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      throw new TemplateError(`template: ${this.name}:1:${0}: executing "${this.name}" at <${name}>: error calling ${name}: ${(e as Error).message}`);
    }
  }

  private fn(name: string): (args: GoValue[]) => GoValue {
    if (name === '__line__') return () => this.ctx.line;
    if (name === '__timestamp__') return () => new GoTime(this.ctx.timestamp);
    const f = FUNCTIONS.get(name);
    if (!f) throw new TemplateError(`template: ${this.name}:1: function "${name}" not defined`);
    return f;
  }

  private arg(a: Arg, dot: GoValue): GoValue {
    switch (a.kind) {
      case 'string':
        return a.value;
      case 'number':
        return a.isInt ? BigInt(Math.trunc(a.value)) : a.value;
      case 'bool':
        return a.value;
      case 'nil':
        return null;
      case 'dot':
        return dot;
      case 'field':
        return fieldOf(dot, a.path);
      case 'var': {
        const v = this.vars.get(a.name);
        if (v === undefined) throw new TemplateError(`template: ${this.name}:1: undefined variable: ${a.name}`);
        return fieldOf(v, a.path);
      }
      case 'pipeline':
        return this.pipeline(a.pipeline, dot);
      case 'ident':
        return this.call(a.name, []);
    }
  }
}

/** `.a.b` on a map: a missing key is "" (Loki runs templates with missingkey=zero over string maps). */
function fieldOf(v: GoValue, path: readonly string[]): GoValue {
  let cur = v;
  for (const p of path) {
    if (cur instanceof Map) cur = (cur.get(p) as GoValue | undefined) ?? '';
    else return '';
  }
  return cur;
}

function describe(a: Arg): string {
  return a.kind === 'string' ? JSON.stringify(a.value) : a.kind === 'number' ? String(a.value) : a.kind;
}

const uses = (nodes: readonly Node[]): boolean => nodes.some((n) => n.kind !== 'text');

/** Parses once; `name` is the template's name in error texts (Loki uses "line" and "label"). */
export function compileTemplate(src: string, name: string): CompiledTemplate {
  const nodes = parseTemplate(src, name);
  // Functions are resolved at execution, so check the names now, as Go does when parsing.
  checkFunctions(nodes, name);
  return {
    constant: !uses(nodes),
    execute(ctx) {
      const out: string[] = [];
      new Exec(ctx, name).nodes(nodes, ctx.data, out);
      return out.join('');
    },
  };
}

function checkFunctions(nodes: readonly Node[], name: string): void {
  const checkPipeline = (p: Pipeline): void => {
    for (const c of p.commands) {
      for (const a of c.args) {
        if (a.kind === 'ident' && a.name !== '__line__' && a.name !== '__timestamp__' && !FUNCTIONS.has(a.name)) {
          throw new TemplateError(`template: ${name}:1: function "${a.name}" not defined`);
        }
        if (a.kind === 'pipeline') checkPipeline(a.pipeline);
      }
    }
  };
  for (const n of nodes) {
    if (n.kind === 'action') checkPipeline(n.pipeline);
    else if (n.kind !== 'text') {
      checkPipeline(n.pipeline);
      checkFunctions(n.then, name);
      checkFunctions(n.otherwise, name);
    }
  }
}
