/**
 * A tiny WebAssembly assembler for hostile test modules: the few sections and instructions
 * those tests need, written out as bytes (core spec, chapter 5), so each test states exactly
 * which tables, memories and imports its module declares. `guestModule` wraps it into a
 * module that exports the whole wasmloop ABI v1, with `wl_init` running the test's code.
 */
import { STAT_NAMES } from '../../host/abi.ts';

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const FUNCREF = 0x70;
export const EXTERNREF = 0x6f;

/** Instructions, as byte arrays to spread into a body. */
export const op = {
  i32: (v: number) => [0x41, ...sleb(v)],
  localGet: (i: number) => [0x20, ...uleb(i)],
  refNull: (type: number) => [0xd0, type],
  /** table.grow t: [ref, n] -> old size or -1 */
  tableGrow: (t: number) => [0xfc, 0x0f, ...uleb(t)],
  /** memory.grow: [pages] -> old size or -1 */
  memoryGrow: [0x40, 0x00],
  i32Add: [0x6a],
  i64ExtendI32U: [0xad],
  /** i64.store offset=o, alignment 8: [addr, value] */
  i64Store: (o: number) => [0x37, 0x03, ...uleb(o)],
};

export interface Limits {
  min: number;
  max?: number;
}
export interface Func {
  params?: number[];
  results?: number[];
  body: number[];
  export?: string;
}
export interface Import {
  module: string;
  name: string;
  /** 0 function (type index follows), 1 table, 2 memory, 3 global */
  kind: number;
  desc: number[];
}
export interface ModuleSpec {
  imports?: Import[];
  tables?: (Limits & { type?: number; export?: string })[];
  memory?: Limits;
  /** Export memory 0 as `memory` (default: when `memory` is given). */
  exportMemory?: boolean;
  funcs?: Func[];
}

export function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vec([...Buffer.from(s)].map((b) => [b]));
const limits = (l: Limits) =>
  l.max === undefined ? [0x00, ...uleb(l.min)] : [0x01, ...uleb(l.min), ...uleb(l.max)];
const section = (id: number, payload: number[]) =>
  payload.length === 0 ? [] : [id, ...uleb(payload.length), ...payload];

/** Every module's first 8 bytes: the magic `\0asm` and version 1. */
export const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A function's type (section 1): its params and results. */
const funcType = (f: Func) => [
  0x60,
  ...vec((f.params ?? []).map((p) => [p])),
  ...vec((f.results ?? []).map((r) => [r])),
];

/** A function's code (section 10): no locals, its body, `end`. */
const funcCode = (f: Func) => {
  const body = [0x00, ...f.body, 0x0b];
  return [...uleb(body.length), ...body];
};

/** The module's bytes. Function i has type i; imported functions are not supported. */
export function assemble(spec: ModuleSpec): Uint8Array<ArrayBuffer> {
  const funcs = spec.funcs ?? [];
  const tables = spec.tables ?? [];
  const exports: number[][] = [];
  funcs.forEach((f, i) => f.export && exports.push([...name(f.export), 0x00, ...uleb(i)]));
  tables.forEach((t, i) => t.export && exports.push([...name(t.export), 0x01, ...uleb(i)]));
  if (spec.exportMemory ?? spec.memory !== undefined) exports.push([...name('memory'), 0x02, 0x00]);
  const bytes = [
    ...WASM_HEADER,
    ...section(1, funcs.length ? vec(funcs.map(funcType)) : []),
    ...section(
      2,
      spec.imports?.length
        ? vec(spec.imports.map((m) => [...name(m.module), ...name(m.name), m.kind, ...m.desc]))
        : [],
    ),
    ...section(3, funcs.length ? vec(funcs.map((_, i) => uleb(i))) : []),
    ...section(4, tables.length ? vec(tables.map((t) => [t.type ?? FUNCREF, ...limits(t)])) : []),
    ...section(5, spec.memory ? vec([limits(spec.memory)]) : []),
    ...section(7, exports.length ? vec(exports) : []),
    ...section(10, funcs.length ? vec(funcs.map(funcCode)) : []),
  ];
  return Uint8Array.from(bytes);
}

/** Where a guest built by guestModule keeps its stats: loop.stats() reads them back. */
export const STATS_PTR = 64;
/** The stat names, in memory order, to read results back: the ABI's own list. */
export const STAT_ORDER = STAT_NAMES;

/** Stores the i32 on the stack, plus one, as stat `slot` (so -1 reads back as 0). */
export const recordResult = (slot: number, computeI32: number[]) => [
  ...op.i32(0),
  ...computeI32,
  ...op.i32(1),
  ...op.i32Add,
  ...op.i64ExtendI32U,
  ...op.i64Store(STATS_PTR + slot * 8),
];

/** A module exporting the whole wasmloop ABI v1: `wl_init` runs `init` and returns 0; the
 *  event ring is at 1024 with `eventsCap` records; memory (defined unless imported) and
 *  tables as given. */
export function guestModule(spec: {
  init?: number[];
  eventsCap?: number;
  memory?: Limits;
  tables?: ModuleSpec['tables'];
  imports?: Import[];
}): Uint8Array<ArrayBuffer> {
  const importsMemory = spec.imports?.some((i) => i.kind === 2) ?? false;
  return assemble({
    imports: spec.imports,
    tables: spec.tables,
    memory: importsMemory ? undefined : (spec.memory ?? { min: 1 }),
    exportMemory: true,
    funcs: [
      { export: 'wl_abi_version_1', body: [] },
      { export: 'wl_init', results: [I32], body: [...(spec.init ?? []), ...op.i32(0)] },
      { export: 'wl_events_ptr', results: [I32], body: op.i32(1024) },
      { export: 'wl_events_cap', results: [I32], body: op.i32(spec.eventsCap ?? 16) },
      { export: 'wl_dispatch', params: [I32, F64], results: [I32], body: op.i32(-1) },
      { export: 'wl_shutdown', body: [] },
      { export: 'wl_stats_ptr', results: [I32], body: op.i32(STATS_PTR) },
    ],
  });
}
