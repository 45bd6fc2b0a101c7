/**
 * Reads deploy/: the runtime stage of deploy/Dockerfile (the instructions test/deploy.test.ts
 * runs on the host) and the documents of deploy/kubernetes.yaml as plain objects. The YAML is
 * parsed with Prettier's YAML parser (a devDependency already), its syntax tree turned into
 * objects here; anything beyond the plain block/flow mappings, sequences and scalars a manifest
 * uses throws, so the test never checks a half-read file.
 */
import { readFileSync } from 'node:fs';
import * as yamlPlugin from 'prettier/plugins/yaml';

/** The runtime stage (after the last FROM): what a container of the image runs with. */
export interface RuntimeStage {
  env: Record<string, string>;
  workdir: string;
  user: string;
  expose: number[];
  /** ENTRYPOINT and CMD, in exec (JSON) form: a container runs the one, then the other (or
   *  what replaces CMD: `docker run IMAGE ARGS`, a Kubernetes container's `args`). */
  entrypoint: string[];
  cmd: string[];
}

/** Instructions with their continuation lines joined, comments dropped. */
function instructions(text: string): [keyword: string, rest: string][] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^\s*(\w+)\s+(.*)$/.exec(l);
      if (!m) throw new Error(`Dockerfile: cannot read the line ${JSON.stringify(l)}`);
      return [m[1]!.toUpperCase(), m[2]!.trim()];
    });
}

/** `KEY=value KEY2=value2` (unquoted values, as deploy/Dockerfile writes them). */
function envPairs(rest: string): [string, string][] {
  return rest.split(/\s+/).map((pair) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(pair);
    if (!m) throw new Error(`Dockerfile: ENV ${rest}: write KEY=value pairs`);
    return [m[1]!, m[2]!];
  });
}

function execForm(keyword: string, rest: string): string[] {
  const argv: unknown = JSON.parse(rest);
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    throw new Error(`Dockerfile: ${keyword} must be in exec form (a JSON array of strings)`);
  return argv;
}

export function readRuntimeStage(path: string): RuntimeStage {
  const all = instructions(readFileSync(path, 'utf8'));
  const from = all.map(([k]) => k).lastIndexOf('FROM');
  const stage: RuntimeStage = {
    env: {},
    workdir: '/',
    user: 'root',
    expose: [],
    entrypoint: [],
    cmd: [],
  };
  for (const [keyword, rest] of all.slice(from + 1)) {
    if (keyword === 'ENV') for (const [k, v] of envPairs(rest)) stage.env[k] = v;
    if (keyword === 'WORKDIR') stage.workdir = rest;
    if (keyword === 'USER') stage.user = rest;
    if (keyword === 'EXPOSE') stage.expose.push(...rest.split(/\s+/).map(Number));
    if (keyword === 'ENTRYPOINT') stage.entrypoint = execForm(keyword, rest);
    if (keyword === 'CMD') stage.cmd = execForm(keyword, rest);
  }
  return stage;
}

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

interface YamlNode {
  type: string;
  value?: string;
  children?: (YamlNode | null)[];
}

/** A plain scalar as YAML 1.2's core schema reads it. */
function plain(text: string): Yaml {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text === 'null' || text === '~' ? null : text;
}

function toValue(node: YamlNode | null): Yaml {
  if (node === null) return null;
  const kids = node.children ?? [];
  switch (node.type) {
    case 'plain':
      return plain(node.value!);
    case 'quoteDouble':
    case 'quoteSingle':
      return node.value!;
    case 'mappingKey':
    case 'mappingValue':
    case 'sequenceItem':
    case 'flowMappingItem':
    case 'flowSequenceItem':
      return toValue(kids[0] ?? null);
    case 'sequence':
    case 'flowSequence':
      return kids.map(toValue);
    case 'mapping':
    case 'flowMapping':
      return Object.fromEntries(
        kids.map((item) => [String(toValue(item!.children![0]!)), toValue(item!.children![1]!)]),
      );
    default:
      throw new Error(`YAML: ${node.type} is not read by this helper`);
  }
}

/** Every document of a YAML file (`---`-separated), as plain values. */
export async function readYamlDocuments(path: string): Promise<Yaml[]> {
  const parse = yamlPlugin.parsers.yaml.parse as (text: string, opts: object) => YamlNode;
  const root = await parse(readFileSync(path, 'utf8'), {});
  return root.children!.map((doc) => {
    const body = doc!.children!.find((c) => c?.type === 'documentBody');
    return toValue(body?.children?.[0] ?? null);
  });
}
